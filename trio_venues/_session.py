"""The one Trio shell every venue client runs on.

``open_connection(core, config, url)`` is the async context manager behind
every ``Venue.connect()``. Entering it acquires the venue's connection-attempt
limit, opens one nursery, connects the transport (bounded by
``connect_timeout``) and starts its tasks inside a cancel scope of their own:

- the **reader** drains the transport, answers pings at once, hands each
  message to the venue core and delivers the outputs (events to ``ws.events``,
  responses to the waiting callers);
- the **writer** owns every write to the transport, control frames first;
- the **heartbeat** sleeps until the pure :class:`~trio_venues._heartbeat.Heartbeat`
  has something to do;
- the **core task** sends the frames the venue core asks for unprompted
  (``SendFrame``) and runs the core's own timer (``next_timer``/``on_timer``),
  from the moment the connection is open (after the log-on) on. It starts the
  first time the core has a timer or a frame to send: a core that never has
  (Binance, Bybit) costs no task (docs/performance.md, "Memory per connection").

Then it logs on when the core has a log-on frame (``encode_login``; nothing
else is sent until the venue acknowledged it) and hands the core's
``on_open`` outputs over, before the user's block runs.

However the connection ends (the user leaves the block, the peer closes, a
task fails, the heartbeat gives up), ``_finish(reason)`` records the first
reason, and the closer cancels the tasks, runs the closing handshake
bounded by ``close_timeout`` (then closes the stream forcefully), fails every
pending request with ``ConnectionLost``, and delivers ``Disconnected(reason)``
as the last event. Only the tasks' own scope is ever cancelled, never the
scope around the user's body: a failure becomes an event, not a silently
cancelled user.
"""

from __future__ import annotations

import enum
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import attrs
import orjson
import trio

from ._channel import EventChannel
from ._config import ConnectionConfig
from ._core import (
    EndConnection,
    Output,
    PlannedShutdown,
    RequestId,
    Response,
    SendContext,
    SendFrame,
    UsageReport,
    VenueCore,
    VenuePing,
    VenuePong,
)
from ._groups import single_exception as single_exception
from ._groups import unwrap_group as unwrap_group
from ._heartbeat import Heartbeat, SendPing, SendVenuePing
from ._requests import Pending, PendingRequests, topic_outcome
from ._stats import ConnectionStats, TopicStats, _topic_stats
from ._transport import resolve_transport
from ._transport_types import Ping, Transport, TransportClosed
from .credentials import Credentials
from .errors import (
    AuthenticationError,
    ConnectionLost,
    ConnectTimeout,
    DecodeError,
    InternalError,
    NotConnected,
    RateLimitExceeded,
    RequestTimeout,
    SubscriptionError,
    TrioVenuesError,
    UnexpectedResponse,
    VenueError,
)
from .events import (
    Authenticated,
    Backpressure,
    Connected,
    Disconnected,
    ErrorEvent,
    Event,
    GapDetected,
    Message,
    PingReceived,
    PongReceived,
    RateLimited,
    ShutdownNotice,
    Subscribed,
    Unsubscribed,
)
from .reasons import (
    AuthenticationFailed,
    DisconnectReason,
    HeartbeatTimeout,
    InvalidMessage,
    NetworkError,
    ProtocolError,
    RemoteClosed,
    ServerRequested,
    SlowConsumer,
    UserInitiated,
)

__all__ = [
    "Connection",
    "ConnectionState",
    "ConnectionStats",
    "TopicStats",
    "open_connection",
]

logger = logging.getLogger("trio_venues.session")

_CONNECTION_IDS = itertools.count(1)

# Outgoing data frames waiting for the writer. Senders block when it is full.
_OUTBOX_SIZE = 256
# Control frames (pongs, pings, venue replies) waiting for the writer before
# pongs start to coalesce.
_CONTROL_BACKLOG = 32
# How much the reader queues in one go before it lets a consumer that is ready
# (runnable inside ws.events) drain the queue: 32 KiB of messages or 256
# events, whichever comes first (and always before the Backpressure
# threshold). One read may complete hundreds of messages; handing them over in
# small steps keeps them in the CPU caches between decoding and use, and keeps
# the queue short in a burst. Measured on Binance-shaped feeds: 16-64 KiB all
# gave the same trade rate (~160 trades per hand-off); on ~2.2 KB depth
# messages 32 KiB was ~1.7x faster than handing over only when the 1,024-event
# queue was full.
_HANDOFF_BYTES = 32 * 1024
_HANDOFF_EVENTS = 256
# The memory bound (docs/reliability.md, "Memory"). Everything the reader
# queues on ws.events is charged against config.max_queued_bytes: a message
# its size as received (after decompression) plus _EVENT_COST, any other
# event _EVENT_COST (the objects behind an event cost a few hundred bytes
# whatever its size). A message is charged *before* it is decoded, so a
# decompressed 4 MiB message is counted before its decoding allocates
# anything. The reader checks the budget at each hand-off (every
# _HANDOFF_BYTES) and after each read; past it, "block" stops reading (TCP
# backpressure) and "disconnect" ends with SlowConsumer.
_EVENT_COST = 256
# While a request waits for its response, the reader may read this much past
# the budget to find it: a consumer that awaits unsubscribe() inside its
# `async for` would otherwise wait for an ack the paused reader never reads.
_REQUEST_ALLOWANCE = 1024 * 1024
# Byte marks closer together than this merge (bounds the marks' own memory).
_MARK_BYTES = 4 * 1024
# Frames a venue core asked to send unprompted (SendFrame) waiting for the
# rate limiter. More than this means the venue makes the core send faster than
# the venue's own limit allows: the connection ends (InvalidMessage).
_UNPROMPTED_MAX = 256
# Requests the session sends under their own operation name (for the venue's
# per-operation costs); any other request is the "request" operation.
_OPERATIONS = frozenset({"subscribe", "unsubscribe", "login"})


class ConnectionState(enum.Enum):
    """Where a connection is in its life."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"
    DISCONNECTED = "disconnected"


@attrs.define(eq=False)
class _Waiter:
    event: trio.Event = attrs.field(factory=trio.Event)
    # A request a venue core sent on its own (SendFrame with a request_id):
    # nobody waits, so refusals become ErrorEvents.
    unprompted: bool = False


@attrs.define(eq=False)
class _TopicStream:
    send: trio.MemorySendChannel[Message]
    receive: trio.MemoryReceiveChannel[Message]
    overflow: str
    dropped: int = 0
    # The marker of the last drop on ws.events and its index among the events
    # put (it grows while still queued: see Connection._mark_gap).
    gap: tuple[GapDetected, int] | None = None


_Outgoing = tuple[str, str | bytes]  # (kind, payload): kind is "text", "bytes", "ping", "pong"


def _coalesce(last: Event, new: Event) -> Event | None:
    """``last`` and ``new`` merged into one counted event, or ``None`` (see ``trio_venues.events``).

    Pings with pings, pongs with pongs (of the same level), errors with
    errors of the same type.
    """
    if type(last) is not type(new):
        return None
    if isinstance(new, PingReceived) and isinstance(last, PingReceived):
        if last.level == new.level:
            return PingReceived(new.payload, new.level, count=last.count + new.count)
    elif isinstance(new, PongReceived) and isinstance(last, PongReceived):
        if last.level == new.level:
            rtt = new.rtt if new.rtt is not None else last.rtt
            return PongReceived(new.payload, rtt, new.level, count=last.count + new.count)
    elif (
        isinstance(new, ErrorEvent)
        and isinstance(last, ErrorEvent)
        and type(last.error) is type(new.error)
    ):
        return ErrorEvent(last.error, count=last.count + new.count)
    return None


class Connection:
    """One open venue connection: the object ``async with Venue.connect()`` yields.

    Attributes:
        events: the typed events, in arrival order; ``Disconnected`` is last.
        url: the endpoint.
        config: the connection's :class:`~trio_venues.ConnectionConfig`.
    """

    # Slots: an idle connection's ~55 attributes in a dict cost ~1.6 KB, in
    # slots ~0.4 KB (docs/performance.md, "Memory per connection"). ``__dict__``
    # stays for subclasses' and tests' own attributes (created only when used).
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_budget",
        "_bytes_in",
        "_bytes_out",
        "_capacity",
        "_charged",
        "_closed",
        "_conflated",
        "_connected_at",
        "_control",
        "_core_lot",
        "_core_ready",
        "_core_started",
        "_credentials",
        "_decode_errors",
        "_dropped",
        "_end",
        "_freed",
        "_hb_sleep",
        "_heartbeat",
        "_last_message_at",
        "_limiter",
        "_limits",
        "_log_extra",
        "_marks",
        "_messages_in",
        "_messages_out",
        "_nursery",
        "_outbox",
        "_outbox_lot",
        "_outbox_space",
        "_paused",
        "_peak_queued",
        "_pending",
        "_pending_slots",
        "_pings_received",
        "_pings_sent",
        "_pongs_sent",
        "_reason",
        "_state",
        "_streams",
        "_subscribing",
        "_subscriptions",
        "_tasks_scope",
        "_topic_overflow",
        "_topic_stats",
        "_transport",
        "_unprompted",
        "_unprompted_ids",
        "_wall_clock",
        "_warn_at",
        "_warned",
        "config",
        "conn_id",
        "core",
        "events",
        "url",
    )

    def __init__(self, core: VenueCore, config: ConnectionConfig, url: str) -> None:
        self.core = core
        self.config = config
        self.url = url
        self.events = EventChannel()
        self._state = ConnectionState.CONNECTING
        self._transport: Transport | None = None
        self._reason: DisconnectReason | None = None
        self._end = trio.Event()
        self._closed = trio.Event()
        self._tasks_scope = trio.CancelScope()
        self._pending: PendingRequests[_Waiter] = PendingRequests()
        self._pending_slots = trio.Semaphore(config.max_pending)
        self._subscriptions: set[str] = set(core.initial_topics(url))
        # Topics with a subscribe request in flight, and that request's "done" event.
        self._subscribing: dict[str, trio.Event] = {}
        # Lists, not deques: they stay short (at most _OUTBOX_SIZE and about
        # _CONTROL_BACKLOG), and an empty deque costs 760 bytes to a list's 56,
        # on every idle connection (docs/performance.md, "Memory per connection").
        self._outbox: list[_Outgoing] = []
        self._control: list[_Outgoing] = []
        self._outbox_lot = trio.lowlevel.ParkingLot()
        self._outbox_space = trio.lowlevel.ParkingLot()
        limits = getattr(core, "limits", None)
        self._limits: Any = limits
        self._limiter: Any = (
            limits.connection_limiter(_host_of(url), margin=config.rate_limit_margin)
            if limits is not None
            else None
        )
        self._heartbeat: Heartbeat | None = None
        # What encode_* get in their SendContext (open_connection sets both).
        self._credentials: Credentials | None = None
        self._wall_clock: Callable[[], float] = time.time
        # Frames the core sends unprompted, and the core task's wake-up: it
        # sends them and runs the core's timers once the connection is open
        # (after the log-on), never before.
        self._unprompted: list[SendFrame] = []
        # Ids of requests the core sent on its own, oldest first: at most
        # _UNPROMPTED_MAX are tracked; an older one is abandoned (its answer,
        # if it ever comes, is reported as an UnexpectedResponse ErrorEvent).
        self._unprompted_ids: list[RequestId] = []
        self._core_lot = trio.lowlevel.ParkingLot()
        self._core_ready = trio.Event()
        # The tasks' nursery, once running, and whether the core task started.
        self._nursery: trio.Nursery | None = None
        self._core_started = False
        # overflow bookkeeping
        self._capacity = config.event_buffer
        self._warn_at = max(1, int(config.event_buffer * config.backpressure_threshold))
        self._warned = False
        # The byte budget (see _EVENT_COST). _charged: bytes charged for queued
        # events so far (cumulative); _marks: (events put, _charged) pairs in
        # order, so that once the consumer has taken that many events those
        # bytes are free; _freed: _charged at the last mark passed.
        self._budget = config.max_queued_bytes
        self._charged = 0
        self._freed = 0
        self._marks: list[tuple[int, int]] = []
        # The reader stopped reading for the consumer (heartbeat suspended).
        self._paused = False
        self._hb_sleep: trio.CancelScope | None = None
        self._topic_overflow = config.topic_overflow
        self._streams: dict[str, _TopicStream] = {}
        # counters
        self._messages_in = 0
        self._messages_out = 0
        self._bytes_in = 0
        self._bytes_out = 0
        self._peak_queued = 0
        self._last_message_at: float | None = None
        self._pings_received = 0
        self._pongs_sent = 0
        self._pings_sent = 0
        self._dropped = 0
        self._conflated = 0
        self._decode_errors = 0
        self._connected_at: float | None = None
        # topic -> [messages, bytes, the last Message] (the reader keeps the
        # message rather than copying its times out: one store per message)
        self._topic_stats: dict[str, list[Any]] = {}
        self.conn_id = f"{core.name}-{next(_CONNECTION_IDS)}"
        self._log_extra = {"conn_id": self.conn_id, "url": url, "venue": core.name}

    # -- public API ------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The connection's :class:`ConnectionState`."""
        return self._state

    @property
    def subscriptions(self) -> frozenset[str]:
        """The topics the venue has acknowledged (exact at all times).

        Streams named in the URL are in it from the start; an acknowledgement
        that arrives after its caller timed out or was cancelled still counts.
        """
        return frozenset(self._subscriptions)

    @property
    def reason(self) -> DisconnectReason | None:
        """Why the connection ended, once it has."""
        return self._reason

    @property
    def stats(self) -> ConnectionStats:
        """A snapshot of the connection's counters."""
        hb = self._heartbeat
        now = trio.current_time()
        # Wall clock only here, for comparing with the venue's event times.
        wall_ms = time.time() * 1000
        connected = self._connected_at
        span = now - connected if connected is not None and now > connected else None
        topics = {
            topic: _topic_stats(c[0], c[1], c[2], now, wall_ms, span)
            for topic, c in self._topic_stats.items()
        }
        return ConnectionStats(
            conn_id=self.conn_id,
            messages_in=self._messages_in,
            messages_out=self._messages_out,
            bytes_in=self._bytes_in,
            bytes_out=self._bytes_out,
            queued=len(self.events),
            peak_queued=self._peak_queued,
            capacity=self._capacity,
            last_message_at=self._last_message_at,
            last_rtt=hb.last_rtt if hb is not None else None,
            pings_received=self._pings_received,
            pongs_sent=self._pongs_sent,
            pings_sent=self._pings_sent,
            dropped=self._dropped,
            conflated=self._conflated,
            decode_errors=self._decode_errors,
            pending_requests=len(self._pending),
            subscriptions=len(self._subscriptions),
            connected_at=self._connected_at,
            since_last_message=(
                now - self._last_message_at if self._last_message_at is not None else None
            ),
            messages_per_second=self._messages_in / span if span else None,
            topics=topics,
            rate_limits=self._limiter.stats() if self._limiter is not None else None,
        )

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events.__aiter__()

    async def send(self, payload: str | bytes | Any) -> None:
        """Send a raw message: ``str`` as text, ``bytes`` as binary, anything else as JSON text.

        The message passes the venue's message-rate limit first.

        Raises:
            NotConnected: the connection has ended.
            RateLimitExceeded: the limit refused it (``raise`` policy).
        """
        self._check_open()
        if isinstance(payload, str):
            await self._send_data("text", payload)
        elif isinstance(payload, bytes | bytearray | memoryview):
            await self._send_data("bytes", bytes(payload))
        else:
            await self._send_data("text", orjson.dumps(payload).decode())

    async def subscribe(
        self,
        *topics: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> None:
        """Subscribe to ``topics``; returns once the venue acknowledged every batch.

        Topics already subscribed are skipped (nothing is sent for them), and
        so are topics another task is subscribing at this moment: this call
        waits for that request's answer instead, then asks only for what it
        did not get. Topics go out in batches of the venue's per-request
        limit. ``timeout`` bounds the wait for each batch's acknowledgement
        (default ``config.request_timeout``); an acknowledgement that comes
        after it still updates ``ws.subscriptions`` (with a ``Subscribed`` event).

        Raises:
            SubscriptionError: the venue refused some topics; ``.topics`` lists
                them, and the accepted ones stay in ``ws.subscriptions``.
            RequestTimeout: the venue did not acknowledge in time.
            ConnectionLost: the connection ended before the acknowledgement.
            NotConnected: the connection is not open.
            RateLimitExceeded: a local subscription or message limit refused it.
        """
        self._check_open()
        while True:
            new = [t for t in dict.fromkeys(topics) if t not in self._subscriptions]
            # One SUBSCRIBE per topic at a time: wait for another task's
            # request for the same topic, then look again (if that one was
            # refused or timed out, this call asks for itself).
            busy = next((self._subscribing[t] for t in new if t in self._subscribing), None)
            if busy is None:
                break
            await busy.wait()
            self._check_open()
        if not new:
            return
        if self._limits is not None:
            self._limits.check_subscriptions(len(self._subscriptions), len(new))
        done = trio.Event()
        for topic in new:
            self._subscribing[topic] = done
        try:
            await self._batched("subscribe", new, timeout)
        finally:
            for topic in new:
                if self._subscribing.get(topic) is done:
                    del self._subscribing[topic]
            done.set()

    async def unsubscribe(
        self,
        *topics: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> None:
        """Unsubscribe from ``topics``; topics not subscribed are skipped.

        ``timeout`` bounds the wait for each batch's acknowledgement.

        Raises:
            SubscriptionError: the venue refused the unsubscribe.
            RequestTimeout: the venue did not acknowledge in time.
            ConnectionLost: the connection ended before the acknowledgement.
            NotConnected: the connection is not open.
        """
        self._check_open()
        gone = [t for t in dict.fromkeys(topics) if t in self._subscriptions]
        if gone:
            await self._batched("unsubscribe", gone, timeout)

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> Any:
        """Send a request and wait for its response, correlated by a unique id.

        Args:
            method: the venue method.
            params: its parameters.
            timeout: seconds to wait (default ``config.request_timeout``).

        Returns:
            The venue's result.

        Raises:
            RequestTimeout: no response in time (a later response becomes an
                ``ErrorEvent``; a late subscribe/unsubscribe acknowledgement
                updates ``subscriptions`` and is reported as ``Subscribed``/``Unsubscribed``).
            VenueError: the venue answered with an error (``AuthenticationError`` ...).
            ConnectionLost: the connection ended first; the request was not re-sent.
            NotConnected: the connection had already ended.

        Cancelling the caller removes its entry; a later response is reported
        as an ``ErrorEvent``.
        """
        self._check_open()
        request_id = self.core.next_request_id()
        frame = self.core.encode_request(method, params, request_id, self._context())
        entry = await self._roundtrip(method, request_id, frame, (), timeout)
        return entry.result

    async def aclose(self) -> None:
        """Close the connection (code 1000) and wait until it has ended (bounded)."""
        self._finish(UserInitiated())
        await self._closed.wait()

    @asynccontextmanager
    async def stream(
        self,
        topic: str,
        *,
        buffer: int = 256,
        overflow: str = "block",
    ) -> AsyncIterator[trio.MemoryReceiveChannel[Message]]:
        """Route ``topic``'s messages to a channel of their own while the block runs.

        ``async with ws.stream("btcusdt@trade") as trades: async for msg in trades``.
        Other events (including ``GapDetected`` and ``Disconnected``) stay on
        ``ws.events``; the channel ends when the connection does.

        Args:
            topic: the topic, as in ``Message.topic``.
            buffer: the channel's capacity in messages.
            overflow: when it is full: ``"block"`` (the reader waits: TCP
                backpressure), ``"drop_oldest"`` (drop the oldest, emit
                ``GapDetected`` on ``ws.events``) or ``"conflate"`` (keep the latest).

        Raises:
            ValueError: the topic already has a stream, or ``overflow`` is unknown.
        """
        if overflow not in ("block", "drop_oldest", "conflate"):
            raise ValueError(
                f"overflow must be 'block', 'drop_oldest' or 'conflate', not {overflow!r}"
            )
        if topic in self._streams:
            raise ValueError(f"topic {topic!r} already has a stream")
        send, receive = trio.open_memory_channel[Message](max(1, buffer))
        self._streams[topic] = _TopicStream(send, receive, overflow)
        if self._state is ConnectionState.DISCONNECTED:
            send.close()
        try:
            async with receive:
                yield receive
        finally:
            entry = self._streams.pop(topic, None)
            if entry is not None:
                entry.send.close()

    # -- internals: sending ----------------------------------------------------------

    def _context(self) -> SendContext:
        """The :class:`SendContext` of a frame built now."""
        return SendContext(trio.current_time(), self._wall_clock(), self._credentials)

    def _check_open(self) -> None:
        if self._state is not ConnectionState.CONNECTED:
            raise NotConnected(
                f"the connection to {self.url} is {self._state.value}"
                + (f" ({self._reason!r})" if self._reason else "")
                + "; open a new one (or use retry_scope)"
            )

    def _emit_rate_limited(self, event: RateLimited) -> None:
        self._deliver_control(event)

    async def _acquire(self, kind: str, cost: float = 1, policy: str | None = None) -> None:
        if self._limiter is None:
            return
        chosen = policy or self.config.rate_limit_policy.get(kind, "raise")
        await self._limiter.acquire(kind, cost, policy=chosen, on_event=self._emit_rate_limited)

    async def _acquire_control(self) -> None:
        if self._limiter is None:
            return
        # Sleeping exactly until capacity frees is the wait here: there is no
        # event to wait for, time itself frees the budget.
        for _ in range(1000):
            delay = self._limiter.try_acquire_now("messages")
            if delay <= 0:
                return
            await trio.sleep(delay)
        raise InternalError("the message limiter never admitted a control frame")

    async def _send_data(
        self,
        kind: str,
        payload: str | bytes,
        policy: str | None = None,
        operation: str = "message",
    ) -> None:
        """Charge ``operation``'s costs (``VenueLimits.charges``), then queue the frame."""
        limits = self._limits
        if limits is not None:
            for cost_kind, cost in limits.charges(operation):
                await self._acquire(cost_kind, cost, policy)
        while len(self._outbox) >= _OUTBOX_SIZE:
            self._check_open()
            await self._outbox_space.park()
        self._check_open()
        self._outbox.append((kind, payload))
        self._outbox_lot.unpark()

    def _send_control(self, kind: str, payload: bytes | str) -> None:
        """Queue a ping/pong/venue reply ahead of data.

        Every ping is answered while few control frames wait. Under a ping
        storm (more than ``_CONTROL_BACKLOG`` queued) a new pong replaces the
        newest queued one: RFC 6455 5.5.3 allows answering only the most
        recent ping, and the queue stays bounded.
        """
        control = self._control
        if kind == "pong" and len(control) >= _CONTROL_BACKLOG:
            for i in range(len(control) - 1, -1, -1):
                if control[i][0] == "pong":
                    control[i] = (kind, payload)
                    return
        control.append((kind, payload))
        self._outbox_lot.unpark()

    async def _batched(self, op: str, topics: list[str], limit_s: float | None) -> None:
        """Send ``topics`` in the core's batches; raise for every refused topic at the end."""
        core = self.core
        encode = core.encode_subscribe if op == "subscribe" else core.encode_unsubscribe
        refused: list[tuple[str, VenueError]] = []
        for batch in core.split_topics(op, topics):
            request_id = core.next_request_id()
            frame = encode(batch, request_id, self._context())
            entry = await self._roundtrip(op, request_id, frame, batch, limit_s)
            refused.extend(entry.refused)
        if refused:
            raise _subscription_error(refused)

    async def _roundtrip(
        self,
        method: str,
        request_id: RequestId,
        frame: str | bytes,
        topics: tuple[str, ...],
        limit_s: float | None,
    ) -> Pending[_Waiter]:
        """Send one request and wait for its outcome; return its completed entry.

        Raises:
            RequestTimeout, ConnectionLost, NotConnected, RateLimitExceeded, or
            the venue's error (a subscribe's refusals are in ``entry.refused``).
        """
        limit = self.config.max_pending
        if self.config.pending_policy == "raise":
            try:
                self._pending_slots.acquire_nowait()
            except trio.WouldBlock:
                raise RateLimitExceeded(
                    "pending_requests", f"{limit} in flight", retry_after=0.0
                ) from None
        else:
            await self._pending_slots.acquire()
        try:
            waiter = _Waiter()
            entry = self._pending.add(request_id, method, waiter, topics)
            # A reader paused on the byte budget may now read on to find the
            # response (_REQUEST_ALLOWANCE).
            self.events.wake_producer()
            try:
                operation = method if method in _OPERATIONS else "request"
                kind = "text" if isinstance(frame, str) else "bytes"
                await self._send_data(kind, frame, None, operation)
                wait_for = self.config.request_timeout if limit_s is None else limit_s
                with trio.move_on_after(wait_for):
                    await waiter.event.wait()
            finally:
                if not entry.done:
                    self._pending.abandon(request_id)
            if not entry.done:
                raise RequestTimeout(method, request_id, wait_for)
            if entry.error is not None:
                raise entry.error
            return entry
        finally:
            self._pending_slots.release()

    # -- internals: delivery -------------------------------------------------------

    def _deliver_control(self, event: Event) -> None:
        """Deliver a lifecycle/control event: never dropped; storms coalesce.

        A ping, pong or error event merges into the same kind of event when
        that is the last one queued (see ``trio_venues.events``), so a storm
        takes one slot however long it lasts. Anything queued is charged
        ``_EVENT_COST`` against the byte budget, which the reader enforces.
        """
        if type(event) is ErrorEvent and isinstance(event.error, DecodeError):
            event.error.detach()
        items = self.events.items()
        if items:
            merged = _coalesce(items[-1], event)
            if merged is not None:
                items[-1] = merged
                return
        self._charged += _EVENT_COST
        self.events.put(event)
        self._track_queue()

    def _track_queue(self) -> None:
        """Record the queue's peak and emit ``Backpressure`` when it crosses the threshold.

        The reader's fast path inlines this (see ``_reader``); keep the two alike.
        """
        n = len(self.events)
        if n > self._peak_queued:
            self._peak_queued = n
        if n >= self._warn_at and not self._warned:
            self._warned = True
            self.events.put(Backpressure(n, self._capacity))
        elif self._warned and n < self._warn_at // 2:
            self._warned = False

    async def _deliver_to_stream(self, entry: _TopicStream, event: Message) -> None:
        try:
            entry.send.send_nowait(event)
            return
        except trio.WouldBlock:
            pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return  # the consumer left its ``stream`` block
        if entry.overflow == "block":
            # The reader stops reading for this stream's consumer.
            self._pause()
            try:
                await entry.send.send(event)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
            finally:
                self._resume()
            return
        # Make room: drop the oldest. The messages of a topic are numbered from
        # 1 in arrival order (the reader's count includes this one), and the
        # channel holds the newest ones, so the dropped one is number
        # ``count - held``.
        held = entry.receive.statistics().current_buffer_used
        entry.receive.receive_nowait()
        entry.send.send_nowait(event)
        if entry.overflow == "drop_oldest":
            self._dropped += 1
            entry.dropped += 1
            topic = event.topic
            number = self._topic_stats[topic][0] - held if topic is not None else entry.dropped
            entry.gap = self._mark_gap(topic, number, entry.gap)
        else:
            self._conflated += 1

    def _mark_gap(
        self, topic: str | None, number: int, last: tuple[GapDetected, int] | None
    ) -> tuple[GapDetected, int]:
        """Report that message ``number`` of ``topic`` was dropped; return the marker and its index.

        The marker of the previous drop (``last``: the marker and its index
        among all events put) grows instead while it is still queued and the
        drops are consecutive, so a stream dropping thousands of messages while
        ``ws.events`` is not read leaves one marker, not thousands.
        """
        events = self.events
        items = events.items()
        if last is not None and last[0].received == number:
            marker, index = last
            position = index - (events.put_count - len(items))
            if 0 <= position < len(items) and items[position] is marker:
                merged = GapDetected(topic, marker.expected, number + 1)
                items[position] = merged
                return merged, index
        marker = GapDetected(topic, number, number + 1)
        self._deliver_control(marker)
        return marker, events.put_count - 1

    async def _deliver_message(self, event: Message, size: int) -> None:
        """Deliver a data message under the configured overflow policy.

        The reader has already counted and charged it, and delivers it itself
        when no policy applies (no topic streams, no per-topic policy, room in
        the queue); this is the general path. The queue may grow past
        ``event_buffer`` (the reader keeps reading, so pings stay answered)
        until the byte budget is spent: the reader enforces that.
        """
        topic = event.topic
        if self._streams and topic in self._streams:
            await self._deliver_to_stream(self._streams[topic], event)
            return
        policy = self._topic_overflow.get(topic) if topic is not None else None
        if topic is not None and policy is not None:
            if policy == "conflate" and self._conflate(event):
                return
            if policy == "drop_oldest" and len(self.events) >= self._capacity:
                self._drop_oldest(topic)
        self.events.put(event)
        self._track_queue()

    def _conflate(self, event: Message) -> bool:
        items = self.events.items()
        for i in range(len(items) - 1, -1, -1):
            queued = items[i]
            if isinstance(queued, Message) and queued.topic == event.topic:
                items[i] = event
                self._conflated += 1
                return True
        return False

    def _drop_oldest(self, topic: str) -> None:
        """Drop the oldest queued message of ``topic``, leaving a ``GapDetected`` marker.

        Messages of a topic are numbered from 1 in arrival order; the marker
        says messages ``expected`` to ``received - 1`` were dropped. A topic
        has at most one marker queued before its first queued message: the
        next drop (always of the message right after the previous one) grows
        it, whatever other topics are interleaved, so the queue stays bounded.
        """
        items = self.events.items()
        marker_at = first = -1
        held = 0
        for i, queued in enumerate(items):
            if isinstance(queued, Message):
                if queued.topic == topic:
                    if first < 0:
                        first = i
                    held += 1
            elif first < 0 and isinstance(queued, GapDetected) and queued.topic == topic:
                marker_at = i
        if first < 0:
            return
        # The reader's per-topic count already includes the incoming message.
        number = self._topic_stats[topic][0] - held
        del items[first]
        # Keep put_count - len(queue) equal to what the consumer took.
        self.events.put_count -= 1
        self._dropped += 1
        marker = items[marker_at] if marker_at >= 0 else None
        if isinstance(marker, GapDetected) and marker.received == number:
            items[marker_at] = GapDetected(topic, marker.expected, number + 1)
        else:
            items.insert(first, GapDetected(topic, number, number + 1))
            self.events.put_count += 1

    # -- internals: lifecycle ------------------------------------------------------

    def _finish(self, reason: DisconnectReason) -> None:
        """Record why the connection ends (the first reason wins) and start closing."""
        if self._reason is None:
            self._reason = reason
            if self._state in (ConnectionState.CONNECTING, ConnectionState.CONNECTED):
                self._state = ConnectionState.DISCONNECTING
            logger.info(
                "connection %s to %s ending: %r",
                self.conn_id,
                self.url,
                reason,
                extra={**self._log_extra, "reason": reason, "retryable": reason.retryable},
            )
        self._end.set()

    async def _run(self, transport: Transport, *, task_status: Any) -> None:
        """Run the tasks until the connection ends, then close and deliver ``Disconnected``."""
        self._transport = transport
        now = trio.current_time()
        self._connected_at = now
        self._heartbeat = Heartbeat(
            now,
            ping_interval=self.config.ping_interval,
            pong_timeout=self.config.pong_timeout,
            data_timeout=self.config.data_timeout,
            venue_interval=self.config.venue_ping_interval or self.core.venue_ping_interval,
        )
        self._state = ConnectionState.CONNECTED
        logger.info("connection %s to %s open", self.conn_id, self.url, extra=self._log_extra)
        self._deliver_control(
            Connected(self.url, transport.subprotocol, transport.extensions, at=now)
        )
        task_status.started()
        try:
            with self._tasks_scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._guard, self._reader, transport)
                    nursery.start_soon(self._guard, self._writer, transport)
                    nursery.start_soon(self._guard, self._heartbeat_task, transport)
                    # The core task starts when the core first needs it (_wake_core).
                    self._nursery = nursery
                    self._wake_core()
                    if self.config.stats_hook is not None:
                        nursery.start_soon(self._guard, self._stats_task, transport)
                    await self._end.wait()
                    nursery.cancel_scope.cancel(reason="connection ending")
        finally:
            # Cancelled from outside (the user's scope) counts as the user's doing.
            if self._reason is None:
                self._finish(UserInitiated())
            # The close is shielded but bounded by close_timeout, so leaving is
            # bounded whatever the peer does, and a cancelled user still gets
            # a clean close frame sent.
            with trio.CancelScope(shield=True):
                await self._close_transport(transport)
            self._complete()

    async def _close_transport(self, transport: Transport) -> None:
        reason = self._reason
        with trio.move_on_after(self.config.close_timeout) as scope:
            if isinstance(reason, HeartbeatTimeout):
                # The peer is gone: do not wait a close_timeout for its answer.
                scope.deadline = trio.current_time()
            code, text = _close_code_for(reason)
            await transport.aclose(code, text)
        if scope.cancelled_caught:
            logger.debug(
                "close handshake of %s timed out; closing forcefully",
                self.conn_id,
                extra=self._log_extra,
            )
        await transport.abort()

    def _complete(self) -> None:
        reason = self._reason or NetworkError("connection ended without a reason")
        self._reason = reason
        lost = ConnectionLost(reason)
        for entry in self._pending.fail_all(lost):
            entry.waiter.event.set()
        self.events.put(Disconnected(reason))
        self.events.finish()
        for topic_stream in self._streams.values():
            topic_stream.send.close()
        self._state = ConnectionState.DISCONNECTED
        self._outbox_space.unpark_all()
        self._closed.set()
        if self.config.stats_hook is not None:
            try:
                self.config.stats_hook(self.stats)
            except Exception:
                logger.exception("stats_hook raised", extra=self._log_extra)

    async def _guard(
        self,
        task: Callable[[Transport], Any],
        transport: Transport,
    ) -> None:
        """Run a background task; turn its ending into a reason (``Cancelled`` passes)."""
        try:
            await task(transport)
        except TransportClosed as exc:
            reason = exc.reason
            if isinstance(reason, RemoteClosed):
                reason = self.core.classify_close(reason.code, reason.reason)
            self._finish(reason)
        except TrioVenuesError as exc:
            self._finish(NetworkError(f"{type(exc).__name__}: {exc}"))
        except Exception as exc:
            logger.exception(
                "internal error in a trio_venues connection task", extra=self._log_extra
            )
            self._finish(NetworkError(f"internal error: {type(exc).__name__}: {exc}"))

    # -- the three tasks -------------------------------------------------------------

    async def _reader(self, transport: Transport) -> None:
        # The hot path: every received message passes here, hundreds of
        # thousands a second on a busy feed, so the common case is kept to a
        # few local lookups. A data message with no topic stream, no per-topic
        # overflow policy and room in the queue is counted and queued inline
        # (what _deliver_message and _track_queue would do); anything else goes
        # through _deliver_message. Locals hold objects that are never replaced
        # (the dicts and the queue are mutated in place, so a new stream is
        # seen at once). The byte budget costs one addition per message here;
        # its bookkeeping runs at each hand-off (_checkpoint) and after each read.
        decode = self.core.decode
        hb = self._heartbeat
        assert hb is not None
        capacity = self._capacity
        warn_at = self._warn_at
        # Hand over before the queue reaches the Backpressure threshold: a
        # consumer that is only waiting for its turn is not lagging.
        handoff_at = max(1, min(warn_at - 1, _HANDOFF_EVENTS))
        handoff_bytes = _HANDOFF_BYTES
        event_cost = _EVENT_COST
        # The fast path: a data message is put as it is when the queue holds
        # fewer than `short` events, no topic stream or per-topic policy
        # exists, Backpressure is not raised and the consumer has not closed
        # its side. Then no policy applies and, the queue staying under the
        # Backpressure threshold, _track_queue has nothing to do but the
        # peak. All of that can change only while this task awaits, so `fast`
        # is worked out again after every await (`_fast()`), and the peak is
        # taken before every await (the queue only grows in between: its
        # longest is its length then) and when the reader ends.
        short = min(handoff_at, warn_at - 1, capacity)
        events = self.events
        put = events.put
        queue = events.items()
        streams = self._streams
        topic_overflow = self._topic_overflow
        topic_stats = self._topic_stats
        note_peak = self._note_peak
        append = queue.append
        consumers = events.consumers()
        # Messages and bytes received since the counters were last updated.
        received = nbytes = 0
        now = 0.0
        try:
            while True:
                batch = await transport.receive_batch()
                now = trio.current_time()
                # Every item is a sign of life, and they all share this `now`.
                hb.last_received = now
                # Bytes charged since the last hand-off (see _HANDOFF_BYTES and
                # _EVENT_COST), not yet added to self._charged.
                queued_bytes = 0
                fast = self._fast()
                for item in batch:
                    kind = type(item)
                    # Exact type tests first: isinstance() with a union costs more.
                    if kind is str or kind is bytes or isinstance(item, str | bytes):
                        data: str | bytes = item  # type: ignore[assignment]  # tested above
                        received += 1
                        size = len(data)
                        nbytes += size
                        # Charged before decoding (a decompressed message too).
                        queued_bytes += size + event_cost
                        if queued_bytes >= handoff_bytes:
                            # Let a ready consumer drain the queue first and check
                            # the byte budget (it may stop reading here). Without the
                            # hand-off a burst (one read can hold ~1,300 trades)
                            # would fill the queue while the consumer waits for its
                            # turn, raise Backpressure and spend the byte budget: up
                            # to 16 MB of events (~80,000 trades) parked, each message
                            # ~1.4 us dearer through the garbage collector and CPU caches.
                            note_peak()
                            self._count_in(received, nbytes, now)
                            received = nbytes = 0
                            await self._checkpoint(queued_bytes, size + event_cost)
                            queued_bytes = 0
                            if self._reason is not None:
                                return
                            fast = self._fast()
                        try:
                            outputs = decode(data, now)
                        except DecodeError as exc:
                            self._decode_errors += 1
                            if self.config.message_policy == "strict":
                                self._finish(InvalidMessage(str(exc)))
                                return
                            self._deliver_control(ErrorEvent(exc.detach()))
                            continue
                        for out in outputs:
                            if type(out) is Message or isinstance(out, Message):
                                topic = out.topic
                                if topic is not None:
                                    counters = topic_stats.get(topic)
                                    if counters is None:
                                        counters = topic_stats[topic] = [0, 0, None]
                                    counters[0] += 1
                                    counters[1] += size
                                    # The last message: stats() reads its times.
                                    counters[2] = out
                                if fast and len(queue) < short:
                                    if consumers:
                                        put(out)
                                    else:
                                        # EventChannel.put, inlined: nobody to wake.
                                        append(out)
                                        events.put_count += 1
                                    continue
                                self._count_in(received, nbytes, now)
                                received = nbytes = 0
                                if len(queue) >= handoff_at:
                                    # EventChannel.wait_for_consumer: returns at once
                                    # when the consumer is elsewhere.
                                    note_peak()
                                    await events.wait_for_consumer(1)
                                    fast = self._fast()
                                if streams or topic_overflow or len(queue) >= capacity:
                                    note_peak()
                                    await self._deliver_message(out, size)
                                    fast = self._fast()
                                    continue
                                put(out)
                                # _track_queue, inlined.
                                n = len(queue)
                                if n > self._peak_queued:
                                    self._peak_queued = n
                                if n >= warn_at:
                                    if not self._warned:
                                        self._warned = True
                                        put(Backpressure(n, capacity))
                                elif self._warned and n < warn_at // 2:
                                    self._warned = False
                            elif isinstance(out, Event):
                                self._deliver_control(out)
                            else:
                                self._route(out, now)
                        # _finish() was called (it sets the reason, then the end event).
                        if self._reason is not None:
                            return
                    else:
                        if isinstance(item, Ping):
                            self._pings_received += 1
                            self._send_control("pong", item.payload)
                            self._deliver_control(PingReceived(item.payload))
                        else:
                            rtt = hb.on_pong(item.payload, now)
                            self._deliver_control(PongReceived(item.payload, rtt))
                        # One read can hold 100,000 control frames: a storm that
                        # does not coalesce (pings and pongs alternating) meets the
                        # budget here, not only at the end of the read.
                        if self._charged - self._freed > self._budget:
                            note_peak()
                            self._count_in(received, nbytes, now)
                            received = nbytes = 0
                            await self._checkpoint(queued_bytes, 0)
                            queued_bytes = 0
                            if self._reason is not None:
                                return
                            fast = self._fast()
                # Everything this read queued is charged and marked; past the
                # budget the reader stops here (or disconnects).
                self._charged += queued_bytes
                marks = self._marks
                if not marks or self._charged - marks[-1][1] >= _MARK_BYTES:
                    marks.append((events.put_count, self._charged))
                note_peak()
                self._count_in(received, nbytes, now)
                received = nbytes = 0
                if self._charged - self._freed > self._budget:
                    await self._make_room()
                    if self._reason is not None:
                        return
                # Let a ready consumer take this batch before we read again. On a
                # quiet feed this hands each message over before the next socket
                # read (which finds nothing and parks) instead of after it: the
                # time from our read to the consumer went from ~59 to ~35 us p50
                # on a trade feed at 2,000 msgs/s (a cold CPU between messages).
                # The price is one more scheduler pass per quiet read: measured
                # +10-20% of a core at 1,000 connections x 5 msgs/s (none at 500).
                await events.wait_for_consumer(1)
        finally:
            note_peak()
            self._count_in(received, nbytes, now)

    def _count_in(self, messages: int, size: int, now: float) -> None:
        if messages:
            self._messages_in += messages
            self._bytes_in += size
            self._last_message_at = now

    def _note_peak(self) -> None:
        """Record the queue's length as its peak when it is the longest so far."""
        n = len(self.events)
        if n > self._peak_queued:
            self._peak_queued = n

    def _fast(self) -> bool:
        """Whether the reader's fast path holds now (see ``_reader``)."""
        return not (
            self._streams or self._topic_overflow or self._warned or self.events.receiver_closed
        )

    # -- the byte budget (see _EVENT_COST) -----------------------------------------

    async def _checkpoint(self, pending: int, current: int) -> None:
        """Hand over to a ready consumer, then apply the byte budget.

        ``pending`` bytes were charged since the last checkpoint; the last
        ``current`` of them belong to the message about to be decoded, whose
        events are not queued yet (so they are charged, but not marked).
        """
        self._charged += pending - current
        self._mark()
        self._charged += current
        await self.events.wait_for_consumer(1)
        if self._charged - self._freed > self._budget:
            await self._make_room()

    def _mark(self) -> None:
        """Every byte charged so far belongs to the events put so far."""
        marks = self._marks
        count = self.events.put_count
        if marks and marks[-1][0] == count:
            marks[-1] = (count, self._charged)
        else:
            marks.append((count, self._charged))

    def _queued_bytes(self) -> int:
        """Bytes charged for events the consumer has not taken yet (an upper bound)."""
        events = self.events
        taken = events.put_count - len(events)
        marks = self._marks
        passed = 0
        for count, charged in marks:
            if count > taken:
                break
            passed += 1
            self._freed = charged
        if passed:
            del marks[:passed]
        return self._charged - self._freed

    def _byte_limit(self) -> int:
        return self._budget + (_REQUEST_ALLOWANCE if self._pending else 0)

    async def _make_room(self) -> None:
        """Past the byte budget: end with ``SlowConsumer`` or stop reading until there is room.

        Under ``block`` the reader waits (TCP backpressure) until the consumer
        has taken enough events to bring the queue under the budget, or until
        the queue is empty (a single message larger than the budget still
        gets through). A request that starts meanwhile wakes it: the reader
        then reads on within ``_REQUEST_ALLOWANCE`` to find the response.
        While it waits, the heartbeat does not blame the peer for pongs that
        it is not reading (see ``_pause``).
        """
        events = self.events
        if self._queued_bytes() <= self._byte_limit():
            return
        if not self._warned:
            self._warned = True
            events.put(Backpressure(len(events), self._capacity))
        if self.config.overflow_policy == "disconnect":
            self._finish(SlowConsumer(len(events)))
            return
        self._pause()
        try:
            while len(events) and self._queued_bytes() > self._byte_limit():
                limit = self._byte_limit()
                # The fewest events the consumer must take: up to the first
                # mark after which the rest fits the budget (or all of them).
                target = events.put_count
                for count, charged in self._marks:
                    if self._charged - charged <= limit:
                        target = count
                        break
                await events.wait_for_room(events.put_count - target + 1)
        finally:
            self._resume()

    def _pause(self) -> None:
        """The reader stops reading for the consumer: suspend the heartbeat's deadlines.

        Pongs (and all data) wait unread in the socket meanwhile, so a missing
        pong says nothing about the peer; the deadlines start again from the
        moment reading resumes (see ``Heartbeat.resume``).
        """
        self._paused = True
        if self._hb_sleep is not None:
            self._hb_sleep.cancel()

    def _resume(self) -> None:
        self._paused = False
        if self._heartbeat is not None:
            self._heartbeat.resume(trio.current_time())
        if self._hb_sleep is not None:
            self._hb_sleep.cancel()

    def _wake_core(self) -> None:
        """Let the core task look at the core's timer and frames; start it when first needed.

        Called wherever the core's timer may have changed or a frame was
        queued. Until the core has a timer or a frame to send, no task runs
        for it; once started, it runs until the connection ends. Never after
        the connection started ending (its nursery may be gone).
        """
        if self._core_started:
            self._core_lot.unpark()
        elif (
            self._nursery is not None
            and self._transport is not None
            and self._reason is None
            and (self._unprompted or self.core.next_timer() is not None)
        ):
            self._core_started = True
            self._nursery.start_soon(self._guard, self._core_task, self._transport)

    def _route(self, out: Any, now: float) -> None:
        # Any output but an event may have changed the core's timer.
        self._wake_core()
        if isinstance(out, Response):
            self._on_response(out)
        elif isinstance(out, SendFrame):
            if len(self._unprompted) >= _UNPROMPTED_MAX:
                self._finish(
                    InvalidMessage(
                        f"the venue core queued more than {_UNPROMPTED_MAX} frames to send; "
                        "the venue asks for more than its rate limit lets through"
                    )
                )
                return
            self._unprompted.append(out)
            self._wake_core()
        elif isinstance(out, VenuePing):
            self._pings_received += 1
            if out.reply is not None:
                self._send_control("venue", out.reply)
            self._deliver_control(PingReceived(out.payload, level="venue"))
        elif isinstance(out, VenuePong):
            assert self._heartbeat is not None
            rtt = self._heartbeat.on_venue_pong(now)
            self._deliver_control(PongReceived(out.payload, rtt, level="venue"))
        elif isinstance(out, EndConnection):
            self._finish(out.reason)
        elif isinstance(out, PlannedShutdown):
            if self.config.shutdown_notice == "event":
                notice = ShutdownNotice(
                    out.reason, out.deadline, this_connection=out.this_connection
                )
                self._deliver_control(notice)
            elif out.this_connection:
                self._finish(out.reason)
        elif isinstance(out, UsageReport):
            if self._limiter is not None:
                self._limiter.update_usage(out.kind, out.used, out.limit, out.window)
        else:
            raise InternalError(f"venue core {self.core.name!r} produced {out!r}")

    def _on_response(self, response: Response) -> None:
        entry = self._pending.resolve(response.request_id, response.result, response.error)
        if entry is None:
            late = self._pending.was_abandoned(response.request_id)
            abandoned = self._pending.resolve_late(response.request_id)
            if abandoned is not None and abandoned.method in ("subscribe", "unsubscribe"):
                # Its caller gave up (RequestTimeout, cancelled), but the venue
                # acted on it: keep ws.subscriptions exact (retry_scope replays
                # from it) and report it like any acknowledgement.
                accepted, refused = topic_outcome(abandoned.topics, response)
                if accepted:
                    self._record_subscriptions(abandoned.method, accepted)
                if refused:
                    self._deliver_control(ErrorEvent(_subscription_error(refused)))
                return
            self._deliver_control(
                ErrorEvent(
                    UnexpectedResponse(
                        response.request_id,
                        late=late,
                        result=response.result,
                        error=response.error,
                    )
                )
            )
            return
        if entry.method in ("subscribe", "unsubscribe"):
            # A subscription's outcome is per topic; the caller raises for the refused.
            entry.error = None
            entry.accepted, entry.refused = topic_outcome(entry.topics, response)
            if entry.accepted:
                self._record_subscriptions(entry.method, entry.accepted)
            if entry.refused and entry.waiter.unprompted:
                self._deliver_control(ErrorEvent(_subscription_error(entry.refused)))
        elif isinstance(entry.error, Exception) and entry.waiter.unprompted:
            self._deliver_control(ErrorEvent(entry.error))
        entry.waiter.event.set()

    def _record_subscriptions(self, method: str, topics: tuple[str, ...]) -> None:
        """The venue acknowledged (maybe late) a subscribe or unsubscribe of ``topics``."""
        if method == "subscribe":
            self._subscriptions.update(topics)
            self._deliver_control(Subscribed(topics))
        else:
            self._subscriptions.difference_update(topics)
            self._deliver_control(Unsubscribed(topics))

    # -- internals: the core acting unprompted -----------------------------------------

    async def _handle_outputs(self, outputs: Sequence[Output]) -> None:
        """Handle the outputs of ``on_open``/``on_timer`` (frames are sent before returning)."""
        now = trio.current_time()
        for out in outputs:
            if isinstance(out, Event):
                self._deliver_control(out)
            elif isinstance(out, SendFrame):
                await self._send_unprompted(out)
            else:
                self._route(out, now)

    async def _send_unprompted(self, frame: SendFrame) -> None:
        """Send a core's frame: it waits for the rate limiter (never refused)."""
        if frame.request_id is not None:
            waiter = _Waiter(unprompted=True)
            self._pending.add(frame.request_id, frame.operation, waiter, frame.topics)
            ids = self._unprompted_ids
            ids.append(frame.request_id)
            if len(ids) > _UNPROMPTED_MAX:
                self._pending.abandon(ids.pop(0))
        payload = frame.payload
        kind = "text" if isinstance(payload, str) else "bytes"
        await self._send_data(kind, payload, "wait", frame.operation)

    async def _core_task(self, transport: Transport) -> None:
        """Send the core's unprompted frames and run its timer, once the connection is open."""
        await self._core_ready.wait()
        core, unprompted = self.core, self._unprompted
        while True:
            while unprompted:
                await self._send_unprompted(unprompted.pop(0))
            deadline = core.next_timer()
            if deadline is not None and deadline <= trio.current_time():
                await self._handle_outputs(core.on_timer(self._context()))
                after = core.next_timer()
                if after is not None and after <= deadline:
                    # on_timer must move its timer on or clear it; otherwise this
                    # loop would fire it again at once, forever, without yielding.
                    raise InternalError(
                        f"venue core {core.name!r}: on_timer() left its timer at {after} "
                        f"(not after {deadline}); please report this"
                    )
                await trio.lowlevel.checkpoint()
                continue
            with trio.move_on_at(math.inf if deadline is None else deadline):
                await self._core_lot.park()

    async def _log_on(self) -> None:
        """Send the core's log-on frame and wait for its answer (see ``open_connection``)."""
        core = self.core
        request_id = core.next_request_id()
        frame = core.encode_login(request_id, self._context())
        if frame is None:
            return
        try:
            entry = await self._roundtrip("login", request_id, frame, (), None)
        except AuthenticationError as exc:
            self._finish(AuthenticationFailed(f"log-on refused: {exc}"))
            raise
        except VenueError as exc:
            self._finish(AuthenticationFailed(f"log-on refused: {exc}"))
            raise AuthenticationError(
                exc.code, exc.message, retryable=exc.retryable, status=exc.status, data=exc.data
            ) from exc
        except (RequestTimeout, ConnectionLost) as exc:
            self._finish(AuthenticationFailed(f"log-on not answered: {exc}"))
            raise AuthenticationError(
                None, f"the venue did not answer the log-on: {exc}", retryable=True
            ) from exc
        self._deliver_control(Authenticated(dict(core.login_details(entry.result))))

    async def _writer(self, transport: Transport) -> None:
        control, outbox = self._control, self._outbox
        while True:
            if control:
                kind, payload = control.pop(0)
                # Pings, pongs and venue replies count against the venue's
                # message rate (Binance counts them). They never raise and go
                # ahead of queued user messages: a late pong costs the connection.
                await self._acquire_control()
                if kind == "pong":
                    assert isinstance(payload, bytes)
                    await transport.pong(payload)
                    self._pongs_sent += 1
                elif kind == "ping":
                    assert isinstance(payload, bytes)
                    await transport.ping(payload)
                    self._pings_sent += 1
                elif isinstance(payload, str):
                    await transport.send_text(payload)
                else:
                    await transport.send_bytes(payload)
                self._messages_out += 1
                self._bytes_out += len(payload)
            elif outbox:
                kind, payload = outbox.pop(0)
                if self._outbox_space:
                    self._outbox_space.unpark()
                if isinstance(payload, str):
                    await transport.send_text(payload)
                else:
                    await transport.send_bytes(payload)
                self._messages_out += 1
                self._bytes_out += len(payload)
            else:
                await self._outbox_lot.park()

    async def _stats_task(self, transport: Transport) -> None:
        hook = self.config.stats_hook
        assert hook is not None
        while True:
            await trio.sleep(self.config.stats_interval)
            hook(self.stats)

    async def _heartbeat_task(self, transport: Transport) -> None:
        hb = self._heartbeat
        assert hb is not None
        # Reads that completed no message (FastTransport.partial_reads): part
        # of a large message arrived, which is proof of life (Heartbeat.on_progress).
        partial = getattr(transport, "partial_reads", 0)
        while True:
            # While the reader is paused for the consumer, nothing is due: the
            # pause ends by cancelling this sleep (_resume), which restarts it.
            deadline = math.inf if self._paused else hb.next_deadline()
            with trio.CancelScope(deadline=deadline) as self._hb_sleep:
                await trio.sleep_forever()
            self._hb_sleep = None
            if self._paused:
                continue
            now = trio.current_time()
            seen = getattr(transport, "partial_reads", 0)
            if seen != partial:
                partial = seen
                hb.on_progress(now)
            for action in hb.on_timer(now):
                if isinstance(action, HeartbeatTimeout):
                    self._finish(action)
                    return
                if isinstance(action, SendPing):
                    self._send_control("ping", action.payload)
                elif isinstance(action, SendVenuePing):
                    frame = self.core.venue_ping(now)
                    if frame is not None:
                        self._send_control("venue", frame)


def _subscription_error(refused: Sequence[tuple[str, VenueError]]) -> SubscriptionError:
    """One ``SubscriptionError`` for every refused topic (code and message of the first)."""
    first = refused[0][1]
    return SubscriptionError(
        first.code,
        first.message,
        [topic for topic, _ in refused],
        retryable=first.retryable,
        errors=dict(refused),
    )


def _close_code_for(reason: DisconnectReason | None) -> tuple[int, str]:
    if isinstance(reason, UserInitiated | ServerRequested):
        return 1000, ""
    if isinstance(reason, HeartbeatTimeout):
        return 1011, "keepalive timeout"
    if isinstance(reason, SlowConsumer):
        return 1008, "consumer too slow"
    if isinstance(reason, InvalidMessage):
        return 1003, "invalid message"
    if isinstance(reason, ProtocolError):
        return reason.close_code, ""
    return 1000, ""


def _ignore_event(event: Event) -> None:
    """No event channel exists before the connection: the error itself reports a refusal."""


def _host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


@asynccontextmanager
async def open_connection(
    core: VenueCore,
    config: ConnectionConfig,
    url: str,
    *,
    connection_class: type[Connection] = Connection,
    on_open: Callable[[Any], Awaitable[None]] | None = None,
    credentials: Credentials | None = None,
    wall_clock: Callable[[], float] | None = None,
) -> AsyncIterator[Connection]:
    """Open one connection (see the module docstring); never retries.

    Once the transport is up, in this order: the core's log-on
    (``core.encode_login``; when it returns a frame, nothing else is sent
    until the venue acknowledged it, and ``Authenticated`` follows
    ``Connected``), the core's ``on_open`` outputs, then ``on_open(conn)``
    when given (a venue client's own set-up); only then does the core's
    timer start and the user's block run. An exception from any of them
    closes the connection and propagates.

    Args:
        core: the connection's sans-I/O venue core.
        config: the connection's settings.
        url: the endpoint.
        connection_class: the class of the yielded connection.
        on_open: an async hook run with the connection before the user's block.
        credentials: given to the core in every :class:`SendContext`.
        wall_clock: seconds since the epoch for ``SendContext.wall_time``
            (default :func:`time.time`; tests pass a virtual clock).

    Raises:
        ConnectFailed: a subclass saying why the connection could not open.
        RateLimitExceeded: the venue's connection-attempt limit refused it.
        AuthenticationError: the venue refused (or did not answer) the log-on.
    """
    factory = resolve_transport(config.transport)
    conn = connection_class(core, config, url)
    conn._credentials = credentials
    if wall_clock is not None:
        conn._wall_clock = wall_clock
    limits = getattr(core, "limits", None)
    if limits is not None:
        # The venue's connection-attempt budget is per process and host, so it
        # holds across reconnects (retry_scope waits on RateLimitExceeded).
        process = limits.process_limiter(_host_of(url))
        for kind, cost in limits.connect_cost:
            await process.acquire(
                kind,
                cost,
                policy=config.rate_limit_policy.get(kind, "raise"),
                on_event=_ignore_event,
            )
    try:
        async with trio.open_nursery() as nursery:
            try:
                with trio.fail_after(config.connect_timeout):
                    transport = await factory(nursery, url, config)
            except trio.TooSlowError:
                raise ConnectTimeout(
                    f"could not connect to {url} within connect_timeout={config.connect_timeout}s",
                    url=url,
                ) from None
            await nursery.start(conn._run, transport)
            try:
                await conn._log_on()
                await conn._handle_outputs(core.on_open(conn._context()))
                conn._core_ready.set()
                conn._wake_core()
                if on_open is not None:
                    await on_open(conn)
                yield conn
            finally:
                with trio.CancelScope(shield=True):
                    conn._finish(UserInitiated())
                    await conn._closed.wait()
    except BaseExceptionGroup as group:
        unwrap_group(group)
