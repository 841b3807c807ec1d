"""``ws.events``: the bounded event buffer between the reader task and the consumer.

A ``trio.abc.ReceiveChannel`` backed by a deque, because the reader must
decide per message what happens when the consumer lags (block, disconnect,
drop the oldest of a topic, conflate a topic), which a plain memory channel
cannot express. The capacity and every overflow decision live in the
session (``_session.py``); this class only stores, hands out and wakes.

Receiving an available event checks for cancellation every time but yields
to the scheduler only every ``_YIELD_EVERY`` events: a full scheduler round
trip per message would cost more than decoding the message. A consumer that
keeps up therefore holds the CPU for at most that many events at a time.
"""

from __future__ import annotations

from collections import deque

import trio

from .events import Event

__all__ = ["EventChannel"]

_YIELD_EVERY = 32


class EventChannel(trio.abc.ReceiveChannel[Event]):
    """The receive side of a connection's events (``async for event in ws.events``)."""

    def __init__(self) -> None:
        self._items: deque[Event] = deque()
        self._closed = False  # the producer finished: EndOfChannel once drained
        self._receiver_closed = False  # the consumer closed its side
        self._waiting = trio.lowlevel.ParkingLot()  # consumers waiting for events
        self._space = trio.lowlevel.ParkingLot()  # the producer waiting for room
        self._since_yield = 0

    # -- producer side (the session) -------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def put(self, event: Event) -> None:
        """Append an event (the session has already applied its capacity policy)."""
        if self._receiver_closed:
            return
        self._items.append(event)
        if self._waiting:
            self._waiting.unpark()

    def items(self) -> deque[Event]:
        """The queued events, for the session's overflow policies (drop/conflate)."""
        return self._items

    def finish(self) -> None:
        """No more events will come; the consumer gets ``EndOfChannel`` once drained."""
        self._closed = True
        self._waiting.unpark_all()
        self._space.unpark_all()

    async def wait_for_room(self, below: int) -> None:
        """Block the producer until fewer than ``below`` events are queued."""
        while len(self._items) >= below and not self._receiver_closed and not self._closed:
            await self._space.park()

    @property
    def receiver_closed(self) -> bool:
        """Whether the consumer closed its side."""
        return self._receiver_closed

    # -- consumer side ------------------------------------------------------------

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
            if self._space:
                self._space.unpark_all()
            return item
        if self._closed:
            raise trio.EndOfChannel
        raise trio.WouldBlock

    async def receive(self) -> Event:
        """Wait for and return the next event; ``EndOfChannel`` after ``Disconnected``."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                item = self.receive_nowait()
            except trio.WouldBlock:
                await self._waiting.park()
                continue
            self._since_yield += 1
            if self._since_yield >= _YIELD_EVERY:
                self._since_yield = 0
                await trio.lowlevel.cancel_shielded_checkpoint()
            return item

    async def aclose(self) -> None:
        """Stop receiving; later events are discarded (the connection keeps running)."""
        self._receiver_closed = True
        self._items.clear()
        self._waiting.unpark_all()
        self._space.unpark_all()
        await trio.lowlevel.checkpoint()
