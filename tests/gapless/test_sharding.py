"""Sharding over the Binance fake: 1,500 topics on two connections, and closing one again."""

from __future__ import annotations

import trio

from trio_venues import BinanceSpot
from trio_venues.events import ConnectionClosed, ConnectionOpened, Message
from trio_venues.gapless import gapless_feed
from trio_venues.testing.binance import binance_stream_url

from ._helpers import Collected, binance_connect, collect, start_binance

TOPICS = [f"c{i}usdt@trade" for i in range(1500)]


async def test_1500_topics_land_on_two_connections(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """1,500 streams take two connections (1,024 + 476), two connection attempts in all."""
    server = await start_binance(nursery)
    seen = Collected()
    async with gapless_feed(
        BinanceSpot,
        TOPICS,
        urls=[binance_stream_url(server)],
        connect=binance_connect(server),
        max_connection_age=None,
    ) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await seen.wait_for(lambda s: len(s.of(ConnectionOpened)) == 2)
        assert sorted(len(t) for t in feed.placement.values()) == [476, 1024]
        assert sorted(len(t) for t in feed.shards.values()) == [476, 1024]
        opened = seen.of(ConnectionOpened)
        assert sorted(len(o.topics) for o in opened) == [476, 1024]
        assert {o.why for o in opened} == {"shard"}
        # Binance allows 300 connection attempts per 5 minutes per IP; we made two.
        assert server.attempts == 2
        assert sorted(len(c.subscriptions) for c in server.active) == [476, 1024]
        await server.push(TOPICS[1499])
        await seen.wait_for(lambda s: bool(s.of(Message)))
        assert [m.topic for m in seen.of(Message)] == [TOPICS[1499]]


async def test_removing_a_shards_topics_closes_its_connection(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """Unsubscribing every topic of the second shard (and some more) closes its connection."""
    server = await start_binance(nursery)
    seen = Collected()
    async with gapless_feed(
        BinanceSpot,
        TOPICS,
        urls=[binance_stream_url(server)],
        connect=binance_connect(server),
        max_connection_age=None,
    ) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await feed.unsubscribe(*TOPICS[900:])
        await seen.wait_for(lambda s: bool(s.of(ConnectionClosed)))
        (closed,) = seen.of(ConnectionClosed)
        assert closed.why == "empty"
        assert [len(t) for t in feed.placement.values()] == [900]
        assert [len(c.subscriptions) for c in server.active] == [900]


async def test_rebalancing_only_when_it_saves_a_connection(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """Removing 600 of the first shard's topics moves the rest over and closes one connection."""
    server = await start_binance(nursery)
    seen = Collected()
    async with gapless_feed(
        BinanceSpot,
        TOPICS,
        urls=[binance_stream_url(server)],
        connect=binance_connect(server),
        max_connection_age=None,
    ) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await feed.unsubscribe(*TOPICS[:100])
        assert seen.of(ConnectionClosed) == []  # 1,400 topics still need two connections
        await feed.unsubscribe(*TOPICS[100:600])
        await seen.wait_for(lambda s: bool(s.of(ConnectionClosed)))
        (closed,) = seen.of(ConnectionClosed)
        assert closed.why == "rebalanced"
        assert [len(t) for t in feed.placement.values()] == [900]
        assert [sorted(c.subscriptions) for c in server.active] == [sorted(TOPICS[600:])]
        assert server.attempts == 2
        await server.push(TOPICS[700])
        await server.push(TOPICS[1400])
        await seen.wait_for(lambda s: len(s.of(Message)) == 2)
        assert [m.topic for m in seen.of(Message)] == [TOPICS[700], TOPICS[1400]]
