"""The fake server's fault helpers stay correct while other tasks push data at the same time."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing

from trio_venues.events import Disconnected, Message
from trio_venues.reasons import NetworkError
from trio_venues.testing import FakeVenueServer
from trio_venues.venues.generic import GenericJson


async def test_client_eof_while_a_push_is_blocked_does_not_crash_the_server(
    nursery: trio.Nursery,
) -> None:
    """The graceful FIN waits for the send lock: no BusyResourceError from a blocked push."""
    server: FakeVenueServer[Any] = FakeVenueServer(linger=0.5)
    await nursery.start(server.run)
    await nursery.start(server.serve_tcp)
    client, conn = await server.connect_raw(tcp=True)

    async def push_too_much() -> None:
        # The client reads nothing, so this fills the socket buffers and blocks.
        chunk = "x" * 1_000_000
        while await conn.send_text(chunk):
            pass

    nursery.start_soon(push_too_much)
    await trio.testing.wait_all_tasks_blocked()
    # Client EOF: the server's reader ends the connection and sends its own FIN
    # while push_too_much is still inside send_all.
    await client.stream.send_eof()  # type: ignore[attr-defined]  # a SocketStream
    with trio.fail_after(10):
        await conn.wait_closed()
        # Let a crash of the server's tasks surface before the test ends.
        await trio.testing.wait_all_tasks_blocked()
    assert conn.end_reason == "client-eof"
    # The server still serves.
    _, again = await server.connect_raw(tcp=True)
    assert again.is_open


async def test_drop_mid_message_is_atomic_with_concurrent_pushes(nursery: trio.Nursery) -> None:
    """drop(mid_message=True) while others push: the client sees EOF, never a stray frame."""
    server: FakeVenueServer[Any] = FakeVenueServer()
    await nursery.start(server.run)
    async with GenericJson.connect(
        server.url + "?topics=t", transport=server.memory_transport(), ping_interval=None
    ) as ws:
        conn = await server.wait_connected()

        async def push_forever(n: int) -> None:
            for i in range(1_000_000):
                await server.push("t", {"pusher": n, "i": i})

        async with trio.open_nursery() as pushers:
            for n in range(3):
                pushers.start_soon(push_forever, n)
            # Pushes are flowing once a message arrived: some pusher waits for
            # the send lock at any moment now.
            while not isinstance(await ws.events.receive(), Message):
                pass
            await conn.drop(mid_message=True)
            pushers.cancel_scope.cancel()
        reason = None
        async for event in ws.events:
            if isinstance(event, Disconnected):
                reason = event.reason
    assert isinstance(reason, NetworkError), reason
    assert "EOF" in reason.details
