"""Keep three Bybit order books in sync with ``book_feed`` and print the best prices.

Run it as a script::

    python examples/bybit_books.py            # against a fake Bybit started in-process
    python examples/bybit_books.py wss://stream.bybit.com/v5/public/linear

Bybit sends a snapshot after each subscribe, then deltas; a new snapshot
resets the book, and a jump in ``u`` resyncs that one symbol by resubscribing.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues import BookUpdate, book_feed
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.bybit import bybit_server
from trio_venues.venues.bybit import Bybit, BybitBook

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: book deltas of every subscribed topic every 20 ms."""
    return bybit_server("linear", auto_generate=0.02, generate_count=1000)


async def main(url: str | None = None, *, transport: Any = None, count: int = 15) -> list[Any]:
    """Print ``count`` book updates from ``url`` (a fake Bybit when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    updates: list[Any] = []
    books = BybitBook(depth=50)
    async with (
        Bybit.connect(url, endpoint="linear", **options) as ws,
        book_feed(ws, books, SYMBOLS) as feed,
    ):
        async for event in feed:
            if isinstance(event, BookUpdate):
                book = event.book
                print(
                    f"{event.symbol} u={event.update_id} seq={books.last_seq.get(event.symbol)} "
                    f"bid {book.best_bid} ask {book.best_ask}"
                )
                updates.append((event.symbol, event.update_id))
                if len(updates) == count:
                    break
    return updates


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
