"""The pure heart of the gapless feed: one ordered, duplicate-free stream per topic.

Several connections (*links*) may carry the same topic at once: the copies of
a redundant shard, a replacement opened before a planned cut, a shard taking
over topics from one being emptied. :class:`Merger` decides, message by
message, which of them is delivered. It does no I/O and reads no clock: times
come in as arguments, and what it delivers goes to a ``sink`` callable given
by the Trio shell (``_feed.py``), in order.

**Ids.** A topic with an id rule (the venue's ``TopicIds``: ``span(data)`` ->
``(first, last)`` venue ids carried by a message, the same on every
connection, increasing per topic) is merged by id. The topic keeps one cursor,
``last``: the highest id delivered. A message is delivered when its first id is
above the cursor, dropped as a duplicate when its last id is not, and trimmed
(``trim(data, last)``) when it straddles the cursor; without a ``trim`` a
straddling message is delivered whole (venues whose messages carry one id never
straddle).

**Joining.** A link's *feed* of a topic is *joined* once its stream is known
to continue the delivered one without a hole: when the cursor is at or past
the first id that link saw (the old connection has delivered an id the new one
also has). Until then its messages are held (at most ``pending_limit`` per
feed; when full the oldest goes and the feed's first id moves up, which only
means the join needs the others to get a little further), and the moment it
joins, those held past the cursor are delivered. Any joined feed may deliver
(first copy wins). No contiguous ids are needed: only the order.

**Coverage.** A topic is *covered* while one of its feeds is joined. When the
last joined feed goes (its connection dropped), the topic is *lost*. A lost
topic is taken over by a feed whose link has the topic acknowledged (*ready*),
at once if one exists or when one becomes ready: that is a forced join, and
the merger first emits ``DataGap(topics, since, until)`` (it cannot prove the
streams meet), then the held messages past the cursor. A topic nothing was
delivered for yet joins its first feed with no gap.

**Topics without ids** (no rule, or a message whose ``span`` is ``None``) are
delivered from one feed only, the topic's *primary*; moving the primary to
another link emits a ``DataGap`` for that topic, since nothing can tell what
was missed or repeated around the switch.

**One feed, no ids read.** While a topic has a single feed, joined, whose
last message was delivered (not dropped), and no switch is under way, nothing
can be duplicated: its messages are delivered as they come and only the last
one is kept. Its id is read (the cursor is
*materialised*) the moment a second feed or a fence appears. That keeps the
cost of a one-copy feed to a dictionary lookup per message.

**Rotation fence.** Before an old link is retired, the topics its successor
saw no message of yet ("quiet" topics) are safe to switch only once the old
link has caught up with the successor: it has carried an id, of any topic, at
or past one the successor received after its subscriptions were
acknowledged. A venue writes a connection's messages in order, so the old
link has then delivered everything sent before the successor's topics went
live, and everything after is on the successor. See :meth:`Merger.fence`.
"""

from __future__ import annotations

import collections
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..events import DataGap, Event, Message

__all__ = ["IdRule", "Merger"]


class IdRule(Protocol):
    """What the merger needs of a venue's ``TopicIds``."""

    @property
    def span(self) -> Callable[[Any], tuple[int, int] | None]:
        """``span(data)`` -> the first and last venue id a message carries, or ``None``."""

    @property
    def trim(self) -> Callable[[Any, int], Any] | None:
        """``trim(data, after)`` -> the payload keeping only ids above ``after``; ``None``."""


class _Feed:
    """One link's stream of one topic."""

    __slots__ = ("first", "first_at", "head", "held", "joined", "ready")

    def __init__(self, ready: bool) -> None:
        self.joined = False
        # Its last message was delivered (not dropped): it leads the topic, so
        # everything it brings next is new (ids grow along one connection).
        self.head = False
        self.ready = ready  # the link has the topic acknowledged
        self.first: int | None = None  # the first id this feed saw (while not joined)
        self.first_at = 0.0
        self.held: deque[tuple[Message, int, int]] | None = None


class _Topic:
    """The merge state of one topic."""

    __slots__ = (
        "feeds",
        "last",
        "last_msg",
        "lost_since",
        "name",
        "primary",
        "restarts",
        "solo",
        "span",
        "trim",
        "waiting",
    )

    def __init__(self, name: str, rule: IdRule | None) -> None:
        self.name = name
        self.span = None if rule is None else rule.span
        self.trim = None if rule is None else rule.trim
        self.restarts: Callable[[Any], bool] | None = getattr(rule, "restarts", None)
        self.last: int | None = None  # the highest id delivered
        self.feeds: dict[int, _Feed] = {}
        self.waiting = 0  # feeds not joined yet that saw an id
        self.primary: int | None = None  # the link that delivers id-less messages
        self.lost_since: float | None = None  # when the last joined feed went
        # The one joined feed's link while it is the only feed (the fast path),
        # and the last message it delivered (its id is read when needed).
        self.solo: int | None = None
        self.last_msg: Message | None = None

    def covered(self) -> bool:
        return any(f.joined for f in self.feeds.values())

    def settle(self) -> None:
        """Leave the fast path: read the cursor from the last message delivered on it.

        A last message carrying no id leaves the cursor where the last one
        with an id put it (or where the fast path began).
        """
        msg = self.last_msg
        if msg is not None:
            self.last_msg = None
            span = self.span
            ids = None if span is None else span(msg.data)
            if ids is not None:
                self.last = ids[1]
        self.solo = None


class _Fence:
    """A successor's catch-up mark for its predecessor (see the module docstring)."""

    __slots__ = ("acked_at", "marks", "new", "old", "passed")

    def __init__(self, old: int, new: int, acked_at: float) -> None:
        self.old = old
        self.new = new
        self.acked_at = acked_at
        self.marks: dict[str, int] = {}  # topic -> first id the successor got after acked_at
        self.passed = False


class Merger:
    """Merge the links' messages into one stream (see the module docstring).

    Args:
        sink: called with each event to deliver, in order (messages, and the
            ``DataGap`` events the merger decides on).
        pending_limit: messages held per feed while it waits to join (>= 1).

    Attributes:
        duplicates: messages dropped because another link delivered them first.
        trimmed: messages delivered trimmed (part of them was delivered already).
        straddled: messages delivered whole although part of their ids was
            delivered already (a venue without ``trim`` for a batched topic).
        dropped_by_link: duplicates dropped per link id.
        changes: counts joins and fences passed (what switches wait for).
    """

    def __init__(self, sink: Callable[[Event], object], pending_limit: int = 10_000) -> None:
        if pending_limit < 1:
            raise ValueError(f"pending_limit must be >= 1, got {pending_limit!r}")
        self._sink = sink
        self._pending_limit = pending_limit
        self._topics: dict[str, _Topic] = {}
        self._fences: dict[int, _Fence] = {}  # successor link -> its fence
        self._fencing_old: dict[int, list[_Fence]] = {}  # predecessor -> its successors' fences
        self.duplicates = 0
        self.trimmed = 0
        self.straddled = 0
        self.dropped_by_link: collections.defaultdict[int, int] = collections.defaultdict(int)
        #: counts joins and passed fences: a caller waiting for them watches it
        self.changes = 0

    # -- topics and links ----------------------------------------------------------

    @property
    def topics(self) -> frozenset[str]:
        """The topics being merged."""
        return frozenset(self._topics)

    def add_topic(self, topic: str, rule: IdRule | None) -> None:
        """Merge ``topic`` from now on (``rule``: its ids, or ``None``: it has none)."""
        if topic not in self._topics:
            self._topics[topic] = _Topic(topic, rule)

    def remove_topic(self, topic: str) -> None:
        """Forget ``topic`` (unsubscribed): its later messages are strays."""
        self._topics.pop(topic, None)
        for fence in self._fences.values():
            fence.marks.pop(topic, None)

    def has_ids(self, topic: str) -> bool:
        """Whether ``topic`` is merged by id."""
        state = self._topics.get(topic)
        return state is not None and state.span is not None

    def attach(self, link: int, topics: Iterable[str], now: float) -> None:
        """``link`` has ``topics`` acknowledged: its feeds are ready.

        A lost topic (no joined feed) is taken over by this link at once,
        with a ``DataGap`` (see the module docstring); a topic nothing was
        delivered for yet joins it with no gap.
        """
        forced: list[_Topic] = []
        touched: list[_Topic] = []
        for topic in topics:
            state = self._topics.get(topic)
            if state is None:
                continue
            if state.solo is not None:
                state.settle()
            touched.append(state)
            feed = state.feeds.get(link)
            if feed is None:
                feed = state.feeds[link] = _Feed(ready=True)
            feed.ready = True
            if state.span is None:
                if state.primary is None:
                    if state.lost_since is None:
                        state.primary = link
                    else:
                        forced.append(state)
                continue
            if feed.joined or state.covered() or state.last is None:
                continue
            forced.append(state)
        if forced:
            self._take_over(link, forced, now)
        for state in touched:
            self._refresh(state)

    def detach(
        self, link: int, topics: Iterable[str], since: float, now: float
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``link`` no longer carries ``topics`` (see :meth:`remove_link` for the result)."""
        states = [s for s in (self._topics.get(t) for t in topics) if s is not None]
        return self._leave(link, states, since, now)

    def remove_link(
        self, link: int, since: float, now: float, *, settled: bool = False
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``link`` is gone (its connection dropped, or it was retired); forget its feeds.

        Each topic it alone covered passes to another link that has it
        acknowledged: silently when that link saw no message of it yet and
        has passed its fence with ``link`` (a rotation or a move, see
        :meth:`fence`) or when ``settled`` (the caller waited long enough for
        anything in flight on ``link`` to have arrived), otherwise with a
        ``DataGap`` from ``since`` (when ``link`` last received data) to
        ``now``. Topics no other link has acknowledged are lost until one
        does (:meth:`attach`). Returns (the topics left lost, the topics
        taken over with a ``DataGap``).
        """
        states = [s for s in self._topics.values() if link in s.feeds]
        lost = self._leave(link, states, since, now, settled=settled)
        self._clear_fences(link)
        return lost

    def demote(self, link: int, topic: str | None) -> bool:
        """``link`` reported a sequence gap on ``topic`` (``None``: every topic).

        Where another link covers the topic, this link's feed goes back to
        joining (its stream has a hole the others do not) and ``True`` is
        returned: the gap is not the feed's. ``False``: no other link covers
        some topic; the gap is real and the caller reports it.
        """
        names = list(self._topics) if topic is None else [topic]
        covered_all = True
        for name in names:
            state = self._topics.get(name)
            if state is None:
                continue
            if state.solo is not None:
                state.settle()
            feed = state.feeds.get(link)
            if feed is None or not feed.joined:
                continue
            others = any(f.joined for k, f in state.feeds.items() if k != link)
            if not others or state.span is None:
                covered_all = False
                continue
            feed.joined = False
            feed.first = None
            feed.held = None
            if state.primary == link:
                state.primary = next(k for k, f in state.feeds.items() if f.joined)
            self._refresh(state)
        return covered_all

    def joined(self, link: int, topics: Iterable[str]) -> bool:
        """Whether ``link`` is joined on every id-carrying topic of ``topics`` that it saw.

        A feed that saw no message yet does not hold this up (see :meth:`remove_link`).
        """
        for topic in topics:
            state = self._topics.get(topic)
            if state is None or state.span is None:
                continue
            feed = state.feeds.get(link)
            if feed is not None and not feed.joined and feed.first is not None:
                return False
        return True

    def quiet(self, link: int, topics: Iterable[str]) -> bool:
        """Whether ``link`` saw no message yet of some id-carrying topic of ``topics``."""
        for topic in topics:
            state = self._topics.get(topic)
            if state is None or state.span is None:
                continue
            feed = state.feeds.get(link)
            if feed is None or (not feed.joined and feed.first is None and not feed.held):
                return True
        return False

    def fence(self, old: int, new: int, acked_at: float) -> None:
        """Start watching for ``old`` to catch up with ``new`` (acknowledged at ``acked_at``).

        ``new`` notes the first id of each topic it receives from
        ``acked_at`` on; the fence passes when ``old`` carries an id at or
        past one of those marks.
        """
        fence = _Fence(old, new, acked_at)
        self._fences[new] = fence
        self._fencing_old.setdefault(old, []).append(fence)
        self._refresh_all()

    def fence_passed(self, new: int) -> bool:
        """Whether ``new``'s predecessor has caught up with it."""
        fence = self._fences.get(new)
        return fence is not None and fence.passed

    def _clear_fences(self, link: int) -> None:
        fence = self._fences.pop(link, None)
        if fence is not None:
            others = self._fencing_old.get(fence.old, [])
            if fence in others:
                others.remove(fence)
            if not others:
                self._fencing_old.pop(fence.old, None)
        for fence in self._fencing_old.pop(link, []):
            self._fences.pop(fence.new, None)
        if not self._fences:
            self._refresh_all()

    def _refresh(self, state: _Topic) -> None:
        """Take the fast path when one joined feed is all there is (see the module docstring)."""
        if state.span is not None and len(state.feeds) == 1 and not self._fences:
            ((link, feed),) = state.feeds.items()
            if feed.joined and feed.head:
                state.solo = state.primary = link
                return
        if state.solo is not None:
            state.settle()

    def _refresh_all(self) -> None:
        for state in self._topics.values():
            self._refresh(state)

    # -- messages ------------------------------------------------------------------

    def on_message(self, link: int, msg: Message) -> bool:
        """Take one message of ``link``; deliver it, hold it or drop it.

        Returns ``False`` for a *stray*: a message of a topic the merger does
        not know (the caller decides), ``True`` otherwise.
        """
        state = self._topics.get(msg.topic)  # type: ignore[arg-type]
        if state is None:
            return False
        if state.solo == link:
            state.last_msg = msg
            self._sink(msg)
            return True
        if state.solo is not None:
            state.settle()
        self._on_message(state, link, msg)
        if len(state.feeds) == 1:
            self._refresh(state)
        return True

    def _on_message(
        self, state: _Topic, link: int, msg: Message, *, restart_seen: bool = False
    ) -> None:
        span = state.span
        ids = None if span is None else span(msg.data)
        if self._fences:
            self._watch_fence(link, msg, ids)
        feed = state.feeds.get(link)
        if ids is None:
            # No ids: the topic's primary alone delivers. A topic without ids
            # that never had one takes the first link to speak; a lost one
            # waits for a takeover (that is its gap).
            primary = state.primary
            if primary is None:
                if span is None:
                    if state.lost_since is None:
                        state.primary = primary = link
                elif feed is not None and feed.joined:
                    state.primary = primary = link
            if primary == link:
                self._sink(msg)
            return
        if feed is None:
            feed = state.feeds[link] = _Feed(ready=False)
        lo, hi = ids
        restarts = state.restarts
        if restarts is not None and not restart_seen and restarts(msg.data):
            self._restart(state, link, feed, msg, lo, hi)
            return
        if feed.joined:
            last = state.last
            if last is None or lo > last:
                state.last = hi
                feed.head = True
                self._sink(msg)
                if state.waiting:
                    self._check_joins(state)
            elif hi <= last:
                feed.head = False
                self.duplicates += 1
                self.dropped_by_link[link] += 1
            else:
                feed.head = True
                self._straddle(state, msg, last, hi)
            return
        self._hold(state, link, feed, msg, lo, hi)
        return

    def _restart(
        self, state: _Topic, link: int, feed: _Feed, msg: Message, lo: int, hi: int
    ) -> None:
        """The venue restarted the topic's numbering (``TopicIds.restarts``).

        A joined feed brings it first: it is delivered, the cursor starts
        over from it, and every other feed joins again (what they carry before
        their own copy of the restart is old numbering, already delivered).
        A feed not joined starts its hold over from its restart message; its
        copy of a restart already delivered is then a duplicate.
        """
        if feed.joined:
            state.last = hi
            feed.head = True
            self._sink(msg)
            for other, f in state.feeds.items():
                if other != link:
                    if not f.joined and f.first is not None:
                        state.waiting -= 1
                    f.joined = f.head = False
                    f.first = None
                    f.held = None
            state.primary = link
            return
        if feed.first is not None:
            state.waiting -= 1
        feed.first = None
        feed.held = None
        if state.covered() and state.last is not None and state.last >= lo:
            feed.first = lo
            state.waiting += 1
            self._join(state, link, feed)
            self._on_message(state, link, msg, restart_seen=True)
            return
        self._hold(state, link, feed, msg, lo, hi)

    def _straddle(self, state: _Topic, msg: Message, last: int, hi: int) -> None:
        state.last = hi
        trim = state.trim
        if trim is None:
            self.straddled += 1
            self._sink(msg)
        else:
            self.trimmed += 1
            self._sink(Message(msg.topic, trim(msg.data, last), msg.received_at))
        if state.waiting:
            self._check_joins(state)

    def _hold(self, state: _Topic, link: int, feed: _Feed, msg: Message, lo: int, hi: int) -> None:
        """A message of a feed that has not joined yet."""
        if state.last is None and not state.covered():
            # Nothing delivered for this topic yet: the first feed to speak joins.
            feed.joined = True
            feed.head = True
            state.last = hi
            if state.primary is None:
                state.primary = link
            self._sink(msg)
            if state.waiting:
                self._check_joins(state)
            return
        if feed.first is None:
            feed.first = lo
            feed.first_at = msg.received_at
            state.waiting += 1
        last = state.last
        if state.covered() and last is not None and last >= feed.first:
            self._join(state, link, feed)
            self._on_message(state, link, msg)
            return
        held = feed.held
        if held is None:
            held = feed.held = deque()
        if len(held) >= self._pending_limit:
            held.popleft()
            # The feed now starts at its oldest held message: joining needs the
            # others to reach that id, which keeps the promise.
            feed.first = held[0][1] if held else lo
        held.append((msg, lo, hi))

    def _check_joins(self, state: _Topic) -> None:
        """The cursor moved: join the feeds it reached."""
        last = state.last
        assert last is not None
        for link, feed in list(state.feeds.items()):
            if not feed.joined and feed.first is not None and last >= feed.first:
                self._join(state, link, feed)

    def _join(self, state: _Topic, link: int, feed: _Feed) -> None:
        """``feed`` joins: deliver what it held past the cursor, in order."""
        if feed.first is not None:
            state.waiting -= 1
        feed.joined = True
        feed.first = None
        self.changes += 1
        held, feed.held = feed.held, None
        state.lost_since = None
        if state.primary is None:
            state.primary = link
        if not held:
            return
        dropped = 0
        for msg, lo, hi in held:
            last = state.last
            if last is None or lo > last:
                state.last = hi
                self._sink(msg)
            elif hi <= last:
                dropped += 1
            else:
                self._straddle(state, msg, last, hi)
        if dropped:
            self.duplicates += dropped
            self.dropped_by_link[link] += dropped
        if state.waiting:
            self._check_joins(state)

    def _watch_fence(self, link: int, msg: Message, ids: tuple[int, int] | None) -> None:
        if ids is None:
            return
        fence = self._fences.get(link)
        if fence is not None:
            if not fence.passed and msg.received_at >= fence.acked_at:
                fence.marks.setdefault(msg.topic, ids[0])  # type: ignore[arg-type]
            return
        for fence in self._fencing_old.get(link, ()):
            if not fence.passed:
                mark = fence.marks.get(msg.topic)  # type: ignore[arg-type]
                if mark is not None and ids[1] >= mark:
                    fence.passed = True
                    self.changes += 1

    # -- losing feeds --------------------------------------------------------------

    def _leave(
        self, link: int, states: list[_Topic], since: float, now: float, *, settled: bool = False
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Remove ``link``'s feeds of ``states``; hand what it alone covered on."""
        passed = {f.new for f in self._fencing_old.get(link, ()) if f.passed}
        takeovers: dict[int, list[_Topic]] = {}
        lost: list[str] = []
        for state in states:
            if state.solo is not None:
                state.settle()
            feed = state.feeds.pop(link, None)
            if feed is None:
                continue
            if not feed.joined and feed.first is not None:
                state.waiting -= 1
            if state.span is None:
                if state.primary != link:
                    continue
                state.primary = None
            else:
                if state.primary == link:
                    state.primary = next((k for k, f in state.feeds.items() if f.joined), None)
                if not feed.joined or state.covered() or state.last is None:
                    continue
                quiet = next(
                    (
                        k
                        for k, f in state.feeds.items()
                        if f.ready and f.first is None and not f.held and (settled or k in passed)
                    ),
                    None,
                )
                if quiet is not None:
                    # The old link caught up with the successor (or had all the
                    # time in the world to), and the successor saw nothing of
                    # this topic: nothing was sent that it will not carry.
                    state.feeds[quiet].joined = True
                    state.primary = quiet
                    self.changes += 1
                    continue
            if state.lost_since is None:
                state.lost_since = since
            successor = next((k for k, f in state.feeds.items() if f.ready), None)
            if successor is None:
                lost.append(state.name)
            else:
                takeovers.setdefault(successor, []).append(state)
        gapped: list[str] = []
        for successor, taken in takeovers.items():
            self._take_over(successor, taken, now)
            gapped.extend(s.name for s in taken)
        for state in states:
            self._refresh(state)
        return tuple(lost), tuple(gapped)

    def _take_over(self, link: int, states: list[_Topic], now: float) -> None:
        """Forced joins of lost topics by ``link``: one ``DataGap``, then the held messages.

        The topic's cursor is forgotten: ids only compare between connections
        open at the same time (a venue may renumber across a maintenance), and
        after a gap in coverage nothing says they were.
        """
        since = min(s.lost_since if s.lost_since is not None else now for s in states)
        self._sink(DataGap(tuple(s.name for s in states), since, max(since, now)))
        for state in states:
            state.lost_since = None
            state.last = None
            feed = state.feeds.get(link)
            if feed is None:
                continue
            if state.span is None:
                state.primary = link
            else:
                self._join(state, link, feed)
