"""FakeVenueServer(max_connection_age=...): the venue's cut of old connections, on Trio's clock."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_venues import BinanceSpot
from trio_venues.events import Disconnected
from trio_venues.reasons import RemoteClosed
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_server, binance_stream_url
from trio_venues.venues.binance import BinanceSpotCore
from trio_venues.venues.generic import GenericJson


async def _ended_at(ws: Any) -> tuple[Disconnected, float]:
    async for event in ws.events:
        if isinstance(event, Disconnected):
            return event, trio.current_time()
    raise AssertionError("no Disconnected")


async def test_each_connection_is_closed_at_its_own_age(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Connections opened at 0 and 30 are closed at 100 and 130 with the configured close."""
    server = FakeVenueServer(max_connection_age=100.0, max_connection_age_close=(1001, "aged"))
    await nursery.start(server.run)
    ended: list[tuple[Disconnected, float]] = []

    async def one(delay: float) -> None:
        await trio.sleep(delay)
        async with GenericJson.connect(
            server.url, transport=server.memory_transport(), ping_interval=None
        ) as ws:
            await ws.subscribe("a")
            ended.append(await _ended_at(ws))

    async with trio.open_nursery() as inner:
        inner.start_soon(one, 0.0)
        inner.start_soon(one, 30.0)
    assert ended == [
        (Disconnected(RemoteClosed(1001, "aged")), 100.0),
        (Disconnected(RemoteClosed(1001, "aged")), 130.0),
    ]
    server.stop()


async def test_without_an_age_connections_stay_open(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """The default server never cuts a connection for its age."""
    server = FakeVenueServer()
    assert server.max_connection_age is None
    await nursery.start(server.run)
    async with GenericJson.connect(
        server.url, transport=server.memory_transport(), ping_interval=None
    ) as ws:
        await trio.sleep(10 * 86400)
        assert ws.reason is None
    server.stop()


@pytest.mark.parametrize("age", [0, -1.0])
def test_the_age_must_be_positive(age: float) -> None:
    """A zero or negative age is refused."""
    with pytest.raises(ValueError, match="max_connection_age"):
        FakeVenueServer(max_connection_age=age)


async def test_the_fake_binance_cuts_at_24_hours_like_binance(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """binance_server closes every connection 24 h after its handshake with 1000 (retryable)."""
    assert binance_server().max_connection_age == BinanceSpotCore().max_connection_age == 86400
    # Binance's own pings (every 20 s) off: 4,320 of them would only slow the test.
    server = binance_server(FakeBinance(clock=virtual_clock_ms()), ping_interval=None)
    assert server.max_connection_age == 86400
    await nursery.start(server.run)
    await trio.sleep(5)
    async with BinanceSpot.connect(
        binance_stream_url(server, "btcusdt@trade"),
        transport=server.memory_transport(),
        ping_interval=None,
    ) as ws:
        event, at = await _ended_at(ws)
    assert at == 5 + 86400
    assert isinstance(event.reason, RemoteClosed)
    assert event.reason.code == 1000
    assert event.reason.retryable
    kept = binance_server(FakeBinance(), max_connection_age=None)
    assert kept.max_connection_age is None
    server.stop()
