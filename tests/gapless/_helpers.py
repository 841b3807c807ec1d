"""Shared pieces of the gapless-feed tests: an id rule, connectors, and event collection."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import trio

from trio_venues import BinanceSpot, BinanceSpotApi
from trio_venues.events import DataGap, Event, Message
from trio_venues.gapless import TopicIds, single_id
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_api_url, binance_server
from trio_venues.venues.generic import GenericJson

#: The id rule of the tests' generic topics: one id per message, in ``data["id"]``.
DICT_IDS = single_id(lambda data: data["id"])


def dict_ids(topic: str) -> TopicIds:
    """Every generic test topic carries ids."""
    return DICT_IDS


def generic_connect(
    *servers: FakeVenueServer[Any],
) -> Callable[[str], AbstractAsyncContextManager[Any]]:
    """``connect(url)`` to whichever of ``servers`` has that URL, in memory."""
    by_url = {s.url: s for s in servers}

    def connect(url: str) -> AbstractAsyncContextManager[Any]:
        server = by_url[url]
        return GenericJson.connect(
            url, transport=server.memory_transport("default"), ping_interval=None
        )

    return connect


class Collected:
    """What a consumer task read from a feed."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = trio.Event()

    def add(self, event: Event) -> None:
        self.events.append(event)
        self.changed.set()
        self.changed = trio.Event()

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def ids(self, topic: str) -> list[int]:
        return [e.data["id"] for e in self.events if isinstance(e, Message) and e.topic == topic]

    def gaps(self) -> list[DataGap]:
        return self.of(DataGap)

    async def wait_for(self, predicate: Callable[[Collected], bool]) -> None:
        while not predicate(self):
            await self.changed.wait()


async def collect(feed: Any, into: Collected) -> None:
    """Read every event of ``feed`` into ``into``."""
    async for event in feed.events:
        into.add(event)


async def push_ids(
    server: FakeVenueServer[Any], topic: str, first: int, last: int, interval: float
) -> None:
    """Push ``{"id": n}`` for n in first..last, one every ``interval`` seconds."""
    for n in range(first, last + 1):
        await server.push(topic, {"id": n})
        await trio.sleep(interval)


def binance_connect(
    server: FakeVenueServer[FakeBinance],
) -> Callable[[str], AbstractAsyncContextManager[Any]]:
    """``connect(url)`` for a feed: BinanceSpot to the fake in memory, notices as events."""

    def connect(url: str) -> AbstractAsyncContextManager[Any]:
        return BinanceSpot.connect(
            url,
            transport=server.memory_transport(),
            ping_interval=None,
            shutdown_notice="event",
        )

    return connect


def binance_api(server: FakeVenueServer[FakeBinance]) -> AbstractAsyncContextManager[Any]:
    """A BinanceSpotApi connection to the fake (for book snapshots), on the virtual clock."""
    return BinanceSpotApi.connect(
        binance_api_url(server),
        transport=server.memory_transport(),
        ping_interval=None,
        clock=virtual_clock_ms(),
    )


async def start_binance(nursery: trio.Nursery, **options: Any) -> FakeVenueServer[FakeBinance]:
    """A Binance fake on the virtual clock, in memory."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()), **options)
    await nursery.start(server.run)
    return server
