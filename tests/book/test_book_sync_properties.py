"""Property tests of BookSync against a model venue.

The model venue numbers every atomic update (one or a few level changes) with
consecutive ids, as Binance does; a diff covers a range ``[U, u]`` of them and
carries the final quantity of every level touched in that range; a snapshot
at id ``n`` is the book after update ``n``. Bid prices stay below every ask
price, so a correctly synchronised book is never crossed.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trio_venues.book import (
    BookAction,
    BookSync,
    BookUpdated,
    DepthDiff,
    DepthSnapshot,
    Gap,
    RequestSnapshot,
    Resynced,
    Side,
    SyncState,
)

SETTINGS = settings(max_examples=120, deadline=None)

SYMBOL = "BNBBTC"

# Bids at or below 49.9, asks at or above 50.1: a true book is never crossed. The same
# value spelled two ways ("1.5" and "1.50") must be one level.
BID_PRICES = ("0.01", "1.5", "1.50", "12.25", "30", "49.9", "7.125", "7.1250", "48")
ASK_PRICES = ("50.1", "51", "51.00", "60.5", "75", "99.99", "100", "1000.000001")
QUANTITIES = ("0", "0", "1", "2.5", "0.00000001", "10", "3.14159265")

Change = tuple[Side, str, str]


@attrs.define
class Venue:
    """A venue's true book history for one symbol.

    Attributes:
        start_id: the update id of the initial book (before update ``start_id + 1``).
        initial: the initial book, ``side -> {price: qty}`` with Decimal keys.
        updates: ``updates[i]`` is the list of changes of update id ``start_id + 1 + i``.
        diffs: consecutive diffs covering every update, in order.
    """

    start_id: int
    initial: dict[Side, dict[Decimal, str]]
    updates: list[list[Change]]
    diffs: list[DepthDiff]

    @property
    def last_id(self) -> int:
        """The id of the last update."""
        return self.start_id + len(self.updates)

    def book_at(self, update_id: int) -> dict[Side, dict[Decimal, Decimal]]:
        """The true book after update ``update_id`` (zero quantities absent)."""
        book = {side: dict(levels) for side, levels in self.initial.items()}
        for changes in self.updates[: update_id - self.start_id]:
            for side, price, qty in changes:
                book[side][Decimal(price)] = qty
        return {
            side: {price: Decimal(qty) for price, qty in levels.items() if Decimal(qty)}
            for side, levels in book.items()
        }

    def snapshot(self, update_id: int) -> DepthSnapshot:
        """The snapshot a venue would answer at ``update_id``."""
        book = self.book_at(update_id)
        return DepthSnapshot(
            SYMBOL,
            update_id,
            bids=[(str(p), str(q)) for p, q in sorted(book[Side.BID].items(), reverse=True)],
            asks=[(str(p), str(q)) for p, q in sorted(book[Side.ASK].items())],
        )

    def diff(self, first: int, final: int) -> DepthDiff:
        """A diff covering updates ``first..final``: the last quantity of each touched level."""
        touched: dict[Side, dict[Decimal, tuple[str, str]]] = {Side.BID: {}, Side.ASK: {}}
        for changes in self.updates[first - self.start_id - 1 : final - self.start_id]:
            for side, price, qty in changes:
                touched[side][Decimal(price)] = (price, qty)
        return DepthDiff(
            SYMBOL,
            first,
            final,
            bids=list(touched[Side.BID].values()),
            asks=list(touched[Side.ASK].values()),
            event_time=1_672_515_782_136 + final,
        )


def expected_levels(levels: dict[Decimal, Decimal], side: Side) -> list[tuple[Decimal, Decimal]]:
    """A side of the true book as ``list(book.bids)`` / ``list(book.asks)`` should read."""
    return sorted(levels.items(), reverse=side is Side.BID)


def changes_for(side: Side) -> st.SearchStrategy[Change]:
    """One level change on ``side``."""
    prices = BID_PRICES if side is Side.BID else ASK_PRICES
    return st.tuples(st.just(side), st.sampled_from(prices), st.sampled_from(QUANTITIES))


@st.composite
def venues(draw: st.DrawFn, min_updates: int = 1, max_updates: int = 30) -> Venue:
    """A random venue history, cut into diffs of 1 to 4 updates."""
    start_id = draw(st.integers(0, 10**12))
    initial: dict[Side, dict[Decimal, str]] = {Side.BID: {}, Side.ASK: {}}
    for side, price, qty in draw(
        st.lists(st.one_of(changes_for(Side.BID), changes_for(Side.ASK)), max_size=12)
    ):
        initial[side][Decimal(price)] = qty
    change = st.one_of(changes_for(Side.BID), changes_for(Side.ASK))
    updates = draw(
        st.lists(
            st.lists(change, min_size=1, max_size=3), min_size=min_updates, max_size=max_updates
        )
    )
    venue = Venue(start_id, initial, updates, [])
    first = start_id + 1
    while first <= venue.last_id:
        final = min(first + draw(st.integers(0, 3)), venue.last_id)
        venue.diffs.append(venue.diff(first, final))
        first = final + 1
    return venue


def assert_book_is(sync: BookSync, venue: Venue, update_id: int) -> None:
    """The synchronised book equals the venue's true book after ``update_id``."""
    truth = venue.book_at(update_id)
    assert sync.is_synced
    assert sync.last_update_id == update_id
    assert not sync.book.is_crossed
    for side in Side:
        assert list(sync.book.side(side)) == expected_levels(truth[side], side)


class Driver:
    """Feeds a synchroniser and checks every action against the venue as it goes."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.sync = BookSync(SYMBOL)
        self.actions: list[BookAction] = []

    def feed(self, diff: DepthDiff) -> None:
        """Feed one diff; every BookUpdated must leave the true, uncrossed book."""
        actions = self.sync.on_diff(diff)
        self.check(actions)

    def answer(self, update_id: int) -> None:
        """Feed the venue's snapshot at ``update_id``."""
        self.check(self.sync.on_snapshot(self.venue.snapshot(update_id)))

    def check(self, actions: list[BookAction]) -> None:
        """Record actions; after each BookUpdated/Resynced the book must be the true one."""
        self.actions.extend(actions)
        for action in actions:
            if isinstance(action, BookUpdated | Resynced):
                update_id = (
                    action.update_id if isinstance(action, BookUpdated) else action.last_update_id
                )
                assert_book_is(self.sync, self.venue, update_id)

    def of(self, kind: type[BookAction]) -> list[BookAction]:
        """The recorded actions of one kind."""
        return [action for action in self.actions if isinstance(action, kind)]


@st.composite
def subscriptions(
    draw: st.DrawFn, min_received: int = 1, min_skipped: int = 0
) -> tuple[Venue, list[DepthDiff], int, int]:
    """A venue, the diffs a late subscriber receives, when the snapshot arrives and its id.

    The subscriber misses the first ``min_skipped`` or more diffs and receives at least
    ``min_received``. The snapshot is taken at any id from the first received U - 1 (the
    oldest usable) to the venue's last id (a REST answer can be ahead of the stream), and
    arrives after at least one diff (it is requested when the first one is buffered).
    """
    # Every diff covers at least one update, so this many updates make enough diffs.
    venue = draw(venues(min_updates=max(2, min_received + min_skipped)))
    assume(len(venue.diffs) >= min_received + min_skipped)
    skip = draw(st.integers(min_skipped, len(venue.diffs) - min_received))
    received = venue.diffs[skip:]
    arrives_after = draw(st.integers(1, len(received)))
    snapshot_id = draw(st.integers(received[0].first_update_id - 1, venue.last_id))
    return venue, received, arrives_after, snapshot_id


@SETTINGS
@given(subscriptions())
def test_valid_stream_keeps_the_true_book_and_never_crosses(
    case: tuple[Venue, list[DepthDiff], int, int],
) -> None:
    """Any valid stream plus a usable snapshot gives the venue's book after every update."""
    venue, received, arrives_after, snapshot_id = case
    driver = Driver(venue)
    for n, diff in enumerate(received, 1):
        driver.feed(diff)
        if n == arrives_after:
            driver.answer(snapshot_id)
    assert driver.of(Gap) == []
    assert driver.of(RequestSnapshot) == [RequestSnapshot(SYMBOL, "initial")]
    assert len(driver.of(Resynced)) == 1
    assert driver.sync.state in (SyncState.LIVE, SyncState.ALIGNED)
    assert driver.sync.state is SyncState.LIVE or snapshot_id >= received[-1].final_update_id
    assert_book_is(driver.sync, venue, max(snapshot_id, received[-1].final_update_id))


@SETTINGS
@given(subscriptions(min_received=3), st.data())
def test_a_dropped_diff_is_always_a_gap(
    case: tuple[Venue, list[DepthDiff], int, int], data: st.DataObject
) -> None:
    """Dropping any diff after the first received is one Gap when the next arrives; then
    the synchroniser recovers the true book from a fresh snapshot."""
    venue, received, arrives_after, snapshot_id = case
    dropped = data.draw(st.integers(1, len(received) - 2), label="dropped")
    driver = Driver(venue)
    for n, diff in enumerate(received, 1):
        if n - 1 != dropped:
            driver.feed(diff)
        if n == arrives_after:
            driver.answer(snapshot_id)
    gaps = driver.of(Gap)
    assert gaps == [
        Gap(
            SYMBOL,
            received[dropped].first_update_id,
            received[dropped + 1].first_update_id,
            "sequence",
        )
    ]
    # Unless the snapshot came after the gap and fitted, a request is pending: answer it
    # with the venue's latest snapshot and the book heals.
    if not driver.sync.is_synced:
        assert driver.sync.snapshot_pending
        driver.answer(venue.last_id)
    assert_book_is(driver.sync, venue, venue.last_id)


@SETTINGS
@given(subscriptions(), st.data())
def test_duplicates_and_regressions_are_ignored_without_a_gap(
    case: tuple[Venue, list[DepthDiff], int, int], data: st.DataObject
) -> None:
    """Re-sent diffs and older ranges, anywhere after their originals, change nothing."""
    venue, received, arrives_after, snapshot_id = case
    driver = Driver(venue)
    for n, diff in enumerate(received, 1):
        driver.feed(diff)
        for _ in range(data.draw(st.integers(0, 2), label="repeats")):
            # Any range [a, b] with b at or before this diff's u: a duplicate or a regression.
            final = data.draw(st.integers(venue.start_id + 1, diff.final_update_id))
            first = data.draw(st.integers(venue.start_id + 1, final))
            driver.feed(venue.diff(first, final))
        if n == arrives_after:
            driver.answer(snapshot_id)
    assert driver.of(Gap) == []
    assert driver.of(RequestSnapshot) == [RequestSnapshot(SYMBOL, "initial")]
    assert_book_is(driver.sync, venue, max(snapshot_id, received[-1].final_update_id))


@SETTINGS
@given(subscriptions(min_skipped=1), st.data())
def test_stale_snapshot_is_rerequested_then_a_good_one_syncs(
    case: tuple[Venue, list[DepthDiff], int, int], data: st.DataObject
) -> None:
    """A snapshot older than the first buffered U - 1 is refused and asked again."""
    venue, received, arrives_after, snapshot_id = case
    first_id = received[0].first_update_id  # at least start_id + 2: a diff was missed
    stale_id = data.draw(st.integers(venue.start_id, first_id - 2), label="stale_id")
    driver = Driver(venue)
    for n, diff in enumerate(received, 1):
        driver.feed(diff)
        if n == arrives_after:
            assert driver.sync.on_snapshot(venue.snapshot(stale_id)) == [
                RequestSnapshot(SYMBOL, "stale")
            ]
            assert driver.sync.buffered == n
            assert not driver.sync.is_synced
            driver.answer(snapshot_id)
    assert driver.of(Gap) == []
    assert_book_is(driver.sync, venue, max(snapshot_id, received[-1].final_update_id))


@SETTINGS
@given(subscriptions(), st.data())
def test_reset_mid_stream_then_resubscribe_recovers(
    case: tuple[Venue, list[DepthDiff], int, int], data: st.DataObject
) -> None:
    """After reset() (a reconnect) the stream may resume anywhere later: no gap, true book."""
    venue, received, arrives_after, snapshot_id = case
    driver = Driver(venue)
    for n, diff in enumerate(received[:arrives_after], 1):
        driver.feed(diff)
        if n == arrives_after:
            driver.answer(snapshot_id)
    driver.sync.reset()
    resume = data.draw(st.integers(arrives_after, len(received)), label="resume")
    rest = received[resume:]
    for diff in rest:
        driver.feed(diff)
    if rest:
        driver.answer(data.draw(st.integers(rest[0].first_update_id - 1, venue.last_id)))
        assert driver.sync.is_synced
    assert driver.of(Gap) == []
