"""Keep Coinbase order books in sync and print the best bid and ask.

Run it as a script::

    python examples/coinbase_book.py                        # against a fake Coinbase in-process
    python examples/coinbase_book.py wss://advanced-trade-ws.coinbase.com

``book_feed(ws, "coinbase", products)`` subscribes ``level2``, loads the
snapshot Coinbase sends in the stream and applies the updates (absolute sizes,
"0" deletes). When the connection's ``sequence_num`` jumps, every book on the
connection is resynced by subscribing again.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues import BookResynced, BookUpdate, book_feed
from trio_venues.events import Disconnected, GapDetected
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.coinbase import coinbase_server
from trio_venues.venues.coinbase import Coinbase

PRODUCTS = ["BTC-USD", "ETH-USD"]


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: book updates of every product every 50 ms."""
    return coinbase_server(auto_generate=0.05, generate_count=1000)


async def main(url: str | None = None, *, transport: Any = None, count: int = 10) -> list[str]:
    """Print ``count`` top-of-book lines from ``url`` (a fake on 127.0.0.1 when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    lines: list[str] = []
    async with Coinbase.connect(url, **options) as ws, book_feed(ws, "coinbase", PRODUCTS) as feed:
        async for event in feed:
            match event:
                case BookResynced(symbol=symbol):
                    print(f"{symbol}: book loaded from the snapshot")
                case BookUpdate(symbol=symbol, book=book):
                    line = f"{symbol} bid {book.best_bid} ask {book.best_ask}"
                    print(line)
                    lines.append(line)
                    if len(lines) == count:
                        break
                case GapDetected():
                    print("sequence gap: resyncing every book")
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")
    return lines


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
