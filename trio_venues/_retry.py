"""Reconnection the user composes: :func:`retry_scope`, :class:`RetryPolicy` and the backoffs.

``connect()`` never retries (API.md 1). ``retry_scope`` wraps any factory of
connections (``lambda: BinanceSpot.connect()``, or a user's own) and keeps one
logical connection alive across many real ones. Every decision it takes is
visible on its event channel, and every wait is bounded by the policy.

How it is built, and why:

- **One supervisor task** runs the loop: enter the factory, forward the
  connection's events, decide, sleep, repeat. It never raises into the user's
  body: when it gives up it records :class:`~trio_venues.errors.RetriesExhausted`,
  cancels the body's own cancel scope (with a reason), and ``retry_scope``
  raises the error bare (not in an exception group) when the block unwinds.
  A body that is blocked on something unrelated (``sleep_forever``, another
  channel) therefore still sees the failure promptly.
- **Per connection, two tasks**: a forwarder (inner events to ours, in order,
  noting the final ``Disconnected``) and a preparer (the ``on_connect`` hook,
  then the subscription replay). The forwarder must run during the replay: the
  venue's ack travels through the same reader as the data, and a replay that
  waited on an unread buffer would deadlock. When the forwarder sees the
  connection end it cancels the preparer, so a hook stuck on a dead connection
  never holds the scope.
- **The "ready" state** is "connected *and* replayed". User calls go through
  only then; otherwise they raise ``NotConnected`` (``send_policy="raise"``) or
  wait for the next ready connection (``"wait"``). Nothing is ever queued for
  later sending. Subscription changes and the replay share one lock, so a
  ``subscribe`` acknowledged on the old connection just before it dropped is in
  the desired set before the replay reads it.
- **The retry bookkeeping** (:class:`_Schedule`) is pure: times and the random
  source are passed in. A *streak* is the run of attempts since the scope
  started or since the last *stable* connection ended (one that stayed up for
  ``stable_after`` seconds); only the end of a stable connection resets the
  backoff, never a bare handshake (``docs/reliability.md``, "Retry table": a server
  that accepts and closes at once must not get an immediate retry each time).
- **Overflow policy of ``ws.events``**: block. The forwarder waits for room,
  which makes the inner connection's own ``overflow_policy`` apply; the
  scope's own events also wait (never dropped). Three exceptions: before the
  block is entered (nobody can read yet) an event that finds the buffer full
  replaces the oldest, so failed first attempts never stall the retry loop
  (each is logged on ``trio_venues.retry``); once the scope is closing, events
  that find the buffer full are dropped (the block has ended; nobody may be
  reading); and after the user closed ``ws.events`` every event is discarded.
- **"Connected" means usable.** A connection's ``Connected`` event marks it
  *announced*: calls made from then on wait while the scope prepares it
  (session restore, ``on_connect``, replay) instead of failing, so the
  event-driven program "on Connected, send" works with or without
  subscriptions to replay.
- **Tracking.** The venue's connection keeps ``subscriptions`` exact (acks,
  late acks, streams in its URL). When a ready connection ends, its set
  becomes the set to replay, so whatever was subscribed on it (through the
  scope, a venue helper, or ``ws.connection`` directly) comes back.
"""

from __future__ import annotations

import collections
import contextlib
import inspect
import logging
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar

import attrs
import trio

from ._groups import single_exception
from ._retry_policy import (
    DEFAULT_FLOORS,
    Backoff,
    CircuitBreaker,
    ConstantBackoff,
    DecorrelatedJitterBackoff,
    ExponentialBackoff,
    RetryPolicy,
    _GiveUp,
    _Schedule,
)
from ._session import ConnectionState
from .errors import (
    ConfigError,
    ConnectFailed,
    ConnectionLost,
    ConnectTimeout,
    NotConnected,
    RateLimitExceeded,
    RequestTimeout,
    RetriesExhausted,
    SubscriptionError,
)
from .events import (
    DataGap,
    Disconnected,
    ErrorEvent,
    Event,
    GapDetected,
    Message,
    RateLimited,
    Reconnecting,
    Resubscribed,
)
from .reasons import (
    ConnectAttemptFailed,
    DisconnectReason,
    HeartbeatTimeout,
    NetworkError,
    RemoteClosed,
    ResubscribeTimeout,
)

__all__ = [
    "DEFAULT_FLOORS",
    "reason_label",
    "Backoff",
    "CircuitBreaker",
    "ConnectionLike",
    "ConstantBackoff",
    "DecorrelatedJitterBackoff",
    "ExponentialBackoff",
    "RetryPolicy",
    "RetryingConnection",
    "SendPolicy",
    "retry_scope",
]

SendPolicy: TypeAlias = Literal["raise", "wait"]

#: ``retry_scope`` logs each failed attempt with the next delay (WARNING until
#: the block is entered, when nothing else shows them; INFO after, when
#: ``Reconnecting`` events do), a ready connection (INFO) and giving up (ERROR).
logger = logging.getLogger("trio_venues.retry")

# A limiter that answers "retry in 0 s" must not turn the loop into a busy spin.
_MIN_LIMIT_WAIT = 0.001
# After the current connection closed cleanly, how long leaving the block waits
# for the supervisor to drain the last events before cancelling it. Our own
# connections end their event channel as ``aclose()`` returns; this only bounds
# a user's factory that does not.
_CLOSE_GRACE = 1.0


# -- the connection interface the scope composes over ------------------------------------


class ConnectionLike(Protocol):
    """What ``retry_scope`` needs from the value of ``factory()``'s context.

    :class:`~trio_venues.Connection` (every venue client) has this shape; a
    user's own connection class needs only these members. ``subscriptions``
    must be exact: when a ready connection ends, the scope takes it as the set
    to replay (so topics subscribed or removed on the inner connection itself
    are followed too). Two optional members are used when present:
    ``session_state()`` (what a new connection must restore, e.g. a log-on)
    and ``restore_session(state)``, awaited on each new connection before
    ``on_connect`` and the replay.
    """

    @property
    def events(self) -> trio.abc.ReceiveChannel[Event]:
        """The connection's events: ``Connected`` first, ``Disconnected`` last, then the end."""

    @property
    def subscriptions(self) -> frozenset[str]:
        """The topics the venue has acknowledged."""

    async def subscribe(self, *topics: str) -> object:
        """Subscribe; return once acknowledged; ``SubscriptionError`` for refused topics."""

    async def unsubscribe(self, *topics: str) -> object:
        """Unsubscribe; return once acknowledged."""

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> Any:
        """Send a request and return the venue's result."""

    async def send(self, payload: Any) -> object:
        """Send a raw message."""

    async def aclose(self) -> object:
        """Close the connection (``UserInitiated``) and wait until it ended."""


C = TypeVar("C", bound=ConnectionLike)
T = TypeVar("T")

_MISSING: Any = object()


@attrs.define
class _Live:
    """What the supervisor learns about one established connection."""

    started_at: float
    connected_at: float
    base: frozenset[str]  # topics the connection had by itself (e.g. streams in the URL)
    first_forwarded: trio.Event = attrs.field(factory=trio.Event)
    ready: bool = False
    reason: DisconnectReason | None = None
    override: DisconnectReason | None = None  # the scope ended it for its own reason
    ended_at: float | None = None


@attrs.define(eq=False)
class _ScopeStream:
    """One ``ws.stream(topic)`` of the scope: fed by the forwarder across connections."""

    send: trio.MemorySendChannel[Message]
    receive: trio.MemoryReceiveChannel[Message]
    overflow: str
    count: int = 0  # messages routed to it, numbered from 1 across connections
    gap: tuple[int, int] | None = None  # dropped numbers [first, last + 1) not yet reported
    marker_at: int = -1  # index (among events put on ws.events) of its last gap marker


class RetryingConnection(Generic[C]):
    """The logical connection ``retry_scope`` yields (never built directly); outlives real ones.

    ``events`` spans connections: each connection's events in order
    (``Connected`` ... ``Disconnected``), and between them ``Reconnecting``,
    ``RateLimited(waited=True)``, then ``Resubscribed`` and ``DataGap`` once a
    new connection has replayed the subscriptions.

    **``Connected`` means usable.** From the moment a connection's
    ``Connected`` event is put on ``ws.events`` until its ``Disconnected`` is,
    ``subscribe``, ``unsubscribe``, ``request``, ``send`` and the venue's
    helpers go out on it: a call made while the scope is still preparing it
    (``on_connect``, then the replay of the subscriptions) waits for that
    preparation and then runs. Between a ``Disconnected`` and the next
    ``Connected`` they raise ``NotConnected`` (``send_policy="raise"``) or wait
    for the next connection (``"wait"``; bound the wait with
    ``trio.fail_after``). Nothing is queued, and a request in flight when a
    connection ends fails with ``ConnectionLost`` and is never re-sent.

    **The venue's whole connection API.** Every async method of the venue's
    connection class that the scope does not define itself (Binance's
    ``subscribe_trades``, ``list_subscriptions``, ``logon``,
    ``subscribe_user_data``, ``depth``, ...) is offered here too: the call
    runs on the current connection under the same rules. Properties
    (``logged_on``, ``url``, ...) read the current connection. Whatever
    subscribes, on the scope or on :attr:`connection` directly, is tracked:
    the connection's acknowledged set is what the scope replays.

    Attributes:
        events: the scope's bounded event channel (capacity ``event_buffer``).
            Read it: when it is full the scope waits, and so, in turn, does the
            connection (its ``overflow_policy`` applies). ``await
            ws.events.aclose()`` discards events instead.
        reconnects: reconnections by the reason that caused them (``reason_label``).
    """

    def __init__(
        self,
        factory: Callable[[], AbstractAsyncContextManager[C]],
        policy: RetryPolicy,
        send_policy: SendPolicy,
        event_buffer: int,
        on_connect: Callable[[C], Awaitable[object]] | None,
    ) -> None:
        self._factory = factory
        self._policy = policy
        self._send_policy = send_policy
        self._on_connect = on_connect
        self._rng = policy.rng if policy.rng is not None else random.Random()
        self._send, self.events = trio.open_memory_channel[Event](event_buffer)
        self._put_total = 0  # events ever put on ws.events (to tell which are unread)
        # The set to replay, in subscription order (a dict is an ordered set).
        # While a connection is ready its own ``subscriptions`` is the truth;
        # when it ends, this set is taken from it.
        self._desired: dict[str, None] = {}
        self.reconnects: collections.Counter[str] = collections.Counter()
        self._sub_lock = trio.Lock()
        self._live: C | None = None  # established, maybe not announced yet
        self._announced: C | None = None  # its Connected was forwarded: calls wait for it
        self._ready: C | None = None  # announced, prepared and replayed
        self._last: C | None = None  # the most recent connection (for stats)
        self._kind: type[Any] | None = None  # the connection class (for delegation)
        self._preparer: trio.lowlevel.Task | None = None
        self._session_state: object = None
        self._streams: dict[str, _ScopeStream] = {}
        self._changed = trio.Event()
        self._entered = False
        self._closing = False
        self._finished = False
        self._failure: RetriesExhausted | None = None
        self._last_reason: DisconnectReason | None = None
        self._attempts = 0
        self._emit_scopes: set[trio.CancelScope] = set()
        self._supervisor_scope = trio.CancelScope()
        self._supervisor_done = trio.Event()
        self._body_scope: trio.CancelScope | None = None
        # The outage being bridged: when the last ready connection ended, and
        # the topics it had then.
        self._gap_since: float | None = None
        self._gap_topics: tuple[str, ...] = ()

    # -- public API ------------------------------------------------------------------

    @property
    def subscriptions(self) -> frozenset[str]:
        """The topics of the logical connection: the ones the scope replays.

        While a connection is ready, its own acknowledged set (streams named
        in its URL, late acknowledgements and subscriptions made on
        :attr:`connection` included); between connections, the set the next
        connection will replay.
        """
        ready = self._ready
        if ready is not None:
            return frozenset(ready.subscriptions)
        return frozenset(self._desired)

    @property
    def connection(self) -> C | None:
        """The current connection from its ``Connected`` event on, or ``None`` between them.

        It may still be replaying the subscriptions (see :meth:`wait_connected`).
        Subscriptions made on it directly are tracked and replayed like the scope's own.
        """
        return self._ready if self._ready is not None else self._announced

    @property
    def connected(self) -> bool:
        """Whether a ready connection (connected and replayed) is up right now."""
        return self._ready is not None

    @property
    def state(self) -> ConnectionState:
        """The logical connection's state.

        ``CONNECTED`` from a connection's ``Connected`` event to its
        ``Disconnected``; ``CONNECTING`` between connections;
        ``DISCONNECTING`` while the scope closes; ``DISCONNECTED`` once it ended.
        """
        if self._finished:
            return ConnectionState.DISCONNECTED
        if self._closing:
            return ConnectionState.DISCONNECTING
        if self.connection is not None:
            return ConnectionState.CONNECTED
        return ConnectionState.CONNECTING

    @property
    def stats(self) -> Any:
        """The current (or, between connections, the last) connection's ``stats``.

        ``None`` when the connection class has no ``stats``. Counters are per
        connection; :attr:`reconnects` counts across them.
        """
        conn = self._ready or self._announced or self._last
        return getattr(conn, "stats", None)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events.__aiter__()

    def __getattr__(self, name: str) -> Any:
        # Only called for names this class lacks: the venue's own API.
        if name.startswith("_"):
            raise AttributeError(name)
        kind = self.__dict__.get("_kind")
        attr = _MISSING if kind is None else inspect.getattr_static(kind, name, _MISSING)
        if attr is _MISSING:
            of = f" nor does {kind.__name__}" if kind is not None else ""
            raise AttributeError(f"RetryingConnection has no attribute {name!r}{of}")
        if isinstance(attr, staticmethod | classmethod):
            return getattr(kind, name)
        if inspect.iscoroutinefunction(attr):
            return self._delegate(name)
        if inspect.isfunction(attr) and inspect.isasyncgenfunction(inspect.unwrap(attr)):
            raise AttributeError(
                f"{kind.__name__}.{name} belongs to one connection and would end with it; "  # type: ignore[union-attr]
                f"retry_scope does not offer it (use ws.connection.{name} knowing that)"
            )
        conn = self.connection if self.connection is not None else self._last
        if conn is None:
            raise NotConnected(f"{name}: retry_scope has no connection")
        return getattr(conn, name)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        if self._kind is not None:
            names |= {n for n in dir(self._kind) if not n.startswith("_")}
        return sorted(names)

    async def wait_connected(self) -> None:
        """Wait until a connection is ready: connected and replayed (returns at once if one is).

        Raises:
            NotConnected: the scope has ended or is closing.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        while self._ready is None:
            self._check_not_ended()
            await self._changed.wait()

    async def subscribe(
        self,
        *topics: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> None:
        """Subscribe on the current connection; the topics are replayed on every new one.

        Args:
            topics: the topics, in the venue's spelling.
            timeout: seconds to wait for each acknowledgement (default the
                connection's ``request_timeout``); not the wait for a
                connection under ``send_policy="wait"``.

        Raises:
            SubscriptionError: the venue refused some topics; the accepted ones
                were added to :attr:`subscriptions`, the refused ones were not.
            NotConnected: between connections (``send_policy="raise"``) or
                after the scope ended.
            ConnectionLost: the connection ended before the ack; the set is
                unchanged (call again).
            RequestTimeout, RateLimitExceeded: from the connection.
        """
        await self._change_subscriptions(topics, add=True, limit_s=timeout)

    async def unsubscribe(
        self,
        *topics: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> None:
        """Unsubscribe on the current connection and remove ``topics`` from the replayed set.

        Raises:
            SubscriptionError: the venue refused some; the others were removed.
            NotConnected, ConnectionLost, RequestTimeout: as for :meth:`subscribe`.
        """
        await self._change_subscriptions(topics, add=False, limit_s=timeout)

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> Any:
        """Send a request on the current connection and return the venue's result.

        ``timeout`` bounds the request once sent, not the wait for a
        connection under ``send_policy="wait"``.

        Raises:
            NotConnected: between connections (``"raise"``) or after the scope ended.
            ConnectionLost: the connection ended first; the request is not re-sent.
            RequestTimeout, VenueError: from the connection.
        """
        return await self._on_ready(lambda conn: conn.request(method, params, timeout=timeout))

    async def send(self, payload: Any) -> None:
        """Send a raw message on the current connection.

        Raises:
            NotConnected: between connections (``"raise"``) or after the scope ended.
            RateLimitExceeded: from the connection's message limiter.
        """
        await self._on_ready(lambda conn: conn.send(payload))

    @asynccontextmanager
    async def stream(
        self, topic: str, *, buffer: int = 256, overflow: str = "block"
    ) -> AsyncIterator[trio.MemoryReceiveChannel[Message]]:
        """Route ``topic``'s messages to a channel of their own, across connections.

        Like ``Connection.stream``, but the channel outlives each connection:
        it ends only when the block is left or the scope ends. Other events
        (``Disconnected``, ``DataGap`` ...) stay on ``ws.events``.

        Args:
            topic: the topic, as in ``Message.topic``.
            buffer: the channel's capacity in messages.
            overflow: when it is full: ``"block"`` (the scope waits, and so
                does the connection: TCP backpressure), ``"drop_oldest"``
                (drop the oldest and report it on ``ws.events``) or
                ``"conflate"`` (keep the latest).

        With ``"drop_oldest"`` the stream's messages are numbered from 1 in
        arrival order (across connections) and dropped ones are reported as
        ``GapDetected(topic, expected=first dropped, received=last dropped + 1)``,
        as the connection's own ``stream()`` does. Markers are bounded: while
        the stream's last marker is still unread on ``ws.events``, further
        consecutive drops merge into the next one (sent with the next message
        of the topic once the last is read, or when the block is left); a new
        run of drops after messages got through is reported on its own, waiting
        for room on ``ws.events`` like any event of the scope.

        Raises:
            ValueError: the topic already has a stream, or ``overflow`` is unknown.
        """
        if overflow not in ("block", "drop_oldest", "conflate"):
            raise ValueError(
                "retry_scope streams take overflow 'block', 'drop_oldest' or 'conflate', "
                f"not {overflow!r}"
            )
        if topic in self._streams:
            raise ValueError(f"topic {topic!r} already has a stream")
        send, receive = trio.open_memory_channel[Message](max(1, buffer))
        self._streams[topic] = _ScopeStream(send, receive, overflow)
        if self._finished:
            send.close()
        try:
            async with receive:
                yield receive
        finally:
            entry = self._streams.pop(topic, None)
            if entry is not None:
                entry.send.close()
                if entry.gap is not None:
                    # Drops not reported yet: a last marker, if there is room.
                    self._put_nowait(GapDetected(topic, *entry.gap))

    async def aclose(self) -> None:
        """Stop reconnecting, close the current connection (``UserInitiated``), end events.

        Idempotent. Leaving the ``async with`` block normally does this.
        """
        if not self._closing:
            self._closing = True
            self._notify()
            # An event waiting for room would hold the supervisor: from now on
            # events that do not fit are dropped.
            for scope in list(self._emit_scopes):
                scope.cancel(reason="retry_scope is closing")
            live = self._live
            if live is not None:
                await live.aclose()
            else:
                self._supervisor_scope.cancel(reason="retry_scope closed between connections")
        with trio.move_on_after(_CLOSE_GRACE):
            await self._supervisor_done.wait()
        self._supervisor_scope.cancel(reason="retry_scope closed")

    # -- user calls ------------------------------------------------------------------

    def _check_not_ended(self) -> None:
        if self._failure is not None:
            raise NotConnected(f"retry_scope gave up: {self._failure}")
        if self._closing or self._finished:
            raise NotConnected("the retry_scope has ended; open a new one")

    def _stopping(self) -> bool:
        # A method, not the attribute, so that type narrowing does not assume
        # the flag is unchanged across awaits.
        return self._closing

    async def _ready_connection(self) -> C:
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            self._check_not_ended()
            if self._ready is not None:
                return self._ready
            if self._preparer is not None and trio.lowlevel.current_task() is self._preparer:
                # on_connect calling the scope would wait for itself.
                raise NotConnected(
                    "on_connect runs before the connection is ready: call the connection "
                    "it is given, not the retry_scope"
                )
            if self._announced is None and self._send_policy == "raise":
                raise NotConnected(
                    "retry_scope is between connections (the last one ended; the next "
                    "Connected event has not come yet); nothing was sent. From the next "
                    "Connected event on, calls wait for its replay and go out; call "
                    "wait_connected() first, or use send_policy='wait'"
                )
            await self._changed.wait()

    async def _wait_replaced(self, conn: C) -> None:
        """Wait until the scope has noticed that ``conn`` ended."""
        await trio.lowlevel.checkpoint()
        while self._ready is conn and not self._finished:
            await self._changed.wait()

    def _retry_elsewhere(self) -> bool:
        # ``NotConnected`` from a connection means nothing was sent; under
        # "wait" the call may go out on the next connection instead.
        return self._send_policy == "wait" and not self._stopping()

    async def _on_ready(self, call: Callable[[C], Awaitable[T]]) -> T:
        """Run ``call(conn)`` on the ready connection, by the send policy."""
        while True:
            conn = await self._ready_connection()
            try:
                return await call(conn)
            except NotConnected:
                # The connection ended before the scope noticed (its events
                # were still queued).
                if not self._retry_elsewhere():
                    raise
            await self._wait_replaced(conn)

    def _delegate(self, name: str) -> Callable[..., Awaitable[Any]]:
        """The venue connection's async method ``name``, run on the current connection."""

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._on_ready(lambda conn: getattr(conn, name)(*args, **kwargs))

        call.__name__ = call.__qualname__ = name
        call.__doc__ = getattr(getattr(self._kind, name, None), "__doc__", None)
        return call

    async def _change_subscriptions(
        self, topics: tuple[str, ...], *, add: bool, limit_s: float | None
    ) -> None:
        if not topics:
            await trio.lowlevel.checkpoint()
            return
        # Only a timeout that was asked for is passed: a user's connection
        # class may not take the keyword.
        options = {} if limit_s is None else {"timeout": limit_s}
        while True:
            conn = await self._ready_connection()
            # The lock orders user changes with the replay; the connection may
            # have changed while we queued for it, so check again under it.
            async with self._sub_lock:
                if conn is not self._ready:
                    continue
                try:
                    if add:
                        await conn.subscribe(*topics, **options)
                    else:
                        await conn.unsubscribe(*topics, **options)
                except SubscriptionError as exc:
                    refused = set(exc.topics) if exc.topics else set(topics)
                    self._update([t for t in topics if t not in refused], add=add)
                    raise
                except NotConnected:
                    if not self._retry_elsewhere():
                        raise
                else:
                    self._update(list(topics), add=add)
                    return
            await self._wait_replaced(conn)

    def _update(self, topics: list[str], *, add: bool) -> None:
        for topic in topics:
            if add:
                self._desired[topic] = None
            else:
                self._desired.pop(topic, None)

    def _take_subscriptions(self, conn: C) -> None:
        """A ready connection ended: its acknowledged set is the set to replay.

        The scope's own order is kept; topics it did not know (subscribed on
        the connection directly, named in its URL, acknowledged late) follow.
        """
        current = conn.subscriptions
        kept = {t: None for t in self._desired if t in current}
        kept.update(dict.fromkeys(sorted(t for t in current if t not in kept)))
        self._desired = kept
        state = getattr(conn, "session_state", None)
        if callable(state):
            self._session_state = state()

    # -- events ----------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _put_nowait(self, event: Event) -> bool:
        """Put ``event`` without waiting; ``False`` when it must wait for room."""
        try:
            self._send.send_nowait(event)
            self._put_total += 1
        except trio.WouldBlock:
            if not self._entered and not self._closing:
                # Nobody can read yet (the block is entered with the first
                # ready connection): keep the newest events rather than stall
                # the retry loop on a full buffer. Each attempt is also logged.
                self.events.receive_nowait()
                self._send.send_nowait(event)
                self._put_total += 1
                return True
            # Closing: dropped, as the module's overflow policy says.
            return self._closing
        except trio.BrokenResourceError:
            pass  # the user closed ws.events: discarded
        return True

    async def _wait_put(self, event: Event) -> None:
        """Wait for room for ``event``; gives up waiting once the scope is closing."""
        scope = trio.CancelScope()
        self._emit_scopes.add(scope)
        try:
            with scope:
                await self._send.send(event)
                self._put_total += 1
        except trio.BrokenResourceError:
            pass  # the user closed ws.events while we waited
        finally:
            self._emit_scopes.discard(scope)
        if scope.cancelled_caught:
            # aclose() stopped the wait: one last try without waiting.
            self._put_nowait(event)
        await trio.lowlevel.checkpoint()

    async def _emit(self, event: Event) -> None:
        """Put one of the scope's own events on ``ws.events`` (a checkpoint)."""
        await trio.lowlevel.checkpoint()
        if not self._put_nowait(event):
            await self._wait_put(event)

    async def _to_stream(self, entry: _ScopeStream, event: Message) -> None:
        entry.count += 1
        try:
            entry.send.send_nowait(event)
            if entry.gap is not None:
                self._report_drops(entry, event.topic)
            return
        except trio.WouldBlock:
            pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return  # the consumer left its ``stream`` block
        if entry.overflow == "drop_oldest":
            # The channel holds the newest ``held`` messages, this one
            # included once sent: the one dropped is number ``count - held``.
            held = entry.receive.statistics().current_buffer_used
            entry.receive.receive_nowait()
            entry.send.send_nowait(event)
            dropped = entry.count - held
            gap = entry.gap
            if gap is not None and gap[1] == dropped:
                entry.gap = (gap[0], dropped + 1)
            else:
                if gap is not None:
                    # A run of drops that ended: reported on its own, waiting for room.
                    entry.gap = None
                    await self._emit(GapDetected(event.topic, *gap))
                    entry.marker_at = self._put_total - 1
                entry.gap = (dropped, dropped + 1)
            self._report_drops(entry, event.topic)
            return
        if entry.overflow == "conflate":
            entry.receive.receive_nowait()
            entry.send.send_nowait(event)
            return
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await entry.send.send(event)

    def _report_drops(self, entry: _ScopeStream, topic: str | None) -> None:
        """Put the stream's pending gap marker on ``ws.events`` unless its last is unread."""
        taken = self._put_total - self._send.statistics().current_buffer_used
        if entry.gap is None or entry.marker_at >= taken:
            return  # the last marker is still queued: keep merging into the next
        try:
            self._send.send_nowait(GapDetected(topic, *entry.gap))
        except trio.WouldBlock:
            return  # no room: reported with a later message (or when the block is left)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the user closed ws.events: discarded
        else:
            self._put_total += 1
            entry.marker_at = self._put_total - 1
        entry.gap = None

    # -- the supervisor --------------------------------------------------------------

    async def _wait_first(self) -> None:
        """Wait for the first ready connection (the scope is entered then)."""
        await trio.lowlevel.checkpoint()
        while self._ready is None and not self._finished:
            await self._changed.wait()

    def _give_up(self, error: RetriesExhausted) -> None:
        self._failure = error
        logger.error("retry_scope gave up: %s", error)
        if self._body_scope is not None:
            self._body_scope.cancel(reason=f"retry_scope gave up: {error}")

    def _first_connect_timed_out(self, timeout: float) -> RetriesExhausted:
        reason = self._last_reason
        if reason is None:
            error = ConnectTimeout(f"the first connection attempt did not finish in {timeout}s")
            reason = ConnectAttemptFailed(error, str(error))
        failure = RetriesExhausted(
            reason,
            max(1, self._attempts),
            f"no connection was ready within first_connect_timeout={timeout}s",
        )
        self._give_up(failure)
        return failure

    async def _supervise(self) -> None:
        try:
            with self._supervisor_scope:
                await self._loop()
        finally:
            self._finished = True
            self._ready = None
            self._announced = None
            self._live = None
            self._send.close()
            for entry in self._streams.values():
                entry.send.close()
            self._notify()
            self._supervisor_done.set()

    async def _loop(self) -> None:
        schedule = _Schedule(self._policy, self._rng, trio.current_time())
        while True:
            started_at = trio.current_time()
            cause: BaseException | None = None
            connected_at: float | None = None
            async with AsyncExitStack() as stack:
                try:
                    conn = await stack.enter_async_context(self._factory())
                except RateLimitExceeded as exc:
                    # The venue's connection-attempt limiter refused before any
                    # network traffic: wait as told; this is not a failed attempt.
                    if math.isfinite(exc.retry_after):
                        logger.info("connection attempt delayed %.3gs by %s", exc.retry_after, exc)
                        await self._emit(
                            RateLimited(exc.kind, exc.limit, exc.retry_after, waited=True)
                        )
                        await trio.sleep(max(exc.retry_after, _MIN_LIMIT_WAIT))
                        continue
                    cause = exc
                    reason: DisconnectReason = ConnectAttemptFailed(exc, str(exc))
                except ConnectFailed as exc:
                    cause = exc
                    reason = ConnectAttemptFailed(exc, str(exc))
                else:
                    live = await self._run_connection(conn, started_at)
                    connected_at = live.connected_at
                    reason = live.override or live.reason or NetworkError("no reason reported")
                    if live.ready:
                        self._gap_since = _last_data_at(conn, live.ended_at)
            if self._stopping():
                return
            self._last_reason = reason
            verdict = schedule.record(
                reason,
                started_at=started_at,
                connected_at=connected_at,
                ended_at=trio.current_time(),
            )
            self._attempts = schedule.attempts
            if isinstance(verdict, _GiveUp):
                error = RetriesExhausted(reason, verdict.attempts, verdict.why)
                error.__cause__ = cause
                self._give_up(error)
                return
            self.reconnects[reason_label(reason)] += 1
            # Before the block is entered nothing else shows the attempts.
            logger.log(
                logging.INFO if self._entered else logging.WARNING,
                "%s ended: %r; retry %d in %.3gs",
                "connection attempt" if connected_at is None else "connection",
                reason,
                verdict.attempt,
                verdict.delay,
                extra={"reason": reason, "attempt": verdict.attempt, "delay": verdict.delay},
            )
            asked, cap = self._policy.retry_after(reason)
            await self._emit(
                Reconnecting(
                    verdict.attempt,
                    verdict.delay,
                    reason,
                    retry_after=asked,
                    retry_after_cap=cap,
                )
            )
            await trio.sleep(verdict.delay)

    async def _run_connection(self, conn: C, started_at: float) -> _Live:
        now = trio.current_time()
        live = _Live(started_at=started_at, connected_at=now, base=frozenset(conn.subscriptions))
        self._live = self._last = conn
        self._kind = type(conn)
        try:
            if self._closing:
                # aclose() ran while this connection was being opened.
                await conn.aclose()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._forward, conn, live, nursery.cancel_scope)
                nursery.start_soon(self._prepare, conn, live)
        finally:
            self._live = None
            if self._ready is conn or self._announced is conn:
                self._ready = self._announced = None
                self._notify()
        if live.ended_at is None:
            live.ended_at = trio.current_time()
        return live

    async def _forward(self, conn: C, live: _Live, scope: trio.CancelScope) -> None:
        """Forward every event of ``conn`` in order; note how it ended."""
        async for event in conn.events:
            if isinstance(event, Disconnected):
                live.reason = event.reason
                live.ended_at = trio.current_time()
                if live.ready:
                    self._take_subscriptions(conn)
                # Calls must stop using it now, before the event (which may
                # wait for room) is delivered.
                if self._ready is conn or self._announced is conn:
                    self._ready = self._announced = None
                    self._notify()
            elif not live.first_forwarded.is_set() and live.reason is None:
                # Its Connected: from now on calls wait for it instead of failing.
                self._announced = conn
                self._notify()
            elif self._streams and type(event) is Message and event.topic in self._streams:
                await self._to_stream(self._streams[event.topic], event)
                continue
            # No extra checkpoint per event here: receiving from the connection
            # already checkpoints, and the channel is the hot path.
            if not self._put_nowait(event):
                await self._wait_put(event)
            live.first_forwarded.set()
        if live.reason is None:
            # A user's factory broke the contract; keep ours (Disconnected is last).
            live.reason = NetworkError("the connection's events ended without Disconnected")
            live.ended_at = trio.current_time()
            if live.ready:
                self._take_subscriptions(conn)
            await self._emit(Disconnected(live.reason))
        # The connection is over: stop a hook or replay still waiting on it.
        scope.cancel(reason="the connection ended")

    async def _prepare(self, conn: C, live: _Live) -> None:
        """Restore the session, run ``on_connect``, replay, then mark the connection ready."""
        await live.first_forwarded.wait()  # Connected goes out before anything of ours
        self._preparer = trio.lowlevel.current_task()
        try:
            restore = getattr(conn, "restore_session", None)
            if self._session_state is not None and callable(restore):
                await restore(self._session_state)
            if self._on_connect is not None:
                await self._on_connect(conn)
            ready = await self._replay_and_mark_ready(conn, live)
        except (NotConnected, ConnectionLost):
            return  # it ended during the hook or the replay; the forwarder reports why
        finally:
            self._preparer = None
        if ready is None:
            return
        replayed, accepted, acked_at = ready
        logger.info("connection ready; %d topic(s) replayed", len(accepted))
        if replayed:
            await self._emit(Resubscribed(tuple(accepted)))
        since = self._gap_since
        if since is not None:
            self._gap_since = None
            now_active = conn.subscriptions
            gap = tuple(t for t in self._gap_topics if t in now_active)
            if gap:
                await self._emit(DataGap(gap, since, acked_at))

    async def _replay_and_mark_ready(
        self, conn: C, live: _Live
    ) -> tuple[list[str], list[str], float] | None:
        """Replay the desired set under the lock; mark ``conn`` ready.

        Returns (replayed, accepted, when acknowledged), or ``None`` when the
        scope closed the connection instead.
        """
        async with self._sub_lock:
            # What was active before the outage (for DataGap), then what this
            # connection must subscribe (its URL's streams it has by itself).
            self._gap_topics = tuple(self._desired)
            have = conn.subscriptions
            topics = [t for t in self._desired if t not in have]
            accepted: list[str] = []
            if topics:
                replayed = await self._replay(conn, topics, live)
                if replayed is None:
                    return None
                accepted = replayed
            acked_at = trio.current_time()
            self._ready = conn
            live.ready = True
            self._notify()
        return topics, accepted, acked_at

    async def _replay(self, conn: C, topics: list[str], live: _Live) -> list[str] | None:
        """Subscribe ``topics`` on ``conn`` and wait for the acks.

        Returns the accepted topics, or ``None`` when the venue did not
        acknowledge in time (the connection was then closed, and
        ``ResubscribeTimeout`` is why it ended). ``NotConnected``
        and ``ConnectionLost`` propagate: the connection ended.
        """
        pending = topics
        dropped: set[str] = set()
        while True:
            try:
                await conn.subscribe(*pending)
            except SubscriptionError as exc:
                refused = set(exc.topics) if exc.topics else set(pending)
                dropped |= refused
                self._update(sorted(refused), add=False)
                await self._emit(ErrorEvent(exc))
            except RateLimitExceeded as exc:
                if not math.isfinite(exc.retry_after):
                    # A cap waiting cannot lift (e.g. streams per connection).
                    refused = set(pending) - conn.subscriptions
                    dropped |= refused
                    self._update(sorted(refused), add=False)
                    await self._emit(ErrorEvent(exc))
                else:
                    await self._emit(RateLimited(exc.kind, exc.limit, exc.retry_after, waited=True))
                    await trio.sleep(max(exc.retry_after, _MIN_LIMIT_WAIT))
                    pending = [t for t in pending if t not in conn.subscriptions]
                    if pending:
                        continue
            except RequestTimeout as exc:
                # A venue that does not acknowledge is not a usable connection:
                # report it, close it, and let the policy reconnect. Batches
                # acknowledged before the timeout are on the connection; the
                # batch that timed out and those never sent are not. Noted
                # before the emit (a checkpoint): the timeout came first, even
                # if the connection also breaks while the event waits for room.
                unacknowledged = tuple(t for t in pending if t not in conn.subscriptions)
                live.override = ResubscribeTimeout(unacknowledged, exc.timeout)
                await self._emit(ErrorEvent(exc))
                await conn.aclose()
                return None
            return [t for t in topics if t not in dropped]


# -- the entry point -----------------------------------------------------------------------


def reason_label(reason: DisconnectReason) -> str:
    """A short, stable label for counting: the class name, plus the code or status."""
    label = type(reason).__name__
    if isinstance(reason, RemoteClosed):
        return f"{label} {reason.code}"
    if isinstance(reason, HeartbeatTimeout):
        return f"{label} ({reason.kind})"
    if isinstance(reason, ConnectAttemptFailed):
        error = reason.error
        status = getattr(error, "status", None)
        name = type(error).__name__
        return f"{label} {name}" + (f" {status}" if status is not None else "")
    # The rest (``ResubscribeTimeout`` included) count by class alone: a label
    # that named topics or timeouts would give a metric unbounded cardinality.
    return label


def _last_data_at(conn: object, ended_at: float | None) -> float | None:
    """When data may have stopped: the connection's last message, else its end.

    After a stall the heartbeat fires ``ping_interval + pong_timeout`` after
    the last message; the gap starts at that message, not at the timeout.
    """
    last = getattr(getattr(conn, "stats", None), "last_message_at", None)
    if isinstance(last, int | float) and (ended_at is None or last <= ended_at):
        return float(last)
    return ended_at


_DEFAULT_POLICY = RetryPolicy()


@asynccontextmanager
async def retry_scope(
    factory: Callable[[], AbstractAsyncContextManager[C]],
    *,
    policy: RetryPolicy = _DEFAULT_POLICY,
    send_policy: SendPolicy = "raise",
    event_buffer: int = 1024,
    on_connect: Callable[[C], Awaitable[object]] | None = None,
    first_connect_timeout: float | None = None,
) -> AsyncIterator[RetryingConnection[C]]:
    """Keep a connection alive: reconnect, replay subscriptions, report every step.

    ``async with retry_scope(lambda: BinanceSpot.connect()) as ws:`` enters once
    the first connection is ready (the first attempt failing is retried under
    the same policy; each failed attempt is logged on the ``trio_venues.retry``
    logger, and ``first_connect_timeout`` bounds the wait). Each new connection
    restores the previous one's session state (``session_state()``, e.g. a
    log-on made through the scope), runs ``on_connect(conn)`` (after the
    factory's own log-on), then replays :attr:`RetryingConnection.subscriptions`
    with one ``conn.subscribe(*topics)`` and waits for the acks before emitting
    ``Resubscribed(topics)`` and ``DataGap(topics, since, until)`` for the
    topics that were subscribed across the outage. Topics refused on replay
    leave the set and are reported as ``ErrorEvent(SubscriptionError)``. A
    replay the venue does not acknowledge in time is reported as
    ``ErrorEvent(RequestTimeout)``; the scope then closes that connection and
    reconnects under the policy with reason ``ResubscribeTimeout(topics, timeout)``.

    Calls made once a connection's ``Connected`` event is on ``ws.events`` wait
    for that preparation and then go out (see :class:`RetryingConnection`).

    Args:
        factory: returns a new async context manager per attempt whose value
            has the :class:`ConnectionLike` shape; entering it raises a
            ``ConnectFailed`` subclass, or ``RateLimitExceeded`` when a
            connection-attempt limiter refuses (waited out, not counted).
        policy: the :class:`RetryPolicy`.
        send_policy: between connections, ``"raise"`` (``NotConnected``) or
            ``"wait"`` (for the next ready connection).
        event_buffer: capacity of ``ws.events`` (>= 1). Before the block is
            entered nobody reads it: if the first connection's failed attempts
            fill it, the oldest of those events make room (they are logged too).
        on_connect: an async hook run on every new connection before the replay.
            It is given the new connection: calling the scope from it raises
            ``NotConnected``. ``NotConnected``/``ConnectionLost`` from it mean
            the connection ended; any other exception ends the scope and propagates.
        first_connect_timeout: seconds to wait for the first ready connection
            (``None``: as long as the policy retries). On expiry
            ``RetriesExhausted`` is raised out of ``async with``, naming the
            last attempt's reason. ``RetryPolicy(max_attempts=0)`` fails at
            the first failed attempt instead.

    Yields:
        The :class:`RetryingConnection`.

    Raises:
        RetriesExhausted: the policy gave up (``last_reason``, ``attempts``), or
            ``first_connect_timeout`` passed; raised bare, out of ``async
            with``; the body is cancelled first. Its ``__cause__`` is the
            connect error, when there was one.
        ConfigError: ``send_policy``, ``event_buffer`` or
            ``first_connect_timeout`` is invalid.

    Leaving the block normally closes the current connection (``UserInitiated``)
    and ends ``ws.events`` after its last events. An exception from the body
    propagates as itself. Cancellation (during a connect, a backoff sleep or a
    replay) ends the scope promptly with nothing left running.
    """
    if send_policy not in ("raise", "wait"):
        raise ConfigError(f"send_policy must be 'raise' or 'wait', got {send_policy!r}")
    if not isinstance(event_buffer, int) or isinstance(event_buffer, bool) or event_buffer < 1:
        raise ConfigError(f"event_buffer must be an int >= 1, got {event_buffer!r}")
    if first_connect_timeout is not None and (
        not isinstance(first_connect_timeout, int | float)
        or isinstance(first_connect_timeout, bool)
        or not first_connect_timeout > 0
    ):
        raise ConfigError(
            f"first_connect_timeout must be None or a number > 0, got {first_connect_timeout!r}"
        )
    ws = RetryingConnection(factory, policy, send_policy, event_buffer, on_connect)
    bare: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ws._supervise)
            with trio.CancelScope() as body_scope:
                # Only the supervisor cancels this scope, when it gives up; the
                # failure is raised below, after the block has unwound.
                ws._body_scope = body_scope
                limit = math.inf if first_connect_timeout is None else first_connect_timeout
                with trio.move_on_after(limit) as first:
                    await ws._wait_first()
                if first.cancelled_caught and ws._ready is None and ws._failure is None:
                    ws._first_connect_timed_out(limit)
                if ws._ready is not None:
                    ws._entered = True
                    yield ws
                    await ws.aclose()
            nursery.cancel_scope.cancel(reason="retry_scope block ended")
    except BaseExceptionGroup as group:
        bare = single_exception(group)
        if bare is None:
            raise
    # Raised outside the ``except`` so that the exception keeps its own
    # __context__ instead of gaining the group.
    if bare is not None:
        raise bare
    if ws._failure is not None:
        raise ws._failure
