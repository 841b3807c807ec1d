"""A slow consumer under each overflow policy; pings stay answered while it lags."""

from __future__ import annotations

from typing import Any

import trio

from trio_venues.events import Backpressure, Disconnected, GapDetected, Message, PingReceived
from trio_venues.reasons import SlowConsumer
from trio_venues.testing import FakeVenueServer

from ._helpers import connect, drain

Server = FakeVenueServer[Any]


def messages(events: list[Any], topic: str | None = None) -> list[Any]:
    return [e for e in events if isinstance(e, Message) and (topic is None or e.topic == topic)]


async def test_block_keeps_answering_pings_and_loses_nothing(server: Server, kind: str) -> None:
    """Under 'block', a lagging consumer loses nothing and pings are still answered."""
    async with connect(server, kind, event_buffer=10, backpressure_threshold=0.5) as ws:
        await ws.subscribe("t")
        peer = server.connection
        for i in range(100):
            await server.push("t", {"i": i})
        # The consumer has read nothing yet; the reader still answers pings.
        await peer.ping(b"still-there")
        await peer.wait_until(lambda c: b"still-there" in c.pongs_received)
        assert ws.stats.queued > 10
        await peer.close(1000)
        events = await drain(ws)
    assert [m.data["i"] for m in messages(events)] == list(range(100))
    assert any(isinstance(e, Backpressure) and e.capacity == 10 for e in events)
    assert PingReceived(b"still-there") in events
    assert ws.stats.peak_queued >= 100


async def test_block_stops_reading_past_the_byte_budget(server: Server, kind: str) -> None:
    """Past max_queued_bytes the reader stops (TCP backpressure) until the consumer catches up."""
    async with connect(server, kind, event_buffer=5, max_queued_bytes=200) as ws:
        await ws.subscribe("t")
        for i in range(60):
            await server.push("t", {"i": i})
        await trio.testing.wait_all_tasks_blocked()
        held = ws.stats.queued
        assert held < 60
        got = []
        async for event in ws.events:
            if isinstance(event, Message):
                got.append(event.data["i"])
                if len(got) == 60:
                    break
    assert got == list(range(60))


async def test_disconnect_policy_ends_with_slow_consumer(server: Server, kind: str) -> None:
    """Under 'disconnect', exhausting the buffer and byte budget ends with SlowConsumer."""
    # Each queued event costs its size plus 256 bytes: 2,000 bytes hold ~6 of them.
    async with connect(
        server, kind, event_buffer=5, max_queued_bytes=2000, overflow_policy="disconnect"
    ) as ws:
        await ws.subscribe("t")
        for i in range(60):
            await server.push("t", {"i": i})
        events = await drain(ws)
    last = events[-1]
    assert isinstance(last, Disconnected)
    reason = last.reason
    assert isinstance(reason, SlowConsumer)
    assert reason.queued >= 5
    assert reason.retryable
    # Nothing silently lost: what was queued before the end is still delivered in order.
    got = [m.data["i"] for m in messages(events)]
    assert got == list(range(len(got)))


async def test_drop_oldest_reports_the_hole(server: Server, kind: str) -> None:
    """A 'drop_oldest' topic never grows the queue without bound and marks every drop."""
    async with connect(server, kind, event_buffer=10, topic_overflow={"fast": "drop_oldest"}) as ws:
        await ws.subscribe("fast", "slow")
        for i in range(50):
            await server.push("fast", {"i": i})
        await server.push("slow", {"i": 0})
        await server.connection.close(1000)
        events = await drain(ws)
    fast = [m.data["i"] for m in messages(events, "fast")]
    gaps = [e for e in events if isinstance(e, GapDetected) and e.topic == "fast"]
    assert fast[-1] == 49
    assert gaps
    dropped = sum(g.received - g.expected for g in gaps if g.received and g.expected)
    assert dropped + len(fast) == 50
    assert [m.data["i"] for m in messages(events, "slow")] == [0]
    assert ws.stats.dropped == dropped


async def test_conflate_keeps_the_latest(server: Server, kind: str) -> None:
    """A 'conflate' topic keeps only the latest undelivered message."""
    async with connect(server, kind, topic_overflow={"ticker": "conflate"}) as ws:
        await ws.subscribe("ticker")
        for i in range(30):
            await server.push("ticker", {"i": i})
        await server.connection.close(1000)
        events = await drain(ws)
    values = [m.data["i"] for m in messages(events, "ticker")]
    assert values[-1] == 29
    assert len(values) < 30
    assert values == sorted(values)
    assert ws.stats.conflated == 30 - len(values)


async def test_stream_fan_out(server: Server, kind: str) -> None:
    """ws.stream(topic) routes that topic to its own channel; the rest stays on ws.events."""
    async with connect(server, kind) as ws:
        await ws.subscribe("a", "b")
        async with ws.stream("a", buffer=4, overflow="drop_oldest") as a_stream:
            for i in range(10):
                await server.push("a", {"i": i})
            await server.push("b", {"i": 0})
            got_b = None
            async for event in ws.events:
                if isinstance(event, Message):
                    got_b = event
                    break
            assert got_b is not None
            assert got_b.topic == "b"
            a_values = [a_stream.receive_nowait().data["i"] for _ in range(4)]
        assert a_values == [6, 7, 8, 9]
        assert ws.stats.dropped == 6
