"""Fake venues that a test can kill and bring back, and feed specs pointing at them."""

from __future__ import annotations

from typing import Any

import trio

from trio_venues import RetryPolicy
from trio_venues._config import ConnectionConfig
from trio_venues._retry_policy import ConstantBackoff
from trio_venues._transport_types import Transport
from trio_venues.errors import ConnectionRefused
from trio_venues.testing import FakeVenueServer
from trio_venues.unified import Catalogue, FeedSpec
from trio_venues.venues._registry import VenueEntry, get_venue

#: Reconnect quickly and without limit (the tests kill servers on purpose): no circuit
#: breaker, whose cool-down would outlast the outage.
FAST_RETRY = RetryPolicy(
    backoff=ConstantBackoff(0.2), max_attempts=None, stable_after=0.0, breaker=None
)


class Site:
    """One venue's fake server, in memory, that can go down and come back.

    Connections go through :meth:`transport`, which refuses while the server
    is down (as a closed port does), so ``retry_scope`` keeps retrying.
    """

    def __init__(self, venue: str, nursery: trio.Nursery, **server_options: Any) -> None:
        self.entry: VenueEntry = get_venue(venue)
        assert self.entry.fake is not None
        self.nursery = nursery
        self.server_options = server_options
        self.server: FakeVenueServer[Any] | None = None
        self.up = False

    async def start(self, *, tcp: bool = False) -> FakeVenueServer[Any]:
        """Start a fresh server (a restarted venue forgets its connections).

        ``tcp``: also listen on 127.0.0.1 (for catalogues fetched over HTTP).
        """
        assert self.entry.fake is not None
        server = self.entry.fake.server(**self.server_options)
        await self.nursery.start(server.serve_tcp if tcp else server.run)
        self.server = server
        self.up = True
        return server

    def kill(self) -> None:
        """Stop the server: every connection drops, new ones are refused."""
        assert self.server is not None
        self.up = False
        self.server.stop()

    async def transport(
        self, nursery: trio.Nursery, url: str, config: ConnectionConfig
    ) -> Transport:
        """Connect to the current server in memory, or refuse while it is down."""
        if not self.up or self.server is None:
            raise ConnectionRefused("the fake venue is down", url=url)
        return await self.server.memory_transport()(nursery, url, config)

    @property
    def url(self) -> str:
        """The streams URL of the venue's fake (no topics in it)."""
        assert self.entry.fake is not None
        assert self.server is not None
        return self.entry.fake.url(self.server, ())

    async def catalogue(self) -> Catalogue:
        """The fake's catalogue, loaded the venue's way (in memory)."""
        support = self.entry.unified
        assert support is not None
        assert support.fake_catalogue_url is not None
        assert self.server is not None
        return await support.load_catalogue(
            support.fake_catalogue_url(self.server),
            transport=self.server.memory_transport(),
            ping_interval=None,
        )

    def spec(self, *topics: str, **fields: Any) -> FeedSpec:
        """A feed of this venue through :meth:`transport`."""
        assert self.entry.fake is not None
        assert self.server is not None
        support = self.entry.unified
        assert support is not None
        assert support.fake_catalogue_url is not None
        options = {
            "transport": self.transport,
            "ping_interval": None,
            **self.entry.fake.client_options,
        }
        defaults: dict[str, Any] = {
            "venue": self.entry.name,
            "topics": topics,
            "url": self.url,
            "endpoint": self.entry.fake.endpoint,
            "options": options,
            "catalogue_url": support.fake_catalogue_url(self.server),
            "policy": FAST_RETRY,
        }
        defaults.update(fields)
        return FeedSpec(**defaults)


async def push_every(server: FakeVenueServer[Any], topic: str, interval: float) -> None:
    """Push generated data on ``topic`` every ``interval`` seconds, until cancelled."""
    while True:
        await server.push(topic)
        await trio.sleep(interval)
