"""Binance with copies=2 on two hosts: a copy reset mid-stream costs no trade and no gap."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import trio

from trio_venues import BinanceSpot
from trio_venues.events import (
    ConnectionDown,
    ConnectionOpened,
    ConnectionRetrying,
    ConnectionUp,
    DataGap,
    Message,
)
from trio_venues.gapless import gapless_feed

from ._helpers import Collected, collect, start_binance

SYMBOLS = [f"R{i}USDT" for i in range(10)]
TRADES = [f"{s.lower()}@trade" for s in SYMBOLS]
# Binance's two public market-data hosts; both reach the one fake in memory.
URLS = [
    "wss://stream.binance.com:9443/stream",
    "wss://data-stream.binance.vision/stream",
]


async def test_copy_reset_mid_stream_costs_nothing(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """copies=2: one copy RST mid-stream; each trade id once, in order; no DataGap."""
    server = await start_binance(nursery)

    def connect(url: str) -> AbstractAsyncContextManager[Any]:
        return BinanceSpot.connect(url, transport=server.memory_transport(), ping_interval=None)

    seen = Collected()
    async with gapless_feed(BinanceSpot, TRADES, copies=2, urls=URLS, connect=connect) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await seen.wait_for(lambda s: len(s.of(ConnectionOpened)) == 2)
        assert {o.url for o in seen.of(ConnectionOpened)} == set(URLS)
        await server.wait_until(lambda s: all(len(c.subscriptions) == 10 for c in s.active))
        hosts = {request.header("host") for request in server.requests}
        assert hosts == {"stream.binance.com:9443", "data-stream.binance.vision"}
        for round_ in range(120):
            for topic in TRADES:
                await server.push(topic)
            if round_ == 40:
                await server.active[0].reset(mid_message=True)
            await trio.sleep(0.1)
        last = {s: server.behaviour.market(s).recent_trades[-1].trade_id for s in SYMBOLS}

        def done(s: Collected) -> bool:
            return all(
                ids(s, t)[-1:] == [last[sym]] for t, sym in zip(TRADES, SYMBOLS, strict=True)
            )

        await seen.wait_for(done)
        for topic in TRADES:
            got = ids(seen, topic)
            assert got == list(range(got[0], got[0] + 120))
        assert seen.of(DataGap) == []
        (down,) = seen.of(ConnectionDown)
        assert sorted(down.covered) == sorted(TRADES)
        assert down.uncovered == ()
        assert seen.of(ConnectionRetrying)
        (up,) = seen.of(ConnectionUp)
        assert up.connection == down.connection
        assert feed.duplicates > 0
        assert len(feed.placement) == 2


def ids(seen: Collected, topic: str) -> list[int]:
    return [e.data.trade_id for e in seen.of(Message) if e.topic == topic]
