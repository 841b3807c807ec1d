"""``book_feed``: local order books kept in sync over a live connection.

The pure synchroniser (:mod:`trio_venues.book`) decides; this module does the
Trio part, for any venue: the venue's :class:`~trio_venues.book.BookAdapter`
says what its book topic is, how a message becomes diffs and snapshots, where
snapshots come from, and how its messages are numbered. Two tasks run inside
the ``async with``:

- the **pump** reads the connection's events, feeds each book message of a
  tracked topic to the :class:`~trio_venues.book.BookSet`, and passes every
  other event through unchanged, so the feed's ``events`` are the
  connection's events with book messages replaced by :class:`BookUpdate`;
- the **resyncer** takes snapshot requests from a bounded channel and carries
  them out one at a time, never in the pump: it fetches the snapshot (venues
  whose snapshots are fetched) or unsubscribes and resubscribes that one topic
  (venues that send a snapshot after each subscribe). A slow snapshot never
  stalls the market data; diffs are buffered by the synchroniser meanwhile.

A gap, a crossed book or a checksum mismatch resyncs **that symbol only**. A
``GapDetected`` event of a book's topic resyncs that book; on a venue that
numbers every message of the connection in one sequence, a ``GapDetected``
resyncs every book. A ``DataGap`` from ``retry_scope`` resets the affected
books (the replayed subscriptions bring fresh snapshots, or the next diff asks
for one), except books whose snapshot already came on the new connection
before the ``DataGap`` did.

Fetched snapshots go through the venue's request limiter with the ``wait``
policy (``BinanceSpotApi`` does it in ``request``), so a mass resync after a
reconnect queues up instead of tripping the venue's limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import attrs
import trio

from ._session import unwrap_group
from .book import (
    BookAction,
    BookAdapter,
    BookSet,
    BookUpdated,
    BufferOverflow,
    DepthSnapshot,
    Gap,
    OrderBook,
    RequestSnapshot,
    Resynced,
    SyncRules,
)
from .errors import ConfigError, TrioVenuesError
from .events import DataGap, ErrorEvent, Event, GapDetected, Message, Reconnecting

__all__ = [
    "BookFeed",
    "BookResynced",
    "BookUpdate",
    "FetchSnapshots",
    "SnapshotRequested",
    "SnapshotSource",
    "book_feed",
]

#: ``await source(symbol)`` returns a fresh snapshot of ``symbol``'s book.
SnapshotSource = Callable[[str], Awaitable[DepthSnapshot]]

# After a failed snapshot the fetcher waits before the synchroniser's retry:
# 1 s, doubling, at most 30 s (per symbol; reset by a success).
_RETRY_INITIAL = 1.0
_RETRY_MAX = 30.0


@attrs.frozen
class BookUpdate(Event):
    """A tracked book changed: the levels as applied, and the live book to read.

    ``book`` is the live :class:`~trio_venues.book.OrderBook`: read it while
    handling this event (it changes with the next diff). ``received_at`` is
    when the reader received the message that completed this update (Trio
    clock; for diffs applied once a fetched snapshot came, when it came).
    """

    symbol: str
    topic: str | None
    changed_bids: tuple[tuple[Any, Any], ...]
    changed_asks: tuple[tuple[Any, Any], ...]
    update_id: int
    book: OrderBook = attrs.field(eq=False, repr=False)
    received_at: float = attrs.field(default=0.0, kw_only=True, eq=False)


@attrs.frozen
class BookResynced(Event):
    """A book became usable from a snapshot (first sync, after a gap, or a venue's reset)."""

    symbol: str
    last_update_id: int
    book: OrderBook = attrs.field(eq=False, repr=False)


@attrs.frozen
class SnapshotRequested(Event):
    """The feed asked for a snapshot of ``symbol`` (``reason``: initial, gap, stale, ...)."""

    symbol: str
    reason: str


@attrs.frozen
class FetchSnapshots:
    """A snapshot fetch function bound to its venue's book adapter.

    What a venue's ``..._snapshots(api)`` helper returns (for example
    ``binance_depth_snapshots``), so ``book_feed(ws, fetch, symbols)`` knows
    the venue. Calling it fetches one snapshot.
    """

    fetch: SnapshotSource
    adapter: BookAdapter

    async def __call__(self, symbol: str) -> DepthSnapshot:
        """Fetch a snapshot of ``symbol``."""
        return await self.fetch(symbol)


class _Events(Protocol):
    @property
    def events(self) -> trio.abc.ReceiveChannel[Event]: ...

    async def subscribe(self, *topics: str) -> object: ...

    async def unsubscribe(self, *topics: str) -> object: ...


def _resolve(
    venue: BookAdapter | str | SnapshotSource, snapshots: SnapshotSource | None
) -> tuple[BookAdapter, SnapshotSource | None]:
    """The adapter and the snapshot source ``book_feed`` was given, checked."""
    if isinstance(venue, BookAdapter):
        adapter = venue
    elif isinstance(venue, str):
        from .venues._registry import get_venue

        entry = get_venue(venue)
        if entry.book is None:
            raise ConfigError(f"venue {venue!r} has no order-book adapter")
        adapter = entry.book()
    elif isinstance(venue, FetchSnapshots):
        adapter, snapshots = venue.adapter, snapshots or venue
    else:
        raise ConfigError(
            "book_feed needs the venue: a book adapter, a registered venue name, or a "
            f"venue's snapshot helper (such as binance_depth_snapshots(api)); got {venue!r}"
        )
    if adapter.snapshots == "fetch" and snapshots is None:
        raise ConfigError(f"{adapter!r} fetches its snapshots: pass snapshots=")
    return adapter, snapshots


class BookFeed:
    """The object ``book_feed`` yields: events, and the books by symbol."""

    def __init__(self, books: BookSet, receive: trio.MemoryReceiveChannel[Event]) -> None:
        self.books = books
        self.events = receive

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events.__aiter__()

    def book(self, symbol: str) -> OrderBook | None:
        """The synced book of ``symbol``, or ``None`` while it is (re)syncing."""
        return self.books.book(symbol)


@asynccontextmanager
async def book_feed(
    ws: _Events,
    venue: BookAdapter | str | SnapshotSource,
    symbols: Sequence[str],
    *,
    snapshots: SnapshotSource | None = None,
    variant: str | None = None,
    speed: str | None = None,
    subscribe: bool = True,
    buffer: int = 1024,
    rules: SyncRules | None = None,
    max_buffer: int = 1000,
) -> AsyncIterator[BookFeed]:
    """Keep local books of ``symbols`` in sync over ``ws``; iterate the feed's events.

    ``async with book_feed(ws, binance_depth_snapshots(api), ["BTCUSDT"]) as
    feed: async for event in feed: ...``, or ``book_feed(ws, "okx",
    ["BTC-USDT"])`` for a venue that sends snapshots in the stream. The feed
    consumes ``ws.events``: iterate the feed instead (it passes every other
    event through).

    Args:
        ws: a connection or a ``retry_scope`` connection.
        venue: the venue's :class:`~trio_venues.book.BookAdapter`, its registry
            name (``"binance"``), or a venue's snapshot helper that carries its
            adapter (``binance_depth_snapshots(api)``).
        symbols: the symbols, spelled as the venue spells them in its book
            messages (``"BTCUSDT"``, ``"BTC-USDT"``).
        snapshots: fetches a snapshot for a symbol, for venues that fetch
            them (taken from ``venue`` when it is a snapshot helper).
        variant: which of the venue's book streams (Binance: the speed).
        speed: the same as ``variant`` (the name Binance users know).
        subscribe: subscribe to the book topics on entry.
        buffer: capacity of the feed's event channel.
        rules: override the adapter's sync rules.
        max_buffer: diffs buffered per symbol while its snapshot is awaited
            (see :class:`~trio_venues.book.BookSync`).

    Raises:
        ConfigError: no adapter for ``venue``, or a fetching venue without ``snapshots``.
    """
    adapter, source = _resolve(venue, snapshots)
    # The venue's spelling (Binance: "btcusdt" -> "BTCUSDT"), or no diff would match.
    symbols = list(dict.fromkeys(adapter.symbol(s) for s in symbols))
    books = BookSet(
        symbols,
        rules if rules is not None else adapter.rules,
        max_buffer=max_buffer,
        in_stream_snapshots=adapter.snapshots == "stream",
        reset_on_snapshot=adapter.reset_on_snapshot,
    )
    chosen = variant if variant is not None else speed
    topics = {adapter.topic(s, chosen): s for s in symbols}
    topic_by_symbol = {s: t for t, s in topics.items()}
    _topic_for = topic_by_symbol.get
    in_stream = adapter.snapshots == "stream"
    whole_connection = adapter.sequence == "connection"
    send, receive = trio.open_memory_channel[Event](buffer)
    wanted_send, wanted_receive = trio.open_memory_channel[str](max(1, len(symbols)))
    pending: set[str] = set()
    # In-stream venues: symbols whose (re)subscription's snapshot is still on its way,
    # so a snapshot request for them needs no new resubscription.
    awaiting: set[str] = set(symbols) if subscribe and in_stream else set()
    # In-stream venues: symbols whose snapshot already came on the connection that
    # retry_scope opened last. A venue may send the snapshot before acknowledging
    # the replayed subscribe (Coinbase does), so before the DataGap: that book is
    # already fresh and must not be reset again.
    fresh: set[str] = set()
    feed = BookFeed(books, receive)

    async def want(symbol: str) -> bool:
        """Queue a resync of ``symbol``; False once the feed is ending."""
        if symbol in pending:
            return True
        pending.add(symbol)
        try:
            await wanted_send.send(symbol)
        except trio.ClosedResourceError:
            return False  # the connection ended: the feed is ending
        return True

    async def handle(
        actions: Iterable[BookAction],
        out: trio.MemorySendChannel[Event],
        received_at: float | None = None,
    ) -> None:
        for action in actions:
            if isinstance(action, BookUpdated):
                await out.send(
                    BookUpdate(
                        action.symbol,
                        _topic_for(action.symbol),
                        action.changed_bids,
                        action.changed_asks,
                        action.update_id,
                        action.book,
                        received_at=(trio.current_time() if received_at is None else received_at),
                    )
                )
            elif isinstance(action, RequestSnapshot):
                await out.send(SnapshotRequested(action.symbol, action.reason))
                if action.symbol in awaiting:
                    continue  # the subscription's own snapshot is on its way
                if not await want(action.symbol):
                    return
            elif isinstance(action, Gap):
                await out.send(
                    GapDetected(_topic_for(action.symbol), action.expected, action.received)
                )
            elif isinstance(action, Resynced):
                await out.send(BookResynced(action.symbol, action.last_update_id, action.book))
            elif isinstance(action, BufferOverflow):
                await out.send(GapDetected(_topic_for(action.symbol), None, action.dropped))

    async def lost(symbols_lost: Iterable[str]) -> None:
        """The venue says these books lost data: reset them and resync."""
        for symbol in symbols_lost:
            books.reset([symbol])
            # A fetching venue's next diff asks for the snapshot; an in-stream
            # venue needs the topic resubscribed for a fresh one.
            if in_stream and symbol not in awaiting and not await want(symbol):
                return

    async def pump() -> None:
        # When the connection's events end, the feed's end too: closing
        # ``wanted_send`` ends the resyncer, which closes its clone of ``send``.
        async with send, wanted_send:
            async for event in ws.events:
                if isinstance(event, Message) and event.topic in topics:
                    parts = adapter.parse(event)
                    if parts:
                        for part in parts:
                            if isinstance(part, DepthSnapshot):
                                awaiting.discard(part.symbol)
                                fresh.add(part.symbol)
                                await handle(books.on_snapshot(part), send, event.received_at)
                            else:
                                await handle(books.on_diff(part), send, event.received_at)
                        continue
                if isinstance(event, Reconnecting):
                    fresh.clear()
                elif isinstance(event, DataGap):
                    # retry_scope replayed the subscriptions: fresh snapshots are coming
                    # (or, for books in ``fresh``, came already).
                    reset = [topics[t] for t in event.topics if t in topics]
                    reset = [s for s in reset if s not in fresh]
                    books.reset(reset)
                    if in_stream:
                        awaiting.update(reset)
                elif isinstance(event, GapDetected):
                    await send.send(event)
                    if whole_connection:
                        await lost(symbols)
                    elif event.topic in topics:
                        await lost([topics[event.topic]])
                    continue
                await send.send(event)

    async def resync_one(symbol: str, out: trio.MemorySendChannel[Event]) -> bool:
        """Resubscribe ``symbol``'s topic; False when that failed."""
        topic = topic_by_symbol[symbol]
        awaiting.add(symbol)
        try:
            await ws.unsubscribe(topic)
            await ws.subscribe(topic)
        except TrioVenuesError as exc:
            awaiting.discard(symbol)
            await out.send(ErrorEvent(exc))
            return False
        return True

    async def resyncer(out: trio.MemorySendChannel[Event]) -> None:
        delays: dict[str, float] = {}
        async with out:
            async for symbol in wanted_receive:
                pending.discard(symbol)
                if in_stream:
                    ok = await resync_one(symbol, out)
                    snapshot = None
                else:
                    assert source is not None
                    try:
                        snapshot = await source(symbol)
                        ok = True
                    except TrioVenuesError as exc:
                        await out.send(ErrorEvent(exc))
                        ok = False
                if not ok:
                    delay = delays.get(symbol, _RETRY_INITIAL)
                    delays[symbol] = min(delay * 2, _RETRY_MAX)
                    await trio.sleep(delay)
                    if in_stream:
                        await want(symbol)
                    else:
                        await handle(books.on_snapshot_failed(symbol), out)
                    continue
                delays.pop(symbol, None)
                if snapshot is not None:
                    await handle(books.on_snapshot(snapshot), out)

    try:
        async with trio.open_nursery() as nursery:
            if subscribe:
                await ws.subscribe(*topics)
            nursery.start_soon(resyncer, send.clone())
            nursery.start_soon(pump)
            try:
                yield feed
            finally:
                nursery.cancel_scope.cancel(reason="book_feed block left")
    except BaseExceptionGroup as group:
        unwrap_group(group)
