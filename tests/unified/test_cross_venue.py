"""Every venue with a unified form, driven the same way: the same values arrive as equal events.

Parametrised over the registry: a venue joins when its ``VenueEntry.unified``
has a catalogue loader and its fake can send a simulated event
(``UnifiedSupport.fake_message``). Each fake serves on 127.0.0.1 (catalogues
may come over HTTP), and the clock is real: nothing here waits on time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_venues import book_feed, unified
from trio_venues.testing import FakeVenueServer
from trio_venues.unified import (
    BestBidAsk,
    BookDepth,
    BookUpdate,
    Candle,
    Catalogue,
    Instrument,
    Ticker,
    Trade,
    UnifiedAdapter,
    UnifiedEvent,
    UnknownSymbol,
    parse_symbol,
)
from trio_venues.venues._registry import VenueEntry, get_venue, venue_names

D = Decimal

#: Every registered venue with a unified form and a fake.
UNIFIED = [
    name
    for name in venue_names()
    if get_venue(name).unified is not None and get_venue(name).fake is not None
]
#: ... whose fake can send the simulated events.
SIMULATED = [name for name in UNIFIED if get_venue(name).unified.fake_message is not None]  # type: ignore[union-attr]

_EXCHANGE_MS = 1_700_000_123_456
_MINUTE_MS = _EXCHANGE_MS - _EXCHANGE_MS % 60_000
_NS = 1_000_000


def simulated(kind: str, symbol: str) -> UnifiedEvent:
    """The simulated event of ``kind`` every fake sends (venue fields left blank)."""
    if kind == "trade":
        return Trade(
            "", symbol, "", "buy", D("65000.5"), D("0.125"), "123456", _EXCHANGE_MS * _NS, 0.0
        )
    if kind == "bbo":
        return BestBidAsk(
            "",
            symbol,
            "",
            D("65000.1"),
            D("1.5"),
            D("65000.2"),
            D("0.75"),
            "987654",
            _EXCHANGE_MS * _NS,
            0.0,
        )
    if kind == "ticker":
        return Ticker(
            "",
            symbol,
            "",
            D("65000.5"),
            D("65000.1"),
            D("65000.2"),
            D("64000"),
            D("66000"),
            D("63000.5"),
            D("1234.5"),
            D("80000000.25"),
            _EXCHANGE_MS * _NS,
            0.0,
        )
    return Candle(
        "",
        symbol,
        "",
        "1m",
        _MINUTE_MS * _NS,
        D("64990"),
        D("65010.5"),
        D("64980.25"),
        D("65000.5"),
        D("12.5"),
        False,
        _MINUTE_MS * _NS,  # a candle's time is its open time (OKX sends no other)
        0.0,
    )


KINDS = ("trade", "bbo", "ticker", "candle")
#: fields that say where an event came from, not what happened
VENUE_FIELDS = frozenset({"venue", "venue_symbol", "received_at"})


def differences(expected: UnifiedEvent, got: UnifiedEvent) -> dict[str, tuple[Any, Any]]:
    """Fields whose values differ, apart from venue fields and fields the venue does not send."""
    if type(expected) is not type(got):
        return {"type": (type(expected).__name__, type(got).__name__)}
    out = {}
    for name in expected.__struct_fields__:
        if name in VENUE_FIELDS:
            continue
        want, have = getattr(expected, name), getattr(got, name)
        if have is None:
            continue  # the venue does not send it (only optional fields can be None)
        if want != have:
            out[name] = (want, have)
    return out


class Served:
    """A venue's fake serving on 127.0.0.1, and its catalogue."""

    def __init__(self, entry: VenueEntry, server: FakeVenueServer[Any], catalogue: Catalogue):
        self.entry = entry
        self.server = server
        self.catalogue = catalogue

    def spot(self) -> Instrument:
        """The fake's BTC spot instrument (BTC-USDT where listed)."""
        spots = [i for i in self.catalogue if i.kind == "spot" and i.base == "BTC"]
        assert spots, f"{self.entry.name}'s fake lists no BTC spot instrument"
        preferred = [i for i in spots if i.quote == "USDT"]
        return (preferred or spots)[0]


@pytest.fixture(params=UNIFIED)
async def served(request: pytest.FixtureRequest, nursery: trio.Nursery) -> AsyncIterator[Served]:
    """A unified venue's fake on loopback TCP with its catalogue loaded the venue's way."""
    entry = get_venue(request.param)
    assert entry.fake is not None
    assert entry.unified is not None
    assert entry.unified.fake_catalogue_url is not None
    server = entry.fake.server()
    await nursery.start(server.serve_tcp)
    with trio.fail_after(30):
        catalogue = await entry.unified.load_catalogue(entry.unified.fake_catalogue_url(server))
    yield Served(entry, server, catalogue)
    server.stop()


async def _receive(served: Served, kind: str) -> tuple[UnifiedEvent, UnifiedEvent] | None:
    """Push the simulated ``kind`` through the fake; the expected and the unified event."""
    entry, server = served.entry, served.server
    support = entry.unified
    assert support is not None
    assert support.fake_message is not None
    assert entry.fake is not None
    inst = served.spot()
    expected = msgspec.structs.replace(
        simulated(kind, inst.symbol), venue=entry.name, venue_symbol=inst.venue_symbol
    )
    pushed = support.fake_message(server, expected)
    if pushed is None:
        return None
    url = pushed.url if pushed.url is not None else entry.fake.url(server, ())
    client = entry.client(pushed.endpoint or entry.fake.endpoint)
    adapter = await UnifiedAdapter.for_venue(entry.name, url, catalogue=served.catalogue)
    options = {"ping_interval": None, **entry.fake.client_options}
    with trio.fail_after(30):
        async with client.connect(url, **options) as ws:
            await ws.subscribe(pushed.topic)
            await server.push(pushed.topic, pushed.data)
            async for item in adapter.stream(ws):
                if type(item) is type(expected):
                    return expected, item
    raise AssertionError(f"{entry.name}: the connection ended before the {kind} arrived")


@pytest.mark.parametrize("kind", KINDS)
async def test_the_same_simulated_event_arrives_equal_on_every_venue(
    served: Served, kind: str
) -> None:
    """Each fake sends the same trade, bbo, ticker and candle; each arrives unified, equal."""
    if served.entry.name not in SIMULATED:
        pytest.fail(
            f"{served.entry.name} has a unified form but no UnifiedSupport.fake_message: "
            "give its registry entry one (see trio_venues.unified.UnifiedSupport) so its fake "
            "can send the simulated events every venue is checked with"
        )
    got = await _receive(served, kind)
    if got is None:
        pytest.skip(f"{served.entry.name} has no {kind} in unified form")
    expected, item = got
    assert differences(expected, item) == {}
    assert (item.venue, item.venue_symbol) == (expected.venue, expected.venue_symbol)


async def test_every_catalogue_entry_maps_both_ways(served: Served) -> None:
    """Every instrument of the fake's catalogue round-trips venue <-> canonical symbol."""
    catalogue = served.catalogue
    instruments = list(catalogue)
    assert instruments

    @settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(instruments))
    def round_trip(inst: Instrument) -> None:
        assert inst.venue == served.entry.name
        # Bybit spells its spot pair and linear perpetual alike: the market says which.
        assert catalogue.canonical(inst.venue_symbol, inst.market) == inst.symbol
        assert catalogue.venue_symbol(inst.symbol) == inst.venue_symbol
        parts = parse_symbol(inst.symbol)
        assert (parts.base, parts.quote, parts.kind) == (inst.base, inst.quote, inst.kind)

    round_trip()
    for inst in instruments:  # and every one of them, not only the sampled ones
        assert catalogue.by_symbol(catalogue.canonical(inst.venue_symbol, inst.market)) is inst


async def test_symbols_outside_the_catalogue_are_refused(served: Served) -> None:
    """Made-up symbols, canonical or the venue's, raise UnknownSymbol naming the venue."""
    catalogue = served.catalogue

    @settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789", min_size=1, max_size=12))
    def refused(text: str) -> None:
        if text not in catalogue:
            with pytest.raises(UnknownSymbol, match=served.entry.name):
                catalogue.canonical(text)
        if all(i.symbol != text for i in catalogue):
            with pytest.raises(UnknownSymbol, match=served.entry.name):
                catalogue.venue_symbol(text)

    refused()


async def test_books_arrive_as_unified_book_updates_on_every_venue(served: Served) -> None:
    """book_feed through the adapter: each BookUpdate holds the venue's live book, canonically."""
    entry, server = served.entry, served.server
    fake = entry.fake
    assert fake is not None
    if entry.book is None or fake.book_symbol is None:
        pytest.skip(f"{entry.title}'s fake serves no order books")
    symbol = fake.book_symbol
    topic = entry.book().topic(symbol)
    url = fake.url(server, ())
    adapter = await UnifiedAdapter.for_venue(
        entry.name, url, catalogue=served.catalogue, endpoint=fake.endpoint
    )
    options = {"ping_interval": None, **fake.client_options}
    updates: list[BookUpdate] = []
    with trio.fail_after(60):
        async with AsyncExitStack() as stack:
            ws = await stack.enter_async_context(
                entry.client(fake.endpoint).connect(url, **options)
            )
            snapshots = None
            if fake.book_snapshots is not None:
                snapshots = await stack.enter_async_context(fake.book_snapshots(server))
            feed = await stack.enter_async_context(
                book_feed(ws, entry.name, [symbol], snapshots=snapshots)
            )
            while len(updates) < 3:
                await server.push(topic)
                with trio.move_on_after(0.5):
                    async for item in adapter.stream(feed):
                        if not isinstance(item, BookUpdate):
                            continue
                        book = feed.book(symbol)
                        assert book is not None
                        # an empty side (Bybit's fake book starts with one bid) is None, None
                        assert (item.bid_price, item.bid_quantity) == (
                            book.best_bid or (None, None)
                        )
                        assert (item.ask_price, item.ask_quantity) == (
                            book.best_ask or (None, None)
                        )
                        assert item.depth == BookDepth(book)
                        assert item.update_id == book.last_update_id
                        updates.append(item)
                        break
    # The instrument the book's symbol names on this endpoint (Bybit spells spot
    # and linear alike: its catalogue names the market).
    named = [
        i.symbol
        for i in served.catalogue
        if i.venue_symbol == symbol and getattr(i, "market", None) in (None, fake.endpoint)
    ]
    for item in updates:
        assert (item.venue, item.venue_symbol) == (entry.name, symbol)
        assert [item.symbol] == named
        assert parse_symbol(item.symbol).kind == "spot"
        back = unified.decode(unified.encode(item))
        assert isinstance(back, BookUpdate)
        assert (back.bid_price, back.ask_price) == (item.bid_price, item.ask_price)
