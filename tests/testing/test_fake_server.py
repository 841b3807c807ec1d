"""The fake venue server speaking the generic JSON venue, observed with raw clients."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import trio
import trio.testing

from trio_venues.testing import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FakeVenueError,
    FakeVenueServer,
    GenericVenue,
    RawClient,
    ServerConnection,
    accept_key,
)


async def start(nursery: trio.Nursery, **options: Any) -> FakeVenueServer[GenericVenue]:
    """A generic fake venue for in-memory connections."""
    server = FakeVenueServer(**options)
    await nursery.start(server.run)
    return server


async def request(client: RawClient, obj: dict[str, Any]) -> Any:
    """Send one JSON message and return the next JSON text message."""
    await client.send_text(orjson.dumps(obj).decode())
    return orjson.loads(await client.receive_text())


async def test_tcp_handshake_is_a_valid_upgrade(fake_venue: FakeVenueServer[GenericVenue]) -> None:
    """Over TCP the server answers 101 with the RFC 6455 accept key and logs the request."""
    assert fake_venue.url == f"ws://127.0.0.1:{fake_venue.port}/"
    client = await fake_venue.open_raw("/feed?x=1", tcp=True)
    response = await client.handshake()
    assert response.accepted
    assert response.status == 101
    assert response.header("upgrade") == "websocket"
    conn = await fake_venue.wait_connected()
    assert response.header("sec-websocket-accept") == accept_key(conn.request.key)
    assert (conn.request.method, conn.request.path, conn.request.query) == ("GET", "/feed", "x=1")
    assert (fake_venue.attempts, fake_venue.connected_count, conn.number) == (1, 1, 1)


async def test_subscribe_acks_then_data_flows_with_seq_from_one(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """A subscribe is acked before any data; each topic numbers its messages from 1."""
    client, conn = await fake_venue_memory.connect_raw()
    ack = await request(client, {"op": "subscribe", "id": 1, "args": ["a", "b"]})
    assert ack == {"id": 1, "result": None}
    assert conn.subscriptions == {"a", "b"}
    assert await fake_venue_memory.push("a", {"p": "1.5"}) == 1
    assert await fake_venue_memory.push("b", "x") == 1
    assert await fake_venue_memory.push("a", None) == 2
    got = [orjson.loads(await client.receive_text()) for _ in range(3)]
    assert got == [
        {"topic": "a", "seq": 1, "data": {"p": "1.5"}},
        {"topic": "b", "seq": 1, "data": "x"},
        {"topic": "a", "seq": 2, "data": GenericVenue().make_data("a", 2)},
    ]


async def test_bad_topic_refuses_the_whole_request(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """A subscribe naming a "bad..." topic gets error 400 and subscribes none of its topics."""
    client, conn = await fake_venue_memory.connect_raw()
    reply = await request(client, {"op": "subscribe", "id": 2, "args": ["ok", "bad1", "bad2"]})
    assert reply == {"id": 2, "error": {"code": 400, "msg": "unknown topic bad1"}}
    assert conn.subscriptions == set()


async def test_unsubscribe_stops_the_data(fake_venue_memory: FakeVenueServer[GenericVenue]) -> None:
    """After the unsubscribe ack no data of that topic arrives; others keep flowing."""
    client, conn = await fake_venue_memory.connect_raw()
    await request(client, {"op": "subscribe", "id": 1, "args": ["a", "b"]})
    assert await request(client, {"op": "unsubscribe", "id": 2, "args": ["a"]}) == {
        "id": 2,
        "result": None,
    }
    await fake_venue_memory.push("a", 1)
    await fake_venue_memory.push("b", 2)
    assert orjson.loads(await client.receive_text())["topic"] == "b"
    assert conn.subscriptions == {"b"}


async def test_push_reaches_only_subscribers(nursery: trio.Nursery) -> None:
    """Data goes to the connections subscribed to its topic and nowhere else."""
    server = await start(nursery)
    one, _ = await server.connect_raw("/?topics=a")
    two, _ = await server.connect_raw("/?topics=b")
    await server.push("a", "for-one")
    await server.push("b", "for-two")
    assert orjson.loads(await one.receive_text())["data"] == "for-one"
    assert orjson.loads(await two.receive_text())["data"] == "for-two"


async def test_topics_in_the_url_are_subscribed_at_once(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """?topics=a,b subscribes the connection without a subscribe message."""
    _, conn = await fake_venue_memory.connect_raw("/?topics=a,b")
    assert conn.subscriptions == {"a", "b"}


async def test_too_many_topics_is_refused(nursery: trio.Nursery) -> None:
    """With max_topics_per_request, a longer request gets error 400."""
    server = await start(nursery)
    server.behaviour.max_topics_per_request = 2
    client, _ = await server.connect_raw()
    reply = await request(client, {"op": "subscribe", "id": 1, "args": ["a", "b", "c"]})
    assert reply["error"] == {"code": 400, "msg": "too many topics (max 2)"}


async def test_requests_echo_fail_and_unknown(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """echo returns params, fail answers 500, an unknown method 404."""
    client, _ = await fake_venue_memory.connect_raw()
    echo = await request(client, {"op": "request", "id": 1, "method": "echo", "params": [1, "x"]})
    assert echo == {"id": 1, "result": [1, "x"]}
    fail = await request(client, {"op": "request", "id": 2, "method": "fail"})
    assert fail == {"id": 2, "error": {"code": 500, "msg": "request failed"}}
    nope = await request(client, {"op": "request", "id": 3, "method": "nope"})
    assert nope == {"id": 3, "error": {"code": 404, "msg": "unknown method 'nope'"}}


async def test_silent_request_is_never_answered(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """A "silent" request gets no answer: the next reply is for the next request."""
    client, conn = await fake_venue_memory.connect_raw()
    await client.send_text('{"op":"request","id":1,"method":"silent"}')
    reply = await request(client, {"op": "request", "id": 2, "method": "echo", "params": 0})
    assert reply == {"id": 2, "result": 0}
    assert conn.received_json()[0]["method"] == "silent"


async def test_registered_methods_sync_async_and_errors(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """Registered handlers answer with their result, awaited if async, or their error."""
    venue = fake_venue_memory.behaviour

    async def slow_double(conn: ServerConnection, params: Any) -> Any:
        await trio.lowlevel.checkpoint()
        return params * 2

    def refuse(conn: ServerConnection, params: Any) -> Any:
        raise FakeVenueError(1013, "try later")

    venue.register("double", slow_double)
    venue.register("refuse", refuse)
    venue.register("who", lambda conn, params: conn.number)
    client, _ = await fake_venue_memory.connect_raw()
    assert (await request(client, {"op": "request", "id": 1, "method": "double", "params": 21}))[
        "result"
    ] == 42
    assert (await request(client, {"op": "request", "id": 2, "method": "refuse"}))["error"] == {
        "code": 1013,
        "msg": "try later",
    }
    assert (await request(client, {"op": "request", "id": 3, "method": "who"}))["result"] == 1


async def test_venue_level_ping_is_answered(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """{"op":"ping","id":N} gets {"op":"pong","id":N}; not when answer_venue_pings is off."""
    client, conn = await fake_venue_memory.connect_raw()
    assert await request(client, {"op": "ping", "id": 9}) == {"op": "pong", "id": 9}
    conn.answer_venue_pings = False
    await client.send_text('{"op":"ping","id":10}')
    reply = await request(client, {"op": "request", "id": 11, "method": "echo", "params": 1})
    assert reply == {"id": 11, "result": 1}


async def test_frame_ping_is_answered_with_its_payload(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """A ping frame gets a pong with the same payload, and is logged."""
    client, conn = await fake_venue_memory.connect_raw()
    await client.send_ping(b"abc")
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload, frame.masked) == (OP_PONG, b"abc", False)
    assert list(conn.pings_received) == [b"abc"]


async def test_client_pongs_are_logged(fake_venue_memory: FakeVenueServer[GenericVenue]) -> None:
    """Pong frames from the client are recorded."""
    client, conn = await fake_venue_memory.connect_raw()
    await client.send_pong(b"p1")
    await conn.wait_until(lambda c: len(c.pongs_received) == 1)
    assert list(conn.pongs_received) == [b"p1"]


async def test_client_close_is_echoed_then_tcp_closes(
    fake_venue: FakeVenueServer[GenericVenue],
) -> None:
    """The client's close(1000) is echoed, then the server closes TCP (EOF)."""
    client, conn = await fake_venue.connect_raw(tcp=True)
    await client.send_close(1000, "done")
    frames = await client.wait_eof()
    assert [(f.opcode, f.close_code, f.close_reason) for f in frames] == [(OP_CLOSE, 1000, b"done")]
    await client.aclose()
    await conn.wait_closed()
    assert (conn.client_close, conn.end_reason) == ((1000, "done"), "client-close")


async def test_client_messages_are_logged_and_the_log_is_bounded(nursery: trio.Nursery) -> None:
    """The received log keeps the last log_size messages; received_count counts all."""
    server = await start(nursery, log_size=3)
    client, conn = await server.connect_raw()
    for n in range(5):
        await client.send_text(f'{{"op":"pong","ts":{n}}}')
    await client.send_bytes(b"\x00\x01")
    await conn.wait_received(6)
    assert list(conn.received) == ['{"op":"pong","ts":3}', '{"op":"pong","ts":4}', b"\x00\x01"]
    assert conn.received_count == 6
    assert list(conn.venue_pongs) == [2, 3, 4]


async def test_fragmented_client_message_is_reassembled(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """A text message sent in three frames is handled as one."""
    client, conn = await fake_venue_memory.connect_raw()
    text = b'{"op":"request","id":1,"method":"echo","params":"abc"}'
    await client.send_frame(OP_TEXT, text[:10], fin=False)
    await client.send_frame(0, text[10:20], fin=False)
    await client.send_frame(0, text[20:])
    assert orjson.loads(await client.receive_text()) == {"id": 1, "result": "abc"}
    assert list(conn.received) == [text.decode()]


async def test_oversized_client_message_gets_close_1009(nursery: trio.Nursery) -> None:
    """A client message over max_message_size is answered with close 1009."""
    server = await start(nursery, max_message_size=100)
    client, conn = await server.connect_raw()
    await client.send_text("x" * 101)
    frame = await client.receive_frame()
    assert (frame.opcode, frame.close_code, frame.close_reason) == (
        OP_CLOSE,
        1009,
        b"message too big",
    )
    assert conn.received_count == 0


async def test_client_protocol_error_gets_close_1002(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """A reserved opcode from the client is answered with close 1002 and recorded."""
    client, conn = await fake_venue_memory.connect_raw()
    await client.send_frame(0x3, b"")
    frames = await client.wait_eof()
    assert [(f.opcode, f.close_code) for f in frames] == [(OP_CLOSE, 1002)]
    assert conn.protocol_error is not None
    assert conn.client_close is None


@pytest.mark.parametrize(
    ("send", "message"),
    [
        (b"\x00binary", "binary frames are not accepted"),
        ("{not json", "malformed JSON"),
        ("[1]", "expected a JSON object"),
        ('{"op":"dance"}', "unknown op 'dance'"),
    ],
)
async def test_bad_client_messages_get_an_error_notice(
    fake_venue_memory: FakeVenueServer[GenericVenue], send: str | bytes, message: str
) -> None:
    """Binary, malformed or unknown client messages get {"op":"error","code":400}."""
    client, _ = await fake_venue_memory.connect_raw()
    if isinstance(send, bytes):
        await client.send_bytes(send)
    else:
        await client.send_text(send)
    assert orjson.loads(await client.receive_text()) == {"op": "error", "code": 400, "msg": message}


async def test_generator_sends_count_messages_at_its_interval(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """generate(count=4, interval=0.5) sends seq 1..4 at t0+0.5, +1.0, +1.5, +2.0."""
    server = await start(nursery)
    client, _ = await server.connect_raw("/?topics=t")
    t0 = trio.current_time()
    handle = server.generate("t", interval=0.5, count=4, make_data=lambda topic, seq: seq * 10)
    arrivals = []
    for _ in range(4):
        msg = orjson.loads(await client.receive_text())
        arrivals.append((msg["seq"], msg["data"], trio.current_time() - t0))
    await handle.wait_done()
    assert arrivals == [(1, 10, 0.5), (2, 20, 1.0), (3, 30, 1.5), (4, 40, 2.0)]
    assert handle.sent == 4


async def test_generator_stops_on_request(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """stop() ends a generator early; its handle is done."""
    server = await start(nursery)
    client, _ = await server.connect_raw("/?topics=t")
    handle = server.generate("t", interval=1.0, count=1000)
    await client.receive_text()
    handle.stop()
    await handle.wait_done()
    assert handle.sent == 1


async def test_auto_generate_starts_on_first_subscription(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """With auto_generate, subscribing starts a bounded generator for the topic."""
    server = await start(nursery, auto_generate=0.1, generate_count=3)
    client, _ = await server.connect_raw()
    await request(client, {"op": "subscribe", "id": 1, "args": ["t"]})
    seqs = [orjson.loads(await client.receive_text())["seq"] for _ in range(3)]
    assert seqs == [1, 2, 3]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (lambda s: s.inject_gap("t", 3), [1, 2, 6, 7]),
        (lambda s: s.inject_duplicate("t"), [1, 2, 2, 3]),
        (lambda s: s.inject_regression("t", 2), [1, 2, 0, 1]),
        (lambda s: s.set_next_seq("t", 100), [1, 2, 100, 101]),
    ],
)
async def test_sequence_faults(
    fake_venue_memory: FakeVenueServer[GenericVenue],
    fault: Any,
    expected: list[int],
) -> None:
    """Gaps, duplicates, regressions and resets shape the next sequence numbers."""
    client, _ = await fake_venue_memory.connect_raw("/?topics=t")
    await fake_venue_memory.push("t")
    await fake_venue_memory.push("t")
    fault(fake_venue_memory)
    await fake_venue_memory.push("t")
    await fake_venue_memory.push("t")
    seqs = [orjson.loads(await client.receive_text())["seq"] for _ in range(4)]
    assert seqs == expected


async def test_per_connection_data_and_mute(nursery: trio.Nursery) -> None:
    """send_data sets an explicit seq for one client; a muted client gets no data."""
    server = await start(nursery)
    one, conn_one = await server.connect_raw("/?topics=t")
    two, conn_two = await server.connect_raw("/?topics=t")
    await conn_one.send_data("t", "only-one", 41)
    conn_two.data_muted = True
    await server.push("t", "broadcast")
    assert orjson.loads(await one.receive_text()) == {"topic": "t", "seq": 41, "data": "only-one"}
    assert orjson.loads(await one.receive_text())["data"] == "broadcast"
    conn_two.data_muted = False
    await server.push("t", "later")
    assert orjson.loads(await two.receive_text())["data"] == "later"


async def test_server_ping_heartbeat_and_pong_timeout(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """ping_interval=20: pings at 20 s and 40 s; unanswered for 60 s -> close 1008 at 60 s."""
    server = await start(nursery, ping_interval=20.0, pong_timeout=60.0)
    client, _ = await server.connect_raw()
    t0 = trio.current_time()
    seen = []
    for _ in range(3):
        frame = await client.receive_frame()
        seen.append((frame.opcode, frame.payload, frame.close_code, trio.current_time() - t0))
    assert seen == [
        (OP_PING, b"1", None, 20.0),
        (OP_PING, b"2", None, 40.0),
        (OP_CLOSE, b"\x03\xf0pong timeout", 1008, 60.0),
    ]


async def test_answered_heartbeat_keeps_the_connection(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A client that answers every ping is never closed by the pong timeout."""
    server = await start(nursery, ping_interval=20.0, pong_timeout=30.0)
    client, conn = await server.connect_raw()
    t0 = trio.current_time()
    for n in range(1, 6):
        frame = await client.receive_frame()
        assert (frame.opcode, frame.payload) == (OP_PING, str(n).encode())
        await client.send_pong(frame.payload)
    await conn.wait_until(lambda c: len(c.pongs_received) == 5)
    assert conn.is_open
    assert trio.current_time() - t0 == 100.0


async def test_venue_ping_heartbeat_closes_when_unanswered(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """venue_ping_interval=10, timeout 5: the first venue ping is answered, the second not."""
    server = await start(nursery, venue_ping_interval=10.0, venue_pong_timeout=5.0)
    client, conn = await server.connect_raw()
    t0 = trio.current_time()
    ping = orjson.loads(await client.receive_text())
    assert (ping["op"], trio.current_time() - t0) == ("ping", 10.0)
    await client.send_text(orjson.dumps({"op": "pong", "ts": ping["ts"]}).decode())
    await conn.wait_venue_pong(ping["ts"])
    second = orjson.loads(await client.receive_text())
    assert second["ts"] > ping["ts"]
    frame = await client.receive_frame()
    assert (frame.close_code, frame.close_reason) == (4000, b"venue ping timeout")
    assert trio.current_time() - t0 == 25.0


async def test_wait_attempts_counts_every_stream(nursery: trio.Nursery) -> None:
    """attempts counts connections whatever their handshake did."""
    server = await start(nursery)
    stream = server.open_memory_stream()
    await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await server.wait_attempts(1)
    assert server.connected_count == 0
    response = await stream.receive_some()
    assert bytes(response).startswith(b"HTTP/1.1 400 ")


async def test_stop_drops_every_connection(nursery: trio.Nursery) -> None:
    """stop() ends the server: every client sees its stream end."""
    server = await start(nursery)
    client, conn = await server.connect_raw()
    server.stop()
    assert await client.wait_eof() == []
    assert conn.end_reason == "server-stopped"
    assert not server.running


async def test_connection_property_and_readiness(nursery: trio.Nursery) -> None:
    """server.connection is the newest; it raises before anyone connected."""
    server = await start(nursery)
    with pytest.raises(LookupError):
        _ = server.connection
    _, first = await server.connect_raw()
    _, second = await server.connect_raw()
    assert server.connection is second
    assert [c.number for c in server.active] == [1, 2]
    assert first.is_open


async def test_memory_transport_without_a_running_server_fails() -> None:
    """open_memory_stream on a server that is not running says how to start it."""
    with pytest.raises(RuntimeError, match="not running"):
        FakeVenueServer().open_memory_stream()


async def test_binary_messages_can_be_sent(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """send_bytes goes out as a binary frame."""
    client, conn = await fake_venue_memory.connect_raw()
    await conn.send_bytes(b"\x01\x02")
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload) == (OP_BINARY, b"\x01\x02")
