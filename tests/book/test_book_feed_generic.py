"""book_feed over the generic fake venue: in-stream snapshots, resets, checksums and
connection-wide sequences (the paths OKX, Bybit and Coinbase need)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

from trio_venues import BookFeed, BookResynced, BookUpdate, SnapshotRequested, book_feed
from trio_venues.book import SequenceScope
from trio_venues.errors import ConfigError
from trio_venues.events import Event, GapDetected
from trio_venues.testing import FakeVenueServer, GenericVenue
from trio_venues.venues.binance import BinanceBook
from trio_venues.venues.generic import GenericJson
from trio_venues.venues.generic._book import GenericBook

Server = FakeVenueServer[GenericVenue]


@asynccontextmanager
async def started(nursery: trio.Nursery, **options: Any) -> AsyncIterator[Server]:
    server: Server = FakeVenueServer(**options)
    await nursery.start(server.run)
    yield server


@asynccontextmanager
async def feed_over(
    server: Server, symbols: list[str], *, query: str = "", venue: Any = None
) -> AsyncIterator[BookFeed]:
    sequence: SequenceScope = "connection" if "sequence=connection" in query else "topic"
    async with (
        GenericJson.connect(server.url + query, transport=server.memory_transport()) as ws,
        book_feed(ws, venue or GenericBook(sequence=sequence), symbols) as feed,
    ):
        yield feed


def same_book(server: Server, feed: BookFeed, symbol: str) -> bool:
    """The feed's book of ``symbol`` equals the fake's simulated book."""
    market = server.behaviour.market(symbol)
    book = feed.book(symbol)
    return book is not None and list(book.bids) == market.bids and list(book.asks) == market.asks


async def read_until(feed: BookFeed, done: Any, *, limit: float = 5) -> list[Event]:
    """Events until ``done(events)`` holds (fails after ``limit`` virtual seconds)."""
    events: list[Event] = []
    with trio.fail_after(limit):
        async for event in feed:
            events.append(event)
            if done(events):
                return events
    raise AssertionError(f"the feed ended after {events}")


def count(events: list[Event], kind: type, **fields: Any) -> int:
    return sum(
        isinstance(e, kind) and all(getattr(e, k) == v for k, v in fields.items()) for e in events
    )


async def synced(server: Server, feed: BookFeed, symbols: list[str]) -> None:
    """Push diffs until every book is synced and equals its market, then drop queued events.

    The pump updates the books ahead of the events it queues for the consumer,
    so the events of the sync are dropped: a test then sees only what follows.
    """

    def equal() -> bool:
        return all(same_book(server, feed, s) for s in symbols)

    with trio.fail_after(30):
        while True:
            for symbol in symbols:
                await server.push(f"book.{symbol}")
            with trio.move_on_after(1):
                async for _ in feed:
                    if equal():
                        await trio.testing.wait_all_tasks_blocked()
                        while True:
                            try:
                                feed.events.receive_nowait()
                            except trio.WouldBlock:
                                return


async def test_in_stream_snapshot_syncs_without_a_fetch(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """The snapshot that follows the subscribe syncs the book; diffs then keep it equal."""
    async with started(nursery) as server, feed_over(server, ["BTC"]) as feed:
        events = await read_until(feed, lambda e: count(e, BookResynced) == 1)
        assert count(events, SnapshotRequested) == 0
        for _ in range(20):
            await server.push("book.BTC")
        updates = await read_until(feed, lambda e: count(e, BookUpdate) == 20)
        assert same_book(server, feed, "BTC")
        assert updates[-1].update_id == server.behaviour.market("BTC").update_id  # type: ignore[attr-defined]


async def test_a_gap_resubscribes_that_topic_only(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """An update-id gap resyncs the book by resubscribing its one topic; the other book stays."""
    async with started(nursery) as server, feed_over(server, ["BTC", "ETH"]) as feed:
        await synced(server, feed, ["BTC", "ETH"])
        conn = server.connection
        server.behaviour.market("ETH").inject_gap(4)
        await server.push("book.ETH")
        events = await read_until(feed, lambda e: count(e, BookResynced, symbol="ETH") == 1)
        assert count(events, GapDetected, topic="book.ETH") == 1
        assert count(events, SnapshotRequested, symbol="ETH", reason="gap") == 1
        assert count(events, BookResynced, symbol="BTC") == 0
        sent = [m for m in conn.received_json() if m.get("op") in ("subscribe", "unsubscribe")]
        assert [(m["op"], m["args"]) for m in sent[-2:]] == [
            ("unsubscribe", ["book.ETH"]),
            ("subscribe", ["book.ETH"]),
        ]
        await synced(server, feed, ["BTC", "ETH"])


async def test_a_snapshot_while_synced_resets_the_book(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A snapshot mid-stream replaces the book (reset_on_snapshot) without any request."""
    async with started(nursery) as server, feed_over(server, ["BTC"]) as feed:
        await synced(server, feed, ["BTC"])
        market = server.behaviour.market("BTC")
        for _ in range(5):
            market.step()  # the book moves without diffs: only a snapshot can catch up
        await server.push("book.BTC", server.behaviour.book_snapshot("BTC"))
        events = await read_until(feed, lambda e: count(e, BookResynced) == 1)
        assert count(events, SnapshotRequested) == count(events, GapDetected) == 0
        assert same_book(server, feed, "BTC")


async def test_without_reset_a_snapshot_while_synced_is_ignored(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """reset_on_snapshot=False: a mid-stream snapshot leaves the synced book alone."""
    adapter = GenericBook(reset_on_snapshot=False)
    async with started(nursery) as server, feed_over(server, ["BTC"], venue=adapter) as feed:
        await synced(server, feed, ["BTC"])
        await server.push("book.BTC", server.behaviour.book_snapshot("BTC"))
        await server.push("book.BTC")
        events = await read_until(feed, lambda e: isinstance(e[-1], BookUpdate))
        assert count(events, BookResynced) == 0
        assert feed.books["BTC"].stats().snapshots_ignored == 1


async def test_a_checksum_mismatch_resyncs_the_book(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A diff whose checksum does not match the book discards it and resubscribes."""
    async with started(nursery) as server, feed_over(server, ["BTC"]) as feed:
        await synced(server, feed, ["BTC"])
        server.behaviour.corrupt_checksum("BTC")
        await server.push("book.BTC")
        events = await read_until(feed, lambda e: count(e, BookResynced) == 1)
        gaps = [e for e in events if isinstance(e, GapDetected)]
        assert [(g.topic, g.expected) for g in gaps] == [("book.BTC", None)]
        assert feed.books["BTC"].stats().gaps == 1
        await synced(server, feed, ["BTC"])


async def test_a_venue_gap_detected_resyncs_its_topic(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A GapDetected from the venue's own sequence numbers resyncs that topic's book."""
    async with started(nursery) as server, feed_over(server, ["BTC", "ETH"]) as feed:
        await synced(server, feed, ["BTC", "ETH"])
        server.inject_gap("book.BTC", 2)
        await server.push("book.BTC")
        events = await read_until(feed, lambda e: count(e, BookResynced) == 1)
        assert [e.symbol for e in events if isinstance(e, BookResynced)] == ["BTC"]
        gap = next(e for e in events if isinstance(e, GapDetected))
        assert (gap.topic, gap.received - gap.expected) == ("book.BTC", 2)  # type: ignore[operator]
        await synced(server, feed, ["BTC", "ETH"])


async def test_a_connection_wide_gap_resyncs_every_book(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """With one sequence per connection, a gap on any topic resyncs every book."""
    async with (
        started(nursery, sequence="connection") as server,
        feed_over(server, ["BTC", "ETH"], query="?sequence=connection") as feed,
    ):
        await synced(server, feed, ["BTC", "ETH"])
        server.inject_gap("book.ETH", 3)
        await server.push("book.ETH")
        events = await read_until(feed, lambda e: count(e, BookResynced) == 2)
        assert {e.symbol for e in events if isinstance(e, BookResynced)} == {"BTC", "ETH"}
        assert count(events, GapDetected, topic="book.ETH") == 1
        await synced(server, feed, ["BTC", "ETH"])


async def test_the_venue_name_finds_its_adapter(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """book_feed(ws, "generic", ...) uses the generic venue's registered adapter."""
    async with started(nursery) as server, feed_over(server, ["BTC"], venue="generic") as feed:
        await synced(server, feed, ["BTC"])


async def test_book_feed_refuses_what_names_no_venue(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """No adapter, or a fetching adapter without snapshots=, is a ConfigError."""
    async with (
        started(nursery) as server,
        GenericJson.connect(server.url, transport=server.memory_transport()) as ws,
    ):
        with pytest.raises(ConfigError, match="pass snapshots="):
            async with book_feed(ws, BinanceBook(), ["BTCUSDT"]):
                pass
        with pytest.raises(ConfigError, match="needs the venue"):
            async with book_feed(ws, object(), ["BTC"]):  # type: ignore[arg-type]
                pass
        with pytest.raises(ConfigError, match="unknown venue 'nowhere'"):
            async with book_feed(ws, "nowhere", ["BTC"]):
                pass
