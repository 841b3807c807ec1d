"""book_feed over the fake Coinbase: in-stream snapshots, absolute sizes, gaps resync every book."""

from __future__ import annotations

import random
from typing import Any

import trio

from trio_venues import (
    BookResynced,
    BookUpdate,
    ConstantBackoff,
    RetryPolicy,
    book_feed,
    retry_scope,
)
from trio_venues.book import Side
from trio_venues.events import DataGap, GapDetected

from ._helpers import Fake, connect

PRODUCTS = ["BTC-USD", "ETH-USD"]


def same_book(fake: Fake, feed: Any, product: str) -> bool:
    """Whether the feed's book of ``product`` equals the simulator's."""
    market = fake.behaviour.market(product)
    book = feed.book(product)
    return (
        book is not None
        and list(book.side(Side.BID)) == market.bids
        and list(book.side(Side.ASK)) == market.asks
    )


async def caught_up(fake: Fake, feed: Any, products: list[str]) -> list[Any]:
    """Read the feed until every book equals its market; return the events read."""
    seen: list[Any] = []
    with trio.fail_after(5):
        while not all(same_book(fake, feed, p) for p in products):
            seen.append(await feed.events.receive())
    return seen


async def test_books_sync_from_in_stream_snapshots(fake: Fake, autojump_clock: object) -> None:
    """Subscribing level2 brings unsorted snapshots; updates keep the books equal to the market."""
    async with connect(fake) as ws, book_feed(ws, "coinbase", PRODUCTS) as feed:
        await caught_up(fake, feed, PRODUCTS)
        assert ws.subscriptions >= {"level2:BTC-USD", "level2:ETH-USD"}
        for _ in range(20):
            for product in PRODUCTS:
                await fake.push(f"level2:{product}")
        await caught_up(fake, feed, PRODUCTS)
        assert all(same_book(fake, feed, p) for p in PRODUCTS)


async def test_sequence_gap_resyncs_every_book_on_the_connection(
    fake: Fake, autojump_clock: object
) -> None:
    """Lost BTC-USD updates show as a connection gap: both books resync and match the market."""
    async with connect(fake) as ws, book_feed(ws, "coinbase", PRODUCTS) as feed:
        await caught_up(fake, feed, PRODUCTS)
        subscribes_before = _level2_subscribes(fake)
        fake.behaviour.lose_book_updates("BTC-USD", 3)
        await fake.push("level2:BTC-USD")
        seen: list[Any] = []
        with trio.fail_after(5):
            while not any(isinstance(e, GapDetected) for e in seen):
                seen.append(await feed.events.receive())
            gap = seen[-1]
            assert gap.topic == "level2:BTC-USD"  # the message that revealed the jump
            seen = []
            while {e.symbol for e in seen if isinstance(e, BookResynced)} != set(PRODUCTS):
                seen.append(await feed.events.receive())
        # every book was resubscribed for a fresh snapshot, not just the one that lost data
        assert _level2_subscribes(fake) - subscribes_before == 2
        await caught_up(fake, feed, PRODUCTS)
        await fake.push("level2:ETH-USD")
        update = await _next_update(feed)
        assert update.symbol == "ETH-USD"
        assert same_book(fake, feed, "ETH-USD")


def _level2_subscribes(fake: Fake) -> int:
    conn = fake.connections[-1]
    requests = fake.behaviour.peer(conn).requests
    return sum(1 for r in requests if r.type == "subscribe" and r.channel == "level2")


async def _next_update(feed: Any) -> BookUpdate:
    with trio.fail_after(5):
        while True:
            event = await feed.events.receive()
            if isinstance(event, BookUpdate):
                return event


async def test_heartbeat_counter_gap_resyncs_the_books(fake: Fake, autojump_clock: object) -> None:
    """A heartbeat counter that skips means missed messages (Coinbase's words): books resync."""
    async with connect(fake) as ws, book_feed(ws, "coinbase", PRODUCTS) as feed:
        await caught_up(fake, feed, PRODUCTS)
        await trio.sleep(2.5)  # two heartbeats counted
        before = _level2_subscribes(fake)
        fake.behaviour.skip_heartbeats(2)
        seen: list[Any] = []
        with trio.fail_after(5):
            while not any(isinstance(e, GapDetected) for e in seen):
                seen.append(await feed.events.receive())
            assert seen[-1].topic == "heartbeats"
            seen = []
            while {e.symbol for e in seen if isinstance(e, BookResynced)} != set(PRODUCTS):
                seen.append(await feed.events.receive())
        assert _level2_subscribes(fake) - before == 2
        await caught_up(fake, feed, PRODUCTS)


async def test_books_resync_after_retry_scope_reconnects(
    fake: Fake, autojump_clock: object
) -> None:
    """A dropped connection: retry_scope reconnects, replays level2, the books resync."""
    policy = RetryPolicy(backoff=ConstantBackoff(0.5), rng=random.Random(1))
    async with (
        retry_scope(lambda: connect(fake), policy=policy) as ws,
        book_feed(ws, "coinbase", PRODUCTS) as feed,
    ):
        await caught_up(fake, feed, PRODUCTS)
        await fake.connections[-1].drop()
        with trio.fail_after(10):
            while True:
                event = await feed.events.receive()
                if isinstance(event, DataGap):
                    break
        assert set(event.topics) == {"level2:BTC-USD", "level2:ETH-USD"}
        await caught_up(fake, feed, PRODUCTS)
        # the new connection numbers from 0 again and its keepalive is its own
        conn = fake.connections[-1]
        assert next(r.channel for r in fake.behaviour.peer(conn).requests) == "heartbeats"
