"""Four venue feeds in one nursery: one venue's server dies, the others never stall.

The feeds come from the registry: every venue with a unified form and a fake
that sends simulated events, one feed each, topped up to four feeds with
second feeds of the same venues while fewer venues have a unified form. The
fakes also listen on 127.0.0.1 (catalogues may come over HTTP), so the clock
is real; nothing waits on time except the short sleeps that let the dead
venue's reconnection attempts fail meanwhile.
"""

from __future__ import annotations

import collections
import itertools
from decimal import Decimal
from typing import Any

import trio

from trio_venues.events import Connected, DataGap, Disconnected, Reconnecting
from trio_venues.unified import FakeMessage, Trade, UnifiedFeeds, VenueEvent, unified_feeds
from trio_venues.venues._registry import get_venue

from ._sites import Site
from .test_cross_venue import SIMULATED, simulated

FEEDS = 4


class Feed:
    """One feed: its venue's fake, its catalogue and the trade message its fake sends."""

    def __init__(self, name: str, site: Site) -> None:
        self.name = name
        self.site = site
        self.message: FakeMessage | None = None

    async def start(self) -> None:
        server = await self.site.start(tcp=True)
        support = self.site.entry.unified
        assert support is not None
        assert support.fake_catalogue_url is not None
        assert support.fake_message is not None
        with trio.fail_after(30):
            catalogue = await support.load_catalogue(support.fake_catalogue_url(server))
        btc = [i for i in catalogue if i.kind == "spot" and i.base == "BTC"]
        inst = sorted(btc, key=lambda i: i.quote != "USDT")[0]
        trade = simulated("trade", inst.symbol)
        assert isinstance(trade, Trade)
        self.message = support.fake_message(
            server,
            Trade(
                self.site.entry.name,
                inst.symbol,
                inst.venue_symbol,
                "sell",
                Decimal("64000.5"),
                Decimal("0.5"),
                "42",
                trade.exchange_ns,
                0.0,
            ),
        )
        assert self.message is not None
        self.catalogue = catalogue

    def spec(self) -> Any:
        assert self.message is not None
        assert self.site.entry.fake is not None
        url = self.message.url if self.message.url is not None else self.site.url
        return self.site.spec(
            self.message.topic,
            name=self.name,
            url=url,
            endpoint=self.message.endpoint or self.site.entry.fake.endpoint,
            catalogue=self.catalogue,
        )

    async def push(self) -> None:
        assert self.message is not None
        assert self.site.server is not None
        await self.site.server.push(self.message.topic, self.message.data)


async def _read_until(feeds: UnifiedFeeds, feed: str, kind: type) -> list[Any]:
    seen = []
    async for item in feeds:
        seen.append(item)
        if isinstance(item, VenueEvent) and item.feed == feed and isinstance(item.event, kind):
            return seen
    raise AssertionError("the feeds ended")


async def test_four_venues_one_killed_the_others_keep_flowing(nursery: trio.Nursery) -> None:
    """Kill one venue's server: it reconnects while every other feed's trades keep arriving."""
    venues = list(itertools.islice(itertools.cycle(SIMULATED), FEEDS))
    counts: collections.Counter[str] = collections.Counter()
    feeds: list[Feed] = []
    for venue in venues:
        counts[venue] += 1
        name = venue if counts[venue] == 1 else f"{venue}-{counts[venue]}"
        feed = Feed(name, Site(venue, nursery))
        await feed.start()
        feeds.append(feed)
    victim, survivors = feeds[-1], feeds[:-1]
    per_venue = collections.Counter(get_venue(f.site.entry.name).name for f in survivors)
    with trio.fail_after(40):
        async with unified_feeds([f.spec() for f in feeds]) as stream:
            for feed in feeds:
                while stream.status()[feed.name].state != "live":
                    await trio.sleep(0.01)
            await trio.sleep(0.2)  # the subscribes are acknowledged

            victim.site.kill()
            seen = await _read_until(stream, victim.name, Disconnected)
            seen += await _read_until(stream, victim.name, Reconnecting)
            for _ in range(5):
                for feed in survivors:
                    await feed.push()
                arrived: collections.Counter[str] = collections.Counter()
                while arrived != per_venue:
                    item = await stream.receive()
                    if isinstance(item, Trade):
                        arrived[item.venue] += 1
                        assert item.trade_id == "42"
                        assert item.price == Decimal("64000.5")
                    elif isinstance(item, VenueEvent):
                        assert item.feed == victim.name  # only the dead venue has news
                await trio.sleep(0.3)  # meanwhile the dead venue's attempts fail
                assert stream.status()[victim.name].state == "reconnecting"
            status = stream.status()
            assert all(status[f.name].state == "live" for f in survivors)

            await victim.site.start()
            await _read_until(stream, victim.name, Connected)
            gap = (await _read_until(stream, victim.name, DataGap))[-1]
            assert gap.event.topics == (victim.message.topic,)  # type: ignore[union-attr]
            await victim.push()
            async for item in stream:
                if isinstance(item, Trade) and item.venue == victim.site.entry.name:
                    break
            assert stream.status()[victim.name].state == "live"
