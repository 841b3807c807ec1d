"""Binance Spot wire models: frozen attrs classes for stream payloads and user-data events.

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

Decoding: the four hot types (trade, aggTrade, depthUpdate, bookTicker) and
partial depth are built by hand-written functions (``trade_from_wire`` ...):
one combined type check on the fast path, a precise message on the slow
path, and the instance filled through its slots (``_codec.slot_setters``)
rather than attrs' frozen ``__init__``. The other classes go through the
shared cattrs converter (:mod:`trio_venues._codec`), registered at the bottom
of this module with their wire names. Both paths are strict about leaf types
(see ``_codec``); unknown extra keys are ignored, missing required keys are
errors.

Reference: Binance ``web-socket-streams.md`` and ``user-data-stream.md``
(``../shared/venues/README.md`` section 1.8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any, Final, Literal, TypeAlias

import attrs

from ..._codec import (
    converter,
    decimal_to_wire,
    register_wire_class,
    slot_setters,
)

__all__ = [
    "AccountPosition",
    "AggTrade",
    "AvgPrice",
    "Balance",
    "BalanceUpdate",
    "BookLevel",
    "BookTicker",
    "DepthUpdate",
    "ExecutionReport",
    "KLINE_INTERVALS",
    "Kline",
    "KlineBar",
    "ListStatus",
    "ListStatusOrder",
    "MarketEvent",
    "MiniTicker",
    "PartialDepth",
    "ROLLING_WINDOWS",
    "RollingWindowTicker",
    "StreamTerminated",
    "Ticker",
    "TimeUnit",
    "Trade",
    "UnknownMessage",
    "UserDataEvent",
    "UserEvent",
    "WireLevel",
    "agg_trade_from_wire",
    "book_ticker_from_wire",
    "decimal_levels",
    "depth_update_from_wire",
    "market_event_from_wire",
    "ms_to_datetime",
    "partial_depth_from_wire",
    "to_datetime",
    "to_wire",
    "trade_from_wire",
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

    The converter of :class:`DepthUpdate`/:class:`PartialDepth` levels, so
    ``DepthUpdate(..., bids=((Decimal("1.5"), Decimal("2")),), ...)`` holds
    ``(("1.5", "2"),)``. Strings are kept as they are; ``Decimal`` values are
    written in positional notation (:func:`~trio_venues._codec.decimal_to_wire`).
    Decoded messages skip this: the decoder builds the tuples itself.

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
    """Parse wire levels into ``(Decimal, Decimal)`` pairs, in order.

    Raises:
        ValueError: a price or quantity is not a decimal number (the decoder
            checks that levels are strings without NaN or infinities, not their
            full number syntax).
    """
    try:
        return tuple([(Decimal(price), Decimal(quantity)) for price, quantity in levels])
    except ArithmeticError as exc:  # decimal.InvalidOperation
        raise ValueError(f"a price level is not a decimal number: {exc!r}") from exc


# --------------------------------------------------------------------------------------
# Market-data streams
# --------------------------------------------------------------------------------------


@attrs.frozen
class Trade:
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


@attrs.frozen
class AggTrade:
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


@attrs.frozen
class DepthUpdate:
    """A diff of the order book from ``<symbol>@depth[@100ms]`` (event ``depthUpdate``).

    Apply in order; the update after this one has ``first_update_id ==
    final_update_id + 1``, a larger gap means lost data (README section 1.9).

    **Levels are exact strings**, as Binance sent them: ``bids`` is
    ``(("97012.35", "0.01500"), ...)``. A depth message carries dozens of
    levels and parsing each into ``Decimal`` would cost several times the rest
    of the decoding, while the usual consumer, an order book
    (:class:`~trio_venues.book.DepthDiff` takes these tuples as they are),
    parses every level once itself. :meth:`decimal_bids` and
    :meth:`decimal_asks` give ``(Decimal, Decimal)`` pairs when you want them.
    Decoding checks that every price and quantity is a string and none is NaN
    or infinite. Built by hand, the levels may be given as ``Decimal`` pairs
    too; they are stored as strings (see :func:`wire_levels`).

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
    bids: tuple[WireLevel, ...] = attrs.field(converter=wire_levels)
    asks: tuple[WireLevel, ...] = attrs.field(converter=wire_levels)
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


@attrs.frozen
class PartialDepth:
    """The top levels of the book from ``<symbol>@depth<5|10|20>[@100ms]``.

    The payload has no event type and no symbol: the symbol is in
    ``Message.topic``. The WebSocket API ``depth`` result has the same shape.

    Levels are exact strings, as in :class:`DepthUpdate` (and for the same
    reason: a ``depth`` snapshot may carry 5,000 levels a side);
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
    bids: tuple[WireLevel, ...] = attrs.field(converter=wire_levels)
    asks: tuple[WireLevel, ...] = attrs.field(converter=wire_levels)

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


@attrs.frozen
class BookTicker:
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


@attrs.frozen
class KlineBar:
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


@attrs.frozen
class Kline:
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


@attrs.frozen
class Ticker:
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


@attrs.frozen
class MiniTicker:
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


@attrs.frozen
class RollingWindowTicker:
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


@attrs.frozen
class AvgPrice:
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


@attrs.frozen
class UnknownMessage:
    """A message this version does not know (a new stream or event type); never dropped.

    Attributes:
        raw: the decoded JSON payload (the ``data`` part of a combined-stream
            message, the ``event`` part of a user-data event).
    """

    raw: Any


# --------------------------------------------------------------------------------------
# User-data events (WebSocket API ``userDataStream.subscribe``)
# --------------------------------------------------------------------------------------


@attrs.frozen
class Balance:
    """One asset's balance inside :class:`AccountPosition`.

    Attributes:
        asset: the asset, e.g. ``"BTC"`` [``a``].
        free: the free amount [``f``].
        locked: the locked amount [``l``].
    """

    asset: str
    free: Decimal
    locked: Decimal


@attrs.frozen
class AccountPosition:
    """Balances that may have changed (``outboundAccountPosition``).

    Attributes:
        event_time: when Binance emitted the event [``E``].
        last_update_time: the time of the last account update [``u``].
        balances: the balances of the assets concerned [``B``].
    """

    event_time: int
    last_update_time: int
    balances: tuple[Balance, ...]


@attrs.frozen
class BalanceUpdate:
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


@attrs.frozen
class ExecutionReport:
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


@attrs.frozen
class ListStatusOrder:
    """One order of an order list inside :class:`ListStatus`.

    Attributes:
        symbol: the symbol [``s``].
        order_id: the order id [``i``].
        client_order_id: the client order id [``c``].
    """

    symbol: str
    order_id: int
    client_order_id: str


@attrs.frozen
class ListStatus:
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


@attrs.frozen
class StreamTerminated:
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


@attrs.frozen
class UserDataEvent:
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
# Hand-written structure functions for the hot types
# --------------------------------------------------------------------------------------
#
# Why by hand: a trade message is decoded hundreds of thousands of times a
# second. One combined ``type(...) is`` check of every field (prices and
# quantities included: a JSON number must never become a Decimal) costs about
# as much as a single function call; the precise "which field" message is only
# computed when that check fails. The instance is then filled through its slot
# setters (``_codec.slot_setters``): ~0.2 us less per trade than attrs' frozen
# ``__init__``, with every value already in its final type.

_new: Final = object.__new__
_Decimal: Final = Decimal


def _type_error(payload: Mapping[str, Any], expected: Mapping[str, type]) -> TypeError:
    for key, kind in expected.items():
        value = payload[key]
        if type(value) is not kind:
            what = "a decimal string" if kind is str and key in _DECIMAL_KEYS else kind.__name__
            return TypeError(f"field {key!r}: expected {what}, got {type(value).__name__}")
    return TypeError("unexpected field types")  # pragma: no cover - callers checked first


# Wire keys that hold decimal strings in the hand-decoded payloads (for error messages).
_DECIMAL_KEYS = frozenset({"p", "q", "b", "B", "a", "A"})


def _not_finite(payload: Mapping[str, Any]) -> ValueError:
    return ValueError(f"a price or quantity is NaN or infinite: {dict(payload)!r:.200}")


(
    _set_trade_symbol,
    _set_trade_id,
    _set_trade_price,
    _set_trade_quantity,
    _set_trade_time,
    _set_trade_event_time,
    _set_trade_maker,
) = slot_setters(Trade)

_TRADE_TYPES = {"s": str, "t": int, "p": str, "q": str, "T": int, "E": int, "m": bool}


def trade_from_wire(payload: Mapping[str, Any]) -> Trade:
    """Build a :class:`Trade` from a decoded ``trade`` payload."""
    symbol = payload["s"]
    trade_id = payload["t"]
    price = payload["p"]
    quantity = payload["q"]
    trade_time = payload["T"]
    event_time = payload["E"]
    maker = payload["m"]
    if (
        type(symbol) is not str
        or type(trade_id) is not int
        or type(price) is not str
        or type(quantity) is not str
        or type(trade_time) is not int
        or type(event_time) is not int
        or type(maker) is not bool
    ):
        raise _type_error(payload, _TRADE_TYPES)
    price_d = _Decimal(price)
    quantity_d = _Decimal(quantity)
    if not (price_d.is_finite() and quantity_d.is_finite()):
        raise _not_finite(payload)
    trade: Trade = _new(Trade)
    _set_trade_symbol(trade, symbol)
    _set_trade_id(trade, trade_id)
    _set_trade_price(trade, price_d)
    _set_trade_quantity(trade, quantity_d)
    _set_trade_time(trade, trade_time)
    _set_trade_event_time(trade, event_time)
    _set_trade_maker(trade, maker)
    return trade


(
    _set_agg_symbol,
    _set_agg_id,
    _set_agg_price,
    _set_agg_quantity,
    _set_agg_first_id,
    _set_agg_last_id,
    _set_agg_trade_time,
    _set_agg_event_time,
    _set_agg_maker,
) = slot_setters(AggTrade)

_AGG_TRADE_TYPES = {
    "s": str,
    "a": int,
    "p": str,
    "q": str,
    "f": int,
    "l": int,
    "T": int,
    "E": int,
    "m": bool,
}


def agg_trade_from_wire(payload: Mapping[str, Any]) -> AggTrade:
    """Build an :class:`AggTrade` from a decoded ``aggTrade`` payload."""
    symbol = payload["s"]
    agg_id = payload["a"]
    price = payload["p"]
    quantity = payload["q"]
    first_id = payload["f"]
    last_id = payload["l"]
    trade_time = payload["T"]
    event_time = payload["E"]
    maker = payload["m"]
    if (
        type(symbol) is not str
        or type(agg_id) is not int
        or type(price) is not str
        or type(quantity) is not str
        or type(first_id) is not int
        or type(last_id) is not int
        or type(trade_time) is not int
        or type(event_time) is not int
        or type(maker) is not bool
    ):
        raise _type_error(payload, _AGG_TRADE_TYPES)
    price_d = _Decimal(price)
    quantity_d = _Decimal(quantity)
    if not (price_d.is_finite() and quantity_d.is_finite()):
        raise _not_finite(payload)
    trade: AggTrade = _new(AggTrade)
    _set_agg_symbol(trade, symbol)
    _set_agg_id(trade, agg_id)
    _set_agg_price(trade, price_d)
    _set_agg_quantity(trade, quantity_d)
    _set_agg_first_id(trade, first_id)
    _set_agg_last_id(trade, last_id)
    _set_agg_trade_time(trade, trade_time)
    _set_agg_event_time(trade, event_time)
    _set_agg_maker(trade, maker)
    return trade


_LIST_ONLY: Final = frozenset({list})
# Joins a side's prices and quantities; a separator no decimal string holds,
# so that the number of values can be counted in the joined text.
_SEPARATOR: Final = "\x00"


def _levels(raw: Any) -> tuple[WireLevel, ...]:
    """Decode ``[["price", "qty"], ...]`` into ``(("price", "qty"), ...)``, strings kept.

    A depth message carries dozens to thousands of levels, so the checks run
    over the whole side at C speed instead of per value (about 9 us for both
    sides of a 2.2 KB message, against 35 us to parse them into Decimals):
    every level is a list; joining the values fails unless every price and
    quantity is a string; the joined text holds exactly two values per level
    (counted by their separators); and no value holds an ``n``/``N`` (every
    spelling of NaN and Infinity does; no finite number does). The number
    syntax itself is left to whoever parses the levels (the order book,
    :func:`decimal_levels`).
    """
    if type(raw) is not list:
        raise TypeError(f"expected an array of levels, got {type(raw).__name__}")
    if not raw:
        return ()
    if set(map(type, raw)) != _LIST_ONLY:
        raise TypeError("expected every level to be a [price, quantity] array")
    levels = tuple(map(tuple, raw))
    try:
        text = _SEPARATOR.join(chain.from_iterable(levels))
    except TypeError:
        raise TypeError("expected every price and quantity to be a decimal string") from None
    if text.count(_SEPARATOR) != 2 * len(levels) - 1:
        raise ValueError("expected every level to be exactly [price, quantity]")
    if "n" in text or "N" in text:
        raise ValueError("a price or quantity is NaN or infinite")
    return levels


(
    _set_depth_symbol,
    _set_depth_first_id,
    _set_depth_final_id,
    _set_depth_bids,
    _set_depth_asks,
    _set_depth_event_time,
) = slot_setters(DepthUpdate)

_DEPTH_TYPES = {"s": str, "U": int, "u": int, "E": int}


def depth_update_from_wire(payload: Mapping[str, Any]) -> DepthUpdate:
    """Build a :class:`DepthUpdate` from a decoded ``depthUpdate`` payload."""
    symbol = payload["s"]
    first_id = payload["U"]
    final_id = payload["u"]
    event_time = payload["E"]
    if (
        type(symbol) is not str
        or type(first_id) is not int
        or type(final_id) is not int
        or type(event_time) is not int
    ):
        raise _type_error(payload, _DEPTH_TYPES)
    bids = _levels(payload["b"])
    asks = _levels(payload["a"])
    update: DepthUpdate = _new(DepthUpdate)
    _set_depth_symbol(update, symbol)
    _set_depth_first_id(update, first_id)
    _set_depth_final_id(update, final_id)
    _set_depth_bids(update, bids)
    _set_depth_asks(update, asks)
    _set_depth_event_time(update, event_time)
    return update


_set_partial_last_id, _set_partial_bids, _set_partial_asks = slot_setters(PartialDepth)


def partial_depth_from_wire(payload: Mapping[str, Any]) -> PartialDepth:
    """Build a :class:`PartialDepth` from a partial-depth payload (or a WS-API ``depth`` result)."""
    last_id = payload["lastUpdateId"]
    if type(last_id) is not int:
        raise _type_error(payload, {"lastUpdateId": int})
    bids = _levels(payload["bids"])
    asks = _levels(payload["asks"])
    depth: PartialDepth = _new(PartialDepth)
    _set_partial_last_id(depth, last_id)
    _set_partial_bids(depth, bids)
    _set_partial_asks(depth, asks)
    return depth


(
    _set_book_symbol,
    _set_book_update_id,
    _set_book_bid_price,
    _set_book_bid_quantity,
    _set_book_ask_price,
    _set_book_ask_quantity,
) = slot_setters(BookTicker)

_BOOK_TICKER_TYPES = {"s": str, "u": int, "b": str, "B": str, "a": str, "A": str}


def book_ticker_from_wire(payload: Mapping[str, Any]) -> BookTicker:
    """Build a :class:`BookTicker` from a decoded ``bookTicker`` payload."""
    symbol = payload["s"]
    update_id = payload["u"]
    bid = payload["b"]
    bid_qty = payload["B"]
    ask = payload["a"]
    ask_qty = payload["A"]
    if (
        type(symbol) is not str
        or type(update_id) is not int
        or type(bid) is not str
        or type(bid_qty) is not str
        or type(ask) is not str
        or type(ask_qty) is not str
    ):
        raise _type_error(payload, _BOOK_TICKER_TYPES)
    bid_d = _Decimal(bid)
    bid_qty_d = _Decimal(bid_qty)
    ask_d = _Decimal(ask)
    ask_qty_d = _Decimal(ask_qty)
    if not (
        bid_d.is_finite() and bid_qty_d.is_finite() and ask_d.is_finite() and ask_qty_d.is_finite()
    ):
        raise _not_finite(payload)
    ticker: BookTicker = _new(BookTicker)
    _set_book_symbol(ticker, symbol)
    _set_book_update_id(ticker, update_id)
    _set_book_bid_price(ticker, bid_d)
    _set_book_bid_quantity(ticker, bid_qty_d)
    _set_book_ask_price(ticker, ask_d)
    _set_book_ask_quantity(ticker, ask_qty_d)
    return ticker


# --------------------------------------------------------------------------------------
# The other classes: cattrs, with wire names
# --------------------------------------------------------------------------------------

register_wire_class(
    KlineBar,
    {
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
)
register_wire_class(Kline, {"symbol": "s", "event_time": "E", "bar": "k"})
register_wire_class(
    Ticker,
    {
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
)
register_wire_class(
    MiniTicker,
    {
        "symbol": "s",
        "event_time": "E",
        "close_price": "c",
        "open_price": "o",
        "high_price": "h",
        "low_price": "l",
        "base_volume": "v",
        "quote_volume": "q",
    },
)


def _window_from_event_type(value: Any, _: Any) -> str:
    # "1hTicker" -> "1h"
    if type(value) is not str or not value.endswith("Ticker"):
        raise ValueError(f"not a rolling-window ticker event type: {value!r:.40}")
    return value[: -len("Ticker")]


def _window_to_event_type(window: str) -> str:
    return f"{window}Ticker"


register_wire_class(
    RollingWindowTicker,
    {
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
    structure_hooks={"window": _window_from_event_type},
    unstructure_hooks={"window": _window_to_event_type},
)
register_wire_class(
    AvgPrice,
    {
        "symbol": "s",
        "event_time": "E",
        "interval": "i",
        "average_price": "w",
        "last_trade_time": "T",
    },
)
register_wire_class(Balance, {"asset": "a", "free": "f", "locked": "l"})
register_wire_class(AccountPosition, {"event_time": "E", "last_update_time": "u", "balances": "B"})
register_wire_class(
    BalanceUpdate, {"event_time": "E", "asset": "a", "delta": "d", "clear_time": "T"}
)
register_wire_class(
    ExecutionReport,
    {
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
)
register_wire_class(ListStatusOrder, {"symbol": "s", "order_id": "i", "client_order_id": "c"})
register_wire_class(
    ListStatus,
    {
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
)
register_wire_class(StreamTerminated, {"event_time": "E"})
# The hand-built classes are registered too: cattrs un-builds them for to_wire().
register_wire_class(
    Trade,
    {
        "symbol": "s",
        "trade_id": "t",
        "price": "p",
        "quantity": "q",
        "trade_time": "T",
        "event_time": "E",
        "is_buyer_maker": "m",
    },
)
register_wire_class(
    AggTrade,
    {
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
)
register_wire_class(
    DepthUpdate,
    {
        "symbol": "s",
        "first_update_id": "U",
        "final_update_id": "u",
        "bids": "b",
        "asks": "a",
        "event_time": "E",
    },
)
register_wire_class(
    PartialDepth, {"last_update_id": "lastUpdateId", "bids": "bids", "asks": "asks"}
)
register_wire_class(
    BookTicker,
    {
        "symbol": "s",
        "update_id": "u",
        "bid_price": "b",
        "bid_quantity": "B",
        "ask_price": "a",
        "ask_quantity": "A",
    },
)


def _via_converter(cls: type[Any]) -> Callable[[Any], Any]:
    hook = converter.get_structure_hook(cls)

    def structure(payload: Any) -> Any:
        return hook(payload, cls)

    structure.__name__ = f"{cls.__name__}_from_wire"
    return structure


_ROLLING_FROM_WIRE = _via_converter(RollingWindowTicker)

#: Event type (``"e"``) -> structure function, for market-data payloads.
MARKET_DECODERS: dict[str, Callable[[Any], Any]] = {
    "trade": trade_from_wire,
    "aggTrade": agg_trade_from_wire,
    "depthUpdate": depth_update_from_wire,
    "kline": _via_converter(Kline),
    "24hrTicker": _via_converter(Ticker),
    "24hrMiniTicker": _via_converter(MiniTicker),
    "avgPrice": _via_converter(AvgPrice),
    **{f"{window}Ticker": _ROLLING_FROM_WIRE for window in ROLLING_WINDOWS},
}

#: Event type -> structure function, for user-data events.
USER_DECODERS: dict[str, Callable[[Any], Any]] = {
    "outboundAccountPosition": _via_converter(AccountPosition),
    "balanceUpdate": _via_converter(BalanceUpdate),
    "executionReport": _via_converter(ExecutionReport),
    "listStatus": _via_converter(ListStatus),
    "eventStreamTerminated": _via_converter(StreamTerminated),
}


def market_event_from_wire(payload: Any) -> MarketEvent:
    """Decode one market-data payload (the ``data`` of a combined message) by its shape.

    Routing is by the event type ``e``; the two Spot payloads without one are
    recognised by their keys (``lastUpdateId``: partial depth; ``u`` with
    ``b``/``a``: book ticker). Arrays (``!ticker@arr`` ...) become a tuple of
    the element class. Unknown event types give :class:`UnknownMessage`.

    Raises:
        TypeError, KeyError, ValueError, ArithmeticError: the payload is not
            valid for its event type (see ``_codec.DECODE_FAILURES``).
    """
    if type(payload) is dict:
        event_type = payload.get("e")
        if event_type is not None:
            decoder = MARKET_DECODERS.get(event_type)
            if decoder is None:
                return UnknownMessage(payload)
            result: MarketEvent = decoder(payload)
            return result
        if "lastUpdateId" in payload:
            return partial_depth_from_wire(payload)
        if "u" in payload and "b" in payload and "a" in payload:
            return book_ticker_from_wire(payload)
        return UnknownMessage(payload)
    if type(payload) is list:
        items = []
        for item in payload:
            if type(item) is not dict:
                raise TypeError(f"expected an array of objects, got a {type(item).__name__}")
            decoder = MARKET_DECODERS.get(item.get("e", ""))
            if decoder is None:
                # One unknown element makes the whole array unknown: never half a list.
                return UnknownMessage(payload)
            items.append(decoder(item))
        return tuple(items)
    raise TypeError(f"expected a JSON object or array, got {type(payload).__name__}")


def user_event_from_wire(payload: Any) -> UserEvent | UnknownMessage:
    """Decode one user-data ``event`` object; unknown event types give :class:`UnknownMessage`."""
    if type(payload) is not dict:
        raise TypeError(f"expected a JSON object, got {type(payload).__name__}")
    decoder = USER_DECODERS.get(payload["e"])
    if decoder is None:
        return UnknownMessage(payload)
    result: UserEvent = decoder(payload)
    return result


_EVENT_TYPES: dict[type[Any], str] = {
    Trade: "trade",
    AggTrade: "aggTrade",
    DepthUpdate: "depthUpdate",
    Kline: "kline",
    Ticker: "24hrTicker",
    MiniTicker: "24hrMiniTicker",
    AvgPrice: "avgPrice",
    AccountPosition: "outboundAccountPosition",
    BalanceUpdate: "balanceUpdate",
    ExecutionReport: "executionReport",
    ListStatus: "listStatus",
    StreamTerminated: "eventStreamTerminated",
}


def to_wire(obj: Any) -> Any:
    """The JSON-ready wire form of a typed message: the inverse of decoding.

    Adds the event type ``e`` where Binance sends one (and keeps ``window`` as
    ``e`` for rolling-window tickers); tuples of tickers become arrays;
    :class:`UnknownMessage` gives back its raw payload. Used by fake servers
    and round-trip tests: ``market_event_from_wire(to_wire(x)) == x``.
    """
    if isinstance(obj, UnknownMessage):
        return obj.raw
    if isinstance(obj, tuple):
        return [to_wire(item) for item in obj]
    wire = converter.unstructure(obj)
    event_type = _EVENT_TYPES.get(type(obj))
    if event_type is not None:
        return {"e": event_type, **wire}
    return wire
