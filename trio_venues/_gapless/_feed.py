"""The Trio shell of the gapless feed: its connections, their events, and the switches.

How it is built, and why:

- **Each connection is a** ``retry_scope`` (a *link*). Unplanned drops are
  therefore handled exactly as ``retry_scope`` handles them (backoff under
  the :class:`~trio_venues.RetryPolicy`, the circuit breaker, replay of the
  link's topics); the feed only reads the link's events and decides what they
  mean for the merged stream. A link that gives up (``RetriesExhausted``)
  ends the feed with that error, as ``retry_scope`` ends its block.
- **Per link, three tasks**: the *pump* reads the link's events in order and
  feeds its messages to the pure :class:`~trio_venues._gapless._merge.Merger`;
  the *sync* task keeps the link's acknowledged topics equal to what the
  placement wants (subscribe, unsubscribe, refusals); the *age* task starts a
  rotation ``rotate_margin`` seconds before the venue's planned cut.
- **One event channel** (``feed.events``, the connections' own
  ``EventChannel``: it yields to the scheduler every few dozen events rather
  than at each one). The merger's output is put on it as it is decided, in
  order. Its capacity is ``event_buffer``: a pump that finds it that full
  stops reading its link until the consumer has taken it down to half, so the
  overflow policy is *block*, as for ``retry_scope``: a consumer that does
  not read holds the links, and each link's own ``overflow_policy`` then
  applies. What one pump adds past the capacity before it stops is bounded
  by one message plus what a joining connection held (``pending_limit``).
  Once the feed is closing, the feed's own events that find it full are
  dropped (nobody may be reading any more); messages still arriving while
  the connections close are bounded by those connections' buffers. Each
  pump reads its link's events without a scheduler round per event too,
  yielding every ``_YIELD_EVERY`` events.
- **Switches** (rotation, rebalancing) run as tasks of the feed's nursery: a
  switch outlives the link it retires.
"""

from __future__ import annotations

import collections
import math
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import attrs
import trio

from .._channel import EventChannel
from .._client import VenueClient, _build_core
from .._config import ConnectionConfig
from .._groups import single_exception
from .._identity import TopicIds
from .._retry import RetryingConnection, RetryPolicy, reason_label, retry_scope
from ..errors import (
    ConfigError,
    ConnectionLost,
    NotConnected,
    RateLimitExceeded,
    RequestTimeout,
    RetriesExhausted,
    SubscriptionError,
    VenueError,
)
from ..events import (
    Connected,
    ConnectionClosed,
    ConnectionDown,
    ConnectionOpened,
    ConnectionRetrying,
    ConnectionUp,
    DataGap,
    Disconnected,
    ErrorEvent,
    Event,
    GapDetected,
    Message,
    PingReceived,
    PlacementChanged,
    PongReceived,
    Reconnecting,
    Resubscribed,
    Rotated,
    ShutdownNotice,
    Subscribed,
    Unsubscribed,
)
from ._merge import Merger
from ._placement import Placement

__all__ = ["GaplessFeed", "gapless_feed"]

#: Events of a link that the feed handles itself and does not pass on.
_LINK_ONLY = (DataGap, Subscribed, Unsubscribed, PingReceived, PongReceived)

# A pump yields to the scheduler at least this often while events keep coming.
_YIELD_EVERY = 64

# After a subscribe the venue did not acknowledge in time, the sync task waits
# this long before trying again (the link's connection itself stays up).
_RESYNC_DELAY = 1.0

_VENUE: Any = object()  # "ask the venue" default of max_connection_age


@attrs.frozen
class _Facts:
    """What the feed asks the venue: ids per topic, per-connection fit, planned cut."""

    ids: Callable[[str], TopicIds | None]
    fits: Callable[[Sequence[str]], bool]
    max_age: float | None


def _venue_facts(
    venue: type[VenueClient[Any]],
    url: str | None,
    endpoint: str | None,
    options: dict[str, Any],
) -> _Facts:
    """Build a venue core (no connection) and read its facts from it."""
    base = ConnectionConfig(**venue.default_options)
    config = ConnectionConfig.build(base, url, options)
    name, target = venue.resolve_endpoint(config.url, endpoint)
    core = _build_core(venue.make_core, config, target, name, None)
    return _Facts(ids=core.topic_ids, fits=core.connection_fits, max_age=core.max_connection_age)


@attrs.define(eq=False)
class _Link:
    """One connection of the feed: a ``retry_scope`` and what the feed knows of it."""

    id: int
    shard: int
    copy: int
    url: str
    why: str
    want: dict[str, None]
    rs: RetryingConnection[Any] | None = None
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    wake: trio.Event = attrs.field(factory=trio.Event)
    done: trio.Event = attrs.field(factory=trio.Event)
    opened: bool = False  # its topics were acknowledged once: ConnectionOpened went out
    synced_at: float = 0.0
    acked_at: float = 0.0  # the last acknowledged subscription change
    retiring: bool = False  # being replaced: it is closed, never reconnected
    retired: bool = False  # switched away from: its messages are ignored
    closing: bool = False
    closed_reported: bool = False
    ended: bool = False
    down: bool = False
    gaps: tuple[str, ...] = ()  # topics that got a DataGap when it went
    last_received: float = 0.0
    rotate_at: float = math.inf
    age_scope: trio.CancelScope | None = None


class GaplessFeed:
    """The object ``gapless_feed`` yields: one event channel over many connections.

    ``events`` carries every topic's messages once each, in order per topic,
    whichever connection they came on, and the feed's own events
    (``ConnectionOpened``/``ConnectionClosed``/``PlacementChanged``,
    ``ConnectionDown``/``ConnectionRetrying``/``ConnectionUp``, ``Rotated``,
    ``DataGap``), plus the connections' ``ErrorEvent``, ``RateLimited`` and
    ``GapDetected`` (a sequence gap is passed on only when no other
    connection covers the topic). Per-connection ``Connected``,
    ``Disconnected``, ``Subscribed``, pings and pongs are not passed on: the
    feed's own events say what they mean for the feed.

    Attributes:
        events: the bounded event channel (capacity ``event_buffer``); read
            it: when it is full the connections wait (see the module docstring).
        reconnects: reconnections of any connection, by reason label.
        rotations: completed rotations.
    """

    def __init__(
        self,
        *,
        connect: Callable[[str], AbstractAsyncContextManager[Any]],
        facts: _Facts,
        urls: Sequence[str],
        copies: int,
        policy: RetryPolicy,
        rotate_margin: float,
        overlap_timeout: float,
        event_buffer: int,
        pending_limit: int,
        link_buffer: int,
    ) -> None:
        self._connect = connect
        self._facts = facts
        self._urls = tuple(urls)
        self._copies = copies
        self._policy = policy
        self._rotate_margin = rotate_margin
        self._overlap_timeout = overlap_timeout
        self._link_buffer = link_buffer
        self._capacity = event_buffer
        self._events = EventChannel()
        self.events: trio.abc.ReceiveChannel[Event] = self._events
        # The merger puts straight on the channel (one call less per message);
        # the feed's own events go through _deliver (the closing policy).
        self._merger = Merger(self._events.put, pending_limit)
        self._placement = Placement(facts.fits)
        self._links: dict[int, _Link] = {}
        self._shards: dict[int, list[_Link]] = {}
        self._link_ids = 0
        self._lock = trio.Lock()  # subscription changes and rebalancing, one at a time
        self._changed = trio.Event()
        self._refused: dict[str, VenueError] = {}
        self._awaiting: collections.Counter[str] = collections.Counter()
        self._merges_seen = 0
        self._last_notice: ShutdownNotice | None = None
        self._nursery: trio.Nursery | None = None
        self._body_scope: trio.CancelScope | None = None
        self._closing = False
        self._failure: RetriesExhausted | None = None
        self.reconnects: collections.Counter[str] = collections.Counter()
        self.rotations = 0

    # -- what users read ---------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events.__aiter__()

    @property
    def subscriptions(self) -> frozenset[str]:
        """Every topic the feed carries (acknowledged or on its way)."""
        return self._placement.topics

    @property
    def placement(self) -> dict[int, tuple[str, ...]]:
        """Connection number -> the topics the venue acknowledged on it, for live connections."""
        out: dict[int, tuple[str, ...]] = {}
        for link in self._links.values():
            if link.rs is not None and not link.ended and not link.retired:
                out[link.id] = tuple(sorted(link.rs.subscriptions))
        return out

    @property
    def shards(self) -> dict[int, tuple[str, ...]]:
        """Shard number -> its topics (each shard is carried by ``copies`` connections)."""
        return {s: tuple(t) for s, t in self._placement.shards.items()}

    @property
    def duplicates(self) -> int:
        """Messages dropped because another connection delivered them first."""
        return self._merger.duplicates

    # -- subscriptions -----------------------------------------------------------------

    async def subscribe(self, *topics: str) -> None:
        """Add topics: placed on connections with room (opening new ones as needed).

        Returns once each topic is acknowledged on at least one connection of
        its shard (the other copies follow in the background). Read
        ``events`` meanwhile: acknowledgements travel behind the data.

        Raises:
            SubscriptionError: the venue refused some topics (the others stay).
            ConfigError: a topic no connection of the venue may carry.
            NotConnected: the feed has ended.
        """
        self._check_open()
        async with self._lock:
            added = self._place(topics)
        await self._settle(added)

    def _place(self, topics: Iterable[str]) -> list[str]:
        """Place new topics on shards (opening connections as needed); return them."""
        plan = self._placement.add(topics)
        added = [t for shard_topics in plan.values() for t in shard_topics]
        for topic in added:
            self._merger.add_topic(topic, self._facts.ids(topic))
            self._awaiting[topic] += 1
        for shard, shard_topics in plan.items():
            links = self._shards.get(shard)
            if links is None:
                self._shards[shard] = [
                    self._open_link(shard, copy, "shard" if copy == 0 else "copy", shard_topics)
                    for copy in range(self._copies)
                ]
                continue
            for link in links:
                link.want.update(dict.fromkeys(shard_topics))
                link.wake.set()
        return added

    async def _settle(self, added: list[str]) -> None:
        """Wait until ``added`` are acknowledged or refused; raise for the refused ones."""
        try:
            await self._wait_until(lambda: all(self._settled(t) for t in added))
        finally:
            for topic in added:
                self._awaiting[topic] -= 1
                if self._awaiting[topic] <= 0:
                    del self._awaiting[topic]
        refused = {t: self._refused[t] for t in added if t in self._refused}
        for topic in refused:
            if topic not in self._awaiting:
                self._refused.pop(topic, None)
        if refused:
            first = next(iter(refused.values()))
            raise SubscriptionError(first.code, first.message, list(refused), errors=refused)

    async def unsubscribe(self, *topics: str) -> None:
        """Remove topics; a connection left with none is closed.

        When the topics of one connection's shard now fit on the others,
        they move there make-before-break and that connection closes
        (``ConnectionClosed(why="rebalanced")``): the only rebalancing.
        Returns once the venue acknowledged the removal.
        """
        self._check_open()
        async with self._lock:
            lost, emptied = self._placement.remove(topics)
            removed = [t for shard_topics in lost.values() for t in shard_topics]
            for topic in removed:
                self._merger.remove_topic(topic)
            closing = []
            for shard, shard_topics in lost.items():
                if shard in emptied:
                    closing.extend(self._shards.pop(shard, []))
                    continue
                for link in self._shards.get(shard, []):
                    for topic in shard_topics:
                        link.want.pop(topic, None)
                    link.wake.set()
            async with trio.open_nursery() as nursery:
                for link in closing:
                    nursery.start_soon(self._close_link, link, "empty")
            await self._wait_until(lambda: not any(self._carried(t) for t in removed))
            await self._consolidate()

    async def wait_ready(self) -> None:
        """Wait until every topic is acknowledged on at least one connection of its shard."""
        await self._wait_until(lambda: all(self._settled(t) for t in self._placement.topics))

    async def rotate(self, connection: int) -> None:
        """Replace ``connection`` make-before-break now (as before a planned cut).

        Returns once the switch is done (``Rotated`` is on ``events``).

        Raises:
            ValueError: no live connection has that number.
        """
        link = self._links.get(connection)
        if link is None or link.ended or link.retiring or link.closing:
            raise ValueError(f"the feed has no live connection {connection}")
        await self._rotate(link, "manual")

    async def aclose(self) -> None:
        """Close every connection (``ConnectionClosed(why="closed")``) and end ``events``.

        Idempotent. Leaving the ``async with`` block normally does this.
        """
        if self._closing:
            return
        self._closing = True
        self._events.wake_producer()
        self._notify()
        async with trio.open_nursery() as nursery:
            for link in list(self._links.values()):
                if not link.ended:
                    nursery.start_soon(self._close_link, link, "closed")

    # -- helpers for the user-facing calls ------------------------------------------------

    def _check_open(self) -> None:
        if self._failure is not None:
            raise NotConnected(f"the gapless feed gave up: {self._failure}")
        if self._closing:
            raise NotConnected("the gapless feed has ended; open a new one")

    def _live_links(self, topic: str) -> list[_Link]:
        shard = self._placement.shard_of(topic)
        return [] if shard is None else self._shards.get(shard, [])

    def _settled(self, topic: str) -> bool:
        """Acknowledged on one connection of its shard, or refused."""
        if topic in self._refused or self._placement.shard_of(topic) is None:
            return True
        return any(
            link.rs is not None and topic in link.rs.subscriptions
            for link in self._live_links(topic)
        )

    def _carried(self, topic: str) -> bool:
        """Still acknowledged on a live (not retiring) connection that no longer wants it."""
        for links in self._shards.values():
            for link in links:
                rs = link.rs
                if (
                    rs is not None
                    and not link.down
                    and topic in rs.subscriptions
                    and topic not in link.want
                ):
                    return True
        return False

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def _wait_until(self, predicate: Callable[[], bool]) -> None:
        await trio.lowlevel.checkpoint()
        while not predicate():
            self._check_open()
            await self._changed.wait()

    # -- delivery ----------------------------------------------------------------------

    def _deliver(self, event: Event) -> None:
        """Put ``event`` on ``events``, in order (the merger's sink)."""
        events = self._events
        if self._closing and len(events) >= self._capacity:
            return  # closing: dropped, as the module docstring says
        events.put(event)

    async def _room(self) -> None:
        """Wait until the consumer has taken ``events`` down to half its capacity."""
        events = self._events
        below = max(1, self._capacity // 2)
        while len(events) >= below and not self._closing and not events.receiver_closed:
            await events.wait_for_room(below)

    # -- links ---------------------------------------------------------------------------

    def _open_link(self, shard: int, copy: int, why: str, topics: Iterable[str]) -> _Link:
        """Create a link and start its task in the feed's nursery."""
        assert self._nursery is not None
        self._link_ids += 1
        url = self._urls[copy % len(self._urls)]
        link = _Link(self._link_ids, shard, copy, url, why, dict.fromkeys(topics))
        self._links[link.id] = link
        self._nursery.start_soon(self._run_link, link)
        return link

    async def _run_link(self, link: _Link) -> None:
        try:
            with link.scope:
                async with retry_scope(
                    partial(self._connect, link.url),
                    policy=self._policy,
                    send_policy="wait",
                    event_buffer=self._link_buffer,
                ) as rs:
                    link.rs = rs
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._sync, link, rs)
                        if self._facts.max_age is not None:
                            nursery.start_soon(self._age_timer, link)
                        await self._pump(link, rs)
                        nursery.cancel_scope.cancel(reason="the connection's events ended")
        except RetriesExhausted as exc:
            if not link.closing and not self._closing:
                self._give_up(exc)
        finally:
            link.ended = True
            link.done.set()
            self._notify()

    async def _pump(self, link: _Link, rs: RetryingConnection[Any]) -> None:
        """Read the link's events in order; messages go to the merger."""
        merger = self._merger
        on_message = merger.on_message
        lid = link.id
        source = rs.events
        receive_nowait = source.receive_nowait
        events = self._events
        capacity = self._capacity
        since_yield = 0
        while True:
            try:
                event = receive_nowait()
            except trio.WouldBlock:
                since_yield = 0
                try:
                    event = await source.receive()
                except trio.EndOfChannel:
                    return
            except trio.EndOfChannel:
                return
            else:
                since_yield += 1
                if since_yield >= _YIELD_EVERY:
                    since_yield = 0
                    await trio.lowlevel.checkpoint()
            if type(event) is Message:
                link.last_received = event.received_at
                if not link.retired and not on_message(lid, event):
                    self._stray(link, event)
                if merger.changes != self._merges_seen:
                    self._merges_seen = merger.changes
                    self._notify()
            else:
                self._on_link_event(link, event)
            if len(events) >= capacity:
                await self._room()

    def _stray(self, link: _Link, event: Message) -> None:
        """A message of a topic the feed does not merge: passed on from one connection only."""
        links = self._shards.get(link.shard)
        if links and links[0] is link:
            self._deliver(event)

    def _on_link_event(self, link: _Link, event: Event) -> None:
        now = trio.current_time()
        if isinstance(event, Connected):
            link.down = False
            if self._facts.max_age is not None:
                link.rotate_at = (event.at or now) + self._facts.max_age - self._rotate_margin
                if link.age_scope is not None:
                    link.age_scope.deadline = link.rotate_at
        elif isinstance(event, Disconnected):
            link.down = True
            since = link.last_received or now
            lost, gapped = self._merger.remove_link(link.id, min(since, now), now)
            link.gaps = gapped
            if link.retiring or link.closing:
                if not link.closing and self._nursery is not None:
                    # The venue ended a connection being replaced: do not reconnect it.
                    self._nursery.start_soon(self._close_link, link, "rotated")
            else:
                topics = tuple(link.want)
                covered = tuple(t for t in topics if t not in lost)
                self._deliver(ConnectionDown(link.id, event.reason, covered, lost))
        elif isinstance(event, Reconnecting):
            self.reconnects[reason_label(event.reason)] += 1
            if not (link.retiring or link.closing):
                self._deliver(ConnectionRetrying(link.id, event.attempt, event.delay, event.reason))
        elif isinstance(event, Resubscribed):
            self._merger.attach(link.id, event.topics, now)
            self._deliver(ConnectionUp(link.id, event.topics))
        elif isinstance(event, GapDetected):
            if link.retired or self._merger.demote(link.id, event.topic):
                return
            self._deliver(event)
        elif isinstance(event, _LINK_ONLY):
            return
        elif isinstance(event, ShutdownNotice):
            if not event.this_connection:
                # About the venue's service: every connection goes; nothing to switch to.
                if event != self._last_notice:
                    self._last_notice = event
                    self._deliver(event)
            elif self._nursery is not None and not (link.retiring or link.closing):
                self._nursery.start_soon(self._rotate, link, "notice")
            return
        else:
            self._deliver(event)
        self._notify()

    async def _sync(self, link: _Link, rs: RetryingConnection[Any]) -> None:
        """Keep the link's acknowledged topics equal to ``link.want``."""
        while True:
            have = rs.subscriptions
            add = [t for t in link.want if t not in have]
            remove = [t for t in have if t not in link.want]
            if not add and not remove:
                if not link.opened:
                    link.opened = True
                    link.synced_at = link.acked_at = trio.current_time()
                    self._deliver(
                        ConnectionOpened(
                            link.id, link.shard, link.copy, link.url, tuple(sorted(have)), link.why
                        )
                    )
                self._notify()
                await link.wake.wait()
                link.wake = trio.Event()
                continue
            added: list[str] = []
            try:
                if add:
                    await rs.subscribe(*add)
                    added = add
                if remove:
                    await rs.unsubscribe(*remove)
            except SubscriptionError as exc:
                added = [t for t in add if t not in exc.topics and t in rs.subscriptions]
                self._refuse(exc.topics or tuple(add), exc)
            except RateLimitExceeded as exc:
                if math.isfinite(exc.retry_after):
                    await trio.sleep(exc.retry_after)
                else:
                    refused = tuple(t for t in add if t not in rs.subscriptions)
                    self._refuse(refused, exc)
                continue
            except RequestTimeout as exc:
                self._deliver(ErrorEvent(exc))
                await trio.sleep(_RESYNC_DELAY)
                continue
            except ConnectionLost:
                await trio.lowlevel.checkpoint()
                continue
            except NotConnected:
                return  # the link is closing
            now = trio.current_time()
            if added:
                link.acked_at = now
                self._merger.attach(link.id, added, now)
            if link.opened and (added or remove):
                self._deliver(PlacementChanged(link.id, tuple(added), tuple(remove)))
            self._notify()

    def _refuse(self, topics: Sequence[str], error: Exception) -> None:
        """The venue refused ``topics``: they leave the feed; waiters raise, others see an event."""
        venue_error = (
            error
            if isinstance(error, VenueError)
            else VenueError(None, str(error), retryable=False)
        )
        placed = [t for t in topics if self._placement.shard_of(t) is not None]
        lost, emptied = self._placement.remove(placed)
        for shard, shard_topics in lost.items():
            for link in self._shards.get(shard, []):
                for topic in shard_topics:
                    link.want.pop(topic, None)
        for shard in emptied:
            for link in self._shards.pop(shard, []):
                if self._nursery is not None:
                    self._nursery.start_soon(self._close_link, link, "empty")
        unawaited = False
        for topic in placed:
            self._merger.remove_topic(topic)
            if topic in self._awaiting:
                errors = getattr(error, "errors", {})
                self._refused[topic] = errors.get(topic, venue_error)
            else:
                unawaited = True
        if unawaited:
            self._deliver(ErrorEvent(error))

    async def _age_timer(self, link: _Link) -> None:
        """Start a rotation ``rotate_margin`` seconds before the venue's planned cut."""
        while True:
            with trio.CancelScope(deadline=link.rotate_at) as scope:
                link.age_scope = scope
                await trio.sleep_forever()
            link.age_scope = None
            if trio.current_time() >= link.rotate_at:
                break
        if self._nursery is not None:
            self._nursery.start_soon(self._rotate, link, "age")

    async def _close_link(self, link: _Link, why: str) -> None:
        """Close ``link`` on purpose; ``ConnectionClosed`` once it has ended."""
        if link.closing:
            await link.done.wait()
            return
        link.closing = True
        links = self._shards.get(link.shard)
        if links is not None and link in links:
            links.remove(link)
        if link.rs is not None:
            await link.rs.aclose()
        else:
            link.scope.cancel(reason=f"gapless feed: connection {link.id} {why}")
        await link.done.wait()
        self._merger.remove_link(link.id, trio.current_time(), trio.current_time())
        if not link.closed_reported:
            link.closed_reported = True
            topics = tuple(sorted(link.rs.subscriptions)) if link.rs is not None else ()
            self._deliver(ConnectionClosed(link.id, link.shard, topics, why))
        self._links.pop(link.id, None)
        self._notify()

    # -- switches --------------------------------------------------------------------------

    async def _rotate(self, old: _Link, cause: str) -> None:
        """Replace ``old`` make-before-break (see the gapless docs)."""
        links = self._shards.get(old.shard)
        if old.retiring or old.closing or old.ended or self._closing:
            return
        if links is None or old not in links:
            return
        old.retiring = True
        new = self._open_link(old.shard, old.copy, "rotation", old.want)
        links[links.index(old)] = new
        merger = self._merger
        before = merger.dropped_by_link.get(old.id, 0)
        await self._wait_until(lambda: new.opened or new.ended)
        overlap_from = trio.current_time()
        if not new.ended and not old.down:
            merger.fence(old.id, new.id, new.acked_at)
            with trio.move_on_after(self._overlap_timeout):
                await self._wait_until(
                    lambda: (
                        old.down
                        or new.ended
                        or (merger.joined(new.id, new.want) and merger.fence_passed(new.id))
                        or (merger.joined(new.id, new.want) and not merger.quiet(new.id, new.want))
                    )
                )
        switch_at = trio.current_time()
        gaps = old.gaps
        if not old.down:
            old.retired = True
            since = min(old.last_received or switch_at, switch_at)
            settled = switch_at - overlap_from >= self._overlap_timeout
            _, gaps = merger.remove_link(old.id, since, switch_at, settled=settled)
        await self._close_link(old, "rotated")
        duplicates = (
            merger.dropped_by_link.get(old.id, 0) - before + merger.dropped_by_link.get(new.id, 0)
        )
        self.rotations += 1
        self._deliver(
            Rotated(
                old.id,
                new.id,
                cause,
                tuple(new.want),
                switch_at - overlap_from,
                duplicates,
                gaps,
            )
        )
        self._notify()

    async def _consolidate(self) -> None:
        """Move one shard's topics onto the others when that saves a connection."""
        move = self._placement.consolidation()
        if move is None:
            return
        source, moves = move
        self._placement.apply_move(source, moves)
        retiring = self._shards.pop(source, [])
        for link in retiring:
            link.retiring = True
        targets: list[_Link] = []
        for shard, topics in moves.items():
            for link in self._shards.get(shard, []):
                link.want.update(dict.fromkeys(topics))
                link.wake.set()
                targets.append(link)
        moved = [t for topics in moves.values() for t in topics]
        merger = self._merger

        def acked() -> bool:
            return all(
                link.ended
                or (link.rs is not None and set(moved) & set(link.want) <= link.rs.subscriptions)
                for link in targets
            )

        await self._wait_until(acked)
        for link in targets:
            for old in retiring:
                if old.copy == link.copy and not old.down:
                    merger.fence(old.id, link.id, link.acked_at)
        overlap_from = trio.current_time()
        with trio.move_on_after(self._overlap_timeout):
            await self._wait_until(
                lambda: all(
                    link.ended
                    or (
                        merger.joined(link.id, moved)
                        and (merger.fence_passed(link.id) or not merger.quiet(link.id, moved))
                    )
                    for link in targets
                )
            )
        now = trio.current_time()
        settled = now - overlap_from >= self._overlap_timeout
        for old in retiring:
            if not old.down:
                old.retired = True
                since = min(old.last_received or now, now)
                merger.remove_link(old.id, since, now, settled=settled)
        async with trio.open_nursery() as nursery:
            for old in retiring:
                nursery.start_soon(self._close_link, old, "rebalanced")

    def _give_up(self, error: RetriesExhausted) -> None:
        self._failure = error
        self._notify()
        if self._body_scope is not None:
            self._body_scope.cancel(reason=f"gapless feed gave up: {error}")


_DEFAULT_POLICY = RetryPolicy()


def _check_number(name: str, value: Any, *, low: float, inclusive: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = value >= low if inclusive else value > low
    if not ok:
        bound = f">= {low}" if inclusive else f"> {low}"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}")


def _check_int(name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(f"{name} must be an int >= {low}, got {value!r}")


@asynccontextmanager
async def gapless_feed(
    venue: type[VenueClient[Any]],
    topics: Iterable[str] = (),
    *,
    copies: int = 1,
    urls: Sequence[str] | None = None,
    endpoint: str | None = None,
    connect: Callable[[str], AbstractAsyncContextManager[Any]] | None = None,
    rotate_margin: float = 600.0,
    overlap_timeout: float = 30.0,
    max_connection_age: float | None = _VENUE,
    ids: Callable[[str], TopicIds | None] | None = None,
    policy: RetryPolicy = _DEFAULT_POLICY,
    event_buffer: int = 1024,
    pending_limit: int = 10_000,
    link_buffer: int = 1024,
    **options: Any,
) -> AsyncIterator[GaplessFeed]:
    """Keep topics flowing across many connections with no gap and no duplicate.

    ``async with gapless_feed(BinanceSpot, topics) as feed: async for event
    in feed: ...``. The feed places the topics on as few connections of one
    venue endpoint as the venue's per-connection limits allow, keeps
    ``copies`` live connections per shard, replaces each connection
    make-before-break before the venue's planned cut and on the venue's
    shutdown notices, and merges everything into one channel: each message
    once, in order per topic, by the venue's own ids. See ``docs/gapless.md``.

    The block is entered at once; the topics are subscribed in the background
    (``ConnectionOpened`` events; ``await feed.wait_ready()`` waits for them).

    Args:
        venue: the venue client class (``BinanceSpot``, ``Okx``, ...).
        topics: the topics to start with, in the venue's spelling.
        copies: live connections per shard (>= 1). With 2 or more, losing a
            connection costs nothing: the others deliver, and it reconnects
            in the background.
        urls: the endpoint URLs; copy ``i`` of every shard connects to
            ``urls[i % len(urls)]`` (e.g. two hosts of one venue). Default:
            the venue endpoint's URL.
        endpoint: the venue endpoint (default: the venue's default one).
        connect: ``connect(url)`` -> an async context manager of a connection
            (default ``venue.connect(url, endpoint=..., **options)``, with the
            venue's shutdown notices delivered as events). Give your own to set
            a transport per URL; pass ``shutdown_notice="event"`` in it for
            make-before-break on notices.
        rotate_margin: seconds before the venue's planned cut
            (``max_connection_age``) at which a connection is replaced.
        overlap_timeout: seconds a replacement may take to overlap the
            connection it replaces before the switch is made anyway: topics
            whose messages did not overlap by then get a ``DataGap``; topics
            neither connection had a message of since are quiet and switch
            silently (anything in flight has arrived by then).
        max_connection_age: override the venue's planned connection age
            (``None``: no planned cut, no rotation by age).
        ids: override the venue's id rule per topic (``ids(topic)`` -> a
            ``TopicIds`` or ``None``), for your own venue or stream.
        policy: the ``RetryPolicy`` of each connection.
        event_buffer: capacity of ``feed.events`` (>= 1).
        pending_limit: messages held per connection and topic while a
            replacement catches up (>= 1).
        link_buffer: capacity of each connection's own event channel (>= 1).
        **options: ``ConnectionConfig`` fields for the default ``connect``.

    Yields:
        The :class:`GaplessFeed`.

    Raises:
        RetriesExhausted: a connection's policy gave up; raised bare out of
            ``async with`` after the body was cancelled.
        ConfigError: an invalid argument.
    """
    _check_int("copies", copies, 1)
    _check_int("event_buffer", event_buffer, 1)
    _check_int("pending_limit", pending_limit, 1)
    _check_int("link_buffer", link_buffer, 1)
    _check_number("rotate_margin", rotate_margin, low=0, inclusive=True)
    _check_number("overlap_timeout", overlap_timeout, low=0, inclusive=False)
    if isinstance(urls, str):
        raise ConfigError("urls must be a sequence of URLs, not one str")
    url_list = list(urls) if urls else []
    first_url = url_list[0] if url_list else None
    facts = _venue_facts(venue, first_url, endpoint, dict(options))
    if not url_list:
        url_list = [venue.resolve_endpoint(options.get("url"), endpoint)[1]]
    if max_connection_age is not _VENUE:
        if max_connection_age is not None:
            _check_number("max_connection_age", max_connection_age, low=0, inclusive=False)
        facts = attrs.evolve(facts, max_age=max_connection_age)
    if facts.max_age is not None and rotate_margin >= facts.max_age:
        raise ConfigError(
            f"rotate_margin ({rotate_margin}s) must be below the connection age ({facts.max_age}s)"
        )
    if ids is not None:
        facts = attrs.evolve(facts, ids=ids)
    if connect is None:
        connect_options = dict(options)
        connect_options.setdefault("shutdown_notice", "event")

        def connect(url: str) -> AbstractAsyncContextManager[Any]:
            return venue.connect(url, endpoint=endpoint, **connect_options)

    feed = GaplessFeed(
        connect=connect,
        facts=facts,
        urls=url_list,
        copies=copies,
        policy=policy,
        rotate_margin=rotate_margin,
        overlap_timeout=overlap_timeout,
        event_buffer=event_buffer,
        pending_limit=pending_limit,
        link_buffer=link_buffer,
    )
    initial = list(dict.fromkeys(topics))
    if isinstance(topics, str):
        raise ConfigError("topics must be a sequence of topic names, not one str")
    bare: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            feed._nursery = nursery
            with trio.CancelScope() as body_scope:
                feed._body_scope = body_scope
                if initial:
                    nursery.start_soon(_settle_initial, feed, feed._place(initial))
                yield feed
                await feed.aclose()
            nursery.cancel_scope.cancel(reason="gapless_feed block ended")
    except BaseExceptionGroup as group:
        bare = single_exception(group)
        if bare is None:
            raise
    finally:
        feed._events.finish()
    if bare is not None:
        raise bare
    if feed._failure is not None:
        raise feed._failure


async def _settle_initial(feed: GaplessFeed, topics: list[str]) -> None:
    """The initial topics, acknowledged in the background; refusals become events."""
    try:
        await feed._settle(topics)
    except SubscriptionError as exc:
        feed._deliver(ErrorEvent(exc))
    except NotConnected:
        return
