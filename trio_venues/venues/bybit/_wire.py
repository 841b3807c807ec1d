"""Bybit v5 wire models: frozen msgspec Structs for every public, private and trade message.

Readable snake_case attribute names, renamed to Bybit's keys (``price``
[``p``], ``last_price`` [``lastPrice``]); prices and quantities are
:class:`~decimal.Decimal`, checked finite and in range by the venue-neutral
base :class:`~trio_venues._wirecodec.WireStruct`; order-book levels keep the
exact decimal strings Bybit sent (``("16493.50", "0.006")``), as the Binance
depth models do, and the book parses each one once. Venue timestamps are integers in milliseconds
since the epoch.

Two decode paths (see ``docs/venues/bybit.md``, "Messages"):

- **Hot messages** (``publicTrade``, ``orderbook``, ``kline``) are decoded by
  msgspec in C straight from the frame's text into their typed Struct; the
  topic prefix is read from the first bytes when Bybit puts ``"topic"`` first
  (it does on every public data message we have seen), else from the parsed
  object.
- **Everything else** is parsed once into a ``dict`` and converted. Bybit
  writes ``""`` where a numeric field has no value (an unfilled order's
  ``avgPrice``, a spot ticker's ``usdIndexPrice`` for a non-collateral coin,
  an option execution's ``tradeIv``): those keys are dropped before the
  conversion, so the typed field holds its default (``None`` for numbers).
  These messages are also converted leniently (``strict=False``): Bybit sends
  many integers and flags as strings (``"createdTime": "1672364174443"``,
  ``"isLeverage": "0"``), which become ``int``/``bool``.

Unknown keys are ignored (Bybit adds fields often); a message whose topic or
``op`` this module does not know is kept as :class:`UnknownMessage`, never
dropped. Reference: the Bybit v5 WebSocket docs (``docs/venues/bybit.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

import msgspec
import orjson

from ..._wirecodec import WireStruct

__all__ = [
    "AllLiquidation",
    "AllLiquidationMessage",
    "BookData",
    "BybitMessage",
    "Category",
    "CommandResponse",
    "CommandResult",
    "Decimal",
    "Execution",
    "ExecutionMessage",
    "Kline",
    "KlineMessage",
    "LinearTicker",
    "Liquidation",
    "LiquidationMessage",
    "MaintenanceNotice",
    "OpResponse",
    "OptionTicker",
    "Order",
    "OrderMessage",
    "OrderResult",
    "OrderbookMessage",
    "Position",
    "PositionMessage",
    "SpotTicker",
    "SpreadTicker",
    "SystemStatusMessage",
    "TickerMessage",
    "Trade",
    "TradeMessage",
    "TradeResponse",
    "UnknownMessage",
    "Wallet",
    "WalletCoin",
    "WalletMessage",
    "WireLevel",
    "decode_hot",
    "decode_message",
    "parse_frame",
    "topic_prefix",
    "ticker_type",
    "typed_message",
]

#: Where a connection points: the public market-data categories, the private
#: stream, the order-entry endpoint and the system-status endpoint.
Category: TypeAlias = Literal[
    "spot", "linear", "inverse", "option", "spread", "private", "trade", "status"
]

#: One order-book level as Bybit sends it: (price, size), exact decimal strings.
WireLevel: TypeAlias = tuple[str, str]

T = TypeVar("T")


# --------------------------------------------------------------------------------------
# Public market data
# --------------------------------------------------------------------------------------


class Trade(WireStruct, frozen=True, gc=False, kw_only=True):
    """One trade of a ``publicTrade.{symbol}`` message.

    Attributes:
        time: fill time, ms [``T``].
        symbol: [``s``].
        side: the taker's side, ``"Buy"`` or ``"Sell"`` [``S``].
        size: [``v``].
        price: [``p``].
        trade_id: [``i``].
        block_trade: a block trade [``BT``].
        tick_direction: ``"PlusTick"`` ... (derivatives only) [``L``].
        rpi: an RPI (retail price improvement) trade [``RPI``], when sent.
        seq: cross sequence [``seq``]; several messages may share one; it
            lines trades up with ``OrderbookMessage.seq``.
        mark_price, index_price, mark_iv, iv: option trades only [``mP``, ``iP``,
            ``mIv``, ``iv``].
    """

    time: int = msgspec.field(name="T")
    symbol: str = msgspec.field(name="s")
    side: str = msgspec.field(name="S")
    size: Decimal = msgspec.field(name="v")
    price: Decimal = msgspec.field(name="p")
    trade_id: str = msgspec.field(name="i")
    block_trade: bool = msgspec.field(default=False, name="BT")
    tick_direction: str | None = msgspec.field(default=None, name="L")
    rpi: bool | None = msgspec.field(default=None, name="RPI")
    seq: int | None = None
    mark_price: Decimal | None = msgspec.field(default=None, name="mP")
    index_price: Decimal | None = msgspec.field(default=None, name="iP")
    mark_iv: Decimal | None = msgspec.field(default=None, name="mIv")
    iv: Decimal | None = None


class TradeMessage(WireStruct, frozen=True, gc=False, kw_only=True):
    """A ``publicTrade.{symbol}`` message: up to 1,024 trades, oldest first.

    Attributes:
        topic: e.g. ``"publicTrade.BTCUSDT"`` (options: ``"publicTrade.BTC"``).
        type: ``"snapshot"``.
        ts: when Bybit generated the message, ms.
        trades: [``data``].
        id: message id (options only).
    """

    topic: str
    ts: int
    trades: tuple[Trade, ...] = msgspec.field(name="data")
    type: str = "snapshot"
    id: str | None = None


class BookData(WireStruct, frozen=True, gc=False, kw_only=True):
    """The ``data`` of an ``orderbook`` message.

    Attributes:
        symbol: [``s``].
        bids: best first, exact strings; size ``"0"`` deletes the level [``b``].
        asks: best first [``a``].
        update_id: [``u``]; ``1`` marks a snapshot after a service restart.
        seq: cross sequence, comparable across depths and with trades.
    """

    symbol: str = msgspec.field(name="s")
    bids: tuple[WireLevel, ...] = msgspec.field(name="b")
    asks: tuple[WireLevel, ...] = msgspec.field(name="a")
    update_id: int = msgspec.field(name="u")
    seq: int | None = None


class OrderbookMessage(WireStruct, frozen=True, gc=False, kw_only=True):
    """An ``orderbook.{depth}.{symbol}`` snapshot or delta.

    Attributes:
        topic: e.g. ``"orderbook.50.BTCUSDT"``.
        type: ``"snapshot"`` (reset the book) or ``"delta"``.
        ts: when Bybit generated it, ms.
        book: the levels and ids [``data``]; ``symbol``, ``bids``, ``asks``,
            ``update_id`` and ``seq`` are also readable on the message itself.
        cts: the matching engine's timestamp, ms (lines up with trade ``time``).
    """

    topic: str
    type: str
    ts: int
    book: BookData = msgspec.field(name="data")
    cts: int | None = None

    @property
    def is_snapshot(self) -> bool:
        """Whether this message replaces the whole book."""
        return self.type == "snapshot"

    @property
    def symbol(self) -> str:
        """The symbol [``data.s``]."""
        return self.book.symbol

    @property
    def bids(self) -> tuple[WireLevel, ...]:
        """Bid levels, exact strings [``data.b``]."""
        return self.book.bids

    @property
    def asks(self) -> tuple[WireLevel, ...]:
        """Ask levels, exact strings [``data.a``]."""
        return self.book.asks

    @property
    def update_id(self) -> int:
        """The update id [``data.u``]."""
        return self.book.update_id

    @property
    def seq(self) -> int | None:
        """The cross sequence [``data.seq``]."""
        return self.book.seq


class SpotTicker(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """A spot ``tickers.{symbol}`` payload (always a whole snapshot)."""

    symbol: str
    last_price: Decimal | None = None
    high_price_24h: Decimal | None = msgspec.field(default=None, name="highPrice24h")
    low_price_24h: Decimal | None = msgspec.field(default=None, name="lowPrice24h")
    prev_price_24h: Decimal | None = msgspec.field(default=None, name="prevPrice24h")
    volume_24h: Decimal | None = msgspec.field(default=None, name="volume24h")
    turnover_24h: Decimal | None = msgspec.field(default=None, name="turnover24h")
    price_24h_pcnt: Decimal | None = msgspec.field(default=None, name="price24hPcnt")
    usd_index_price: Decimal | None = None


class LinearTicker(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """A linear or inverse ``tickers.{symbol}`` payload.

    Bybit sends a snapshot, then deltas that carry only the fields that
    changed; a :class:`~trio_venues.venues.bybit.TickerMerger` turns them
    back into whole tickers. ``None`` means "not in this message" (or sent as
    ``""``: no value).
    """

    symbol: str
    tick_direction: str | None = None
    price_24h_pcnt: Decimal | None = msgspec.field(default=None, name="price24hPcnt")
    last_price: Decimal | None = None
    prev_price_24h: Decimal | None = msgspec.field(default=None, name="prevPrice24h")
    high_price_24h: Decimal | None = msgspec.field(default=None, name="highPrice24h")
    low_price_24h: Decimal | None = msgspec.field(default=None, name="lowPrice24h")
    prev_price_1h: Decimal | None = msgspec.field(default=None, name="prevPrice1h")
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    open_interest: Decimal | None = None
    open_interest_value: Decimal | None = None
    turnover_24h: Decimal | None = msgspec.field(default=None, name="turnover24h")
    volume_24h: Decimal | None = msgspec.field(default=None, name="volume24h")
    funding_interval_hour: int | None = None
    funding_cap: Decimal | None = None
    next_funding_time: int | None = None
    funding_rate: Decimal | None = None
    bid1_price: Decimal | None = None
    bid1_size: Decimal | None = None
    ask1_price: Decimal | None = None
    ask1_size: Decimal | None = None
    delivery_time: str | None = None
    basis_rate: Decimal | None = None
    delivery_fee_rate: Decimal | None = None
    predicted_delivery_price: Decimal | None = None
    pre_open_price: Decimal | None = None
    pre_qty: Decimal | None = None
    cur_pre_listing_phase: str | None = None


class OptionTicker(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """An option ``tickers.{symbol}`` payload (always a whole snapshot)."""

    symbol: str
    bid_price: Decimal | None = None
    bid_size: Decimal | None = None
    bid_iv: Decimal | None = None
    ask_price: Decimal | None = None
    ask_size: Decimal | None = None
    ask_iv: Decimal | None = None
    last_price: Decimal | None = None
    high_price_24h: Decimal | None = msgspec.field(default=None, name="highPrice24h")
    low_price_24h: Decimal | None = msgspec.field(default=None, name="lowPrice24h")
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    mark_price_iv: Decimal | None = None
    underlying_price: Decimal | None = None
    open_interest: Decimal | None = None
    turnover_24h: Decimal | None = msgspec.field(default=None, name="turnover24h")
    volume_24h: Decimal | None = msgspec.field(default=None, name="volume24h")
    total_volume: Decimal | None = None
    total_turnover: Decimal | None = None
    delta: Decimal | None = None
    gamma: Decimal | None = None
    vega: Decimal | None = None
    theta: Decimal | None = None
    predicted_delivery_price: Decimal | None = None
    change_24h: Decimal | None = msgspec.field(default=None, name="change24h")


class SpreadTicker(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """A spread ``tickers.{symbol}`` payload (always a whole snapshot)."""

    symbol: str
    bid_price: Decimal | None = None
    bid_size: Decimal | None = None
    ask_price: Decimal | None = None
    ask_size: Decimal | None = None
    last_price: Decimal | None = None
    high_price_24h: Decimal | None = msgspec.field(default=None, name="highPrice24h")
    low_price_24h: Decimal | None = msgspec.field(default=None, name="lowPrice24h")
    prev_price_24h: Decimal | None = msgspec.field(default=None, name="prevPrice24h")
    volume_24h: Decimal | None = msgspec.field(default=None, name="volume24h")


class TickerMessage(WireStruct, Generic[T], frozen=True, gc=False, kw_only=True):
    """A ``tickers.{symbol}`` message; ``ticker`` is typed by the connection's category.

    Attributes:
        topic: e.g. ``"tickers.BTCUSDT"``.
        type: ``"snapshot"`` or (linear/inverse) ``"delta"``.
        ts: when Bybit generated it, ms.
        ticker: [``data``]: :class:`SpotTicker`, :class:`LinearTicker`,
            :class:`OptionTicker` or :class:`SpreadTicker`. On linear/inverse
            connections the client delivers it merged: always the whole ticker.
        cs: cross sequence (spot, linear, inverse).
        id: message id (options).
        delta: linear/inverse only, as delivered by the client: the fields
            this message carried (``None`` for a snapshot). Never on the wire.
    """

    topic: str
    ts: int
    ticker: T = msgspec.field(name="data")
    type: str = "snapshot"
    cs: int | None = None
    id: str | None = None
    delta: T | None = msgspec.field(default=None, name="trio_venues.delta")


class Kline(WireStruct, frozen=True, gc=False, kw_only=True):
    """One candle of a ``kline.{interval}.{symbol}`` message.

    Attributes:
        start, end: the candle's bounds, ms (``end`` is "now" while it is open).
        interval: ``"1"`` ... ``"720"``, ``"D"``, ``"W"``, ``"M"``.
        open, close, high, low: prices.
        volume, turnover: traded size and value.
        confirm: ``True`` once the candle is closed.
        timestamp: time of the last fill in the candle, ms.
    """

    start: int
    end: int
    interval: str
    open: Decimal
    close: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    turnover: Decimal
    confirm: bool
    timestamp: int


class KlineMessage(WireStruct, frozen=True, gc=False, kw_only=True):
    """A ``kline.{interval}.{symbol}`` message; ``klines`` [``data``]."""

    topic: str
    ts: int
    klines: tuple[Kline, ...] = msgspec.field(name="data")
    type: str = "snapshot"


class Liquidation(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """The payload of the older ``liquidation.{symbol}`` topic (one liquidation)."""

    symbol: str
    side: str
    size: Decimal
    price: Decimal
    updated_time: int


class LiquidationMessage(WireStruct, frozen=True, gc=False, kw_only=True):
    """A ``liquidation.{symbol}`` message; ``liquidation`` [``data``]."""

    topic: str
    ts: int
    liquidation: Liquidation = msgspec.field(name="data")
    type: str = "snapshot"


class AllLiquidation(WireStruct, frozen=True, gc=False, kw_only=True):
    """One liquidation of an ``allLiquidation.{symbol}`` message.

    Attributes:
        time: [``T``], ms.
        symbol: [``s``].
        side: the liquidated position's side; ``"Buy"`` means a long was
            liquidated [``S``].
        size: [``v``].
        price: the bankruptcy price [``p``].
    """

    time: int = msgspec.field(name="T")
    symbol: str = msgspec.field(name="s")
    side: str = msgspec.field(name="S")
    size: Decimal = msgspec.field(name="v")
    price: Decimal = msgspec.field(name="p")


class AllLiquidationMessage(WireStruct, frozen=True, gc=False, kw_only=True):
    """An ``allLiquidation.{symbol}`` message (every 500 ms); ``liquidations`` [``data``]."""

    topic: str
    ts: int
    liquidations: tuple[AllLiquidation, ...] = msgspec.field(name="data")
    type: str = "snapshot"


class MaintenanceNotice(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """One planned maintenance of a ``system.status`` message.

    Attributes:
        id: the notice's id.
        title: its title.
        state: ``"scheduled"``, ``"ongoing"``, ``"completed"`` ...
        begin, end: the window, ms (Bybit sends them as strings).
        href: a link to the announcement (may be empty).
        service_types, product: Bybit's enumerations of what is affected.
        uid_suffix: the affected account groups, when not everyone.
        maintain_type, env: Bybit's enumerations of the kind and environment.
    """

    id: str
    title: str = ""
    state: str = ""
    begin: int | None = None
    end: int | None = None
    href: str = ""
    service_types: tuple[int, ...] = ()
    product: tuple[int, ...] = ()
    uid_suffix: tuple[int, ...] = ()
    maintain_type: int | None = None
    env: int | None = None


class SystemStatusMessage(WireStruct, frozen=True, gc=False, kw_only=True):
    """A ``system.status`` message (``/v5/public/misc/status``); ``notices`` [``data``]."""

    topic: str
    ts: int
    notices: tuple[MaintenanceNotice, ...] = msgspec.field(name="data")


# --------------------------------------------------------------------------------------
# Private streams (/v5/private)
# --------------------------------------------------------------------------------------


class Order(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """One order update of the private ``order`` topic (empty values are ``None``/``""``)."""

    category: str = ""
    symbol: str
    order_id: str
    order_link_id: str = ""
    block_trade_id: str = ""
    side: str = ""
    order_type: str = ""
    order_status: str = ""
    cancel_type: str = ""
    reject_reason: str = ""
    time_in_force: str = ""
    stop_order_type: str = ""
    price: Decimal | None = None
    qty: Decimal | None = None
    avg_price: Decimal | None = None
    leaves_qty: Decimal | None = None
    leaves_value: Decimal | None = None
    cum_exec_qty: Decimal | None = None
    cum_exec_value: Decimal | None = None
    cum_exec_fee: Decimal | None = None
    order_iv: Decimal | None = None
    trigger_price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: str = ""
    sl_trigger_by: str = ""
    trigger_by: str = ""
    trigger_direction: int | None = None
    last_price_on_created: Decimal | None = None
    position_idx: int | None = None
    reduce_only: bool | None = None
    close_on_trigger: bool | None = None
    is_leverage: bool | None = None
    created_time: int | None = None
    updated_time: int | None = None


class Execution(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """One fill of the private ``execution`` topic."""

    category: str = ""
    symbol: str
    exec_id: str
    order_id: str = ""
    order_link_id: str = ""
    side: str = ""
    order_type: str = ""
    stop_order_type: str = ""
    exec_type: str = ""
    exec_price: Decimal | None = None
    exec_qty: Decimal | None = None
    exec_value: Decimal | None = None
    exec_fee: Decimal | None = None
    fee_rate: Decimal | None = None
    order_price: Decimal | None = None
    order_qty: Decimal | None = None
    leaves_qty: Decimal | None = None
    is_maker: bool | None = None
    is_leverage: bool | None = None
    trade_iv: Decimal | None = None
    mark_iv: Decimal | None = None
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    underlying_price: Decimal | None = None
    block_trade_id: str = ""
    exec_time: int | None = None
    seq: int | None = None


class Position(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """One position update of the private ``position`` topic."""

    category: str = ""
    symbol: str
    side: str = ""
    size: Decimal | None = None
    position_idx: int | None = None
    trade_mode: int | None = None
    position_value: Decimal | None = None
    risk_id: int | None = None
    risk_limit_value: Decimal | None = None
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    leverage: Decimal | None = None
    position_balance: Decimal | None = None
    auto_add_margin: int | None = None
    position_mm: Decimal | None = msgspec.field(default=None, name="positionMM")
    position_im: Decimal | None = msgspec.field(default=None, name="positionIM")
    liq_price: Decimal | None = None
    bust_price: Decimal | None = None
    tpsl_mode: str = ""
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: Decimal | None = None
    unrealised_pnl: Decimal | None = None
    cur_realised_pnl: Decimal | None = None
    cum_realised_pnl: Decimal | None = None
    session_avg_price: Decimal | None = None
    position_status: str = ""
    adl_rank_indicator: int | None = None
    is_reduce_only: bool | None = None
    created_time: int | None = None
    updated_time: int | None = None
    seq: int | None = None


class WalletCoin(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """One coin of a ``wallet`` update."""

    coin: str
    equity: Decimal | None = None
    usd_value: Decimal | None = None
    wallet_balance: Decimal | None = None
    free: Decimal | None = None
    locked: Decimal | None = None
    borrow_amount: Decimal | None = None
    available_to_borrow: Decimal | None = None
    available_to_withdraw: Decimal | None = None
    accrued_interest: Decimal | None = None
    total_order_im: Decimal | None = msgspec.field(default=None, name="totalOrderIM")
    total_position_im: Decimal | None = msgspec.field(default=None, name="totalPositionIM")
    total_position_mm: Decimal | None = msgspec.field(default=None, name="totalPositionMM")
    unrealised_pnl: Decimal | None = None
    cum_realised_pnl: Decimal | None = None
    bonus: Decimal | None = None


class Wallet(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """One account of a ``wallet`` update."""

    account_type: str = ""
    account_ltv: Decimal | None = msgspec.field(default=None, name="accountLTV")
    account_im_rate: Decimal | None = msgspec.field(default=None, name="accountIMRate")
    account_mm_rate: Decimal | None = msgspec.field(default=None, name="accountMMRate")
    total_equity: Decimal | None = None
    total_wallet_balance: Decimal | None = None
    total_margin_balance: Decimal | None = None
    total_available_balance: Decimal | None = None
    total_perp_upl: Decimal | None = msgspec.field(default=None, name="totalPerpUPL")
    total_initial_margin: Decimal | None = None
    total_maintenance_margin: Decimal | None = None
    coins: tuple[WalletCoin, ...] = msgspec.field(default=(), name="coin")


class _PrivateEnvelope(WireStruct, frozen=True, gc=False, kw_only=True):
    topic: str
    id: str = ""
    creation_time: int | None = msgspec.field(default=None, name="creationTime")


class OrderMessage(_PrivateEnvelope, frozen=True, gc=False, kw_only=True):
    """A private ``order`` (or ``order.{category}``) message; ``orders`` [``data``]."""

    orders: tuple[Order, ...] = msgspec.field(name="data")


class ExecutionMessage(_PrivateEnvelope, frozen=True, gc=False, kw_only=True):
    """A private ``execution`` (or ``execution.{category}``) message; ``executions`` [``data``]."""

    executions: tuple[Execution, ...] = msgspec.field(name="data")


class PositionMessage(_PrivateEnvelope, frozen=True, gc=False, kw_only=True):
    """A private ``position`` (or ``position.{category}``) message; ``positions`` [``data``]."""

    positions: tuple[Position, ...] = msgspec.field(name="data")


class WalletMessage(_PrivateEnvelope, frozen=True, gc=False, kw_only=True):
    """A private ``wallet`` message; ``wallets`` [``data``]."""

    wallets: tuple[Wallet, ...] = msgspec.field(name="data")


# --------------------------------------------------------------------------------------
# Acks, pongs and errors
# --------------------------------------------------------------------------------------


class OpResponse(WireStruct, frozen=True, gc=False, kw_only=True):
    """A reply with an ``op``: subscribe/unsubscribe/auth acks and pongs (snake_case envelope).

    Shapes (``docs/venues/bybit.md``, "Acks and pongs"):

    - spot ack: ``success``, ``ret_msg="subscribe"``, ``conn_id``, ``req_id``, ``op``;
    - linear/inverse ack: the same with ``ret_msg=""`` (and ``req_id=""`` when none was sent);
    - private ack and auth ack: ``success``, ``ret_msg``, ``op``, ``conn_id``;
    - spot/linear pong: ``op="ping"``, ``ret_msg="pong"``;
    - private and option/spread pong: ``op="pong"``, ``args=[server ms]``;
    - a failure: ``success=False`` and the reason in ``ret_msg``.
    """

    op: str
    success: bool | None = None
    ret_msg: str = ""
    conn_id: str = ""
    req_id: str | None = None
    args: tuple[Any, ...] = ()

    @property
    def is_pong(self) -> bool:
        """Whether this answers our ``{"op": "ping"}``."""
        return self.op == "pong" or (self.op == "ping" and self.ret_msg == "pong")


class CommandResult(WireStruct, frozen=True, gc=False, kw_only=True):
    """The per-topic outcome of an option/spread command [``data``]."""

    success_topics: tuple[str, ...] = msgspec.field(default=(), name="successTopics")
    fail_topics: tuple[str, ...] = msgspec.field(default=(), name="failTopics")


class CommandResponse(WireStruct, frozen=True, gc=False, kw_only=True):
    """An option/spread subscribe/unsubscribe ack (``"type": "COMMAND_RESP"``)."""

    type: str
    success: bool = False
    conn_id: str = ""
    result: CommandResult = msgspec.field(default_factory=CommandResult, name="data")
    ret_msg: str = ""
    req_id: str | None = None
    op: str | None = None


class TradeResponse(WireStruct, frozen=True, gc=False, kw_only=True):
    """A reply of the order-entry endpoint ``/v5/trade`` (camelCase envelope).

    Attributes:
        op: ``"auth"``, ``"pong"``, ``"order.create"`` ...
        ret_code: ``0`` for success [``retCode``].
        ret_msg: [``retMsg``].
        req_id: our ``reqId``, echoed when we sent one [``reqId``].
        data: the business result, as REST's ``result`` (pong: ``[server ms]``).
        ret_ext_info: per-item outcomes of batch requests [``retExtInfo``].
        header: rate-limit headers (``X-Bapi-Limit-Status`` ...).
        conn_id: [``connId``].
    """

    op: str
    ret_code: int = msgspec.field(name="retCode")
    ret_msg: str = msgspec.field(default="", name="retMsg")
    req_id: str | None = msgspec.field(default=None, name="reqId")
    data: Any = None
    ret_ext_info: Any = msgspec.field(default=None, name="retExtInfo")
    header: dict[str, str] | None = None
    conn_id: str = msgspec.field(default="", name="connId")


class OrderResult(WireStruct, frozen=True, gc=False, kw_only=True, rename="camel"):
    """The ``data`` of an ``order.create``/``amend``/``cancel`` reply: the order's ids."""

    order_id: str
    order_link_id: str = ""


class UnknownMessage(WireStruct, frozen=True, gc=False):
    """A message this version does not know: the parsed JSON, kept whole."""

    data: Any


#: Everything :func:`decode_message` returns.
BybitMessage: TypeAlias = (
    TradeMessage
    | OrderbookMessage
    | TickerMessage[Any]
    | KlineMessage
    | LiquidationMessage
    | AllLiquidationMessage
    | SystemStatusMessage
    | OrderMessage
    | ExecutionMessage
    | PositionMessage
    | WalletMessage
    | OpResponse
    | CommandResponse
    | TradeResponse
    | UnknownMessage
)


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------

_HOT_DECODERS: Final[Mapping[str, msgspec.json.Decoder[Any]]] = {
    "publicTrade": msgspec.json.Decoder(TradeMessage),
    "orderbook": msgspec.json.Decoder(OrderbookMessage),
    "kline": msgspec.json.Decoder(KlineMessage),
}

_TICKER_TYPES: Final[Mapping[str, type[Any]]] = {
    "spot": SpotTicker,
    "linear": LinearTicker,
    "inverse": LinearTicker,
    "option": OptionTicker,
    "spread": SpreadTicker,
}

_TICKER_MESSAGES: Final[Mapping[str, Any]] = {
    category: TickerMessage[cls]  # type: ignore[valid-type]
    for category, cls in _TICKER_TYPES.items()
}

#: Topic prefix -> the message class of the ``dict`` path (tickers are per category).
_TOPIC_TYPES: Final[Mapping[str, type[Any]]] = {
    "publicTrade": TradeMessage,
    "orderbook": OrderbookMessage,
    "kline": KlineMessage,
    "liquidation": LiquidationMessage,
    "allLiquidation": AllLiquidationMessage,
    "system": SystemStatusMessage,
    "order": OrderMessage,
    "execution": ExecutionMessage,
    "position": PositionMessage,
    "wallet": WalletMessage,
}
#: Messages Bybit fills with ``""`` for "no value": converted leniently (module docstring).
_LENIENT: Final = frozenset(
    {"tickers", "system", "order", "execution", "position", "wallet", "liquidation"}
)
_TOPIC_START: Final = '{"topic":"'


def ticker_type(category: str) -> type[Any]:
    """The ticker payload class of ``category`` (:class:`SpotTicker` ...)."""
    try:
        return _TICKER_TYPES[category]
    except KeyError:
        raise ValueError(f"category {category!r} has no tickers") from None


def _drop_empty(value: Any) -> Any:
    """A copy of ``value`` without the ``""`` values of its objects, recursively."""
    if type(value) is dict:
        return {k: _drop_empty(v) for k, v in value.items() if v != ""}
    if type(value) is list:
        return [_drop_empty(item) for item in value]
    return value


def parse_frame(data: str | bytes) -> Any:
    """Parse one frame's JSON text (``orjson``); ``ValueError`` when it is not JSON."""
    return orjson.loads(data)


def topic_prefix(topic: str) -> str:
    """The family of ``topic``: ``"orderbook"`` for ``"orderbook.50.BTCUSDT"``."""
    return topic.partition(".")[0]


def typed_message(obj: Any, category: str) -> BybitMessage:
    """Turn one parsed message (a ``dict``) into its typed Struct.

    Raises:
        msgspec.ValidationError: a known message with a missing or mistyped field
            (a ``ValueError``; the message names the field, e.g. ``$.data[0].p``).
        TypeError: ``obj`` is not a JSON object.
    """
    if type(obj) is not dict:
        raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
    topic = obj.get("topic")
    if type(topic) is str:
        prefix = topic_prefix(topic)
        if prefix == "tickers":
            if category not in _TICKER_TYPES:
                return UnknownMessage(obj)
            return msgspec.convert(_drop_empty(obj), _TICKER_MESSAGES[category], strict=False)  # type: ignore[no-any-return]
        cls = _TOPIC_TYPES.get(prefix)
        if cls is None:
            return UnknownMessage(obj)
        if prefix in _LENIENT:
            return msgspec.convert(_drop_empty(obj), cls, strict=False)  # type: ignore[no-any-return]
        return msgspec.convert(obj, cls)  # type: ignore[no-any-return]
    if obj.get("type") == "COMMAND_RESP":
        return msgspec.convert(obj, CommandResponse)
    if "retCode" in obj and type(obj.get("op")) is str:
        return msgspec.convert(obj, TradeResponse)
    if type(obj.get("op")) is str:
        return msgspec.convert(obj, OpResponse)
    return UnknownMessage(obj)


def decode_hot(data: str) -> TradeMessage | OrderbookMessage | KlineMessage | None:
    """Decode ``data`` in one pass when it is a hot message with its topic first, else ``None``.

    Raises:
        msgspec.ValidationError: a hot message with a missing or mistyped field.
    """
    if data.startswith(_TOPIC_START):
        end = data.find('"', 10)
        if end > 0:
            decoder = _HOT_DECODERS.get(topic_prefix(data[10:end]))
            if decoder is not None:
                return decoder.decode(data)  # type: ignore[no-any-return]
    return None


def decode_message(data: str | bytes, category: str) -> BybitMessage:
    """Decode one frame of a ``category`` connection into its typed Struct.

    Public data messages whose text starts with their ``topic`` (as Bybit
    sends them) and whose family is hot (trades, books, klines) are decoded
    in one pass from the text; everything else is parsed, routed by
    ``topic``, ``type`` (``COMMAND_RESP``), ``retCode`` or ``op``, and
    converted. Linear/inverse tickers come back as sent: merge deltas with a
    :class:`~trio_venues.venues.bybit.TickerMerger`.

    Raises:
        ValueError: not JSON, or a known message with a missing or mistyped
            field (``msgspec.ValidationError`` names the path).
        TypeError: not a JSON object.
    """
    if type(data) is str:
        hot = decode_hot(data)
        if hot is not None:
            return hot
    return typed_message(parse_frame(data), category)
