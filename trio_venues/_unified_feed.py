"""Unified events from live feeds: the adapter, and many venues in one nursery.

:class:`UnifiedAdapter` is the pure part: it turns one event of a connection,
a ``retry_scope`` or a ``book_feed`` into unified items (market data through
the venue's :data:`~trio_venues.unified.Unifier`, ``book_feed`` updates into
:class:`~trio_venues.unified.BookUpdate`, lifecycle events wrapped in a
:class:`~trio_venues.unified.VenueEvent`). :class:`UnifiedStream` iterates a
source's events through it.

:func:`unified_feeds` runs several feeds, each in its own task and its own
``retry_scope``, and merges their unified items into one bounded channel.

**The merged channel** holds at most ``buffer`` events and ``max_bytes``
estimated bytes (each item is charged a fixed estimate by kind, see
``_cost``), shared out evenly: each feed may have at most its share queued
(``buffer // feeds`` events, ``max_bytes // feeds`` bytes). A feed that
reaches its share is the only one held back, so a flooding or slow venue
cannot take the room another venue's events need, and each connection's
reader keeps answering its own venue's pings (the connection's own byte
budget and ``overflow_policy`` apply behind a held-back feed). Overflow
policy, per feed, when its share is full:

- ``"block"`` (default): the feed waits for the consumer; nothing is lost;
- ``"drop_oldest"``: the feed's oldest queued market-data event makes room,
  and an :class:`~trio_venues.unified.EventsDropped` event with the count
  comes before its next events (nothing is lost silently).

Lifecycle events (``VenueEvent``) may exceed a feed's share by
``_CONTROL_RESERVE`` events, so a reconnect or a failure is reported even
while the feed's data fills its share; beyond that they wait like data
(they are never dropped).

**Failure isolation.** A feed whose ``retry_scope`` gives up, whose
catalogue cannot be loaded, or whose subscription the venue refuses ends
with a ``VenueEvent(venue, FeedFailed(error))``; the others go on. The
channel ends once every feed has ended. With ``fail_fast=True`` the first
such failure cancels the block's body and every feed, and ``unified_feeds``
raises the error itself once the block has unwound (as ``retry_scope`` does).
"""

from __future__ import annotations

import collections
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, Final, Literal, Protocol, TypeAlias

import attrs
import trio

from . import _bookfeed
from ._groups import single_exception
from ._retry import RetryPolicy, retry_scope
from .errors import ConfigError, TrioVenuesError
from .events import (
    Connected,
    Disconnected,
    ErrorEvent,
    Event,
    Message,
    PingReceived,
    PongReceived,
    Reconnecting,
    Subscribed,
    Unsubscribed,
)
from .unified import (
    BestBidAsk,
    BookDepth,
    BookUpdate,
    Candle,
    Catalogue,
    EventsDropped,
    FeedFailed,
    FundingRate,
    Liquidation,
    OpenInterest,
    Ticker,
    Trade,
    UnifiedItem,
    Unifier,
    VenueEvent,
)

__all__ = [
    "QUIET",
    "FeedSpec",
    "FeedStatus",
    "OverflowPolicy",
    "UnifiedAdapter",
    "UnifiedFeeds",
    "UnifiedStream",
    "unified_feeds",
]

#: Events the adapter does not pass on: keepalive traffic, subscription acks and
#: ``book_feed``'s snapshot requests (none of them says data was lost).
QUIET: Final[tuple[type[Event], ...]] = (
    PingReceived,
    PongReceived,
    Subscribed,
    Unsubscribed,
    _bookfeed.SnapshotRequested,
)

OverflowPolicy: TypeAlias = Literal["block", "drop_oldest"]

# Estimated bytes held per queued item (the objects behind it: the Struct, its
# Decimals and strings), charged against the merged channel's byte budget.
# Lifecycle events cost what the session charges its control events.
_COSTS: Final[Mapping[type, int]] = {
    Trade: 400,
    BestBidAsk: 450,
    Ticker: 700,
    Candle: 600,
    FundingRate: 350,
    OpenInterest: 300,
    Liquidation: 400,
    VenueEvent: 256,
}
_BOOK_COST: Final = 450
_LEVEL_COST: Final = 150
# Lifecycle events a feed may queue beyond its share (see the module docstring).
_CONTROL_RESERVE: Final = 16
_DEFAULT_MAX_BYTES: Final = 16 * 1024 * 1024


def _cost(item: UnifiedItem) -> int:
    if type(item) is BookUpdate:
        return _BOOK_COST + _LEVEL_COST * (len(item.changed_bids) + len(item.changed_asks))
    return _COSTS.get(type(item), 256)


# -- the adapter ------------------------------------------------------------------------


class _HasEvents(Protocol):
    @property
    def events(self) -> trio.abc.ReceiveChannel[Event]: ...


class UnifiedAdapter:
    """Turns one venue feed's events into unified items (pure: no I/O, no clock).

    - a ``Message`` goes through the venue's unifier: zero, one or several
      unified events (payloads without a unified form give none and are
      counted in :attr:`skipped`);
    - a ``book_feed`` update becomes a :class:`~trio_venues.unified.BookUpdate`
      (its best levels, and a read-only view of the live book);
    - events in ``quiet`` (pings, pongs, subscription acks, snapshot requests)
      are dropped; every other event (``Connected``, ``Disconnected``,
      ``Reconnecting``, ``Resubscribed``, ``DataGap``, ``GapDetected``,
      ``ErrorEvent``, ``BookResynced`` ...) passes through as
      ``VenueEvent(venue, event, feed)``;
    - a payload the unifier refuses (a symbol missing from the catalogue, a
      malformed value) becomes ``VenueEvent(venue, ErrorEvent(error))``:
      the feed goes on, and nothing is dropped silently.

    Args:
        venue: the venue's registry name.
        catalogue: the venue's instrument catalogue (book symbols are mapped with it).
        unifier: the venue's unifier bound to this connection
            (``entry.unified.unifier(catalogue, url)``).
        feed: the name put on each ``VenueEvent`` (default: ``venue``).
        quiet: the event types not passed on (default :data:`QUIET`).
        market: for venues whose catalogue splits instruments into markets
            that spell symbols alike (Bybit's ``spot`` and ``linear``
            ``BTCUSDT``), the market of this connection: book symbols are
            looked up in it. A book symbol naming several instruments
            otherwise is reported as an ``ErrorEvent``.

    Attributes:
        unified: unified events produced so far.
        skipped: messages that had no unified form.
        errors: payloads the unifier refused.
    """

    def __init__(
        self,
        venue: str,
        catalogue: Catalogue,
        unifier: Unifier,
        *,
        feed: str | None = None,
        quiet: tuple[type[Event], ...] = QUIET,
        market: str | None = None,
    ) -> None:
        self.venue = venue
        self.feed = feed if feed is not None else venue
        self.catalogue = catalogue
        self.market = market
        self._unify = unifier
        self._quiet = quiet
        chosen = [i for i in catalogue if market is None or getattr(i, "market", None) == market]
        spelled = collections.Counter(inst.venue_symbol for inst in chosen)
        # Only symbols naming one instrument map directly; the others go to the
        # catalogue, which says why they cannot be mapped.
        self._canonical = {i.venue_symbol: i.symbol for i in chosen if spelled[i.venue_symbol] == 1}
        self.unified = 0
        self.skipped = 0
        self.errors = 0

    def __repr__(self) -> str:
        return f"<UnifiedAdapter {self.feed} ({self.venue}): {self.unified} unified>"

    @classmethod
    async def for_venue(
        cls,
        venue: str,
        url: str | None = None,
        *,
        catalogue: Catalogue | None = None,
        catalogue_url: str | None = None,
        feed: str | None = None,
        endpoint: str | None = None,
        **connect_options: Any,
    ) -> UnifiedAdapter:
        """The adapter of a registered venue's connection to ``url``.

        Loads the venue's catalogue (``catalogue_url``: where from, default the
        venue's; ``connect_options`` are passed to the loader, e.g. a fake's
        ``transport=``) unless ``catalogue`` is given.

        Args:
            venue: the registry name (``"binance"``).
            url: the streams URL the connection uses (default: the venue's;
                some venues' unifiers read options from it, e.g. Binance's
                time unit).
            endpoint: the client endpoint of the connection (default: the
                venue's); where the catalogue splits instruments into markets
                named like the endpoints (Bybit's categories), it is the
                adapter's ``market``.

        Raises:
            ConfigError: the venue is unknown or has no unified form.
        """
        from .venues._registry import get_venue

        entry = get_venue(venue)
        support = entry.unified
        if support is None:
            raise ConfigError(f"venue {venue!r} has no unified form yet")
        if url is None:
            url = entry.client().default_url
        if catalogue is None:
            catalogue = await support.load_catalogue(catalogue_url, **connect_options)
        where = endpoint if endpoint is not None else entry.default_endpoint
        market = where if any(getattr(i, "market", None) == where for i in catalogue) else None
        unify = support.unifier(catalogue, url)
        return cls(venue, catalogue, unify, feed=feed, market=market)

    def convert(self, event: Event) -> tuple[UnifiedItem, ...]:
        """The unified items of one event (often one; none for quiet events)."""
        if type(event) is Message or isinstance(event, Message):
            try:
                result = self._unify(event.data, event.received_at)
            except TrioVenuesError as exc:
                self.errors += 1
                return (VenueEvent(self.venue, ErrorEvent(exc), self.feed),)
            if result is None:
                self.skipped += 1
                return ()
            if type(result) is tuple:
                self.unified += len(result)
                return result
            self.unified += 1
            return (result,)  # type: ignore[return-value]  # one event, not a tuple
        if isinstance(event, _bookfeed.BookUpdate):
            return (self._book_update(event),)
        if isinstance(event, self._quiet):
            return ()
        return (VenueEvent(self.venue, event, self.feed),)

    def _book_update(self, event: _bookfeed.BookUpdate) -> UnifiedItem:
        venue_symbol = event.symbol
        symbol = self._canonical.get(venue_symbol)
        if symbol is None:
            try:
                symbol = self.catalogue.canonical(venue_symbol)
            except TrioVenuesError as exc:
                self.errors += 1
                return VenueEvent(self.venue, ErrorEvent(exc), self.feed)
        book = event.book
        bid = book.bids.best
        ask = book.asks.best
        self.unified += 1
        return BookUpdate(
            self.venue,
            symbol,
            venue_symbol,
            None if bid is None else bid[0],
            None if bid is None else bid[1],
            None if ask is None else ask[0],
            None if ask is None else ask[1],
            event.changed_bids,
            event.changed_asks,
            event.update_id,
            event.received_at,
            BookDepth(book),
        )

    def stream(self, source: _HasEvents | AsyncIterable[Event]) -> UnifiedStream:
        """Iterate ``source``'s events as unified items (see :class:`UnifiedStream`)."""
        return UnifiedStream(source, self)


class UnifiedStream:
    """``async for item in adapter.stream(ws):`` the unified items of a source's events.

    ``source`` is a connection, a ``retry_scope`` connection or a
    ``book_feed`` (anything with ``events``), or any async iterable of
    events. It holds at most the items of one source event (a venue batch)
    and ends when the source's events end. Cancelling the iteration loses
    nothing: items of an event already taken wait for the next call.
    """

    def __init__(self, source: _HasEvents | AsyncIterable[Event], adapter: UnifiedAdapter) -> None:
        events = getattr(source, "events", None)
        iterable: AsyncIterable[Event] = events if events is not None else source  # type: ignore[assignment]
        self._events: AsyncIterator[Event] = iterable.__aiter__()
        self._convert = adapter.convert
        self._pending: deque[UnifiedItem] = deque()
        self.adapter = adapter

    def __aiter__(self) -> UnifiedStream:
        return self

    async def __anext__(self) -> UnifiedItem:
        pending = self._pending
        if pending:
            await trio.lowlevel.checkpoint()
            return pending.popleft()
        convert = self._convert
        async for event in self._events:
            items = convert(event)
            if items:
                if len(items) > 1:
                    pending.extend(items[1:])
                return items[0]
        raise StopAsyncIteration


# -- many venues in one nursery -----------------------------------------------------------


def _tuple(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen(kw_only=True)
class FeedSpec:
    """One venue feed of :func:`unified_feeds`.

    Attributes:
        venue: the venue's registry name (``"binance"``, ``"okx"`` ...).
        topics: the venue's topics, in its own spelling (``"btcusdt@trade"``,
            ``"trades:BTC-USDT"``), subscribed on every connection.
        books: symbols (as the venue spells them in its book messages) whose
            order books ``book_feed`` keeps: each change is a unified ``BookUpdate``.
        book_snapshots: for venues that fetch book snapshots (Binance): an
            async context manager factory whose value is ``book_feed``'s
            ``snapshots=`` source, entered once per feed.
        name: the feed's name on its ``VenueEvent``s (default: ``venue``);
            needed to run two feeds of one venue.
        url: the streams URL (default: the venue's).
        endpoint: the client endpoint (default: the venue's streams endpoint).
        options: ``connect()`` options of every connection of this feed.
        catalogue: the venue's catalogue (default: loaded when the feed starts).
        catalogue_url: where the catalogue is loaded from (default: the venue's).
        catalogue_options: options of the catalogue loader (default: ``options``).
        policy: the feed's ``RetryPolicy`` (default: retry without limit).
        event_buffer: the feed's ``retry_scope`` event buffer.
    """

    venue: str
    topics: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    books: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    book_snapshots: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    name: str | None = None
    url: str | None = None
    endpoint: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    catalogue: Catalogue | None = None
    catalogue_url: str | None = None
    catalogue_options: Mapping[str, Any] | None = None
    policy: RetryPolicy | None = None
    event_buffer: int = 256

    @property
    def label(self) -> str:
        """The feed's name (:attr:`name`, else the venue's)."""
        return self.name if self.name is not None else self.venue


FeedState: TypeAlias = Literal["starting", "live", "reconnecting", "failed", "ended"]


@attrs.frozen
class FeedStatus:
    """Where one feed of :func:`unified_feeds` stands (``UnifiedFeeds.status()``).

    Attributes:
        state: ``starting`` (loading its catalogue, first connection),
            ``live``, ``reconnecting``, ``failed`` or ``ended``.
        queued: its items in the merged channel now.
        queued_bytes: their estimated bytes.
        delivered: its items handed to the consumer so far.
        dropped: its items dropped by ``drop_oldest`` so far.
        error: what ended it, when it failed.
    """

    state: FeedState
    queued: int
    queued_bytes: int
    delivered: int
    dropped: int
    error: Exception | None = attrs.field(default=None, eq=False)


class _Slot:
    """One feed's share of the merged channel, and its state."""

    def __init__(self, spec: FeedSpec, quota: int, byte_quota: int) -> None:
        self.spec = spec
        self.venue = spec.venue
        self.label = spec.label
        self.quota = quota
        self.byte_quota = byte_quota
        self.queued = 0
        self.queued_bytes = 0
        self.delivered = 0
        self.dropped = 0
        self.unreported_drops = 0
        self.state: FeedState = "starting"
        self.error: Exception | None = None
        self.room = trio.lowlevel.ParkingLot()

    def full(self, cost: int, control: bool) -> bool:
        if not control and self.queued < self.quota and self.queued_bytes + cost <= self.byte_quota:
            return False  # the common case, decided in one test
        extra = _CONTROL_RESERVE if control else 0
        if self.queued >= self.quota + extra:
            return True
        # One item always fits, however big its estimate.
        return self.queued > 0 and self.queued_bytes + cost > self.byte_quota + extra * 256


class UnifiedFeeds:
    """What :func:`unified_feeds` yields: ``async for item in feeds:``.

    Items are unified market-data events (``Trade``, ``BestBidAsk``,
    ``BookUpdate`` ...) and ``VenueEvent``s, in the order the feeds put them.
    The iteration ends once every feed has ended (failed, or its scope ended).
    """

    def __init__(self, slots: Sequence[_Slot], overflow: OverflowPolicy) -> None:
        self._slots = {slot.label: slot for slot in slots}
        self._overflow = overflow
        self._items: deque[tuple[_Slot, UnifiedItem, int]] = deque()
        self._unreported = 0  # feeds with drops not reported yet
        self._open = len(slots)
        self._consumers = trio.lowlevel.ParkingLot()
        self._failure: TrioVenuesError | None = None
        self._body: trio.CancelScope | None = None
        self._fail_fast = False

    def __repr__(self) -> str:
        return f"<UnifiedFeeds {', '.join(self._slots)}: {len(self._items)} queued>"

    def __len__(self) -> int:
        return len(self._items)

    def status(self) -> dict[str, FeedStatus]:
        """Each feed's :class:`FeedStatus`, by feed name."""
        return {
            label: FeedStatus(
                slot.state,
                slot.queued,
                slot.queued_bytes,
                slot.delivered,
                slot.dropped,
                slot.error,
            )
            for label, slot in self._slots.items()
        }

    # -- consumer side --------------------------------------------------------------

    def __aiter__(self) -> UnifiedFeeds:
        return self

    async def __anext__(self) -> UnifiedItem:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def receive_nowait(self) -> UnifiedItem:
        """The next item without waiting.

        Raises:
            trio.WouldBlock: none is queued.
            trio.EndOfChannel: none is queued and every feed has ended.
        """
        if self._unreported:
            for slot in self._slots.values():
                if slot.unreported_drops:
                    count, slot.unreported_drops = slot.unreported_drops, 0
                    self._unreported -= 1
                    return VenueEvent(slot.venue, EventsDropped(count), slot.label)
        if not self._items:
            if self._open == 0:
                raise trio.EndOfChannel
            raise trio.WouldBlock
        slot, item, cost = self._items.popleft()
        slot.queued -= 1
        slot.queued_bytes -= cost
        slot.delivered += 1
        if slot.room:
            slot.room.unpark_all()
        return item

    async def receive(self) -> UnifiedItem:
        """The next item, waiting for one.

        Raises:
            trio.EndOfChannel: every feed has ended and every item was taken.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                item = self.receive_nowait()
            except trio.WouldBlock:
                await self._consumers.park()
                continue
            await trio.lowlevel.cancel_shielded_checkpoint()
            return item

    # -- producer side --------------------------------------------------------------

    async def _put(self, slot: _Slot, item: UnifiedItem) -> None:
        kind = type(item)
        cost = _COSTS.get(kind, 256) if kind is not BookUpdate else _cost(item)
        control = kind is VenueEvent
        while slot.full(cost, control):
            if self._overflow == "drop_oldest" and not control and self._drop_oldest(slot):
                continue
            await slot.room.park()
        self._items.append((slot, item, cost))
        slot.queued += 1
        slot.queued_bytes += cost
        if self._consumers:
            self._consumers.unpark_all()

    def _drop_oldest(self, slot: _Slot) -> bool:
        """Drop ``slot``'s oldest market-data item; False when it has none queued."""
        items = self._items
        for i, (owner, item, cost) in enumerate(items):
            if owner is slot and type(item) is not VenueEvent:
                del items[i]
                slot.queued -= 1
                slot.queued_bytes -= cost
                slot.dropped += 1
                if not slot.unreported_drops:
                    self._unreported += 1
                slot.unreported_drops += 1
                return True
        return False

    def _ended(self, slot: _Slot) -> None:
        self._open -= 1
        if self._consumers:
            self._consumers.unpark_all()

    # -- one feed -------------------------------------------------------------------

    async def _run(self, slot: _Slot, *, task_status: trio.TaskStatus[None]) -> None:
        spec = slot.spec
        task_status.started()
        try:
            try:
                await self._feed(slot, spec)
            except TrioVenuesError as exc:
                slot.state = "failed"
                slot.error = exc
                if self._fail_fast:
                    self._give_up(slot, exc)
                    return
                await self._put(slot, VenueEvent(spec.venue, FeedFailed(exc), slot.label))
                return
            if slot.state != "failed":
                slot.state = "ended"
        finally:
            self._ended(slot)

    def _give_up(self, slot: _Slot, error: TrioVenuesError) -> None:
        if self._failure is None:
            self._failure = error
            if self._body is not None:
                self._body.cancel(reason=f"unified_feeds: feed {slot.label!r} failed: {error}")

    async def _feed(self, slot: _Slot, spec: FeedSpec) -> None:
        from .venues._registry import get_venue

        entry = get_venue(spec.venue)
        client = entry.client(spec.endpoint)
        url = spec.url if spec.url is not None else client.default_url
        options = dict(spec.options)
        catalogue_options = (
            dict(spec.catalogue_options) if spec.catalogue_options is not None else options
        )
        adapter = await UnifiedAdapter.for_venue(
            spec.venue,
            url,
            catalogue=spec.catalogue,
            catalogue_url=spec.catalogue_url,
            feed=slot.label,
            endpoint=spec.endpoint,
            **catalogue_options,
        )
        policy = spec.policy if spec.policy is not None else RetryPolicy(max_attempts=None)
        async with (
            retry_scope(
                lambda: client.connect(url, **options),
                policy=policy,
                event_buffer=spec.event_buffer,
            ) as ws,
            AsyncExitStack() as stack,
        ):
            slot.state = "live"
            if spec.topics:
                await ws.subscribe(*spec.topics)
            source: _HasEvents = ws
            if spec.books:
                snapshots = None
                if spec.book_snapshots is not None:
                    snapshots = await stack.enter_async_context(spec.book_snapshots())
                source = await stack.enter_async_context(
                    _bookfeed.book_feed(ws, spec.venue, spec.books, snapshots=snapshots)
                )
            await self._pump(slot, source, adapter)

    async def _pump(self, slot: _Slot, source: _HasEvents, adapter: UnifiedAdapter) -> None:
        convert = adapter.convert
        put = self._put
        async for event in source.events:
            kind = type(event)
            if kind is Connected:
                slot.state = "live"
            elif kind is Disconnected or kind is Reconnecting:
                slot.state = "reconnecting"
            for item in convert(event):
                await put(slot, item)


def _check_specs(specs: Sequence[FeedSpec]) -> None:
    from .venues._registry import get_venue

    if not specs:
        raise ConfigError("unified_feeds needs at least one FeedSpec")
    seen: set[str] = set()
    for spec in specs:
        if not isinstance(spec, FeedSpec):
            raise ConfigError(f"unified_feeds takes FeedSpec values, got {spec!r}")
        if spec.label in seen:
            raise ConfigError(
                f"two feeds are named {spec.label!r}: give each feed of one venue its own "
                "FeedSpec(name=...)"
            )
        seen.add(spec.label)
        entry = get_venue(spec.venue)
        if entry.unified is None:
            raise ConfigError(f"venue {spec.venue!r} has no unified form yet")
        if not spec.topics and not spec.books:
            raise ConfigError(f"feed {spec.label!r} names no topics and no books")
        problem = entry.topics.problem(spec.topics) if spec.topics else None
        if problem is not None:
            raise ConfigError(f"feed {spec.label!r}: {problem}")
        if spec.books and entry.book is None:
            raise ConfigError(f"venue {spec.venue!r} has no order-book adapter")


@asynccontextmanager
async def unified_feeds(
    specs: Sequence[FeedSpec],
    *,
    buffer: int = 1024,
    max_bytes: int = _DEFAULT_MAX_BYTES,
    overflow: OverflowPolicy = "block",
    fail_fast: bool = False,
) -> AsyncIterator[UnifiedFeeds]:
    """Run several venue feeds in one nursery; iterate their unified items as one stream.

    ``async with unified_feeds([FeedSpec(venue="binance", topics=["btcusdt@trade"]),
    FeedSpec(venue="okx", topics=["trades:BTC-USDT"])]) as feeds: async for
    item in feeds: ...``. Each feed runs in its own task: it loads its
    venue's catalogue, opens its own ``retry_scope`` (reconnects, replayed
    subscriptions, ``DataGap``), subscribes, and puts its unified items on
    the merged channel (see the module docstring for its bounds and the
    overflow policies). The block is entered at once; feeds connect in the
    background (:meth:`UnifiedFeeds.status` tells where each stands).

    Args:
        specs: the feeds (names must be unique: see :attr:`FeedSpec.name`).
        buffer: capacity of the merged channel in items (>= the number of feeds).
        max_bytes: its byte budget (estimated), shared out like ``buffer``.
        overflow: ``"block"`` or ``"drop_oldest"``, per feed (module docstring).
        fail_fast: one feed failing ends every feed and the block (the error
            is raised out of ``async with``); default: it is a ``FeedFailed``
            event and the others go on.

    Raises:
        ConfigError: an invalid spec or setting (unknown venue, topics the
            venue cannot subscribe, a venue without a unified form ...).
        TrioVenuesError: with ``fail_fast``, the error that ended a feed.

    Leaving the block cancels every feed (their connections close). An
    exception from the body propagates as itself.
    """
    if overflow not in ("block", "drop_oldest"):
        raise ConfigError(f"overflow must be 'block' or 'drop_oldest', got {overflow!r}")
    _check_specs(specs)
    n = len(specs)
    if not isinstance(buffer, int) or isinstance(buffer, bool) or buffer < n:
        raise ConfigError(f"buffer must be an int >= the number of feeds ({n}), got {buffer!r}")
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < n * 1024:
        raise ConfigError(f"max_bytes must be an int >= 1024 per feed, got {max_bytes!r}")
    slots = [_Slot(spec, buffer // n, max_bytes // n) for spec in specs]
    feeds = UnifiedFeeds(slots, overflow)
    feeds._fail_fast = fail_fast
    bare: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            for slot in slots:
                await nursery.start(feeds._run, slot, name=f"unified feed {slot.label}")
            with trio.CancelScope() as body:
                # Only a failing feed under fail_fast cancels this scope; its error
                # is raised below, once the block has unwound.
                feeds._body = body
                await trio.lowlevel.checkpoint()
                yield feeds
            nursery.cancel_scope.cancel(reason="unified_feeds block ended")
    except BaseExceptionGroup as group:
        bare = single_exception(group)
        if bare is None:
            raise
    if bare is not None:
        raise bare
    if feeds._failure is not None:
        raise feeds._failure
