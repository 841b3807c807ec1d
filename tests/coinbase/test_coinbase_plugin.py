"""The pytest plugin's Coinbase fixtures come from the registry entry."""

from __future__ import annotations

from typing import Any

from trio_venues import Coinbase
from trio_venues.events import Message
from trio_venues.venues.coinbase import MarketTradesMessage


async def test_fake_coinbase_memory_fixture(fake_coinbase_memory: Any) -> None:
    """fake_coinbase_memory serves Coinbase in memory: subscribe, push, a typed trade."""
    fake = fake_coinbase_memory
    async with Coinbase.connect(fake.url, transport=fake.memory_transport()) as ws:
        await ws.subscribe_market_trades("BTC-USD")
        await fake.push("market_trades:BTC-USD")
        async for event in ws.events:
            if isinstance(event, Message):
                assert isinstance(event.data, MarketTradesMessage)
                break


async def test_fake_coinbase_tcp_fixture(fake_coinbase: Any) -> None:
    """fake_coinbase listens on 127.0.0.1: the client connects over TCP and subscribes."""
    async with Coinbase.connect(fake_coinbase.url) as ws:
        assert await ws.subscribe_ticker("ETH-USD") == ("ticker:ETH-USD",)
