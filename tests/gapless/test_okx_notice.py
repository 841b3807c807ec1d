"""OKX 64008: the notified connection is replaced before OKX closes it; books carry on."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import trio

from trio_venues import book_feed
from trio_venues._bookfeed import BookResynced, SnapshotRequested
from trio_venues.events import ConnectionClosed, DataGap, GapDetected, Message, Rotated
from trio_venues.gapless import gapless_feed
from trio_venues.testing.okx import fake_okx_server
from trio_venues.venues.okx import ENDPOINT_PATHS, Okx

from ._helpers import Collected, collect

INSTRUMENTS = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "BTC-USDT-SWAP"]
TRADES = [f"trades:{i}" for i in INSTRUMENTS]
BOOKS = [f"books:{i}" for i in INSTRUMENTS]
URL = f"wss://ws.okx.com:8443{ENDPOINT_PATHS['public']}"


async def test_okx_64008_is_gapless(autojump_clock: trio.abc.Clock, nursery: trio.Nursery) -> None:
    """64008 with live trades and books: make-before-break, no gap, no book resync."""
    server = fake_okx_server()
    await nursery.start(server.run)

    def connect(url: str) -> AbstractAsyncContextManager[Any]:
        return Okx.connect(
            url,
            endpoint="public",
            transport=server.memory_transport(),
            ping_interval=None,
            shutdown_notice="event",
        )

    async def push_for(rounds: int) -> None:
        for _ in range(rounds):
            for topic in (*TRADES, *BOOKS):
                await server.push(topic)
            await trio.sleep(0.25)

    seen = Collected()
    async with (
        gapless_feed(Okx, TRADES, urls=[URL], connect=connect) as feed,
        book_feed(feed, "okx", INSTRUMENTS) as books,
    ):
        nursery.start_soon(collect, books, seen)
        await feed.wait_ready()
        await push_for(4)
        await seen.wait_for(lambda s: len(s.of(BookResynced)) == len(INSTRUMENTS))
        synced_at = len(seen.events)
        async with trio.open_nursery() as pushers:
            pushers.start_soon(push_for, 120)
            await trio.sleep(5.1)
            (old,) = server.active
            # OKX closes about 60 s after the notice; the feed must be gone from it by then.
            await server.behaviour.send_notice(old, close_after=60)
        await seen.wait_for(
            lambda s: (
                bool(s.of(Rotated))
                and all(trade_ids(s, t)[-1:] == [server.last_seq(t)] for t in TRADES)
            )
        )
        (rotated,) = seen.of(Rotated)
        assert rotated.cause == "notice"
        assert rotated.gaps == ()
        assert rotated.duplicates > 0
        assert old.end_reason == "client-close"
        after = seen.events[synced_at:]
        assert not [e for e in after if isinstance(e, BookResynced | SnapshotRequested)]
        assert seen.of(DataGap) == []
        assert seen.of(GapDetected) == []
        for topic in TRADES:
            assert trade_ids(seen, topic) == list(range(1, server.last_seq(topic) + 1))
        assert [c.why for c in seen.of(ConnectionClosed)] == ["rotated"]


def trade_ids(seen: Collected, topic: str) -> list[int]:
    return [
        int(trade.trade_id)
        for e in seen.of(Message)
        if e.topic == topic
        for trade in (e.data.data if hasattr(e.data, "data") else [e.data])
    ]
