"""Every wire fault the fake venue injects, seen from a real client: the exact event or reason."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_venues.errors import ConnectTimeout, DecodeError
from trio_venues.events import ErrorEvent, Message
from trio_venues.reasons import (
    HeartbeatTimeout,
    InvalidMessage,
    NetworkError,
    ProtocolError,
    RemoteClosed,
)
from trio_venues.testing import (
    BAD_JSON,
    OP_BINARY,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    FakeVenueServer,
    NeverRead,
    Trickle,
)

from ._helpers import connect, until_disconnected

Server = FakeVenueServer[Any]


async def test_close_without_fin_is_bounded_by_the_watchdog(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A close frame with TCP held open: RemoteClosed at once, dropped by close_timeout."""
    async with connect(server, kind, close_timeout=2.0) as ws:
        peer = await server.wait_connected()
        await peer.close(1001, "bye", fin=False)
        disconnected, at = await until_disconnected(ws)
    assert disconnected.reason == RemoteClosed(1001, "bye")
    assert at <= 2.0
    await peer.wait_closed()


async def test_pings_unanswered_while_data_flows(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A server that keeps sending data but never answers our pings is dead to the heartbeat."""
    async with connect(server, kind, ping_interval=5.0, pong_timeout=5.0) as ws:
        await ws.subscribe("t")
        peer = server.connection
        peer.answer_pings = False
        async with trio.open_nursery() as nursery:

            async def trickle() -> None:
                for _ in range(100):
                    await server.push("t")
                    await trio.sleep(1)

            nursery.start_soon(trickle)
            disconnected, at = await until_disconnected(ws)
            nursery.cancel_scope.cancel()
    assert disconnected.reason == HeartbeatTimeout(5.0, "pong")
    assert at == 10.0


@pytest.mark.parametrize(
    ("opcode", "payload", "options", "code"),
    [
        pytest.param(3, b"", {}, 1002, id="reserved-data-opcode"),
        pytest.param(0xB, b"", {}, 1002, id="reserved-control-opcode"),
        pytest.param(OP_PING, b"x", {"fin": False}, 1002, id="fragmented-ping"),
        pytest.param(OP_PING, b"x" * 126, {}, 1002, id="ping-over-125-bytes"),
        pytest.param(OP_CONTINUATION, b"x", {}, 1002, id="unexpected-continuation"),
        pytest.param(OP_TEXT, b"\xc0\xaf", {}, 1007, id="invalid-utf8"),
    ],
)
async def test_invalid_frames_get_our_close_code(
    server: Server,
    opcode: int,
    payload: bytes,
    options: dict[str, Any],
    code: int,
    autojump_clock: trio.abc.Clock,
) -> None:
    """Each invalid frame makes the default transport send the right close code itself."""
    async with connect(server, "default") as ws:
        peer = await server.wait_connected()
        await peer.send_frame(opcode, payload, **options)
        disconnected, at = await until_disconnected(ws)
    assert isinstance(disconnected.reason, ProtocolError)
    assert disconnected.reason.close_code == code
    assert at == 0
    await peer.wait_closed()
    assert peer.client_close is not None
    assert peer.client_close[0] == code


@pytest.mark.parametrize("name", sorted(BAD_JSON))
async def test_malformed_json_is_an_error_event(server: Server, kind: str, name: str) -> None:
    """Malformed or unknown JSON gives ErrorEvent(DecodeError); the connection carries on."""
    async with connect(server, kind, max_message_size=4 * 1024 * 1024) as ws:
        await ws.subscribe("t")
        peer = server.connection
        await peer.send_text(BAD_JSON[name])
        await server.push("t", {"after": True})
        errors, messages = [], []
        async for event in ws.events:
            if isinstance(event, ErrorEvent):
                errors.append(event.error)
            if isinstance(event, Message):
                messages.append(event)
                break
    assert [type(e) for e in errors] == [DecodeError]
    assert messages[0].data == {"after": True}
    assert ws.stats.decode_errors == 1


async def test_binary_instead_of_text(server: Server, kind: str) -> None:
    """A binary frame where the venue speaks text is reported, never a crash."""
    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        await peer.send_frame(OP_BINARY, b'{"topic":"t","seq":1,"data":1}')
        event = await ws.events.receive()
        while not isinstance(event, ErrorEvent):
            event = await ws.events.receive()
    assert isinstance(event.error, DecodeError)


async def test_strict_message_policy_ends_the_connection(server: Server, kind: str) -> None:
    """Under message_policy='strict' an undecodable message ends with InvalidMessage."""
    async with connect(server, kind, message_policy="strict") as ws:
        peer = await server.wait_connected()
        await peer.send_text("{not json")
        disconnected, _ = await until_disconnected(ws)
    assert isinstance(disconnected.reason, InvalidMessage)
    assert not disconnected.reason.retryable


async def test_trickled_handshake_completes(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A 101 response trickled in small pieces still connects."""
    server.fail_handshakes(Trickle(interval=0.01, chunk=7))
    async with connect(server, kind) as ws:
        await server.wait_connected()
        assert ws.state.value == "connected"


@pytest.mark.parametrize(
    "fault", [Trickle(interval=1.0, chunk=5, stop_after=40), NeverRead()], ids=["stuck", "mute"]
)
async def test_unfinished_handshake_times_out(
    server: Server, kind: str, fault: Any, autojump_clock: trio.abc.Clock
) -> None:
    """A handshake that never finishes ends at exactly connect_timeout."""
    server.fail_handshakes(fault)
    with pytest.raises(ConnectTimeout):
        async with connect(server, kind, connect_timeout=4.0):
            pytest.fail("connected")
    assert trio.current_time() == 4.0


async def test_reset_mid_message(server: Server, kind: str) -> None:
    """A reset in the middle of a frame ends with NetworkError."""
    async with connect(server, kind) as ws:
        peer = await server.wait_connected()
        await peer.reset(mid_message=True)
        disconnected, _ = await until_disconnected(ws)
    assert isinstance(disconnected.reason, NetworkError)
