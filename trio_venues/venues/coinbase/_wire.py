"""Coinbase Advanced Trade wire models: frozen msgspec Structs, decoded in C.

Every data message shares one envelope (``docs/venues/coinbase.md``,
"Messages")::

    {"channel": "market_trades", "client_id": "", "timestamp": "2023-02-09T20:19:35.39625135Z",
     "sequence_num": 0, "events": [{"type": "snapshot", "trades": [...]}]}

One class per channel (:class:`MarketTradesMessage`, :class:`L2DataMessage`,
...) holds the envelope and a tuple of that channel's events. They form a
union tagged by ``channel``, so :func:`decode_message` reaches the right
class in one C call. ``client_id`` appears in the documentation and in older
captures but not in 2026 live frames: it is optional.

Values:

- prices, sizes and amounts are :class:`~decimal.Decimal`, parsed exactly
  from the venue's strings and checked finite (``"NaN"`` is refused);
- order-book levels (:class:`L2Update`) keep ``price_level`` and
  ``new_quantity`` as the exact strings sent (a snapshot carries thousands;
  the order book parses each once); ``price``/``quantity`` give Decimals;
- timestamps are the RFC 3339 strings as sent, nanoseconds included
  (``timestamp``, ``event_time``, ``time``, ``creation_time``); the ``*_ns``
  properties give them as integer nanoseconds since the epoch, exactly
  (:func:`rfc3339_to_ns`);
- a few order fields that Coinbase sends as ``""`` when they do not apply
  (``limit_price``, ``stop_price`` ...) stay strings, with ``Decimal | None``
  views.

``{"type": "error", "message": ...}`` (no ``channel``) decodes to
:class:`ErrorMessage`; an object with an unknown ``channel``, or of no known
shape, to :class:`UnknownMessage` (never dropped). A known channel whose
payload does not fit its model is a :class:`~trio_venues.errors.DecodeError`
naming the field (``$.events[0].trades[0].price``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal, TypeAlias

import msgspec

from ...errors import DecodeError

__all__ = [
    "CHANNELS",
    "DATA_CHANNELS",
    "USER_SNAPSHOT_BATCH",
    "Candle",
    "CandlesEvent",
    "CandlesMessage",
    "CoinbaseMessage",
    "ErrorMessage",
    "ExpiringFuturesPosition",
    "FcmBalanceSummary",
    "FuturesBalanceSummaryEvent",
    "FuturesBalanceSummaryMessage",
    "HeartbeatEvent",
    "HeartbeatsMessage",
    "L2DataMessage",
    "L2Event",
    "L2Update",
    "MarginWindowMeasure",
    "MarketTrade",
    "MarketTradesEvent",
    "MarketTradesMessage",
    "Order",
    "PerpetualFuturesPosition",
    "Positions",
    "StatusEvent",
    "StatusMessage",
    "StatusProduct",
    "SubscriptionsEvent",
    "SubscriptionsMessage",
    "Ticker",
    "TickerBatchMessage",
    "TickerEvent",
    "TickerMessage",
    "UnknownMessage",
    "UserEvent",
    "UserMessage",
    "decode_message",
    "encode_message",
    "rfc3339_to_ns",
]

#: The channels a client subscribes to (``docs/venues/coinbase.md``, "Channels").
CHANNELS: Final = (
    "heartbeats",
    "candles",
    "status",
    "ticker",
    "ticker_batch",
    "level2",
    "market_trades",
    "user",
    "futures_balance_summary",
)
#: Subscribe channel -> the ``channel`` its data messages carry: only ``level2``
#: differs (its data arrives on ``l2_data``).
DATA_CHANNELS: Final[Mapping[str, str]] = {
    channel: ("l2_data" if channel == "level2" else channel) for channel in CHANNELS
}
#: The ``user`` channel sends the open orders of its snapshot in batches of
#: this many; a snapshot batch with fewer ends the backlog.
USER_SNAPSHOT_BATCH: Final = 50

EventKind: TypeAlias = Literal["snapshot", "update"]

# -- timestamps ------------------------------------------------------------------------

_NS_PER_S: Final = 1_000_000_000


def rfc3339_to_ns(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 timestamp, exactly.

    ``"2023-02-09T20:32:50.714964855Z"`` -> ``1675974770714964855``. The
    fraction may have 0 to 9 digits; the offset is ``Z`` or ``+HH:MM``/``-HH:MM``.

    Raises:
        ValueError: ``text`` is not such a timestamp.
    """
    if type(text) is not str:
        raise TypeError(f"expected an RFC 3339 string, got {type(text).__name__}")
    head, dot, rest = text.partition(".")
    if dot:
        digits = 0
        while digits < len(rest) and rest[digits].isdigit():
            digits += 1
        if not 0 < digits <= 9:
            raise ValueError(f"not an RFC 3339 timestamp with at most 9 fraction digits: {text!r}")
        fraction = int(rest[:digits].ljust(9, "0"))
        zone = rest[digits:]
    else:
        fraction = 0
        # The zone starts after the seconds: "YYYY-MM-DDTHH:MM:SS" is 19 characters.
        head, zone = text[:19], text[19:]
    if zone in ("Z", "z"):
        zone = "+00:00"
    if len(head) != 19 or head[10] not in "Tt" or len(zone) != 6:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    try:
        moment = datetime.fromisoformat(f"{head[:10]}T{head[11:]}{zone}")
    except ValueError:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}") from None
    seconds = (moment - _EPOCH) // _ONE_SECOND
    return seconds * _NS_PER_S + fraction


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND: Final = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC) - _EPOCH


# -- strict numbers ----------------------------------------------------------------------


def _finite(*values: Decimal | None) -> None:
    """Refuse NaN and infinities: msgspec parses ``"NaN"`` into a Decimal field."""
    for value in values:
        if value is not None and not value.is_finite():
            raise ValueError(f"a price or amount must be finite, got {value}")


def _optional_decimal(text: str) -> Decimal | None:
    """``None`` for ``""`` (the venue's "not applicable"), else the exact Decimal."""
    if not text:
        return None
    value = Decimal(text)
    _finite(value)
    return value


class _Wire(msgspec.Struct, frozen=True, gc=False):
    """Base of the Coinbase wire models (frozen, no GC tracking, extra keys ignored)."""


# -- the envelope -------------------------------------------------------------------------


class _Envelope(msgspec.Struct, frozen=True, gc=False, tag_field="channel"):
    """Fields every Coinbase data message carries (the ``channel`` is the class tag)."""

    #: the venue's timestamp of the message, RFC 3339 with nanoseconds, as sent
    timestamp: str
    #: the connection-wide message counter (one counter for every channel)
    sequence_num: int
    #: ``""`` in the documentation and older captures; absent in 2026 live frames
    client_id: str = ""

    @property
    def timestamp_ns(self) -> int:
        """``timestamp`` as integer nanoseconds since the epoch."""
        return rfc3339_to_ns(self.timestamp)


# -- level2 / l2_data ----------------------------------------------------------------------


class L2Update(_Wire, frozen=True, gc=False):
    """One price level of an ``l2_data`` event, with the exact strings Coinbase sent.

    Attributes:
        side: ``"bid"`` or ``"offer"`` (the ask side).
        event_time: RFC 3339 time of the change (the epoch in some snapshots).
        price_level: the price, exact.
        new_quantity: the new absolute size at that price; ``"0"`` deletes the level.
    """

    side: Literal["bid", "offer"]
    event_time: str
    price_level: str
    new_quantity: str

    @property
    def price(self) -> Decimal:
        """``price_level`` as a Decimal."""
        return Decimal(self.price_level)

    @property
    def quantity(self) -> Decimal:
        """``new_quantity`` as a Decimal."""
        return Decimal(self.new_quantity)

    @property
    def event_time_ns(self) -> int:
        """``event_time`` as integer nanoseconds since the epoch."""
        return rfc3339_to_ns(self.event_time)


class L2Event(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """A book snapshot (levels unsorted, bids and offers interleaved) or an update.

    Attributes:
        kind: ``"snapshot"`` or ``"update"`` [``type``].
        product_id: the product, e.g. ``"BTC-USD"``.
        updates: the levels.
    """

    kind: EventKind
    product_id: str
    updates: tuple[L2Update, ...]


class L2DataMessage(_Envelope, frozen=True, gc=False, tag="l2_data"):
    """A ``level2`` subscription's data (channel ``l2_data``)."""

    events: tuple[L2Event, ...] = ()


# -- market_trades --------------------------------------------------------------------------


class MarketTrade(_Wire, frozen=True, gc=False):
    """One trade of ``market_trades``.

    Attributes:
        trade_id: the venue's trade id, as sent (a string).
        product_id: the product.
        price: the price.
        size: the base quantity.
        side: the **maker's** side, ``"BUY"`` or ``"SELL"`` (see :attr:`taker_side`).
        time: RFC 3339 time of the trade.
    """

    trade_id: str
    product_id: str
    price: Decimal
    size: Decimal
    side: Literal["BUY", "SELL"]
    time: str

    def __post_init__(self) -> None:
        _finite(self.price, self.size)

    @property
    def taker_side(self) -> Literal["BUY", "SELL"]:
        """The aggressor's side: the opposite of the maker's ``side``."""
        return "SELL" if self.side == "BUY" else "BUY"

    @property
    def time_ns(self) -> int:
        """``time`` as integer nanoseconds since the epoch."""
        return rfc3339_to_ns(self.time)


class MarketTradesEvent(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """Trades collected over about 250 ms (``kind`` ``"snapshot"`` first, then ``"update"``)."""

    kind: EventKind
    trades: tuple[MarketTrade, ...]


class MarketTradesMessage(_Envelope, frozen=True, gc=False, tag="market_trades"):
    """A ``market_trades`` message."""

    events: tuple[MarketTradesEvent, ...] = ()


# -- ticker / ticker_batch ------------------------------------------------------------------


class Ticker(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """A product's ticker (``ticker`` on every match; ``ticker_batch`` every 5 s).

    The best bid/ask fields are ``None`` when absent (``ticker_batch`` leaves
    them out), as are the 52-week figures.

    Attributes:
        kind: ``"ticker"`` [``type``].
        product_id: the product.
        price: the last trade price.
        volume_24_h: base volume over 24 hours.
        low_24_h: lowest price over 24 hours.
        high_24_h: highest price over 24 hours.
        low_52_w: lowest price over 52 weeks.
        high_52_w: highest price over 52 weeks.
        price_percent_chg_24_h: price change over 24 hours, in percent.
        best_bid: best bid price.
        best_bid_quantity: size at the best bid.
        best_ask: best ask price.
        best_ask_quantity: size at the best ask.
    """

    product_id: str
    price: Decimal
    volume_24_h: Decimal
    low_24_h: Decimal
    high_24_h: Decimal
    price_percent_chg_24_h: Decimal
    kind: str = "ticker"
    low_52_w: Decimal | None = None
    high_52_w: Decimal | None = None
    best_bid: Decimal | None = None
    best_bid_quantity: Decimal | None = None
    best_ask: Decimal | None = None
    best_ask_quantity: Decimal | None = None

    def __post_init__(self) -> None:
        _finite(
            self.price,
            self.volume_24_h,
            self.low_24_h,
            self.high_24_h,
            self.price_percent_chg_24_h,
            self.low_52_w,
            self.high_52_w,
            self.best_bid,
            self.best_bid_quantity,
            self.best_ask,
            self.best_ask_quantity,
        )


class TickerEvent(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """A ``ticker`` or ``ticker_batch`` event."""

    kind: EventKind
    tickers: tuple[Ticker, ...]


class TickerMessage(_Envelope, frozen=True, gc=False, tag="ticker"):
    """A ``ticker`` message."""

    events: tuple[TickerEvent, ...] = ()


class TickerBatchMessage(_Envelope, frozen=True, gc=False, tag="ticker_batch"):
    """A ``ticker_batch`` message (the same tickers, every 5 seconds, without bid/ask)."""

    events: tuple[TickerEvent, ...] = ()


# -- candles --------------------------------------------------------------------------------


class Candle(_Wire, frozen=True, gc=False):
    """A five-minute candle, updated every second.

    Attributes:
        start: the bucket's start, UNIX seconds as the string sent (see :attr:`start_s`).
        high: highest price in the bucket.
        low: lowest price.
        open: first trade's price.
        close: last trade's price.
        volume: base volume.
        product_id: the product.
    """

    start: str
    high: Decimal
    low: Decimal
    open: Decimal
    close: Decimal
    volume: Decimal
    product_id: str

    def __post_init__(self) -> None:
        _finite(self.high, self.low, self.open, self.close, self.volume)

    @property
    def start_s(self) -> int:
        """``start`` as an integer number of seconds since the epoch."""
        return int(self.start)


class CandlesEvent(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """A ``candles`` event."""

    kind: EventKind
    candles: tuple[Candle, ...]


class CandlesMessage(_Envelope, frozen=True, gc=False, tag="candles"):
    """A ``candles`` message."""

    events: tuple[CandlesEvent, ...] = ()


# -- heartbeats ----------------------------------------------------------------------------


class HeartbeatEvent(_Wire, frozen=True, gc=False):
    """One heartbeat (every second once ``heartbeats`` is subscribed).

    Attributes:
        current_time: the server's clock in Go's text form, as sent.
        heartbeat_counter: the counter; the documentation shows it as a string,
            live frames send an integer: both decode (see :attr:`counter`).
    """

    current_time: str
    heartbeat_counter: int | str

    @property
    def counter(self) -> int:
        """``heartbeat_counter`` as an integer."""
        return int(self.heartbeat_counter)


class HeartbeatsMessage(_Envelope, frozen=True, gc=False, tag="heartbeats"):
    """A ``heartbeats`` message."""

    events: tuple[HeartbeatEvent, ...] = ()


# -- status --------------------------------------------------------------------------------


class StatusProduct(_Wire, frozen=True, gc=False):
    """One product of a ``status`` event.

    Attributes:
        id: the product id, e.g. ``"BTC-USD"``.
        product_type: e.g. ``"SPOT"``.
        base_currency: the base currency.
        quote_currency: the quote currency.
        base_increment: the size step.
        quote_increment: the price step.
        display_name: e.g. ``"BTC/USD"``.
        status: e.g. ``"online"``.
        status_message: free text (``""`` or ``None`` when there is none).
        min_market_funds: the smallest market order in quote currency.
    """

    id: str
    product_type: str
    base_currency: str
    quote_currency: str
    base_increment: Decimal
    quote_increment: Decimal
    display_name: str
    status: str
    status_message: str | None = None
    min_market_funds: Decimal | None = None

    def __post_init__(self) -> None:
        _finite(self.base_increment, self.quote_increment, self.min_market_funds)


class StatusEvent(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """A ``status`` event."""

    kind: EventKind
    products: tuple[StatusProduct, ...] = ()


class StatusMessage(_Envelope, frozen=True, gc=False, tag="status"):
    """A ``status`` message."""

    events: tuple[StatusEvent, ...] = ()


# -- user ----------------------------------------------------------------------------------


class Order(_Wire, frozen=True, gc=False):
    """One order of the ``user`` channel.

    The always-numeric fields are Decimals; those Coinbase sends as ``""``
    when they do not apply keep the string (``limit_price``, ``stop_price``,
    ``filled_value``, ``outstanding_hold_amount``, ``total_value_after_fees``,
    ``completion_percentage``, ``number_of_fills``), with Decimal views such
    as :attr:`limit_price_decimal`. Fields missing from a frame are ``""``.

    Attributes:
        order_id: the venue's order id.
        client_order_id: the id given when placing the order.
        product_id: the product.
        status: ``"PENDING"``, ``"OPEN"``, ``"FILLED"``, ``"CANCELLED"``, ...
        order_side: ``"BUY"`` or ``"SELL"``.
        order_type: e.g. ``"Limit"``, ``"Market"``.
        cumulative_quantity: filled so far.
        leaves_quantity: still to fill.
        avg_price: average fill price.
        total_fees: fees so far.
        creation_time: RFC 3339 time the order was created.
    """

    order_id: str
    client_order_id: str
    product_id: str
    status: str
    cumulative_quantity: Decimal
    leaves_quantity: Decimal
    avg_price: Decimal
    total_fees: Decimal
    order_side: str = ""
    order_type: str = ""
    creation_time: str = ""
    product_type: str = ""
    time_in_force: str = ""
    trigger_status: str = ""
    contract_expiry_type: str = ""
    risk_managed_by: str = ""
    retail_portfolio_id: str = ""
    cancel_reason: str = ""
    reject_reason: str = ""
    limit_price: str = ""
    stop_price: str = ""
    filled_value: str = ""
    outstanding_hold_amount: str = ""
    total_value_after_fees: str = ""
    completion_percentage: str = ""
    number_of_fills: str = ""
    post_only: str = ""
    start_time: str = ""
    end_time: str = ""

    def __post_init__(self) -> None:
        _finite(self.cumulative_quantity, self.leaves_quantity, self.avg_price, self.total_fees)

    @property
    def creation_time_ns(self) -> int:
        """``creation_time`` as integer nanoseconds since the epoch."""
        return rfc3339_to_ns(self.creation_time)

    @property
    def limit_price_decimal(self) -> Decimal | None:
        """``limit_price`` as a Decimal (``None`` when the order has none)."""
        return _optional_decimal(self.limit_price)

    @property
    def stop_price_decimal(self) -> Decimal | None:
        """``stop_price`` as a Decimal (``None`` when the order has none)."""
        return _optional_decimal(self.stop_price)

    @property
    def filled_value_decimal(self) -> Decimal | None:
        """``filled_value`` as a Decimal (``None`` when not sent)."""
        return _optional_decimal(self.filled_value)


class PerpetualFuturesPosition(_Wire, frozen=True, gc=False):
    """A perpetual-futures position of the ``user`` channel (numbers as the strings sent)."""

    product_id: str
    position_side: str = ""
    margin_type: str = ""
    net_size: str = ""
    buy_order_size: str = ""
    sell_order_size: str = ""
    leverage: str = ""
    mark_price: str = ""
    liquidation_price: str = ""
    vwap: str = ""
    entry_vwap: str = ""
    unrealized_pnl: str = ""
    aggregated_pnl: str = ""
    im_notional: str = ""
    mm_notional: str = ""
    position_notional: str = ""
    portfolio_uuid: str = ""


class ExpiringFuturesPosition(_Wire, frozen=True, gc=False):
    """A dated-futures position of the ``user`` channel (numbers as the strings sent)."""

    product_id: str
    side: str = ""
    number_of_contracts: str = ""
    realized_pnl: str = ""
    unrealized_pnl: str = ""
    entry_price: str = ""


class Positions(_Wire, frozen=True, gc=False):
    """The positions part of a ``user`` event (futures accounts)."""

    perpetual_futures_positions: tuple[PerpetualFuturesPosition, ...] = ()
    expiring_futures_positions: tuple[ExpiringFuturesPosition, ...] = ()


class UserEvent(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """A ``user`` event: order updates, or one batch of the open-orders snapshot.

    The snapshot's open orders arrive in batches of :data:`USER_SNAPSHOT_BATCH`
    (50) per ``"snapshot"`` event; the first batch with fewer ends the backlog
    (:attr:`ends_backlog`). Updates follow.
    """

    kind: EventKind
    orders: tuple[Order, ...] = ()
    positions: Positions | None = None

    @property
    def ends_backlog(self) -> bool:
        """True for the last batch of the snapshot (fewer than 50 orders)."""
        return self.kind == "snapshot" and len(self.orders) < USER_SNAPSHOT_BATCH


class UserMessage(_Envelope, frozen=True, gc=False, tag="user"):
    """A ``user`` message."""

    events: tuple[UserEvent, ...] = ()


# -- futures_balance_summary ---------------------------------------------------------------


class MarginWindowMeasure(_Wire, frozen=True, gc=False):
    """A margin window (intraday or overnight) of the futures balance summary."""

    margin_window_type: str
    margin_level: str
    initial_margin: Decimal
    maintenance_margin: Decimal
    liquidation_buffer_percentage: Decimal
    total_hold: Decimal
    futures_buying_power: Decimal

    def __post_init__(self) -> None:
        _finite(
            self.initial_margin,
            self.maintenance_margin,
            self.liquidation_buffer_percentage,
            self.total_hold,
            self.futures_buying_power,
        )


class FcmBalanceSummary(_Wire, frozen=True, gc=False):
    """The futures (FCM) account balance summary."""

    futures_buying_power: Decimal
    total_usd_balance: Decimal
    cbi_usd_balance: Decimal
    cfm_usd_balance: Decimal
    total_open_orders_hold_amount: Decimal
    unrealized_pnl: Decimal
    daily_realized_pnl: Decimal
    initial_margin: Decimal
    available_margin: Decimal
    liquidation_threshold: Decimal
    liquidation_buffer_amount: Decimal
    liquidation_buffer_percentage: Decimal
    intraday_margin_window_measure: MarginWindowMeasure | None = None
    overnight_margin_window_measure: MarginWindowMeasure | None = None

    def __post_init__(self) -> None:
        _finite(
            self.futures_buying_power,
            self.total_usd_balance,
            self.cbi_usd_balance,
            self.cfm_usd_balance,
            self.total_open_orders_hold_amount,
            self.unrealized_pnl,
            self.daily_realized_pnl,
            self.initial_margin,
            self.available_margin,
            self.liquidation_threshold,
            self.liquidation_buffer_amount,
            self.liquidation_buffer_percentage,
        )


class FuturesBalanceSummaryEvent(_Wire, frozen=True, gc=False, rename={"kind": "type"}):
    """A ``futures_balance_summary`` event."""

    kind: EventKind
    fcm_balance_summary: FcmBalanceSummary


class FuturesBalanceSummaryMessage(_Envelope, frozen=True, gc=False, tag="futures_balance_summary"):
    """A ``futures_balance_summary`` message."""

    events: tuple[FuturesBalanceSummaryEvent, ...] = ()


# -- subscriptions ack, errors, unknown messages --------------------------------------------


class SubscriptionsEvent(_Wire, frozen=True, gc=False):
    """Every subscription of the connection after a change: channel -> product ids.

    The ack is **cumulative** and carries no request id. A channel without
    products lists itself (``{"heartbeats": ["heartbeats"]}``).
    """

    subscriptions: dict[str, tuple[str, ...]]


class SubscriptionsMessage(_Envelope, frozen=True, gc=False, tag="subscriptions"):
    """The ``subscriptions`` ack, sent after each subscribe and unsubscribe."""

    events: tuple[SubscriptionsEvent, ...] = ()

    def current(self) -> dict[str, tuple[str, ...]]:
        """The connection's subscriptions as this ack states them (events merged)."""
        merged: dict[str, tuple[str, ...]] = {}
        for event in self.events:
            merged.update(event.subscriptions)
        return merged


class ErrorMessage(_Wire, frozen=True, gc=False, tag_field="type", tag="error"):
    """``{"type": "error", "message": "..."}``: the venue refused something we sent.

    It names no request and no channel. ``"authentication failure"`` also
    answers a misspelt channel name, not only bad credentials.
    """

    message: str = ""


class UnknownMessage(msgspec.Struct, frozen=True):
    """A message this version does not know (a new channel or shape); never dropped.

    Attributes:
        channel: its ``channel`` (or ``type``) when it has one.
        raw: the decoded JSON value.
    """

    channel: str | None
    raw: Any


CoinbaseMessage: TypeAlias = (
    L2DataMessage
    | MarketTradesMessage
    | TickerMessage
    | TickerBatchMessage
    | CandlesMessage
    | HeartbeatsMessage
    | StatusMessage
    | UserMessage
    | FuturesBalanceSummaryMessage
    | SubscriptionsMessage
)

_KNOWN: Final = frozenset(
    {
        "l2_data",
        "market_trades",
        "ticker",
        "ticker_batch",
        "candles",
        "heartbeats",
        "status",
        "user",
        "futures_balance_summary",
        "subscriptions",
    }
)

_decoder: Final = msgspec.json.Decoder(CoinbaseMessage)
_error_decoder: Final = msgspec.json.Decoder(ErrorMessage)
_encoder: Final = msgspec.json.Encoder(decimal_format="string")


def decode_message(data: str | bytes) -> CoinbaseMessage | ErrorMessage | UnknownMessage:
    """Decode one Coinbase frame, routed by its ``channel`` (or ``type``).

    Returns:
        the channel's message class, :class:`ErrorMessage` for
        ``{"type": "error"}``, or :class:`UnknownMessage` for an unknown
        channel or shape.

    Raises:
        DecodeError: the frame is not JSON, not an object, or a known
            channel's payload does not fit its model (the message names the
            field).
    """
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        first_error = exc
    except msgspec.DecodeError as exc:
        raise DecodeError(f"Coinbase message: malformed JSON ({exc})", data) from None
    return _slow_path(data, first_error)


def _slow_path(
    data: str | bytes, first_error: msgspec.ValidationError
) -> ErrorMessage | UnknownMessage:
    obj = msgspec.json.decode(data)
    if type(obj) is not dict:
        raise DecodeError(
            f"Coinbase message: expected a JSON object, got {type(obj).__name__}", data
        )
    channel = obj.get("channel")
    if channel in _KNOWN:
        raise DecodeError(f"Coinbase {channel} message: {first_error}", data)
    kind = obj.get("type")
    if channel is None and kind == "error":
        try:
            return _error_decoder.decode(data)
        except msgspec.ValidationError as exc:
            raise DecodeError(f"Coinbase error message: {exc}", data) from None
    name = channel if type(channel) is str else (kind if type(kind) is str else None)
    return UnknownMessage(name, obj)


def encode_message(message: CoinbaseMessage | ErrorMessage) -> str:
    """The JSON text of ``message`` with Coinbase's keys (fake servers, recordings, tests)."""
    return _encoder.encode(message).decode()
