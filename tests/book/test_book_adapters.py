"""BookSync for venues with in-stream snapshots, resets, checksums and chained ids (pure)."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from trio_venues.book import (
    BookSet,
    BookSync,
    ChainRules,
    DepthDiff,
    DepthSnapshot,
    Gap,
    OrderBook,
    RangeRules,
    RequestSnapshot,
    Resynced,
    Step,
    SyncState,
)
from trio_venues.venues.generic._book import book_checksum

S = "BTC-USDT"
BIDS = [["10", "1"], ["9", "2"]]
ASKS = [["11", "3"], ["12", "4"]]


def diff(first: int, final: int, *, bids: list[list[str]] | None = None) -> DepthDiff:
    return DepthDiff(S, first, final, bids or [["10", str(final)]], [])


def state_of(sync: BookSync) -> SyncState:
    return sync.state


def in_stream(**options: object) -> BookSync:
    return BookSync(S, in_stream_snapshots=True, **options)  # type: ignore[arg-type]


def test_chain_rules_follow_previous_ids() -> None:
    """ChainRules: previous == last continues; final <= last is old; anything else is a gap."""
    rules = ChainRules()
    chained = DepthDiff(S, 0, 130, [], [], previous_update_id=120)
    assert rules.classify(120, chained) is Step.NEXT
    assert rules.classify(125, chained) is Step.GAP
    assert rules.classify(130, chained) is Step.OLD
    assert rules.classify(9, DepthDiff(S, 10, 12, [], [])) is Step.NEXT  # no previous: dense ids
    assert ChainRules.expected_after.__annotations__["return"] == "None"
    assert rules.snapshot_covers(130, 120)
    assert not rules.snapshot_covers(110, 120)


def test_in_stream_snapshot_restarts_the_stream() -> None:
    """An in-stream snapshot drops earlier buffered diffs and the stream continues from it."""
    sync = in_stream()
    assert [type(a) for a in sync.on_diff(diff(1, 5))] == [RequestSnapshot]
    assert sync.on_diff(diff(6, 9)) == []
    [resynced] = sync.on_snapshot(DepthSnapshot(S, 500, BIDS, ASKS))
    assert resynced == Resynced(S, 500, sync.book)
    assert sync.buffered == 0
    assert sync.stats().diffs_ignored == 2
    assert state_of(sync) is SyncState.ALIGNED
    [_updated] = sync.on_diff(diff(501, 502))
    assert state_of(sync) is SyncState.LIVE
    assert sync.last_update_id == 502


def test_in_stream_snapshot_after_a_gap_is_not_judged_stale() -> None:
    """After a gap, the new subscription's snapshot (any id) resyncs; no stale re-request."""
    sync = in_stream()
    sync.on_snapshot(DepthSnapshot(S, 100, BIDS, ASKS))
    actions = sync.on_diff(diff(105, 106))
    assert [type(a) for a in actions] == [Gap, RequestSnapshot]
    sync.on_diff(diff(107, 108))
    # Bybit's u == 1 restart: a snapshot far below the stream's last id.
    assert [type(a) for a in sync.on_snapshot(DepthSnapshot(S, 1, BIDS, ASKS))] == [Resynced]
    assert sync.on_diff(diff(2, 2)) != []
    assert sync.last_update_id == 2


@pytest.mark.parametrize("in_stream_snapshots", [True, False])
def test_reset_on_snapshot_replaces_a_synced_book(in_stream_snapshots: bool) -> None:
    """reset_on_snapshot: a snapshot while LIVE loads; without it the snapshot is ignored."""
    for reset in (True, False):
        sync = BookSync(S, in_stream_snapshots=in_stream_snapshots, reset_on_snapshot=reset)
        sync.on_snapshot(DepthSnapshot(S, 99, BIDS, ASKS))
        sync.on_diff(diff(100, 100))
        assert state_of(sync) is SyncState.LIVE
        actions = sync.on_snapshot(DepthSnapshot(S, 200, [["50", "1"]], [["60", "1"]]))
        if reset:
            assert [type(a) for a in actions] == [Resynced]
            assert sync.book.best_bid == (Decimal(50), Decimal(1))
        else:
            assert actions == []
            assert sync.stats().snapshots_ignored == 1


def test_booksets_pass_the_snapshot_options_to_every_symbol() -> None:
    """BookSet gives each symbol's BookSync its in-stream and reset options."""
    books = BookSet([S], in_stream_snapshots=True, reset_on_snapshot=True)
    books.on_snapshot(DepthSnapshot(S, 10, BIDS, ASKS))
    assert [type(a) for a in books.on_snapshot(DepthSnapshot(S, 3, BIDS, ASKS))] == [Resynced]
    assert books[S].last_update_id == 3


def checked(bids: list[list[str]], asks: list[list[str]]) -> int:
    book = OrderBook(S)
    book.load_snapshot(bids, asks, 0)
    return book_checksum(book)


def test_a_diff_with_a_wrong_checksum_is_a_gap() -> None:
    """With a checksum rule, a diff whose checksum does not match loses the book."""
    sync = BookSync(S, RangeRules(checksum=book_checksum), in_stream_snapshots=True)
    sync.on_snapshot(DepthSnapshot(S, 10, BIDS, ASKS, checked(BIDS, ASKS)))
    good = [["10", "5"], ["9", "2"]]
    assert sync.on_diff(
        attrs.evolve(diff(11, 11, bids=[["10", "5"]]), checksum=checked(good, ASKS))
    )
    bad = attrs.evolve(diff(12, 12, bids=[["10", "6"]]), checksum=1)
    actions = sync.on_diff(bad)
    assert actions[0] == Gap(S, None, 12, "checksum")
    assert isinstance(actions[1], RequestSnapshot)
    assert not sync.is_synced
    # No checksum sent (OKX's 0 mapped to None): nothing to check.
    sync.on_snapshot(DepthSnapshot(S, 20, BIDS, ASKS))
    assert sync.on_diff(diff(21, 21))


def test_a_snapshot_with_a_wrong_checksum_is_refused() -> None:
    """An in-stream snapshot whose checksum does not match its levels is not loaded."""
    sync = BookSync(S, RangeRules(checksum=book_checksum), in_stream_snapshots=True)
    actions = sync.on_snapshot(DepthSnapshot(S, 10, BIDS, ASKS, checksum=7))
    assert actions == [RequestSnapshot(S, "invalid")]
    assert not sync.is_synced
    assert sync.stats().snapshots_rejected == 1


def test_a_fetched_snapshot_is_checked_against_the_last_applied_diff() -> None:
    """Fetch mode: the checksum of the last buffered diff applied on the snapshot is checked."""
    sync = BookSync(S, RangeRules(checksum=book_checksum))
    sync.on_diff(attrs.evolve(diff(11, 11, bids=[["10", "5"]]), checksum=99))
    actions = sync.on_snapshot(DepthSnapshot(S, 10, BIDS, ASKS))
    assert actions[0] == Gap(S, None, 11, "checksum")
