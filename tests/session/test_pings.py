"""Answering the server's pings: every one while few wait, bounded under a storm."""

from __future__ import annotations

from typing import Any

import trio

from trio_venues.testing import FakeVenueServer

from ._helpers import connect

Server = FakeVenueServer[Any]


async def test_ten_pings_get_ten_pongs(server: Server, kind: str) -> None:
    """Ten pings in a row are each answered with their own payload (Autobahn 2.10)."""
    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        for i in range(10):
            await peer.ping(f"payload-{i}".encode())
        await peer.wait_until(lambda c: len(c.pongs_received) >= 10)
        assert list(peer.pongs_received) == [f"payload-{i}".encode() for i in range(10)]
        assert ws.stats.pongs_sent == 10


async def test_ping_storm_keeps_the_control_queue_bounded(
    server: Server, autojump_clock: trio.abc.Clock
) -> None:
    """Under a storm the pongs coalesce: the newest ping is answered, the queue stays small."""
    async with connect(server, "default") as ws:
        peer = await server.wait_connected()
        peer.stall()  # the fake stops reading: our writer blocks once TCP buffers fill
        for i in range(2000):
            await peer.send_raw(b"\x89\x02" + i.to_bytes(2, "big"))
        await trio.testing.wait_all_tasks_blocked()
        assert len(ws._control) <= 33
        assert ws.stats.pings_received == 2000
