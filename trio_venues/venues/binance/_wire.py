"""Binance Spot wire models: frozen msgspec Structs for stream payloads and user-data events.

Every class documents each field with its wire key in brackets (``price``
[``p``]). Prices and quantities are :class:`~decimal.Decimal`, except the
order-book levels of :class:`DepthUpdate` and :class:`PartialDepth`, which
keep the exact decimal strings Binance sent (``("97012.35", "0.01500")``):
a depth message carries dozens to thousands of them, and the order book
parses each one exactly once anyway (``decimal_bids()``/``decimal_asks()``
give ``Decimal`` pairs on demand). Venue timestamps are the integers Binance
sends: milliseconds since the epoch, or microseconds on connections opened
with ``timeUnit=MICROSECOND`` (convert with :func:`ms_to_datetime`,
:func:`us_to_datetime` or :func:`to_datetime`).

Decoding is msgspec's, in C, straight from the frame's text (see
:mod:`trio_venues._wirecodec`): the classes are frozen ``gc=False`` Structs
with readable names renamed to Binance's keys; every ``Decimal`` is checked
(finite, exponent within bounds); unknown extra keys are ignored, missing
required keys are errors naming the field. The payloads Binance tags with an
event type ``e`` form one tagged union; book ticker, partial depth and
rolling-window tickers are routed by their stream name (:func:`stream_route`).
Copy an instance with a change with ``msgspec.structs.replace(x, price=...)``.

Reference: Binance ``web-socket-streams.md`` and ``user-data-stream.md``
(``docs/venues/binance.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

import msgspec

from ..._codec import decimal_to_wire
from ..._wirecodec import DECODE_ERRORS, WireStruct, decode_error, plain_decimal
from ...errors import DecodeError

__all__ = [
    "AccountPosition",
    "AggTrade",
    "AvgPrice",
    "BOOK_TICKER_ROUTE",
    "Balance",
    "BalanceUpdate",
    "BookLevel",
    "BookTicker",
    "Combined",
    "DepthUpdate",
    "ExecutionReport",
    "KLINE_INTERVALS",
    "Kline",
    "KlineBar",
    "ListStatus",
    "ListStatusOrder",
    "MARKET_EVENT_TYPES",
    "MarketEvent",
    "MiniTicker",
    "PARTIAL_DEPTH_ROUTE",
    "PartialDepth",
    "ROLLING_ARRAY_ROUTE",
    "ROLLING_ROUTE",
    "ROLLING_WINDOWS",
    "RollingWindowTicker",
    "StreamRoute",
    "StreamTerminated",
    "TAGGED_ARRAY_ROUTE",
    "TAGGED_ROUTE",
    "TaggedMarketEvent",
    "Ticker",
    "TimeUnit",
    "Trade",
    "USER_EVENT_TYPES",
    "UnknownMessage",
    "UserDataEvent",
    "UserEvent",
    "WireLevel",
    "decimal_levels",
    "market_event_from_wire",
    "ms_to_datetime",
    "partial_depth_from_wire",
    "stream_route",
    "to_datetime",
    "to_wire",
    "us_to_datetime",
    "user_event_from_wire",
    "wire_levels",
]

#: Kline intervals Binance Spot streams accept [BN-S "Kline/Candlestick chart intervals"].
KLINE_INTERVALS: tuple[str, ...] = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
)

#: Window sizes of the rolling-window ticker streams [BN-S "Rolling Window Statistics"].
ROLLING_WINDOWS: tuple[str, ...] = ("1h", "4h", "1d")

#: Event types of the rolling-window tickers -> their window.
_ROLLING_EVENT_TYPES: Final = {f"{window}Ticker": window for window in ROLLING_WINDOWS}

#: ``"ms"`` (the default) or ``"us"`` (``timeUnit=MICROSECOND`` in the URL).
TimeUnit: TypeAlias = Literal["ms", "us"]

#: One order-book level, parsed: (price, quantity). Quantity ``0`` removes the level.
BookLevel: TypeAlias = tuple[Decimal, Decimal]

#: One order-book level as Binance sends it: (price, quantity), exact decimal strings.
WireLevel: TypeAlias = tuple[str, str]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_datetime(ms: int) -> datetime:
    """Convert a Binance millisecond timestamp to an aware UTC ``datetime`` (exactly)."""
    return _EPOCH + timedelta(milliseconds=ms)


def us_to_datetime(us: int) -> datetime:
    """Convert a Binance microsecond timestamp (``timeUnit=MICROSECOND``) to UTC."""
    return _EPOCH + timedelta(microseconds=us)


def to_datetime(value: int, time_unit: TimeUnit = "ms") -> datetime:
    """Convert a venue timestamp in ``time_unit`` (``"ms"`` or ``"us"``) to UTC."""
    if time_unit == "ms":
        return ms_to_datetime(value)
    if time_unit == "us":
        return us_to_datetime(value)
    raise ValueError(f"time_unit must be 'ms' or 'us', not {time_unit!r}")


def _wire_number(value: str | Decimal) -> str:
    if type(value) is str:
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"a price level must be finite, got {value!r}")
        return decimal_to_wire(value)
    # Never a float: it would carry its binary error into an "exact" string.
    raise TypeError(
        f"a price or quantity must be a decimal string or a Decimal, not {type(value).__name__}"
    )


def wire_levels(levels: Iterable[Sequence[str | Decimal]]) -> tuple[WireLevel, ...]:
    """Normalise levels built by hand to the wire form: ``((price_str, qty_str), ...)``.

    For levels built by hand: ``DepthUpdate(..., bids=wire_levels([(Decimal("1.5"),
    Decimal("2"))]), ...)`` holds ``(("1.5", "2"),)``. Strings are kept as they
    are; ``Decimal`` values are written in positional notation
    (:func:`~trio_venues._codec.decimal_to_wire`).

    Raises:
        TypeError: a value is neither a ``str`` nor a ``Decimal`` (a float, say).
        ValueError: a level does not have exactly two items, or a ``Decimal`` is
            NaN or infinite.
    """
    out: list[WireLevel] = []
    for level in levels:
        if len(level) != 2:
            raise ValueError(f"a price level is (price, quantity), got {level!r}")
        out.append((_wire_number(level[0]), _wire_number(level[1])))
    return tuple(out)


def decimal_levels(levels: Iterable[WireLevel]) -> tuple[BookLevel, ...]:
    """Parse wire levels into ``(Decimal, Decimal)`` pairs, in order, strictly.

    Each price and quantity must be in Binance's plain notation (ASCII digits,
    an optional sign and point; see :func:`~trio_venues._wirecodec.plain_decimal`).

    Raises:
        ValueError: a price or quantity is not a plain decimal number, or is
            out of bounds.
    """
    return tuple([(plain_decimal(p, "price"), plain_decimal(q, "quantity")) for p, q in levels])


# --------------------------------------------------------------------------------------
# Market-data streams
# --------------------------------------------------------------------------------------


class Trade(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="trade",
    rename={
        "symbol": "s",
        "trade_id": "t",
        "price": "p",
        "quantity": "q",
        "trade_time": "T",
        "event_time": "E",
        "is_buyer_maker": "m",
    },
):
    """One trade from ``<symbol>@trade`` (event type ``trade``).

    Attributes:
        symbol: the symbol, upper-case as Binance sends it [``s``].
        trade_id: the trade id [``t``].
        price: the trade price [``p``].
        quantity: the traded base quantity [``q``].
        trade_time: when the trade happened (ms, or µs) [``T``].
        event_time: when Binance emitted the event [``E``].
        is_buyer_maker: ``True`` when the buyer was the maker, i.e. the taker
            sold [``m``].
    """

    symbol: str
    trade_id: int
    price: Decimal
    quantity: Decimal
    trade_time: int
    event_time: int
    is_buyer_maker: bool


class AggTrade(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="aggTrade",
    rename={
        "symbol": "s",
        "agg_trade_id": "a",
        "price": "p",
        "quantity": "q",
        "first_trade_id": "f",
        "last_trade_id": "l",
        "trade_time": "T",
        "event_time": "E",
        "is_buyer_maker": "m",
    },
):
    """Trades of one taker order at one price, from ``<symbol>@aggTrade``.

    Attributes:
        symbol: the symbol [``s``].
        agg_trade_id: the aggregate trade id [``a``].
        price: the price [``p``].
        quantity: the aggregated base quantity [``q``].
        first_trade_id: the first trade id in the aggregate [``f``].
        last_trade_id: the last trade id in the aggregate [``l``].
        trade_time: when the trades happened [``T``].
        event_time: when Binance emitted the event [``E``].
        is_buyer_maker: ``True`` when the buyer was the maker [``m``].
    """

    symbol: str
    agg_trade_id: int
    price: Decimal
    quantity: Decimal
    first_trade_id: int
    last_trade_id: int
    trade_time: int
    event_time: int
    is_buyer_maker: bool


class DepthUpdate(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="depthUpdate",
    rename={
        "symbol": "s",
        "first_update_id": "U",
        "final_update_id": "u",
        "bids": "b",
        "asks": "a",
        "event_time": "E",
    },
):
    """A diff of the order book from ``<symbol>@depth[@100ms]`` (event ``depthUpdate``).

    Apply in order; the update after this one has ``first_update_id ==
    final_update_id + 1``, a larger gap means lost data (docs/venues/binance.md section 10).

    **Levels are exact strings**, as Binance sent them: ``bids`` is
    ``(("97012.35", "0.01500"), ...)``. A depth message carries dozens of
    levels and parsing each into ``Decimal`` would cost several times the rest
    of the decoding, while the usual consumer, an order book
    (:class:`~trio_venues.book.DepthDiff` takes these tuples as they are),
    parses every level once itself. :meth:`decimal_bids` and
    :meth:`decimal_asks` give ``(Decimal, Decimal)`` pairs when you want them.
    Decoding checks the shape (every level two strings); the number syntax is
    checked where a level is parsed (the order book, :func:`decimal_levels`).
    To build one by hand from ``Decimal`` pairs, pass them through
    :func:`wire_levels`.

    Attributes:
        symbol: the symbol [``s``].
        first_update_id: the first update id in this event [``U``].
        final_update_id: the last update id in this event [``u``].
        bids: changed bid levels, (price, new quantity) as exact decimal
            strings; quantity ``"0.00000000"`` removes the level [``b``].
        asks: changed ask levels, same form [``a``].
        event_time: when Binance emitted the event [``E``].
    """

    symbol: str
    first_update_id: int
    final_update_id: int
    bids: tuple[WireLevel, ...]
    asks: tuple[WireLevel, ...]
    event_time: int

    def decimal_bids(self) -> tuple[BookLevel, ...]:
        """``bids`` parsed into ``(Decimal, Decimal)`` pairs (parsed on every call).

        Raises:
            ValueError: a level is not a decimal number.
        """
        return decimal_levels(self.bids)

    def decimal_asks(self) -> tuple[BookLevel, ...]:
        """``asks`` parsed into ``(Decimal, Decimal)`` pairs (parsed on every call).

        Raises:
            ValueError: a level is not a decimal number.
        """
        return decimal_levels(self.asks)


class PartialDepth(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "last_update_id": "lastUpdateId",
    },
):
    """The top levels of the book from ``<symbol>@depth<5|10|20>[@100ms]``.

    The payload has no event type and no symbol: the symbol is in
    ``Message.topic``. The WebSocket API ``depth`` result has the same shape.

    Levels are exact strings, as in :class:`DepthUpdate` (and for the same
    reason: a ``depth`` snapshot may carry 5,000 levels a side; build them
    with :func:`wire_levels` from ``Decimal`` pairs);
    :meth:`decimal_bids`/:meth:`decimal_asks` parse them.
    ``DepthSnapshot(symbol, d.last_update_id, d.bids, d.asks)`` takes them as
    they are.

    Attributes:
        last_update_id: the book's update id at this snapshot [``lastUpdateId``].
        bids: the best bids, best first, (price, quantity) as exact decimal
            strings [``bids``].
        asks: the best asks, best first [``asks``].
    """

    last_update_id: int
    bids: tuple[WireLevel, ...]
    asks: tuple[WireLevel, ...]

    def decimal_bids(self) -> tuple[BookLevel, ...]:
        """``bids`` parsed into ``(Decimal, Decimal)`` pairs (parsed on every call).

        Raises:
            ValueError: a level is not a decimal number.
        """
        return decimal_levels(self.bids)

    def decimal_asks(self) -> tuple[BookLevel, ...]:
        """``asks`` parsed into ``(Decimal, Decimal)`` pairs (parsed on every call).

        Raises:
            ValueError: a level is not a decimal number.
        """
        return decimal_levels(self.asks)


class BookTicker(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "symbol": "s",
        "update_id": "u",
        "bid_price": "b",
        "bid_quantity": "B",
        "ask_price": "a",
        "ask_quantity": "A",
    },
):
    """The best bid and ask from ``<symbol>@bookTicker`` (no event type or time on Spot).

    Attributes:
        symbol: the symbol [``s``].
        update_id: the order-book update id [``u``].
        bid_price: the best bid price [``b``].
        bid_quantity: the quantity at the best bid [``B``].
        ask_price: the best ask price [``a``].
        ask_quantity: the quantity at the best ask [``A``].
    """

    symbol: str
    update_id: int
    bid_price: Decimal
    bid_quantity: Decimal
    ask_price: Decimal
    ask_quantity: Decimal


class KlineBar(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "start_time": "t",
        "close_time": "T",
        "symbol": "s",
        "interval": "i",
        "first_trade_id": "f",
        "last_trade_id": "L",
        "open": "o",
        "close": "c",
        "high": "h",
        "low": "l",
        "volume": "v",
        "trade_count": "n",
        "is_closed": "x",
        "quote_volume": "q",
        "taker_buy_volume": "V",
        "taker_buy_quote_volume": "Q",
    },
):
    """The candle inside a :class:`Kline` event [``k``].

    Attributes:
        start_time: the candle's open time [``t``].
        close_time: the candle's close time [``T``].
        symbol: the symbol [``s``].
        interval: the interval, one of :data:`KLINE_INTERVALS` [``i``].
        first_trade_id: the first trade id in the candle (-1: none) [``f``].
        last_trade_id: the last trade id in the candle (-1: none) [``L``].
        open: the open price [``o``].
        close: the close (latest) price [``c``].
        high: the high price [``h``].
        low: the low price [``l``].
        volume: the base-asset volume [``v``].
        trade_count: the number of trades [``n``].
        is_closed: whether the candle is final [``x``].
        quote_volume: the quote-asset volume [``q``].
        taker_buy_volume: the taker-buy base-asset volume [``V``].
        taker_buy_quote_volume: the taker-buy quote-asset volume [``Q``].
    """

    start_time: int
    close_time: int
    symbol: str
    interval: str
    first_trade_id: int
    last_trade_id: int
    open: Decimal
    close: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    trade_count: int
    is_closed: bool
    quote_volume: Decimal
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal


class Kline(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="kline",
    rename={
        "symbol": "s",
        "event_time": "E",
        "bar": "k",
    },
):
    """A candle update from ``<symbol>@kline_<interval>`` (or ``...@+08:00``).

    Sent every 1 s for ``1s`` candles and every 2 s otherwise. With the
    ``@+08:00`` suffix candles open and close on UTC+8 boundaries; the
    timestamps are still UTC epoch values.

    Attributes:
        symbol: the symbol [``s``].
        event_time: when Binance emitted the event [``E``].
        bar: the candle [``k``].
    """

    symbol: str
    event_time: int
    bar: KlineBar


class Ticker(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="24hrTicker",
    rename={
        "symbol": "s",
        "event_time": "E",
        "price_change": "p",
        "price_change_percent": "P",
        "weighted_average_price": "w",
        "prev_close_price": "x",
        "last_price": "c",
        "last_quantity": "Q",
        "best_bid_price": "b",
        "best_bid_quantity": "B",
        "best_ask_price": "a",
        "best_ask_quantity": "A",
        "open_price": "o",
        "high_price": "h",
        "low_price": "l",
        "base_volume": "v",
        "quote_volume": "q",
        "open_time": "O",
        "close_time": "C",
        "first_trade_id": "F",
        "last_trade_id": "L",
        "trade_count": "n",
    },
):
    """24 h rolling statistics from ``<symbol>@ticker`` / ``!ticker@arr`` (``24hrTicker``).

    Attributes:
        symbol: the symbol [``s``].
        event_time: when Binance emitted the event [``E``].
        price_change: the price change over the window [``p``].
        price_change_percent: the change in percent [``P``].
        weighted_average_price: the volume-weighted average price [``w``].
        prev_close_price: the price of the last trade before the window [``x``].
        last_price: the last price [``c``].
        last_quantity: the last trade's quantity [``Q``].
        best_bid_price: the best bid price [``b``].
        best_bid_quantity: the best bid quantity [``B``].
        best_ask_price: the best ask price [``a``].
        best_ask_quantity: the best ask quantity [``A``].
        open_price: the open price [``o``].
        high_price: the high price [``h``].
        low_price: the low price [``l``].
        base_volume: the traded base-asset volume [``v``].
        quote_volume: the traded quote-asset volume [``q``].
        open_time: the start of the statistics window [``O``].
        close_time: the end of the statistics window [``C``].
        first_trade_id: the first trade id in the window [``F``].
        last_trade_id: the last trade id in the window [``L``].
        trade_count: the number of trades [``n``].
    """

    symbol: str
    event_time: int
    price_change: Decimal
    price_change_percent: Decimal
    weighted_average_price: Decimal
    prev_close_price: Decimal
    last_price: Decimal
    last_quantity: Decimal
    best_bid_price: Decimal
    best_bid_quantity: Decimal
    best_ask_price: Decimal
    best_ask_quantity: Decimal
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    base_volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    first_trade_id: int
    last_trade_id: int
    trade_count: int


class MiniTicker(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="24hrMiniTicker",
    rename={
        "symbol": "s",
        "event_time": "E",
        "close_price": "c",
        "open_price": "o",
        "high_price": "h",
        "low_price": "l",
        "base_volume": "v",
        "quote_volume": "q",
    },
):
    """24 h rolling mini statistics from ``<symbol>@miniTicker`` (``24hrMiniTicker``).

    Attributes:
        symbol: the symbol [``s``].
        event_time: when Binance emitted the event [``E``].
        close_price: the last price [``c``].
        open_price: the open price [``o``].
        high_price: the high price [``h``].
        low_price: the low price [``l``].
        base_volume: the traded base-asset volume [``v``].
        quote_volume: the traded quote-asset volume [``q``].
    """

    symbol: str
    event_time: int
    close_price: Decimal
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    base_volume: Decimal
    quote_volume: Decimal


class RollingWindowTicker(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "symbol": "s",
        "window": "e",
        "event_time": "E",
        "price_change": "p",
        "price_change_percent": "P",
        "open_price": "o",
        "high_price": "h",
        "low_price": "l",
        "last_price": "c",
        "weighted_average_price": "w",
        "base_volume": "v",
        "quote_volume": "q",
        "open_time": "O",
        "close_time": "C",
        "first_trade_id": "F",
        "last_trade_id": "L",
        "trade_count": "n",
    },
):
    """Rolling-window statistics from ``<symbol>@ticker_<1h|4h|1d>`` (``1hTicker`` ...).

    Attributes:
        symbol: the symbol [``s``].
        window: the window size, one of :data:`ROLLING_WINDOWS` (from the
            event type, ``"1hTicker"`` -> ``"1h"``) [``e``].
        event_time: when Binance emitted the event [``E``].
        price_change: the price change over the window [``p``].
        price_change_percent: the change in percent [``P``].
        open_price: the open price [``o``].
        high_price: the high price [``h``].
        low_price: the low price [``l``].
        last_price: the last price [``c``].
        weighted_average_price: the volume-weighted average price [``w``].
        base_volume: the traded base-asset volume [``v``].
        quote_volume: the traded quote-asset volume [``q``].
        open_time: the start of the window (always on a minute) [``O``].
        close_time: the end of the window (the update time) [``C``].
        first_trade_id: the first trade id in the window [``F``].
        last_trade_id: the last trade id in the window [``L``].
        trade_count: the number of trades [``n``].
    """

    symbol: str
    window: str
    event_time: int
    price_change: Decimal
    price_change_percent: Decimal
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    last_price: Decimal
    weighted_average_price: Decimal
    base_volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    first_trade_id: int
    last_trade_id: int
    trade_count: int

    def __post_init__(self) -> None:
        # On the wire the window is the event type: "1hTicker" -> "1h".
        window = self.window
        if window in _ROLLING_EVENT_TYPES:
            msgspec.structs.force_setattr(self, "window", _ROLLING_EVENT_TYPES[window])
        elif window not in ROLLING_WINDOWS:
            raise ValueError(f"not a rolling-window ticker event type: {window!r:.40} - at `$.e`")


class AvgPrice(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="avgPrice",
    rename={
        "symbol": "s",
        "event_time": "E",
        "interval": "i",
        "average_price": "w",
        "last_trade_time": "T",
    },
):
    """The current average price from ``<symbol>@avgPrice`` (``avgPrice``).

    Attributes:
        symbol: the symbol [``s``].
        event_time: when Binance emitted the event [``E``].
        interval: the averaging interval, e.g. ``"5m"`` [``i``].
        average_price: the average price [``w``].
        last_trade_time: the time of the last trade [``T``].
    """

    symbol: str
    event_time: int
    interval: str
    average_price: Decimal
    last_trade_time: int


class UnknownMessage(
    WireStruct,
    frozen=True,
    gc=False,
):
    """A message this version does not know (a new stream or event type); never dropped.

    Attributes:
        raw: the decoded JSON payload (the ``data`` part of a combined-stream
            message, the ``event`` part of a user-data event).
    """

    raw: Any


# --------------------------------------------------------------------------------------
# User-data events (WebSocket API ``userDataStream.subscribe``)
# --------------------------------------------------------------------------------------


class Balance(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "asset": "a",
        "free": "f",
        "locked": "l",
    },
):
    """One asset's balance inside :class:`AccountPosition`.

    Attributes:
        asset: the asset, e.g. ``"BTC"`` [``a``].
        free: the free amount [``f``].
        locked: the locked amount [``l``].
    """

    asset: str
    free: Decimal
    locked: Decimal


class AccountPosition(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="outboundAccountPosition",
    rename={
        "event_time": "E",
        "last_update_time": "u",
        "balances": "B",
    },
):
    """Balances that may have changed (``outboundAccountPosition``).

    Attributes:
        event_time: when Binance emitted the event [``E``].
        last_update_time: the time of the last account update [``u``].
        balances: the balances of the assets concerned [``B``].
    """

    event_time: int
    last_update_time: int
    balances: tuple[Balance, ...]


class BalanceUpdate(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="balanceUpdate",
    rename={
        "event_time": "E",
        "asset": "a",
        "delta": "d",
        "clear_time": "T",
    },
):
    """A deposit, withdrawal or transfer changed a balance (``balanceUpdate``).

    Attributes:
        event_time: when Binance emitted the event [``E``].
        asset: the asset [``a``].
        delta: the balance change, signed [``d``].
        clear_time: when the change cleared [``T``].
    """

    event_time: int
    asset: str
    delta: Decimal
    clear_time: int


class ExecutionReport(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="executionReport",
    rename={
        "event_time": "E",
        "symbol": "s",
        "client_order_id": "c",
        "side": "S",
        "order_type": "o",
        "time_in_force": "f",
        "quantity": "q",
        "price": "p",
        "stop_price": "P",
        "iceberg_quantity": "F",
        "order_list_id": "g",
        "original_client_order_id": "C",
        "execution_type": "x",
        "order_status": "X",
        "reject_reason": "r",
        "order_id": "i",
        "last_executed_quantity": "l",
        "cumulative_filled_quantity": "z",
        "last_executed_price": "L",
        "commission": "n",
        "commission_asset": "N",
        "transaction_time": "T",
        "trade_id": "t",
        "is_on_book": "w",
        "is_maker": "m",
        "order_creation_time": "O",
        "cumulative_quote_quantity": "Z",
        "last_quote_quantity": "Y",
        "quote_order_quantity": "Q",
        "working_time": "W",
        "self_trade_prevention_mode": "V",
        "trailing_delta": "d",
        "trailing_time": "D",
        "strategy_id": "j",
        "strategy_type": "J",
        "prevented_match_id": "v",
    },
):
    """An order changed (``executionReport``): placed, traded, canceled, expired ...

    Average fill price is ``cumulative_quote_quantity / cumulative_filled_quantity``.

    Attributes:
        event_time: when Binance emitted the event [``E``].
        symbol: the symbol [``s``].
        client_order_id: the order's client id [``c``].
        side: ``"BUY"`` or ``"SELL"`` [``S``].
        order_type: ``"LIMIT"``, ``"MARKET"`` ... [``o``].
        time_in_force: ``"GTC"``, ``"IOC"``, ``"FOK"`` [``f``].
        quantity: the order quantity [``q``].
        price: the order price [``p``].
        stop_price: the stop price [``P``].
        iceberg_quantity: the iceberg quantity [``F``].
        order_list_id: the order list id, -1 when none [``g``].
        original_client_order_id: the id of the order being canceled, or "" [``C``].
        execution_type: ``"NEW"``, ``"CANCELED"``, ``"REPLACED"``, ``"REJECTED"``,
            ``"TRADE"``, ``"EXPIRED"``, ``"TRADE_PREVENTION"`` [``x``].
        order_status: the order's status, e.g. ``"PARTIALLY_FILLED"`` [``X``].
        reject_reason: ``"NONE"`` or the reason [``r``].
        order_id: the order id [``i``].
        last_executed_quantity: the quantity of this fill [``l``].
        cumulative_filled_quantity: the total filled quantity [``z``].
        last_executed_price: the price of this fill [``L``].
        commission: the commission of this fill [``n``].
        commission_asset: the commission asset, ``None`` when no fill [``N``].
        transaction_time: when the change happened [``T``].
        trade_id: the trade id, -1 when not a trade [``t``].
        is_on_book: whether the order is on the book [``w``].
        is_maker: whether this fill was on the maker side [``m``].
        order_creation_time: when the order was created [``O``].
        cumulative_quote_quantity: the total quote quantity transacted [``Z``].
        last_quote_quantity: the quote quantity of this fill [``Y``].
        quote_order_quantity: the quote order quantity [``Q``].
        working_time: when the order went on the book, if it did [``W``].
        self_trade_prevention_mode: e.g. ``"NONE"``, ``"EXPIRE_TAKER"`` [``V``].
        trailing_delta: trailing stop orders only [``d``].
        trailing_time: trailing stop orders, once activated [``D``].
        strategy_id: when given at order placement [``j``].
        strategy_type: when given at order placement [``J``].
        prevented_match_id: expired by self-trade prevention only [``v``].
    """

    event_time: int
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    iceberg_quantity: Decimal
    order_list_id: int
    original_client_order_id: str
    execution_type: str
    order_status: str
    reject_reason: str
    order_id: int
    last_executed_quantity: Decimal
    cumulative_filled_quantity: Decimal
    last_executed_price: Decimal
    commission: Decimal
    commission_asset: str | None
    transaction_time: int
    trade_id: int
    is_on_book: bool
    is_maker: bool
    order_creation_time: int
    cumulative_quote_quantity: Decimal
    last_quote_quantity: Decimal
    quote_order_quantity: Decimal
    working_time: int | None = None
    self_trade_prevention_mode: str | None = None
    trailing_delta: int | None = None
    trailing_time: int | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    prevented_match_id: int | None = None


class ListStatusOrder(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "symbol": "s",
        "order_id": "i",
        "client_order_id": "c",
    },
):
    """One order of an order list inside :class:`ListStatus`.

    Attributes:
        symbol: the symbol [``s``].
        order_id: the order id [``i``].
        client_order_id: the client order id [``c``].
    """

    symbol: str
    order_id: int
    client_order_id: str


class ListStatus(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="listStatus",
    rename={
        "event_time": "E",
        "symbol": "s",
        "order_list_id": "g",
        "contingency_type": "c",
        "list_status_type": "l",
        "list_order_status": "L",
        "list_reject_reason": "r",
        "list_client_order_id": "C",
        "transaction_time": "T",
        "orders": "O",
    },
):
    """An order list (OCO, OTO ...) changed (``listStatus``).

    Attributes:
        event_time: when Binance emitted the event [``E``].
        symbol: the symbol [``s``].
        order_list_id: the order list id [``g``].
        contingency_type: ``"OCO"``, ``"OTO"`` [``c``].
        list_status_type: ``"RESPONSE"``, ``"EXEC_STARTED"``, ``"ALL_DONE"`` ... [``l``].
        list_order_status: ``"EXECUTING"``, ``"ALL_DONE"``, ``"REJECT"`` [``L``].
        list_reject_reason: ``"NONE"`` or the reason [``r``].
        list_client_order_id: the list's client id [``C``].
        transaction_time: when the change happened [``T``].
        orders: the orders of the list [``O``].
    """

    event_time: int
    symbol: str
    order_list_id: int
    contingency_type: str
    list_status_type: str
    list_order_status: str
    list_reject_reason: str
    list_client_order_id: str
    transaction_time: int
    orders: tuple[ListStatusOrder, ...]


class StreamTerminated(
    WireStruct,
    frozen=True,
    gc=False,
    tag_field="e",
    tag="eventStreamTerminated",
    rename={
        "event_time": "E",
    },
):
    """The user-data subscription ended (``eventStreamTerminated``).

    Sent after ``session.logout``, ``userDataStream.unsubscribe`` or when the
    subscription expired; subscribe again to keep receiving events.

    Attributes:
        event_time: when Binance emitted the event [``E``].
    """

    event_time: int


#: The typed user-data events.
UserEvent: TypeAlias = (
    AccountPosition | BalanceUpdate | ExecutionReport | ListStatus | StreamTerminated
)


class UserDataEvent(
    WireStruct,
    frozen=True,
    gc=False,
):
    """A user-data event with the subscription it belongs to.

    Attributes:
        subscription_id: the id returned by ``userDataStream.subscribe``
            [``subscriptionId``]; ``None`` when the venue sent none.
        event: the typed event, or :class:`UnknownMessage` for a new event type.
    """

    subscription_id: int | None
    event: UserEvent | UnknownMessage


#: What a market-data message decodes to.
MarketEvent: TypeAlias = (
    Trade
    | AggTrade
    | DepthUpdate
    | PartialDepth
    | BookTicker
    | Kline
    | Ticker
    | MiniTicker
    | RollingWindowTicker
    | AvgPrice
    | UnknownMessage
    | tuple[Ticker | MiniTicker | RollingWindowTicker, ...]
)


# --------------------------------------------------------------------------------------
# Decoding: one msgspec decoder per message family
# --------------------------------------------------------------------------------------
#
# Binance tags most payloads with their event type "e": those form one tagged
# union, decoded in one pass with the combined-stream envelope around it. Book
# ticker and partial depth carry no "e", and a msgspec union cannot mix tagged
# and untagged Structs, so those are routed by their stream name
# ("@bookTicker", "@depth5"); so are the rolling-window tickers, whose one
# class serves three event types ("1hTicker", "4hTicker", "1dTicker").

T = TypeVar("T")

#: The market payloads Binance tags with an event type.
TaggedMarketEvent: TypeAlias = (
    Trade | AggTrade | DepthUpdate | Kline | Ticker | MiniTicker | AvgPrice
)
#: Event types of :data:`TaggedMarketEvent`.
MARKET_EVENT_TYPES: Final = frozenset(
    {"trade", "aggTrade", "depthUpdate", "kline", "24hrTicker", "24hrMiniTicker", "avgPrice"}
)
#: Event types of :data:`UserEvent`.
USER_EVENT_TYPES: Final = frozenset(
    {
        "outboundAccountPosition",
        "balanceUpdate",
        "executionReport",
        "listStatus",
        "eventStreamTerminated",
    }
)


class Combined(msgspec.Struct, Generic[T], frozen=True, gc=False):
    """A combined-stream frame: ``{"stream": "<name>", "data": <payload>}``."""

    stream: str
    data: T


class StreamRoute:
    """How the payloads of one family of streams decode: a tagged union, or one class.

    Attributes:
        name: the family (``"tagged"``, ``"book_ticker"``, ``"partial_depth"``,
            ``"rolling"``, ``"tagged_array"``, ``"rolling_array"``).
        payload_type: the msgspec type of the payload.
        tagged: whether the payloads carry the event type ``e`` the union
            is tagged with (unknown types then become :class:`UnknownMessage`).
        combined: the decoder of a whole combined-stream frame.
        raw: the decoder of a bare payload (raw ``/ws/`` connections).
    """

    __slots__ = ("combined", "name", "payload_type", "raw", "tagged")

    def __init__(self, name: str, payload_type: Any, *, tagged: bool) -> None:
        self.name = name
        self.payload_type = payload_type
        self.tagged = tagged
        self.combined: msgspec.json.Decoder[Combined[Any]] = msgspec.json.Decoder(
            Combined[payload_type]
        )
        self.raw: msgspec.json.Decoder[Any] = msgspec.json.Decoder(payload_type)

    def __repr__(self) -> str:
        return f"<StreamRoute {self.name}>"


TAGGED_ROUTE: Final = StreamRoute("tagged", TaggedMarketEvent, tagged=True)
BOOK_TICKER_ROUTE: Final = StreamRoute("book_ticker", BookTicker, tagged=False)
PARTIAL_DEPTH_ROUTE: Final = StreamRoute("partial_depth", PartialDepth, tagged=False)
ROLLING_ROUTE: Final = StreamRoute("rolling", RollingWindowTicker, tagged=False)
TAGGED_ARRAY_ROUTE: Final = StreamRoute("tagged_array", tuple[TaggedMarketEvent, ...], tagged=True)
ROLLING_ARRAY_ROUTE: Final = StreamRoute(
    "rolling_array", tuple[RollingWindowTicker, ...], tagged=False
)


def stream_route(stream: str) -> StreamRoute:
    """The decoder family of a stream name (see the section comment above).

    ``"btcusdt@bookTicker"`` and ``"!bookTicker"``: book ticker;
    ``"btcusdt@depth5[@100ms]"``: partial depth; ``"btcusdt@ticker_1h"``:
    rolling window; ``"!ticker_1h@arr"``: an array of those; any other
    ``"...@arr"``: an array of tagged payloads; everything else (including
    names this version does not know): the tagged union.
    """
    symbol, _, rest = stream.partition("@")
    kind = rest.partition("@")[0]
    if stream.endswith("@arr"):
        return ROLLING_ARRAY_ROUTE if symbol.startswith("!ticker_") else TAGGED_ARRAY_ROUTE
    if kind == "bookTicker" or symbol == "!bookTicker":
        return BOOK_TICKER_ROUTE
    levels = kind[len("depth") :]
    if kind.startswith("depth") and levels.isascii() and levels.isdigit():
        return PARTIAL_DEPTH_ROUTE
    if kind.startswith("ticker_"):
        return ROLLING_ROUTE
    return TAGGED_ROUTE


def _convert(payload: Any, type_: Any, what: str) -> Any:
    """Build ``type_`` from decoded JSON (the slow paths); failures are DecodeError."""
    try:
        return msgspec.convert(payload, type_)
    except DECODE_ERRORS as exc:
        error = decode_error(exc, b"", what)
    raise error


def _untagged_type(payload: dict[str, Any]) -> Any:
    """The class of a payload without an event type, recognised by its keys."""
    if "lastUpdateId" in payload:
        return PartialDepth
    if "u" in payload and "b" in payload and "a" in payload:
        return BookTicker
    return None


def market_event_from_wire(payload: Any, stream: str | None = None) -> MarketEvent:
    """Decode one already-parsed market-data payload (the ``data`` of a combined message).

    The decoders of :class:`~trio_venues.venues.binance.BinanceSpotCore`
    decode frames straight from their text; this is the path for a payload
    you hold as Python values (and the core's slow path). Routing is by the
    event type ``e``; without one, by ``stream`` (:func:`stream_route`) when
    given, else by the keys (``lastUpdateId``: partial depth; ``u`` with
    ``b``/``a``: book ticker). Arrays (``!ticker@arr`` ...) become a tuple of
    the element class. Unknown event types give :class:`UnknownMessage`.

    Raises:
        DecodeError: the payload is not valid for its event type; the
            message names the field (``... - at `$.p```).
    """
    route = TAGGED_ROUTE if stream is None else stream_route(stream)
    if type(payload) is dict:
        event_type = payload.get("e")
        if event_type in MARKET_EVENT_TYPES:
            result: MarketEvent = _convert(payload, TaggedMarketEvent, "Binance market payload")
            return result
        if event_type in _ROLLING_EVENT_TYPES:
            return _convert(payload, RollingWindowTicker, "Binance rolling-window ticker")  # type: ignore[no-any-return]
        if event_type is None and not route.tagged:
            return _convert(payload, route.payload_type, "Binance market payload")  # type: ignore[no-any-return]
        untagged = _untagged_type(payload) if event_type is None else None
        if untagged is not None:
            return _convert(payload, untagged, "Binance market payload")  # type: ignore[no-any-return]
        return UnknownMessage(payload)
    if type(payload) is list:
        if not all(type(item) is dict for item in payload):
            raise DecodeError("could not decode Binance market array: expected an array of objects")
        types = {item.get("e") for item in payload}
        if types <= MARKET_EVENT_TYPES:
            return _convert(payload, tuple[TaggedMarketEvent, ...], "Binance market array")  # type: ignore[no-any-return]
        if types <= _ROLLING_EVENT_TYPES.keys():
            return _convert(payload, tuple[RollingWindowTicker, ...], "Binance market array")  # type: ignore[no-any-return]
        # One unknown element makes the whole array unknown: never half a list.
        return UnknownMessage(payload)
    raise DecodeError(
        f"could not decode Binance market payload: expected a JSON object or array, "
        f"got {type(payload).__name__}"
    )


def partial_depth_from_wire(payload: Any) -> PartialDepth:
    """Build a :class:`PartialDepth` from a partial-depth payload (or a WS-API ``depth`` result).

    Raises:
        DecodeError: the payload is not a partial-depth object.
    """
    result: PartialDepth = _convert(payload, PartialDepth, "Binance depth")
    return result


def user_event_from_wire(payload: Any) -> UserEvent | UnknownMessage:
    """Decode one user-data ``event`` object; unknown event types give :class:`UnknownMessage`.

    Raises:
        DecodeError: not an object, no event type, or not valid for its type.
    """
    if type(payload) is not dict:
        raise DecodeError(
            f"could not decode Binance user event: expected a JSON object, "
            f"got {type(payload).__name__}"
        )
    event_type = payload.get("e")
    if type(event_type) is not str:
        raise DecodeError("could not decode Binance user event: Object missing field `e`")
    if event_type not in USER_EVENT_TYPES:
        return UnknownMessage(payload)
    result: UserEvent = _convert(payload, UserEvent, "Binance user event")
    return result


# --------------------------------------------------------------------------------------
# The wire form: the inverse of decoding (fake servers, round-trip tests)
# --------------------------------------------------------------------------------------


def _wire_values(value: Any) -> Any:
    if type(value) is Decimal:
        return decimal_to_wire(value)
    if type(value) is dict:
        return {key: _wire_values(item) for key, item in value.items()}
    if type(value) is list or type(value) is tuple:
        return [_wire_values(item) for item in value]
    return value


def to_wire(obj: Any) -> Any:
    """The JSON-ready wire form of a typed message: the inverse of decoding.

    Wire keys, the event type ``e`` where Binance sends one (``window`` back
    to ``"1hTicker"`` ... for rolling-window tickers), decimals as positional
    strings (never an exponent), tuples as arrays; :class:`UnknownMessage`
    gives back its raw payload. Used by fake servers and round-trip tests:
    ``market_event_from_wire(to_wire(x)) == x``.
    """
    if isinstance(obj, UnknownMessage):
        return obj.raw
    if isinstance(obj, tuple):
        return [to_wire(item) for item in obj]
    wire = _wire_values(msgspec.to_builtins(obj, builtin_types=(Decimal,)))
    if isinstance(obj, RollingWindowTicker):
        wire["e"] = f"{obj.window}Ticker"
    return wire
