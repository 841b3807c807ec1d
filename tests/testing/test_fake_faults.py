"""Every fault of the fake venue server, observed byte for byte from a raw client socket."""

from __future__ import annotations

import struct
from typing import Any

import orjson
import pytest
import trio
import trio.testing

from trio_venues.testing import (
    BAD_JSON,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    AcceptWith,
    FakeVenueServer,
    GenericVenue,
    NeverRead,
    NoUpgrade,
    RawClient,
    RawResponse,
    Reject,
    Silent,
    Trickle,
    WrongAccept,
    accept_key,
)

#: virtual seconds a test waits to show that nothing arrives (autojump clock)
QUIET = 100.0


async def start(nursery: trio.Nursery, **options: Any) -> FakeVenueServer[GenericVenue]:
    """A generic fake venue on TCP (and memory)."""
    server = FakeVenueServer(**options)
    await nursery.start(server.serve_tcp)
    return server


async def nothing_arrives(client: RawClient) -> bool:
    """True when the client receives neither data nor EOF for QUIET (virtual) seconds."""
    with trio.move_on_after(QUIET):
        await client.stream.receive_some()
        return False
    return True


# -- handshake faults ----------------------------------------------------------------


async def test_reject_429_with_retry_after_and_body(nursery: trio.Nursery) -> None:
    """reject(429, Retry-After) answers that status, header and body, then closes."""
    server = await start(nursery)
    server.reject(429, headers=[("Retry-After", "7")], body=b"slow down")
    client = await server.open_raw(tcp=True)
    response = await client.handshake()
    assert (response.status, response.accepted) == (429, False)
    assert response.raw.startswith(b"HTTP/1.1 429 Too Many Requests\r\n")
    assert response.header("retry-after") == "7"
    assert response.body == b"slow down"
    assert await client.wait_eof() == []
    assert (server.attempts, server.connected_count, len(server.requests)) == (1, 0, 1)


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404, 418, 451, 500, 502, 503, 504])
async def test_reject_with_any_status(nursery: trio.Nursery, status: int) -> None:
    """Any HTTP status can refuse the upgrade."""
    server = await start(nursery)
    server.reject(status)
    response = await (await server.open_raw()).handshake()
    assert (response.status, response.accepted) == (status, False)


async def test_handshake_faults_queue_in_order(nursery: trio.Nursery) -> None:
    """fail_handshakes(times=2) then reject(429): 503, 503, 429, then a normal 101."""
    server = await start(nursery)
    server.fail_handshakes(Reject(503), times=2)
    server.reject(429)
    statuses = [(await (await server.open_raw()).handshake()).status for _ in range(4)]
    assert statuses == [503, 503, 429, 101]


async def test_handshake_fault_until_cleared(nursery: trio.Nursery) -> None:
    """times=None rejects every attempt until clear_handshake_faults()."""
    server = await start(nursery)
    server.reject(418, times=None)
    statuses = [(await (await server.open_raw()).handshake()).status for _ in range(3)]
    server.clear_handshake_faults()
    statuses.append((await (await server.open_raw()).handshake()).status)
    assert statuses == [418, 418, 418, 101]


async def test_101_without_upgrade_then_held(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """NoUpgrade: a 101 with a valid key but no Upgrade header; the socket stays open."""
    server = await start(nursery)
    server.fail_handshakes(NoUpgrade())
    client = await server.open_raw()
    response = await client.handshake()
    assert (response.status, response.accepted, response.header("upgrade")) == (101, False, None)
    assert response.header("sec-websocket-accept") == accept_key(server.requests[0].key)
    assert await nothing_arrives(client)
    assert server.connected_count == 0


async def test_wrong_accept_key_then_held(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """WrongAccept: a 101 whose accept key is not the RFC 6455 one."""
    server = await start(nursery)
    server.fail_handshakes(WrongAccept())
    client = await server.open_raw()
    response = await client.handshake()
    assert (response.status, response.accepted) == (101, False)
    assert response.header("sec-websocket-accept") != accept_key(server.requests[0].key)
    assert await nothing_arrives(client)


async def test_accept_with_an_extension_never_offered(nursery: trio.Nursery) -> None:
    """AcceptWith: a valid 101 naming permessage-deflate the client never offered."""
    server = await start(nursery)
    server.fail_handshakes(AcceptWith([("Sec-WebSocket-Extensions", "permessage-deflate")]))
    response = await (await server.open_raw()).handshake()
    assert response.header("sec-websocket-extensions") == "permessage-deflate"
    assert (response.status, response.accepted) == (101, False)
    assert response.error is not None
    await server.wait_connected()


async def test_trickled_handshake_completes_then_works(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """Trickle(chunk=10, interval=0.25): the 101 arrives in pieces, then the socket works."""
    server = await start(nursery)
    server.fail_handshakes(Trickle(interval=0.25, chunk=10))
    client = await server.open_raw()
    t0 = trio.current_time()
    response = await client.handshake()
    pieces = -(-len(response.raw) // 10)
    assert response.accepted
    assert trio.current_time() - t0 == (pieces - 1) * 0.25
    await client.send_text('{"op":"request","id":1,"method":"echo","params":5}')
    assert orjson.loads(await client.receive_text()) == {"id": 1, "result": 5}


async def test_never_finished_handshake(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """Trickle(stop_after=20): 20 bytes of the response, then silence."""
    server = await start(nursery)
    server.fail_handshakes(Trickle(interval=0.5, chunk=7, stop_after=20))
    client = await server.open_raw()
    await client.stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: abc\r\n\r\n")
    received = b""
    with trio.move_on_after(QUIET):
        while True:
            received += bytes(await client.stream.receive_some())
    assert received == b"HTTP/1.1 101 Switching"[:20]


async def test_silent_server_reads_the_request_and_never_answers(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """Silent: the request is read and logged; no byte comes back."""
    server = await start(nursery)
    server.fail_handshakes(Silent())
    client = await server.open_raw("/quiet")
    await client.stream.send_all(b"GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await nothing_arrives(client)
    assert [r.target for r in server.requests] == ["/quiet"]


async def test_never_read_holds_then_closes(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """NeverRead(hold=5): the connection is accepted, unread, and closed at 5 s."""
    server = await start(nursery)
    server.fail_handshakes(NeverRead(hold=5.0))
    client = await server.open_raw()
    t0 = trio.current_time()
    await client.stream.send_all(b"GET / HTTP/1.1\r\n\r\n")
    assert await client.wait_eof() == []
    assert trio.current_time() - t0 == 5.0
    assert (server.attempts, len(server.requests)) == (1, 0)


async def test_raw_response_any_bytes(nursery: trio.Nursery) -> None:
    """RawResponse writes exactly the given bytes, then closes."""
    server = await start(nursery)
    server.fail_handshakes(RawResponse(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
    client = await server.open_raw(tcp=True)
    response = await client.handshake()
    assert (response.status, response.body) == (200, b"hello")
    assert await client.wait_eof() == []


# -- close -----------------------------------------------------------------------------


async def test_close_with_code_then_fin_after_the_reply(nursery: trio.Nursery) -> None:
    """close(4001, "bye"): the frame, then FIN once the client answers."""
    server = await start(nursery)
    client, conn = await server.connect_raw(tcp=True)
    await conn.close(4001, "bye")
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload) == (OP_CLOSE, b"\x0f\xa1bye")
    await client.send_close(4001, "bye")
    assert await client.wait_eof() == []
    await client.aclose()
    await conn.wait_closed()
    assert (conn.client_close, conn.end_reason) == ((4001, "bye"), "server-close")


async def test_close_without_fin_holds_the_socket(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """close(fin=False): after the client's reply the server never closes TCP."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.close(1001, "going", fin=False)
    assert (await client.receive_frame()).close_code == 1001
    await client.send_close(1001)
    assert await nothing_arrives(client)
    assert conn.client_close == (1001, "")
    await client.aclose()
    await conn.wait_closed()
    assert conn.end_reason == "client-eof"


async def test_unanswered_close_ends_after_close_timeout(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """With no reply, the server closes TCP exactly close_timeout after its close frame."""
    server = await start(nursery, close_timeout=3.0)
    client, conn = await server.connect_raw()
    t0 = trio.current_time()
    await conn.close(1000)
    frames = await client.wait_eof()
    assert [f.close_code for f in frames] == [1000]
    assert trio.current_time() - t0 == 3.0


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1014, 1015, 1016, 2999, 5000, 65535])
async def test_illegal_close_codes_go_out_as_given(nursery: trio.Nursery, code: int) -> None:
    """close(code) writes any code, even ones illegal on the wire."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.close(code)
    raw = await client.stream.receive_some()
    assert bytes(raw) == b"\x88\x02" + struct.pack("!H", code)


@pytest.mark.parametrize(
    ("kwargs", "wire"),
    [
        ({"code": None}, b"\x88\x00"),
        ({"payload": b"\x03"}, b"\x88\x01\x03"),
        ({"code": 1000, "reason": b"\xc0\xaf"}, b"\x88\x04\x03\xe8\xc0\xaf"),
        ({"code": 1000, "reason": "r" * 123}, b"\x88\x7d\x03\xe8" + b"r" * 123),
        ({"code": 1000, "reason": "r" * 124}, b"\x88\x7e\x00\x7e\x03\xe8" + b"r" * 124),
    ],
)
async def test_bad_close_payloads(
    nursery: trio.Nursery, kwargs: dict[str, Any], wire: bytes
) -> None:
    """No status, a 1-byte payload, invalid UTF-8, 123- and 124-byte reasons."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.close(**kwargs)
    assert bytes(await client.stream.receive_some()) == wire


async def test_server_that_never_answers_the_close(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """answer_close=False: the client's close is logged and never answered."""
    server = await start(nursery, answer_close=False)
    client, conn = await server.connect_raw()
    await client.send_close(1000, "bye")
    await conn.wait_until(lambda c: c.client_close is not None)
    assert await nothing_arrives(client)
    assert conn.is_open


# -- drop, reset, stall ------------------------------------------------------------------


async def test_drop_sends_fin_without_a_close_frame(nursery: trio.Nursery) -> None:
    """drop() over TCP: EOF with no close frame."""
    server = await start(nursery)
    client, conn = await server.connect_raw(tcp=True)
    await conn.drop()
    assert await client.wait_eof() == []
    await client.aclose()
    await conn.wait_closed()
    assert conn.end_reason == "server-fin"


async def test_drop_mid_message_leaves_half_a_frame(nursery: trio.Nursery) -> None:
    """drop(mid_message=True): half a text frame, then EOF."""
    server = await start(nursery)
    client, conn = await server.connect_raw(tcp=True)
    await conn.drop(mid_message=True)
    assert await client.wait_eof() == []
    assert client.pending[:1] == b"\x81"
    assert 100 < len(client.pending) < 200


async def test_reset_over_tcp_is_a_connection_reset(nursery: trio.Nursery) -> None:
    """reset(): the client's read fails with a reset, not EOF."""
    server = await start(nursery)
    client, conn = await server.connect_raw(tcp=True)
    await conn.reset()
    with pytest.raises(trio.BrokenResourceError) as info:
        await client.receive_frame()
    assert isinstance(info.value.__cause__, ConnectionResetError)
    await conn.wait_closed()
    assert conn.end_reason == "server-rst"


async def test_reset_mid_message_over_tcp(nursery: trio.Nursery) -> None:
    """reset(mid_message=True): the reset follows half a frame."""
    server = await start(nursery)
    client, conn = await server.connect_raw(tcp=True)
    await conn.reset(mid_message=True)
    with pytest.raises(trio.BrokenResourceError):
        await client.wait_eof()


async def test_reset_in_memory_after_half_a_frame(nursery: trio.Nursery) -> None:
    """In memory, reset() delivers what was in flight, then reads and writes fail."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.reset(mid_message=True)
    with pytest.raises(trio.BrokenResourceError):
        await client.receive_frame()
    assert client.pending[:1] == b"\x81"
    with pytest.raises(trio.BrokenResourceError):
        await client.send_text("x")


async def test_stall_answers_nothing_then_resume(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """stall(): no pong, no reply, no data, but the client's messages are logged."""
    server = await start(nursery)
    client, conn = await server.connect_raw("/?topics=t")
    conn.stall()
    await client.send_ping(b"1")
    await client.send_text('{"op":"request","id":1,"method":"echo","params":1}')
    await server.push("t", 1)
    assert await nothing_arrives(client)
    assert (conn.received_count, list(conn.pings_received)) == (1, [b"1"])
    conn.resume()
    await client.send_ping(b"2")
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload) == (OP_PONG, b"2")


async def test_no_pongs_while_data_still_flows(nursery: trio.Nursery) -> None:
    """answer_pings=False: pings go unanswered while data keeps coming."""
    server = await start(nursery)
    client, conn = await server.connect_raw("/?topics=t")
    conn.answer_pings = False
    await client.send_ping(b"p")
    await conn.wait_until(lambda c: len(c.pings_received) == 1)
    await server.push("t", "still here")
    frame = await client.receive_frame()
    assert frame.opcode == OP_TEXT
    assert orjson.loads(frame.payload)["data"] == "still here"


# -- pings -------------------------------------------------------------------------------


async def test_ping_storm(nursery: trio.Nursery) -> None:
    """ping_storm(200, payload=125 bytes): 200 pings back to back."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.ping_storm(200, payload=b"p" * 125)
    frames = [await client.receive_frame() for _ in range(200)]
    assert {(f.opcode, f.payload) for f in frames} == {(OP_PING, b"p" * 125)}
    assert conn.pings_sent == 200


async def test_ping_storm_at_a_rate(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """ping_storm(3, interval=0.1): pings at 0, 0.1 and 0.2 s."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    t0 = trio.current_time()
    nursery.start_soon(lambda: conn.ping_storm(3, interval=0.1))
    times = []
    for _ in range(3):
        await client.receive_frame()
        times.append(round(trio.current_time() - t0, 9))
    assert times == [0.0, 0.1, 0.2]


async def test_oversized_ping(nursery: trio.Nursery) -> None:
    """A 126-byte ping (a protocol error) goes out with the 16-bit length form."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.ping(b"x" * 126)
    assert bytes(await client.stream.receive_some()) == b"\x89\x7e\x00\x7e" + b"x" * 126


# -- hand-built frames and bad payloads ----------------------------------------------------


@pytest.mark.parametrize(
    ("opcode", "payload", "options", "wire"),
    [
        (OP_TEXT, b"hi", {"rsv1": True}, b"\xc1\x02hi"),
        (OP_TEXT, b"hi", {"rsv2": True, "rsv3": True}, b"\xb1\x02hi"),
        (0x3, b"", {}, b"\x83\x00"),
        (0xB, b"", {}, b"\x8b\x00"),
        (OP_PING, b"", {"fin": False}, b"\x09\x00"),
        (OP_TEXT, b"\xc0\xaf", {}, b"\x81\x02\xc0\xaf"),
        (0x0, b"cont", {}, b"\x80\x04cont"),
        (OP_TEXT, b"ab", {"length_bits": 64}, b"\x81\x7f" + struct.pack("!Q", 2) + b"ab"),
        (OP_BINARY, b"", {"length": 2**63}, b"\x82\x7f" + struct.pack("!Q", 2**63)),
    ],
)
async def test_hand_built_frames_go_out_exactly(
    nursery: trio.Nursery, opcode: int, payload: bytes, options: dict[str, Any], wire: bytes
) -> None:
    """RSV bits, reserved opcodes, fragmented control frames, bad UTF-8, lying lengths."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.send_frame(opcode, payload, **options)
    assert bytes(await client.stream.receive_some()) == wire


async def test_raw_bytes_go_out_exactly(nursery: trio.Nursery) -> None:
    """send_raw writes any bytes, even while stalled."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    conn.stall()
    await conn.send_raw(b"\xff\x00garbage")
    assert bytes(await client.stream.receive_some()) == b"\xff\x00garbage"


@pytest.mark.parametrize("name", ["truncated", "nan", "bom", "unknown_op", "empty"])
async def test_malformed_json_goes_out_as_text(nursery: trio.Nursery, name: str) -> None:
    """BAD_JSON samples are sent as text frames, unchanged."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.send_text(BAD_JSON[name])
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload) == (OP_TEXT, BAD_JSON[name].encode())


async def test_binary_instead_of_text(nursery: trio.Nursery) -> None:
    """A JSON document in a binary frame."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.send_bytes(b'{"topic":"t","seq":1,"data":1}')
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload) == (OP_BINARY, b'{"topic":"t","seq":1,"data":1}')


async def test_unsolicited_error_and_shutdown_notice(nursery: trio.Nursery) -> None:
    """The venue's error notice and shutdown notice, as the protocol spells them."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    await conn.send_text(GenericVenue.error_frame(503, "overloaded"))
    await conn.notify_shutdown("restart in 5s")
    assert orjson.loads(await client.receive_text()) == {
        "op": "error",
        "code": 503,
        "msg": "overloaded",
    }
    assert orjson.loads(await client.receive_text()) == {"op": "shutdown", "msg": "restart in 5s"}


async def test_venue_ping_expecting_a_reply(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """venue_ping(reply_within=2): answered, the link stays; unanswered, close 4000 at 2 s."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    ts = await conn.venue_ping(reply_within=2.0)
    assert orjson.loads(await client.receive_text()) == {"op": "ping", "ts": ts}
    await client.send_text(orjson.dumps({"op": "pong", "ts": ts}).decode())
    await conn.wait_venue_pong(ts)
    t0 = trio.current_time()
    second = await conn.venue_ping(reply_within=2.0)
    assert second > ts
    await client.receive_text()
    frame = await client.receive_frame()
    assert (frame.close_code, frame.close_reason) == (4000, b"venue ping timeout")
    assert trio.current_time() - t0 == 2.0
