"""Binance serverShutdown as an event: the connection stays open until Binance closes it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from trio_venues import BinanceSpot
from trio_venues.events import Disconnected, Message, ShutdownNotice
from trio_venues.reasons import ServerRequested
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_server, binance_stream_url
from trio_venues.venues.binance import Trade

Fake = FakeVenueServer[FakeBinance]


@pytest.fixture
async def fake(nursery: trio.Nursery) -> AsyncIterator[Fake]:
    """A fake Binance venue on the virtual clock."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()))
    await nursery.start(server.run)
    yield server
    server.stop()


async def test_server_shutdown_becomes_an_event_and_trades_keep_flowing(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """With shutdown_notice="event", serverShutdown is a ShutdownNotice (no deadline)."""
    url = binance_stream_url(fake, "btcusdt@trade")
    async with BinanceSpot.connect(
        url, transport=fake.memory_transport(), ping_interval=None, shutdown_notice="event"
    ) as ws:
        await fake.wait_connected()
        await trio.sleep(3)
        assert await fake.behaviour.notify_shutdown() == 1
        await fake.push("btcusdt@trade")
        await fake.push("btcusdt@trade")
        seen: list[object] = []
        async for event in ws.events:
            seen.append(event)
            if len([e for e in seen if isinstance(e, Message)]) == 2:
                break
        notice = next(e for e in seen if isinstance(e, ShutdownNotice))
        assert notice.deadline is None
        assert notice.this_connection
        assert isinstance(notice.reason, ServerRequested)
        assert "serverShutdown" in notice.reason.details
        trades = [e.data for e in seen if isinstance(e, Message)]
        assert all(isinstance(t, Trade) for t in trades)
        assert trades[1].trade_id > trades[0].trade_id
        assert not any(isinstance(e, Disconnected) for e in seen)
