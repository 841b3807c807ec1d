"""Testing your own strategy with pytest-trio against the fake Binance venue.

Installing trio_venues gives pytest the ``fake_binance_memory`` fixture (and
``fake_binance``, ``fake_venue``, ``fault_proxy``, ``tls_certs``). Run with
``pytest examples/pytest_strategy`` (pytest-trio, ``trio_mode = true``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import trio

from trio_venues import BinanceSpot, Connection
from trio_venues.events import Disconnected, Message
from trio_venues.reasons import RemoteClosed
from trio_venues.testing.binance import binance_stream_url
from trio_venues.venues.binance import Trade

# -- the strategy under test (your code) -------------------------------------------------


async def volume_weighted_price(ws: Connection, symbol: str, trades: int) -> Decimal | None:
    """The VWAP of the next ``trades`` trades of ``symbol``; ``None`` if the feed ends first."""
    await ws.subscribe(f"{symbol.lower()}@trade")
    notional, volume, seen = Decimal(0), Decimal(0), 0
    async for event in ws.events:
        match event:
            case Message(data=Trade(price=price, quantity=quantity)):
                notional += price * quantity
                volume += quantity
                seen += 1
                if seen == trades:
                    return notional / volume
            case Disconnected():
                return None
    return None


# -- its tests ----------------------------------------------------------------------------


def trade(trade_id: int, price: str, quantity: str) -> Trade:
    return Trade("BTCUSDT", trade_id, Decimal(price), Decimal(quantity), 0, 0, False)


async def test_vwap_of_scripted_trades(
    fake_binance_memory: Any, autojump_clock: trio.abc.Clock
) -> None:
    """Three scripted trades give their exact volume-weighted price."""
    fake = fake_binance_memory
    url = binance_stream_url(fake)

    async def feed() -> None:
        peer = await fake.wait_connected()
        await peer.wait_subscribed("btcusdt@trade")
        for i, (price, qty) in enumerate([("100", "1"), ("110", "3"), ("90", "1")]):
            await fake.push("btcusdt@trade", trade(i, price, qty))

    async with (
        BinanceSpot.connect(url, transport=fake.memory_transport()) as ws,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(feed)
        result = await volume_weighted_price(ws, "BTCUSDT", 3)
    assert result == Decimal("104")


async def test_vwap_when_the_venue_goes_away(
    fake_binance_memory: Any, autojump_clock: trio.abc.Clock
) -> None:
    """If Binance closes the connection mid-way, the strategy reports no price."""
    fake = fake_binance_memory
    async with (
        BinanceSpot.connect(binance_stream_url(fake), transport=fake.memory_transport()) as ws,
        trio.open_nursery() as nursery,
    ):

        async def fail() -> None:
            peer = await fake.wait_connected()
            await peer.wait_subscribed("btcusdt@trade")
            await fake.push("btcusdt@trade", trade(1, "100", "1"))
            await peer.close(1001, "going away")

        nursery.start_soon(fail)
        assert await volume_weighted_price(ws, "BTCUSDT", 5) is None
    assert ws.reason == RemoteClosed(1001, "going away")
