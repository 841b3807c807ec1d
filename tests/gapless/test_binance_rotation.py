"""Binance: the 24 h cut and serverShutdown cost nothing with 50 topics and live books."""

from __future__ import annotations

from typing import Any

import trio

from trio_venues import BinanceSpot, book_feed
from trio_venues._bookfeed import BookResynced, SnapshotRequested
from trio_venues.book import Side
from trio_venues.events import ConnectionClosed, DataGap, GapDetected, Message, Rotated
from trio_venues.gapless import gapless_feed
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.binance import FakeBinance, binance_stream_url
from trio_venues.venues.binance import binance_depth_snapshots

from ._helpers import Collected, binance_api, binance_connect, collect, start_binance

SYMBOLS = [f"C{i}USDT" for i in range(25)]
TRADES = [f"{s.lower()}@trade" for s in SYMBOLS]
DEPTHS = [f"{s.lower()}@depth@100ms" for s in SYMBOLS]
DAY = 86_400.0


async def push_round(server: FakeVenueServer[FakeBinance]) -> None:
    """One trade and one depth diff for every symbol."""
    for trade, depth in zip(TRADES, DEPTHS, strict=True):
        await server.push(trade)
        await server.push(depth)


async def push_for(server: FakeVenueServer[FakeBinance], seconds: float, every: float) -> None:
    """A round every ``every`` seconds for ``seconds``."""
    for _ in range(round(seconds / every)):
        await push_round(server)
        await trio.sleep(every)


def trade_ids(seen: Collected, topic: str) -> list[int]:
    return [e.data.trade_id for e in seen.of(Message) if e.topic == topic]


def same_book(server: FakeVenueServer[FakeBinance], books: Any, symbol: str) -> bool:
    market = server.behaviour.market(symbol)
    book = books.book(symbol)
    return (
        book is not None
        and list(book.side(Side.BID)) == market.bids
        and list(book.side(Side.ASK)) == market.asks
    )


async def run_cut(nursery: trio.Nursery, notice_at: float | None) -> tuple[Collected, Any]:
    """50 topics and 25 books across a rotation; a serverShutdown at ``notice_at`` if given."""
    # No keepalive pings: a virtual day of them would only slow the test down.
    server = await start_binance(nursery, ping_interval=None, pong_timeout=None)
    seen = Collected()
    async with (
        binance_api(server) as rest,
        gapless_feed(
            BinanceSpot,
            TRADES,
            urls=[binance_stream_url(server)],
            connect=binance_connect(server),
        ) as feed,
        book_feed(feed, binance_depth_snapshots(rest), SYMBOLS) as books,
    ):
        nursery.start_soon(collect, books, seen)
        await feed.wait_ready()
        await push_for(server, 3, 0.5)
        await seen.wait_for(lambda s: len(s.of(BookResynced)) == len(SYMBOLS))
        synced_at = len(seen.events)
        if notice_at is None:
            # The margin is 600 s: the replacement opens at 23 h 50 min.
            await trio.sleep(DAY - 615 - trio.current_time())
            await push_for(server, 30, 0.5)
        else:
            await trio.sleep(notice_at - trio.current_time())
            async with trio.open_nursery() as pushers:
                pushers.start_soon(push_for, server, 30, 0.5)
                await trio.sleep(10.2)
                await server.behaviour.notify_shutdown()
        await seen.wait_for(lambda s: bool(s.of(Rotated)))
        await push_round(server)
        await seen.wait_for(
            lambda s: (
                all(same_book(server, books, sym) for sym in SYMBOLS)
                and all(
                    trade_ids(s, t)[-1:]
                    == [server.behaviour.market(sym).recent_trades[-1].trade_id]
                    for t, sym in zip(TRADES, SYMBOLS, strict=True)
                )
            )
        )
        after = seen.events[synced_at:]
        assert not [e for e in after if isinstance(e, BookResynced | SnapshotRequested)]
        assert seen.of(DataGap) == []
        assert seen.of(GapDetected) == []
        for topic in TRADES:
            ids = trade_ids(seen, topic)
            assert ids == list(range(ids[0], ids[0] + len(ids)))
        assert [c.why for c in seen.of(ConnectionClosed)] == ["rotated"]
        return seen, feed


async def test_binance_24h_cut_is_gapless(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """The connection is replaced 10 min before Binance's 24 h cut: no gap, no resync."""
    seen, _ = await run_cut(nursery, None)
    (rotated,) = seen.of(Rotated)
    assert rotated.cause == "age"
    assert rotated.gaps == ()
    assert rotated.duplicates > 0
    assert DAY - 600 <= trio.current_time() < DAY


async def test_binance_server_shutdown_is_gapless(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """serverShutdown: the notified connection is replaced make-before-break, no gap."""
    seen, _ = await run_cut(nursery, 3600.0)
    (rotated,) = seen.of(Rotated)
    assert rotated.cause == "notice"
    assert rotated.gaps == ()
