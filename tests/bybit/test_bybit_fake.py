"""The fake Bybit: registry entry, fixtures, endpoint shapes and faults, seen by the client."""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
import pytest
import trio

from trio_venues._session import ConnectionState
from trio_venues.errors import HandshakeRejected
from trio_venues.events import Disconnected, Message
from trio_venues.reasons import RemoteClosed
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.bybit import BybitVenue, bybit_server, fake_credentials
from trio_venues.venues._registry import get_venue
from trio_venues.venues.bybit import (
    Bybit,
    BybitBook,
    BybitLinear,
    BybitTrade,
    KlineMessage,
    SystemStatusMessage,
)

from ._helpers import Fake, bybit, messages


def test_registry_entry_names_every_endpoint() -> None:
    """Bybit is registered with a client per endpoint, its topic grammar, book adapter and fake."""
    entry = get_venue("bybit")
    assert entry.client() is Bybit
    assert entry.client("linear") is BybitLinear
    assert entry.client("trade") is BybitTrade
    assert entry.topics.is_valid("orderbook.100.BTC-6JAN23-18000-C")
    assert entry.topics.is_valid("tickers.SOLUSDT_SOL/USDT")
    assert not entry.topics.is_valid("publicTrade BTCUSDT")
    assert entry.book is BybitBook
    assert entry.fake is not None
    assert entry.fake.book_symbol == "BTCUSDT"


async def test_plugin_fixture_serves_spot_over_tcp(
    fake_bybit: FakeVenueServer[BybitVenue],
) -> None:
    """The fake_bybit fixture serves the spot endpoint on 127.0.0.1."""
    async with Bybit.connect(fake_bybit.url, ping_interval=None) as ws:
        assert await ws.subscribe_klines("BTCUSDT", interval=5) == ["kline.5.BTCUSDT"]
        await fake_bybit.push("kline.5.BTCUSDT")
        (message,) = await messages(ws, 1)
    assert isinstance(message.data, KlineMessage)
    assert message.data.klines[0].interval == "5"


async def test_subclasses_default_to_their_endpoint(
    fake_bybit_memory: FakeVenueServer[BybitVenue], autojump_clock: trio.abc.Clock
) -> None:
    """BybitLinear.connect(url) serves as a linear connection without endpoint=."""
    async with BybitLinear.connect(
        fake_bybit_memory.url, transport=fake_bybit_memory.memory_transport(), ping_interval=None
    ) as ws:
        assert ws.category == "linear"


async def test_private_subscribe_before_auth_is_refused(nursery: trio.Nursery) -> None:
    """The fake private endpoint refuses subscriptions of an unauthenticated connection."""
    server = bybit_server("private")
    await nursery.start(server.run)
    raw, _ = await server.connect_raw()
    await raw.send_text('{"req_id":"1","op":"subscribe","args":["order"]}')
    reply = orjson.loads(await raw.receive_text())
    assert reply["success"] is False
    assert reply["ret_msg"] == "Request not authorized"


async def test_shutdown_notice_is_a_system_status(started_status: Fake) -> None:
    """The fake's shutdown notice is an ongoing system.status maintenance message."""
    async with bybit(started_status, "status") as ws:
        await ws.subscribe_system_status()
        peer = await started_status.wait_connected()
        await peer.notify_shutdown("upgrade")
        (message,) = await messages(ws, 1)
    assert isinstance(message.data, SystemStatusMessage)
    assert message.data.notices[0].state == "ongoing"
    assert message.data.notices[0].title == "upgrade"


@pytest.fixture
async def started_status(nursery: trio.Nursery) -> Fake:
    """The fake status endpoint, started."""
    server = bybit_server("status")
    await nursery.start(server.run)
    return server


@pytest.mark.parametrize(("count", "success"), [(10, True), (11, False)])
async def test_spot_fake_allows_ten_args_per_request(
    count: int, success: bool, nursery: trio.Nursery
) -> None:
    """The fake enforces spot's 10 args per request (the client never sends more)."""
    server = bybit_server("spot")
    await nursery.start(server.run)
    raw, _ = await server.connect_raw()
    args = [f"publicTrade.S{i}USDT" for i in range(count)]
    await raw.send_text(orjson.dumps({"req_id": "1", "op": "subscribe", "args": args}).decode())
    reply = orjson.loads(await raw.receive_text())
    assert reply["success"] is success
    assert reply["req_id"] == "1"


@pytest.mark.parametrize(("pings", "cut"), [(120.0, True), (20.0, False)])
async def test_idle_connections_are_cut(
    pings: float, cut: bool, nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Quiet past the idle time, the fake cuts the connection; a ping every 20 s keeps it."""
    server = bybit_server("private")
    await nursery.start(server.run)
    nursery.start_soon(partial(server.behaviour.cut_idle, server, after=60.0, scan=30.0))
    async with bybit(server, "private", venue_ping_interval=pings) as ws:
        events: list[Any] = []
        with trio.move_on_after(200):
            async for event in ws.events:
                events.append(event)
        if cut:
            assert isinstance(events[-1], Disconnected)
            assert events[-1].reason == RemoteClosed(1000, "idle")
            assert 60.0 <= trio.current_time() <= 90.0
        else:
            assert ws.state is ConnectionState.CONNECTED
            assert not any(isinstance(event, Disconnected) for event in events)


@pytest.mark.parametrize(("code", "retryable"), [(1011, True), (1002, False)])
async def test_close_codes_follow_the_generic_table(
    code: int, retryable: bool, nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Bybit documents no close codes: 1011 is retryable, 1002 is not."""
    server = bybit_server("linear")
    await nursery.start(server.run)
    async with bybit(server, "linear") as ws:
        peer = await server.wait_connected()
        await peer.close(code, "bye")
        events = [event async for event in ws.events]
    assert isinstance(events[-1], Disconnected)
    assert isinstance(events[-1].reason, RemoteClosed)
    assert events[-1].reason.retryable is retryable


async def test_rejected_handshake(nursery: trio.Nursery) -> None:
    """A rejected handshake raises HandshakeRejected with the status."""
    server = bybit_server("trade")
    await nursery.start(server.run)
    server.reject(403)
    with pytest.raises(HandshakeRejected) as info:
        async with Bybit.connect(
            server.url,
            endpoint="trade",
            credentials=fake_credentials(),
            transport=server.memory_transport(),
        ):
            pytest.fail("connect() must not yield")  # pragma: no cover
    assert info.value.status == 403


async def test_data_keeps_flowing_while_the_consumer_is_stalled_by_the_server(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A stalled fake sends nothing; once resumed, queued pushes arrive in order."""
    server = bybit_server("linear")
    await nursery.start(server.run)
    async with bybit(server, "linear") as ws:
        await ws.subscribe_trades("BTCUSDT")
        peer = await server.wait_connected()
        peer.stall()
        await trio.sleep(1)
        peer.resume()
        await server.push("publicTrade.BTCUSDT")
        (message,) = await messages(ws, 1)
    assert isinstance(message, Message)
    assert message.topic == "publicTrade.BTCUSDT"
