"""Print OKX trades of two instruments: connect, subscribe in one request, iterate.

Run it as a script::

    python examples/okx_trades.py                                  # a fake OKX in-process
    python examples/okx_trades.py wss://ws.okx.com:8443/ws/v5/public

With no URL the fake OKX listens on 127.0.0.1 and generates trades; nothing
leaves the machine.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues.events import Disconnected, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import fake_okx_server
from trio_venues.venues.okx import Okx, Trade


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: trades of any subscribed instrument every 50 ms."""
    return fake_okx_server(path="/ws/v5/public", auto_generate=0.05, generate_count=1000)


async def main(url: str | None = None, *, transport: Any = None, count: int = 10) -> list[Trade]:
    """Print ``count`` trades from ``url`` (a fake OKX on 127.0.0.1 when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    trades: list[Trade] = []
    async with Okx.connect(url, **options) as ws:
        # One request for both; returns once OKX acknowledged each argument.
        topics = await ws.subscribe_trades("BTC-USDT", "ETH-USDT")
        print(f"subscribed to {topics}")
        async for event in ws.events:
            match event:
                case Message(topic=topic, data=Trade() as trade):
                    print(f"{topic} #{trade.trade_id} {trade.side} {trade.size} @ {trade.price}")
                    trades.append(trade)
                    if len(trades) == count:
                        break
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")  # always the last event
    return trades


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
