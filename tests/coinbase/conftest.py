"""Coinbase session tests run in memory against the fake Coinbase, on its virtual wall clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from trio_venues.testing import FakeVenueServer
from trio_venues.venues.coinbase._fake import FakeCoinbase, coinbase_server, virtual_wall_clock


@pytest.fixture
async def fake(nursery: trio.Nursery) -> AsyncIterator[FakeVenueServer[FakeCoinbase]]:
    """A fake Coinbase serving in-memory connections, JWTs checked on a virtual clock."""
    server = coinbase_server(FakeCoinbase(clock=virtual_wall_clock()))
    await nursery.start(server.run)
    yield server
    server.stop()
