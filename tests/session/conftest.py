"""Session tests run against the generic fake venue, in memory, on both transports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from trio_venues.testing import FakeVenueServer

TRANSPORTS = ["default", "trio-websocket"]


@pytest.fixture(params=TRANSPORTS)
def kind(request: pytest.FixtureRequest) -> str:
    """The client transport under test."""
    return str(request.param)


@pytest.fixture
async def server(nursery: trio.Nursery) -> AsyncIterator[FakeVenueServer]:  # type: ignore[type-arg]
    """A generic fake venue serving in-memory connections."""
    fake = FakeVenueServer()
    await nursery.start(fake.run)
    yield fake
    fake.stop()
