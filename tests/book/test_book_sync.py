"""BookSync with Binance rules: one test per transition, plus the inputs a client must survive."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from trio_venues.book import (
    BookAction,
    BookSet,
    BookSync,
    BookUpdated,
    BufferOverflow,
    DepthDiff,
    DepthSnapshot,
    Gap,
    RangeRules,
    RawLevel,
    RequestSnapshot,
    Resynced,
    Step,
    SyncState,
    SyncStats,
)
from trio_venues.errors import ConfigError
from trio_venues.venues.binance import BinanceRules

S = "BNBBTC"
D = Decimal

BIDS = [["10", "1"], ["9", "2"]]
ASKS = [["11", "3"], ["12", "4"]]


def diff(
    first: int,
    final: int,
    bids: Sequence[RawLevel] = (),
    asks: Sequence[RawLevel] = (),
    symbol: str = S,
) -> DepthDiff:
    """A diff covering update ids first..final."""
    return DepthDiff(symbol, first, final, bids, asks, event_time=1000 + final)


def snapshot(
    last_update_id: int,
    bids: Sequence[RawLevel] = BIDS,
    asks: Sequence[RawLevel] = ASKS,
    symbol: str = S,
) -> DepthSnapshot:
    """A snapshot at last_update_id."""
    return DepthSnapshot(symbol, last_update_id, bids, asks)


def live_sync(last_update_id: int = 100, max_stale_run: int = 100) -> BookSync:
    """A synchroniser LIVE at last_update_id, with the BIDS/ASKS book."""
    sync = BookSync(S, max_stale_run=max_stale_run)
    sync.on_diff(diff(last_update_id - 1, last_update_id))
    sync.on_snapshot(snapshot(last_update_id - 1))
    assert state_of(sync) is SyncState.LIVE
    assert sync.last_update_id == last_update_id
    return sync


def state_of(sync: BookSync) -> SyncState:
    """The state, read through a call (mypy would narrow a property across assertions)."""
    return sync.state


def kinds(actions: list[BookAction]) -> list[type[BookAction]]:
    """The classes of the actions, in order."""
    return [type(action) for action in actions]


# -- BUFFERING ---------------------------------------------------------------------------


def test_new_sync_is_buffering_with_an_empty_book() -> None:
    """A new synchroniser buffers, has no book and requested nothing."""
    sync = BookSync(S)
    assert state_of(sync) is SyncState.BUFFERING
    assert not sync.is_synced
    assert sync.last_update_id is None
    assert sync.buffered == 0
    assert not sync.snapshot_pending
    assert type(sync.rules) is RangeRules
    assert len(sync.book.bids) == 0


def test_first_diff_is_buffered_and_requests_a_snapshot() -> None:
    """BUFFERING -> SNAPSHOT_REQUESTED: the first diff asks for a snapshot."""
    sync = BookSync(S)
    assert sync.on_diff(diff(157, 160, [["0.0024", "10"]])) == [RequestSnapshot(S, "initial")]
    assert state_of(sync) is SyncState.SNAPSHOT_REQUESTED
    assert sync.buffered == 1
    assert sync.snapshot_pending


def test_snapshot_before_any_diff_aligns() -> None:
    """BUFFERING -> ALIGNED: a snapshot that comes first is loaded (nothing to judge it by)."""
    sync = BookSync(S)
    actions = sync.on_snapshot(snapshot(50))
    assert actions == [Resynced(S, 50, sync.book)]
    assert state_of(sync) is SyncState.ALIGNED
    assert sync.is_synced
    assert sync.book.best_bid == (D(10), D(1))


# -- SNAPSHOT_REQUESTED ------------------------------------------------------------------


def test_more_diffs_are_buffered_without_another_request() -> None:
    """SNAPSHOT_REQUESTED: later diffs are buffered; one request is enough."""
    sync = BookSync(S)
    sync.on_diff(diff(1, 3))
    assert sync.on_diff(diff(4, 6)) == []
    assert sync.on_diff(diff(7, 7)) == []
    assert sync.buffered == 3
    assert state_of(sync) is SyncState.SNAPSHOT_REQUESTED


def test_stale_snapshot_is_rerequested_and_the_buffer_kept() -> None:
    """A snapshot older than the first buffered U - 1 is re-requested; the state stays."""
    sync = BookSync(S)
    sync.on_diff(diff(157, 160))
    sync.on_diff(diff(161, 165))
    assert sync.on_snapshot(snapshot(155)) == [RequestSnapshot(S, "stale")]
    assert state_of(sync) is SyncState.SNAPSHOT_REQUESTED
    assert sync.buffered == 2
    assert sync.snapshot_pending
    assert len(sync.book.bids) == 0
    assert sync.stats().snapshots_rejected == 1


def test_snapshot_exactly_before_the_first_diff_is_usable() -> None:
    """lastUpdateId == first U - 1 bridges: the buffered diffs apply on top."""
    sync = BookSync(S)
    sync.on_diff(diff(157, 160, [["10", "5"]]))
    actions = sync.on_snapshot(snapshot(156))
    assert actions == [Resynced(S, 160, sync.book)]
    assert state_of(sync) is SyncState.LIVE
    assert sync.book.best_bid == (D(10), D(5))


def test_snapshot_inside_a_buffered_diff_drops_older_ones_and_applies_the_rest() -> None:
    """SNAPSHOT_REQUESTED -> LIVE: diffs with u <= lastUpdateId drop, U <= id+1 <= u applies."""
    sync = BookSync(S)
    sync.on_diff(diff(150, 155, [["10", "7"]]))  # contained in the snapshot: dropped
    sync.on_diff(diff(156, 160, [["9", "0"]], [["11.5", "1"]]))  # straddles 158: applied
    sync.on_diff(diff(161, 161, [], [["12", "0"]]))
    actions = sync.on_snapshot(snapshot(158))
    assert actions == [Resynced(S, 161, sync.book)]
    assert state_of(sync) is SyncState.LIVE
    assert sync.last_update_id == 161
    assert sync.book.last_update_id == 161
    assert list(sync.book.bids) == [(D(10), D(1))]
    assert list(sync.book.asks) == [(D(11), D(3)), (D("11.5"), D(1))]
    assert sync.buffered == 0
    stats = sync.stats()
    assert (stats.diffs_applied, stats.diffs_ignored, stats.resyncs) == (2, 1, 1)


def test_snapshot_newer_than_every_buffered_diff_aligns() -> None:
    """SNAPSHOT_REQUESTED -> ALIGNED: every buffered diff is already in the snapshot."""
    sync = BookSync(S)
    sync.on_diff(diff(157, 160))
    actions = sync.on_snapshot(snapshot(170))
    assert actions == [Resynced(S, 170, sync.book)]
    assert state_of(sync) is SyncState.ALIGNED
    assert sync.last_update_id == 170


def test_snapshot_with_an_invalid_level_is_rerequested() -> None:
    """An invalid snapshot is re-requested; the buffer is kept and nothing is loaded."""
    sync = BookSync(S)
    sync.on_diff(diff(157, 160))
    assert sync.on_snapshot(snapshot(158, bids=[["NaN", "1"]])) == [RequestSnapshot(S, "invalid")]
    assert state_of(sync) is SyncState.SNAPSHOT_REQUESTED
    assert sync.buffered == 1
    assert len(sync.book.bids) == 0
    assert sync.on_snapshot(snapshot(158)) == [Resynced(S, 160, sync.book)]


def test_buffer_overflow_restarts_buffering_and_asks_again() -> None:
    """Over max_buffer: the buffer is dropped, reported, restarted and a snapshot re-requested."""
    sync = BookSync(S, max_buffer=3)
    sync.on_diff(diff(1, 1))
    sync.on_diff(diff(2, 2))
    sync.on_diff(diff(3, 3))
    assert sync.on_diff(diff(4, 4)) == [BufferOverflow(S, 3), RequestSnapshot(S, "overflow")]
    assert sync.buffered == 1
    assert state_of(sync) is SyncState.SNAPSHOT_REQUESTED
    # The first request's late answer predates the new buffer: stale, and the newer
    # request is still pending, so nothing more is asked.
    assert sync.on_snapshot(snapshot(1)) == []
    assert sync.snapshot_pending
    assert sync.on_snapshot(snapshot(3)) == [Resynced(S, 4, sync.book)]
    assert sync.stats().overflows == 1


def test_gap_while_buffering_restarts_the_buffer() -> None:
    """A jump in the stream before any book exists is reported and buffering restarts."""
    sync = BookSync(S)
    sync.on_diff(diff(1, 5))
    actions = sync.on_diff(diff(7, 9))
    # The initial request is still pending: its answer is judged against the new buffer.
    assert actions == [Gap(S, 6, 7, "sequence")]
    assert state_of(sync) is SyncState.RESYNCING
    assert sync.buffered == 1
    assert sync.on_snapshot(snapshot(5)) == [RequestSnapshot(S, "stale")]
    assert sync.on_snapshot(snapshot(8)) == [Resynced(S, 9, sync.book)]


def test_duplicates_while_buffering_are_not_buffered() -> None:
    """A diff the stream already delivered is ignored before the snapshot too."""
    sync = BookSync(S)
    sync.on_diff(diff(1, 5))
    assert sync.on_diff(diff(1, 5)) == []
    assert sync.on_diff(diff(3, 4)) == []
    assert sync.buffered == 1


# -- ALIGNED ---------------------------------------------------------------------------


def test_aligned_ignores_diffs_already_in_the_snapshot() -> None:
    """ALIGNED: a diff with u <= lastUpdateId is dropped and the state stays."""
    sync = BookSync(S)
    sync.on_diff(diff(157, 160))
    sync.on_snapshot(snapshot(170))
    assert sync.on_diff(diff(161, 170, [["10", "0"]])) == []
    assert state_of(sync) is SyncState.ALIGNED
    assert sync.book.best_bid == (D(10), D(1))


def test_aligned_applies_the_bridging_diff_and_goes_live() -> None:
    """ALIGNED -> LIVE: the diff with U <= lastUpdateId + 1 <= u is applied."""
    sync = BookSync(S)
    sync.on_diff(diff(157, 160))
    sync.on_snapshot(snapshot(170))
    actions = sync.on_diff(diff(161, 172, [["10", "0"]], [["11", "2"]]))
    assert actions == [BookUpdated(S, ((D(10), D(0)),), ((D(11), D(2)),), sync.book, 172, 1172)]
    assert state_of(sync) is SyncState.LIVE
    assert sync.book.best_bid == (D(9), D(2))


def test_aligned_snapshot_older_than_the_stream_is_rerequested() -> None:
    """ALIGNED -> SNAPSHOT_REQUESTED: a snapshot loaded before any diff, then a later stream."""
    sync = BookSync(S)
    sync.on_snapshot(snapshot(50))
    assert sync.on_diff(diff(60, 62)) == [RequestSnapshot(S, "stale")]
    assert state_of(sync) is SyncState.SNAPSHOT_REQUESTED
    assert sync.buffered == 1
    assert len(sync.book.bids) == 0
    assert sync.on_snapshot(snapshot(61)) == [Resynced(S, 62, sync.book)]


# -- LIVE ---------------------------------------------------------------------------------


def test_live_applies_the_next_diff() -> None:
    """LIVE: U == previous u + 1 applies and reports the changed levels."""
    sync = live_sync(100)
    actions = sync.on_diff(diff(101, 103, [["9.5", "1"]], [["12", "0"]]))
    assert actions == [BookUpdated(S, ((D("9.5"), D(1)),), ((D(12), D(0)),), sync.book, 103, 1103)]
    assert sync.last_update_id == 103
    assert sync.book.last_update_id == 103
    assert sync.book.top(sync.book.bids.side, 3) == [(D(10), D(1)), (D("9.5"), D(1)), (D(9), D(2))]


def test_live_ignores_duplicates_and_regressions_without_a_gap() -> None:
    """LIVE: a diff with u <= the book's id changes nothing and reports nothing."""
    sync = live_sync(100)
    assert sync.on_diff(diff(99, 100, [["10", "0"]])) == []
    assert sync.on_diff(diff(50, 60, [["10", "0"]])) == []
    assert state_of(sync) is SyncState.LIVE
    assert sync.book.best_bid == (D(10), D(1))
    assert sync.stats().diffs_ignored == 2


def test_live_applies_an_overlapping_diff() -> None:
    """LIVE: a diff overlapping the book's id (U <= id < u) continues the book."""
    sync = live_sync(100)
    assert kinds(sync.on_diff(diff(95, 105, [["10", "2"]]))) == [BookUpdated]
    assert sync.last_update_id == 105
    assert sync.book.best_bid == (D(10), D(2))


def test_live_gap_discards_the_book_and_requests_a_snapshot() -> None:
    """LIVE -> RESYNCING: U > previous u + 1 is a Gap; the diff starts the new buffer."""
    sync = live_sync(100)
    actions = sync.on_diff(diff(103, 104))
    assert actions == [Gap(S, 101, 103, "sequence"), RequestSnapshot(S, "gap")]
    assert state_of(sync) is SyncState.RESYNCING
    assert not sync.is_synced
    assert sync.last_update_id is None
    assert len(sync.book.bids) == len(sync.book.asks) == 0
    assert sync.book.last_update_id is None
    assert sync.buffered == 1
    assert sync.stats().gaps == 1


def test_live_update_that_crosses_the_book_is_a_gap() -> None:
    """LIVE -> GAP_DETECTED: an update leaving bid >= ask discards the book and resyncs."""
    sync = live_sync(100)
    actions = sync.on_diff(diff(101, 101, [["11", "1"]]))
    assert actions == [Gap(S, None, 101, "crossed"), RequestSnapshot(S, "gap")]
    assert state_of(sync) is SyncState.GAP_DETECTED
    assert sync.buffered == 0
    assert len(sync.book.bids) == 0


def test_live_diff_with_an_invalid_level_is_a_gap() -> None:
    """LIVE -> GAP_DETECTED: an unparsable level loses the diff's data: Gap and resync."""
    sync = live_sync(100)
    actions = sync.on_diff(diff(101, 102, [["10", "1"]], [["12", "-1"]]))
    assert actions == [Gap(S, None, 102, "invalid"), RequestSnapshot(S, "gap")]
    assert state_of(sync) is SyncState.GAP_DETECTED


def test_live_ignores_snapshots() -> None:
    """LIVE: a late or unsolicited snapshot changes nothing."""
    sync = live_sync(100)
    assert sync.on_snapshot(snapshot(500, bids=[["1", "1"]])) == []
    assert state_of(sync) is SyncState.LIVE
    assert sync.book.best_bid == (D(10), D(1))
    assert sync.stats().snapshots_ignored == 1


def test_restarted_sequence_is_detected_after_max_stale_run() -> None:
    """Ids going backwards max_stale_run times in a row mean a restart: Gap and resync."""
    sync = live_sync(100, max_stale_run=3)
    assert sync.on_diff(diff(1, 1)) == []
    assert sync.on_diff(diff(2, 2)) == []
    actions = sync.on_diff(diff(3, 3))
    assert actions == [Gap(S, 101, 3, "restart"), RequestSnapshot(S, "gap")]
    assert state_of(sync) is SyncState.RESYNCING
    assert sync.on_diff(diff(4, 4)) == []
    assert sync.on_snapshot(snapshot(3)) == [Resynced(S, 4, sync.book)]


def test_a_continuing_diff_resets_the_stale_run() -> None:
    """Old diffs separated by good ones never add up to a restart."""
    sync = live_sync(100, max_stale_run=2)
    for n in range(101, 111):
        assert sync.on_diff(diff(1, 1)) == []
        assert kinds(sync.on_diff(diff(n, n))) == [BookUpdated]
    assert state_of(sync) is SyncState.LIVE


# -- GAP_DETECTED and RESYNCING ----------------------------------------------------------


def test_gap_detected_buffers_the_next_diff_and_resyncs() -> None:
    """GAP_DETECTED -> RESYNCING -> LIVE, with one snapshot request in all."""
    sync = live_sync(100)
    sync.on_diff(diff(101, 101, [["11", "1"]]))
    assert sync.on_diff(diff(102, 103)) == []
    assert state_of(sync) is SyncState.RESYNCING
    assert sync.on_snapshot(snapshot(102)) == [Resynced(S, 103, sync.book)]
    assert state_of(sync) is SyncState.LIVE
    assert sync.stats().snapshots_requested == 2


def test_gap_detected_snapshot_covering_the_stream_aligns() -> None:
    """GAP_DETECTED -> ALIGNED: a snapshot at or after the last diff seen is usable."""
    sync = live_sync(100)
    sync.on_diff(diff(101, 101, [["11", "1"]]))
    assert sync.on_snapshot(snapshot(101)) == [Resynced(S, 101, sync.book)]
    assert state_of(sync) is SyncState.ALIGNED
    assert kinds(sync.on_diff(diff(102, 102))) == [BookUpdated]


def test_gap_detected_snapshot_older_than_the_stream_is_rerequested() -> None:
    """GAP_DETECTED: with nothing buffered, a snapshot before the last diff seen is stale."""
    sync = live_sync(100)
    sync.on_diff(diff(101, 101, [["11", "1"]]))
    assert sync.on_snapshot(snapshot(100)) == [RequestSnapshot(S, "stale")]
    assert state_of(sync) is SyncState.GAP_DETECTED


def test_resyncing_snapshot_goes_live() -> None:
    """RESYNCING -> LIVE: the snapshot bridges the diff that revealed the gap."""
    sync = live_sync(100)
    sync.on_diff(diff(103, 104, [["9", "0"]]))
    assert sync.on_snapshot(snapshot(102)) == [Resynced(S, 104, sync.book)]
    assert state_of(sync) is SyncState.LIVE
    assert list(sync.book.bids) == [(D(10), D(1))]


def test_resync_with_a_crossing_buffered_diff_is_another_gap() -> None:
    """A book crossed after the buffered diffs are applied is discarded again."""
    sync = live_sync(100)
    sync.on_diff(diff(103, 104, [["12", "1"]]))
    actions = sync.on_snapshot(snapshot(102))
    assert actions == [Gap(S, None, 104, "crossed"), RequestSnapshot(S, "gap")]
    assert state_of(sync) is SyncState.GAP_DETECTED


def test_resync_with_an_invalid_buffered_diff_is_another_gap() -> None:
    """An invalid level in a buffered diff discards the book after the snapshot."""
    sync = live_sync(100)
    sync.on_diff(diff(103, 104, [["x", "1"]]))
    actions = sync.on_snapshot(snapshot(102))
    assert actions == [Gap(S, None, 104, "invalid"), RequestSnapshot(S, "gap")]
    assert state_of(sync) is SyncState.GAP_DETECTED
    assert len(sync.book.bids) == 0


def test_gap_while_a_request_is_pending_does_not_ask_twice() -> None:
    """One snapshot request at a time: a second loss waits for the pending answer."""
    sync = live_sync(100)
    assert kinds(sync.on_diff(diff(103, 104))) == [Gap, RequestSnapshot]
    assert sync.on_diff(diff(110, 111)) == [Gap(S, 105, 110, "sequence")]
    assert sync.on_snapshot(snapshot(104)) == [RequestSnapshot(S, "stale")]
    assert sync.on_snapshot(snapshot(109)) == [Resynced(S, 111, sync.book)]


# -- failures, reset, misuse -------------------------------------------------------------


def test_failed_fetch_is_retried_while_a_snapshot_is_needed() -> None:
    """on_snapshot_failed asks again when waiting; not when synced or before any diff."""
    sync = BookSync(S)
    assert sync.on_snapshot_failed() == []
    sync.on_diff(diff(1, 1))
    assert sync.on_snapshot_failed() == [RequestSnapshot(S, "retry")]
    assert sync.snapshot_pending
    sync.on_snapshot(snapshot(1))
    assert state_of(sync) is SyncState.ALIGNED
    assert sync.on_snapshot_failed() == []


def test_reset_starts_over() -> None:
    """reset(): BUFFERING, no book, no buffer, no stream position; the next diff asks again."""
    sync = live_sync(100)
    sync.reset()
    assert state_of(sync) is SyncState.BUFFERING
    assert len(sync.book.bids) == 0
    assert sync.last_update_id is None
    assert not sync.snapshot_pending
    # After a reconnect ids may be anything: nothing is compared with the old stream.
    assert sync.on_diff(diff(5, 6)) == [RequestSnapshot(S, "initial")]
    assert sync.on_snapshot(snapshot(5)) == [Resynced(S, 6, sync.book)]
    assert sync.stats().resyncs == 2


def test_reset_forgets_pending_requests() -> None:
    """After reset the first diff requests a snapshot even if one was pending."""
    sync = BookSync(S)
    sync.on_diff(diff(1, 1))
    sync.reset()
    assert sync.on_diff(diff(2, 2)) == [RequestSnapshot(S, "initial")]


def test_wrong_symbol_is_a_caller_bug() -> None:
    """A diff or snapshot for another symbol raises ValueError."""
    sync = BookSync(S)
    with pytest.raises(ValueError, match="ETHBTC"):
        sync.on_diff(diff(1, 1, symbol="ETHBTC"))
    with pytest.raises(ValueError, match="ETHBTC"):
        sync.on_snapshot(snapshot(1, symbol="ETHBTC"))


@pytest.mark.parametrize("options", [{"max_buffer": 0}, {"max_stale_run": 0}, {"max_levels": 0}])
def test_invalid_options_are_config_errors(options: dict[str, Any]) -> None:
    """Non-positive limits raise ConfigError, for BookSync and BookSet alike."""
    with pytest.raises(ConfigError):
        BookSync(S, **options)
    with pytest.raises(ConfigError):
        BookSet([S], **options)


def test_max_levels_caps_the_synced_book() -> None:
    """max_levels reaches the book: the snapshot and the diffs are trimmed."""
    sync = BookSync(S, max_levels=1)
    sync.on_snapshot(snapshot(1))
    assert len(sync.book.bids) == len(sync.book.asks) == 1


def test_stats_and_repr() -> None:
    """stats() counts requests and applications; repr shows the state."""
    sync = live_sync(100)
    sync.on_diff(diff(101, 101))
    assert sync.stats() == SyncStats(
        diffs_applied=2,
        diffs_ignored=0,
        gaps=0,
        resyncs=1,
        overflows=0,
        snapshots_requested=1,
        snapshots_rejected=0,
        snapshots_ignored=0,
    )
    assert "live" in repr(sync)
    assert "last_update_id=101" in repr(sync)


@pytest.mark.parametrize("rules", [RangeRules(), BinanceRules()])
def test_range_rules_classify(rules: RangeRules) -> None:
    """Range rules (Binance's U/u): final <= last is OLD, first > last + 1 is GAP, else NEXT."""
    assert rules.classify(100, diff(90, 100)) is Step.OLD
    assert rules.classify(100, diff(101, 101)) is Step.NEXT
    assert rules.classify(100, diff(95, 105)) is Step.NEXT
    assert rules.classify(100, diff(102, 105)) is Step.GAP
    assert rules.expected_after(100) == 101
    assert rules.snapshot_covers(100, 100)
    assert not rules.snapshot_covers(99, 100)


def test_malformed_diff_with_u_before_first_id_cannot_corrupt_the_book() -> None:
    """U > u: ignored if old, else a gap; the stream then heals with a fresh snapshot."""
    sync = live_sync(100)
    assert sync.on_diff(diff(120, 90)) == []
    assert kinds(sync.on_diff(diff(120, 110))) == [Gap, RequestSnapshot]
    assert sync.on_diff(diff(111, 112)) == []
    assert sync.on_snapshot(snapshot(111)) == [Resynced(S, 112, sync.book)]


# -- BookSet -------------------------------------------------------------------------------


def test_bookset_routes_by_symbol() -> None:
    """Each symbol has its own synchroniser; a gap in one leaves the other live."""
    books = BookSet([S, "ETHBTC"])
    assert len(books) == 2
    assert set(books) == {S, "ETHBTC"}
    assert books.on_diff(diff(1, 1)) == [RequestSnapshot(S, "initial")]
    assert books.on_diff(diff(7, 7, symbol="ETHBTC")) == [RequestSnapshot("ETHBTC", "initial")]
    assert books.on_snapshot(snapshot(1)) == [Resynced(S, 1, books[S].book)]
    assert books.on_snapshot(snapshot(7, symbol="ETHBTC")) == [
        Resynced("ETHBTC", 7, books["ETHBTC"].book)
    ]
    assert kinds(books.on_diff(diff(5, 5))) == [Gap, RequestSnapshot]
    assert books[S].state is SyncState.RESYNCING
    assert books["ETHBTC"].state is SyncState.ALIGNED
    assert books.book(S) is None
    assert books.book("ETHBTC") is books["ETHBTC"].book


def test_bookset_ignores_and_counts_untracked_symbols() -> None:
    """Diffs and snapshots for symbols not added are counted, not raised."""
    books = BookSet([S])
    assert books.on_diff(diff(1, 1, symbol="XRPBTC")) == []
    assert books.on_snapshot(snapshot(1, symbol="XRPBTC")) == []
    assert books.on_snapshot_failed("XRPBTC") == []
    assert books.untracked == 2
    assert "XRPBTC" not in books
    assert books.book("XRPBTC") is None


def test_bookset_add_remove_and_reset() -> None:
    """add() is idempotent, remove() forgets, reset() restarts chosen or all symbols."""
    books = BookSet(max_buffer=5)
    first = books.add(S)
    assert books.add(S) is first
    other = books.add("ETHBTC")
    for sync, n in ((first, 1), (other, 9)):
        books.on_diff(diff(n, n, symbol=sync.symbol))
        books.on_snapshot(snapshot(n, symbol=sync.symbol))
        assert sync.is_synced
    books.reset([S, "NOTTRACKED"])
    assert first.state is SyncState.BUFFERING
    assert other.is_synced
    books.reset()
    assert other.state is SyncState.BUFFERING
    books.on_diff(diff(1, 1))
    assert books.on_snapshot_failed(S) == [RequestSnapshot(S, "retry")]
    books.remove(S)
    books.remove(S)
    assert S not in books
    assert "1 symbols" in repr(books)
