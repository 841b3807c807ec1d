"""A local order book kept by BookSync from the fake's depth stream and depth snapshots."""

from __future__ import annotations

from typing import Any

import trio

from trio_venues.book import (
    BookAction,
    BookSync,
    BookUpdated,
    DepthDiff,
    DepthSnapshot,
    Gap,
    RequestSnapshot,
    Resynced,
    Side,
)
from trio_venues.venues.binance import DepthUpdate

from ._helpers import Fake, api, messages, spot

TOPIC = "btcusdt@depth@100ms"


async def _feed(fake: Fake, ws: Any, rest: Any, sync: BookSync, count: int) -> list[BookAction]:
    """Push ``count`` diffs through the stream into ``sync``, fetching snapshots when asked."""
    actions: list[BookAction] = []
    for _ in range(count):
        await fake.push(TOPIC)
        (message,) = await messages(ws, 1)
        update = message.data
        assert isinstance(update, DepthUpdate)
        diff = DepthDiff(
            update.symbol,
            update.first_update_id,
            update.final_update_id,
            update.bids,
            update.asks,
            update.event_time,
        )
        pending = sync.on_diff(diff)
        while pending:
            action = pending.pop(0)
            actions.append(action)
            if isinstance(action, RequestSnapshot):
                snap = await rest.depth(action.symbol, limit=1000)
                snapshot = DepthSnapshot(action.symbol, snap.last_update_id, snap.bids, snap.asks)
                pending.extend(sync.on_snapshot(snapshot))
    return actions


def _same_book(fake: Fake, sync: BookSync) -> bool:
    market = fake.behaviour.market("BTCUSDT")
    return (
        list(sync.book.side(Side.BID)) == market.bids
        and list(sync.book.side(Side.ASK)) == market.asks
    )


async def test_book_follows_the_simulator_through_every_fault(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Snapshot + diffs rebuild the fake's book exactly; gaps, duplicates, stale snapshots
    and crossed updates are each detected and resynced."""
    sync = BookSync("BTCUSDT")
    market = fake.behaviour.market("BTCUSDT")
    async with spot(fake, kind, TOPIC) as ws, api(fake, kind) as rest:
        first = await _feed(fake, ws, rest, sync, 1)
        assert [type(a) for a in first] == [RequestSnapshot, Resynced]
        live = await _feed(fake, ws, rest, sync, 10)
        assert all(isinstance(a, BookUpdated) for a in live)
        assert len(live) == 10
        assert _same_book(fake, sync)
        assert sync.last_update_id == market.update_id

        market.inject_duplicate()
        assert await _feed(fake, ws, rest, sync, 1) == []
        assert _same_book(fake, sync)

        before = sync.last_update_id
        assert before is not None
        market.inject_gap(3)
        gap = await _feed(fake, ws, rest, sync, 1)
        assert gap[0] == Gap("BTCUSDT", before + 1, before + 4, "sequence")
        assert [type(a) for a in gap[1:]] == [RequestSnapshot, Resynced]
        assert _same_book(fake, sync)

        market.inject_crossed()
        crossed = await _feed(fake, ws, rest, sync, 1)
        assert isinstance(crossed[0], Gap)
        assert crossed[0].reason == "crossed"
        assert isinstance(crossed[-1], Resynced)
        assert _same_book(fake, sync)

        market.inject_gap()
        market.inject_stale_snapshot()
        stale = await _feed(fake, ws, rest, sync, 1)
        requests = [a.reason for a in stale if isinstance(a, RequestSnapshot)]
        assert requests[-1] == "stale"
        assert isinstance(stale[-1], Resynced)
        assert _same_book(fake, sync)
        assert not sync.book.is_crossed
        assert await _feed(fake, ws, rest, sync, 5) != []
        assert _same_book(fake, sync)
