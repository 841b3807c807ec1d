"""Subscriptions stay exact: late acknowledgements count, concurrent subscribes send one frame."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_venues._retry import ExponentialBackoff, RetryPolicy, retry_scope
from trio_venues.errors import RequestTimeout
from trio_venues.events import DataGap, ErrorEvent, Event, Subscribed
from trio_venues.testing import FakeVenueServer, GenericVenue
from trio_venues.testing._server import ServerConnection

from ._helpers import connect


class SlowAcks(GenericVenue):
    """The generic venue, holding every subscribe until ``release()``."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = True
        self._released = trio.Event()

    def release(self) -> None:
        """Answer the held subscribes (and every later one at once)."""
        self.holding = False
        self._released.set()

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Hold subscribes while ``holding``; everything else as the generic venue."""
        if self.holding and isinstance(message, str) and '"subscribe"' in message:
            await self._released.wait()
        await super().on_message(conn, message)


def subscribes(server: FakeVenueServer[Any]) -> list[Any]:
    """The subscribe frames the server's current connection received."""
    return [m for m in server.connection.received_json() if m.get("op") == "subscribe"]


async def until_subscribed(ws: Any, topic: str) -> list[Event]:
    """Events up to the ``Subscribed`` naming ``topic``."""
    seen: list[Event] = []
    async for event in ws.events:
        seen.append(event)
        if isinstance(event, Subscribed) and topic in event.topics:
            return seen
    raise AssertionError("no Subscribed")


async def test_late_ack_after_timeout_updates_subscriptions(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """An ack after RequestTimeout adds the topic and is reported as Subscribed, not an error."""
    venue = SlowAcks()
    server = FakeVenueServer(venue)
    await nursery.start(server.run)
    async with connect(server, "default") as ws:
        with pytest.raises(RequestTimeout, match="pass timeout= to the call"):
            await ws.subscribe("a@trade", timeout=1)
        assert ws.subscriptions == frozenset()
        venue.release()
        seen = await until_subscribed(ws, "a@trade")
        assert ws.subscriptions == {"a@trade"}
    assert not any(isinstance(e, ErrorEvent) for e in seen)


async def test_late_ack_after_cancellation_updates_subscriptions(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """A caller cancelled while waiting: the ack that follows still counts."""
    venue = SlowAcks()
    server = FakeVenueServer(venue)
    await nursery.start(server.run)
    async with connect(server, "default") as ws:
        with trio.move_on_after(0.5):
            await ws.subscribe("a@trade")
        venue.release()
        await until_subscribed(ws, "a@trade")
        assert ws.subscriptions == {"a@trade"}


async def test_concurrent_subscribes_of_one_topic_send_one_frame(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """Two tasks subscribing the same topic at once: one SUBSCRIBE, both return subscribed."""
    venue = SlowAcks()
    server = FakeVenueServer(venue)
    await nursery.start(server.run)
    async with connect(server, "default") as ws, trio.open_nursery() as tasks:
        tasks.start_soon(ws.subscribe, "a@trade")
        tasks.start_soon(ws.subscribe, "a@trade", "b@trade")
        await server.connection.wait_received(1)
        await trio.sleep(1)
        venue.release()
    assert ws.subscriptions == {"a@trade", "b@trade"}
    # Whichever task runs first sends "a@trade" (with "b@trade" if it is the
    # second task); the other waits for that ack: each topic is asked for once.
    sent = [topic for frame in subscribes(server) for topic in frame["args"]]
    assert sorted(sent) == ["a@trade", "b@trade"]


async def test_a_waiting_subscriber_asks_itself_when_the_first_request_timed_out(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """The first request times out: the task that waited on it sends its own."""
    venue = SlowAcks()
    server = FakeVenueServer(venue)
    await nursery.start(server.run)
    outcome: list[str] = []

    async def first() -> None:
        try:
            await ws.subscribe("a@trade", timeout=1)
        except RequestTimeout:
            outcome.append("timed out")
            venue.release()

    async with connect(server, "default") as ws, trio.open_nursery() as tasks:
        tasks.start_soon(first)
        await trio.sleep(0.1)
        await ws.subscribe("a@trade", timeout=5)
    assert outcome == ["timed out"]
    assert ws.subscriptions == {"a@trade"}


async def test_retry_scope_replays_a_topic_acknowledged_late(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """Under retry_scope, a topic whose ack came after RequestTimeout is replayed."""
    venue = SlowAcks()
    venue.release()
    server = FakeVenueServer(venue)
    await nursery.start(server.run)
    policy = RetryPolicy(ExponentialBackoff(initial=1.0, jitter=0), breaker=None)
    async with retry_scope(lambda: connect(server, "default"), policy=policy) as ws:
        venue.holding = True
        venue._released = trio.Event()
        with pytest.raises(RequestTimeout):
            await ws.subscribe("a@trade", timeout=1)
        venue.release()
        await until_subscribed(ws, "a@trade")
        assert ws.subscriptions == {"a@trade"}
        await server.connection.drop()
        async for event in ws.events:
            if isinstance(event, DataGap):
                assert event.topics == ("a@trade",)
                break
        await server.connection.wait_subscribed("a@trade")
