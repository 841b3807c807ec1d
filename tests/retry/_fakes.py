"""A scripted connection factory for ``retry_scope`` tests.

Each call of :class:`FakeFactory` takes the next step of its script: a
:class:`Fail` (entering raises the error after ``after`` seconds) or an
:class:`Up` (a :class:`FakeConnection` that ends with ``reason`` after
``lasts`` seconds and acknowledges, refuses or times out subscriptions as
told). Connections record what was asked of them, so tests can assert that
nothing was re-sent. The lifetime timers run in the test's nursery and stop
when their connection ends.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import attrs
import trio

from trio_venues.errors import (
    ConnectionLost,
    NotConnected,
    RateLimitExceeded,
    RequestTimeout,
    SubscriptionError,
)
from trio_venues.events import Connected, Disconnected, Event, Subscribed, Unsubscribed
from trio_venues.reasons import DisconnectReason, NetworkError, UserInitiated

#: The default way an ``Up`` connection ends.
RESET = NetworkError("connection reset")


@attrs.frozen
class Fail:
    """An attempt whose context raises ``error`` after ``after`` seconds."""

    error: BaseException = attrs.field(eq=False)
    after: float = 0.0


@attrs.frozen
class Up:
    """An attempt that connects after ``after`` seconds.

    Attributes:
        lasts: seconds until the connection ends with ``reason`` (``None``: until closed).
        refuse: topics the venue refuses (``SubscriptionError``).
        ack_delay: seconds before a subscribe/unsubscribe is acknowledged.
        ack_timeout: if set, every subscribe raises ``RequestTimeout`` after this long.
        limited_for: if set, the first subscribe raises ``RateLimitExceeded`` with
            this ``retry_after``.
        base_topics: topics the connection has by itself (streams in its URL).
        request_delay: seconds before a request is answered.
        connected_event_after: deliver ``Connected`` this long after connecting
            (a slow first event, to prove nothing of the scope's comes before it).
    """

    lasts: float | None = None
    reason: DisconnectReason = RESET
    after: float = 0.0
    refuse: frozenset[str] = frozenset()
    ack_delay: float = 0.0
    ack_timeout: float | None = None
    limited_for: float | None = None
    base_topics: tuple[str, ...] = ()
    request_delay: float = 0.0
    connected_event_after: float = 0.0


Step = Fail | Up


class FakeConnection:
    """A connection with the ``ConnectionLike`` shape, driven by its :class:`Up` plan."""

    def __init__(self, plan: Up, index: int) -> None:
        self.plan = plan
        self.index = index
        self.url = f"fake://{index}"
        self._send, self.events = trio.open_memory_channel[Event](256)
        self._subs: dict[str, None] = dict.fromkeys(plan.base_topics)
        self.subscribe_calls: list[tuple[float, tuple[str, ...]]] = []
        self.unsubscribe_calls: list[tuple[float, tuple[str, ...]]] = []
        self.requests: list[tuple[str, Any]] = []
        self.sent: list[tuple[float, Any]] = []
        self.reason: DisconnectReason | None = None
        self.connected_at = trio.current_time()
        self.ended_at: float | None = None
        self.lifetime = trio.CancelScope()
        self._ended = trio.Event()
        self._limited = plan.limited_for is not None
        if plan.connected_event_after == 0:
            self.announce()

    def announce(self) -> None:
        """Deliver the ``Connected`` event."""
        self._put(Connected(self.url, at=self.connected_at))

    @property
    def state(self) -> str:
        """``"connected"`` or ``"disconnected"``."""
        return "connected" if self.reason is None else "disconnected"

    @property
    def subscriptions(self) -> frozenset[str]:
        """The acknowledged topics."""
        return frozenset(self._subs)

    def end(self, reason: DisconnectReason) -> None:
        """End the connection: ``Disconnected(reason)`` is the last event (first reason wins)."""
        if self.reason is not None:
            return
        self.reason = reason
        self.ended_at = trio.current_time()
        self._put(Disconnected(reason))
        self._send.close()
        self._ended.set()
        self.lifetime.cancel(reason="fake connection ended")

    def _put(self, event: Event) -> None:
        self._send.send_nowait(event)

    def _check_open(self) -> None:
        if self.reason is not None:
            raise NotConnected(f"{self.url} has ended ({self.reason!r})")

    async def _wait(self, delay: float) -> None:
        with trio.move_on_after(delay):
            await self._ended.wait()
        if self.reason is not None:
            raise ConnectionLost(self.reason)

    async def subscribe(self, *topics: str) -> None:
        """Acknowledge after ``ack_delay``; refuse ``plan.refuse``; time out if told."""
        self._check_open()
        self.subscribe_calls.append((trio.current_time(), topics))
        if self._limited and self.plan.limited_for is not None:
            self._limited = False
            raise RateLimitExceeded("messages", "5 per 1s", self.plan.limited_for)
        if self.plan.ack_timeout is not None:
            await self._wait(self.plan.ack_timeout)
            raise RequestTimeout("SUBSCRIBE", len(self.subscribe_calls), self.plan.ack_timeout)
        await self._wait(self.plan.ack_delay)
        accepted = tuple(t for t in topics if t not in self.plan.refuse)
        refused = tuple(t for t in topics if t in self.plan.refuse)
        for topic in accepted:
            self._subs[topic] = None
        if accepted:
            self._put(Subscribed(accepted))
        if refused:
            raise SubscriptionError(2, "Invalid request", refused)

    async def unsubscribe(self, *topics: str) -> None:
        """Acknowledge after ``ack_delay``."""
        self._check_open()
        self.unsubscribe_calls.append((trio.current_time(), topics))
        await self._wait(self.plan.ack_delay)
        for topic in topics:
            self._subs.pop(topic, None)
        self._put(Unsubscribed(topics))

    async def request(
        self, method: str, params: Any = None, *, timeout: float | None = None
    ) -> Any:
        """Answer after ``request_delay`` with the method, params and connection index."""
        self._check_open()
        self.requests.append((method, params))
        await self._wait(self.plan.request_delay)
        return {"method": method, "params": params, "connection": self.index}

    async def send(self, payload: Any) -> None:
        """Record the payload with the time it was sent."""
        self._check_open()
        await trio.lowlevel.checkpoint()
        self.sent.append((trio.current_time(), payload))

    async def aclose(self) -> None:
        """End with ``UserInitiated``."""
        self.end(UserInitiated())
        await trio.lowlevel.checkpoint()


class FakeFactory:
    """Call it for the next attempt's context manager; ``then`` repeats once the script is done.

    More than ``max_calls`` calls fail the test (a retry loop that never ends).
    """

    def __init__(
        self, nursery: trio.Nursery, *steps: Step, then: Step | None = None, max_calls: int = 100
    ) -> None:
        self._nursery = nursery
        self._max_calls = max_calls
        self._steps: deque[Step] = deque(steps)
        self._then = then
        self.calls: list[float] = []
        self.connections: list[FakeConnection] = []

    def __call__(self) -> AbstractAsyncContextManager[FakeConnection]:
        self.calls.append(trio.current_time())
        # A scope that never gives up would loop forever in virtual time: fail fast.
        assert len(self.calls) <= self._max_calls, "the scope kept retrying"
        if self._steps:
            step = self._steps.popleft()
        elif self._then is not None:
            step = self._then
        else:
            raise AssertionError("the fake factory's script ran out")
        return self._open(step)

    @asynccontextmanager
    async def _open(self, step: Step) -> AsyncIterator[FakeConnection]:
        await trio.sleep(step.after)
        if isinstance(step, Fail):
            raise step.error
        conn = FakeConnection(step, len(self.connections))
        self.connections.append(conn)
        if step.lasts is not None:
            self._nursery.start_soon(self._lifetime, conn, step.lasts, step.reason)
        if step.connected_event_after > 0:
            self._nursery.start_soon(self._announce_later, conn, step.connected_event_after)
        try:
            yield conn
        finally:
            conn.end(UserInitiated())

    @staticmethod
    async def _announce_later(conn: FakeConnection, delay: float) -> None:
        with conn.lifetime:
            await trio.sleep(delay)
            conn.announce()

    @staticmethod
    async def _lifetime(conn: FakeConnection, lasts: float, reason: DisconnectReason) -> None:
        with conn.lifetime:
            await trio.sleep(lasts)
            conn.end(reason)


def task_count() -> int:
    """How many tasks exist in the whole run (to prove nothing was left running)."""

    def walk(task: trio.lowlevel.Task) -> int:
        return 1 + sum(walk(t) for n in task.child_nurseries for t in n.child_tasks)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    return walk(root)
