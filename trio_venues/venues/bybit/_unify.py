"""Bybit v5 in the unified vocabulary: pure unifiers, and the catalogue from the REST API.

:func:`unify` turns one typed Bybit message into its unified events;
:func:`catalogue_from_instruments` builds the instrument catalogue from
``/v5/market/instruments-info`` pages, and :func:`load_catalogue` fetches
them (every category, cursor pagination) through httpx2 (the ``rest`` extra).

Bybit spells the spot pair and the linear perpetual alike (``BTCUSDT`` on
both the spot and the linear endpoint), so every instrument carries its
category as ``Instrument.market``, and a connection's symbols are looked up
in the category of its endpoint (the last part of the stream URL's path:
``/v5/public/linear``). Canonical spellings (``docs/venues/bybit.md``,
"Unified events and the catalogue"):

- spot ``BTCUSDT`` -> ``BTC-USDT``;
- linear perpetuals ``BTCUSDT`` -> ``BTC-USDT-PERP``, ``BTCPERP`` (USDC) -> ``BTC-USDC-PERP``;
- linear futures ``BTCUSDT-25DEC26`` -> ``BTC-USDT-20261225``, ``BTC-25DEC26`` (USDC)
  -> ``BTC-USDC-20261225``;
- inverse ``BTCUSD`` -> ``BTC-USD-PERP``, ``BTCUSDZ26`` -> ``BTC-USD-20261225``;
- options ``BTC-25DEC26-100000-C`` -> ``BTC-USD-20261225-100000-C`` (quote
  ``quoteCoin``: USD for USDC-settled options, USDT for ``...-C-USDT``).

The expiry is the UTC date of ``deliveryTime``.

Quantities: spot, linear and option sizes are in the base coin on Bybit
(one contract is one coin), so unified quantities are the base asset there,
exactly as sent. Inverse contracts are worth 1 USD each: a trade's or a
liquidation's base-asset amount would be USD / price, which is not a finite
decimal in general, so those quantities stay in contracts (USD), and the
instrument says so (``contract_size == 1``, ``quote == "USD"``). Tickers and
open interest are in the base asset on every category (for inverse Bybit
sends the base-asset figures too: ``turnover24h``, ``openInterestValue``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import urlsplit

from ...errors import ConfigError, DecodeError, VenueError
from ...unified import (
    BestBidAsk,
    Candle,
    Catalogue,
    FundingRate,
    Instrument,
    InstrumentKind,
    Liquidation,
    OpenInterest,
    Ticker,
    Trade,
    UnifiedEvent,
    future_symbol,
    option_symbol,
    perpetual_symbol,
    spot_symbol,
)
from ._wire import (
    AllLiquidationMessage,
    KlineMessage,
    LinearTicker,
    LiquidationMessage,
    OptionTicker,
    OrderbookMessage,
    SpotTicker,
    TickerMessage,
    TradeMessage,
)

__all__ = [
    "CATALOGUE_CATEGORIES",
    "REST_URL",
    "VENUE",
    "catalogue_from_instruments",
    "category_of_url",
    "instrument_from_entry",
    "load_catalogue",
    "unifier",
    "unify",
]

VENUE: Final = "bybit"
#: Bybit's REST API (the instrument list is public: no key needed)
REST_URL: Final = "https://api.bybit.com"
#: the categories with instruments, in the order the catalogue loads them
CATALOGUE_CATEGORIES: Final = ("spot", "linear", "inverse", "option")
INSTRUMENTS_PATH: Final = "/v5/market/instruments-info"
# The most Bybit returns per page; the loader stops after this many pages of one
# category (5 million instruments): a cursor that never ends is a venue bug.
_PAGE_LIMIT: Final = 1000
_MAX_PAGES: Final = 5000
_NS_PER_MS: Final = 1_000_000
_ONE: Final = Decimal(1)

#: Bybit's kline intervals in the unified spelling (minutes, hours, day, week, month).
KLINE_INTERVALS: Final[Mapping[str, str]] = {
    "1": "1m",
    "3": "3m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "240": "4h",
    "360": "6h",
    "720": "12h",
    "D": "1d",
    "W": "1w",
    "M": "1M",
}
_BYBIT_SIDE: Final[Mapping[str, Any]] = {"Buy": "buy", "Sell": "sell"}
# A liquidated position's side -> the side of the order that closed it.
_LIQUIDATION_ORDER_SIDE: Final[Mapping[str, Any]] = {"Buy": "sell", "Sell": "buy"}
# Ticker fields whose change makes a new unified Ticker / FundingRate / OpenInterest.
_TICKER_FIELDS: Final = (
    "last_price",
    "bid1_price",
    "ask1_price",
    "prev_price_24h",
    "high_price_24h",
    "low_price_24h",
    "volume_24h",
    "turnover_24h",
)
_FUNDING_FIELDS: Final = ("funding_rate", "next_funding_time")
_OI_FIELDS: Final = ("open_interest", "open_interest_value")


# -- events --------------------------------------------------------------------------


def _side(value: str, table: Mapping[str, Any]) -> Any:
    try:
        return table[value]
    except KeyError:
        raise DecodeError(f"Bybit side {value!r} is neither 'Buy' nor 'Sell'", value) from None


def _level(levels: tuple[tuple[str, str], ...]) -> tuple[Decimal, Decimal] | None:
    if not levels:
        return None
    price, size = levels[0]
    return Decimal(price), Decimal(size)


def _topic_symbol(topic: str) -> str:
    return topic.rsplit(".", 1)[-1]


def _changed(delta: Any, fields: Iterable[str]) -> bool:
    return any(getattr(delta, name) is not None for name in fields)


def _linear_ticker(
    msg: TickerMessage[Any], ticker: LinearTicker, inst: Instrument, received_at: float
) -> tuple[UnifiedEvent, ...]:
    """A linear/inverse ticker: Ticker, FundingRate and OpenInterest, each when it changed."""
    exchange_ns = msg.ts * _NS_PER_MS
    delta = msg.delta
    whole = msg.type == "snapshot" or delta is not None
    # With merge_tickers=False a delta is partial: only the fields it carries are known.
    carried = ticker if delta is None else delta
    inverse = inst.market == "inverse"
    out: list[UnifiedEvent] = []
    if (
        whole
        and ticker.last_price is not None
        and (delta is None or _changed(delta, _TICKER_FIELDS))
    ):
        out.append(
            Ticker(
                VENUE,
                inst.symbol,
                inst.venue_symbol,
                ticker.last_price,
                ticker.bid1_price,
                ticker.ask1_price,
                ticker.prev_price_24h,
                ticker.high_price_24h,
                ticker.low_price_24h,
                # Inverse: volume24h counts contracts (USD), turnover24h the base coin.
                ticker.turnover_24h if inverse else ticker.volume_24h,
                ticker.volume_24h if inverse else ticker.turnover_24h,
                exchange_ns,
                received_at,
            )
        )
    if (
        inst.kind == "perpetual"
        and _changed(carried, _FUNDING_FIELDS)
        and ticker.funding_rate is not None
    ):
        next_time = ticker.next_funding_time
        out.append(
            FundingRate(
                VENUE,
                inst.symbol,
                inst.venue_symbol,
                ticker.funding_rate,
                next_time * _NS_PER_MS if next_time else None,
                exchange_ns,
                received_at,
            )
        )
    # Inverse: openInterest counts contracts (USD), openInterestValue the base coin.
    base_oi = ticker.open_interest_value if inverse else ticker.open_interest
    if _changed(carried, _OI_FIELDS) and base_oi is not None:
        out.append(
            OpenInterest(VENUE, inst.symbol, inst.venue_symbol, base_oi, exchange_ns, received_at)
        )
    return tuple(out)


def unify(
    data: Any, received_at: float, catalogue: Catalogue, category: str
) -> UnifiedEvent | tuple[UnifiedEvent, ...] | None:
    """The unified events of one typed Bybit payload received on a ``category`` endpoint.

    - ``publicTrade`` (up to 1,024 trades) -> a tuple of
      :class:`~trio_venues.unified.Trade`, oldest first; ``side`` is the taker's.
    - ``orderbook.1`` -> :class:`~trio_venues.unified.BestBidAsk` (``None`` while
      a side is empty); deeper books are ``book_feed``'s.
    - ``tickers`` -> :class:`~trio_venues.unified.Ticker`, plus
      :class:`~trio_venues.unified.FundingRate` (perpetuals) and
      :class:`~trio_venues.unified.OpenInterest` (linear, inverse, option)
      when the message carried them: a tuple. A linear/inverse delta makes
      only the events whose fields it changed.
    - ``kline`` -> a tuple of :class:`~trio_venues.unified.Candle` (``confirm``
      is ``closed``).
    - ``allLiquidation`` / ``liquidation`` -> :class:`~trio_venues.unified.Liquidation`
      (a tuple for ``allLiquidation``); Bybit names the liquidated position's
      side, the unified ``side`` is the closing order's (a long liquidated is
      a ``"sell"``).

    Anything else (acks, private topics, spread tickers) is ``None``.

    Raises:
        UnknownSymbol: a symbol the catalogue does not list in ``category``.
        DecodeError: a side that is neither ``Buy`` nor ``Sell``.
    """
    kind = type(data)
    if kind is TradeMessage:
        return tuple(
            Trade(
                VENUE,
                catalogue.by_venue_symbol(t.symbol, category).symbol,
                t.symbol,
                _side(t.side, _BYBIT_SIDE),
                t.price,
                t.size,
                t.trade_id,
                t.time * _NS_PER_MS,
                received_at,
            )
            for t in data.trades
        )
    if kind is OrderbookMessage:
        if not data.topic.startswith("orderbook.1."):
            return None
        bid, ask = _level(data.bids), _level(data.asks)
        if bid is None or ask is None:
            return None
        symbol = data.symbol
        return BestBidAsk(
            VENUE,
            catalogue.by_venue_symbol(symbol, category).symbol,
            symbol,
            bid[0],
            bid[1],
            ask[0],
            ask[1],
            str(data.update_id),
            (data.cts if data.cts is not None else data.ts) * _NS_PER_MS,
            received_at,
        )
    if kind is TickerMessage:
        return _ticker(data, received_at, catalogue, category)
    if kind is KlineMessage:
        symbol = _topic_symbol(data.topic)
        name = catalogue.by_venue_symbol(symbol, category).symbol
        return tuple(
            Candle(
                VENUE,
                name,
                symbol,
                KLINE_INTERVALS.get(k.interval, k.interval),
                k.start * _NS_PER_MS,
                k.open,
                k.high,
                k.low,
                k.close,
                k.volume,
                k.confirm,
                data.ts * _NS_PER_MS,
                received_at,
            )
            for k in data.klines
        )
    if kind is AllLiquidationMessage:
        return tuple(
            Liquidation(
                VENUE,
                catalogue.by_venue_symbol(q.symbol, category).symbol,
                q.symbol,
                _side(q.side, _LIQUIDATION_ORDER_SIDE),
                q.price,
                q.size,
                q.time * _NS_PER_MS,
                received_at,
            )
            for q in data.liquidations
        )
    if kind is LiquidationMessage:
        q = data.liquidation
        return Liquidation(
            VENUE,
            catalogue.by_venue_symbol(q.symbol, category).symbol,
            q.symbol,
            _side(q.side, _LIQUIDATION_ORDER_SIDE),
            q.price,
            q.size,
            q.updated_time * _NS_PER_MS,
            received_at,
        )
    return None


def _ticker(
    msg: TickerMessage[Any], received_at: float, catalogue: Catalogue, category: str
) -> UnifiedEvent | tuple[UnifiedEvent, ...] | None:
    ticker = msg.ticker
    tkind = type(ticker)
    if tkind is LinearTicker:
        inst = catalogue.by_venue_symbol(ticker.symbol, category)
        return _linear_ticker(msg, ticker, inst, received_at) or None
    if tkind is SpotTicker:
        if ticker.last_price is None:
            return None
        inst = catalogue.by_venue_symbol(ticker.symbol, category)
        return Ticker(
            VENUE,
            inst.symbol,
            ticker.symbol,
            ticker.last_price,
            None,
            None,
            ticker.prev_price_24h,
            ticker.high_price_24h,
            ticker.low_price_24h,
            ticker.volume_24h,
            ticker.turnover_24h,
            msg.ts * _NS_PER_MS,
            received_at,
        )
    if tkind is OptionTicker:
        inst = catalogue.by_venue_symbol(ticker.symbol, category)
        exchange_ns = msg.ts * _NS_PER_MS
        out: list[UnifiedEvent] = []
        if ticker.last_price is not None:
            out.append(
                Ticker(
                    VENUE,
                    inst.symbol,
                    ticker.symbol,
                    ticker.last_price,
                    ticker.bid_price,
                    ticker.ask_price,
                    None,
                    ticker.high_price_24h,
                    ticker.low_price_24h,
                    ticker.volume_24h,
                    ticker.turnover_24h,
                    exchange_ns,
                    received_at,
                )
            )
        if ticker.open_interest is not None:
            out.append(
                OpenInterest(
                    VENUE,
                    inst.symbol,
                    ticker.symbol,
                    ticker.open_interest,
                    exchange_ns,
                    received_at,
                )
            )
        return tuple(out) or None
    return None


# -- the catalogue -------------------------------------------------------------------


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise DecodeError(
            f"Bybit instrument entry without a text {key!r}", repr(dict(entry))[:1024]
        )
    return value


def _decimal(entry: Mapping[str, Any], group: str, key: str) -> Decimal | None:
    parent = entry.get(group)
    value = parent.get(key) if isinstance(parent, Mapping) else None
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise DecodeError(f"Bybit instrument {group}.{key} is not a number", str(value)) from None
    if not number.is_finite() or number <= 0:
        raise DecodeError(f"Bybit instrument {group}.{key} is not positive", str(value))
    return number.normalize()


def _expiry(entry: Mapping[str, Any]) -> _dt.date:
    text = entry.get("deliveryTime")
    if not isinstance(text, str | int) or not str(text).isdigit() or int(text) <= 0:
        raise DecodeError("Bybit dated contract without a deliveryTime", repr(dict(entry))[:1024])
    return _dt.datetime.fromtimestamp(int(text) / 1000, _dt.UTC).date()


def instrument_from_entry(category: str, entry: Mapping[str, Any]) -> Instrument:
    """One ``instruments-info`` entry of ``category`` as a unified ``Instrument``.

    Raises:
        DecodeError: a field the canonical symbol needs is missing or malformed,
            or a contract type this version does not know.
    """
    if not isinstance(entry, Mapping):
        raise DecodeError("Bybit instrument entry is not an object", repr(entry)[:1024])
    symbol = _text(entry, "symbol")
    base, quote = _text(entry, "baseCoin").upper(), _text(entry, "quoteCoin").upper()
    status = str(entry.get("status", ""))
    tick = _decimal(entry, "priceFilter", "tickSize")
    settle: str | None = None
    contract_size: Decimal | None = None
    kind: InstrumentKind
    if category == "spot":
        kind, name = "spot", spot_symbol(base, quote)
        lot = _decimal(entry, "lotSizeFilter", "basePrecision")
    else:
        settle = _text(entry, "settleCoin").upper()
        lot = _decimal(entry, "lotSizeFilter", "qtyStep")
        if category == "option":
            kind = "option"
            parts = symbol.split("-")
            options_type = entry.get("optionsType")
            if len(parts) < 4 or options_type not in ("Call", "Put"):
                raise DecodeError(
                    "Bybit option needs BASE-DDMMMYY-STRIKE-C|P and optionsType Call or Put",
                    repr(dict(entry))[:1024],
                )
            try:
                strike = Decimal(parts[2])
                name = option_symbol(
                    base, quote, _expiry(entry), strike, "C" if options_type == "Call" else "P"
                )
            except (InvalidOperation, ValueError):
                raise DecodeError(
                    f"Bybit option {symbol!r}: strike {parts[2]!r} is not a positive number",
                    symbol,
                ) from None
        else:
            contract_type = entry.get("contractType")
            if contract_type in ("LinearPerpetual", "InversePerpetual"):
                kind, name = "perpetual", perpetual_symbol(base, quote)
            elif contract_type in ("LinearFutures", "InverseFutures"):
                kind, name = "future", future_symbol(base, quote, _expiry(entry))
            else:
                raise DecodeError(
                    f"Bybit instrument {symbol!r} has an unknown contractType {contract_type!r}",
                    repr(dict(entry))[:1024],
                )
            if category == "inverse":
                contract_size = _ONE  # one contract is worth 1 USD
    return Instrument(
        VENUE, symbol, name, base, quote, kind, tick, lot, status, contract_size, settle, category
    )


def catalogue_from_instruments(pages: Mapping[str, Iterable[Mapping[str, Any]]]) -> Catalogue:
    """The catalogue from ``instruments-info`` entries by category (``{"linear": [...]}``).

    Raises:
        DecodeError: an entry is malformed (see :func:`instrument_from_entry`).
        ConfigError: a category that has no instruments (``"spread"``, a typo).
    """
    instruments: list[Instrument] = []
    for category, entries in pages.items():
        if category not in CATALOGUE_CATEGORIES:
            raise ConfigError(
                f"Bybit category {category!r} has no instrument catalogue "
                f"(categories: {', '.join(CATALOGUE_CATEGORIES)})"
            )
        instruments.extend(instrument_from_entry(category, entry) for entry in entries)
    return Catalogue(VENUE, instruments)


def _result(doc: Any, url: str) -> Mapping[str, Any]:
    """The ``result`` of an instruments-info answer; Bybit's own errors as ``VenueError``."""
    if not isinstance(doc, Mapping) or "retCode" not in doc:
        raise DecodeError(f"bybit: {url} answered without a retCode", repr(doc)[:1024])
    if doc["retCode"] != 0:
        code = doc["retCode"]
        # 10006: too many visits; 10016: service error (Bybit's REST error table).
        raise VenueError(code, str(doc.get("retMsg", "")), retryable=code in (10006, 10016))
    result = doc.get("result")
    if not isinstance(result, Mapping) or not isinstance(result.get("list"), list):
        raise DecodeError(f"bybit: {url} answered without result.list", repr(doc)[:1024])
    return result


async def load_catalogue(
    url: str | None = None,
    *,
    categories: Iterable[str] = CATALOGUE_CATEGORIES,
    transport: Any = None,
    http_transport: Any = None,
    timeout: float = 10.0,  # noqa: ASYNC109 - httpx2's per-phase timeout
    **connect_options: Any,
) -> Catalogue:
    """Fetch the catalogue of ``categories`` from Bybit's REST API (needs the ``rest`` extra).

    ``GET {url}/v5/market/instruments-info?category=...&limit=1000``, following
    ``nextPageCursor`` until it is empty (spot has one page).

    Args:
        url: the REST base URL (default :data:`REST_URL`; the testnet is
            ``https://api-testnet.bybit.com``, a fake's is ``server.http_url``).
        categories: which of spot, linear, inverse, option to load.
        transport: a ``connect()`` transport factory; one that carries HTTP
            too (a fake's ``memory_transport()``) is used for the requests.
        http_transport: an httpx2 transport (a proxy, a mock).
        timeout: seconds for each phase of each request.
        **connect_options: other ``connect()`` options, accepted so that a
            venue's options can be passed as they are, and unused (no WebSocket).

    Raises:
        ConfigError: httpx2 is not installed, an unknown category, a bad URL.
        ConnectFailed: DNS, refused, TLS, timeout (``ConnectTimeout``).
        VenueError: an HTTP error status, or Bybit's ``retCode`` other than 0.
        DecodeError: an answer that is not the documented JSON.
    """
    from ..._rest import rest_session

    base = (url or REST_URL).rstrip("/")
    chosen = tuple(categories)
    for category in chosen:
        if category not in CATALOGUE_CATEGORIES:
            raise ConfigError(
                f"Bybit category {category!r} has no instrument catalogue "
                f"(categories: {', '.join(CATALOGUE_CATEGORIES)})"
            )
    pages: dict[str, list[Mapping[str, Any]]] = {}
    async with rest_session(
        VENUE, transport=transport, http_transport=http_transport, timeout=timeout
    ) as session:
        for category in chosen:
            entries: list[Mapping[str, Any]] = []
            cursor = ""
            for _ in range(_MAX_PAGES):
                params = {"category": category, "limit": str(_PAGE_LIMIT)}
                if cursor:
                    params["cursor"] = cursor
                endpoint = base + INSTRUMENTS_PATH
                result = _result(await session.get_json(endpoint, params), endpoint)
                entries.extend(result["list"])
                next_cursor = result.get("nextPageCursor") or ""
                if category == "spot" or not next_cursor or not result["list"]:
                    break
                if next_cursor == cursor:
                    raise DecodeError(f"bybit: {category} pages repeat cursor {cursor!r}", cursor)
                cursor = str(next_cursor)
            else:
                raise DecodeError(f"bybit: {category} instruments span over {_MAX_PAGES} pages")
            pages[category] = entries
    return catalogue_from_instruments(pages)


def category_of_url(url: str) -> str:
    """The category of a public stream URL: the last part of its path (``/v5/public/linear``).

    Raises:
        ConfigError: the path names no category with instruments.
    """
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    if last not in CATALOGUE_CATEGORIES:
        raise ConfigError(
            f"bybit: cannot tell the category of {url!r} from its path (expected "
            "/v5/public/spot, linear, inverse or option); pass category= to the unifier"
        )
    return last


def unifier(
    catalogue: Catalogue, url: str, *, category: str | None = None
) -> Callable[[Any, float], UnifiedEvent | tuple[UnifiedEvent, ...] | None]:
    """:func:`unify` bound to ``catalogue`` and the category of the stream URL ``url``.

    Args:
        catalogue: from :func:`load_catalogue`.
        url: the connection's URL; its path names the category (``/v5/public/linear``).
        category: the category, when ``url``'s path does not say (a proxy).

    Raises:
        ConfigError: the category is neither given nor in the URL's path.
    """
    chosen = category_of_url(url) if category is None else category
    if chosen not in CATALOGUE_CATEGORIES:
        raise ConfigError(f"bybit: {chosen!r} is not a category with instruments")
    canonical = {inst.venue_symbol: inst.symbol for inst in catalogue if inst.market == chosen}

    def bound(data: Any, received_at: float) -> UnifiedEvent | tuple[UnifiedEvent, ...] | None:
        # Trades are most of a feed: built inline with the category's symbol map.
        if type(data) is TradeMessage:
            out = []
            for t in data.trades:
                name = canonical.get(t.symbol)
                if name is None:
                    return unify(data, received_at, catalogue, chosen)  # raises UnknownSymbol
                out.append(
                    Trade(
                        VENUE,
                        name,
                        t.symbol,
                        "buy" if t.side == "Buy" else _side(t.side, _BYBIT_SIDE),
                        t.price,
                        t.size,
                        t.trade_id,
                        t.time * _NS_PER_MS,
                        received_at,
                    )
                )
            return tuple(out)
        return unify(data, received_at, catalogue, chosen)

    return bound
