"""unified_feeds: many venue feeds in one nursery, one bounded stream of unified items."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_venues import RetryPolicy
from trio_venues.errors import ConfigError, RetriesExhausted, SubscriptionError
from trio_venues.events import Connected, DataGap, Disconnected, Reconnecting
from trio_venues.unified import (
    EventsDropped,
    FeedFailed,
    FeedSpec,
    Trade,
    UnifiedFeeds,
    UnifiedItem,
    VenueEvent,
    unified_feeds,
)

from ._sites import Site

TOPIC = "btcusdt@trade"


async def _sites(nursery: trio.Nursery, *names: str) -> list[Site]:
    sites = []
    for _ in names:
        site = Site("binance", nursery)
        await site.start()
        sites.append(site)
    return sites


async def _until(
    feeds: UnifiedFeeds, predicate: Any, seen: list[UnifiedItem] | None = None
) -> UnifiedItem:
    """Read items until one satisfies ``predicate``; every item read goes into ``seen``."""
    async for item in feeds:
        if seen is not None:
            seen.append(item)
        if predicate(item):
            return item
    raise AssertionError("the feeds ended")


def _is(feed: str, kind: type) -> Any:
    return lambda item: (
        isinstance(item, VenueEvent) and item.feed == feed and isinstance(item.event, kind)
    )


def _trade_of(feed_venue_symbol: str = "BTCUSDT") -> Any:
    return lambda item: isinstance(item, Trade) and item.venue_symbol == feed_venue_symbol


async def _live(feeds: UnifiedFeeds, *names: str) -> None:
    """Wait until every named feed has subscribed."""
    while any(feeds.status()[n].state != "live" for n in names):
        await trio.sleep(0.01)
    # Subscribed happens right after the scope is entered: let the subscribes go out.
    await trio.sleep(0.1)


async def test_two_feeds_merge_into_one_stream(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Trades of two venue feeds arrive on one stream, each feed's in order, tagged by feed."""
    a, b = await _sites(nursery, "a", "b")
    specs = [a.spec(TOPIC, name="a"), b.spec(TOPIC, name="b")]
    async with unified_feeds(specs) as feeds:
        await _live(feeds, "a", "b")
        for _ in range(3):
            assert a.server is not None
            assert b.server is not None
            await a.server.push(TOPIC)
            await b.server.push(TOPIC)
        trades: list[Trade] = []
        connected: set[str] = set()
        while len(trades) < 6:
            item = await feeds.receive()
            if isinstance(item, Trade):
                trades.append(item)
            elif isinstance(item, VenueEvent) and isinstance(item.event, Connected):
                connected.add(item.feed)
        assert connected == {"a", "b"}
        assert all(t.venue == "binance" and t.symbol == "BTC-USDT" for t in trades)
        assert sorted(int(t.trade_id) for t in trades) == [1, 1, 2, 2, 3, 3]
        status = feeds.status()
        assert status["a"].delivered >= 4
        assert status["b"].delivered >= 4
        assert (status["a"].state, status["b"].state) == ("live", "live")


async def test_a_killed_venue_reconnects_while_the_other_keeps_flowing(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """One venue down: its Disconnected/Reconnecting arrive, the other's trades never stop."""
    a, b = await _sites(nursery, "a", "b")
    async with unified_feeds([a.spec(TOPIC, name="a"), b.spec(TOPIC, name="b")]) as feeds:
        await _live(feeds, "a", "b")
        a.kill()
        await _until(feeds, _is("a", Disconnected))
        await _until(feeds, _is("a", Reconnecting))
        assert b.server is not None
        got = 0
        for _ in range(5):
            await b.server.push(TOPIC)
            await _until(feeds, _trade_of())
            got += 1
            await trio.sleep(1.0)  # the dead venue's attempts fail meanwhile
        assert feeds.status()["a"].state == "reconnecting"
        assert got == 5
        server = await a.start()
        await _until(feeds, _is("a", Connected))
        gap = await _until(feeds, _is("a", DataGap))
        assert isinstance(gap, VenueEvent)
        assert isinstance(gap.event, DataGap)
        assert gap.event.topics == (TOPIC,)
        await server.push(TOPIC)
        trade = await _until(feeds, _trade_of())
        assert isinstance(trade, Trade)
        assert trade.trade_id == "1"  # the restarted venue's first trade


async def test_a_flooding_feed_is_held_back_alone(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A feed at its share of the buffer waits; the other feed's events still get in."""
    a, b = await _sites(nursery, "a", "b")
    specs = [a.spec(TOPIC, name="a"), b.spec("bnbbtc@trade", name="b")]
    async with unified_feeds(specs, buffer=8) as feeds:
        await _live(feeds, "a", "b")
        while len(feeds):  # the Connected events
            feeds.receive_nowait()
        assert a.server is not None
        assert b.server is not None
        for _ in range(40):
            await a.server.push(TOPIC)
        await trio.sleep(1.0)
        assert feeds.status()["a"].queued == 4  # its share: 8 // 2
        await b.server.push("bnbbtc@trade")
        await trio.sleep(1.0)
        assert feeds.status()["b"].queued == 1
        # Held back for minutes, both connections still answer their venue's pings.
        await trio.sleep(300)
        assert a.server.connection.is_open
        assert b.server.connection.is_open
        ids: dict[str, list[int]] = {"BTCUSDT": [], "BNBBTC": []}
        while len(ids["BTCUSDT"]) < 40:
            item = await feeds.receive()
            assert isinstance(item, Trade)
            ids[item.venue_symbol].append(int(item.trade_id))
        assert ids == {"BTCUSDT": list(range(1, 41)), "BNBBTC": [1]}


async def test_drop_oldest_drops_the_feeds_oldest_and_says_how_many(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Under drop_oldest a full share drops its oldest trades; EventsDropped counts them first."""
    (a,) = await _sites(nursery, "a")
    async with unified_feeds([a.spec(TOPIC)], buffer=4, overflow="drop_oldest") as feeds:
        await _live(feeds, "binance")
        while len(feeds):
            feeds.receive_nowait()
        assert a.server is not None
        for _ in range(10):
            await a.server.push(TOPIC)
        await trio.sleep(1.0)
        first = await feeds.receive()
        assert first == VenueEvent("binance", EventsDropped(6), "binance")
        rest = [await feeds.receive() for _ in range(4)]
        assert [int(t.trade_id) for t in rest if isinstance(t, Trade)] == [7, 8, 9, 10]
        assert feeds.status()["binance"].dropped == 6


async def test_a_feed_giving_up_is_an_event_and_the_others_go_on(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A feed whose retry_scope gives up ends with FeedFailed; the other feed keeps delivering."""
    a, b = await _sites(nursery, "a", "b")
    specs = [
        a.spec(TOPIC, name="a", policy=RetryPolicy(max_attempts=1)),
        b.spec(TOPIC, name="b"),
    ]
    async with unified_feeds(specs) as feeds:
        await _live(feeds, "a", "b")
        a.kill()
        failed = await _until(feeds, _is("a", FeedFailed))
        assert isinstance(failed, VenueEvent)
        assert isinstance(failed.event, FeedFailed)
        assert isinstance(failed.event.error, RetriesExhausted)
        assert feeds.status()["a"].state == "failed"
        assert b.server is not None
        await b.server.push(TOPIC)
        await _until(feeds, _trade_of())
        b.kill()
        await _until(feeds, _is("b", Disconnected))


async def test_the_stream_ends_once_every_feed_has_ended(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """With every feed failed, iteration ends after the last FeedFailed."""
    (a,) = await _sites(nursery, "a")
    async with unified_feeds([a.spec("btcusdt@nonsense")]) as feeds:
        items = [item async for item in feeds]
    assert isinstance(items[-1], VenueEvent)
    assert isinstance(items[-1].event, FeedFailed)
    assert isinstance(items[-1].event.error, SubscriptionError)
    assert feeds.status()["binance"].state == "failed"


async def test_fail_fast_ends_the_block_with_the_error(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """With fail_fast, one feed giving up cancels the body and raises its error."""
    a, b = await _sites(nursery, "a", "b")
    specs = [
        a.spec(TOPIC, name="a", policy=RetryPolicy(max_attempts=0)),
        b.spec(TOPIC, name="b"),
    ]

    async def kill_and_wait(feeds: UnifiedFeeds) -> None:
        await _live(feeds, "a", "b")
        a.kill()
        await trio.sleep_forever()

    with pytest.raises(RetriesExhausted):
        async with unified_feeds(specs, fail_fast=True) as feeds:
            await kill_and_wait(feeds)


async def test_a_body_error_propagates_as_itself(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """An exception raised in the block comes out unwrapped; the feeds are cancelled."""
    (a,) = await _sites(nursery, "a")

    async def fail(feeds: UnifiedFeeds) -> None:
        await _live(feeds, "binance")
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        async with unified_feeds([a.spec(TOPIC)]) as feeds:
            await fail(feeds)


async def test_invalid_specs_are_config_errors() -> None:
    """Duplicate names, unknown venues, no topics, bad topics and bad bounds are refused."""
    spec = FeedSpec(venue="binance", topics=[TOPIC])
    cases: list[tuple[Any, dict[str, Any], str]] = [
        ([], {}, "at least one"),
        ([spec, spec], {}, "two feeds are named 'binance'"),
        ([FeedSpec(venue="nowhere", topics=["x"])], {}, "unknown venue"),
        ([FeedSpec(venue="binance")], {}, "no topics"),
        ([FeedSpec(venue="binance", topics=["BTC USDT"])], {}, "invalid stream name"),
        ([spec], {"buffer": 0}, "buffer"),
        ([spec], {"max_bytes": 10}, "max_bytes"),
        ([spec], {"overflow": "lose"}, "overflow"),
    ]
    for specs, options, message in cases:
        with pytest.raises(ConfigError, match=message):
            async with unified_feeds(specs, **options):
                pass  # pragma: no cover
