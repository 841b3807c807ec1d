"""Binance session tests run in memory against the fake Binance venue, on both transports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_server

TRANSPORTS = ["default", "trio-websocket"]


@pytest.fixture(params=TRANSPORTS)
def kind(request: pytest.FixtureRequest) -> str:
    """The client transport under test."""
    return str(request.param)


@pytest.fixture
async def fake(nursery: trio.Nursery) -> AsyncIterator[FakeVenueServer[FakeBinance]]:
    """A fake Binance venue (Binance keepalive, virtual clock) serving in-memory connections."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()))
    await nursery.start(server.run)
    yield server
    server.stop()
