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
  backoff, never a bare handshake (``../shared/RELIABILITY.md`` 2.6: a server
  that accepts and closes at once must not get an immediate retry each time).
- **Overflow policy of ``ws.events``**: block. The forwarder waits for room,
  which makes the inner connection's own ``overflow_policy`` apply; the
  scope's own events also wait (never dropped). Two exceptions: once the scope
  is closing, events that find the buffer full are dropped (the block has
  ended; nobody may be reading), and after the user closed ``ws.events`` every
  event is discarded.
"""

from __future__ import annotations

import collections
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
from .errors import (
    ConfigError,
    ConnectFailed,
    ConnectionLost,
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
    user's own connection class needs only these members.
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


class RetryingConnection(Generic[C]):
    """The logical connection ``retry_scope`` yields (never built directly); outlives real ones.

    ``events`` spans connections: each connection's events in order
    (``Connected`` ... ``Disconnected``), and between them ``Reconnecting``,
    ``RateLimited(waited=True)``, then ``Resubscribed`` and ``DataGap`` once a
    new connection has replayed the subscriptions. ``subscribe``,
    ``unsubscribe``, ``request`` and ``send`` use the current connection once
    it is *ready* (connected, ``on_connect`` done, subscriptions replayed).
    Between connections they raise ``NotConnected`` (``send_policy="raise"``)
    or wait for the next ready connection (``"wait"``; bound the wait with
    ``trio.fail_after``). Nothing is queued, and a request in flight when a
    connection ends fails with ``ConnectionLost`` and is never re-sent.

    Attributes:
        events: the scope's bounded event channel (capacity ``event_buffer``).
            Read it: when it is full the scope waits, and so, in turn, does the
            connection (its ``overflow_policy`` applies). ``await
            ws.events.aclose()`` discards events instead.
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
        # The desired set, in subscription order (a dict is an ordered set).
        self._desired: dict[str, None] = {}
        # Reconnections by the reason that caused them (``reason_label``).
        self.reconnects: collections.Counter[str] = collections.Counter()
        self._sub_lock = trio.Lock()
        self._live: C | None = None  # established, maybe not ready yet
        self._ready: C | None = None  # established and replayed
        self._changed = trio.Event()
        self._closing = False
        self._finished = False
        self._failure: RetriesExhausted | None = None
        self._emit_scopes: set[trio.CancelScope] = set()
        self._supervisor_scope = trio.CancelScope()
        self._supervisor_done = trio.Event()
        self._body_scope: trio.CancelScope | None = None
        # The outage being bridged: when the last ready connection ended, and
        # the topics it had by itself.
        self._gap_since: float | None = None
        self._gap_base: frozenset[str] = frozenset()

    # -- public API ------------------------------------------------------------------

    @property
    def subscriptions(self) -> frozenset[str]:
        """The desired set: acknowledged topics the scope replays on each new connection."""
        return frozenset(self._desired)

    @property
    def connection(self) -> C | None:
        """The current ready connection, or ``None`` between connections."""
        return self._ready

    @property
    def connected(self) -> bool:
        """Whether a ready connection is up right now."""
        return self._ready is not None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events.__aiter__()

    async def wait_connected(self) -> None:
        """Wait until a connection is ready (returns at once if one is).

        Raises:
            NotConnected: the scope has ended or is closing.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        while self._ready is None:
            self._check_not_ended()
            await self._changed.wait()

    async def subscribe(self, *topics: str) -> None:
        """Subscribe on the current connection and add ``topics`` to the replayed set.

        Raises:
            SubscriptionError: the venue refused some topics; the accepted ones
                were added to :attr:`subscriptions`, the refused ones were not.
            NotConnected: between connections (``send_policy="raise"``) or
                after the scope ended.
            ConnectionLost: the connection ended before the ack; the set is
                unchanged (call again).
            RequestTimeout, RateLimitExceeded: from the connection.
        """
        await self._change_subscriptions(topics, add=True)

    async def unsubscribe(self, *topics: str) -> None:
        """Unsubscribe on the current connection and remove ``topics`` from the replayed set.

        Raises:
            SubscriptionError: the venue refused some; the others were removed.
            NotConnected, ConnectionLost, RequestTimeout: as for :meth:`subscribe`.
        """
        await self._change_subscriptions(topics, add=False)

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
            if self._send_policy == "raise":
                raise NotConnected(
                    "retry_scope is between connections (reconnecting); nothing was sent. "
                    "Wait for the next Connected/Resubscribed event, call wait_connected(), "
                    "or use send_policy='wait'"
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

    async def _change_subscriptions(self, topics: tuple[str, ...], *, add: bool) -> None:
        if not topics:
            await trio.lowlevel.checkpoint()
            return
        while True:
            conn = await self._ready_connection()
            # The lock orders user changes with the replay; the connection may
            # have changed while we queued for it, so check again under it.
            async with self._sub_lock:
                if conn is not self._ready:
                    continue
                try:
                    if add:
                        await conn.subscribe(*topics)
                    else:
                        await conn.unsubscribe(*topics)
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

    # -- events ----------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _put_nowait(self, event: Event) -> bool:
        """Put ``event`` without waiting; ``False`` when it must wait for room."""
        try:
            self._send.send_nowait(event)
        except trio.WouldBlock:
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

    # -- the supervisor --------------------------------------------------------------

    async def _wait_first(self) -> None:
        """Wait for the first ready connection (the scope is entered then)."""
        await trio.lowlevel.checkpoint()
        while self._ready is None and not self._finished:
            await self._changed.wait()

    def _give_up(self, error: RetriesExhausted) -> None:
        self._failure = error
        if self._body_scope is not None:
            self._body_scope.cancel(reason=f"retry_scope gave up: {error}")

    async def _supervise(self) -> None:
        try:
            with self._supervisor_scope:
                await self._loop()
        finally:
            self._finished = True
            self._ready = None
            self._live = None
            self._send.close()
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
                        self._gap_base = live.base
            if self._stopping():
                return
            verdict = schedule.record(
                reason,
                started_at=started_at,
                connected_at=connected_at,
                ended_at=trio.current_time(),
            )
            if isinstance(verdict, _GiveUp):
                error = RetriesExhausted(reason, verdict.attempts, verdict.why)
                error.__cause__ = cause
                self._give_up(error)
                return
            self.reconnects[reason_label(reason)] += 1
            await self._emit(Reconnecting(verdict.attempt, verdict.delay, reason))
            await trio.sleep(verdict.delay)

    async def _run_connection(self, conn: C, started_at: float) -> _Live:
        now = trio.current_time()
        live = _Live(started_at=started_at, connected_at=now, base=frozenset(conn.subscriptions))
        self._live = conn
        try:
            if self._closing:
                # aclose() ran while this connection was being opened.
                await conn.aclose()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._forward, conn, live, nursery.cancel_scope)
                nursery.start_soon(self._prepare, conn, live)
        finally:
            self._live = None
            if self._ready is conn:
                self._ready = None
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
                # Calls must stop using it now, before the event (which may
                # wait for room) is delivered.
                if self._ready is conn:
                    self._ready = None
                    self._notify()
            # No extra checkpoint per event here: receiving from the connection
            # already checkpoints, and the channel is the hot path.
            if not self._put_nowait(event):
                await self._wait_put(event)
            live.first_forwarded.set()
        if live.reason is None:
            # A user's factory broke the contract; keep ours (Disconnected is last).
            live.reason = NetworkError("the connection's events ended without Disconnected")
            live.ended_at = trio.current_time()
            await self._emit(Disconnected(live.reason))
        # The connection is over: stop a hook or replay still waiting on it.
        scope.cancel(reason="the connection ended")

    async def _prepare(self, conn: C, live: _Live) -> None:
        """Run ``on_connect``, replay the subscriptions, then mark the connection ready."""
        await live.first_forwarded.wait()  # Connected goes out before anything of ours
        try:
            if self._on_connect is not None:
                await self._on_connect(conn)
            ready = await self._replay_and_mark_ready(conn, live)
        except (NotConnected, ConnectionLost):
            return  # it ended during the hook or the replay; the forwarder reports why
        if ready is None:
            return
        topics, accepted, acked_at = ready
        if topics:
            await self._emit(Resubscribed(tuple(accepted)))
        since = self._gap_since
        if since is not None:
            self._gap_since = None
            # Active before: the replayed set plus what the old connection had
            # by itself; active now: what was accepted plus this one's own.
            before = dict.fromkeys(topics) | dict.fromkeys(sorted(self._gap_base))
            now_active = set(accepted) | live.base
            gap = tuple(t for t in before if t in now_active)
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
            topics = list(self._desired)
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
) -> AsyncIterator[RetryingConnection[C]]:
    """Keep a connection alive: reconnect, replay subscriptions, report every step.

    ``async with retry_scope(lambda: BinanceSpot.connect()) as ws:`` enters once
    the first connection is ready (the first attempt failing is retried under
    the same policy). Each new connection runs ``on_connect(conn)`` (after the
    factory's own logon), then replays :attr:`RetryingConnection.subscriptions`
    with one ``conn.subscribe(*topics)`` and waits for the acks before emitting
    ``Resubscribed(topics)`` and ``DataGap(topics, since, until)`` for the
    topics that were subscribed across the outage. Topics refused on replay
    leave the set and are reported as ``ErrorEvent(SubscriptionError)``. A
    replay the venue does not acknowledge in time is reported as
    ``ErrorEvent(RequestTimeout)``; the scope then closes that connection and
    reconnects under the policy with reason ``ResubscribeTimeout(topics, timeout)``.

    Args:
        factory: returns a new async context manager per attempt whose value
            has the :class:`ConnectionLike` shape; entering it raises a
            ``ConnectFailed`` subclass, or ``RateLimitExceeded`` when a
            connection-attempt limiter refuses (waited out, not counted).
        policy: the :class:`RetryPolicy`.
        send_policy: between connections, ``"raise"`` (``NotConnected``) or
            ``"wait"`` (for the next ready connection).
        event_buffer: capacity of ``ws.events`` (>= 1).
        on_connect: an async hook run on every new connection before the replay.
            ``NotConnected``/``ConnectionLost`` from it mean the connection
            ended; any other exception ends the scope and propagates.

    Yields:
        The :class:`RetryingConnection`.

    Raises:
        RetriesExhausted: the policy gave up (``last_reason``, ``attempts``);
            raised bare, out of ``async with``; the body is cancelled first.
            Its ``__cause__`` is the connect error, when there was one.
        ConfigError: ``send_policy`` or ``event_buffer`` is invalid.

    Leaving the block normally closes the current connection (``UserInitiated``)
    and ends ``ws.events`` after its last events. An exception from the body
    propagates as itself. Cancellation (during a connect, a backoff sleep or a
    replay) ends the scope promptly with nothing left running.
    """
    if send_policy not in ("raise", "wait"):
        raise ConfigError(f"send_policy must be 'raise' or 'wait', got {send_policy!r}")
    if not isinstance(event_buffer, int) or isinstance(event_buffer, bool) or event_buffer < 1:
        raise ConfigError(f"event_buffer must be an int >= 1, got {event_buffer!r}")
    ws = RetryingConnection(factory, policy, send_policy, event_buffer, on_connect)
    bare: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ws._supervise)
            with trio.CancelScope() as body_scope:
                # Only the supervisor cancels this scope, when it gives up; the
                # failure is raised below, after the block has unwound.
                ws._body_scope = body_scope
                await ws._wait_first()
                if ws._ready is not None:
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
