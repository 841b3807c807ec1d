"""The Bybit v5 sans-I/O core: one class for every endpoint, told which one it serves.

:class:`BybitCore` never imports trio and never reads a clock; time and
credentials arrive in each ``SendContext``. What differs per endpoint
(``docs/venues/bybit.md``):

- the ack shape: spot/linear/inverse echo our ``req_id``; the private stream
  echoes none (acks are matched to our requests in order, per operation);
  option and spread answer ``COMMAND_RESP`` with the accepted and refused
  topics listed apart (matched to the request that named those topics);
- the pong shape (five of them), all turned into ``VenuePong``;
- tickers: linear/inverse deltas are merged into whole tickers
  (:class:`~trio_venues.venues.bybit.TickerMerger`); the raw delta rides along;
- log-on: ``private`` and ``trade`` send ``auth`` first, with ``expires`` a
  configurable headroom ahead of the wall clock;
- requests: only ``trade`` takes them (``order.create`` ...), with the
  camelCase envelope, correlated by ``reqId``.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import orjson

from ..._codec import DECODE_FAILURES, decimal_to_wire, raise_decode_error, slot_setters
from ..._core import (
    EndConnection,
    Output,
    PlannedShutdown,
    RequestId,
    Response,
    SendContext,
    UsageReport,
    VenueCore,
    VenuePong,
    credentials_of,
)
from ..._identity import TopicIds
from ...errors import ConfigError, RateLimitExceeded, SubscriptionError, VenueError
from ...events import ErrorEvent, GapDetected, Message
from ...reasons import ServerRequested
from ._errors import auth_error, trade_error
from ._limits import limits_for
from ._signing import DEFAULT_AUTH_HEADROOM, auth_args, auth_expires
from ._tickers import MissingTickerSnapshot, TickerMerger
from ._topics import MAX_ARGS_CHARS, split_args, validate_topic
from ._wire import (
    _HOT_DECODERS,
    _TOPIC_START,
    CommandResponse,
    MaintenanceNotice,
    OpResponse,
    OrderbookMessage,
    SystemStatusMessage,
    TradeResponse,
    parse_frame,
    topic_prefix,
    typed_message,
)

__all__ = [
    "BATCH_OPS",
    "CATEGORIES",
    "ORDER_OPS",
    "BybitCore",
    "bybit_topic_ids",
]

#: Endpoints a :class:`BybitCore` can serve.
CATEGORIES: Final = ("spot", "linear", "inverse", "option", "spread", "private", "trade", "status")
_PUBLIC: Final = frozenset({"spot", "linear", "inverse", "option", "spread", "status"})
_MERGED_TICKERS: Final = frozenset({"linear", "inverse"})
_COMMAND_ACKS: Final = frozenset({"option", "spread"})
#: Order-entry operations taking one order [BY-TG].
ORDER_OPS: Final = frozenset({"order.create", "order.amend", "order.cancel"})
#: Their batch forms, taking ``{"category": ..., "request": [...]}``.
BATCH_OPS: Final = frozenset({"order.create-batch", "order.amend-batch", "order.cancel-batch"})
#: The receive window of order-entry requests (Bybit's default) [BY-TG].
DEFAULT_RECV_WINDOW_MS: Final = 5000
#: Option connections carry at most this many topics [BY-C].
MAX_OPTION_TOPICS: Final = 2000
_TOPIC_COST: Final = 3  # quotes and comma of each topic in the JSON args array
#: ``system.status`` states that announce a maintenance to come or under way [BY-SS].
MAINTENANCE_STATES: Final = frozenset({"scheduled", "ongoing"})
# The most maintenance notices a status connection remembers, so that the same
# announcement repeated in later pushes is reported once.
_MAX_ANNOUNCED: Final = 256


def _book_span(data: Any) -> tuple[int, int] | None:
    if type(data) is OrderbookMessage:
        update_id = data.book.update_id
        return update_id, update_id
    return None


def _book_restarts(data: Any) -> bool:
    # "u == 1" marks the snapshot after a service restart: the numbering starts
    # again [docs/venues/bybit.md, "Books"].
    return type(data) is OrderbookMessage and data.type == "snapshot" and data.book.update_id == 1


# Deltas hold absolute sizes: delivered whole, never trimmed.
_BOOK_IDS: Final = TopicIds(_book_span, restarts=_book_restarts)


def bybit_topic_ids(topic: str) -> TopicIds | None:
    """The venue ids of a Bybit topic, or ``None`` (see ``VenueCore.topic_ids``).

    ``orderbook.<depth>.<symbol>``: the update id ``u`` (a level-1 book
    re-sends its snapshot every 3 s with the same ``u``: a repeat). No
    other topic has a usable one: a ``publicTrade`` trade id ``i`` is a UUID
    on derivatives, and its cross sequence ``seq`` may be shared by several
    messages (``docs/venues/bybit.md``, "Ids across connections").
    """
    parts = topic.split(".")
    if len(parts) == 3 and parts[0] == "orderbook" and parts[1].isdigit() and parts[2]:
        return _BOOK_IDS
    return None


def _maintenance(notice: MaintenanceNotice, ts: int, received_at: float) -> PlannedShutdown:
    """A maintenance notice as a venue-wide planned end, its start on the receiver's clock."""
    begin = notice.begin
    # The message's own time (ts, ms) anchors the venue's wall-clock begin to
    # received_at: no local wall clock, no skew between the two.
    deadline = received_at if begin is None else received_at + max(0, begin - ts) / 1000
    window = f"{notice.begin}..{notice.end} ms" if begin is not None else "now"
    return PlannedShutdown(
        ServerRequested(
            f"Bybit maintenance {notice.title!r} ({notice.state}, {window}, id {notice.id})"
        ),
        deadline,
        this_connection=False,
    )


# The hot path builds its Message by slots instead of attrs' frozen __init__, as
# the Binance decoder does (see ``_codec.slot_setters``): ~0.15 us less per message.
_new: Final = object.__new__
_set_topic, _set_data, _set_received_at = slot_setters(Message)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send a non-finite Decimal: {value!r}")
        return decimal_to_wire(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON: {value!r:.60}")


def _reject_floats(value: Any, where: str) -> None:
    """Refuse binary floats anywhere in order parameters: prices must be exact."""
    if isinstance(value, float):
        raise TypeError(f"{where} is a float ({value!r}); send a Decimal or a str instead")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _reject_floats(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_floats(item, f"{where}[{index}]")


class BybitCore(VenueCore):
    """The sans-I/O core of one Bybit connection (see the module docstring).

    Args:
        category: the endpoint: ``"spot"``, ``"linear"``, ``"inverse"``,
            ``"option"``, ``"spread"``, ``"status"`` (public), ``"private"`` or
            ``"trade"``.
        auth_headroom: seconds between the wall clock and the ``expires`` of
            ``auth`` (private and trade).
        recv_window: ``X-BAPI-RECV-WINDOW`` of order-entry requests, in ms.
        merge_tickers: merge linear/inverse ticker deltas into whole tickers
            (the default); ``False`` delivers each message as sent.

    Outputs of :meth:`decode`:

    - data -> ``Message(topic, typed)``; a linear/inverse ticker delta before
      any snapshot -> ``GapDetected(topic)`` (it cannot be made whole);
    - every pong shape -> ``VenuePong``;
    - subscribe/unsubscribe acks -> ``Response`` with accepted/refused topics;
    - the auth ack -> the log-on ``Response`` (``AuthenticationError`` when refused);
    - order-entry replies -> ``Response`` (typed errors: rate limits, restarts),
      a ``UsageReport`` of the ``"orders"`` budget from the reply's headers, and
      for 10019 an ``EndConnection`` (the node takes no new requests);
    - anything unknown -> ``Message(None, UnknownMessage)``; an error reply we
      cannot pin on a request -> ``ErrorEvent``.
    """

    name = "bybit"
    #: Bybit recommends a ping every 20 s [BY-C].
    venue_ping_interval = 20.0

    def __init__(
        self,
        category: str = "spot",
        *,
        auth_headroom: float = DEFAULT_AUTH_HEADROOM,
        recv_window: int = DEFAULT_RECV_WINDOW_MS,
        merge_tickers: bool = True,
    ) -> None:
        super().__init__()
        if category not in CATEGORIES:
            raise ConfigError(
                f"unknown Bybit category {category!r}; valid: {', '.join(CATEGORIES)}"
            )
        if not (isinstance(auth_headroom, int | float) and auth_headroom > 0):
            raise ConfigError(f"auth_headroom must be > 0 seconds, got {auth_headroom!r}")
        if type(recv_window) is not int or recv_window < 1:
            raise ConfigError(f"recv_window must be a positive int of ms, got {recv_window!r}")
        self.category = category
        self.limits = limits_for(category)
        self.auth_headroom = float(auth_headroom)
        self.recv_window = recv_window
        self.tickers: TickerMerger | None = (
            TickerMerger() if merge_tickers and category in _MERGED_TICKERS else None
        )
        # Requests awaiting an ack, oldest first, per op ("subscribe"/"unsubscribe").
        self._awaiting: dict[str, deque[tuple[str, tuple[str, ...]]]] = {
            "subscribe": deque(),
            "unsubscribe": deque(),
        }
        self._login_id: str | None = None
        self._ping_ids = 0
        # Topics acknowledged or being subscribed, for the per-connection budgets.
        self._topics: set[str] = set()
        # Maintenance notices already reported (id, state, begin, end).
        self._announced_keys: set[tuple[str, str, int | None, int | None]] = set()

    # -- ids --

    def next_request_id(self) -> str:
        """A fresh string id (32 hex characters): never reused, so never a 20006 duplicate."""
        return uuid.uuid4().hex

    # -- incoming --

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        """Turn one frame into outputs (see the class docstring)."""
        try:
            if type(data) is str and data.startswith(_TOPIC_START):
                # The hot path: ``decode_hot`` inlined (a function call and a
                # str.partition less per message; measured by benchmarks.bench_path).
                end = data.find('"', 10)
                if end > 0:
                    dot = data.find(".", 10, end)
                    decoder = _HOT_DECODERS.get(data[10 : dot if dot >= 0 else end])
                    if decoder is not None:
                        hot = decoder.decode(data)
                        message: Message = _new(Message)
                        _set_topic(message, hot.topic)
                        _set_data(message, hot)
                        _set_received_at(message, received_at)
                        return (message,)
            obj = parse_frame(data)
            if type(obj) is not dict:
                raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
            topic = obj.get("topic")
            if type(topic) is str:
                return self._data(topic, obj, received_at)
            return self._reply(obj, received_at)
        except DECODE_FAILURES as exc:  # msgspec.ValidationError is a ValueError
            raise_decode_error(exc, data, "Bybit message")

    def _data(self, topic: str, obj: dict[str, Any], received_at: float) -> Sequence[Output]:
        if self.tickers is not None and topic_prefix(topic) == "tickers":
            try:
                return (Message(topic, self.tickers.apply(obj), received_at),)
            except MissingTickerSnapshot:
                return (GapDetected(topic, None, None),)
        typed = typed_message(obj, self.category)
        message = Message(topic, typed, received_at)
        if type(typed) is SystemStatusMessage:
            return (message, *self._announced(typed, received_at))
        return (message,)

    def _announced(self, status: SystemStatusMessage, received_at: float) -> list[Output]:
        """A ``PlannedShutdown`` per maintenance notice not reported before on this connection."""
        out: list[Output] = []
        for notice in status.notices:
            if notice.state not in MAINTENANCE_STATES:
                continue
            key = (notice.id, notice.state, notice.begin, notice.end)
            if key in self._announced_keys:
                continue
            if len(self._announced_keys) >= _MAX_ANNOUNCED:
                self._announced_keys.clear()
            self._announced_keys.add(key)
            out.append(_maintenance(notice, status.ts, received_at))
        return out

    def _reply(self, obj: dict[str, Any], received_at: float) -> Sequence[Output]:
        reply = typed_message(obj, self.category)
        if isinstance(reply, OpResponse):
            return self._op_reply(reply)
        if isinstance(reply, CommandResponse):
            return self._command_reply(reply)
        if isinstance(reply, TradeResponse):
            return self._trade_reply(reply)
        # An unknown shape (or a data message without a topic): kept whole, never dropped.
        return (Message(None, reply, received_at),)

    def _op_reply(self, reply: OpResponse) -> Sequence[Output]:
        payload = reply.conn_id.encode()
        if reply.is_pong:
            return (VenuePong(payload),)
        if reply.op == "auth":
            return (self._auth_response(None, reply.success, reply.ret_msg, reply.conn_id),)
        if reply.op in self._awaiting:
            entry = self._take(reply.op, reply.req_id)
            if entry is None:
                if reply.success:
                    return ()
                return (ErrorEvent(SubscriptionError(None, reply.ret_msg)),)
            request_id, topics = entry
            if reply.success:
                return (Response(request_id, result=None),)
            self._forget(reply.op, topics)
            error = SubscriptionError(None, reply.ret_msg, topics)
            return (Response(request_id, error=error),)
        if reply.success is False:
            return (ErrorEvent(VenueError(None, f"{reply.op}: {reply.ret_msg}")),)
        return ()

    def _command_reply(self, reply: CommandResponse) -> Sequence[Output]:
        named = set(reply.result.success_topics) | set(reply.result.fail_topics)
        op = reply.op if reply.op in self._awaiting else None
        entry = self._take_by_topics(named, op)
        if entry is None:
            if reply.result.fail_topics or not reply.success:
                return (
                    ErrorEvent(
                        SubscriptionError(
                            None, reply.ret_msg or "refused", reply.result.fail_topics
                        )
                    ),
                )
            return ()
        (op_name, request_id, topics) = entry
        failed = tuple(t for t in topics if t in set(reply.result.fail_topics))
        if not reply.success and not reply.result.success_topics and not failed:
            failed = topics
        message = reply.ret_msg or "Bybit refused the topic"
        refused = [(t, SubscriptionError(None, message, (t,))) for t in failed]
        accepted = tuple(t for t in topics if t not in set(failed))
        self._forget(op_name, failed)
        return (Response(request_id, accepted=accepted, refused=refused),)

    def _trade_reply(self, reply: TradeResponse) -> Sequence[Output]:
        if reply.op == "pong":
            return (VenuePong(reply.conn_id.encode()),)
        if reply.op == "auth":
            return (
                self._auth_response(
                    reply.ret_code, reply.ret_code == 0, reply.ret_msg, reply.conn_id
                ),
            )
        outputs: list[Output] = []
        usage = _usage(reply.header)
        if usage is not None:
            outputs.append(usage)
        error = None if reply.ret_code == 0 else trade_error(reply.ret_code, reply.ret_msg)
        if reply.req_id:
            if error is None:
                outputs.append(Response(reply.req_id, result=reply))
            else:
                outputs.append(Response(reply.req_id, error=error))
        elif error is not None:
            outputs.append(ErrorEvent(error))
        if reply.ret_code == 10019:
            outputs.append(
                EndConnection(
                    ServerRequested(
                        f"Bybit's trade service is restarting (10019: {reply.ret_msg}); "
                        "a new connection is routed to a healthy node"
                    )
                )
            )
        return outputs

    def _auth_response(
        self, code: int | None, success: bool | None, message: str, conn_id: str
    ) -> Output:
        login_id, self._login_id = self._login_id, None
        if success:
            result = {"conn_id": conn_id}
            if login_id is None:
                return ErrorEvent(VenueError(None, "an auth ack Bybit sent unasked"))
            return Response(login_id, result=result)
        error = auth_error(code, message, self.auth_headroom)
        if login_id is None:
            return ErrorEvent(error)
        return Response(login_id, error=error)

    def _take(self, op: str, req_id: str | None) -> tuple[str, tuple[str, ...]] | None:
        """The request ``req_id`` answers: by id when Bybit echoed ours, else the oldest."""
        queue = self._awaiting[op]
        if req_id:
            for index, entry in enumerate(queue):
                if entry[0] == req_id:
                    del queue[index]
                    return entry
            return None
        return queue.popleft() if queue else None

    def _take_by_topics(
        self, named: set[str], op: str | None
    ) -> tuple[str, str, tuple[str, ...]] | None:
        """The oldest request (of ``op``, or of either op) naming exactly ``named``."""
        ops = (op,) if op is not None else ("subscribe", "unsubscribe")
        for name in ops:
            queue = self._awaiting[name]
            for index, (request_id, topics) in enumerate(queue):
                if set(topics) == named or (named and named <= set(topics)):
                    del queue[index]
                    return name, request_id, topics
        return None

    def _forget(self, op: str, topics: Sequence[str]) -> None:
        # A refused subscribe frees its budget; a refused unsubscribe keeps the topic.
        if op == "subscribe":
            self._topics.difference_update(topics)

    # -- outgoing --

    def split_topics(self, op: str, topics: Sequence[str]) -> list[tuple[str, ...]]:
        """Batches under this category's per-request argument limits (spot: 10 per request)."""
        return split_args(self.category, topics)

    # -- feeds across connections --

    def topic_ids(self, topic: str) -> TopicIds | None:
        """Book update ids ``u`` (:func:`bybit_topic_ids`)."""
        return bybit_topic_ids(topic)

    def connection_fits(self, topics: Sequence[str]) -> bool:
        """Within 21,000 characters of topics (public) and 2,000 topics (option) [BY-C].

        Spot's 10 topics per request is a per-request rule (``split_topics``).
        """
        unique = set(topics)
        chars = sum(len(t) + _TOPIC_COST for t in unique)
        if self.category in _PUBLIC and chars > MAX_ARGS_CHARS:
            return False
        if self.category == "option" and len(unique) > MAX_OPTION_TOPICS:
            return False
        return super().connection_fits(topics)

    def _check_budget(self, topics: Sequence[str]) -> None:
        new = [t for t in topics if t not in self._topics]
        if self.category in _PUBLIC:
            chars = sum(len(t) + _TOPIC_COST for t in self._topics)
            adding = sum(len(t) + _TOPIC_COST for t in new)
            if chars + adding > MAX_ARGS_CHARS:
                raise RateLimitExceeded(
                    "args_chars",
                    f"{MAX_ARGS_CHARS} characters of topics per connection",
                    float("inf"),
                )
        if self.category == "option" and len(self._topics) + len(new) > MAX_OPTION_TOPICS:
            raise RateLimitExceeded(
                "subscriptions", f"{MAX_OPTION_TOPICS} topics per option connection", float("inf")
            )

    def _encode_topics(self, op: str, topics: Sequence[str], request_id: RequestId) -> str:
        if self.category == "trade":
            raise VenueError(None, "Bybit's order-entry endpoint has no subscriptions")
        if isinstance(topics, str):
            raise TypeError("topics must be a sequence of topic names, not one str")
        names = [validate_topic(t) for t in topics]
        if not names:
            raise ValueError(f"{op} needs at least one topic")
        if op == "subscribe":
            self._check_budget(names)
            self._topics.update(names)
        req_id = str(request_id)
        self._awaiting[op].append((req_id, tuple(names)))
        return _dumps({"req_id": req_id, "op": op, "args": names})

    def encode_subscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str:
        """``{"req_id": id, "op": "subscribe", "args": [...]}``."""
        return self._encode_topics("subscribe", topics, request_id)

    def encode_unsubscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str:
        """``{"req_id": id, "op": "unsubscribe", "args": [...]}``."""
        frame = self._encode_topics("unsubscribe", topics, request_id)
        self._topics.difference_update(topics)
        if self.tickers is not None:
            for topic in topics:
                self.tickers.forget(topic)
        return frame

    def encode_login(self, request_id: RequestId, ctx: SendContext) -> str | None:
        """``auth`` on ``private`` and ``trade`` (``None`` on public endpoints).

        ``expires`` is ``ctx.wall_time`` plus the headroom, in ms; the signature
        is ``hex(HMAC-SHA256(secret, "GET/realtime" + expires))``.

        Raises:
            ConfigError: no credentials.
        """
        if self.category in _PUBLIC:
            return None
        credentials = credentials_of(ctx)
        expires = auth_expires(ctx.wall_time, self.auth_headroom)
        args = auth_args(credentials.api_key, credentials.secret.reveal(), expires)
        req_id = str(request_id)
        self._login_id = req_id
        if self.category == "trade":
            return _dumps({"reqId": req_id, "op": "auth", "args": args})
        return _dumps({"req_id": req_id, "op": "auth", "args": args})

    def login_details(self, result: Any) -> Mapping[str, Any]:
        """``Authenticated.details``: Bybit's connection id (never a secret)."""
        return dict(result) if isinstance(result, Mapping) else {}

    def encode_request(
        self, method: str, params: Any, request_id: RequestId, ctx: SendContext
    ) -> str:
        """An order-entry request on ``trade``: ``order.create`` ... and the batch forms.

        Args:
            method: one of :data:`ORDER_OPS` or :data:`BATCH_OPS`.
            params: one order's parameters (a mapping, Bybit's camelCase keys:
                ``{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", ...}``);
                for a batch, ``{"category": ..., "request": [...]}``. ``Decimal``
                values are sent as strings; floats are refused.
            request_id: the ``reqId``.
            ctx: ``wall_time`` gives ``X-BAPI-TIMESTAMP``.
        """
        if self.category != "trade":
            raise VenueError(
                None,
                f"Bybit's {self.category} endpoint takes no requests: order entry is "
                "Bybit.connect(endpoint='trade')",
            )
        if method not in ORDER_OPS and method not in BATCH_OPS:
            valid = ", ".join(sorted(ORDER_OPS | BATCH_OPS))
            raise ValueError(f"unknown Bybit order-entry op {method!r}; valid: {valid}")
        if not isinstance(params, Mapping):
            raise TypeError(f"params of {method} must be a mapping, not {type(params).__name__}")
        _reject_floats(params, "params")
        header = {
            "X-BAPI-TIMESTAMP": str(int(ctx.wall_time * 1000)),
            "X-BAPI-RECV-WINDOW": str(self.recv_window),
        }
        return _dumps(
            {"reqId": str(request_id), "header": header, "op": method, "args": [dict(params)]}
        )

    def venue_ping(self, now: float) -> str:
        """``{"req_id": "ping-N", "op": "ping"}`` (``{"op": "ping"}`` on ``trade``)."""
        if self.category == "trade":
            return '{"op":"ping"}'
        self._ping_ids += 1
        return _dumps({"req_id": f"ping-{self._ping_ids}", "op": "ping"})


def _usage(header: dict[str, str] | None) -> UsageReport | None:
    """The ``"orders"`` budget from an order reply's ``X-Bapi-Limit*`` headers (per second)."""
    if not header:
        return None
    try:
        limit = int(header["X-Bapi-Limit"])
        remaining = int(header["X-Bapi-Limit-Status"])
    except (KeyError, ValueError):
        return None
    if limit <= 0 or remaining < 0:
        return None
    return UsageReport("orders", max(0, limit - remaining), limit, 1.0)
