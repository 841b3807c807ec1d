"""Bybit books: the adapter's rules (pure) and book_feed against the fake Bybit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
import trio

from trio_venues import BookResynced, BookUpdate, SnapshotRequested, book_feed
from trio_venues.book import DepthDiff, DepthSnapshot, Step
from trio_venues.events import Message
from trio_venues.testing.bybit import bybit_server
from trio_venues.venues.bybit import BybitBook, BybitRules, OrderbookMessage, decode_message

from ._helpers import Fake, bybit

D = Decimal
SYMBOLS = ["AUSDT", "BUSDT", "CUSDT"]


def diff(u: int) -> DepthDiff:
    """A one-level delta with update id ``u``."""
    return DepthDiff("X", u, u, (("1", "1"),), ())


def test_rules_apply_the_next_u_drop_stale_and_flag_jumps() -> None:
    """u + 1 applies; u not advancing is stale; a jump is a gap."""
    rules = BybitRules()
    assert rules.classify(10, diff(11)) is Step.NEXT
    assert rules.classify(10, diff(10)) is Step.OLD
    assert rules.classify(10, diff(7)) is Step.OLD
    assert rules.classify(10, diff(13)) is Step.GAP


def test_adapter_parses_snapshots_and_deltas_and_keeps_seq() -> None:
    """A snapshot becomes a DepthSnapshot at u; a delta a diff u..u with cts; seq is kept."""
    adapter = BybitBook()
    assert adapter.snapshots == "stream"
    assert adapter.reset_on_snapshot
    assert adapter.topic("BTCUSDT") == "orderbook.50.BTCUSDT"
    assert adapter.topic("BTCUSDT", "200") == "orderbook.200.BTCUSDT"
    snapshot_text = (
        '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT",'
        '"b":[["16493.50","0.006"]],"a":[["16611.00","0.029"]],"u":18521288,"seq":7961638724},'
        '"cts":2}'
    )
    message = decode_message(snapshot_text, "linear")
    assert isinstance(message, OrderbookMessage)
    (snapshot,) = adapter.parse(Message(message.topic, message, 0.0))
    assert snapshot == DepthSnapshot(
        "BTCUSDT", 18521288, (("16493.50", "0.006"),), (("16611.00", "0.029"),)
    )
    assert adapter.last_seq == {"BTCUSDT": 7961638724}
    delta = decode_message(
        snapshot_text.replace("snapshot", "delta").replace("18521288", "18521289"), "linear"
    )
    (parsed,) = adapter.parse(Message(delta.topic, delta, 0.0))  # type: ignore[union-attr]
    assert isinstance(parsed, DepthDiff)
    assert (parsed.first_update_id, parsed.final_update_id, parsed.event_time) == (
        18521289,
        18521289,
        2,
    )
    assert adapter.parse(Message("x", "not a book", 0.0)) == ()
    with pytest.raises(ValueError, match="depth"):
        BybitBook(7)


# -- book_feed against the fake ------------------------------------------------------------


@pytest.fixture
async def fake(nursery: trio.Nursery) -> AsyncIterator[Fake]:
    """A fake Bybit linear endpoint in memory."""
    server = bybit_server("linear")
    await nursery.start(server.run)
    yield server
    server.stop()


async def _next(feed: Any, kind: type[Any], symbol: str | None = None) -> Any:
    async for event in feed:
        if isinstance(event, kind) and (symbol is None or event.symbol == symbol):
            return event
    raise AssertionError(f"no {kind.__name__}")  # pragma: no cover


async def _synced(feed: Any, fake: Fake) -> None:
    """Wait for the three first snapshots, then give each book one bid and one ask."""
    waiting = set(SYMBOLS)
    async for event in feed:
        if isinstance(event, BookResynced):
            waiting.discard(event.symbol)
            if not waiting:
                break
    for symbol in SYMBOLS:
        await fake.push(f"orderbook.50.{symbol}", {"b": [["100.0", "1"]], "a": [["101.0", "2"]]})
        update = await _next(feed, BookUpdate, symbol)
        assert update.book.best_bid == (D("100.0"), D("1"))


async def test_snapshot_mid_stream_resets_one_book_of_three(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A u == 1 snapshot for one symbol replaces that book only; the others carry on."""
    async with bybit(fake, "linear") as ws, book_feed(ws, BybitBook(), SYMBOLS) as feed:
        await _synced(feed, fake)
        peer = await fake.wait_connected()
        restart = {
            "topic": "orderbook.50.BUSDT",
            "type": "snapshot",
            "ts": 5,
            "data": {"s": "BUSDT", "b": [["90.0", "3"]], "a": [["95.0", "4"]], "u": 1, "seq": 1},
            "cts": 5,
        }
        await peer.send_text(orjson.dumps(restart).decode())
        reset = await _next(feed, BookResynced, "BUSDT")
        assert reset.last_update_id == 1
        assert reset.book.best_bid == (D("90.0"), D("3"))
        assert reset.book.best_ask == (D("95.0"), D("4"))
        fake.set_next_seq("orderbook.50.BUSDT", 2)
        await fake.push("orderbook.50.BUSDT", {"b": [["91.0", "1"]], "a": []})
        update = await _next(feed, BookUpdate, "BUSDT")
        assert update.update_id == 2
        assert update.book.best_bid == (D("91.0"), D("1"))
        await fake.push("orderbook.50.AUSDT", {"b": [["100.5", "1"]], "a": []})
        other = await _next(feed, BookUpdate, "AUSDT")
        assert other.book.best_bid == (D("100.5"), D("1"))
        assert other.book.best_ask == (D("101.0"), D("2"))
        assert feed.books["CUSDT"].book.best_bid == (D("100.0"), D("1"))


async def test_fake_restart_book_restarts_the_update_ids(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """The fake's restart_book: a u == 1 snapshot, then deltas from u == 2, no gap."""
    async with bybit(fake, "linear") as ws, book_feed(ws, BybitBook(), SYMBOLS) as feed:
        await _synced(feed, fake)
        for _ in range(3):
            await fake.push("orderbook.50.BUSDT", {"b": [], "a": [["102.0", "1"]]})
            await _next(feed, BookUpdate, "BUSDT")
        peer = await fake.wait_connected()
        await fake.behaviour.restart_book(peer, "orderbook.50.BUSDT")
        reset = await _next(feed, BookResynced, "BUSDT")
        assert reset.last_update_id == 1
        # The snapshot holds the fake's book as it is.
        assert reset.book.best_bid == (D("100.0"), D("1"))
        await fake.push("orderbook.50.BUSDT", {"b": [["100.0", "7"]], "a": []})
        update = await _next(feed, BookUpdate, "BUSDT")
        assert update.update_id == 2
        assert update.book.best_bid == (D("100.0"), D("7"))


async def test_fake_snapshot_after_resubscribing_counts_the_missed_deltas(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """Deltas pushed while nobody listens move the id: the next snapshot is at the current u."""
    async with bybit(fake, "linear") as ws:
        await ws.subscribe("orderbook.50.AUSDT")
        await fake.push("orderbook.50.AUSDT", {"b": [["100.0", "1"]], "a": []})
        await ws.unsubscribe("orderbook.50.AUSDT")
        for _ in range(4):
            await fake.push("orderbook.50.AUSDT", {"b": [["100.0", "2"]], "a": []})
        await ws.subscribe("orderbook.50.AUSDT")
        snapshot = await _resubscribed_snapshot(ws)
    assert snapshot.update_id == 5 == fake.last_seq("orderbook.50.AUSDT")


async def _resubscribed_snapshot(ws: Any) -> OrderbookMessage:
    """The first book snapshot after the one at u == 0."""
    async for event in ws.events:
        data = event.data if isinstance(event, Message) else None
        if isinstance(data, OrderbookMessage) and data.is_snapshot and data.update_id > 0:
            return data
    raise AssertionError("no snapshot")  # pragma: no cover


async def test_update_id_jump_resyncs_one_symbol(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A u that skips ahead resyncs that symbol by resubscribing; the others are untouched."""
    async with bybit(fake, "linear") as ws, book_feed(ws, BybitBook(), SYMBOLS) as feed:
        await _synced(feed, fake)
        peer = await fake.wait_connected()
        subscribes_before = sum(1 for f in peer.received_json() if f.get("op") == "subscribe")
        fake.inject_gap("orderbook.50.CUSDT", 3)
        await fake.push("orderbook.50.CUSDT", {"b": [["99.0", "5"]], "a": []})
        requested = await _next(feed, SnapshotRequested, "CUSDT")
        assert requested.reason == "gap"
        resynced = await _next(feed, BookResynced, "CUSDT")
        assert resynced.book.best_bid == (D("100.0"), D("1"))
        ops = [f.get("op") for f in peer.received_json()]
        assert ops.count("unsubscribe") == 1
        assert ops.count("subscribe") == subscribes_before + 1
        await fake.push("orderbook.50.CUSDT", {"b": [["100.0", "0"]], "a": []})
        update = await _next(feed, BookUpdate, "CUSDT")
        assert update.book.best_bid == (D("99.0"), D("5"))
        assert feed.books["AUSDT"].book.best_bid == (D("100.0"), D("1"))


async def test_level_one_snapshots_every_three_seconds_are_accepted(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """Level-1 books are re-sent as snapshots with the same u: each one resets, none is a gap."""
    async with bybit(fake, "linear") as ws, book_feed(ws, BybitBook(1), ["BTCUSDT"]) as feed:
        first = await _next(feed, BookResynced, "BTCUSDT")
        peer = await fake.wait_connected()
        level = {
            "topic": "orderbook.1.BTCUSDT",
            "type": "snapshot",
            "ts": 1,
            "data": {
                "s": "BTCUSDT",
                "b": [["100.5", "2"]],
                "a": [["100.6", "1"]],
                "u": 7,
                "seq": 9,
            },
            "cts": 1,
        }
        events: list[Any] = []
        for _ in range(3):
            await trio.sleep(3)
            await peer.send_text(orjson.dumps(level).decode())
            events.append(await _next(feed, BookResynced, "BTCUSDT"))
        assert first.last_update_id == 0
        assert [e.last_update_id for e in events] == [7, 7, 7]
        assert events[-1].book.best_bid == (D("100.5"), D("2"))
        stats = feed.books["BTCUSDT"].stats()
        assert (stats.resyncs, stats.gaps, stats.snapshots_requested) == (4, 0, 0)
