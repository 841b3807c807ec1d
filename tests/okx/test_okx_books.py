"""book_feed over the fake OKX: in-stream snapshots, a skipped seqId, a wrong checksum."""

from __future__ import annotations

from collections import Counter

import trio

from trio_venues import BookFeed, BookResynced, BookUpdate, book_feed
from trio_venues.events import Event, GapDetected

from ._helpers import Fake, okx

INSTRUMENTS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]


async def _push_all(fake: Fake, rounds: int) -> None:
    for _ in range(rounds):
        for inst in INSTRUMENTS:
            await fake.push(f"books:{inst}")


async def _updates(feed: BookFeed, per_symbol: int) -> list[Event]:
    """Events until every instrument had ``per_symbol`` BookUpdates."""
    events: list[Event] = []
    counts: Counter[str] = Counter()
    async for event in feed:
        events.append(event)
        if isinstance(event, BookUpdate):
            counts[event.symbol] += 1
            if all(counts[inst] >= per_symbol for inst in INSTRUMENTS):
                break
    return events


async def test_three_books_sync_from_in_stream_snapshots(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """Each book syncs from its subscribe's snapshot and then follows the updates."""
    async with okx(fake) as ws, book_feed(ws, "okx", INSTRUMENTS) as feed:
        await _push_all(fake, 2)
        events = await _updates(feed, 2)
        resynced = {e.symbol for e in events if isinstance(e, BookResynced)}
        updates = Counter(e.symbol for e in events if isinstance(e, BookUpdate))
        assert resynced == set(INSTRUMENTS)
        assert updates == {inst: 2 for inst in INSTRUMENTS}
        assert not any(isinstance(e, GapDetected) for e in events)
        last = next(e for e in reversed(events) if isinstance(e, BookUpdate))
        assert last.book.bids.best_price is not None
        assert last.book.asks.best_price is not None


async def test_skipped_seq_id_resyncs_one_book_of_three(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A skipped seqId on one instrument resubscribes that one only; the others go on."""
    async with okx(fake) as ws, book_feed(ws, "okx", INSTRUMENTS) as feed:
        peer = await fake.wait_connected()
        await _push_all(fake, 1)
        await _updates(feed, 1)
        sent_before = len(peer.received_json())
        fake.inject_gap("books:ETH-USDT")
        await _push_all(fake, 1)
        events: list[Event] = []
        async for event in feed:
            events.append(event)
            if isinstance(event, BookResynced) and event.symbol == "ETH-USDT":
                break
        gaps = [e for e in events if isinstance(e, GapDetected)]
        assert gaps
        assert {g.topic for g in gaps} == {"books:ETH-USDT"}
        requests = [m for m in peer.received_json()[sent_before:] if isinstance(m, dict)]
        assert [(r["op"], r["args"]) for r in requests] == [
            ("unsubscribe", [{"channel": "books", "instId": "ETH-USDT"}]),
            ("subscribe", [{"channel": "books", "instId": "ETH-USDT"}]),
        ]
        updated = {e.symbol for e in events if isinstance(e, BookUpdate)}
        assert {"BTC-USDT", "SOL-USDT"} <= updated
        # After the resync the book follows updates again.
        await fake.push("books:ETH-USDT")
        async for event in feed:
            if isinstance(event, BookUpdate) and event.symbol == "ETH-USDT":
                break


async def test_wrong_checksum_resyncs_that_book(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """With legacy checksums on, a wrong one resyncs that book; right ones keep it synced."""
    fake.behaviour.checksums = True
    async with okx(fake) as ws, book_feed(ws, "okx", INSTRUMENTS) as feed:
        await _push_all(fake, 2)
        first = await _updates(feed, 2)
        assert not any(isinstance(e, GapDetected) for e in first)
        fake.behaviour.corrupt_checksum("books:SOL-USDT")
        await fake.push("books:SOL-USDT")
        events: list[Event] = []
        async for event in feed:
            events.append(event)
            if isinstance(event, BookResynced) and event.symbol == "SOL-USDT":
                break
        gaps = [e for e in events if isinstance(e, GapDetected)]
        assert [g.topic for g in gaps] == ["books:SOL-USDT"]
