"""A consolidated best bid and ask for BTC-USDT across venues, from unified book updates.

Run it as a script::

    python examples/consolidated_bbo.py          # fake Binance and OKX venues in-process

``unified_feeds`` keeps one order book per venue (``book_feed`` under each
venue's own ``retry_scope``) and merges their unified ``BookUpdate``s into one
stream. Each update carries its venue's exact best bid and ask; the
consolidated top of book is the highest bid and the lowest ask over every
venue, with the venue that quotes each. A venue that drops out is reported
(``VenueEvent``), and its quotes leave the consolidated book until it is back.

The fakes simulate their books independently, so their prices differ: the
consolidated book may be crossed, which on real venues would be an arbitrage.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import trio

from trio_venues.events import Connected, Disconnected
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_server
from trio_venues.testing.okx import fake_okx_server
from trio_venues.unified import BookUpdate, FeedSpec, VenueEvent, unified_feeds
from trio_venues.venues.binance import BinanceSpotApi, binance_depth_snapshots

SYMBOL = "BTC-USDT"


def fake_venue() -> FakeVenueServer[Any]:
    """A fake Binance moving its books every 50 ms (the OKX fake is started by ``main``)."""
    return binance_server(FakeBinance(clock=virtual_clock_ms()), auto_generate=0.05)


def _okx_fake() -> FakeVenueServer[Any]:
    return fake_okx_server(path="/ws/v5/public", auto_generate=0.05, generate_count=10_000)


class Consolidated:
    """The best bid and ask of each venue, and the best over all of them."""

    def __init__(self) -> None:
        self.bids: dict[str, Decimal] = {}
        self.asks: dict[str, Decimal] = {}

    def update(self, event: BookUpdate) -> None:
        """Take a venue's new top of book (a side without levels leaves the consolidation)."""
        for quotes, price in ((self.bids, event.bid_price), (self.asks, event.ask_price)):
            if price is None:
                quotes.pop(event.venue, None)
            else:
                quotes[event.venue] = price

    def drop(self, venue: str) -> None:
        """A venue went away: its quotes are stale."""
        self.bids.pop(venue, None)
        self.asks.pop(venue, None)

    def best(self) -> tuple[tuple[str, Decimal] | None, tuple[str, Decimal] | None]:
        """((venue, highest bid), (venue, lowest ask)), ``None`` for an empty side."""
        bid = max(self.bids.items(), key=lambda item: item[1], default=None)
        ask = min(self.asks.items(), key=lambda item: item[1], default=None)
        return bid, ask


def _feeds(
    binance_url: str, okx_url: str, binance_options: dict[str, Any], okx_options: dict[str, Any]
) -> list[FeedSpec]:
    api_url = binance_url.split("/stream")[0] + "/ws-api/v3"

    @asynccontextmanager
    async def binance_snapshots() -> AsyncIterator[Any]:
        # Binance books start from a snapshot fetched over its WebSocket API.
        async with BinanceSpotApi.connect(api_url, **binance_options) as api:
            yield binance_depth_snapshots(api)

    return [
        FeedSpec(
            venue="binance",
            books=["BTCUSDT"],
            book_snapshots=binance_snapshots,
            url=binance_url,
            options=binance_options,
            catalogue_url=api_url,
        ),
        FeedSpec(
            venue="okx",
            books=["BTC-USDT"],
            url=okx_url,
            options=okx_options,
            catalogue_url=okx_url,
        ),
    ]


async def main(
    url: str | None = None, *, transport: Any = None, count: int = 10
) -> list[tuple[str, str, str, str]]:
    """Print ``count`` consolidated tops of book: (bid venue, bid, ask venue, ask).

    ``url`` is the fake Binance's stream endpoint (``transport`` its in-memory
    transport, in tests); an OKX fake is started alongside. With no ``url``
    both fakes serve on 127.0.0.1.
    """
    async with trio.open_nursery() as nursery:
        okx = _okx_fake()
        if url is None:
            binance = fake_venue()
            await nursery.start(binance.serve_tcp)
            await nursery.start(okx.serve_tcp)
            url = binance.url
            okx_options: dict[str, Any] = {}
            binance_options: dict[str, Any] = {}
        else:
            await nursery.start(okx.run)
            okx_options = {"transport": okx.memory_transport()}
            binance_options = {} if transport is None else {"transport": transport}
        okx_url = okx.url
        result = await _consolidate(_feeds(url, okx_url, binance_options, okx_options), count=count)
        nursery.cancel_scope.cancel()
    return result


async def _consolidate(feeds: list[FeedSpec], *, count: int) -> list[tuple[str, str, str, str]]:
    book = Consolidated()
    tops: list[tuple[str, str, str, str]] = []
    async with unified_feeds(feeds) as stream:
        async for item in stream:
            if isinstance(item, VenueEvent):
                if isinstance(item.event, Disconnected):
                    book.drop(item.venue)
                    print(f"{item.venue}: disconnected, its quotes leave the book")
                elif isinstance(item.event, Connected):
                    print(f"{item.venue}: connected")
                continue
            if not isinstance(item, BookUpdate) or item.symbol != SYMBOL:
                continue
            book.update(item)
            bid, ask = book.best()
            if bid is None or ask is None:
                continue
            top = (bid[0], str(bid[1]), ask[0], str(ask[1]))
            print(f"{SYMBOL}: bid {top[1]} on {top[0]}, ask {top[3]} on {top[2]}")
            tops.append(top)
            if len(tops) == count:
                break
    return tops


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
