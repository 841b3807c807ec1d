"""OKX v5 wire models: frozen msgspec Structs for every channel, ack and event we decode.

Every class documents each field with its wire key in brackets (``price``
[``px``]). The classes are :class:`~trio_venues._wirecodec.WireStruct`
subclasses, so every ``Decimal`` field is checked (finite, bounded exponent)
and a bad frame is a ``DecodeError`` naming the field's path.
Prices, sizes and amounts are :class:`~decimal.Decimal`; order-book
levels keep the exact strings OKX sent (``("8476.98", "415", "0", "13")``), as
the book parses each level once itself and the legacy checksum is computed over
the raw strings. OKX sends its millisecond timestamps and counters as JSON
strings (``"ts": "1597026383085"``); they are decoded into ``int`` (and
``"0"``/``"1"``, ``"true"``/``"false"`` flags into ``bool``), in C, by
msgspec's lax mode, which never turns a number into a ``str`` field: error
codes stay the strings OKX sends (``"60012"``).

Two decode paths (see ``docs/venues/okx.md``, "Messages"):

- **market data at rate** (``trades``, ``trades-all``, the book channels and
  candles) decodes straight from the frame text into its Struct;
- **everything else** (tickers, mark price, index, funding, open interest,
  liquidation orders, instruments, the private channels, order-entry
  replies) first decodes into plain JSON
  values, where an empty string (OKX's spelling of "does not apply", e.g.
  ``"avgPx": ""`` on an unfilled order) becomes ``None``, and is then converted
  to its Struct. Those fields are typed ``X | None``.

A channel this version does not know arrives as :class:`UnknownMessage`, with
its argument, never dropped; so does an event (``"event": ...``) it does not know.

Reference: ``docs/venues/okx.md`` (OKX v5 WebSocket API).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

import msgspec

from ..._wirecodec import DECODE_ERRORS, WireStruct, decode_error, plain_decimal

__all__ = [
    "INST_TYPES",
    "Account",
    "AccountDetail",
    "Arg",
    "BalanceAndPosition",
    "BalanceData",
    "BookLevel",
    "BookMessage",
    "Candle",
    "CANDLE_BARS",
    "CHECKSUM_DEPTH",
    "ChannelConnCount",
    "ChannelConnCountError",
    "Decoded",
    "ErrorMessage",
    "FundingRate",
    "IndexTicker",
    "Instrument",
    "Instruments",
    "LiquidationDetail",
    "LiquidationOrder",
    "LoginAck",
    "MarkPrice",
    "Notice",
    "OpenInterest",
    "OpResponse",
    "Order",
    "OrderResult",
    "Position",
    "PositionData",
    "Push",
    "SubscribeAck",
    "Ticker",
    "Trade",
    "TradeRef",
    "UnknownMessage",
    "UnsubscribeAck",
    "WireLevel",
    "book_checksum",
    "checksum_string",
    "decode_frame",
    "decode_push",
]

#: ``instType`` values OKX accepts in subscription arguments [OKX-WS "Subscribe"].
INST_TYPES: Final = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"})

#: Candle bars of the ``candle<bar>`` channels, case-sensitive [OKX-CD].
CANDLE_BARS: Final = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1H",
    "2H",
    "4H",
    "6H",
    "12H",
    "1D",
    "2D",
    "3D",
    "5D",
    "1W",
    "1M",
    "3M",
    "6Hutc",
    "12Hutc",
    "1Dutc",
    "2Dutc",
    "3Dutc",
    "5Dutc",
    "1Wutc",
    "1Mutc",
    "3Mutc",
)

#: One order-book level as OKX sends it: (price, size, deprecated "0", number of orders).
WireLevel: TypeAlias = tuple[str, str, str, str]
#: One parsed order-book level: (price, size). Size ``0`` removes the level.
BookLevel: TypeAlias = tuple[Decimal, Decimal]

T = TypeVar("T")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _rename(overrides: Mapping[str, str]) -> Callable[[str], str]:
    """A msgspec ``rename``: the readable name's OKX key (``overrides`` first, else camelCase)."""

    def rename(name: str) -> str:
        return overrides.get(name) or _camel(name)

    return rename


# Readable names whose OKX key is not their camelCase spelling.
_KEYS: Final[Mapping[str, str]] = {
    "price": "px",
    "size": "sz",
    "last_size": "lastSz",
    "ask_price": "askPx",
    "ask_size": "askSz",
    "bid_price": "bidPx",
    "bid_size": "bidSz",
    "open_24h": "open24h",
    "high_24h": "high24h",
    "low_24h": "low24h",
    "volume_ccy_24h": "volCcy24h",
    "volume_24h": "vol24h",
    "mark_price": "markPx",
    "index_price": "idxPx",
    "acc_fill_size": "accFillSz",
    "fill_price": "fillPx",
    "fill_size": "fillSz",
    "avg_price": "avgPx",
    "liq_price": "liqPx",
    "open_interest": "oi",
    "open_interest_ccy": "oiCcy",
    "open_interest_usd": "oiUsd",
    "position": "pos",
    "avail_position": "availPos",
    "error_code": "code",
    "message": "msg",
    "s_code": "sCode",
    "s_msg": "sMsg",
    "created_time": "cTime",
    "updated_time": "uTime",
    "push_time": "pTime",
    "underlying": "uly",
    "contract_value": "ctVal",
    "contract_multiplier": "ctMult",
    "contract_value_ccy": "ctValCcy",
    "contract_type": "ctType",
    "option_type": "optType",
    "strike": "stk",
    "tick_size": "tickSz",
    "lot_size": "lotSz",
    "min_size": "minSz",
    "expiry_time": "expTime",
    "bankruptcy_price": "bkPx",
    "bankruptcy_loss": "bkLoss",
}
_RENAME: Final = _rename(_KEYS)


# --------------------------------------------------------------------------------------
# Subscription arguments
# --------------------------------------------------------------------------------------


class Arg(WireStruct, frozen=True, gc=False, omit_defaults=True, rename=_RENAME):
    """A subscription argument, as sent in ``args`` and echoed in ``arg``.

    Attributes:
        channel: the channel, e.g. ``"trades"`` or ``"candle1m"`` [``channel``].
        inst_id: the instrument, e.g. ``"BTC-USDT"`` [``instId``].
        inst_type: ``SPOT``, ``MARGIN``, ``SWAP``, ``FUTURES``, ``OPTION`` or ``ANY``
            [``instType``].
        inst_family: the instrument family, e.g. ``"BTC-USD"`` [``instFamily``].
        ccy: a currency (the ``account`` channel) [``ccy``].
        uid: the user id OKX adds to private pushes; not part of the topic [``uid``].
    """

    channel: str
    inst_id: str | None = None
    inst_type: str | None = None
    inst_family: str | None = None
    ccy: str | None = None
    uid: str | None = None


# --------------------------------------------------------------------------------------
# Public market data
# --------------------------------------------------------------------------------------


class Trade(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """One trade from ``trades`` (aggregated per taker order and price) or ``trades-all``.

    Attributes:
        inst_id: the instrument [``instId``].
        trade_id: the trade id, the last one in an aggregation [``tradeId``].
        price: the price [``px``].
        size: the size [``sz``].
        side: the taker's side, ``"buy"`` or ``"sell"`` [``side``].
        ts: when the trade happened, ms since the epoch [``ts``].
        count: how many trades were aggregated (``trades`` only) [``count``].
        source: ``"0"`` normal order, ``"1"`` enhanced liquidity programme [``source``].
        seq_id: the push sequence id (``trades`` only) [``seqId``].
    """

    inst_id: str
    trade_id: str
    price: Decimal
    size: Decimal
    side: Literal["buy", "sell"]
    ts: int
    count: int | None = None
    source: str | None = None
    seq_id: int | None = None


class Ticker(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """The latest price, best bid/ask and 24 h figures from ``tickers``.

    Attributes:
        inst_type: the instrument type [``instType``].
        inst_id: the instrument [``instId``].
        last: the last traded price [``last``].
        last_size: the last traded size [``lastSz``].
        ask_price: the best ask price [``askPx``].
        ask_size: the best ask size [``askSz``].
        bid_price: the best bid price [``bidPx``].
        bid_size: the best bid size [``bidSz``].
        open_24h: the open price 24 h ago [``open24h``].
        high_24h: the 24 h high [``high24h``].
        low_24h: the 24 h low [``low24h``].
        volume_ccy_24h: the 24 h volume in currency [``volCcy24h``].
        volume_24h: the 24 h volume in contracts or base [``vol24h``].
        sod_utc0: the open price at 00:00 UTC [``sodUtc0``].
        sod_utc8: the open price at 00:00 UTC+8 [``sodUtc8``].
        ts: when the data was generated, ms [``ts``].

    Every price and size is ``None`` when OKX sends ``""`` (no trade yet, an
    empty side of the book).
    """

    inst_type: str
    inst_id: str
    last: Decimal | None
    last_size: Decimal | None
    ask_price: Decimal | None
    ask_size: Decimal | None
    bid_price: Decimal | None
    bid_size: Decimal | None
    open_24h: Decimal | None
    high_24h: Decimal | None
    low_24h: Decimal | None
    volume_ccy_24h: Decimal | None
    volume_24h: Decimal | None
    sod_utc0: Decimal | None
    sod_utc8: Decimal | None
    ts: int


class Candle(WireStruct, frozen=True, gc=False, array_like=True):
    """One candle row of a ``candle<bar>`` channel (the bar is in the topic).

    OKX sends each row as an array of strings: nine items today
    (``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``) and seven in
    older data (``[ts, o, h, l, c, vol, volCcy]``); for seven-item rows
    ``volume_quote`` and ``confirmed`` are ``None``. An eight-item row is
    refused (its eighth item could be either field).

    The row names neither the instrument nor the bar: the decoder fills
    ``inst_id`` and ``bar`` from the push's argument (``candle1m`` ->
    ``"1m"``), so that the item alone says what it is (the unifier needs
    that). A row with more than nine items is refused.

    Attributes:
        ts: the candle's open time, ms.
        open: the open price.
        high: the high price.
        low: the low price.
        close: the close (latest) price.
        volume: the volume in contracts (derivatives) or base currency (spot).
        volume_ccy: the volume in currency.
        volume_quote: the volume in quote currency.
        confirmed: ``True`` when the candle is complete (``"1"``), ``False``
            while it is still forming (``"0"``).
        inst_id: the instrument, from the push's argument.
        bar: the bar (``"1m"``, ``"1H"``, ``"1Dutc"`` ...), from the push's channel.
    """

    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    volume_ccy: Decimal
    volume_quote: Decimal | None = None
    confirmed: bool | None = None
    inst_id: str | None = None
    bar: str | None = None

    def __post_init__(self) -> None:
        # Runs after WireStruct's Decimal checks.
        if self.volume_quote is not None and self.confirmed is None:
            raise ValueError("a candle row has 7 or 9 items, not 8")


class BookMessage(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """Order-book data from ``books``, ``books5``, ``bbo-tbt`` and the ``*-l2-tbt`` channels.

    Levels are exact strings, ``(price, size, "0", order_count)`` as OKX sends
    them (the third item is deprecated and always ``"0"``); size ``"0"``
    deletes the level. :meth:`decimal_bids`/:meth:`decimal_asks` parse them.

    Attributes:
        action: ``"snapshot"`` or ``"update"`` (the message's [``action``]);
            ``books5`` and ``bbo-tbt`` send full snapshots without one, and
            read ``"snapshot"``.
        asks: ask levels, best (lowest) first [``asks``].
        bids: bid levels, best (highest) first [``bids``].
        ts: when the book was generated, ms [``ts``].
        checksum: the legacy CRC32 of the top 25 levels; ``0`` means absent
            (OKX fixed it at 0 in 2026) [``checksum``].
        seq_id: this push's sequence id [``seqId``].
        prev_seq_id: the previous push's ``seq_id``; ``-1`` on a snapshot
            [``prevSeqId``].
        inst_id: the instrument: ``books5`` sends it [``instId``]; for the
            other channels the decoder fills it from the push's argument.
    """

    asks: tuple[WireLevel, ...]
    bids: tuple[WireLevel, ...]
    ts: int
    action: Literal["snapshot", "update"] = "snapshot"
    checksum: int = 0
    seq_id: int | None = None
    prev_seq_id: int | None = None
    inst_id: str | None = None

    def decimal_bids(self) -> tuple[BookLevel, ...]:
        """``bids`` as ``(Decimal price, Decimal size)`` pairs (parsed on every call)."""
        return _decimal_levels(self.bids)

    def decimal_asks(self) -> tuple[BookLevel, ...]:
        """``asks`` as ``(Decimal price, Decimal size)`` pairs (parsed on every call)."""
        return _decimal_levels(self.asks)


def _decimal_levels(levels: Iterable[WireLevel]) -> tuple[BookLevel, ...]:
    """Parse levels strictly (plain notation only); ValueError names the bad one."""
    return tuple([(plain_decimal(lv[0], "price"), plain_decimal(lv[1], "size")) for lv in levels])


class MarkPrice(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """The mark price from ``mark-price``.

    Attributes:
        inst_type: the instrument type [``instType``].
        inst_id: the instrument [``instId``].
        mark_price: the mark price [``markPx``].
        ts: ms [``ts``].
    """

    inst_type: str
    inst_id: str
    mark_price: Decimal
    ts: int


class IndexTicker(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """An index price from ``index-tickers`` (``inst_id`` is the index, e.g. ``"BTC-USDT"``).

    Attributes:
        inst_id: the index [``instId``].
        index_price: the latest index price [``idxPx``].
        open_24h: the index 24 h ago [``open24h``].
        high_24h: the 24 h high [``high24h``].
        low_24h: the 24 h low [``low24h``].
        sod_utc0: the index at 00:00 UTC [``sodUtc0``].
        sod_utc8: the index at 00:00 UTC+8 [``sodUtc8``].
        ts: ms [``ts``].
    """

    inst_id: str
    index_price: Decimal
    ts: int
    open_24h: Decimal | None = None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    sod_utc0: Decimal | None = None
    sod_utc8: Decimal | None = None


class FundingRate(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """A perpetual swap's funding from ``funding-rate``.

    Attributes:
        inst_type: ``"SWAP"`` [``instType``].
        inst_id: the instrument [``instId``].
        funding_rate: the current period's rate [``fundingRate``].
        funding_time: when the current period settles, ms [``fundingTime``].
        next_funding_rate: the forecast next rate, when OKX sends one [``nextFundingRate``].
        next_funding_time: when the next period settles [``nextFundingTime``].
        min_funding_rate: the lower bound [``minFundingRate``].
        max_funding_rate: the upper bound [``maxFundingRate``].
        method: ``"current_period"`` or ``"next_period"`` [``method``].
        sett_state: ``"processing"`` or ``"settled"`` [``settState``].
        sett_funding_rate: the rate being settled [``settFundingRate``].
        premium: the premium index [``premium``].
        ts: ms [``ts``].
    """

    inst_type: str
    inst_id: str
    funding_rate: Decimal
    funding_time: int
    next_funding_rate: Decimal | None = None
    next_funding_time: int | None = None
    min_funding_rate: Decimal | None = None
    max_funding_rate: Decimal | None = None
    method: str | None = None
    sett_state: str | None = None
    sett_funding_rate: Decimal | None = None
    premium: Decimal | None = None
    ts: int | None = None


class OpenInterest(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """Open interest from ``open-interest``.

    Attributes:
        inst_type: the instrument type [``instType``].
        inst_id: the instrument [``instId``].
        open_interest: in contracts [``oi``].
        open_interest_ccy: in currency [``oiCcy``].
        open_interest_usd: in USD, when sent [``oiUsd``].
        ts: ms [``ts``].
    """

    inst_type: str
    inst_id: str
    open_interest: Decimal
    open_interest_ccy: Decimal
    ts: int
    open_interest_usd: Decimal | None = None


class LiquidationDetail(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """One liquidation order of a :class:`LiquidationOrder` [``details``].

    Attributes:
        side: the liquidation order's side, ``"buy"`` or ``"sell"`` [``side``].
        pos_side: the liquidated position's side, ``long``/``short``/``net`` [``posSide``].
        bankruptcy_price: the bankruptcy price [``bkPx``].
        size: the quantity, in contracts (SWAP, FUTURES) or the base currency
            (MARGIN) [``sz``].
        bankruptcy_loss: the loss at the bankruptcy price [``bkLoss``].
        ccy: the liquidated currency (MARGIN only) [``ccy``].
        ts: ms [``ts``].
    """

    side: Literal["buy", "sell"]
    bankruptcy_price: Decimal
    size: Decimal
    ts: int
    pos_side: str | None = None
    bankruptcy_loss: Decimal | None = None
    ccy: str | None = None


class LiquidationOrder(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """Liquidation orders of one instrument from ``liquidation-orders`` (subscribed by instType).

    Attributes:
        inst_type: ``SWAP``, ``FUTURES``, ``MARGIN`` or ``OPTION`` [``instType``].
        inst_id: the instrument [``instId``].
        details: the liquidation orders [``details``].
        inst_family: the instrument family [``instFamily``].
        underlying: the underlying index [``uly``].
    """

    inst_type: str
    inst_id: str
    details: tuple[LiquidationDetail, ...]
    inst_family: str | None = None
    underlying: str | None = None


class Instrument(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """One instrument's specification from ``instruments`` (fields OKX sends as ``""`` are None).

    Attributes:
        inst_type: ``SPOT``, ``MARGIN``, ``SWAP``, ``FUTURES`` or ``OPTION`` [``instType``].
        inst_id: the instrument [``instId``].
        state: ``live``, ``suspend``, ``preopen``, ``test`` or ``expired`` [``state``].
        underlying: the underlying index, e.g. ``"BTC-USD"`` (derivatives) [``uly``].
        inst_family: the instrument family, e.g. ``"BTC-USD"`` or
            ``"BTC-USD_UM"`` (derivatives) [``instFamily``].
        base_ccy: the base currency (SPOT, MARGIN) [``baseCcy``].
        quote_ccy: the quote currency (SPOT, MARGIN) [``quoteCcy``].
        settle_ccy: the settlement and margin currency (derivatives) [``settleCcy``].
        contract_value: how much of :attr:`contract_value_ccy` one contract is [``ctVal``].
        contract_multiplier: the contract multiplier [``ctMult``].
        contract_value_ccy: the currency of the contract value [``ctValCcy``].
        contract_type: ``linear`` or ``inverse`` (SWAP, FUTURES) [``ctType``].
        option_type: ``C`` (call) or ``P`` (put) [``optType``].
        strike: the strike price (OPTION) [``stk``].
        list_time: when it was listed, ms [``listTime``].
        expiry_time: when it expires or is delivered, ms (FUTURES, OPTION) [``expTime``].
        tick_size: the price increment [``tickSz``].
        lot_size: the size increment, in contracts for derivatives [``lotSz``].
        min_size: the minimum order size [``minSz``].
        alias: ``this_week``, ``next_week``, ``quarter`` ... (FUTURES) [``alias``].
    """

    inst_type: str
    inst_id: str
    state: str
    underlying: str | None = None
    inst_family: str | None = None
    base_ccy: str | None = None
    quote_ccy: str | None = None
    settle_ccy: str | None = None
    contract_value: Decimal | None = None
    contract_multiplier: Decimal | None = None
    contract_value_ccy: str | None = None
    contract_type: str | None = None
    option_type: str | None = None
    strike: Decimal | None = None
    list_time: int | None = None
    expiry_time: int | None = None
    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    min_size: Decimal | None = None
    alias: str | None = None


class Instruments(WireStruct, frozen=True, gc=False):
    """A whole ``instruments`` push, as ONE message (unlike other channels' one per item).

    OKX pushes the full list of the subscribed instType first, then the
    instruments whose state changes (listing, delivery, suspension ...); a
    push is only meaningful whole, so it is one ``Message`` whose data is this.

    Attributes:
        inst_type: the subscribed instType (from the push's argument).
        instruments: the push's instruments, in OKX's order.
    """

    inst_type: str | None
    instruments: tuple[Instrument, ...]


# --------------------------------------------------------------------------------------
# Private channels (login first)
# --------------------------------------------------------------------------------------


class Order(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """An order update from ``orders``.

    Fields OKX sends as ``""`` when they do not apply are ``None`` (the price
    of a market order, the fill fields of an update without a fill).

    Attributes:
        inst_type: the instrument type [``instType``].
        inst_id: the instrument [``instId``].
        ord_id: OKX's order id [``ordId``].
        cl_ord_id: your client order id [``clOrdId``].
        tag: the order tag [``tag``].
        price: the limit price [``px``].
        size: the order size [``sz``].
        ord_type: ``limit``, ``market``, ``post_only``, ``fok``, ``ioc`` ... [``ordType``].
        side: ``"buy"`` or ``"sell"`` [``side``].
        pos_side: ``net``, ``long`` or ``short`` [``posSide``].
        td_mode: ``cash``, ``cross`` or ``isolated`` [``tdMode``].
        state: ``live``, ``partially_filled``, ``filled``, ``canceled``,
            ``mmp_canceled`` [``state``].
        acc_fill_size: the accumulated filled size [``accFillSz``].
        avg_price: the average fill price [``avgPx``].
        fill_price: the last fill's price [``fillPx``].
        fill_size: the last fill's size [``fillSz``].
        fill_time: the last fill's time, ms [``fillTime``].
        trade_id: the last fill's trade id [``tradeId``].
        fee: the accumulated fee (negative: charged) [``fee``].
        fee_ccy: the fee currency [``feeCcy``].
        pnl: the profit and loss [``pnl``].
        lever: the leverage [``lever``].
        exec_type: ``T`` taker, ``M`` maker [``execType``].
        amend_result: the amendment result, ``"0"`` success [``amendResult``].
        req_id: the amend request's id [``reqId``].
        error_code: an error code for the update, ``"0"`` none [``code``].
        message: the error message [``msg``].
        created_time: ms [``cTime``].
        updated_time: ms [``uTime``].
    """

    inst_type: str
    inst_id: str
    ord_id: str
    side: str
    state: str
    ord_type: str
    size: Decimal
    created_time: int
    updated_time: int
    cl_ord_id: str | None = None
    tag: str | None = None
    price: Decimal | None = None
    pos_side: str | None = None
    td_mode: str | None = None
    acc_fill_size: Decimal | None = None
    avg_price: Decimal | None = None
    fill_price: Decimal | None = None
    fill_size: Decimal | None = None
    fill_time: int | None = None
    trade_id: str | None = None
    fee: Decimal | None = None
    fee_ccy: str | None = None
    pnl: Decimal | None = None
    lever: Decimal | None = None
    exec_type: str | None = None
    amend_result: str | None = None
    req_id: str | None = None
    error_code: str | None = None
    message: str | None = None


class AccountDetail(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """One currency of an :class:`Account` update [``details``].

    Attributes:
        ccy: the currency [``ccy``].
        eq: the equity of the currency [``eq``].
        cash_bal: the cash balance [``cashBal``].
        avail_bal: the available balance [``availBal``].
        frozen_bal: the frozen balance [``frozenBal``].
        avail_eq: the available equity [``availEq``].
        eq_usd: the equity in USD [``eqUsd``].
        upl: the unrealised profit and loss [``upl``].
        updated_time: ms [``uTime``].
    """

    ccy: str
    eq: Decimal | None = None
    cash_bal: Decimal | None = None
    avail_bal: Decimal | None = None
    frozen_bal: Decimal | None = None
    avail_eq: Decimal | None = None
    eq_usd: Decimal | None = None
    upl: Decimal | None = None
    updated_time: int | None = None


class Account(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """An account update from ``account``.

    Attributes:
        updated_time: ms [``uTime``].
        total_eq: the total equity in USD [``totalEq``].
        iso_eq: the isolated-margin equity in USD [``isoEq``].
        adj_eq: the adjusted equity in USD [``adjEq``].
        imr: the initial margin requirement in USD [``imr``].
        mmr: the maintenance margin requirement in USD [``mmr``].
        mgn_ratio: the margin ratio [``mgnRatio``].
        notional_usd: the notional value of positions in USD [``notionalUsd``].
        upl: the unrealised profit and loss [``upl``].
        details: one :class:`AccountDetail` per currency [``details``].
    """

    updated_time: int
    details: tuple[AccountDetail, ...] = ()
    total_eq: Decimal | None = None
    iso_eq: Decimal | None = None
    adj_eq: Decimal | None = None
    imr: Decimal | None = None
    mmr: Decimal | None = None
    mgn_ratio: Decimal | None = None
    notional_usd: Decimal | None = None
    upl: Decimal | None = None


class Position(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """A position update from ``positions``.

    Attributes:
        inst_type: the instrument type [``instType``].
        inst_id: the instrument [``instId``].
        pos_id: the position id [``posId``].
        mgn_mode: ``cross`` or ``isolated`` [``mgnMode``].
        pos_side: ``net``, ``long`` or ``short`` [``posSide``].
        position: the quantity of the position [``pos``].
        avail_position: the position that can be closed [``availPos``].
        avg_price: the average open price [``avgPx``].
        upl: the unrealised profit and loss [``upl``].
        lever: the leverage [``lever``].
        liq_price: the estimated liquidation price [``liqPx``].
        mark_price: the mark price [``markPx``].
        margin: the margin [``margin``].
        mgn_ratio: the margin ratio [``mgnRatio``].
        ccy: the margin currency [``ccy``].
        trade_id: the latest trade id [``tradeId``].
        created_time: ms [``cTime``].
        updated_time: ms [``uTime``].
        push_time: ms [``pTime``].
    """

    inst_type: str
    inst_id: str
    pos_id: str
    mgn_mode: str
    pos_side: str | None = None
    position: Decimal | None = None
    avail_position: Decimal | None = None
    avg_price: Decimal | None = None
    upl: Decimal | None = None
    lever: Decimal | None = None
    liq_price: Decimal | None = None
    mark_price: Decimal | None = None
    margin: Decimal | None = None
    mgn_ratio: Decimal | None = None
    ccy: str | None = None
    trade_id: str | None = None
    created_time: int | None = None
    updated_time: int | None = None
    push_time: int | None = None


class BalanceData(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """One balance of a :class:`BalanceAndPosition` [``balData``].

    Attributes:
        ccy: the currency [``ccy``].
        cash_bal: the cash balance [``cashBal``].
        updated_time: ms [``uTime``].
    """

    ccy: str
    cash_bal: Decimal
    updated_time: int


class PositionData(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """One position of a :class:`BalanceAndPosition` [``posData``].

    Attributes:
        pos_id: the position id [``posId``].
        inst_id: the instrument [``instId``].
        inst_type: the instrument type [``instType``].
        mgn_mode: ``cross`` or ``isolated`` [``mgnMode``].
        pos_side: ``net``, ``long`` or ``short`` [``posSide``].
        position: the quantity [``pos``].
        ccy: the margin currency [``ccy``].
        avg_price: the average open price [``avgPx``].
        trade_id: the latest trade id [``tradeId``].
        updated_time: ms [``uTime``].
    """

    pos_id: str
    inst_id: str
    inst_type: str
    mgn_mode: str
    position: Decimal
    pos_side: str | None = None
    ccy: str | None = None
    avg_price: Decimal | None = None
    trade_id: str | None = None
    updated_time: int | None = None


class TradeRef(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """A trade that caused a :class:`BalanceAndPosition` push [``trades``]."""

    inst_id: str
    trade_id: str


class BalanceAndPosition(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """Balances and positions changed together, from ``balance_and_position``.

    Attributes:
        push_time: ms [``pTime``].
        event_type: ``snapshot``, ``filled``, ``transferred``, ``delivered``,
            ``liquidation``, ``funding_fee`` ... [``eventType``].
        bal_data: the balances [``balData``].
        pos_data: the positions [``posData``].
        trades: the trades behind a ``filled`` push [``trades``].
    """

    push_time: int
    event_type: str
    bal_data: tuple[BalanceData, ...] = ()
    pos_data: tuple[PositionData, ...] = ()
    trades: tuple[TradeRef, ...] = ()


# --------------------------------------------------------------------------------------
# Envelopes, events and replies
# --------------------------------------------------------------------------------------


class Push(WireStruct, Generic[T], frozen=True, gc=False):
    """A data push: ``{"arg": {...}, ["action": ...,] "data": [...]}``.

    ``decode_frame`` returns one for every channel it knows; the core turns
    each item of ``data`` into one :class:`~trio_venues.events.Message`
    (an ``instruments`` push has one item, :class:`Instruments`, holding the
    whole list).
    """

    arg: Arg
    data: tuple[T, ...]
    action: str | None = None


class UnknownMessage(WireStruct, frozen=True, gc=False):
    """A message this version does not know (a new channel or event); never dropped.

    Attributes:
        raw: the decoded JSON object as OKX sent it (for a push of an unknown
            channel: one item of its ``data``).
        arg: the push's argument, when the message had one.
    """

    raw: Any
    arg: Arg | None = None


class _Event(WireStruct, frozen=True, gc=False, tag_field="event", rename=_RENAME):
    pass


class SubscribeAck(_Event, frozen=True, gc=False, tag="subscribe"):
    """``{"event": "subscribe", "arg": {...}}``: one argument of a subscribe was accepted.

    Attributes:
        arg: the accepted argument [``arg``].
        id: the request's id, when it had one (older acks have none) [``id``].
        conn_id: OKX's connection id [``connId``].
    """

    arg: Arg
    id: str | None = None
    conn_id: str | None = None


class UnsubscribeAck(_Event, frozen=True, gc=False, tag="unsubscribe"):
    """``{"event": "unsubscribe", "arg": {...}}``: one argument was removed.

    Attributes:
        arg: the removed argument [``arg``].
        id: the request's id, when it had one [``id``].
        conn_id: OKX's connection id [``connId``].
    """

    arg: Arg
    id: str | None = None
    conn_id: str | None = None


class LoginAck(_Event, frozen=True, gc=False, tag="login"):
    """``{"event": "login", "code": "0"}``: the login succeeded.

    Attributes:
        code: ``"0"`` [``code``].
        message: usually empty [``msg``].
        conn_id: OKX's connection id [``connId``].
    """

    code: str
    message: str = ""
    conn_id: str | None = None


class ErrorMessage(_Event, frozen=True, gc=False, tag="error"):
    """``{"event": "error", "code": "60012", "msg": ...}``: a request failed.

    Error events carry no ``arg``: a refused subscribe is matched by its
    ``id`` (see ``docs/venues/okx.md``, "Subscriptions").

    Attributes:
        code: OKX's error code, a string [``code``].
        message: OKX's message [``msg``].
        id: the failed request's id, when it had one [``id``].
        conn_id: OKX's connection id [``connId``].
    """

    code: str
    message: str = ""
    id: str | None = None
    conn_id: str | None = None


class Notice(_Event, frozen=True, gc=False, tag="notice"):
    """``{"event": "notice", "code": "64008"}``: e.g. the connection closes soon for an upgrade.

    Attributes:
        code: the notice code [``code``].
        message: OKX's message [``msg``].
        conn_id: OKX's connection id [``connId``].
    """

    code: str
    message: str = ""
    conn_id: str | None = None


class ChannelConnCount(_Event, frozen=True, gc=False, tag="channel-conn-count"):
    """How many connections subscribe to a private ``channel`` (OKX allows 30 per sub-account).

    Attributes:
        channel: the channel [``channel``].
        conn_count: the number of connections [``connCount``].
        conn_id: OKX's connection id [``connId``].
    """

    channel: str
    conn_count: int
    conn_id: str | None = None


class ChannelConnCountError(_Event, frozen=True, gc=False, tag="channel-conn-count-error"):
    """A private subscription was refused: ``channel`` already has ``conn_count`` connections.

    Sent after the normal subscribe ack.

    Attributes:
        channel: the channel [``channel``].
        conn_count: the number of connections [``connCount``].
        conn_id: OKX's connection id [``connId``].
    """

    channel: str
    conn_count: int
    conn_id: str | None = None


class OrderResult(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """One order's outcome in an order-entry reply (``order``, ``batch-orders`` ...).

    Attributes:
        ord_id: OKX's order id [``ordId``].
        cl_ord_id: your client order id [``clOrdId``].
        tag: the order tag [``tag``].
        req_id: the amend request id [``reqId``].
        ts: when OKX processed it, ms [``ts``].
        s_code: ``"0"`` success, else the error code [``sCode``].
        s_msg: the error message [``sMsg``].
    """

    s_code: str
    s_msg: str | None = None
    ord_id: str | None = None
    cl_ord_id: str | None = None
    tag: str | None = None
    req_id: str | None = None
    ts: int | None = None


class OpResponse(WireStruct, frozen=True, gc=False, rename=_RENAME):
    """The reply to an order-entry request: ``{"id", "op", "code", "msg", "data": [...]}``.

    Attributes:
        id: the request's id [``id``].
        op: the operation [``op``].
        code: ``"0"`` success, ``"1"`` all failed, ``"2"`` some failed (batch),
            else the request's error [``code``].
        message: the error message [``msg``].
        data: one :class:`OrderResult` per order [``data``].
        in_time: when the request reached OKX's gateway, µs [``inTime``].
        out_time: when the reply left it, µs [``outTime``].
    """

    id: str
    op: str
    code: str
    message: str | None = None
    data: tuple[OrderResult, ...] = ()
    in_time: int | None = None
    out_time: int | None = None


_EventUnion: TypeAlias = (
    SubscribeAck
    | UnsubscribeAck
    | LoginAck
    | ErrorMessage
    | Notice
    | ChannelConnCount
    | ChannelConnCountError
)
_EVENT_NAMES: Final = frozenset(
    {
        "subscribe",
        "unsubscribe",
        "login",
        "error",
        "notice",
        "channel-conn-count",
        "channel-conn-count-error",
    }
)

#: What :func:`decode_frame` returns.
Decoded: TypeAlias = Push[Any] | _EventUnion | OpResponse | UnknownMessage


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------

_BOOK_CHANNELS: Final = ("books", "books5", "bbo-tbt", "books-l2-tbt", "books50-l2-tbt")

# Channels decoded straight from the text (no "" in their fields).
_TRADES: Final = msgspec.json.Decoder(Push[Trade], strict=False)
_DIRECT: Final[dict[str, msgspec.json.Decoder[Push[Any]]]] = {
    "trades": _TRADES,
    "trades-all": _TRADES,
    **{name: msgspec.json.Decoder(Push[BookMessage], strict=False) for name in _BOOK_CHANNELS},
}
_CANDLES: Final = msgspec.json.Decoder(Push[Candle], strict=False)
_force_setattr: Final = msgspec.structs.force_setattr

# Channels decoded through plain values ("" -> None), then converted.
_CONVERTED: Final[dict[str, type[Any]]] = {
    "tickers": Ticker,
    "mark-price": MarkPrice,
    "index-tickers": IndexTicker,
    "funding-rate": FundingRate,
    "open-interest": OpenInterest,
    "instruments": Instrument,
    "liquidation-orders": LiquidationOrder,
    "orders": Order,
    "account": Account,
    "positions": Position,
    "balance_and_position": BalanceAndPosition,
}


class _HeadArg(WireStruct, frozen=True, gc=False):
    channel: str


class _Head(WireStruct, frozen=True, gc=False):
    event: str | None = None
    op: str | None = None
    arg: _HeadArg | None = None


class _PlainPush(WireStruct, frozen=True, gc=False):
    arg: Arg
    data: list[Any]
    action: str | None = None


_HEAD: Final = msgspec.json.Decoder(_Head)
_EVENTS: Final = msgspec.json.Decoder(_EventUnion, strict=False)
_PLAIN_PUSH: Final = msgspec.json.Decoder(_PlainPush)
_PLAIN: Final = msgspec.json.Decoder()
_PREFIX: Final = '{"arg":{"channel":"'
_PREFIX_LEN: Final = len(_PREFIX)


def _blank_to_none(value: Any) -> Any:
    """OKX's ``""`` ("does not apply") as ``None``, in every nested object and array."""
    if type(value) is dict:
        return {key: None if item == "" else _blank_to_none(item) for key, item in value.items()}
    if type(value) is list:
        return [_blank_to_none(item) for item in value]
    return value


def _convert_push(text: str | bytes, cls: type[Any]) -> Push[Any]:
    plain = _PLAIN_PUSH.decode(text)
    items = tuple(msgspec.convert(_blank_to_none(item), cls, strict=False) for item in plain.data)
    if cls is Instrument:
        # One message for the whole push (see Instruments).
        return Push(plain.arg, (Instruments(plain.arg.inst_type, items),), plain.action)
    return Push(plain.arg, items, plain.action)


def _annotate(push: Push[Any], channel: str) -> None:
    """Give each book or candle item what only the push says (never called for trades).

    A book item gets the message's ``action`` and the argument's instrument;
    a candle row its instrument and bar.

    Raises:
        msgspec.ValidationError: a candle row longer than nine items.
    """
    inst_id = push.arg.inst_id
    if channel.startswith("candle"):
        bar = channel[6:]
        for item in push.data:
            if item.inst_id is not None:
                raise msgspec.ValidationError("a candle row has 7 or 9 items, not more")
            _force_setattr(item, "inst_id", inst_id)
            _force_setattr(item, "bar", bar)
        return
    update = push.action == "update"
    for item in push.data:
        if update:
            # The action belongs to the message; the book data reads it.
            _force_setattr(item, "action", "update")
        if item.inst_id is None:
            _force_setattr(item, "inst_id", inst_id)


def _push_decoder(channel: str) -> msgspec.json.Decoder[Push[Any]] | None:
    decoder = _DIRECT.get(channel)
    if decoder is None and channel.startswith("candle"):
        return _CANDLES
    return decoder


def _decode_push(text: str | bytes, channel: str) -> Decoded:
    decoder = _push_decoder(channel)
    if decoder is not None:
        push = decoder.decode(text)
        if decoder is not _TRADES:
            _annotate(push, channel)
        return push
    cls = _CONVERTED.get(channel)
    if cls is not None:
        return _convert_push(text, cls)
    plain = _PLAIN_PUSH.decode(text)
    return UnknownMessage(_PLAIN.decode(text), plain.arg)


def _fast_push(text: str) -> Push[Any] | None:
    """A push whose text starts with its channel (as OKX sends them), decoded in one go.

    ``None`` when the channel is not one decoded straight from the text, or
    when the decoded argument does not confirm the channel read from the text.

    Raises:
        msgspec.DecodeError, msgspec.ValidationError: the push is malformed.
    """
    end = text.find('"', _PREFIX_LEN)
    channel = text[_PREFIX_LEN:end]
    decoder = _DIRECT.get(channel)
    if decoder is None:
        if not channel.startswith("candle"):
            return None
        decoder = _CANDLES
    push = decoder.decode(text)
    if push.arg.channel != channel:
        return None
    if decoder is not _TRADES:
        _annotate(push, channel)
    return push


def decode_push(text: str) -> Push[Any] | None:
    """The fast path of :func:`decode_frame` alone: a push at rate, or ``None`` for the rest.

    Raises:
        DecodeError: the push is malformed (the message names the field).
    """
    if not text.startswith(_PREFIX):
        return None
    try:
        return _fast_push(text)
    except DECODE_ERRORS as exc:
        error = decode_error(exc, text, "OKX message")
    raise error


def decode_frame(text: str | bytes) -> Decoded:
    """Decode one OKX JSON message (not the text ``pong``) into its typed form.

    Returns:
        a :class:`Push` (``arg``, ``action``, typed ``data`` items) for a
        channel this version knows; an event (:class:`SubscribeAck`,
        :class:`UnsubscribeAck`, :class:`LoginAck`, :class:`ErrorMessage`,
        :class:`Notice`, :class:`ChannelConnCount`,
        :class:`ChannelConnCountError`); an :class:`OpResponse` for an
        order-entry reply; else :class:`UnknownMessage`.

    Raises:
        DecodeError: not JSON, or a known message of the wrong shape (the
            message names the field, e.g. ``$.data[0].px``).
    """
    try:
        # The fast path: pushes start with the channel name (as OKX sends
        # them); the decoded argument must confirm it, else the slow path runs.
        if type(text) is str and text.startswith(_PREFIX):
            push = _fast_push(text)
            if push is not None:
                return push
        head = _HEAD.decode(text)
        if head.event is not None:
            if head.event in _EVENT_NAMES:
                return _EVENTS.decode(text)
            return UnknownMessage(_PLAIN.decode(text))
        if head.arg is not None:
            return _decode_push(text, head.arg.channel)
        if head.op is not None:
            plain = _PLAIN.decode(text)
            if type(plain) is dict and "id" in plain and "code" in plain:
                return msgspec.convert(_blank_to_none(plain), OpResponse, strict=False)
            return UnknownMessage(plain)
        return UnknownMessage(_PLAIN.decode(text))
    except DECODE_ERRORS as exc:
        error = decode_error(exc, text, "OKX message")
    # Raised outside the handler: no __context__ keeps msgspec's error alive.
    raise error


# --------------------------------------------------------------------------------------
# The legacy book checksum
# --------------------------------------------------------------------------------------

#: Levels per side that the legacy checksum covers [OKX-OB "Checksum"].
CHECKSUM_DEPTH: Final = 25


def checksum_string(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> str:
    """The text the legacy checksum hashes: ``bid1px:bid1sz:ask1px:ask1sz:bid2px:...``.

    ``bids`` best (highest) first, ``asks`` best (lowest) first, each level's
    price and size as the raw strings OKX sent; the top :data:`CHECKSUM_DEPTH`
    of each side, interleaved while either side has a level at that index.
    """
    parts: list[str] = []
    for index in range(CHECKSUM_DEPTH):
        if index < len(bids):
            parts.append(f"{bids[index][0]}:{bids[index][1]}")
        if index < len(asks):
            parts.append(f"{asks[index][0]}:{asks[index][1]}")
    return ":".join(parts)


def book_checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> int:
    """OKX's legacy book checksum: CRC32 of :func:`checksum_string`, as a signed 32-bit int.

    OKX fixed the pushed ``checksum`` at 0 in 2026 (0 means "absent"); a
    non-zero value can still be checked with this rule (``docs/venues/okx.md``,
    "Books").
    """
    value = zlib.crc32(checksum_string(bids, asks).encode())
    return value - 2**32 if value >= 2**31 else value
