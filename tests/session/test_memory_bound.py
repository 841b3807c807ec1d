"""The memory bound: whatever a hostile server sends over TCP, the client's memory stays bounded.

One test per row of issue 16's table (scaled down from 5-15 s storms to
tens of thousands of frames: enough to show growth would be unbounded). Each
asserts the outcome (a coalesced, counted event or a typed reason) and the
client's peak allocation measured with ``tracemalloc``, far below what the
storm would need if queued one by one. The fake server writes prebuilt raw
frames over loopback TCP, so the backlog the client does not read waits in
the kernel, not in this process.
"""

from __future__ import annotations

import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import orjson
import pytest
import trio
import trio.testing

from trio_venues import BinanceSpot, Connection, RawWebSocket
from trio_venues.errors import DecodeError, UnexpectedResponse
from trio_venues.events import (
    Disconnected,
    ErrorEvent,
    Event,
    Message,
    PingReceived,
    PongReceived,
)
from trio_venues.reasons import SlowConsumer
from trio_venues.testing import OP_PING, OP_PONG, OP_TEXT, AcceptWith, FakeVenueServer, encode_frame
from trio_venues.venues.generic import GenericJson

Server = FakeVenueServer[Any]
MiB = 1024 * 1024


@pytest.fixture
async def tcp_server(nursery: trio.Nursery) -> AsyncIterator[Server]:
    """A generic fake venue on 127.0.0.1."""
    fake: Server = FakeVenueServer()
    await nursery.start(fake.run)
    await nursery.start(fake.serve_tcp)
    yield fake
    fake.stop()


class Peak:
    """The peak of traced allocations inside the block, above where it started."""

    bytes = 0


@contextmanager
def traced() -> Iterator[Peak]:
    peak = Peak()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        yield peak
        peak.bytes = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


@asynccontextmanager
async def client(
    server: Server, cls: Any = GenericJson, **options: Any
) -> AsyncIterator[Connection]:
    options.setdefault("ping_interval", None)
    async with cls.connect(server.url, **options) as ws:
        yield ws


async def send_blob(server: Server, blob: bytes) -> None:
    """Write ``blob`` to the one connection in 64 KiB pieces (blocks while the client lags)."""
    conn = await server.wait_connected()
    for i in range(0, len(blob), 65536):
        await conn.send_raw(blob[i : i + 65536])


class Tally(list[Event]):
    """The events received so far, and per class how many frames they stand for."""

    def __init__(self) -> None:
        super().__init__()
        self.totals: dict[type[Any], int] = {}

    def add(self, event: Event) -> None:
        self.append(event)
        kind = type(event)
        self.totals[kind] = self.totals.get(kind, 0) + getattr(event, "count", 1)

    def __getitem__(self, kind: Any) -> Any:
        if isinstance(kind, type):
            return self.totals.get(kind, 0)
        return super().__getitem__(kind)


async def until(ws: Connection, predicate: Any) -> Tally:
    """Receive events until ``predicate(tally)`` holds (``tally[PingReceived]``: pings so far)."""
    got = Tally()
    while not predicate(got):
        got.add(await ws.events.receive())
    return got


def counted(events: Tally, kind: type[Any]) -> int:
    return int(events[kind])


STORM = 20_000


@pytest.mark.parametrize("policy", ["block", "disconnect"])
async def test_a_ping_storm_while_nobody_reads_is_one_counted_event(
    tcp_server: Server, policy: str
) -> None:
    """20k pings unread: each answered, one PingReceived(count=20000), no disconnect, small."""
    blob = b"".join(encode_frame(OP_PING, i.to_bytes(4, "big")) for i in range(STORM))
    with traced() as peak:
        async with client(tcp_server, overflow_policy=policy) as ws:
            await send_blob(tcp_server, blob)
            await tcp_server.connection.wait_until(
                lambda c: (STORM - 1).to_bytes(4, "big") in c.pongs_received
            )
            assert ws.stats.pings_received == STORM
            queued = list(ws.events.items())
            assert len(queued) <= 3
            events = await until(ws, lambda got: counted(got, PingReceived) == STORM)
    assert [e for e in events if isinstance(e, PingReceived)][-1].payload == (STORM - 1).to_bytes(
        4, "big"
    )
    assert not any(isinstance(e, Disconnected) for e in events)
    assert peak.bytes < 4 * MiB


async def test_a_ping_storm_while_the_consumer_reads(tcp_server: Server) -> None:
    """20k pings with a consumer reading: every ping counted once, memory stays small."""
    blob = b"".join(encode_frame(OP_PING) for _ in range(STORM))
    with traced() as peak:
        async with client(tcp_server) as ws, trio.open_nursery() as nursery:
            nursery.start_soon(send_blob, tcp_server, blob)
            events = await until(ws, lambda got: counted(got, PingReceived) == STORM)
    assert counted(events, PingReceived) == STORM
    assert peak.bytes < 4 * MiB


async def test_unsolicited_pongs_coalesce(tcp_server: Server) -> None:
    """20k pongs nobody asked for: one PongReceived(count=20000), no rtt, tiny memory."""
    blob = b"".join(encode_frame(OP_PONG, b"unasked") for _ in range(STORM))
    with traced() as peak:
        async with client(tcp_server) as ws:
            await send_blob(tcp_server, blob)
            events = await until(ws, lambda got: counted(got, PongReceived) == STORM)
    pongs = [e for e in events if isinstance(e, PongReceived)]
    # One event per run the consumer did not take yet: far fewer than frames.
    assert len(pongs) < STORM // 10
    assert all(p.rtt is None for p in pongs)
    assert peak.bytes < 4 * MiB


@pytest.mark.parametrize("cls", [GenericJson, BinanceSpot], ids=["generic", "binance"])
async def test_responses_with_unknown_ids_coalesce(tcp_server: Server, cls: Any) -> None:
    """20k responses nobody waits for: one ErrorEvent(UnexpectedResponse, count=20000)."""
    frame = encode_frame(OP_TEXT, b'{"id": 424242, "result": null}')
    with traced() as peak:
        async with client(tcp_server, cls) as ws:
            await send_blob(tcp_server, frame * STORM)
            events = await until(ws, lambda got: counted(got, ErrorEvent) == STORM)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) < STORM // 10
    assert all(isinstance(e.error, UnexpectedResponse) for e in errors)
    assert peak.bytes < 4 * MiB


@pytest.mark.parametrize("cls", [GenericJson, BinanceSpot], ids=["generic", "binance"])
async def test_malformed_json_coalesces(tcp_server: Server, cls: Any) -> None:
    """20k malformed messages: one ErrorEvent(DecodeError, count=20000) holding a short excerpt."""
    frame = encode_frame(OP_TEXT, b'{"stream": "t", "topic": "t", "seq": ')
    with traced() as peak:
        async with client(tcp_server, cls) as ws:
            await send_blob(tcp_server, frame * STORM)
            events = await until(ws, lambda got: counted(got, ErrorEvent) == STORM)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) < STORM // 10
    assert all(isinstance(e.error, DecodeError) for e in errors)
    assert peak.bytes < 4 * MiB


async def test_valid_and_malformed_messages_meet_tcp_backpressure(tcp_server: Server) -> None:
    """Unread, valid messages fill the byte budget and the reader stops; nothing is lost."""
    total = STORM // 2
    good = [
        encode_frame(OP_TEXT, orjson.dumps({"topic": "t", "seq": i + 1, "data": i}))
        for i in range(total)
    ]
    bad = encode_frame(OP_TEXT, b"{not json")
    blob = b"".join(g + bad for g in good)
    budget = 1 * MiB
    with traced() as peak:
        async with (
            client(tcp_server, max_queued_bytes=budget) as ws,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(send_blob, tcp_server, blob)
            # The sender blocks (the kernel's buffers are full) and so does the reader.
            await trio.testing.wait_all_tasks_blocked(cushion=0.1)
            stats = ws.stats
            # The reader stopped reading: about budget / (size + 256) events.
            assert stats.messages_in < 2 * total
            assert stats.queued < budget // 256
            held = peak_now()
            events = await until(ws, lambda got: got[Message] == total)
    values = [e.data for e in events if isinstance(e, Message)]
    assert values == list(range(total))
    assert held < 8 * MiB
    assert peak.bytes < 16 * MiB


def peak_now() -> int:
    return tracemalloc.get_traced_memory()[1]


@pytest.mark.parametrize("consumer", ["idle", "reading"])
async def test_compressed_bombs_are_charged_before_decoding(
    tcp_server: Server, consumer: str
) -> None:
    """40 messages of 4 KB inflating to 4 MiB each: the budget holds the client well under 64 MB."""
    size = 4 * MiB - 64
    payload = zlib.compressobj(wbits=-15)
    body = payload.compress(b"a" * size) + payload.flush(zlib.Z_SYNC_FLUSH)
    assert body.endswith(b"\x00\x00\xff\xff")
    frame = encode_frame(OP_TEXT, body[:-4], rsv1=True)
    assert len(frame) < 8 * 1024
    count = 40
    tcp_server.fail_handshakes(AcceptWith([("Sec-WebSocket-Extensions", "permessage-deflate")]))
    with traced() as peak:
        async with client(tcp_server, RawWebSocket) as ws, trio.open_nursery() as nursery:
            nursery.start_soon(send_blob, tcp_server, frame * count)
            if consumer == "idle":
                await trio.sleep(0.5)
                await trio.testing.wait_all_tasks_blocked(cushion=0.05)
                # The budget (16 MiB) holds 3-4 of them, and the reader stopped.
                assert ws.stats.messages_in < 8
            got = 0
            async for event in ws.events:
                if isinstance(event, Message):
                    assert len(event.data) == size
                    got += 1
                    if got == count:
                        break
    assert peak.bytes < 64 * MiB


@pytest.mark.parametrize("cls", [GenericJson, BinanceSpot], ids=["generic", "binance"])
async def test_undecodable_compressed_bombs_keep_only_an_excerpt(
    tcp_server: Server, cls: Any
) -> None:
    """Undecodable 4 MiB messages: one coalesced DecodeError with a 1 KiB excerpt and no cause."""
    size = 4 * MiB - 64
    payload = zlib.compressobj(wbits=-15)
    body = payload.compress(b"[" * size) + payload.flush(zlib.Z_SYNC_FLUSH)
    frame = encode_frame(OP_TEXT, body[:-4], rsv1=True)
    count = 40
    tcp_server.fail_handshakes(AcceptWith([("Sec-WebSocket-Extensions", "permessage-deflate")]))
    with traced() as peak:
        async with client(tcp_server, cls) as ws:
            await send_blob(tcp_server, frame * count)
            events = await until(ws, lambda got: counted(got, ErrorEvent) == count)
    errors = [e.error for e in events if isinstance(e, ErrorEvent)]
    error = errors[0]
    assert isinstance(error, DecodeError)
    assert len(error.raw) <= 1024
    assert len(str(error)) <= 1100
    assert error.__cause__ is None
    assert error.__context__ is None
    assert error.__traceback__ is None
    assert peak.bytes < 64 * MiB


@pytest.mark.parametrize("policy", ["block", "disconnect"])
async def test_alternating_control_frames_count_against_the_budget(
    tcp_server: Server, policy: str
) -> None:
    """Pings and pongs alternating (no two alike in a row) still meet the byte budget."""
    pairs = STORM // 2
    blob = (encode_frame(OP_PING) + encode_frame(OP_PONG)) * pairs
    budget = 256 * 1024  # 1,024 events of 256 bytes
    with traced() as peak:
        async with (
            client(tcp_server, max_queued_bytes=budget, overflow_policy=policy) as ws,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(send_blob, tcp_server, blob)
            if policy == "disconnect":
                events = await until(ws, lambda got: got[Disconnected] == 1)
                nursery.cancel_scope.cancel()
            else:
                await trio.testing.wait_all_tasks_blocked(cushion=0.1)
                assert ws.stats.pings_received < pairs
                assert ws.stats.queued <= 1100
                events = await until(
                    ws,
                    lambda got: (
                        counted(got, PingReceived) == pairs and counted(got, PongReceived) == pairs
                    ),
                )
    if policy == "disconnect":
        last = events[-1]
        assert isinstance(last, Disconnected)
        assert isinstance(last.reason, SlowConsumer)
    assert peak.bytes < 8 * MiB
