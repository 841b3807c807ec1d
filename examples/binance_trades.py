"""Print Binance trades: connect, subscribe, iterate.

Run it as a script::

    python examples/binance_trades.py            # against a fake Binance started in-process
    python examples/binance_trades.py wss://stream.binance.com:9443/stream

With no URL the fake venue listens on 127.0.0.1 and generates trades; nothing
leaves the machine.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues import BinanceSpot
from trio_venues.events import Disconnected, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.binance import binance_server
from trio_venues.venues.binance import Trade


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: trades of any subscribed symbol every 50 ms."""
    return binance_server(auto_generate=0.05, generate_count=1000)


async def main(url: str | None = None, *, transport: Any = None, count: int = 10) -> list[Trade]:
    """Print ``count`` BTCUSDT trades from ``url`` (a fake Binance on 127.0.0.1 when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    trades: list[Trade] = []
    async with BinanceSpot.connect(url, **options) as ws:
        (topic,) = await ws.subscribe_trades("btcusdt")  # returns once Binance acknowledged
        print(f"subscribed to {topic}")
        async for event in ws.events:
            match event:
                case Message(data=Trade() as trade):
                    side = "sell" if trade.is_buyer_maker else "buy"
                    print(
                        f"{trade.symbol} #{trade.trade_id} {side} {trade.quantity} @ {trade.price}"
                    )
                    trades.append(trade)
                    if len(trades) == count:
                        break
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")  # always the last event
    return trades


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
