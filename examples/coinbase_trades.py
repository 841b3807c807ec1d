"""Print Coinbase trades: connect, subscribe several products, iterate.

Run it as a script::

    python examples/coinbase_trades.py                      # against a fake Coinbase in-process
    python examples/coinbase_trades.py wss://advanced-trade-ws.coinbase.com

With no URL the fake venue listens on 127.0.0.1 and generates trades; nothing
leaves the machine. The connection subscribes ``heartbeats`` by itself, so
Coinbase's 5-second rule and its idle close are taken care of.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues.events import Disconnected, GapDetected, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.coinbase import coinbase_server
from trio_venues.venues.coinbase import Coinbase, MarketTrade, MarketTradesMessage


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: trades of every subscribed product every 50 ms."""
    return coinbase_server(auto_generate=0.05, generate_count=1000)


async def main(
    url: str | None = None, *, transport: Any = None, count: int = 10
) -> list[MarketTrade]:
    """Print ``count`` BTC-USD/ETH-USD trades from ``url`` (a fake on 127.0.0.1 when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    trades: list[MarketTrade] = []
    async with Coinbase.connect(url, **options) as ws:
        # One subscribe message for the channel; returns once Coinbase's
        # (id-less, cumulative) ack lists both products.
        topics = await ws.subscribe_market_trades("BTC-USD", "ETH-USD")
        print(f"subscribed to {', '.join(topics)}")
        async for event in ws.events:
            match event:
                case Message(data=MarketTradesMessage() as message):
                    for batch in message.events:
                        for trade in batch.trades:
                            # Coinbase's `side` is the maker's; the taker did the opposite.
                            print(
                                f"{trade.product_id} #{trade.trade_id} taker "
                                f"{trade.taker_side.lower()} {trade.size} @ {trade.price}"
                            )
                            trades.append(trade)
                    if len(trades) >= count:
                        break
                case GapDetected(expected=expected, received=received):
                    print(f"sequence gap: expected {expected}, got {received}")
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")  # always the last event
    return trades


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
