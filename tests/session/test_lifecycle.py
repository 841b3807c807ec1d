"""Connection lifecycle: every way a connection ends, with the exact reason and time."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_venues.events import Connected, Disconnected, Message, PingReceived, PongReceived
from trio_venues.reasons import (
    HeartbeatTimeout,
    NetworkError,
    ProtocolError,
    RemoteClosed,
    UserInitiated,
)
from trio_venues.testing import FakeVenueServer

from ._helpers import connect, drain, until_disconnected

Server = FakeVenueServer[Any]


async def test_user_close_sends_1000_and_ends_with_user_initiated(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Leaving the block closes with 1000 and Disconnected(UserInitiated) is the last event."""
    async with connect(server, kind) as ws:
        first = await ws.events.receive()
        assert isinstance(first, Connected)
    peer = server.connection
    await peer.wait_closed()
    assert peer.client_close is not None
    assert peer.client_close[0] == 1000
    assert ws.state.value == "disconnected"
    events = [e async for e in ws.events]
    assert events == [Disconnected(UserInitiated())]
    assert trio.current_time() == 0


@pytest.mark.parametrize("code", [1000, 1001, 1011, 1012, 1013, 1014, 3000, 4000, 4999])
async def test_server_close_codes(
    server: Server, kind: str, code: int, autojump_clock: trio.abc.Clock
) -> None:
    """A valid close code from the server arrives as RemoteClosed(code, reason)."""
    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        await peer.close(code, "bye")
        disconnected, at = await until_disconnected(ws)
    if kind == "trio-websocket" and code == 1014:
        # wsproto 1.x rejects 1014 from a server (RELIABILITY.md 2.4): documented deviation.
        assert isinstance(disconnected.reason, RemoteClosed)
        assert disconnected.reason.code == 1002
        return
    assert disconnected.reason == RemoteClosed(code, "bye")
    assert disconnected.reason.retryable is RemoteClosed(code).retryable
    assert at == 0


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])
async def test_illegal_close_codes_are_protocol_errors(
    server: Server, autojump_clock: trio.abc.Clock, code: int
) -> None:
    """A close code illegal on the wire is a protocol error: we answer 1002 ourselves."""
    async with connect(server, "default") as ws:
        peer = await server.wait_connected()
        await peer.close(code, "odd")
        disconnected, _ = await until_disconnected(ws)
    assert isinstance(disconnected.reason, ProtocolError)
    assert disconnected.reason.close_code == 1002
    await peer.wait_closed()
    assert peer.client_close is not None
    assert peer.client_close[0] == 1002


async def test_tcp_drop_without_close_is_network_error(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """EOF without a close frame ends with NetworkError."""
    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        await peer.drop()
        disconnected, at = await until_disconnected(ws)
    assert isinstance(disconnected.reason, NetworkError)
    assert disconnected.reason.retryable
    assert at == 0


async def test_drop_mid_message_is_network_error(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """FIN in the middle of a frame ends with NetworkError, not a crash."""
    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        await peer.drop(mid_message=True)
        disconnected, _ = await until_disconnected(ws)
    assert isinstance(disconnected.reason, NetworkError)


async def test_half_open_peer_times_out_at_interval_plus_pong_timeout(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A peer that stalls (TCP open, nothing answered) ends at ping_interval + pong_timeout."""
    async with connect(server, kind, ping_interval=20.0, pong_timeout=20.0) as ws:
        peer = await server.wait_connected()
        peer.stall()
        disconnected, at = await until_disconnected(ws)
    assert disconnected.reason == HeartbeatTimeout(20.0, "pong")
    assert at == 40.0


async def test_pings_are_answered_and_pongs_measured(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Server pings are answered (PingReceived) and our pings give PongReceived with an rtt."""
    async with connect(server, kind, ping_interval=5.0) as ws:
        peer = await server.wait_connected()
        await peer.ping(b"hi")
        seen: list[Any] = []
        async for event in ws.events:
            seen.append(event)
            if isinstance(event, PongReceived):
                break
        await peer.wait_until(lambda c: len(c.pongs_received) >= 1)
    assert PingReceived(b"hi") in seen
    pong = seen[-1]
    assert pong.rtt == 0.0
    assert trio.current_time() == 5.0
    assert ws.stats.last_rtt == 0.0


async def test_close_watchdog_bounds_a_peer_that_never_answers_close(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """If the peer never answers our close frame, leaving takes exactly close_timeout."""
    async with connect(server, kind, close_timeout=3.0) as ws:
        peer = await server.wait_connected()
        peer.answer_close = False
        peer.stall()
    assert trio.current_time() == 3.0
    events = [e async for e in ws.events]
    assert events[-1] == Disconnected(UserInitiated())


async def test_protocol_error_from_server_gets_our_close_frame(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A frame with RSV bits set makes us send close 1002 and end with ProtocolError."""
    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        await peer.send_frame(0x1, b"x", rsv1=True)
        disconnected, at = await until_disconnected(ws)
    await peer.wait_closed()
    if kind == "trio-websocket":
        # Known trio-websocket/wsproto 1.x behaviour (RELIABILITY.md 1.3): its own
        # protocol error looks like a received close and no close frame is sent;
        # our close watchdog still closes TCP, so the peer sees EOF, bounded.
        assert disconnected.reason == RemoteClosed(1002, "Reserved bit set unexpectedly")
        assert peer.end_reason == "client-eof"
    else:
        assert isinstance(disconnected.reason, ProtocolError)
        assert disconnected.reason.close_code == 1002
        assert peer.client_close is not None
        assert peer.client_close[0] == 1002
    assert at <= 5.0


async def test_oversized_message_closes_1009(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A message over max_message_size ends the connection with our close 1009."""
    async with connect(server, kind, max_message_size=1000) as ws:
        peer = await server.wait_connected()
        await peer.send_text("x" * 2000)
        disconnected, _ = await until_disconnected(ws)
    if kind == "trio-websocket":
        assert isinstance(disconnected.reason, RemoteClosed)
        assert disconnected.reason.code == 1009
    else:
        assert isinstance(disconnected.reason, ProtocolError)
        assert disconnected.reason.close_code == 1009
    await peer.wait_closed()
    assert peer.client_close is not None
    assert peer.client_close[0] == 1009


async def test_user_exception_propagates_as_itself(server: Server, kind: str) -> None:
    """An exception from the user's body comes out unwrapped, and the connection is closed."""

    class Boom(Exception):
        pass

    async def body() -> None:
        async with connect(server, kind):
            await server.wait_connected()
            raise Boom

    with pytest.raises(Boom):
        await body()
    await server.connection.wait_closed()
    assert server.connection.client_close is not None
    assert server.connection.client_close[0] == 1000


async def test_no_task_outlives_the_block(server: Server, kind: str) -> None:
    """After the block, no task started by the connection is still running."""
    root = trio.lowlevel.current_root_task()
    assert root is not None

    def tasks() -> set[trio.lowlevel.Task]:
        found: set[trio.lowlevel.Task] = set()
        pending = [root]
        while pending:
            task = pending.pop()
            found.add(task)
            for nursery in task.child_nurseries:
                pending.extend(nursery.child_tasks)
        return found

    before = tasks()
    async with connect(server, kind, ping_interval=1.0) as ws:
        await server.wait_connected()
        assert len(tasks() - before) >= 3
        await ws.send({"op": "request", "id": 99, "method": "echo", "params": 1})
    await server.connection.wait_closed()
    leftover = {t for t in tasks() - before if not t.name.startswith("trio_venues.testing")}
    leftover = {t for t in leftover if "_server" not in t.name and "FakeVenue" not in t.name}
    assert leftover == set()


async def test_events_after_end_and_not_connected(server: Server, kind: str) -> None:
    """After the end, send/subscribe/request raise NotConnected and events end."""
    from trio_venues.errors import NotConnected

    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        await peer.close(1001, "restart")
        await drain(ws)
        with pytest.raises(NotConnected, match="disconnected"):
            await ws.send("x")
        with pytest.raises(NotConnected):
            await ws.subscribe("a")
        with pytest.raises(NotConnected):
            await ws.request("echo")


async def test_messages_arrive_in_order(server: Server, kind: str) -> None:
    """Data messages arrive typed, in order, with their topic."""
    async with connect(server, kind) as ws:
        await ws.subscribe("t1")
        for i in range(20):
            await server.push("t1", {"i": i})
        got = []
        async for event in ws.events:
            if isinstance(event, Message):
                got.append(event.data["i"])
                if len(got) == 20:
                    break
    assert got == list(range(20))
