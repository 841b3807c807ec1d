"""The pytest plugin's fake_okx fixtures, made from the registry."""

from __future__ import annotations

import trio

from trio_venues.events import Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import FakeOkx, fake_okx_url
from trio_venues.venues._registry import get_venue
from trio_venues.venues.okx import Okx, OkxBook, OkxBusiness, OkxPrivate, Trade


async def test_fake_okx_over_tcp(
    fake_okx: FakeVenueServer[FakeOkx], autojump_clock: trio.abc.Clock
) -> None:
    """fake_okx serves OKX on 127.0.0.1: subscribe, ack, typed data."""
    async with Okx.connect(fake_okx_url(fake_okx), ping_interval=None) as ws:
        await ws.subscribe_trades("BTC-USDT")
        await fake_okx.push("trades:BTC-USDT")
        async for event in ws.events:
            if isinstance(event, Message):
                assert isinstance(event.data, Trade)
                break


async def test_fake_okx_memory(
    fake_okx_memory: FakeVenueServer[FakeOkx], autojump_clock: trio.abc.Clock
) -> None:
    """fake_okx_memory serves in-memory connections."""
    url = get_venue("okx").fake.url(fake_okx_memory, ())  # type: ignore[union-attr]
    async with Okx.connect(
        url, transport=fake_okx_memory.memory_transport(), ping_interval=None
    ) as ws:
        assert await ws.subscribe_tickers("ETH-USDT") == ["tickers:ETH-USDT"]


def test_registry_entry() -> None:
    """OKX is registered with its three endpoints, topic grammar and book adapter."""
    entry = get_venue("okx")
    assert entry.clients == {"public": Okx, "business": OkxBusiness, "private": OkxPrivate}
    assert entry.book is OkxBook
    for topic in (*entry.topics.examples, "orders:SWAP:instFamily=BTC-USD", "account"):
        assert entry.topics.is_valid(topic)
    assert not entry.topics.is_valid("trades BTC")
