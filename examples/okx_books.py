"""Keep three OKX order books in sync with ``book_feed``, and print the best bid and ask.

Run it as a script::

    python examples/okx_books.py                                   # a fake OKX in-process
    python examples/okx_books.py wss://ws.okx.com:8443/ws/v5/public

OKX sends each book's snapshot in the stream after the subscribe, then
updates chained by ``seqId``/``prevSeqId``; a break resubscribes that one
instrument for a new snapshot, and a non-zero legacy checksum is verified.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues import BookUpdate, book_feed
from trio_venues.events import Disconnected
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import fake_okx_server
from trio_venues.venues.okx import Okx

INSTRUMENTS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]


def fake_venue() -> FakeVenueServer[Any]:
    """A fake OKX pushing book updates of every subscribed instrument every 20 ms."""
    return fake_okx_server(path="/ws/v5/public", auto_generate=0.02, generate_count=1000)


async def main(
    url: str | None = None, *, transport: Any = None, count: int = 12
) -> list[tuple[str, str, str]]:
    """Print ``count`` book updates as (instrument, best bid, best ask)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    tops: list[tuple[str, str, str]] = []
    async with (
        Okx.connect(url, **options) as ws,
        book_feed(ws, "okx", INSTRUMENTS) as feed,
    ):
        async for event in feed:
            if isinstance(event, Disconnected):
                print(f"disconnected: {event.reason!r}")
                break
            if not isinstance(event, BookUpdate):
                continue
            book = event.book
            top = (event.symbol, str(book.bids.best_price), str(book.asks.best_price))
            print(f"{top[0]}: {top[1]} / {top[2]}")
            tops.append(top)
            if len(tops) == count:
                break
    return tops


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
