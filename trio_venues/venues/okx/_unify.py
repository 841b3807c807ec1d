"""OKX in the unified vocabulary: pure functions, no I/O (besides :func:`load_catalogue`).

:func:`unify` turns one typed OKX payload into its unified event(s);
:func:`catalogue_from_instruments` builds the instrument catalogue from the
``instruments`` channel's pushes, which :func:`load_catalogue` fetches over
the WebSocket (one subscription per instType). The rules, with the OKX facts
behind them, are in ``docs/venues/okx.md`` ("Unified events"):

- **Symbols.** ``BTC-USDT`` (SPOT) -> ``BTC-USDT``; ``BTC-USDT-SWAP`` ->
  ``BTC-USDT-PERP``; ``BTC-USD-261225`` -> ``BTC-USD-20261225`` (the
  expiry's UTC date from ``expTime``); ``BTC-USD-261225-100000-C`` ->
  ``BTC-USD-20261225-100000-C``. A spot pair's assets are ``baseCcy`` and
  ``quoteCcy``; a derivative's are the two halves of its underlying ``uly``
  (``BTC-USD``), whose instrument family ``instFamily`` must be the same
  text: the USD-margined families (``BTC-USD_UM``) share the underlying
  with the coin-margined ones and have no canonical spelling of their own,
  so the catalogue leaves them out (their events raise ``UnknownSymbol``).
- **Quantities.** OKX sizes derivatives in contracts. The quantities of a
  derivative's trades, liquidations, best bid/ask, candles and the
  catalogue's ``lot_size`` are contracts x ``contract_size`` (``ctVal`` x
  ``ctMult``), multiplied exactly: an amount of the contract value currency
  ``ctValCcy``, which is the base asset for linear swaps and futures and for
  options, and the quote currency (USD) for inverse contracts, whose amount
  in the base asset would need a division by the price and would not be
  exact. The 24-hour ticker volume and open interest are the base-asset
  figures OKX sends (``volCcy24h``, ``oiCcy``). Spot quantities are OKX's,
  in the base asset.
- **Times.** OKX's millisecond timestamps become integer nanoseconds.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, Final

import trio

from ..._wirecodec import plain_decimal
from ...errors import ConnectionLost, DecodeError, RequestTimeout
from ...events import Disconnected, ErrorEvent, Message
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
from ._wire import BookMessage, Instruments, LiquidationOrder
from ._wire import Candle as OkxCandle
from ._wire import FundingRate as OkxFundingRate
from ._wire import Instrument as OkxInstrument
from ._wire import OpenInterest as OkxOpenInterest
from ._wire import Ticker as OkxTicker
from ._wire import Trade as OkxTrade

__all__ = [
    "CATALOGUE_INST_TYPES",
    "CATALOGUE_MAX_MESSAGE",
    "VENUE",
    "catalogue_from_instruments",
    "instrument_of",
    "load_catalogue",
    "unified_interval",
    "unifier",
    "unify",
]

VENUE: Final = "okx"

#: the instTypes :func:`load_catalogue` subscribes by default (MARGIN pairs
#: share their ids with the SPOT ones).
CATALOGUE_INST_TYPES: Final = ("SPOT", "SWAP", "FUTURES", "OPTION")

#: ``max_message_size`` of the catalogue's connection: one push lists every
#: instrument of a type (OKX's option list runs to a few MB).
CATALOGUE_MAX_MESSAGE: Final = 32 * 1024 * 1024

_NS_PER_MS: Final = 1_000_000
# Products of contracts and contract sizes are exact: no rounding at any size.
_EXACT: Final = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[]
)
_multiply: Final = _EXACT.multiply
_ONE: Final = Decimal(1)
_ASSET: Final = re.compile(r"[A-Z0-9]+")
_KINDS: Final[dict[str, InstrumentKind]] = {
    "SPOT": "spot",
    "SWAP": "perpetual",
    "FUTURES": "future",
    "OPTION": "option",
}

# OKX's bars -> the unified interval: Binance's spelling (1m, 1h, 1d, 1w, 1M)
# for bars that open on UTC boundaries; the bars of 6 hours and more without
# the "utc" suffix open at 00:00 UTC+8 (Hong Kong) and keep a "@utc+8" suffix.
_UTC8_BARS: Final = ("6H", "12H", "1D", "2D", "3D", "5D", "1W", "1M", "3M")


def _interval(bar: str) -> str:
    if bar.endswith("utc"):
        base = bar[:-3]
        return base if base.endswith("M") else base.lower()
    if bar in _UTC8_BARS:
        return (bar if bar.endswith("M") else bar.lower()) + "@utc+8"
    return bar if bar.endswith(("m", "s")) else bar.lower()


_INTERVALS: Final[dict[str, str]] = {}


def unified_interval(bar: str) -> str:
    """The unified candle interval of an OKX bar.

    ``1m`` -> ``1m``, ``1H`` -> ``1h``, ``1Dutc`` -> ``1d``, ``1Mutc`` ->
    ``1M`` (a month), and for the bars OKX opens at 00:00 UTC+8 a suffix:
    ``1D`` -> ``1d@utc+8``, ``1W`` -> ``1w@utc+8``.
    """
    interval = _INTERVALS.get(bar)
    if interval is None:
        interval = _interval(bar)
        if len(_INTERVALS) < 256:
            _INTERVALS[bar] = interval
    return interval


# -- events ---------------------------------------------------------------------------


def _quantity(size: Decimal, contract_size: Decimal | None) -> Decimal:
    return size if contract_size is None else _multiply(size, contract_size)


def _level(level: Sequence[str], what: str) -> tuple[Decimal, Decimal]:
    try:
        return plain_decimal(level[0], f"{what} price"), plain_decimal(level[1], f"{what} size")
    except (ValueError, TypeError, IndexError) as exc:
        raise DecodeError(f"OKX book level {what}: {exc}", repr(level)) from None


def _bbo(data: BookMessage, inst: Instrument, received_at: float) -> BestBidAsk | None:
    if data.prev_seq_id is not None or not data.bids or not data.asks or data.inst_id is None:
        # Sequenced book channels (``books`` ...) carry diffs: book_feed's.
        # A side without levels has no best price.
        return None
    bid_price, bid_size = _level(data.bids[0], "bid")
    ask_price, ask_size = _level(data.asks[0], "ask")
    ct = inst.contract_size
    return BestBidAsk(
        VENUE,
        inst.symbol,
        data.inst_id,
        bid_price,
        _quantity(bid_size, ct),
        ask_price,
        _quantity(ask_size, ct),
        None if data.seq_id is None else str(data.seq_id),
        data.ts * _NS_PER_MS,
        received_at,
    )


def _inverse(inst: Instrument) -> bool:
    """A swap or future counted in USD contracts (settled in its base; OKX options are not)."""
    return inst.kind in ("perpetual", "future") and inst.settle == inst.base


def _ticker(data: OkxTicker, inst: Instrument, received_at: float) -> Ticker | None:
    if data.last is None:
        return None  # no trade yet: no last price to report
    ct = inst.contract_size
    if ct is None:
        # Spot: vol24h is in the base currency, volCcy24h in the quote currency.
        volume, quote_volume = data.volume_24h, data.volume_ccy_24h
    else:
        # Derivatives: volCcy24h is in the base currency, vol24h in contracts;
        # an inverse contract's contracts x ctVal are its quote (USD) volume.
        volume, quote_volume = data.volume_ccy_24h, None
        if data.volume_24h is not None and _inverse(inst):
            quote_volume = _multiply(data.volume_24h, ct)
    return Ticker(
        VENUE,
        inst.symbol,
        data.inst_id,
        data.last,
        data.bid_price,
        data.ask_price,
        data.open_24h,
        data.high_24h,
        data.low_24h,
        volume,
        quote_volume,
        data.ts * _NS_PER_MS,
        received_at,
    )


def _candle(data: OkxCandle, catalogue: Catalogue, received_at: float) -> Candle:
    if data.inst_id is None or data.bar is None:
        raise DecodeError("OKX candle without its instrument and bar (not from a candle push)")
    inst = catalogue.by_venue_symbol(data.inst_id)
    open_ns = data.ts * _NS_PER_MS
    return Candle(
        VENUE,
        inst.symbol,
        data.inst_id,
        unified_interval(data.bar),
        open_ns,
        data.open,
        data.high,
        data.low,
        data.close,
        _quantity(data.volume, inst.contract_size),
        data.confirmed is True,
        open_ns,  # OKX sends no other time with a candle
        received_at,
    )


def _funding(data: OkxFundingRate, inst: Instrument, received_at: float) -> FundingRate:
    if data.ts is None:
        raise DecodeError(f"OKX funding-rate of {data.inst_id} without its time (ts)")
    return FundingRate(
        VENUE,
        inst.symbol,
        data.inst_id,
        data.funding_rate,
        data.funding_time * _NS_PER_MS,
        data.ts * _NS_PER_MS,
        received_at,
    )


def _liquidations(
    data: LiquidationOrder, inst: Instrument, received_at: float
) -> tuple[UnifiedEvent, ...]:
    ct = inst.contract_size
    return tuple(
        [
            Liquidation(
                VENUE,
                inst.symbol,
                data.inst_id,
                detail.side,
                detail.bankruptcy_price,
                _quantity(detail.size, ct),
                detail.ts * _NS_PER_MS,
                received_at,
            )
            for detail in data.details
        ]
    )


def unify(
    data: Any, received_at: float, catalogue: Catalogue
) -> UnifiedEvent | tuple[UnifiedEvent, ...] | None:
    """The unified event(s) of one typed OKX payload (``Message.data``), or ``None``.

    ``trades``/``trades-all`` -> :class:`~trio_venues.unified.Trade`;
    ``bbo-tbt`` and ``books5`` -> ``BestBidAsk`` (their top level; the
    sequenced book channels carry diffs, which ``book_feed`` turns into book
    updates: ``None`` here); ``tickers`` -> ``Ticker`` (``None`` before the
    first trade, when OKX sends no last price); ``candle<bar>`` -> ``Candle``
    (``closed`` from ``confirm``); ``funding-rate`` -> ``FundingRate``;
    ``open-interest`` -> ``OpenInterest`` (``oiCcy``); ``liquidation-orders`` -> a tuple
    of ``Liquidation`` (one per order of the push item, price the bankruptcy
    price ``bkPx``). Anything else -> ``None``. Quantities: see the module
    docstring.

    Raises:
        UnknownSymbol: the payload's instrument is not in ``catalogue``.
        DecodeError: a payload that cannot be unified (a book level that is
            not a plain decimal, a funding rate without its time ...).
    """
    kind = type(data)
    if kind is OkxTrade:
        inst = catalogue.by_venue_symbol(data.inst_id)
        return Trade(
            VENUE,
            inst.symbol,
            data.inst_id,
            data.side,
            data.price,
            _quantity(data.size, inst.contract_size),
            data.trade_id,
            data.ts * _NS_PER_MS,
            received_at,
        )
    if kind is BookMessage:
        if data.inst_id is None:
            return None
        return _bbo(data, catalogue.by_venue_symbol(data.inst_id), received_at)
    if kind is OkxTicker:
        return _ticker(data, catalogue.by_venue_symbol(data.inst_id), received_at)
    if kind is OkxCandle:
        return _candle(data, catalogue, received_at)
    if kind is OkxFundingRate:
        return _funding(data, catalogue.by_venue_symbol(data.inst_id), received_at)
    if kind is OkxOpenInterest:
        inst = catalogue.by_venue_symbol(data.inst_id)
        return OpenInterest(
            VENUE,
            inst.symbol,
            data.inst_id,
            # oiCcy: in the base currency for every derivative, as OKX counts it.
            data.open_interest_ccy,
            data.ts * _NS_PER_MS,
            received_at,
        )
    if kind is LiquidationOrder:
        return _liquidations(data, catalogue.by_venue_symbol(data.inst_id), received_at)
    return None


def unifier(
    catalogue: Catalogue, url: str
) -> Callable[[Any, float], UnifiedEvent | tuple[UnifiedEvent, ...] | None]:
    """:func:`unify` bound to ``catalogue`` (OKX's URL changes nothing: every time is in ms)."""
    # Trades are most of a feed: built inline from a map bound once.
    fast = {inst.venue_symbol: (inst.symbol, inst.contract_size) for inst in catalogue}

    def bound(data: Any, received_at: float) -> UnifiedEvent | tuple[UnifiedEvent, ...] | None:
        if type(data) is OkxTrade:
            inst_id = data.inst_id
            spec = fast.get(inst_id)
            if spec is not None:
                name, ct = spec
                return Trade(
                    VENUE,
                    name,
                    inst_id,
                    data.side,
                    data.price,
                    data.size if ct is None else _multiply(data.size, ct),
                    data.trade_id,
                    data.ts * _NS_PER_MS,
                    received_at,
                )
        return unify(data, received_at, catalogue)

    return bound


# -- the catalogue --------------------------------------------------------------------------


def _bad(item: OkxInstrument, what: str) -> DecodeError:
    return DecodeError(f"OKX instrument {item.inst_id}: {what}", repr(item))


def _asset(item: OkxInstrument, value: str | None, what: str) -> str | None:
    """The asset in upper case; ``None`` when a canonical symbol cannot spell it."""
    if not value:
        raise _bad(item, f"no {what}")
    name = value.upper()
    return name if _ASSET.fullmatch(name) else None


def _expiry(item: OkxInstrument) -> _dt.date:
    if item.expiry_time is None:
        raise _bad(item, "no expTime")
    try:
        moment = _dt.datetime.fromtimestamp(item.expiry_time / 1000, _dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise _bad(item, f"expTime {item.expiry_time!r} is not a time") from None
    return moment.date()


def instrument_of(item: OkxInstrument) -> Instrument | None:
    """The catalogue entry of one ``instruments`` item, or ``None`` when it has no canonical form.

    ``None`` for instTypes other than SPOT, SWAP, FUTURES and OPTION, for
    assets a canonical symbol cannot spell (letters and digits only), and for
    derivatives whose instrument family is not their underlying (OKX's
    USD-margined ``BTC-USD_UM`` family shares the underlying ``BTC-USD``
    with the coin-margined ``BTC-USD`` one) or whose contract value currency
    is neither of the underlying's assets.

    Raises:
        DecodeError: the item lacks what its instType needs (assets, contract
            value, expiry, strike, option type).
    """
    kind = _KINDS.get(item.inst_type)
    if kind is None:
        return None
    if kind == "spot":
        base = _asset(item, item.base_ccy, "baseCcy")
        quote = _asset(item, item.quote_ccy, "quoteCcy")
        if base is None or quote is None:
            return None
        return Instrument(
            VENUE,
            item.inst_id,
            spot_symbol(base, quote),
            base,
            quote,
            kind,
            item.tick_size,
            item.lot_size,
            item.state,
        )
    if item.underlying is None:
        raise _bad(item, "a derivative without its underlying (uly)")
    if item.inst_family is not None and item.inst_family != item.underlying:
        return None
    base_text, sep, quote_text = item.underlying.partition("-")
    if not sep:
        raise _bad(item, f"underlying {item.underlying!r} is not BASE-QUOTE")
    base = _asset(item, base_text, "underlying base")
    quote = _asset(item, quote_text, "underlying quote")
    if base is None or quote is None:
        return None
    if item.contract_value is None:
        raise _bad(item, "a derivative without its contract value (ctVal)")
    if item.contract_value_ccy is None or item.contract_value_ccy.upper() not in (base, quote):
        return None
    multiplier = _ONE if item.contract_multiplier is None else item.contract_multiplier
    contract_size = _multiply(item.contract_value, multiplier)
    if contract_size <= 0:
        raise _bad(item, f"contract size {contract_size} is not positive")
    if kind == "perpetual":
        symbol = perpetual_symbol(base, quote)
    elif kind == "future":
        symbol = future_symbol(base, quote, _expiry(item))
    else:
        if item.strike is None or item.option_type not in ("C", "P"):
            raise _bad(item, "an option needs its strike (stk) and optType C or P")
        try:
            symbol = option_symbol(
                base, quote, _expiry(item), item.strike, "C" if item.option_type == "C" else "P"
            )
        except ValueError as exc:
            raise _bad(item, str(exc)) from None
    lot = (
        None if item.lot_size is None else _EXACT.normalize(_multiply(item.lot_size, contract_size))
    )
    return Instrument(
        VENUE,
        item.inst_id,
        symbol,
        base,
        quote,
        kind,
        item.tick_size,
        lot,
        item.state,
        contract_size=contract_size,
        settle=item.settle_ccy,
    )


def catalogue_from_instruments(items: Iterable[OkxInstrument]) -> Catalogue:
    """The catalogue of ``instruments`` items (see :func:`instrument_of` for those left out).

    Raises:
        DecodeError: a malformed item, or two instruments with one canonical symbol.
    """
    by_symbol: dict[str, Instrument] = {}
    for item in items:
        inst = instrument_of(item)
        if inst is None:
            continue
        other = by_symbol.get(inst.symbol)
        if other is not None and other.venue_symbol != inst.venue_symbol:
            raise DecodeError(
                f"OKX instruments {other.venue_symbol} and {inst.venue_symbol} would both be "
                f"{inst.symbol}",
                repr(item),
            )
        by_symbol[inst.symbol] = inst
    return Catalogue(VENUE, by_symbol.values())


async def load_catalogue(
    url: str | None = None,
    *,
    inst_types: Sequence[str] = CATALOGUE_INST_TYPES,
    timeout: float = 30.0,  # noqa: ASYNC109 - bounds the wait for the lists, as documented
    **options: Any,
) -> Catalogue:
    """Fetch the catalogue over the public endpoint's ``instruments`` channel.

    One subscription per instType (``instruments:SPOT`` ...); OKX answers each
    with the full list of that instType in one push, and the connection
    closes once every list has arrived.

    Args:
        url: the public endpoint (default: OKX's); a fake's URL in tests.
        inst_types: the instTypes to list (some of :data:`CATALOGUE_INST_TYPES`).
        timeout: seconds to wait for every list once subscribed.
        **options: ``connect()`` options (``transport=``, ``connect_timeout=`` ...);
            ``max_message_size`` defaults to :data:`CATALOGUE_MAX_MESSAGE`.

    Raises:
        ValueError: an instType other than SPOT, SWAP, FUTURES or OPTION.
        SubscriptionError: OKX refused a subscription.
        DecodeError: a malformed instruments push or instrument (see
            :func:`catalogue_from_instruments`).
        RequestTimeout: a list did not arrive within ``timeout``.
        ConnectionLost: the connection ended before every list arrived.
    """
    from ._client import Okx

    unknown = [t for t in inst_types if t not in CATALOGUE_INST_TYPES]
    if unknown or not inst_types:
        raise ValueError(
            f"inst_types are some of {', '.join(CATALOGUE_INST_TYPES)}, not {list(inst_types)!r}"
        )
    # One push lists a whole instType (thousands of options): room for it.
    options.setdefault("max_message_size", CATALOGUE_MAX_MESSAGE)
    topics = sorted({f"instruments:{inst_type}" for inst_type in inst_types})
    waiting = set(topics)
    items: list[OkxInstrument] = []
    async with Okx.connect(url, endpoint="public", **options) as ws:
        await ws.subscribe(*topics)
        with trio.move_on_after(timeout):
            async for event in ws.events:
                if isinstance(event, Message):
                    if event.topic in waiting and isinstance(event.data, Instruments):
                        waiting.discard(event.topic)
                        items.extend(event.data.instruments)
                        if not waiting:
                            break
                elif isinstance(event, ErrorEvent) and isinstance(event.error, DecodeError):
                    raise event.error
                elif isinstance(event, Disconnected):
                    raise ConnectionLost(event.reason)
        if waiting:
            raise RequestTimeout("instruments", ", ".join(sorted(waiting)), timeout)
    return catalogue_from_instruments(items)
