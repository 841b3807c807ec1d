"""Every fake numbers the data of an id topic the same on every connection, as its venue does."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import trio

from trio_venues.events import Message
from trio_venues.venues._registry import get_venue

# (venue, topic): the streams whose venue ids a multi-connection helper relies on.
ID_TOPICS = [
    ("binance", "btcusdt@trade"),
    ("binance", "btcusdt@aggTrade"),
    ("okx", "trades:BTC-USDT"),
    ("okx", "books:BTC-USDT"),
    ("bybit", "orderbook.50.BTCUSDT"),
    ("coinbase", "market_trades:BTC-USD"),
]

_PUSHES = 6


async def _spans(ws: Any, topic: str, ids: Any, count: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    async for event in ws.events:
        if isinstance(event, Message) and event.topic == topic:
            span = ids.span(event.data)
            if span is not None:
                spans.append(span)
            if len(spans) == count:
                break
    return spans


@pytest.mark.parametrize(("venue", "topic"), ID_TOPICS)
async def test_two_connections_see_the_same_ids(
    venue: str, topic: str, nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Two connections to a venue's fake: the same spans of ids, strictly increasing."""
    entry = get_venue(venue)
    fake = entry.fake
    assert fake is not None
    server = fake.server()
    await nursery.start(server.run)
    client = entry.clients[fake.endpoint]
    options: dict[str, Any] = {
        "transport": server.memory_transport(),
        "ping_interval": None,
        **fake.client_options,
    }
    url = fake.url(server, ())
    async with client.connect(url, **options) as one, client.connect(url, **options) as two:
        await one.subscribe(topic)
        await two.subscribe(topic)
        ids = one.core.topic_ids(topic)
        assert ids is not None
        assert two.core.topic_ids(topic) is ids
        for _ in range(_PUSHES):
            await server.push(topic)
        first = await _spans(one, topic, ids, _PUSHES)
        second = await _spans(two, topic, ids, _PUSHES)
    assert first == second
    assert all(lo <= hi for lo, hi in first)
    assert all(later[0] > earlier[1] for earlier, later in itertools.pairwise(first))
    server.stop()
