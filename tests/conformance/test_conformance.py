"""Venue conformance: connect, subscribe, refusals, pings, close codes, reconnects, books."""

from __future__ import annotations

import random
from contextlib import AsyncExitStack
from typing import Any

import pytest
import trio
import trio.testing

from trio_venues import (
    BookResynced,
    BookUpdate,
    ConstantBackoff,
    RetryPolicy,
    book_feed,
    retry_scope,
)
from trio_venues.errors import SubscriptionError
from trio_venues.events import (
    Connected,
    DataGap,
    Disconnected,
    Event,
    GapDetected,
    Message,
    Resubscribed,
)
from trio_venues.reasons import RemoteClosed
from trio_venues.venues._registry import get_venue

from .conftest import FAKED, Venue

CLOSES = [
    pytest.param(name, code, expected, id=f"{name}-{code}")
    for name in FAKED
    for code, expected in sorted(get_venue(name).fake.close_codes.items())  # type: ignore[union-attr]
]


async def next_of(ws: Any, kind: type, *, limit: float = 10) -> Any:
    """The next event of type ``kind`` (other events skipped)."""
    with trio.fail_after(limit):
        async for event in ws.events:
            if isinstance(event, kind):
                return event
    raise AssertionError(f"the events ended before a {kind.__name__}")


async def test_connect(venue: Venue, autojump_clock: trio.testing.MockClock) -> None:
    """The client connects to its venue's fake; the first event is Connected."""
    async with venue.connect() as ws:
        conn = await venue.server.wait_connected()
        assert conn.is_open
        assert isinstance(await next_of(ws, Event), Connected)


async def test_subscribe_ack_and_data(venue: Venue, autojump_clock: trio.testing.MockClock) -> None:
    """subscribe() returns once acknowledged; the topic's data then arrives as Messages."""
    topic = venue.fake.data_topic
    async with venue.connect() as ws:
        await ws.subscribe(topic)
        assert topic in ws.subscriptions
        conn = await venue.server.wait_connected()
        await conn.wait_subscribed(topic)
        await venue.server.push(topic)
        message = await next_of(ws, Message)
        assert message.topic == topic


async def test_refused_topic(venue: Venue, autojump_clock: trio.testing.MockClock) -> None:
    """A topic the venue refuses raises SubscriptionError; the connection keeps working."""
    async with venue.connect() as ws:
        with pytest.raises(SubscriptionError):
            await ws.subscribe(venue.fake.refused_topic)
        assert venue.fake.refused_topic not in ws.subscriptions
        await ws.subscribe(venue.fake.data_topic)
        assert venue.fake.data_topic in ws.subscriptions


async def test_frame_pings(venue: Venue, autojump_clock: trio.testing.MockClock) -> None:
    """The client answers the venue's WebSocket pings with the same payload."""
    async with venue.connect():
        conn = await venue.server.wait_connected()
        await conn.ping(b"conformance")
        await conn.wait_until(lambda c: b"conformance" in c.pongs_received)


async def test_venue_pings(venue: Venue, autojump_clock: trio.testing.MockClock) -> None:
    """The client answers the venue's application-level pings (where the venue has them)."""
    if not venue.fake.venue_pings:
        pytest.skip(f"{venue.entry.title} has no application-level ping")
    async with venue.connect():
        conn = await venue.server.wait_connected()
        ts = await conn.venue_ping()
        with trio.fail_after(10):
            await conn.wait_venue_pong(ts)


@pytest.mark.parametrize(("name", "code", "retryable"), CLOSES)
async def test_close_code_reasons(
    name: str, code: int, retryable: bool, nursery: trio.Nursery
) -> None:
    """Every close code the venue uses ends as RemoteClosed(code) with the venue's retry call."""
    entry = get_venue(name)
    assert entry.fake is not None
    server = entry.fake.server()
    await nursery.start(server.run)
    venue = Venue(entry, server)
    async with venue.connect() as ws:
        conn = await server.wait_connected()
        await conn.close(code, "conformance")
        reason = (await next_of(ws, Disconnected)).reason
    assert isinstance(reason, RemoteClosed)
    assert (reason.code, reason.reason) == (code, "conformance")
    assert reason.retryable is retryable


async def test_reconnect_replays_and_reports_the_gap(
    venue: Venue, autojump_clock: trio.testing.MockClock
) -> None:
    """Under retry_scope a dropped connection comes back resubscribed, with a DataGap."""
    topic = venue.fake.data_topic
    policy = RetryPolicy(backoff=ConstantBackoff(0.5), rng=random.Random(1))
    async with retry_scope(venue.connect, policy=policy) as ws:
        await ws.subscribe(topic)
        first = await venue.server.wait_connected()
        await first.wait_subscribed(topic)
        await first.drop()
        resubscribed = await next_of(ws, Resubscribed)
        assert topic in resubscribed.topics
        gap = await next_of(ws, DataGap)
        assert topic in gap.topics
        assert gap.since <= gap.until
        second = await venue.server.wait_connected(2)
        await second.wait_subscribed(topic)
        await venue.server.push(topic)
        assert (await next_of(ws, Message)).topic == topic


async def test_forced_gap_is_reported(venue: Venue, autojump_clock: trio.testing.MockClock) -> None:
    """Where the venue numbers its messages, a forced gap becomes GapDetected for the topic."""
    if venue.fake.force_gap is None:
        pytest.skip(f"{venue.entry.title}'s messages carry no sequence to break")
    topic = venue.fake.data_topic
    async with venue.connect() as ws:
        await ws.subscribe(topic)
        await venue.server.push(topic)
        await next_of(ws, Message)
        venue.fake.force_gap(venue.server, topic)
        await venue.server.push(topic)
        gap = await next_of(ws, GapDetected)
        assert gap.topic == topic


async def test_book_sync_and_forced_gap(
    venue: Venue, autojump_clock: trio.testing.MockClock
) -> None:
    """book_feed syncs the venue's book, follows its diffs, and resyncs after a forced gap."""
    entry, fake = venue.entry, venue.fake
    if entry.book is None or fake.book_symbol is None or fake.force_book_gap is None:
        pytest.skip(f"{entry.title}'s fake serves no order books")
    symbol = fake.book_symbol
    adapter = entry.book()
    topic = adapter.topic(symbol)
    async with AsyncExitStack() as stack:
        ws = await stack.enter_async_context(venue.connect())
        snapshots = None
        if fake.book_snapshots is not None:
            snapshots = await stack.enter_async_context(fake.book_snapshots(venue.server))
        feed = await stack.enter_async_context(
            book_feed(ws, adapter, [symbol], snapshots=snapshots)
        )

        async def until(kind: type, **fields: Any) -> list[Event]:
            events: list[Event] = []
            with trio.fail_after(30):
                while True:
                    await venue.server.push(topic)
                    with trio.move_on_after(0.5):
                        async for event in feed:
                            events.append(event)
                            if isinstance(event, kind) and all(
                                getattr(event, k) == v for k, v in fields.items()
                            ):
                                return events

        await until(BookResynced, symbol=symbol)
        await until(BookUpdate, symbol=symbol)
        fake.force_book_gap(venue.server, symbol)
        events = await until(BookResynced, symbol=symbol)
        assert any(isinstance(e, GapDetected) and e.topic == topic for e in events)
        await until(BookUpdate, symbol=symbol)
        assert feed.book(symbol) is not None
