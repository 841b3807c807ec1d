"""``ws.events``: the bounded event buffer between the reader task and the consumer.

A ``trio.abc.ReceiveChannel`` backed by a deque, because the reader must
decide per message what happens when the consumer lags (block, disconnect,
drop the oldest of a topic, conflate a topic), which a plain memory channel
cannot express. The capacity and every overflow decision live in the
session (``_session.py``); this class only stores, hands out and wakes.

Receiving an available event checks for cancellation every time but yields
to the scheduler only every ``_YIELD_EVERY`` events: a full scheduler round
trip (about 3.5 us here) per message would cost more than decoding the
message. A consumer that keeps up therefore holds the CPU for at most that
many events at a time.

``async for event in ws.events`` is the way to consume; it takes the fast
path of :meth:`EventChannel.__anext__` (one coroutine per event, no
``receive()`` call in between). :meth:`EventChannel.receive_batch` and
:meth:`EventChannel.batches` hand out every queued event at once, for
consumers that want lists.

**Waking.** Tasks wait through Trio's low-level ``wait_task_rescheduled``/
``reschedule`` on two plain lists (parked consumers, the parked producer)
rather than ``ParkingLot``s: on a quiet feed every message wakes the consumer,
and the lists keep that path short (``put`` tests a list, not a Python-level
``ParkingLot.__bool__``). The producer records the queue length it waits for in
``_room_below``; the consumer wakes it once the queue is shorter than that, not
at every event.

**A burst, and a consumer waiting for its turn.** One read can complete more
messages than the queue holds, and the consumer cannot run while the reader
decodes them. When the consumer is runnable inside this channel (parked at
its scheduler yield, or woken by ``put`` from waiting for events) it is about
to take the next event: the reader then waits for it
(:meth:`EventChannel.wait_for_consumer`) instead of filling the queue, and the
consumer wakes the reader as soon as it resumes, whether or not it takes more.
Only a consumer that is elsewhere counts as lagging, and then the session's
byte budget and overflow policy apply as before. The reader also waits this
way after each read, so a lone message reaches the consumer before the reader
goes back to the socket.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final

import trio
from trio.lowlevel import (
    Abort,
    Task,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

from .events import Event

# Trio's per-thread run state: its ``task`` is ``current_task()`` without the
# function call (internal, like the cancel status read in ``__anext__``; a trio
# without it makes ``__anext__`` take the public checkpoint every time).
_RUN: Any
try:
    from trio._core._run_context import GLOBAL_RUN_CONTEXT as _RUN_CONTEXT

    _RUN = _RUN_CONTEXT
except ImportError:  # pragma: no cover - depends on trio's internals
    _RUN = None

__all__ = ["EventBatches", "EventChannel"]

#: Events a consumer receives between two scheduler yields (see the module docstring).
#: 64 rather than 32: ~5% more typed trades/s, and still a yield every ~0.3 ms
#: of a busy consumer's time at ~5 us per event.
_YIELD_EVERY: Final = 64
#: What ``receive_batch`` hands out at most by default: the default event buffer.
_DEFAULT_BATCH: Final = 1024


class EventChannel(trio.abc.ReceiveChannel[Event]):
    """The receive side of a connection's events (``async for event in ws.events``).

    Besides ``receive()`` and ``async for``, :meth:`receive_batch` and
    :meth:`batches` return the queued events as lists (in order, ``Disconnected``
    last), which saves the per-event hand-off when a consumer processes many
    events at once.
    """

    def __init__(self) -> None:
        self._items: deque[Event] = deque()
        self._closed = False  # the producer finished: EndOfChannel once drained
        self._receiver_closed = False  # the consumer closed its side
        self._consumers: list[Task] = []  # consumers parked waiting for events
        self._producers: list[Task] = []  # the producer parked waiting for room/the consumer
        self._room_below = 0  # the producer waits for fewer queued events than this (0: no)
        self._since_yield = 0
        # The consumer is runnable inside this channel: parked at its scheduler
        # yield, or woken by put() from waiting for events.
        self._consumer_due = False
        #: Events put so far. ``put_count - len(self)`` is how many the consumer
        #: has taken: the session's byte accounting reads it (an edit of the
        #: queue by an overflow policy adjusts it to keep that true).
        self.put_count = 0

    # -- producer side (the session) -------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def put(self, event: Event) -> None:
        """Append an event (the session has already applied its capacity policy)."""
        if self._receiver_closed:
            return
        self._items.append(event)
        self.put_count += 1
        if self._consumers:
            self._wake(self._consumers)
            self._consumer_due = True

    def consumers(self) -> list[Task]:
        """The consumers parked waiting for events (never replaced): ``put`` wakes them."""
        return self._consumers

    def items(self) -> deque[Event]:
        """The queued events, for the session's overflow policies (drop/conflate).

        The deque is never replaced, so the reader may keep it for ``len()``.
        """
        return self._items

    def finish(self) -> None:
        """No more events will come; the consumer gets ``EndOfChannel`` once drained."""
        self._closed = True
        self._wake(self._consumers)
        self._wake(self._producers)

    @staticmethod
    def _wake(parked: list[Task]) -> None:
        """Reschedule every task in ``parked`` and empty it."""
        tasks = parked.copy()
        parked.clear()
        for task in tasks:
            reschedule(task)

    @staticmethod
    async def _park(parked: list[Task]) -> None:
        """Park the current task in ``parked`` until ``_wake`` (cancellable)."""
        task = current_task()
        parked.append(task)

        def abort(_: object) -> Abort:
            parked.remove(task)
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    async def wait_for_room(self, below: int) -> None:
        """Park the producer while ``below`` or more events are queued, until woken once.

        Returns when the queue got shorter than ``below`` or :meth:`wake_producer`
        was called (the caller re-checks what it waits for). Cancellable.
        """
        if len(self._items) >= below and not self._receiver_closed and not self._closed:
            self._room_below = below
            await self._park(self._producers)

    def wake_producer(self) -> None:
        """Wake a producer parked in :meth:`wait_for_room` so that it re-checks."""
        if self._producers:
            self._room_below = 0
            self._wake(self._producers)

    async def wait_for_consumer(self, below: int) -> None:
        """Wait while the consumer is about to take events and ``below`` or more are queued.

        Returns at once unless the consumer is runnable inside this channel
        (see the module docstring); otherwise when the queue is shorter than
        ``below``, or when the consumer resumes (it may then leave the loop:
        the caller re-checks the queue and treats a full one as lagging).
        Cancellation: cancellable while waiting.
        """
        if (
            self._consumer_due
            and len(self._items) >= below
            and not self._receiver_closed
            and not self._closed
        ):
            self._room_below = below
            await self._park(self._producers)

    @property
    def receiver_closed(self) -> bool:
        """Whether the consumer closed its side."""
        return self._receiver_closed

    # -- consumer side ------------------------------------------------------------

    def _taken(self) -> None:
        """After events were taken: wake the producer once there is the room it waits for."""
        if self._room_below and len(self._items) < self._room_below:
            self._room_below = 0
            self._wake(self._producers)

    def receive_nowait(self) -> Event:
        """Return the next event without waiting.

        Raises:
            trio.WouldBlock: nothing is queued yet.
            trio.EndOfChannel: the connection ended and every event was received.
            trio.ClosedResourceError: this side was closed with ``aclose()``.
        """
        if self._receiver_closed:
            raise trio.ClosedResourceError("ws.events was closed")
        if self._items:
            item = self._items.popleft()
            self._taken()
            return item
        if self._closed:
            raise trio.EndOfChannel
        raise trio.WouldBlock

    async def _wait_for_events(self) -> None:
        """Park until something is queued.

        Raises:
            trio.EndOfChannel: the connection ended and every event was received.
            trio.ClosedResourceError: this side was closed with ``aclose()``.
        """
        while not self._items:
            if self._receiver_closed:
                raise trio.ClosedResourceError("ws.events was closed")
            if self._closed:
                raise trio.EndOfChannel
            try:
                await self._park(self._consumers)
            finally:
                self._resumed()
            # Parking was a full trip through the scheduler.
            self._since_yield = 0
        if self._receiver_closed:
            raise trio.ClosedResourceError("ws.events was closed")

    async def _handed_out(self, count: int) -> None:
        """Count ``count`` events handed out; yield to the scheduler every ``_YIELD_EVERY``."""
        self._since_yield += count
        if self._since_yield >= _YIELD_EVERY:
            await self._yield()

    async def _yield(self) -> None:
        """The consumer's periodic scheduler yield (not a cancellation point)."""
        self._since_yield = 0
        self._consumer_due = True
        try:
            await cancel_shielded_checkpoint()
        finally:
            self._resumed()

    def _resumed(self) -> None:
        """The consumer runs again: a producer in wait_for_consumer() re-checks now."""
        self._consumer_due = False
        if self._room_below:
            self._room_below = 0
            self._wake(self._producers)

    async def receive(self) -> Event:
        """Wait for and return the next event; ``EndOfChannel`` after ``Disconnected``."""
        await checkpoint_if_cancelled()
        await self._wait_for_events()
        item = self._items.popleft()
        self._taken()
        await self._handed_out(1)
        return item

    def __aiter__(self) -> EventChannel:
        return self

    async def __anext__(self) -> Event:
        """The next event for ``async for``: ``receive()`` with its common case inlined."""
        items = self._items
        if not items:
            try:
                return await self.receive()
            except trio.EndOfChannel:
                raise StopAsyncIteration from None
        # An event is queued (so this side is open: aclose() empties the queue
        # and put() drops events after it). Same steps as receive(), with
        # checkpoint_if_cancelled() inlined: its coroutine alone cost about as
        # much as everything else here (~0.15 us per event). The check reads
        # trio's per-task cancel status, which is internal: a trio without it
        # takes the public checkpoint_if_cancelled() every time. One difference:
        # a pending Ctrl-C in the main task arrives at the consumer's next
        # scheduler yield (at most _YIELD_EVERY events later), not at once.
        try:
            cancelled = _RUN.task._cancel_status.effectively_cancelled
        except AttributeError:
            cancelled = True
        if cancelled:
            await checkpoint_if_cancelled()
        item = items.popleft()
        if self._room_below:
            self._taken()
        self._since_yield += 1
        if self._since_yield >= _YIELD_EVERY:
            await self._yield()
        return item

    async def receive_batch(self, max_events: int = _DEFAULT_BATCH) -> list[Event]:
        """Wait for at least one event, then return every queued event, up to ``max_events``.

        The events come in order, exactly as ``receive()`` would return them
        one by one (``Disconnected`` is the last event of the last batch).
        A batch counts as that many events towards the scheduler yield.

        Raises:
            trio.EndOfChannel: the connection ended and every event was received.
            trio.ClosedResourceError: this side was closed with ``aclose()``.
            ValueError: ``max_events`` is less than 1.
        """
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, got {max_events!r}")
        await checkpoint_if_cancelled()
        await self._wait_for_events()
        items = self._items
        if len(items) <= max_events:
            batch = list(items)
            items.clear()
        else:
            popleft = items.popleft
            batch = [popleft() for _ in range(max_events)]
        self._taken()
        await self._handed_out(len(batch))
        return batch

    def batches(self, max_events: int = _DEFAULT_BATCH) -> EventBatches:
        """Iterate over lists of events: ``async for batch in ws.events.batches():``.

        Each list is one :meth:`receive_batch`; iteration ends after the batch
        that holds ``Disconnected``.
        """
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, got {max_events!r}")
        return EventBatches(self, max_events)

    async def aclose(self) -> None:
        """Stop receiving; later events are discarded (the connection keeps running)."""
        self._receiver_closed = True
        self._items.clear()
        self._wake(self._consumers)
        self._wake(self._producers)
        await trio.lowlevel.checkpoint()


class EventBatches:
    """``async for batch in ws.events.batches()``: lists of events, in order."""

    def __init__(self, channel: EventChannel, max_events: int) -> None:
        self._channel = channel
        self._max = max_events

    def __aiter__(self) -> EventBatches:
        return self

    async def __anext__(self) -> list[Event]:
        try:
            return await self._channel.receive_batch(self._max)
        except trio.EndOfChannel:
            raise StopAsyncIteration from None
