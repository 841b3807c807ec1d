"""A slow consumer is never mistaken for a dead venue, and its gap markers stay bounded."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing

from trio_venues.events import Disconnected, GapDetected, Message, Unsubscribed
from trio_venues.testing import OP_PONG, OP_TEXT, FakeVenueServer, encode_frame

from ._helpers import connect, drain

Server = FakeVenueServer[Any]


def messages(events: list[Any], topic: str) -> list[Any]:
    return [e.data["i"] for e in events if isinstance(e, Message) and e.topic == topic]


def dropped(gaps: list[GapDetected]) -> int:
    return sum(g.received - g.expected for g in gaps if g.received and g.expected)


async def test_drop_oldest_on_interleaved_topics_stays_bounded(server: Server, kind: str) -> None:
    """Two interleaved drop_oldest topics: markers merge per topic, the queue stays bounded."""
    policy = {"a": "drop_oldest", "b": "drop_oldest"}
    async with connect(server, kind, event_buffer=8, topic_overflow=policy) as ws:
        await ws.subscribe("a", "b")
        for i in range(2000):
            await server.push("a", {"i": i})
            await server.push("b", {"i": i})
        await server.connection.wait_until(lambda c: c.messages_sent >= 4001)
        await trio.testing.wait_all_tasks_blocked()
        # Capacity 8, plus at most one marker per topic (and the Backpressure warning).
        assert ws.stats.queued <= 8 + 3
        await server.connection.close(1000)
        events = await drain(ws)
    for topic in ("a", "b"):
        gaps = [e for e in events if isinstance(e, GapDetected) and e.topic == topic]
        kept = messages(events, topic)
        assert kept[-1] == 1999
        assert dropped(gaps) + len(kept) == 2000
        # Uniform markers: message numbers from 1, `expected`..`received - 1` dropped.
        for gap in gaps:
            assert gap.expected is not None
            assert gap.received is not None
            assert 1 <= gap.expected < gap.received


async def test_stream_drop_oldest_markers_merge_and_match(server: Server, kind: str) -> None:
    """ws.stream(drop_oldest) marks 996 drops with one GapDetected(topic, 1, 997), not 996."""
    async with connect(server, kind) as ws:
        await ws.subscribe("a")
        async with ws.stream("a", buffer=4, overflow="drop_oldest") as stream:
            for i in range(1000):
                await server.push("a", {"i": i})
            await trio.testing.wait_all_tasks_blocked()
            gaps = [e for e in ws.events.items() if isinstance(e, GapDetected)]
            assert gaps == [GapDetected("a", 1, 997)]
            kept = [stream.receive_nowait().data["i"] for _ in range(4)]
        assert kept == [996, 997, 998, 999]
        assert ws.stats.dropped == 996


async def test_a_blocked_stream_is_not_a_dead_venue(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A ws.stream under block, unread for a minute: no HeartbeatTimeout, nothing lost."""
    async with connect(server, kind, ping_interval=5.0, pong_timeout=5.0) as ws:
        await ws.subscribe("a")
        async with ws.stream("a", buffer=2, overflow="block") as stream:
            for i in range(20):
                await server.push("a", {"i": i})
            await trio.sleep(60)
            assert ws.reason is None
            got = [(await stream.receive()).data["i"] for _ in range(20)]
        assert got == list(range(20))
        await trio.sleep(30)
        assert ws.reason is None


async def test_a_spent_byte_budget_is_not_a_dead_venue(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """ws.events past its byte budget, unread for a minute: no HeartbeatTimeout, nothing lost."""
    async with connect(
        server, kind, ping_interval=5.0, pong_timeout=5.0, event_buffer=4, max_queued_bytes=2000
    ) as ws:
        await ws.subscribe("a")
        for i in range(200):
            await server.push("a", {"i": i})
        await trio.sleep(60)
        assert ws.reason is None
        got: list[int] = []
        async for event in ws.events:
            if isinstance(event, Message):
                got.append(event.data["i"])
                if len(got) == 200:
                    break
        assert got == list(range(200))
        await trio.sleep(30)
        assert ws.reason is None


async def test_unsubscribe_inside_async_for_after_a_lag(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Small buffers, a short lag, then unsubscribe() in the loop: acknowledged, no timeout."""
    async with connect(server, kind, event_buffer=4, max_queued_bytes=2000) as ws:
        await ws.subscribe("t")
        for i in range(100):
            await server.push("t", {"i": i})
        await trio.testing.wait_all_tasks_blocked()
        started = trio.current_time()
        async for event in ws.events:
            if isinstance(event, Message):
                await ws.unsubscribe("t")
                break
        assert trio.current_time() - started < 1.0
        assert "t" not in ws.subscriptions
        rest = []
        async for event in ws.events:
            rest.append(event)
            if isinstance(event, Unsubscribed):
                break
        # Everything that arrived before the ack is still delivered, in order.
        assert messages(rest, "t") == list(range(1, 100))


async def test_a_large_frame_trickling_in_is_a_sign_of_life(
    server: Server, autojump_clock: trio.abc.Clock
) -> None:
    """A 1 MiB frame arriving over 60 s (pong queued behind it): no HeartbeatTimeout."""
    async with connect(server, "default", ping_interval=5.0, pong_timeout=5.0) as ws:
        peer = await server.wait_connected()
        peer.answer_pings = False  # a pong cannot overtake the frame being sent
        frame = encode_frame(
            OP_TEXT, b'{"topic": "big", "seq": 1, "data": "' + b"x" * (1 << 20) + b'"}'
        )
        step = len(frame) // 60 + 1
        for start in range(0, len(frame), step):
            await peer.send_raw(frame[start : start + step])
            await trio.sleep(1.0)
        # The frame is complete: the venue's pong for our last ping follows at once.
        await peer.send_frame(OP_PONG, peer.pings_received[-1])
        event = await ws.events.receive()
        while not isinstance(event, Message):
            assert not isinstance(event, Disconnected), event
            event = await ws.events.receive()
        assert len(event.data) == 1 << 20
        assert ws.reason is None
