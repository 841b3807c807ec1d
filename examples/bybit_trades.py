"""Print Bybit linear trades and whole tickers: several symbols in one subscribe.

Run it as a script::

    python examples/bybit_trades.py            # against a fake Bybit started in-process
    python examples/bybit_trades.py wss://stream.bybit.com/v5/public/linear

With no URL the fake Bybit listens on 127.0.0.1 and generates trades and
tickers; nothing leaves the machine. Linear tickers arrive whole: Bybit sends
deltas, the client merges them (``message.data.delta`` is what changed).
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues.events import Disconnected, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.bybit import bybit_server
from trio_venues.venues.bybit import Bybit, TickerMessage, TradeMessage


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: data of every subscribed topic every 50 ms."""
    return bybit_server("linear", auto_generate=0.05, generate_count=1000)


async def main(url: str | None = None, *, transport: Any = None, count: int = 10) -> list[Any]:
    """Print ``count`` trade and ticker messages from ``url`` (a fake Bybit when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    received: list[Any] = []
    async with Bybit.connect(url, endpoint="linear", **options) as ws:
        print("subscribed to", await ws.subscribe_trades("BTCUSDT", "ETHUSDT"))
        print("subscribed to", await ws.subscribe_tickers("BTCUSDT"))
        async for event in ws.events:
            match event:
                case Message(data=TradeMessage(trades=trades)):
                    for trade in trades:
                        print(f"{trade.symbol} {trade.side} {trade.size} @ {trade.price}")
                    received.append(event.data)
                case Message(data=TickerMessage(ticker=ticker)):
                    print(
                        f"{ticker.symbol} last {ticker.last_price} 24h volume {ticker.volume_24h}"
                    )
                    received.append(event.data)
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")  # always the last event
            if len(received) >= count:
                break
    return received


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
