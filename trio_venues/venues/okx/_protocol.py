"""The OKX v5 sans-I/O core: one class for the public, business and private endpoints.

:class:`OkxCore` never imports trio and never does I/O. What it does, with the
facts behind it in ``docs/venues/okx.md``:

- **Data**: each item of a push becomes ``Message(topic, item)``, the topic
  spelt from the push's argument (``"trades:BTC-USDT"``, see :mod:`._topics`).
  Book channels with sequence ids (``books``, ``books-l2-tbt``,
  ``books50-l2-tbt``) are checked: an update whose ``prevSeqId`` is not the
  last ``seqId`` is preceded by ``GapDetected`` (the keep-alive update with
  ``prevSeqId == seqId`` and a sequence reset with ``seqId < prevSeqId`` are
  valid, as OKX documents).
- **Acks**: OKX acknowledges each argument of a subscribe separately; the
  core keeps the request until every argument is answered and then gives the
  shell one ``Response`` listing the accepted and refused topics. An error
  event names no argument: when exactly one unanswered argument's values all
  appear in its message, that one is refused and the rest still awaited;
  otherwise every unanswered argument is refused with it.
- **Login**: on the private endpoint (and on the business endpoint when
  credentials are given) ``encode_login`` signs a ``login`` request; its ack,
  or an error event while it is pending, is the log-on's ``Response``
  (``AuthenticationError`` for 60004-60007, 60009, 60024, 60031, 60032).
- **Keepalive**: the core's timer sends the text ``ping`` after
  ``ping_after`` seconds without a message and ends the connection with
  ``HeartbeatTimeout(kind="venue")`` when no ``pong`` follows within
  ``pong_timeout``.
- **Order entry** (``order``, ``batch-orders``, ``cancel-order``,
  ``amend-order`` ...) through ``encode_request``, answered by the reply with
  the same ``id``.
- **Notices**: 64008 (service upgrade) is delivered as a ``Message`` and
  is a ``PlannedShutdown`` 60 s ahead (``ServerRequested``: the connection
  ends at once unless ``shutdown_notice="event"``); ``channel-conn-count``
  arrives as a ``Message`` and ``channel-conn-count-error`` as a ``Message``
  and an ``ErrorEvent``.
- **Close codes** 4001-4009 map to reasons (:func:`classify_okx_close`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs
import orjson

from ..._codec import decimal_to_wire, slot_setters
from ..._core import (
    EndConnection,
    Output,
    PlannedShutdown,
    RequestId,
    Response,
    SendContext,
    SendFrame,
    VenueCore,
    VenuePong,
    credentials_of,
)
from ..._identity import TopicIds, single_id
from ...errors import (
    AuthenticationError,
    ConfigError,
    DecodeError,
    SubscriptionError,
    UnexpectedResponse,
    VenueError,
)
from ...events import ErrorEvent, GapDetected, Message
from ...reasons import (
    AuthenticationFailed,
    DisconnectReason,
    HeartbeatTimeout,
    RemoteClosed,
    ServerRequested,
    SlowConsumer,
)
from ._limits import MAX_REQUEST_BYTES, OKX_LIMITS
from ._signing import login_args
from ._topics import arg_key, arg_topic, topic_arg
from ._wire import (
    Arg,
    BookMessage,
    ChannelConnCount,
    ChannelConnCountError,
    ErrorMessage,
    LoginAck,
    Notice,
    OpResponse,
    Push,
    SubscribeAck,
    UnknownMessage,
    UnsubscribeAck,
    decode_frame,
    decode_push,
)
from ._wire import Trade as _Trade

__all__ = [
    "AUTH_ERROR_CODES",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEPTH_CHANNELS",
    "ENDPOINT_PATHS",
    "MAX_DEPTH_CHANNELS",
    "ORDER_OPS",
    "UPGRADE_LEAD",
    "OkxCore",
    "OkxRequest",
    "classify_okx_close",
    "decode_request",
    "okx_topic_ids",
    "okx_url",
]

#: OKX's production host and port [OKX-SVC]; see ``okx_url`` to change them.
DEFAULT_HOST: Final = "ws.okx.com"
DEFAULT_PORT: Final = 8443
#: The demo-trading host [OKX-SVC].
DEMO_HOST: Final = "wspap.okx.com"
#: The path of each endpoint [OKX-SVC].
ENDPOINT_PATHS: Final = {
    "public": "/ws/v5/public",
    "business": "/ws/v5/business",
    "private": "/ws/v5/private",
}
#: Order-entry operations sent with ``ws.request`` on the private endpoint [OKX-WS "Trade"].
ORDER_OPS: Final = frozenset(
    {
        "order",
        "batch-orders",
        "cancel-order",
        "batch-cancel-orders",
        "amend-order",
        "batch-amend-orders",
        "mass-cancel",
    }
)
#: Error codes that mean the credentials or the signature are wrong [OKX-ERR].
AUTH_ERROR_CODES: Final = frozenset(
    {"60004", "60005", "60006", "60007", "60009", "60024", "60031", "60032"}
)
#: Error codes worth retrying later [OKX-ERR]: too frequent, internal errors.
_RETRYABLE_CODES: Final = frozenset({"60014", "63999", "64007"})
#: The service-upgrade notice [OKX-WS "Notification"].
UPGRADE_NOTICE: Final = "64008"
#: Seconds between the 64008 notice and the close: "about 60 s" (older pages
#: said 30 s) [OKX-WS "Notification"; docs/venues/okx.md].
UPGRADE_LEAD: Final = 60.0
#: Order-book channels, counted against :data:`MAX_DEPTH_CHANNELS` [OKX-OB].
DEPTH_CHANNELS: Final = frozenset(
    {"books", "books5", "bbo-tbt", "books-l2-tbt", "books50-l2-tbt", "books-elp"}
)
#: OKX recommends fewer than 30 depth channels per connection [OKX-OB]: at most 29.
MAX_DEPTH_CHANNELS: Final = 29
#: Book channels whose pushes chain ``prevSeqId`` to the previous ``seqId`` [OKX-OB].
SEQUENCED_BOOKS: Final = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
#: Channels that need a login [OKX-WS]; subscribing them on ``public`` is refused.
PRIVATE_CHANNELS: Final = frozenset({"orders", "account", "positions", "balance_and_position"})

# Messages of the hot path are built through their slots (see ``_codec.slot_setters``).
_new: Final = object.__new__
_set_topic, _set_data, _set_received_at = slot_setters(Message)

# OKX's request ids: up to 32 letters and digits [OKX-WS "Subscribe"].
_MAX_ID = 32
_PING: Final = "ping"
_PONG: Final = "pong"


def okx_url(
    endpoint: str = "public",
    *,
    host: str = DEFAULT_HOST,
    port: int | None = DEFAULT_PORT,
    demo: bool = False,
) -> str:
    """The URL of an OKX endpoint, with the host and port you choose.

    OKX's pages list port 8443; a later report says 8443 closed for WebSocket
    at the end of October 2026 in favour of 443 (``docs/venues/okx.md``,
    "Endpoints"): ``okx_url("public", port=443)`` or ``port=None`` (the
    scheme's default) gives that one.

    Args:
        endpoint: ``"public"``, ``"business"`` or ``"private"``.
        host: the host (``"wseea.okx.com"``, ``"wsus.okx.com"`` ...).
        port: the port, or ``None`` for none in the URL.
        demo: the demo-trading host (ignored when ``host`` is not the default).
    """
    if endpoint not in ENDPOINT_PATHS:
        raise ValueError(f"unknown OKX endpoint {endpoint!r}; use {', '.join(ENDPOINT_PATHS)}")
    if demo and host == DEFAULT_HOST:
        host = DEMO_HOST
    where = host if port is None else f"{host}:{port}"
    return f"wss://{where}{ENDPOINT_PATHS[endpoint]}"


def classify_okx_close(code: int, reason: str) -> DisconnectReason:
    """OKX's close codes (``docs/venues/okx.md``, "Close codes").

    4001/4007 are authentication (never retried), 4004 the keepalive, 4005 a
    slow consumer, 4003/4008/4009 subscription limits and 4002 an invalid
    request (not retried as they are), 4006 an abnormal disconnection
    (retried); other codes follow the generic table.
    """
    if code in (4001, 4007):
        return AuthenticationFailed(f"OKX closed the connection with {code}: {reason}")
    if code == 4004:
        return HeartbeatTimeout(30.0, "venue")
    if code == 4005:
        return SlowConsumer(0)
    if code in (4002, 4003, 4008, 4009):
        return RemoteClosed(code, reason, venue_retryable=False)
    if code == 4006:
        return RemoteClosed(code, reason, venue_retryable=True)
    return RemoteClosed(code, reason)


def _venue_error(code: str, message: str) -> VenueError:
    if code in AUTH_ERROR_CODES:
        return AuthenticationError(code, message, retryable=False)
    return VenueError(code, message, retryable=code in _RETRYABLE_CODES)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_to_wire(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON: {value!r:.60}")


def _reject_floats(value: Any, where: str) -> None:
    """Refuse binary floats anywhere in request args: prices must be exact."""
    if isinstance(value, float):
        raise TypeError(f"{where} is a float ({value!r}); send a Decimal or a str instead")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _reject_floats(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_floats(item, f"{where}[{index}]")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj, default=_json_default).decode()


def _check_id(request_id: RequestId) -> str:
    text = str(request_id)
    if not (0 < len(text) <= _MAX_ID and text.isascii() and text.isalnum()):
        raise ValueError(f"OKX request ids are 1 to 32 letters and digits, not {request_id!r}")
    return text


@attrs.define
class _Pending:
    """A subscribe/unsubscribe waiting for one ack per argument."""

    op: str
    request_id: RequestId
    remaining: dict[tuple[str, str | None, str | None, str | None, str | None], str]
    accepted: list[str] = attrs.field(factory=list)
    refused: list[tuple[str, VenueError]] = attrs.field(factory=list)


def _trade_id(data: Any) -> int | None:
    if type(data) is _Trade:
        text = data.trade_id
        if text.isascii() and text.isdigit():
            return int(text)
    return None


def _book_span(data: Any) -> tuple[int, int] | None:
    if type(data) is not BookMessage:
        return None
    seq, prev = data.seq_id, data.prev_seq_id
    if seq is None:
        return None
    if prev is None or prev < 0 or prev >= seq:
        # A snapshot (prevSeqId -1), the keep-alive update (prevSeqId ==
        # seqId: it repeats the last id and brings nothing new) and a restart.
        return seq, seq
    return prev + 1, seq


def _book_restarts(data: Any) -> bool:
    # After a maintenance the sequence may restart lower: seqId < prevSeqId
    # [docs/venues/okx.md, "Books"].
    if type(data) is not BookMessage:
        return False
    seq, prev = data.seq_id, data.prev_seq_id
    return seq is not None and prev is not None and 0 <= seq < prev


_TRADE_IDS: Final = single_id(_trade_id)
# Book updates hold absolute sizes: delivered whole, never trimmed.
_BOOK_IDS: Final = TopicIds(_book_span, restarts=_book_restarts)


def okx_topic_ids(topic: str) -> TopicIds | None:
    """The venue ids of an OKX topic, or ``None`` (see ``VenueCore.topic_ids``).

    ``trades:<instId>`` and ``trades-all:<instId>``: the trade id
    (``tradeId``, the last of an aggregation on ``trades``), one per
    message. ``books``, ``books-l2-tbt`` and ``books50-l2-tbt``: the
    ``seqId`` chain, an update spanning ``prevSeqId + 1 .. seqId``. Other
    channels (tickers, candles, ``books5``, ``bbo-tbt``, private channels)
    have none (``docs/venues/okx.md``, "Ids across connections").
    """
    channel, _, rest = topic.partition(":")
    if not rest or ":" in rest:
        return None
    if channel in ("trades", "trades-all"):
        return _TRADE_IDS
    if channel in SEQUENCED_BOOKS:
        return _BOOK_IDS
    return None


class OkxCore(VenueCore):
    """The sans-I/O core of one OKX connection (see the module docstring).

    Args:
        endpoint: ``"public"``, ``"business"`` or ``"private"``: what kind of
            connection this is (it decides whether to log in).
        ping_after: seconds without a message before the text ``ping``; OKX
            closes a connection silent for 30 s, so it must be below 30.
        pong_timeout: seconds to wait for the ``pong``.
    """

    name = "okx"
    limits = OKX_LIMITS
    venue_ping_interval = None

    def __init__(
        self, endpoint: str = "public", *, ping_after: float = 20.0, pong_timeout: float = 8.0
    ) -> None:
        super().__init__()
        if endpoint not in ENDPOINT_PATHS:
            raise ConfigError(f"unknown OKX endpoint {endpoint!r}; use {', '.join(ENDPOINT_PATHS)}")
        if not 0 < ping_after < 30:
            raise ConfigError(
                f"OKX ping_after (venue_ping_interval) must be > 0 and < 30 seconds: OKX "
                f"closes a connection silent for 30 s; got {ping_after!r}"
            )
        if not (pong_timeout > 0 and math.isfinite(pong_timeout)):
            raise ConfigError(f"pong_timeout must be > 0, not {pong_timeout!r}")
        self.endpoint = endpoint
        self.ping_after = ping_after
        self.pong_timeout = pong_timeout
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._requests: dict[str, str] = {}
        self._login_id: RequestId | None = None
        self._topics: dict[Arg, str] = {}
        self._subscribed: set[str] = set()
        self._last_seq: dict[str, int] = {}
        # Keepalive: the last message, and the unanswered ping.
        self._last_received: float | None = None
        self._ping_sent_at: float | None = None
        self._ended = False

    # -- ids --------------------------------------------------------------------

    def next_request_id(self) -> str:
        """A fresh id: a decimal counter, as OKX takes up to 32 letters and digits."""
        return str(next(self._ids))

    # -- incoming -----------------------------------------------------------------

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        """Turn one received frame into outputs (see the module docstring)."""
        self._last_received = received_at
        if type(data) is not str:
            raise DecodeError("OKX sends JSON text frames; got a binary frame", data)
        # The hot path: a push of a channel decoded straight from the text.
        push = decode_push(data)
        if push is not None:
            arg = push.arg
            topic = self._topics.get(arg)
            if topic is None:
                topic = self._topic(arg)
            items = push.data
            if len(items) == 1 and arg.channel not in SEQUENCED_BOOKS:
                message: Message = _new(Message)
                _set_topic(message, topic)
                _set_data(message, items[0])
                _set_received_at(message, received_at)
                return (message,)
            return self._push(push, received_at)
        if data == _PONG:
            self._ping_sent_at = None
            return (VenuePong(b"pong"),)
        decoded = decode_frame(data)
        if isinstance(decoded, Push):
            return self._push(decoded, received_at)
        return self._other(decoded, received_at)

    def _topic(self, arg: Arg) -> str:
        topic = self._topics.get(arg)
        if topic is None:
            topic = arg_topic(arg)
            if len(self._topics) < 4096:
                self._topics[arg] = topic
        return topic

    def _push(self, push: Push[Any], received_at: float) -> Sequence[Output]:
        topic = self._topics.get(push.arg)
        if topic is None:
            topic = self._topic(push.arg)
        if push.arg.channel in SEQUENCED_BOOKS:
            return self._book_push(topic, push, received_at)
        out: list[Output] = []
        for item in push.data:
            # Built through its slots, as the Binance core does: the hot path.
            message: Message = _new(Message)
            _set_topic(message, topic)
            _set_data(message, item)
            _set_received_at(message, received_at)
            out.append(message)
        return out

    def _book_push(self, topic: str, push: Push[Any], received_at: float) -> list[Output]:
        out: list[Output] = []
        for book in push.data:
            seq, prev = book.seq_id, book.prev_seq_id
            if seq is not None and prev is not None:
                last = self._last_seq.get(topic)
                # A snapshot (prevSeqId -1) starts a chain; an update must
                # continue it: prevSeqId == last seqId. The keep-alive update
                # (prev == seq) and a reset after maintenance (seq < prev)
                # continue it too [docs/venues/okx.md, "Books"].
                if prev != -1 and last is not None and prev != last and seq >= prev:
                    out.append(GapDetected(topic, last, prev))
                self._last_seq[topic] = seq
            out.append(Message(topic, book, received_at))
        return out

    def _other(self, decoded: Any, received_at: float) -> Sequence[Output]:
        if isinstance(decoded, SubscribeAck | UnsubscribeAck):
            op = "subscribe" if isinstance(decoded, SubscribeAck) else "unsubscribe"
            return self._ack(op, decoded.arg, decoded.id)
        if isinstance(decoded, LoginAck):
            return self._login_ack(decoded)
        if isinstance(decoded, ErrorMessage):
            return self._error(decoded)
        if isinstance(decoded, OpResponse):
            return self._op_response(decoded)
        if isinstance(decoded, Notice):
            if decoded.code == UPGRADE_NOTICE:
                # The keepalive goes on: under shutdown_notice="event" the
                # connection lives until OKX closes it, about a minute later.
                return (
                    Message(None, decoded, received_at),
                    PlannedShutdown(
                        ServerRequested(f"OKX notice 64008: {decoded.message}"),
                        received_at + UPGRADE_LEAD,
                    ),
                )
            return (Message(None, decoded, received_at),)
        if isinstance(decoded, ChannelConnCountError):
            topics = tuple(t for t in self._subscribed_of(decoded.channel))
            error = SubscriptionError(
                "channel-conn-count-error",
                f"OKX refused the {decoded.channel!r} subscription: {decoded.conn_count} "
                "connections already subscribe to it (30 per sub-account)",
                topics,
            )
            return (Message(None, decoded, received_at), ErrorEvent(error))
        if isinstance(decoded, ChannelConnCount):
            return (Message(None, decoded, received_at),)
        if isinstance(decoded, UnknownMessage) and decoded.arg is not None:
            return (Message(self._topic(decoded.arg), decoded, received_at),)
        return (Message(None, decoded, received_at),)

    def _subscribed_of(self, channel: str) -> list[str]:
        prefix = channel + ":"
        return sorted(t for t in self._subscribed if t == channel or t.startswith(prefix))

    # -- acks -----------------------------------------------------------------------

    def _ack(self, op: str, arg: Arg, ack_id: str | None) -> Sequence[Output]:
        key = arg_key(arg)
        pending = self._pending.get(ack_id) if ack_id is not None else None
        if pending is None:
            # Older acks carry no id: the first request of this op waiting for the argument.
            pending = next(
                (p for p in self._pending.values() if p.op == op and key in p.remaining), None
            )
        topic = arg_topic(arg)
        if op == "subscribe":
            self._subscribed.add(topic)
        else:
            self._subscribed.discard(topic)
        if pending is None or key not in pending.remaining:
            # An ack for a request already answered (or not ours): a late
            # outcome, which the shell reports (or an id-less one, reported here).
            if ack_id is None:
                return (
                    ErrorEvent(UnexpectedResponse(None, late=True, result=_decoded_ack(op, topic))),
                )
            return (Response(ack_id, accepted=(topic,)),)
        pending.accepted.append(pending.remaining.pop(key))
        return self._maybe_done(pending)

    def _maybe_done(self, pending: _Pending) -> Sequence[Output]:
        if pending.remaining:
            return ()
        del self._pending[str(pending.request_id)]
        if pending.op == "unsubscribe":
            for topic in pending.accepted:
                self._last_seq.pop(topic, None)
        error = pending.refused[0][1] if pending.refused else None
        return (
            Response(
                pending.request_id,
                error=error,
                accepted=tuple(pending.accepted),
                refused=tuple(pending.refused),
            ),
        )

    def _error(self, error: ErrorMessage) -> Sequence[Output]:
        venue_error = _venue_error(error.code, error.message)
        if error.id is not None:
            pending = self._pending.get(error.id)
            if pending is not None:
                return self._refuse(pending, error)
            if error.id in self._requests:
                del self._requests[error.id]
                return (Response(error.id, error=venue_error),)
        if self._login_id is not None and error.id is None:
            login_id, self._login_id = self._login_id, None
            auth = AuthenticationError(
                error.code, error.message, retryable=error.code in _RETRYABLE_CODES
            )
            return (Response(login_id, error=auth),)
        return (ErrorEvent(venue_error),)

    def _refuse(self, pending: _Pending, error: ErrorMessage) -> Sequence[Output]:
        message = error.message
        # The topics whose every argument value appears in the message.
        named = [
            key for key in pending.remaining if all(v in message for v in key if v is not None)
        ]
        keys = named if len(named) == 1 else list(pending.remaining)
        for key in keys:
            topic = pending.remaining.pop(key)
            refusal = SubscriptionError(error.code, error.message, (topic,))
            pending.refused.append((topic, refusal))
        return self._maybe_done(pending)

    def _login_ack(self, ack: LoginAck) -> Sequence[Output]:
        if self._login_id is None:
            return (ErrorEvent(VenueError(ack.code, "OKX acknowledged a login we did not send")),)
        login_id, self._login_id = self._login_id, None
        if ack.code != "0":
            return (Response(login_id, error=AuthenticationError(ack.code, ack.message)),)
        return (Response(login_id, result={"connId": ack.conn_id}),)

    def _op_response(self, reply: OpResponse) -> Sequence[Output]:
        op = self._requests.pop(reply.id, None)
        if op is None:
            # Not waited for (late, or not ours): the shell reports it.
            return (Response(reply.id, result=reply),)
        if reply.code in ("0", "2"):
            # "2": a batch where some orders failed; each OrderResult says which.
            return (Response(reply.id, result=reply.data),)
        if reply.code == "1" and reply.data:
            first = next((r for r in reply.data if r.s_code != "0"), reply.data[0])
            error = VenueError(
                first.s_code,
                first.s_msg or reply.message or "",
                data={"results": reply.data},
            )
            return (Response(reply.id, error=error),)
        return (Response(reply.id, error=_venue_error(reply.code, reply.message or "")),)

    # -- outgoing -----------------------------------------------------------------------

    def split_topics(self, op: str, topics: Sequence[str]) -> list[tuple[str, ...]]:
        """Batches whose arguments total at most 64 KB of JSON (OKX's limit), order kept."""
        budget = MAX_REQUEST_BYTES - 64  # room for {"id": ..., "op": ..., "args": []}
        batches: list[tuple[str, ...]] = []
        current: list[str] = []
        size = 0
        for topic in topics:
            cost = len(_dumps(topic_arg(topic))) + 1
            if current and size + cost > budget:
                batches.append(tuple(current))
                current, size = [], 0
            current.append(topic)
            size += cost
        if current:
            batches.append(tuple(current))
        return batches

    def _encode_topics(self, op: str, topics: Sequence[str], request_id: RequestId) -> str:
        if isinstance(topics, str):
            raise TypeError("topics must be a sequence of OKX topics, not one str")
        rid = _check_id(request_id)
        args = [topic_arg(topic) for topic in topics]
        if not args:
            raise ValueError(f"{op} needs at least one topic")
        if op == "subscribe" and self.endpoint == "public":
            private = sorted({a["channel"] for a in args} & PRIVATE_CHANNELS)
            if private:
                raise ValueError(
                    f"{', '.join(private)} need a login: connect with endpoint='private' "
                    "and credentials"
                )
        remaining = {arg_key(_arg_of(arg)): topic for arg, topic in zip(args, topics, strict=True)}
        if len(remaining) != len(args):
            raise ValueError(f"a topic appears twice in one {op}: {list(topics)}")
        self._pending[rid] = _Pending(op, request_id, remaining)
        return _dumps({"id": rid, "op": op, "args": args})

    def encode_subscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str:
        """``{"id": "7", "op": "subscribe", "args": [{...}, ...]}``; one ack per argument."""
        return self._encode_topics("subscribe", topics, request_id)

    def encode_unsubscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str:
        """``{"id": "8", "op": "unsubscribe", "args": [{...}, ...]}``."""
        return self._encode_topics("unsubscribe", topics, request_id)

    def encode_request(
        self, method: str, params: Any, request_id: RequestId, ctx: SendContext
    ) -> str:
        """An order-entry request: ``{"id", "op": method, "args": [...]}``.

        Args:
            method: one of :data:`ORDER_OPS` (``"order"``, ``"batch-orders"``,
                ``"cancel-order"``, ``"amend-order"`` ...).
            params: one order's arguments (a mapping) or several (a list of
                mappings), with OKX's keys (``instId``, ``tdMode``, ``side``,
                ``ordType``, ``px``, ``sz`` ...); ``Decimal`` values are sent as
                strings, binary floats refused.
            request_id: the id the reply echoes.
        """
        if method not in ORDER_OPS:
            raise ValueError(f"unknown OKX operation {method!r}; valid: {sorted(ORDER_OPS)}")
        if self.endpoint != "private":
            raise ValueError(f"{method!r} is sent on the private endpoint (endpoint='private')")
        rid = _check_id(request_id)
        items = [params] if isinstance(params, Mapping) else list(params)
        if not items or not all(isinstance(item, Mapping) for item in items):
            raise TypeError("params must be a mapping or a non-empty list of mappings")
        _reject_floats(items, "params")
        self._requests[rid] = method
        return _dumps({"id": rid, "op": method, "args": [dict(item) for item in items]})

    def encode_login(self, request_id: RequestId, ctx: SendContext) -> str | None:
        """The signed ``login`` request on ``private`` (and ``business`` with credentials)."""
        if self.endpoint == "public" or (self.endpoint == "business" and ctx.credentials is None):
            return None
        credentials = credentials_of(ctx)
        if credentials.passphrase is None:
            raise AuthenticationError(
                None, "OKX logins need a passphrase: Credentials(api_key, secret, passphrase)"
            )
        args = login_args(
            credentials.api_key,
            credentials.secret.reveal(),
            credentials.passphrase.reveal(),
            ctx.wall_time,
        )
        self._login_id = request_id
        return _dumps({"op": "login", "args": [args]})

    # -- keepalive ------------------------------------------------------------------------

    def on_open(self, ctx: SendContext) -> Sequence[Output]:
        """Start the keepalive clock."""
        if self._last_received is None:
            self._last_received = ctx.now
        return ()

    def next_timer(self) -> float | None:
        """When to ping (``ping_after`` after the last message) or give up on the pong."""
        if self._ended:
            return None
        if self._ping_sent_at is not None:
            return self._ping_sent_at + self.pong_timeout
        if self._last_received is None:
            return None
        return self._last_received + self.ping_after

    def on_timer(self, ctx: SendContext) -> Sequence[Output]:
        """Send ``ping`` after a silence; end the connection when its ``pong`` is late."""
        now = ctx.now
        if self._ping_sent_at is not None:
            if now >= self._ping_sent_at + self.pong_timeout:
                last = self._last_received
                silence = now - (self._ping_sent_at if last is None else last)
                self._ended = True  # the connection is over: no timer any more
                return (EndConnection(HeartbeatTimeout(silence, "venue")),)
            return ()
        if self._last_received is not None and now >= self._last_received + self.ping_after:
            self._ping_sent_at = now
            return (SendFrame(_PING, operation="ping"),)
        return ()

    # -- feeds across connections -----------------------------------------------------------

    def topic_ids(self, topic: str) -> TopicIds | None:
        """Trade ids of ``trades``, ``seqId`` of sequenced books (:func:`okx_topic_ids`)."""
        return okx_topic_ids(topic)

    def connection_fits(self, topics: Sequence[str]) -> bool:
        """At most :data:`MAX_DEPTH_CHANNELS` book channels (OKX's recommendation) [OKX-OB]."""
        depth = sum(1 for topic in set(topics) if topic.partition(":")[0] in DEPTH_CHANNELS)
        return depth <= MAX_DEPTH_CHANNELS and super().connection_fits(topics)

    # -- lifecycle ------------------------------------------------------------------------

    def classify_close(self, code: int, reason: str) -> DisconnectReason:
        """See :func:`classify_okx_close`."""
        return classify_okx_close(code, reason)


def _decoded_ack(op: str, topic: str) -> dict[str, str]:
    """What an unmatched ack said, for the ``UnexpectedResponse`` that reports it."""
    return {"event": op, "topic": topic}


def _arg_of(fields: Mapping[str, str]) -> Arg:
    return Arg(
        fields["channel"],
        inst_id=fields.get("instId"),
        inst_type=fields.get("instType"),
        inst_family=fields.get("instFamily"),
        ccy=fields.get("ccy"),
    )


# -- what a (fake) server receives ------------------------------------------------------


@attrs.frozen
class OkxRequest:
    """A request a client sent to OKX (what a fake server parses).

    Attributes:
        op: ``"subscribe"``, ``"unsubscribe"``, ``"login"``, ``"order"`` ...
        args: the argument objects.
        request_id: the ``id``, when there was one.
    """

    op: str
    args: tuple[dict[str, Any], ...]
    request_id: str | None


def decode_request(data: str | bytes) -> OkxRequest:
    """Parse a client request frame (``{"op", "args"[, "id"]}``).

    Raises:
        DecodeError: not JSON, not an object, no string ``op``, ``args`` not an
            array of objects, or an ``id`` that is not a string.
    """
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"OKX request: malformed JSON ({exc})", data) from None
    if type(obj) is not dict:
        raise DecodeError("OKX request: expected a JSON object", data)
    op, args, rid = obj.get("op"), obj.get("args", []), obj.get("id")
    if type(op) is not str or type(args) is not list or not all(type(a) is dict for a in args):
        raise DecodeError(
            "OKX request: expected a string 'op' and an array 'args' of objects", data
        )
    if rid is not None and type(rid) is not str:
        raise DecodeError("OKX request: 'id' must be a string", data)
    return OkxRequest(op, tuple(args), rid)
