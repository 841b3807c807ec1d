"""The venue-conformance suite: every registered venue's fake, driven the same way.

Each test is parametrised over the registry (:mod:`trio_venues.venues._registry`):
a venue joins by registering a ``VenueEntry`` with a ``FakeVenue``, and what its
fake can do (venue pings, forced gaps, books) decides which tests apply to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import trio

from trio_venues import Connection
from trio_venues.testing import FakeVenueServer
from trio_venues.venues._registry import FakeVenue, VenueEntry, get_venue, venue_names

#: Every registered venue with a fake.
FAKED = [name for name in venue_names() if get_venue(name).fake is not None]


class Venue:
    """One registered venue's fake, started in memory, and how to connect to it."""

    def __init__(self, entry: VenueEntry, server: FakeVenueServer[Any]) -> None:
        assert entry.fake is not None
        self.entry = entry
        self.fake: FakeVenue = entry.fake
        self.server = server

    def url(self, *topics: str) -> str:
        return self.fake.url(self.server, topics)

    def connect(self, *topics: str, **options: Any) -> AbstractAsyncContextManager[Connection]:
        """The venue's client connected to its fake in memory (our pings off)."""
        settings: dict[str, Any] = {"ping_interval": None, **self.fake.client_options}
        settings.update(options)
        client = self.entry.client(self.fake.endpoint)
        return client.connect(
            self.url(*topics), transport=self.server.memory_transport(), **settings
        )


@pytest.fixture(params=FAKED)
async def venue(request: pytest.FixtureRequest, nursery: trio.Nursery) -> AsyncIterator[Venue]:
    """A registered venue's fake (one per venue), serving in-memory connections."""
    entry = get_venue(request.param)
    assert entry.fake is not None
    server = entry.fake.server()
    await nursery.start(server.run)
    yield Venue(entry, server)
    server.stop()
