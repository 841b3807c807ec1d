"""Unified BookUpdate and the adapter from a connection's events to unified items."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
import trio

from trio_venues import book_feed, retry_scope
from trio_venues import unified as u
from trio_venues._bookfeed import BookResynced, SnapshotRequested
from trio_venues._bookfeed import BookUpdate as VenueBookUpdate
from trio_venues.book import OrderBook
from trio_venues.errors import DecodeError
from trio_venues.events import (
    Connected,
    DataGap,
    Disconnected,
    ErrorEvent,
    GapDetected,
    Message,
    PingReceived,
    Reconnecting,
    Resubscribed,
    Subscribed,
)
from trio_venues.reasons import NetworkError
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_api_url, binance_server
from trio_venues.unified import (
    BookDepth,
    BookUpdate,
    Catalogue,
    Instrument,
    Trade,
    UnifiedAdapter,
    UnknownSymbol,
    VenueEvent,
)
from trio_venues.venues._registry import get_venue
from trio_venues.venues.binance import Trade as BinanceTrade

D = Decimal
Fake = FakeVenueServer[FakeBinance]


def _catalogue() -> Catalogue:
    return Catalogue(
        "binance",
        [Instrument("binance", "BTCUSDT", "BTC-USDT", "BTC", "USDT", "spot", None, None, "")],
    )


def _adapter(**options: Any) -> UnifiedAdapter:
    support = get_venue("binance").unified
    assert support is not None
    catalogue = _catalogue()
    url = "wss://stream.binance.com:9443/stream"
    return UnifiedAdapter("binance", catalogue, support.unifier(catalogue, url), **options)


def _book(levels: int = 3) -> OrderBook:
    book = OrderBook("BTCUSDT")
    bids = [(D(100) - i, D(i + 1)) for i in range(levels)]
    asks = [(D(101) + i, D("0.5") * (i + 1)) for i in range(levels)]
    book.load_snapshot(bids, asks, 42)
    return book


# -- BookDepth and BookUpdate -----------------------------------------------------------


def test_book_depth_reads_the_live_book_best_first() -> None:
    """The view shows best levels, depth sums and spread of the book as it is now."""
    book = _book()
    view = BookDepth(book)
    assert view.best_bid == (D(100), D(1))
    assert view.best_ask == (D(101), D("0.5"))
    assert view.bids(2) == [(D(100), D(1)), (D(99), D(2))]
    assert view.asks() == [(D(101), D("0.5")), (D(102), D("1.0")), (D(103), D("1.5"))]
    assert view.bid_depth() == D(6)
    assert view.ask_depth(2) == D("1.5")
    assert view.spread == D(1)
    assert view.mid == D("100.5")
    assert view.bid_quantity(D("99.0")) == D(2)
    assert view.ask_quantity(D(99)) is None
    assert view.update_id == 42
    kept = view.detached(1)
    book.apply_diff([["100", "0"]], [])
    assert view.best_bid == (D(99), D(2))
    assert view.update_id == 42
    assert kept.bids() == [(D(100), D(1))]
    assert kept.asks() == [(D(101), D("0.5"))]


def test_book_depth_equality_compares_levels() -> None:
    """Two views are equal when they hold the same levels, whatever the books."""
    a = BookDepth(_book())
    b = BookDepth.from_levels("X", a.bids(), a.asks())
    assert a == b
    assert a != BookDepth.from_levels("X", a.bids(2), a.asks())
    assert a != "not a view"
    with pytest.raises(TypeError):
        hash(a)


def _book_update(book: OrderBook) -> BookUpdate:
    return BookUpdate(
        "binance",
        "BTC-USDT",
        "BTCUSDT",
        D(100),
        D(1),
        D(101),
        D("0.5"),
        ((D(100), D(1)),),
        (),
        42,
        1.5,
        BookDepth(book),
    )


def test_book_update_encodes_ten_levels_per_side_exactly() -> None:
    """encode writes the depth's 10 best levels as exact strings; decode reads them back."""
    book = _book(15)
    event = _book_update(book)
    doc = msgspec.json.decode(u.encode(event))
    assert doc["kind"] == "book"
    assert doc["bid_price"] == "100"
    assert len(doc["depth"]["bids"]) == 10
    assert doc["depth"]["asks"][0] == ["101", "0.5"]
    back = u.decode(u.encode(event))
    assert isinstance(back, BookUpdate)
    assert back.depth.bids() == event.depth.bids(10)
    assert back.depth.asks() == event.depth.asks(10)
    small = _book_update(_book(3))
    assert u.decode(u.encode(small)) == small


# -- the adapter ------------------------------------------------------------------------


def _trade_message(symbol: str = "BTCUSDT") -> Message:
    trade = BinanceTrade(symbol, 7, D("100.5"), D("0.25"), 1_700_000_000_000, 0, True)
    return Message("btcusdt@trade", trade, 3.0)


def test_adapter_unifies_messages_and_tags_lifecycle_events() -> None:
    """Messages become unified events; gaps, drops and reconnects pass through tagged."""
    adapter = _adapter(feed="main")
    (trade,) = adapter.convert(_trade_message())
    assert trade == Trade(
        "binance",
        "BTC-USDT",
        "BTCUSDT",
        "sell",
        D("100.5"),
        D("0.25"),
        "7",
        1_700_000_000_000_000_000,
        3.0,
    )
    reason = NetworkError("reset")
    lifecycle = [
        Connected("ws://x"),
        Disconnected(reason),
        Reconnecting(1, 0.5, reason),
        DataGap(("btcusdt@trade",), 1.0, 2.0),
        GapDetected("btcusdt@trade", 5, 9),
        BookResynced("BTCUSDT", 4, _book()),
    ]
    for event in lifecycle:
        assert adapter.convert(event) == (VenueEvent("binance", event, "main"),)
    quiet = [PingReceived(b""), Subscribed(("x",)), SnapshotRequested("BTCUSDT", "initial")]
    for event in quiet:
        assert adapter.convert(event) == ()
    assert adapter.convert(Message("btcusdt@depth", {"other": 1}, 1.0)) == ()
    assert (adapter.unified, adapter.skipped, adapter.errors) == (1, 1, 0)


def test_adapter_reports_an_unknown_symbol_as_an_error_event() -> None:
    """A symbol missing from the catalogue is an ErrorEvent of the venue; the feed goes on."""
    adapter = _adapter()
    (item,) = adapter.convert(_trade_message("ETHUSDT"))
    assert isinstance(item, VenueEvent)
    assert item.venue == item.feed == "binance"
    assert isinstance(item.event, ErrorEvent)
    assert isinstance(item.event.error, UnknownSymbol)
    assert "ETHUSDT" in str(item.event.error)
    assert adapter.errors == 1
    book = OrderBook("ETHUSDT")
    (item,) = adapter.convert(VenueBookUpdate("ETHUSDT", None, (), (), 1, book))
    assert isinstance(item, VenueEvent)
    assert isinstance(item.event, ErrorEvent)


def test_adapter_turns_book_feed_updates_into_unified_book_updates() -> None:
    """A book_feed update gives the book's best levels and a live depth view, canonically named."""
    adapter = _adapter()
    book = _book()
    changed = ((D(100), D(1)),)
    (item,) = adapter.convert(
        VenueBookUpdate("BTCUSDT", "btcusdt@depth", changed, (), 42, book, received_at=2.5)
    )
    assert item == BookUpdate(
        "binance",
        "BTC-USDT",
        "BTCUSDT",
        D(100),
        D(1),
        D(101),
        D("0.5"),
        changed,
        (),
        42,
        2.5,
        BookDepth(book),
    )
    book.clear()
    (empty,) = adapter.convert(VenueBookUpdate("BTCUSDT", None, (), (), 43, book))
    assert isinstance(empty, BookUpdate)
    assert (empty.bid_price, empty.bid_quantity, empty.ask_price, empty.ask_quantity) == (
        None,
        None,
        None,
        None,
    )


def test_a_unifier_refusing_a_payload_is_an_error_event() -> None:
    """A DecodeError from the unifier is reported, not raised."""

    def refuse(data: Any, received_at: float) -> None:
        raise DecodeError("bad price", "x")

    adapter = UnifiedAdapter("binance", _catalogue(), refuse)
    (item,) = adapter.convert(Message("t", {}, 0.0))
    assert isinstance(item, VenueEvent)
    assert isinstance(item.event, ErrorEvent)
    assert isinstance(item.event.error, DecodeError)


async def test_stream_yields_each_event_of_a_batch() -> None:
    """A unifier returning several events yields each in order, then the stream ends."""
    first = _adapter().convert(_trade_message())[0]
    assert isinstance(first, Trade)
    second = msgspec.structs.replace(first, trade_id="8")

    def batch(data: Any, received_at: float) -> tuple[Trade, ...]:
        return (first, second)

    adapter = UnifiedAdapter("binance", _catalogue(), batch)
    send, receive = trio.open_memory_channel[Any](4)
    async with send:
        await send.send(Message("t", {}, 0.0))
        await send.send(Subscribed(("t",)))
        await send.send(Disconnected(NetworkError("x")))
    got = [item async for item in adapter.stream(receive)]
    assert got[:2] == [first, second]
    assert isinstance(got[2], VenueEvent)
    assert len(got) == 3


async def _push_every(server: FakeVenueServer[Any], topic: str, interval: float) -> None:
    while True:
        await server.push(topic)
        await trio.sleep(interval)


# -- against the fake -------------------------------------------------------------------


@pytest.fixture
async def fake(nursery: trio.Nursery) -> Fake:
    """A fake Binance venue with a virtual clock, serving in memory."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()))
    await nursery.start(server.run)
    return server


async def test_for_venue_loads_the_catalogue_and_unifies_a_live_feed(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """for_venue fetches the fake's catalogue; a live trade arrives unified and exact."""
    entry = get_venue("binance")
    assert entry.fake is not None
    url = entry.fake.url(fake, ())
    adapter = await UnifiedAdapter.for_venue(
        "binance",
        url,
        catalogue_url=binance_api_url(fake),
        transport=fake.memory_transport(),
        ping_interval=None,
    )
    assert adapter.catalogue.canonical("BNBBTC") == "BNB-BTC"
    async with entry.client().connect(
        url, transport=fake.memory_transport(), ping_interval=None
    ) as ws:
        await ws.subscribe("btcusdt@trade")
        await fake.push("btcusdt@trade")
        async for item in adapter.stream(ws):
            if isinstance(item, Trade):
                break
    assert isinstance(item, Trade)
    stats = fake.behaviour.market("BTCUSDT").stats()
    assert (item.symbol, item.venue_symbol) == ("BTC-USDT", "BTCUSDT")
    assert (item.trade_id, item.price) == (str(stats.last_trade_id), stats.last_price)


async def test_book_feed_through_the_adapter_matches_the_live_book(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """Each unified BookUpdate's best levels are the synced book's at that update."""
    entry = get_venue("binance")
    assert entry.fake is not None
    assert entry.fake.book_snapshots is not None
    adapter = _adapter()
    url = entry.fake.url(fake, ())
    seen: list[BookUpdate] = []
    async with (
        entry.client().connect(url, transport=fake.memory_transport(), ping_interval=None) as ws,
        entry.fake.book_snapshots(fake) as snapshots,
        book_feed(ws, "binance", ["btcusdt"], snapshots=snapshots) as feed,
    ):
        topic = entry.book().topic("BTCUSDT") if entry.book is not None else ""
        async with trio.open_nursery() as pushers:
            pushers.start_soon(_push_every, fake, topic, 0.1)
            async for item in adapter.stream(feed):
                if isinstance(item, BookUpdate):
                    book = feed.book("BTCUSDT")
                    assert book is not None
                    assert (item.bid_price, item.bid_quantity) == book.best_bid
                    assert (item.ask_price, item.ask_quantity) == book.best_ask
                    assert item.depth.update_id == item.update_id == book.last_update_id
                    assert item.depth.bids(5) == book.bids.top(5)
                    assert item.symbol == "BTC-USDT"
                    assert item.received_at > 0
                    seen.append(item)
                    if len(seen) == 3:
                        break
            pushers.cancel_scope.cancel()
    assert [e.update_id for e in seen] == sorted(e.update_id for e in seen)


async def test_retry_scope_lifecycle_arrives_tagged_with_the_venue(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A dropped connection under retry_scope: Disconnected, Reconnecting, DataGap, each tagged."""
    entry = get_venue("binance")
    assert entry.fake is not None
    url = entry.fake.url(fake, ())
    adapter = _adapter()
    kinds: list[type] = []
    async with retry_scope(
        lambda: entry.client().connect(url, transport=fake.memory_transport(), ping_interval=None)
    ) as ws:
        await ws.subscribe("btcusdt@trade")
        await fake.push("btcusdt@trade")
        async for item in adapter.stream(ws):
            if isinstance(item, Trade) and Trade not in kinds:
                kinds.append(Trade)
                await fake.connection.drop()
            elif isinstance(item, VenueEvent):
                assert item.venue == "binance"
                kinds.append(type(item.event))
                if isinstance(item.event, DataGap):
                    assert item.event.topics == ("btcusdt@trade",)
                    break
    assert kinds == [Connected, Trade, Disconnected, Reconnecting, Connected, Resubscribed, DataGap]
