"""``book_feed``: local order books kept in sync over a live connection.

The pure synchroniser (:mod:`trio_venues.book`) decides; this module does the
Trio part. Two tasks run inside the ``async with``:

- the **pump** reads the connection's events, feeds each depth diff of a
  tracked symbol to the :class:`~trio_venues.book.BookSet`, and passes every
  other event through unchanged, so the feed's ``events`` are the
  connection's events with depth diffs replaced by :class:`BookUpdate`;
- the **fetcher** takes snapshot requests from a bounded channel and fetches
  them one at a time, never in the pump (a slow snapshot never stalls the
  market data; diffs are buffered by the synchroniser meanwhile).

A gap or a crossed book resyncs **that symbol only**. A ``DataGap`` from
``retry_scope`` resets the affected books (they resync from the next diff);
even without it, the first diff after a reconnect does not follow the last
one and is detected as a gap.

Snapshots go through the venue's request-weight limiter with the ``wait``
policy (``BinanceSpotApi`` does it in ``request``), so a mass resync after a
reconnect queues up instead of tripping 429s.
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
    BookSet,
    BookUpdated,
    BufferOverflow,
    DepthDiff,
    DepthSnapshot,
    Gap,
    OrderBook,
    RequestSnapshot,
    Resynced,
    SyncRules,
)
from .errors import TrioVenuesError
from .events import DataGap, ErrorEvent, Event, GapDetected, Message

__all__ = [
    "BookFeed",
    "BookResynced",
    "BookUpdate",
    "SnapshotRequested",
    "book_feed",
    "binance_depth_snapshots",
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
    handling this event (it changes with the next diff).
    """

    symbol: str
    topic: str | None
    changed_bids: tuple[tuple[Any, Any], ...]
    changed_asks: tuple[tuple[Any, Any], ...]
    update_id: int
    book: OrderBook = attrs.field(eq=False, repr=False)


@attrs.frozen
class BookResynced(Event):
    """A book became usable from a snapshot (first sync or after a gap)."""

    symbol: str
    last_update_id: int
    book: OrderBook = attrs.field(eq=False, repr=False)


@attrs.frozen
class SnapshotRequested(Event):
    """The feed asked for a snapshot of ``symbol`` (``reason``: initial, gap, stale, ...)."""

    symbol: str
    reason: str


class _Events(Protocol):
    @property
    def events(self) -> trio.abc.ReceiveChannel[Event]: ...

    async def subscribe(self, *topics: str) -> object: ...


def _binance_topic(symbol: str, speed: str) -> str:
    from .venues.binance import depth_topic

    return depth_topic(symbol, speed=speed)


def _binance_diff(message: Message) -> DepthDiff | None:
    from .venues.binance import DepthUpdate

    data = message.data
    if not isinstance(data, DepthUpdate):
        return None
    return DepthDiff(
        data.symbol,
        data.first_update_id,
        data.final_update_id,
        data.bids,
        data.asks,
        data.event_time,
    )


def binance_depth_snapshots(api: Any, limit: int = 1000) -> SnapshotSource:
    """Snapshots through a ``BinanceSpotApi`` connection's ``depth`` request (weighted)."""

    async def fetch(symbol: str) -> DepthSnapshot:
        result = await api.request("depth", {"symbol": symbol, "limit": limit})
        return DepthSnapshot.from_binance(symbol, result)

    return fetch


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
    snapshots: SnapshotSource,
    symbols: Sequence[str],
    *,
    speed: str = "100ms",
    subscribe: bool = True,
    buffer: int = 1024,
    rules: SyncRules | None = None,
    topic_of: Callable[[str, str], str] = _binance_topic,
    diff_of: Callable[[Message], DepthDiff | None] = _binance_diff,
) -> AsyncIterator[BookFeed]:
    """Keep local books of ``symbols`` in sync over ``ws``; iterate the feed's events.

    ``async with book_feed(ws, binance_depth_snapshots(api), ["BTCUSDT"]) as feed:
    async for event in feed: ...``. The feed consumes ``ws.events``: iterate
    the feed instead (it passes every other event through).

    Args:
        ws: a connection or a ``retry_scope`` connection.
        snapshots: fetches a snapshot for a symbol (e.g. :func:`binance_depth_snapshots`).
        symbols: the symbols, spelled as the venue spells them in diffs (``"BTCUSDT"``).
        speed: the depth stream speed (Binance: ``"100ms"`` or ``"1000ms"``).
        subscribe: subscribe to the depth topics on entry.
        buffer: capacity of the feed's event channel.
        rules: the venue's sync rules (Binance by default).
        topic_of: ``(symbol, speed) -> topic``.
        diff_of: turns a depth ``Message`` into a :class:`~trio_venues.book.DepthDiff`.
    """
    books = BookSet(symbols, rules) if rules is not None else BookSet(symbols)
    topics = {topic_of(s, speed): s for s in symbols}
    topic_by_symbol = {s: t for t, s in topics.items()}
    send, receive = trio.open_memory_channel[Event](buffer)
    wanted_send, wanted_receive = trio.open_memory_channel[str](max(1, len(symbols)))
    pending: set[str] = set()
    feed = BookFeed(books, receive)

    async def handle(actions: Iterable[BookAction], out: trio.MemorySendChannel[Event]) -> None:
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
                    )
                )
            elif isinstance(action, RequestSnapshot):
                await out.send(SnapshotRequested(action.symbol, action.reason))
                if action.symbol not in pending:
                    pending.add(action.symbol)
                    try:
                        await wanted_send.send(action.symbol)
                    except trio.ClosedResourceError:
                        return  # the connection ended: the feed is ending
            elif isinstance(action, Gap):
                await out.send(
                    GapDetected(_topic_for(action.symbol), action.expected, action.received)
                )
            elif isinstance(action, Resynced):
                await out.send(BookResynced(action.symbol, action.last_update_id, action.book))
            elif isinstance(action, BufferOverflow):
                await out.send(GapDetected(_topic_for(action.symbol), None, action.dropped))

    _topic_for = topic_by_symbol.get

    async def pump() -> None:
        # When the connection's events end, the feed's end too: closing
        # ``wanted_send`` ends the fetcher, which closes its clone of ``send``.
        async with send, wanted_send:
            async for event in ws.events:
                if isinstance(event, Message) and event.topic in topics:
                    diff = diff_of(event)
                    if diff is not None:
                        await handle(books.on_diff(diff), send)
                        continue
                if isinstance(event, DataGap):
                    books.reset([topics[t] for t in event.topics if t in topics])
                await send.send(event)

    async def fetcher(out: trio.MemorySendChannel[Event]) -> None:
        delays: dict[str, float] = {}
        async with out:
            async for symbol in wanted_receive:
                pending.discard(symbol)
                try:
                    snapshot = await snapshots(symbol)
                except TrioVenuesError as exc:
                    await out.send(ErrorEvent(exc))
                    delay = delays.get(symbol, _RETRY_INITIAL)
                    delays[symbol] = min(delay * 2, _RETRY_MAX)
                    await trio.sleep(delay)
                    await handle(books.on_snapshot_failed(symbol), out)
                    continue
                delays.pop(symbol, None)
                await handle(books.on_snapshot(snapshot), out)

    try:
        async with trio.open_nursery() as nursery:
            if subscribe:
                await ws.subscribe(*topics)
            nursery.start_soon(fetcher, send.clone())
            nursery.start_soon(pump)
            try:
                yield feed
            finally:
                nursery.cancel_scope.cancel(reason="book_feed block left")
    except BaseExceptionGroup as group:
        unwrap_group(group)
