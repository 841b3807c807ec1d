"""The sans-I/O core of Coinbase Advanced Trade: topics, id-less acks, JWTs, sequence numbers.

Facts (``docs/venues/coinbase.md``):

- a topic is ``"<channel>:<product_id>"`` (``"market_trades:BTC-USD"``,
  ``"level2:ETH-USD"``), or the bare channel for ``heartbeats``, ``status``
  and ``futures_balance_summary`` (and ``user`` for every product);
- one subscribe message names one channel (:meth:`CoinbaseCore.split_topics`
  groups a request's topics by channel, in order);
- each subscribe/unsubscribe carries a **fresh JWT** when the connection has
  credentials (built from ``SendContext.wall_time``); ``user`` and
  ``futures_balance_summary`` cannot be subscribed without one;
- the ack is a ``subscriptions`` message listing **every** current
  subscription, with no request id: pending requests are completed by
  content (a subscribe when all its products are listed, an unsubscribe when
  none is). A request whose topics never appear gets no ``Response``: the
  shell's request timeout fails it; the core forgets it after
  ``ack_timeout``;
- ``{"type": "error", "message": ...}`` names no request either: it fails the
  oldest pending request it can belong to (one whose channel or product the
  message names, else the oldest). ``"authentication failure"`` for a
  channel Coinbase does not have, or for a public channel subscribed without
  a JWT, is reported as the misspelt channel it usually is
  (:class:`~trio_venues.errors.SubscriptionError`); for ``user``,
  ``futures_balance_summary`` or any subscribe that carried a JWT it is an
  :class:`~trio_venues.errors.AuthenticationError`;
- a subscribe must arrive within 5 s of connecting, and channels go quiet and
  close after 60-90 s without ``heartbeats``: :meth:`CoinbaseCore.on_open`
  subscribes ``heartbeats`` itself. Those heartbeats are the core's own (not
  in ``ws.subscriptions``, not delivered) unless the user subscribes
  ``"heartbeats"``; their counter is checked for jumps (``GapDetected`` on
  topic ``"heartbeats"``) and their silence for ``heartbeat_timeout``
  seconds ends the connection with ``HeartbeatTimeout(kind="data")``;
- ``sequence_num`` is one counter per connection across every channel: a
  number more than one above the previous emits ``GapDetected(topic,
  expected, received)`` before the message, naming the topic of the message
  that revealed the jump (``None`` for an ack); anything on the connection may
  have been lost, so ``book_feed`` resyncs every book on it. A number at or
  below the previous is ignored by the check, as the venue documents (the
  message is still delivered).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
import msgspec
import orjson

from ..._codec import slot_setters
from ..._core import (
    EndConnection,
    Output,
    RequestId,
    Response,
    SendContext,
    SendFrame,
    VenueCore,
)
from ..._identity import TopicIds, batch_ids
from ...credentials import Credentials
from ...errors import AuthenticationError, ConfigError, SubscriptionError, VenueError
from ...events import ErrorEvent, GapDetected, Message
from ...reasons import HeartbeatTimeout
from ._limits import COINBASE_LIMITS
from ._signing import CoinbaseJwtSigner
from ._wire import (
    CHANNELS,
    CandlesMessage,
    ErrorMessage,
    HeartbeatsMessage,
    L2DataMessage,
    MarketTradesMessage,
    StatusMessage,
    SubscriptionsMessage,
    TickerBatchMessage,
    TickerMessage,
    UnknownMessage,
    UserMessage,
    _decoder,
    decode_message,
)

__all__ = [
    "HEARTBEATS_TOPIC",
    "HEARTBEAT_TIMEOUT",
    "MARKET_URL",
    "PRIVATE_CHANNELS",
    "PRODUCTLESS_CHANNELS",
    "STATUS_TOPIC",
    "SUBSCRIBE_WITHIN",
    "TRADE_IDS",
    "USER_URL",
    "ClientRequest",
    "CoinbaseCore",
    "decode_client_request",
    "encode_client_request",
    "coinbase_topic_ids",
    "parse_topic",
    "topic",
]

#: The market-data endpoint (every channel).
MARKET_URL: Final = "wss://advanced-trade-ws.coinbase.com"
#: The user-order-data endpoint (``heartbeats``, ``user``, ``futures_balance_summary``).
USER_URL: Final = "wss://advanced-trade-ws-user.coinbase.com"
#: Channels that need a JWT.
PRIVATE_CHANNELS: Final = frozenset({"user", "futures_balance_summary"})
#: Channels subscribed without products (their topic is the bare channel name).
PRODUCTLESS_CHANNELS: Final = frozenset({"heartbeats", "status", "futures_balance_summary"})
#: The keepalive channel's topic.
HEARTBEATS_TOPIC: Final = "heartbeats"
#: The status channel's topic.
STATUS_TOPIC: Final = "status"
#: Seconds after connecting by which Coinbase wants a subscribe (it disconnects after 5).
SUBSCRIBE_WITHIN: Final = 5.0
#: Default seconds without a heartbeat (sent every second) before the connection is dead.
HEARTBEAT_TIMEOUT: Final = 10.0
#: Seconds after which a request's ack is no longer awaited (the shell's
#: ``request_timeout`` has failed it by then).
_DEFAULT_ACK_TIMEOUT: Final = 10.0
#: Without ``heartbeats``, the core subscribes it this long after opening when
#: nothing else was subscribed, to honour the 5-second rule with a margin.
_KEEPALIVE_AFTER: Final = 3.0
#: At most this many requests await an ack; older ones are forgotten first.
_MAX_PENDING: Final = 1024
#: Topic strings kept for reuse on the trade path (bounded: products are few).
_MAX_CACHED_TOPICS: Final = 4096


def _trades(data: Any) -> tuple[Any, ...]:
    if type(data) is not MarketTradesMessage:
        return ()
    return tuple(trade for event in data.events for trade in event.trades)


def _trade_number(trade: Any) -> int:
    return int(trade.trade_id)


def _numbered(data: Any) -> tuple[Any, ...]:
    """The trades of a ``market_trades`` message, or none when an id is not a plain number."""
    trades = _trades(data)
    if all(t.trade_id.isascii() and t.trade_id.isdigit() for t in trades):
        return trades
    return ()


def _keep_trades(data: MarketTradesMessage, kept: tuple[Any, ...]) -> MarketTradesMessage:
    """``data`` with only the ``kept`` trades (by identity), empty events left out."""
    wanted = {id(trade) for trade in kept}
    events = []
    for event in data.events:
        trades = tuple(t for t in event.trades if id(t) in wanted)
        if trades:
            events.append(msgspec.structs.replace(event, trades=trades))
    return msgspec.structs.replace(data, events=tuple(events))


#: ``market_trades:<product>``: Coinbase numbers each product's trades with an
#: integer ``trade_id`` (sent as a string), the same on every connection; a
#: message holds a batch (250 ms, the first one a snapshot of recent trades),
#: so it is trimmed trade by trade (``docs/venues/coinbase.md``, "Ids across
#: connections").
TRADE_IDS: Final = batch_ids(_numbered, _trade_number, _keep_trades)


def coinbase_topic_ids(topic_name: str) -> TopicIds | None:
    """The venue ids of a Coinbase topic: ``market_trades:<product>`` only (see ``TRADE_IDS``).

    ``level2`` updates carry no id of their own (only the connection's
    ``sequence_num``, which differs per connection), nor do tickers, candles
    or ``user``.
    """
    channel, _, product = topic_name.partition(":")
    if channel == "market_trades" and product:
        return TRADE_IDS
    return None


_new: Final = object.__new__
_set_topic, _set_data, _set_received_at = slot_setters(Message)


def _message(topic_name: str, data: Any, received_at: float) -> Message:
    """A ``Message`` built through its slots (see ``_codec.slot_setters``): the hot path."""
    message: Message = _new(Message)
    _set_topic(message, topic_name)
    _set_data(message, data)
    _set_received_at(message, received_at)
    return message


_AUTH_FAILURE: Final = "authentication failure"


# -- topics -------------------------------------------------------------------------


def topic(channel: str, product_id: str | None = None) -> str:
    """The topic of ``channel`` for ``product_id``: ``"market_trades:BTC-USD"``, or the channel.

    Raises:
        ValueError: an empty channel or product, or one with ``":"`` or whitespace.
    """
    _check_name(channel, "channel")
    if product_id is None:
        return channel
    _check_name(product_id, "product id")
    return f"{channel}:{product_id}"


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"a {what} must be a str, not {type(name).__name__}")
    if not name or ":" in name or any(ch.isspace() for ch in name) or "," in name:
        raise ValueError(f"invalid {what} {name!r}: expected e.g. 'market_trades' or 'BTC-USD'")


def parse_topic(text: str) -> tuple[str, str | None]:
    """Split a topic into channel and product: ``"level2:BTC-USD"``, ``"status"``.

    ``"level2:BTC-USD"`` -> ``("level2", "BTC-USD")``; ``"status"`` -> ``("status", None)``.

    Channel names are not checked against a list (a new channel stays
    subscribable); a misspelt one is refused by Coinbase.

    Raises:
        ValueError: an empty part, a second ``":"``, whitespace, or a product
            on a channel that takes none (``heartbeats``, ``status``,
            ``futures_balance_summary``).
    """
    if not isinstance(text, str):
        raise TypeError(f"a topic must be a str, not {type(text).__name__}")
    channel, colon, product = text.partition(":")
    _check_name(channel, "channel")
    if not colon:
        return channel, None
    _check_name(product, "product id")
    if channel in PRODUCTLESS_CHANNELS:
        raise ValueError(f"the {channel!r} channel takes no product: use the topic {channel!r}")
    return channel, product


# -- client requests (what we send; the fake server parses them) ----------------------------


@attrs.frozen
class ClientRequest:
    """A subscribe/unsubscribe as sent: ``{"type", "channel", "product_ids"?, "jwt"?}``."""

    type: str
    channel: str
    product_ids: tuple[str, ...] = ()
    jwt: str | None = attrs.field(default=None, repr=False)


def encode_client_request(
    kind: str, channel: str, product_ids: Sequence[str], jwt: str | None
) -> str:
    """The JSON of one subscribe/unsubscribe (``product_ids`` left out when empty)."""
    obj: dict[str, Any] = {"type": kind}
    if product_ids:
        obj["product_ids"] = list(product_ids)
    obj["channel"] = channel
    if jwt is not None:
        obj["jwt"] = jwt
    return orjson.dumps(obj).decode()


class _RequestWire(msgspec.Struct, frozen=True):
    type: str
    channel: str
    product_ids: tuple[str, ...] = ()
    jwt: str | None = None


_request_decoder: Final = msgspec.json.Decoder(_RequestWire)


def decode_client_request(data: str | bytes) -> ClientRequest:
    """Parse a client's subscribe/unsubscribe (for the fake server and tests).

    Raises:
        ValueError: not such a request (the message says why).
    """
    try:
        wire = _request_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValueError(f"not a Coinbase subscribe/unsubscribe: {exc}") from None
    return ClientRequest(wire.type, wire.channel, wire.product_ids, wire.jwt)


# -- pending requests ---------------------------------------------------------------------


@attrs.define
class _Pending:
    """A subscribe/unsubscribe waiting for the ack that shows it done."""

    request_id: RequestId | None  # None: the core's own (keepalive heartbeats)
    op: str  # "subscribe" or "unsubscribe"
    channel: str
    products: tuple[str, ...]  # () for a product-less channel
    topics: tuple[str, ...]
    sent_at: float
    signed: bool = False  # it carried a JWT

    def done_by(self, current: Mapping[str, tuple[str, ...]]) -> bool:
        listed = current.get(self.channel)
        if self.op == "subscribe":
            if listed is None:
                return False
            return all(p in listed for p in self.products)
        if listed is None:
            return True
        # An unsubscribe without products ends the whole channel.
        return bool(self.products) and not any(p in listed for p in self.products)

    def mentioned_in(self, text: str) -> bool:
        return self.channel in text or any(p in text for p in self.products)


# -- the core ------------------------------------------------------------------------------


class CoinbaseCore(VenueCore):
    """The per-connection sans-I/O core of Coinbase Advanced Trade (see the module docstring).

    Args:
        endpoint: ``"market"`` or ``"user"`` (which channels make sense; the
            URL is the shell's business).
        heartbeats: subscribe ``heartbeats`` on opening (default ``True``);
            ``False`` leaves keepalive to the user, except that ``heartbeats``
            is still subscribed 3 s after opening if nothing else has been, so
            the connection survives the 5-second rule.
        heartbeat_timeout: seconds without a heartbeat, once subscribed, that
            end the connection (``HeartbeatTimeout(kind="data")``); ``None``: no check.
        ack_timeout: seconds a request's ack is awaited before the core
            forgets it (match the connection's ``request_timeout``).
        signer_factory: builds the JWT signer from the connection's
            credentials (default :class:`CoinbaseJwtSigner` from
            ``api_key`` and ``secret``).
    """

    name = "coinbase"
    venue_ping_interval = None
    limits = COINBASE_LIMITS

    def __init__(
        self,
        *,
        endpoint: str = "market",
        heartbeats: bool = True,
        heartbeat_timeout: float | None = HEARTBEAT_TIMEOUT,
        ack_timeout: float = _DEFAULT_ACK_TIMEOUT,
        signer_factory: Callable[[Credentials], CoinbaseJwtSigner] | None = None,
    ) -> None:
        super().__init__()
        if endpoint not in ("market", "user"):
            raise ConfigError(f"endpoint must be 'market' or 'user', not {endpoint!r}")
        if heartbeat_timeout is not None and not heartbeat_timeout > 0:
            raise ConfigError(f"heartbeat_timeout must be > 0 or None, got {heartbeat_timeout!r}")
        if not ack_timeout > 0:
            raise ConfigError(f"ack_timeout must be > 0, got {ack_timeout!r}")
        self.endpoint = endpoint
        self.heartbeats = heartbeats
        self.heartbeat_timeout = heartbeat_timeout
        self.ack_timeout = ack_timeout
        self._signer_factory = signer_factory or _default_signer
        self._signer: CoinbaseJwtSigner | None = None
        self._signer_for: Credentials | None = None
        self._pending: deque[_Pending] = deque()
        # The venue's view of the connection's subscriptions (the last ack).
        self._current: dict[str, tuple[str, ...]] = {}
        # The sequence_num expected next (None before the first message).
        self._next_seq: int | None = None
        self._trade_topics: dict[str, str] = {}
        self._last_counter: int | None = None
        self._last_heartbeat: float | None = None  # None: heartbeats not (yet) acked
        self._user_heartbeats = False
        self._user_wide = False  # "user" subscribed for every product
        self._sent_subscribe = False
        self._keepalive_at: float | None = None

    # -- JWTs -------------------------------------------------------------------------

    def _jwt(self, ctx: SendContext) -> str | None:
        credentials = ctx.credentials
        if credentials is None:
            return None
        if self._signer is None or self._signer_for is not credentials:
            self._signer = self._signer_factory(credentials)
            self._signer_for = credentials
        return self._signer.token(ctx.wall_time)

    # -- outgoing ---------------------------------------------------------------------

    def split_topics(self, op: str, topics: Sequence[str]) -> list[tuple[str, ...]]:
        """One request per channel (Coinbase's rule), channels in order of first appearance."""
        groups: dict[str, list[str]] = {}
        for name in topics:
            channel, _ = parse_topic(name)
            group = groups.setdefault(channel, [])
            if name not in group:
                group.append(name)
        return [tuple(group) for group in groups.values()]

    def _request(
        self, op: str, topics: Sequence[str], request_id: RequestId | None, ctx: SendContext
    ) -> str:
        if isinstance(topics, str):
            raise TypeError("topics must be a sequence of topic names, not one str")
        if not topics:
            raise ValueError(f"{op} needs at least one topic")
        parsed = [parse_topic(name) for name in topics]
        channels = {channel for channel, _ in parsed}
        if len(channels) != 1:
            raise ValueError(
                f"one Coinbase {op} names one channel, got {sorted(channels)}: "
                "split them (split_topics does)"
            )
        channel = parsed[0][0]
        products = tuple(dict.fromkeys(p for _, p in parsed if p is not None))
        if products and len(products) != len(parsed):
            raise ValueError(
                f"{channel!r} topics mix a bare channel and products: {list(topics)!r}"
            )
        jwt = self._jwt(ctx)
        if channel in PRIVATE_CHANNELS and jwt is None:
            raise AuthenticationError(
                None,
                f"the {channel!r} channel needs a JWT: "
                "connect(..., credentials=Credentials(key_name, private_key))",
            )
        self._expire(ctx.now)
        self._remember(
            _Pending(request_id, op, channel, products, tuple(topics), ctx.now, jwt is not None)
        )
        if op == "subscribe":
            self._sent_subscribe = True
            if channel == HEARTBEATS_TOPIC and request_id is not None:
                self._user_heartbeats = True
            if channel == "user" and not products:
                self._user_wide = True
        elif channel == HEARTBEATS_TOPIC and request_id is not None:
            self._user_heartbeats = False
        elif channel == "user" and not products:
            self._user_wide = False
        return encode_client_request(op, channel, products, jwt)

    def encode_subscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str:
        """``{"type": "subscribe", "product_ids": [...], "channel": ..., "jwt": ...}``.

        Raises:
            ValueError: topics of several channels (use :meth:`split_topics`),
                or a malformed topic.
            AuthenticationError: a private channel on a connection without credentials.
        """
        return self._request("subscribe", topics, request_id, ctx)

    def encode_unsubscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str:
        """``{"type": "unsubscribe", ...}``, the same shape as the subscribe."""
        return self._request("unsubscribe", topics, request_id, ctx)

    def _remember(self, pending: _Pending) -> None:
        if len(self._pending) >= _MAX_PENDING:
            self._pending.popleft()
        self._pending.append(pending)

    def _expire(self, now: float) -> None:
        pending = self._pending
        while pending and now - pending[0].sent_at >= self.ack_timeout:
            pending.popleft()

    def _keepalive(self, ctx: SendContext) -> SendFrame:
        frame = self._request("subscribe", (HEARTBEATS_TOPIC,), None, ctx)
        return SendFrame(frame, operation="subscribe")

    # -- feeds across connections -----------------------------------------------------

    def topic_ids(self, topic: str) -> TopicIds | None:
        """``market_trades:<product>`` trade ids (:func:`coinbase_topic_ids`)."""
        return coinbase_topic_ids(topic)

    # -- timers -----------------------------------------------------------------------

    def on_open(self, ctx: SendContext) -> Sequence[Output]:
        """Subscribe ``heartbeats`` at once (with ``heartbeats=False``: arm the 5-second guard)."""
        if self.heartbeats:
            return (self._keepalive(ctx),)
        self._keepalive_at = ctx.now + _KEEPALIVE_AFTER
        return ()

    def next_timer(self) -> float | None:
        """The next heartbeat deadline, 5-second guard or pending-ack expiry."""
        deadlines = [math.inf]
        if self._keepalive_at is not None:
            deadlines.append(self._keepalive_at)
        if self._last_heartbeat is not None and self.heartbeat_timeout is not None:
            deadlines.append(self._last_heartbeat + self.heartbeat_timeout)
        if self._pending:
            deadlines.append(self._pending[0].sent_at + self.ack_timeout)
        deadline = min(deadlines)
        return None if deadline == math.inf else deadline

    def on_timer(self, ctx: SendContext) -> Sequence[Output]:
        """Expire old pending acks; end a silent connection; honour the 5-second rule."""
        now = ctx.now
        self._expire(now)
        out: list[Output] = []
        last = self._last_heartbeat
        timeout = self.heartbeat_timeout
        if last is not None and timeout is not None and now - last >= timeout:
            self._last_heartbeat = None
            out.append(EndConnection(HeartbeatTimeout(now - last, "data")))
            return out
        if self._keepalive_at is not None and now >= self._keepalive_at:
            self._keepalive_at = None
            if not self._sent_subscribe:
                out.append(self._keepalive(ctx))
        return out

    # -- incoming ---------------------------------------------------------------------

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        """Turn one frame into outputs (see the module docstring).

        Raises:
            DecodeError: the frame is not JSON, or a known channel's payload
                does not fit its model.
        """
        try:
            msg: Any = _decoder.decode(data)
        except (msgspec.DecodeError, RecursionError):
            # decode_message decodes it again and says why (or takes the slow path).
            msg = decode_message(data)
        cls = type(msg)
        if cls is MarketTradesMessage:
            # The hot path: the next number, one event of one product's trades
            # (one trade, the common case, needs no loop).
            seq = msg.sequence_num
            events = msg.events
            if seq == self._next_seq and len(events) == 1:
                trades = events[0].trades
                if len(trades) == 1:
                    product = trades[0].product_id
                else:
                    product = trades[0].product_id if trades else ""
                    if not all(t.product_id == product for t in trades):
                        product = None
                if product is not None:
                    self._next_seq = seq + 1
                    topic_name = self._trade_topics.get(product) or self._trade_topic(product)
                    message: Message = _new(Message)
                    _set_topic(message, topic_name)
                    _set_data(message, msg)
                    _set_received_at(message, received_at)
                    return (message,)
        if cls is ErrorMessage:
            return self._error(msg.message, received_at)
        if cls is UnknownMessage:
            return self._unknown(msg, received_at)
        out: list[Output] = []
        gap = self._check_seq(msg.sequence_num)
        if cls is SubscriptionsMessage:
            self._ack(msg, received_at, out)
        elif cls is HeartbeatsMessage:
            self._heartbeat(msg, received_at, out)
        else:
            self._data(msg, received_at, out)
        if gap is not None:
            out.insert(0, GapDetected(_gap_topic(out, cls), gap, msg.sequence_num))
        return out

    def _check_seq(self, seq: int) -> int | None:
        """The connection's sequence check: the number expected when ``seq`` jumps past it.

        A number at or below the last one is ignored, as the venue documents.
        """
        expected = self._next_seq
        if expected is None or seq >= expected:
            self._next_seq = seq + 1
            if expected is not None and seq != expected:
                return expected
        return None

    def _trade_topic(self, product: str) -> str:
        topic_name = self._trade_topics.get(product)
        if topic_name is None:
            topic_name = f"market_trades:{product}"
            if len(self._trade_topics) < _MAX_CACHED_TOPICS:
                self._trade_topics[product] = topic_name
        return topic_name

    def _unknown(self, msg: UnknownMessage, received_at: float) -> list[Output]:
        out: list[Output] = []
        raw = msg.raw
        seq = raw.get("sequence_num") if type(raw) is dict else None
        if type(seq) is int:
            expected = self._check_seq(seq)
            if expected is not None:
                out.append(GapDetected(msg.channel, expected, seq))
        out.append(Message(msg.channel, msg, received_at))
        return out

    def _ack(self, msg: SubscriptionsMessage, now: float, out: list[Output]) -> None:
        current = msg.current()
        self._current = current
        if HEARTBEATS_TOPIC in current:
            if self._last_heartbeat is None:
                self._last_heartbeat = now
        else:
            self._last_heartbeat = None
            self._last_counter = None
        self._expire(now)
        still: deque[_Pending] = deque()
        for pending in self._pending:
            if not pending.done_by(current):
                still.append(pending)
            elif pending.request_id is not None:
                out.append(Response(pending.request_id, result=current))
        self._pending = still

    def _heartbeat(self, msg: HeartbeatsMessage, now: float, out: list[Output]) -> None:
        if self._last_heartbeat is not None:
            self._last_heartbeat = now
        for event in msg.events:
            try:
                counter = event.counter
            except ValueError:
                continue
            last = self._last_counter
            if last is not None and counter > last + 1:
                out.append(GapDetected(HEARTBEATS_TOPIC, last + 1, counter))
            if last is None or counter > last:
                self._last_counter = counter
        if self._user_heartbeats:
            out.append(Message(HEARTBEATS_TOPIC, msg, now))

    def _error(self, text: str, now: float) -> list[Output]:
        self._expire(now)
        pending = self._pending
        chosen: _Pending | None = None
        for candidate in pending:
            if candidate.mentioned_in(text):
                chosen = candidate
                break
        if chosen is None and pending:
            chosen = pending[0]
        if chosen is None:
            return [ErrorEvent(VenueError(None, text))]
        pending.remove(chosen)
        error = _classify_error(text, chosen)
        if chosen.request_id is None:
            return [ErrorEvent(error)]
        return [Response(chosen.request_id, error=error)]

    # -- data -------------------------------------------------------------------------

    def _data(self, msg: Any, now: float, out: list[Output]) -> None:
        cls = type(msg)
        if cls is MarketTradesMessage:
            self._by_product(msg, now, out, "market_trades", "trades")
        elif cls is L2DataMessage:
            events = msg.events
            first = events[0].product_id if events else ""
            if all(e.product_id == first for e in events):
                out.append(_message(f"level2:{first}", msg, now))
            else:
                for product, group in _group(events, lambda e: e.product_id):
                    out.append(
                        Message(
                            f"level2:{product}", msgspec.structs.replace(msg, events=group), now
                        )
                    )
        elif cls is TickerMessage:
            self._by_product(msg, now, out, "ticker", "tickers")
        elif cls is TickerBatchMessage:
            self._by_product(msg, now, out, "ticker_batch", "tickers")
        elif cls is CandlesMessage:
            self._by_product(msg, now, out, "candles", "candles")
        elif cls is StatusMessage:
            out.append(Message(STATUS_TOPIC, msg, now))
        elif cls is UserMessage:
            self._user(msg, now, out)
        else:  # futures_balance_summary
            out.append(Message("futures_balance_summary", msg, now))

    def _by_product(
        self, msg: Any, now: float, out: list[Output], channel: str, field: str
    ) -> None:
        """One Message per product: events' items of several products are split up."""
        events = msg.events
        first: str | None = None
        mixed = False
        for event in events:
            for item in getattr(event, field):
                product = item.product_id
                if first is None:
                    first = product
                elif product != first:
                    mixed = True
                    break
            if mixed:
                break
        if not mixed:
            out.append(_message(f"{channel}:{first or ''}", msg, now))
            return
        products = dict.fromkeys(
            item.product_id for event in events for item in getattr(event, field)
        )
        for product in products:
            kept = tuple(
                msgspec.structs.replace(
                    event,
                    **{field: tuple(i for i in getattr(event, field) if i.product_id == product)},
                )
                for event in events
                if any(i.product_id == product for i in getattr(event, field))
            )
            out.append(
                Message(f"{channel}:{product}", msgspec.structs.replace(msg, events=kept), now)
            )

    def _user(self, msg: UserMessage, now: float, out: list[Output]) -> None:
        if self._user_wide:
            out.append(Message("user", msg, now))
            return
        products = dict.fromkeys(o.product_id for e in msg.events for o in e.orders)
        if len(products) <= 1:
            product = next(iter(products), None)
            out.append(Message("user" if product is None else f"user:{product}", msg, now))
            return
        # Orders of several products: one message each (positions stay with the first).
        for index, product in enumerate(products):
            events = tuple(
                msgspec.structs.replace(
                    e,
                    orders=tuple(o for o in e.orders if o.product_id == product),
                    positions=e.positions if index == 0 else None,
                )
                for e in msg.events
            )
            out.append(Message(f"user:{product}", msgspec.structs.replace(msg, events=events), now))


def _gap_topic(out: Sequence[Output], cls: type) -> str | None:
    """The topic of the message that revealed a jump (the first one delivered), if any."""
    for item in out:
        if isinstance(item, Message):
            return item.topic
    return HEARTBEATS_TOPIC if cls is HeartbeatsMessage else None


def _group(items: Iterable[Any], key: Callable[[Any], str]) -> list[tuple[str, tuple[Any, ...]]]:
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return [(name, tuple(members)) for name, members in groups.items()]


def _classify_error(text: str, pending: _Pending) -> VenueError:
    """The typed error for Coinbase's ``{"type": "error"}`` answering ``pending``."""
    channel = pending.channel
    if _AUTH_FAILURE in text.lower():
        if channel in PRIVATE_CHANNELS:
            return AuthenticationError(
                None,
                f"{text} (subscribing {channel!r}): the key was refused or its JWT expired; "
                "check the key name and private key",
            )
        if channel not in CHANNELS:
            hint = (
                f"{channel!r} is not a Coinbase channel: Coinbase answers a misspelt channel "
                f"this way (channels: {', '.join(CHANNELS)})"
            )
        elif pending.signed:
            # A known public channel refused with a JWT attached: the key itself.
            return AuthenticationError(
                None,
                f"{text} (subscribing {channel!r} with a JWT): the key was refused or its "
                "JWT expired; public channels also work without credentials",
            )
        else:
            hint = (
                f"{channel!r} is public and no JWT was sent, so this is not the credentials: "
                "check the channel name (Coinbase answers a misspelt one this way)"
            )
        return SubscriptionError(None, f"{text}: {hint}", pending.topics)
    return SubscriptionError(None, text, pending.topics)


def _default_signer(credentials: Credentials) -> CoinbaseJwtSigner:
    return CoinbaseJwtSigner(credentials.api_key, credentials.secret.reveal())
