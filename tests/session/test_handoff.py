"""A burst of messages meets a consumer that keeps up: short queue, no false alarm, order kept."""

from __future__ import annotations

from typing import Any

import trio

from trio_venues.events import Backpressure, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing._rawframes import OP_TEXT, encode_frame

from ._helpers import connect

Server = FakeVenueServer[Any]


def burst(server: Server, topic: str, count: int) -> bytes:
    """``count`` data messages of ``topic`` as one write of back-to-back frames."""
    peer = server.connection
    frames = [
        encode_frame(OP_TEXT, str(peer.behaviour.data_frame(peer, topic, i + 1, {"i": i})).encode())
        for i in range(count)
    ]
    return b"".join(frames)


async def test_a_burst_to_a_consumer_that_keeps_up_stays_short(server: Server, kind: str) -> None:
    """Thousands of messages in one write reach a reading consumer in order, never near capacity."""
    count = 5000
    async with connect(server, kind, event_buffer=1024) as ws:
        await ws.subscribe("t")
        got: list[int] = []
        alarms: list[Backpressure] = []
        async with trio.open_nursery() as nursery:

            async def consume() -> None:
                async for event in ws.events:
                    if isinstance(event, Message):
                        got.append(event.data["i"])
                        if len(got) == count:
                            return
                    elif isinstance(event, Backpressure):
                        alarms.append(event)

            nursery.start_soon(consume)
            await trio.testing.wait_all_tasks_blocked()
            await server.connection.send_raw(burst(server, "t", count))
        stats = ws.stats
    assert got == list(range(count))
    # The reader hands ~32 KiB at a time to a ready consumer: the 1,024-event
    # queue never fills, so there is no Backpressure and no byte budget spent.
    assert alarms == []
    assert stats.peak_queued < 1024 * 0.8
