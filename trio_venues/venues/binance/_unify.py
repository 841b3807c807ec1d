"""Binance Spot in the unified vocabulary: pure functions, no I/O.

:func:`unify` turns one typed Binance message into its unified event;
:func:`catalogue_from_exchange_info` builds the instrument catalogue from the
WebSocket API's ``exchangeInfo`` result (or the REST ``/api/v3/exchangeInfo``
body: the same document). Binance spells spot symbols without a separator
(``BTCUSDT``), so the base/quote split comes from the catalogue, never from
guessing at the text.

Times: Binance sends milliseconds since the epoch, or microseconds on
connections opened with ``timeUnit=MICROSECOND``; ``time_unit`` says which
(the connection's core knows: ``ws.core.time_unit``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from ...errors import DecodeError
from ...unified import (
    BestBidAsk,
    Candle,
    Catalogue,
    Instrument,
    Ticker,
    Trade,
    UnifiedEvent,
    spot_symbol,
)
from ._wire import AggTrade, BookTicker, Kline, TimeUnit
from ._wire import Ticker as BinanceTicker
from ._wire import Trade as BinanceTrade

__all__ = [
    "VENUE",
    "catalogue_from_exchange_info",
    "load_catalogue",
    "to_ns",
    "unifier",
    "unify",
]

VENUE: Final = "binance"

_TO_NS: Final = {"ms": 1_000_000, "us": 1_000}


def to_ns(value: int, time_unit: TimeUnit) -> int:
    """A Binance timestamp (``ms`` or ``us``) as nanoseconds since the epoch."""
    return value * _TO_NS[time_unit]


def unify(
    data: Any, received_at: float, catalogue: Catalogue, time_unit: TimeUnit = "ms"
) -> UnifiedEvent | None:
    """The unified event for one typed Binance payload, or ``None`` when it has none.

    Trades and aggregate trades become :class:`~trio_venues.unified.Trade`
    (an aggregate trade's id is its ``agg_trade_id``: the two streams have
    separate id spaces), ``bookTicker`` becomes ``BestBidAsk``, the 24-hour
    ``ticker`` becomes ``Ticker``, klines become ``Candle``. Depth messages
    have no unified form of their own: ``book_feed`` turns them into book
    updates.

    Raises:
        UnknownSymbol: the payload's symbol is not in ``catalogue``.
    """
    kind = type(data)
    if kind is BinanceTrade:
        inst = catalogue.by_venue_symbol(data.symbol)
        return Trade(
            VENUE,
            inst.symbol,
            data.symbol,
            "sell" if data.is_buyer_maker else "buy",
            data.price,
            data.quantity,
            str(data.trade_id),
            to_ns(data.trade_time, time_unit),
            received_at,
        )
    if kind is AggTrade:
        inst = catalogue.by_venue_symbol(data.symbol)
        return Trade(
            VENUE,
            inst.symbol,
            data.symbol,
            "sell" if data.is_buyer_maker else "buy",
            data.price,
            data.quantity,
            str(data.agg_trade_id),
            to_ns(data.trade_time, time_unit),
            received_at,
        )
    if kind is BookTicker:
        inst = catalogue.by_venue_symbol(data.symbol)
        return BestBidAsk(
            VENUE,
            inst.symbol,
            data.symbol,
            data.bid_price,
            data.bid_quantity,
            data.ask_price,
            data.ask_quantity,
            str(data.update_id),
            None,
            received_at,
        )
    if kind is BinanceTicker:
        inst = catalogue.by_venue_symbol(data.symbol)
        return Ticker(
            VENUE,
            inst.symbol,
            data.symbol,
            data.last_price,
            data.best_bid_price,
            data.best_ask_price,
            data.open_price,
            data.high_price,
            data.low_price,
            data.base_volume,
            data.quote_volume,
            to_ns(data.event_time, time_unit),
            received_at,
        )
    if kind is Kline:
        bar = data.bar
        inst = catalogue.by_venue_symbol(data.symbol)
        return Candle(
            VENUE,
            inst.symbol,
            data.symbol,
            bar.interval,
            to_ns(bar.start_time, time_unit),
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
            bar.is_closed,
            to_ns(data.event_time, time_unit),
            received_at,
        )
    return None


def _filter_value(filters: Any, filter_type: str, key: str) -> Decimal | None:
    if not isinstance(filters, list):
        return None
    for entry in filters:
        if isinstance(entry, dict) and entry.get("filterType") == filter_type:
            value = entry.get(key)
            if isinstance(value, str):
                try:
                    return Decimal(value).normalize()
                except ArithmeticError:
                    raise DecodeError(f"{filter_type}.{key} is not a decimal", value) from None
    return None


def catalogue_from_exchange_info(info: Any) -> Catalogue:
    """The spot catalogue from an ``exchangeInfo`` result.

    Each entry of ``symbols`` gives ``symbol``, ``baseAsset``, ``quoteAsset``,
    ``status`` and ``filters`` (``PRICE_FILTER.tickSize``,
    ``LOT_SIZE.stepSize``), as documented for Binance's ``exchangeInfo``.

    Raises:
        DecodeError: the document is not an ``exchangeInfo`` result.
    """
    if not isinstance(info, dict) or not isinstance(info.get("symbols"), list):
        raise DecodeError("exchangeInfo result without a 'symbols' list", repr(info)[:1024])
    instruments = []
    for entry in info["symbols"]:
        if not isinstance(entry, dict):
            raise DecodeError("exchangeInfo symbol entry is not an object", repr(entry)[:1024])
        symbol, base, quote = entry.get("symbol"), entry.get("baseAsset"), entry.get("quoteAsset")
        if not (isinstance(symbol, str) and isinstance(base, str) and isinstance(quote, str)):
            raise DecodeError(
                "exchangeInfo symbol entry needs string 'symbol', 'baseAsset' and 'quoteAsset'",
                repr(entry)[:1024],
            )
        filters = entry.get("filters")
        instruments.append(
            Instrument(
                VENUE,
                symbol,
                spot_symbol(base, quote),
                base.upper(),
                quote.upper(),
                "spot",
                _filter_value(filters, "PRICE_FILTER", "tickSize"),
                _filter_value(filters, "LOT_SIZE", "stepSize"),
                str(entry.get("status", "")),
            )
        )
    return Catalogue(VENUE, instruments)


async def load_catalogue(url: str | None = None, **options: Any) -> Catalogue:
    """Fetch the spot catalogue over the WebSocket API (``exchangeInfo``, weight 20).

    Args:
        url: the WS-API endpoint (default: Binance's); a fake's URL in tests.
        **options: ``connect()`` options (``transport=`` ...).
    """
    from ._client import BinanceSpotApi

    async with BinanceSpotApi.connect(url, **options) as api:
        info = await api.request("exchangeInfo")
    return catalogue_from_exchange_info(info)


def unifier(catalogue: Catalogue, url: str) -> Callable[[Any, float], UnifiedEvent | None]:
    """``unify`` bound to ``catalogue`` and the time unit of the stream URL ``url``."""
    from ._protocol import parse_stream_url

    time_unit = parse_stream_url(url).time_unit
    scale = _TO_NS[time_unit]
    canonical = {inst.venue_symbol: inst.symbol for inst in catalogue}

    def bound(data: Any, received_at: float) -> UnifiedEvent | None:
        # Trades are most of a feed: built inline, with the symbol map and the
        # time scale bound once (the general path costs ~2x as much).
        if type(data) is BinanceTrade:
            symbol = data.symbol
            name = canonical.get(symbol)
            if name is not None:
                return Trade(
                    VENUE,
                    name,
                    symbol,
                    "sell" if data.is_buyer_maker else "buy",
                    data.price,
                    data.quantity,
                    str(data.trade_id),
                    data.trade_time * scale,
                    received_at,
                )
        return unify(data, received_at, catalogue, time_unit)

    return bound
