"""book_feed over the fake Binance venue: sync, per-symbol resync, stale snapshots, reconnects."""

from __future__ import annotations

import random
from typing import Any

import trio

from trio_venues import BinanceSpot, ConstantBackoff, RetryPolicy, book_feed, retry_scope
from trio_venues._bookfeed import (
    BookResynced,
    BookUpdate,
    SnapshotRequested,
)
from trio_venues.book import Side
from trio_venues.events import DataGap, Event, GapDetected
from trio_venues.testing.binance import binance_stream_url
from trio_venues.venues.binance import binance_depth_snapshots

from ._helpers import Fake, api, spot

SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBBTC"]


def topic(symbol: str) -> str:
    return f"{symbol.lower()}@depth@100ms"


def same_book(fake: Fake, feed: Any, symbol: str) -> bool:
    market = fake.behaviour.market(symbol)
    book = feed.book(symbol)
    return (
        book is not None
        and list(book.side(Side.BID)) == market.bids
        and list(book.side(Side.ASK)) == market.asks
    )


async def caught_up(fake: Fake, feed: Any, symbols: list[str]) -> None:
    """Read the feed until every book equals its market (fails if the events stop first).

    Diffs of a push may still be in flight when a test looks: the snapshot
    that resyncs a book comes over another connection, so the order in which
    the two connections' events are handled is up to the scheduler.
    """
    with trio.fail_after(5):  # virtual time: fires at once if nothing more comes
        while not all(same_book(fake, feed, s) for s in symbols):
            await next_events(feed, 1)


async def updates_to_current(fake: Fake, feed: Any, symbols: list[str]) -> list[BookUpdate]:
    """After a push: read until each book reported its market's update id; return the updates.

    Earlier updates may still be queued ahead of them (see ``caught_up``).
    """
    updates: list[BookUpdate] = []
    current = {s: fake.behaviour.market(s).update_id for s in symbols}
    with trio.fail_after(5):
        while {u.symbol for u in updates if u.update_id == current[u.symbol]} != set(symbols):
            updates += [e for e in await next_events(feed, 1) if isinstance(e, BookUpdate)]
    for symbol in symbols:
        assert same_book(fake, feed, symbol)
    return updates


async def next_events(feed: Any, count: int, *, until: type | None = None) -> list[Event]:
    """The next ``count`` events (or up to the first of type ``until``)."""
    out: list[Event] = []
    async for event in feed:
        out.append(event)
        if until is not None and isinstance(event, until):
            break
        if until is None and len(out) == count:
            break
    return out


async def push_all(fake: Fake, symbols: list[str]) -> None:
    for symbol in symbols:
        await fake.push(topic(symbol))


async def test_initial_sync_and_snapshot_weight(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """Each book syncs from a WS-API snapshot; its request weight shows in the limiter stats."""
    async with (
        spot(fake, "default") as ws,
        api(fake) as rest,
        book_feed(ws, binance_depth_snapshots(rest, limit=1000), SYMBOLS) as feed,
    ):
        synced: set[str] = set()
        while synced != set(SYMBOLS):
            await push_all(fake, SYMBOLS)
            for event in await next_events(feed, 0, until=BookResynced):
                if isinstance(event, BookResynced):
                    synced.add(event.symbol)
        await push_all(fake, SYMBOLS)
        updates = await updates_to_current(fake, feed, SYMBOLS)
        assert {u.symbol for u in updates} == set(SYMBOLS)
        windows = rest.stats.rate_limits.for_kind("weight")
        assert windows
        # three depth requests of limit 1000 (weight 50 each) plus the connection's 2
        assert windows[0].used >= 150


async def _synced_feed(fake: Fake, feed: Any) -> None:
    synced: set[str] = set()
    while synced != set(SYMBOLS):
        await push_all(fake, SYMBOLS)
        for event in await next_events(feed, 0, until=BookResynced):
            if isinstance(event, BookResynced):
                synced.add(event.symbol)


async def test_gap_on_one_symbol_resyncs_only_that_one(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A gap on ETHUSDT resyncs ETHUSDT alone; the other two books keep updating."""
    async with (
        spot(fake, "default") as ws,
        api(fake) as rest,
        book_feed(ws, binance_depth_snapshots(rest), SYMBOLS) as feed,
    ):
        await _synced_feed(fake, feed)
        fake.behaviour.market("ETHUSDT").inject_gap(5)
        await push_all(fake, SYMBOLS)
        events = await next_events(feed, 0, until=BookResynced)
        gaps = [e for e in events if isinstance(e, GapDetected)]
        requests = [e for e in events if isinstance(e, SnapshotRequested)]
        resynced = [e for e in events if isinstance(e, BookResynced)]
        updated = {e.symbol for e in events if isinstance(e, BookUpdate)}
        assert [g.topic for g in gaps] == [topic("ETHUSDT")]
        assert [(r.symbol, r.reason) for r in requests] == [("ETHUSDT", "gap")]
        assert [r.symbol for r in resynced] == ["ETHUSDT"]
        assert updated >= {"BTCUSDT", "BNBBTC"}
        await caught_up(fake, feed, SYMBOLS)


async def test_stale_snapshot_is_requested_again(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A snapshot older than the buffered diffs is thrown away and asked for again."""
    async with (
        spot(fake, "default") as ws,
        api(fake) as rest,
        book_feed(ws, binance_depth_snapshots(rest), ["BTCUSDT"]) as feed,
    ):
        market = fake.behaviour.market("BTCUSDT")
        for _ in range(60):  # history for a snapshot 50 updates old
            market.step()
        market.inject_stale_snapshot()
        events: list[Event] = []
        while not any(isinstance(e, BookResynced) for e in events):
            await fake.push(topic("BTCUSDT"))
            events += await next_events(feed, 1)
        reasons = [e.reason for e in events if isinstance(e, SnapshotRequested)]
        assert reasons[0] == "initial"
        assert "stale" in reasons
        await caught_up(fake, feed, ["BTCUSDT"])


async def test_books_resync_after_a_reconnect(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """After retry_scope reconnects and reports a DataGap, the books resync by themselves."""
    url = binance_stream_url(fake)
    policy = RetryPolicy(backoff=ConstantBackoff(0.5), rng=random.Random(1))

    def factory() -> Any:
        return BinanceSpot.connect(url, transport=fake.memory_transport(), ping_interval=None)

    async with (
        retry_scope(factory, policy=policy) as ws,
        api(fake) as rest,
        book_feed(ws, binance_depth_snapshots(rest), SYMBOLS) as feed,
    ):
        await _synced_feed(fake, feed)
        [stream_conn] = [c for c in fake.active if c.request.path.startswith("/stream")]
        await stream_conn.drop()
        gap = await next_events(feed, 0, until=DataGap)
        assert isinstance(gap[-1], DataGap)
        assert set(gap[-1].topics) == {topic(s) for s in SYMBOLS}
        for symbol in SYMBOLS:
            assert feed.book(symbol) is None
        # Data resumes on the new connection: every book resyncs from a fresh snapshot.
        await _synced_feed(fake, feed)
        await caught_up(fake, feed, SYMBOLS)


async def test_lower_case_symbols_are_normalised(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """book_feed(ws, ..., ["btcusdt"]) keeps the BTCUSDT book (the diffs' spelling)."""
    async with (
        spot(fake, "default") as ws,
        api(fake) as rest,
        book_feed(ws, binance_depth_snapshots(rest), ["btcusdt"]) as feed,
    ):
        synced = False
        while not synced:
            await push_all(fake, ["BTCUSDT"])
            for event in await next_events(feed, 0, until=BookResynced):
                synced = synced or isinstance(event, BookResynced)
        assert feed.book("BTCUSDT") is not None
