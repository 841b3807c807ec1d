"""The behaviour hooks of the fake venue server: ``on_connect`` and ``on_control_frame``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

import orjson
import pytest
import trio

from trio_venues.testing import (
    OP_BINARY,
    OP_CLOSE,
    OP_PONG,
    OP_TEXT,
    FakeVenueServer,
    GenericVenue,
    HandshakeRequest,
    RawClient,
    ServerConnection,
    VenueBehaviour,
)
from trio_venues.testing.binance import FakeBinance, binance_server

ECHO = orjson.dumps({"op": "request", "id": 1, "method": "echo", "params": "x"}).decode()


class Journal(GenericVenue):
    """The generic venue, noting every hook call (and what the connection showed then)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    async def on_connect(self, conn: ServerConnection) -> None:
        """Note the call: is the connection listed yet, has anything arrived, what topics."""
        listed = conn in conn.server.connections
        topics = set(conn.subscriptions)
        self.calls.append(("connect", conn.number, listed, conn.received_count, topics))
        await super().on_connect(conn)

    async def on_control_frame(
        self, conn: ServerConnection, kind: Literal["ping", "pong"], payload: bytes
    ) -> None:
        """Note the frame and how many pings and pongs were logged by then."""
        logged = (len(conn.pings_received), len(conn.pongs_received))
        self.calls.append((kind, conn.number, payload, logged))
        await super().on_control_frame(conn, kind, payload)

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Note the message, then answer it as the generic venue does."""
        self.calls.append(("message", conn.number, message))
        await super().on_message(conn, message)


async def start(nursery: trio.Nursery, behaviour: Any = None, **options: Any) -> Any:
    """A fake venue for in-memory connections with ``behaviour`` (the generic one by default)."""
    server = FakeVenueServer(behaviour, **options)
    await nursery.start(server.run)
    return server


async def test_hooks_are_called_in_order_with_their_arguments(nursery: trio.Nursery) -> None:
    """on_connect first (unlisted, nothing read, no topics), then each frame as it arrives."""
    venue = Journal()
    server = await start(nursery, venue)
    client, conn = await server.connect_raw("/?topics=a")
    await client.send_ping(b"p1")
    await client.send_text(ECHO)
    await client.send_pong(b"q1")
    await client.send_ping(b"p2")
    frames = [await client.receive_frame() for _ in range(3)]
    assert [(f.opcode, f.payload) for f in frames] == [
        (OP_PONG, b"p1"),
        (OP_TEXT, b'{"id":1,"result":"x"}'),
        (OP_PONG, b"p2"),
    ]
    assert venue.calls == [
        ("connect", 1, False, 0, set()),
        ("ping", 1, b"p1", (1, 0)),
        ("message", 1, ECHO),
        ("pong", 1, b"q1", (1, 1)),
        ("ping", 1, b"p2", (2, 1)),
    ]
    assert conn.subscriptions == {"a"}


class SlowGreeter(GenericVenue):
    """A venue that greets in two messages a second apart."""

    def __init__(self) -> None:
        super().__init__()
        self.read_by_then: list[int] = []

    async def on_connect(self, conn: ServerConnection) -> None:
        """Send "hello", wait a second, note what was read meanwhile, send "ready"."""
        await conn.send_text("hello")
        await trio.sleep(1)
        self.read_by_then.append(conn.received_count)
        await conn.send_text("ready")


async def test_on_connect_runs_before_any_data(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """During a slow on_connect nothing is pushed to the client and nothing it sent is read."""
    venue = SlowGreeter()
    server = await start(nursery, venue)
    client = await server.open_raw("/?topics=a")
    assert (await client.handshake()).accepted
    await client.send_text(ECHO)
    await trio.sleep(0.5)  # inside on_connect: the connection is not visible yet
    assert (server.connected_count, len(server.connections)) == (0, 0)
    assert await server.push("a", "early") == 1  # reaches no one
    conn = await server.wait_connected()
    assert trio.current_time() == 1.0
    assert venue.read_by_then == [0]
    assert [await client.receive_text() for _ in range(2)] == ["hello", "ready"]
    assert orjson.loads(await client.receive_text()) == {"id": 1, "result": "x"}
    await server.push("a", "late")
    assert orjson.loads(await client.receive_text()) == {"topic": "a", "seq": 2, "data": "late"}
    assert conn.messages_sent == 4


async def test_generic_greeting_comes_first(nursery: trio.Nursery) -> None:
    """GenericVenue(greeting=...) sends its text and binary messages before any reply."""
    server = await start(nursery, GenericVenue(greeting=["hi", b"\x00\x01"]))
    client, _ = await server.connect_raw()
    await client.send_text(ECHO)
    frames = [await client.receive_frame() for _ in range(3)]
    assert [(f.opcode, f.payload) for f in frames] == [
        (OP_TEXT, b"hi"),
        (OP_BINARY, b"\x00\x01"),
        (OP_TEXT, b'{"id":1,"result":"x"}'),
    ]


async def test_closing_in_on_control_frame_leaves_the_ping_unanswered(
    nursery: trio.Nursery,
) -> None:
    """Generic limit 3: ping, message, pong pass; a 4th frame (a ping) gets 1008 and no pong."""
    server = await start(nursery, GenericVenue(max_frames_per_second=3))
    client, conn = await server.connect_raw()
    await client.send_ping(b"p1")
    await client.send_text(ECHO)
    await client.send_pong(b"q1")
    await client.send_ping(b"p4")
    frames = await client.receive_until(OP_CLOSE)
    assert [(f.opcode, f.payload) for f in frames[:-1]] == [
        (OP_PONG, b"p1"),
        (OP_TEXT, b'{"id":1,"result":"x"}'),
    ]
    assert (frames[-1].close_code, frames[-1].close_reason) == (1008, b"too many frames")
    assert list(conn.pings_received) == [b"p1", b"p4"]  # logged all the same


async def test_generic_frame_limit_counts_one_second(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Limit 2: two frames at 0 s and two at 1 s pass; a third at 1 s closes, unanswered."""
    server = await start(nursery, GenericVenue(max_frames_per_second=2))
    client, _ = await server.connect_raw()
    for payload in (b"1", b"2"):
        await client.send_ping(payload)
    await trio.sleep(1)
    for payload in (b"3", b"4"):
        await client.send_text(orjson.dumps({"op": "ping", "id": int(payload)}).decode())
    await client.send_ping(b"5")
    frames = await client.receive_until(OP_CLOSE)
    assert [(f.opcode, f.payload) for f in frames[:-1]] == [
        (OP_PONG, b"1"),
        (OP_PONG, b"2"),
        (OP_TEXT, b'{"op":"pong","id":3}'),
        (OP_TEXT, b'{"op":"pong","id":4}'),
    ]
    assert frames[-1].close_code == 1008
    assert trio.current_time() == 1.0


def test_frame_limit_must_be_positive() -> None:
    """max_frames_per_second=0 is refused at construction."""
    with pytest.raises(ValueError, match="max_frames_per_second"):
        GenericVenue(max_frames_per_second=0)


async def test_stalled_connection_calls_no_hook(nursery: trio.Nursery) -> None:
    """While stalled, frames are logged but neither on_message nor on_control_frame runs."""
    venue = Journal()
    server = await start(nursery, venue)
    client, conn = await server.connect_raw()
    conn.stall()
    await client.send_ping(b"s")
    await client.send_text(ECHO)
    await conn.wait_until(lambda c: c.received_count == 1)
    conn.resume()
    await client.send_ping(b"r")
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload) == (OP_PONG, b"r")
    assert list(conn.pings_received) == [b"s", b"r"]
    assert [call[0] for call in venue.calls] == ["connect", "ping"]
    assert venue.calls[-1][2] == b"r"


class _SixMembers:
    """The members a behaviour had before the hooks, delegating to the generic venue."""

    name = "six-members"

    def __init__(self) -> None:
        self.generic = GenericVenue()

    def initial_topics(self, request: HandshakeRequest) -> Sequence[str]:
        """The generic venue's ``?topics=``."""
        return self.generic.initial_topics(request)

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """The generic venue's answer."""
        await self.generic.on_message(conn, message)

    def data_frame(self, conn: ServerConnection, topic: str, seq: int, data: Any) -> str:
        """The generic venue's data frame."""
        return self.generic.data_frame(conn, topic, seq, data)

    def make_data(self, topic: str, seq: int) -> Any:
        """The generic venue's data."""
        return self.generic.make_data(topic, seq)

    def venue_ping_frame(self, ts: int) -> str:
        """The generic venue's ping."""
        return self.generic.venue_ping_frame(ts)

    def shutdown_frame(self, message: str) -> str:
        """The generic venue's notice."""
        return self.generic.shutdown_frame(message)


class _Subclassed(_SixMembers, VenueBehaviour):
    """Subclassing VenueBehaviour inherits the hooks' defaults."""


@pytest.mark.parametrize("make", [_SixMembers, _Subclassed], ids=["structural", "subclassed"])
async def test_behaviour_without_hooks_still_runs(nursery: trio.Nursery, make: type[Any]) -> None:
    """A behaviour without its own hooks connects, gets pongs and answers as before."""
    server = await start(nursery, cast(VenueBehaviour, make()))
    client, conn = await server.connect_raw("/?topics=a")
    await client.send_ping(b"p")
    await client.send_text(ECHO)
    frames = [await client.receive_frame() for _ in range(2)]
    assert [(f.opcode, f.payload) for f in frames] == [
        (OP_PONG, b"p"),
        (OP_TEXT, b'{"id":1,"result":"x"}'),
    ]
    assert (server.connected_count, conn.subscriptions) == (1, {"a"})


# -- the fake Binance counts pings and pongs through the hook -------------------------------


def _plain(**options: Any) -> FakeVenueServer[FakeBinance]:
    """FakeBinance on a plain FakeVenueServer (no binance_server() set-up)."""
    return FakeVenueServer(FakeBinance(), path="/stream", **options)


LIST = orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}).decode()


async def _send(client: RawClient, kind: str, n: int) -> None:
    if kind == "ping":
        await client.send_ping(str(n).encode())
    elif kind == "pong":
        await client.send_pong(str(n).encode())
    else:
        await client.send_text(LIST)


@pytest.mark.parametrize("make", [binance_server, _plain], ids=["binance_server", "plain"])
@pytest.mark.parametrize(
    "kinds",
    [
        ["ping"] * 6,
        ["pong", "ping", "message", "pong", "ping", "ping"],
        ["message", "pong", "pong", "pong", "pong", "pong"],
    ],
    ids=["pings", "mixed", "pongs"],
)
async def test_fake_binance_closes_1008_on_the_sixth_frame_pings_and_pongs_included(
    nursery: trio.Nursery, make: Any, kinds: list[str], autojump_clock: trio.abc.Clock
) -> None:
    """From the first frame, any 6 client frames in a second close with 1008; the 6th unanswered."""
    server: FakeVenueServer[FakeBinance] = make()
    await nursery.start(server.run)
    client, conn = await server.connect_raw("/stream")
    for n, kind in enumerate(kinds, 1):
        await _send(client, kind, n)
    frames = await client.receive_until(OP_CLOSE)
    expected = [
        (OP_PONG, str(n).encode()) if kind == "ping" else (OP_TEXT, b'{"result":[],"id":1}')
        for n, kind in enumerate(kinds[:5], 1)
        if kind != "pong"
    ]
    assert [(f.opcode, f.payload) for f in frames[:-1]] == expected
    assert (frames[-1].close_code, frames[-1].close_reason) == (1008, b"Too many requests")
    assert trio.current_time() == 0
    assert server.behaviour.peer(conn).violated


@pytest.mark.parametrize("make", [binance_server, _plain], ids=["binance_server", "plain"])
async def test_fake_binance_charges_an_api_connection_on_connect(
    nursery: trio.Nursery, make: Any
) -> None:
    """A WS-API connection costs 2 weight as it connects, before any request."""
    server: FakeVenueServer[FakeBinance] = make()
    await nursery.start(server.run)
    _, conn = await server.connect_raw("/ws-api/v3")
    assert server.behaviour.weight_used == 2
    assert server.behaviour.peer(conn).kind == "api"
    assert conn.received_count == 0
