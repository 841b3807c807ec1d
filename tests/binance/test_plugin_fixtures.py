"""The pytest plugin's Binance fixtures, used the way a user's test would."""

from __future__ import annotations

from typing import Any

from trio_venues import BinanceSpot, BinanceSpotApi
from trio_venues.events import Message
from trio_venues.testing.binance import binance_api_url, binance_stream_url
from trio_venues.venues.binance import Trade


async def test_fake_binance_over_tcp(fake_binance: Any) -> None:
    """fake_binance listens on 127.0.0.1: a strategy connects by URL and gets typed trades."""
    url = binance_stream_url(fake_binance, "btcusdt@trade")
    async with BinanceSpot.connect(url, ping_interval=None) as ws:
        await fake_binance.wait_connected()
        await fake_binance.push("btcusdt@trade")
        async for event in ws.events:
            if isinstance(event, Message):
                assert isinstance(event.data, Trade)
                break
    assert url.startswith("ws://127.0.0.1:")


async def test_fake_binance_memory(fake_binance_memory: Any) -> None:
    """fake_binance_memory serves the WS API in memory."""
    fake = fake_binance_memory
    async with BinanceSpotApi.connect(
        binance_api_url(fake), transport=fake.memory_transport(), ping_interval=None
    ) as api:
        assert await api.server_time() > 0
