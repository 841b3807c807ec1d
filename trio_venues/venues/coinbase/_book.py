"""Coinbase's order books: ``level2`` snapshots in the stream, absolute sizes, connection-wide gaps.

Coinbase's procedure (``docs/venues/coinbase.md``, "Messages" and "Sequence
numbers"): subscribing ``level2`` brings a snapshot in the stream (levels
unsorted, bids and offers interleaved), then updates whose ``new_quantity``
is the level's new absolute size (``"0"`` deletes it). There are no book
update ids: the only sequence is the connection's ``sequence_num``, one
counter for every channel. So:

- a book's update id is the ``sequence_num`` of the message that carried it
  (increasing, not dense: other channels take numbers too); an older or
  repeated number is dropped, any higher one applies (:class:`CoinbaseRules`);
- a gap is found by the core on the whole connection (``GapDetected`` for a
  ``sequence_num`` jump, ``GapDetected("heartbeats")`` for a heartbeat
  counter jump, which Coinbase says means missed messages), and any of them
  resyncs **every** book of the connection (``sequence = "connection"``) by
  subscribing ``level2`` again for a fresh snapshot;
- a snapshot while synced (after a resubscribe) replaces the book.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ...book import BookAdapter, DepthDiff, DepthSnapshot, SnapshotSourceKind, Step, SyncRules
from ...events import Message
from ._protocol import topic
from ._wire import L2DataMessage, L2Update

__all__ = ["CoinbaseBook", "CoinbaseRules"]


class CoinbaseRules(SyncRules):
    """Book ids are the connection's ``sequence_num``: increasing, not dense.

    A diff at or below the book's id is old (dropped); any higher one
    continues the book. Losses are not visible per book: the core reports
    them for the whole connection, and ``book_feed`` resyncs every book then.
    """

    def classify(self, last_id: int, diff: DepthDiff) -> Step:
        """Old when ``final_update_id <= last_id``, else next (no per-book gap)."""
        return Step.OLD if diff.final_update_id <= last_id else Step.NEXT

    def expected_after(self, last_id: int) -> None:
        """Unknown: other channels share the numbering."""
        return None

    def snapshot_covers(self, snapshot_id: int, last_id: int) -> bool:
        """A snapshot covers whatever came on the connection before it."""
        return snapshot_id >= last_id


def _levels(updates: Sequence[L2Update], side: str) -> list[tuple[str, str]]:
    return [(u.price_level, u.new_quantity) for u in updates if u.side == side]


class CoinbaseBook(BookAdapter):
    """Coinbase's book procedure for ``book_feed``: ``level2`` topics, in-stream snapshots.

    ``book_feed(ws, "coinbase", ["BTC-USD"])`` subscribes ``level2:BTC-USD``.
    """

    snapshots: ClassVar[SnapshotSourceKind] = "stream"
    reset_on_snapshot = True
    sequence = "connection"

    def __init__(self) -> None:
        self.rules = CoinbaseRules()

    def __repr__(self) -> str:
        return "CoinbaseBook()"

    def topic(self, symbol: str, variant: str | None = None) -> str:
        """``"level2:<product_id>"`` (Coinbase has one book channel; ``variant`` is ignored)."""
        return topic("level2", symbol)

    def parse(self, message: Message) -> Sequence[DepthDiff | DepthSnapshot]:
        """Each ``l2_data`` event as a snapshot or a diff, at the message's ``sequence_num``."""
        data = message.data
        if not isinstance(data, L2DataMessage):
            return ()
        seq = data.sequence_num
        event_ms = data.timestamp_ns // 1_000_000
        out: list[DepthDiff | DepthSnapshot] = []
        for event in data.events:
            bids = _levels(event.updates, "bid")
            asks = _levels(event.updates, "offer")
            if event.kind == "snapshot":
                out.append(DepthSnapshot(event.product_id, seq, bids, asks))
            else:
                out.append(DepthDiff(event.product_id, seq, seq, bids, asks, event_ms))
        return out
