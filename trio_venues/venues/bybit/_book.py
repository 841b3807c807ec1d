"""Bybit's order books for ``book_feed``: in-stream snapshots, ``u`` update ids, resets.

Bybit's procedure (``docs/venues/bybit.md``, "Books"): each subscribe to
``orderbook.{depth}.{symbol}`` brings a ``snapshot``, then ``delta``\\ s. Any
later snapshot replaces the book (``reset_on_snapshot``), ``u == 1`` included
(a service restart). Bybit documents no gap rule; ours (:class:`BybitRules`):
each delta's ``u`` must be the previous ``u`` + 1; one that does not advance is
stale and dropped, one that jumps resyncs that symbol by resubscribing its
topic (``snapshots="stream"``), which brings a fresh snapshot.

``seq``, Bybit's cross sequence, is comparable with trade ``seq``: the adapter
keeps the last one of each symbol in :attr:`BybitBook.last_seq`, and the
``cts`` (match-engine time, comparable with trade times) travels as each
diff's ``event_time``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ...book import BookAdapter, DepthDiff, DepthSnapshot, RangeRules, SnapshotSourceKind
from ...events import Message
from ._topics import ORDERBOOK_DEPTHS, orderbook_topic
from ._wire import OrderbookMessage

__all__ = ["BybitBook", "BybitRules"]


class BybitRules(RangeRules):
    """Bybit's delta rules: :class:`~trio_venues.book.RangeRules` with ``first = final = u``.

    ``u <= last`` is stale (dropped; a long run of them means Bybit restarted
    its ids, and the book resyncs); ``u == last + 1`` applies; ``u > last + 1``
    is a jump: the symbol resyncs.
    """


class BybitBook(BookAdapter):
    """Bybit's book procedure for ``book_feed``: in-stream snapshots that reset the book.

    Args:
        depth: the book depth subscribed (``variant=`` of ``book_feed`` overrides
            it per feed): 1, 50, 200 or 1000 on spot/linear/inverse; 25 or 100 on options.
    """

    snapshots: ClassVar[SnapshotSourceKind] = "stream"
    reset_on_snapshot = True

    def __init__(self, depth: int = 50) -> None:
        if depth not in {d for ds in ORDERBOOK_DEPTHS.values() for d in ds}:
            raise ValueError(f"invalid Bybit book depth {depth!r}")
        self.depth = depth
        self.rules = BybitRules()
        #: The last cross sequence (``seq``) seen per symbol: line books up with trades.
        self.last_seq: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"BybitBook(depth={self.depth})"

    def topic(self, symbol: str, variant: str | None = None) -> str:
        """``orderbook.{depth}.{symbol}`` (``variant``: the depth, e.g. ``"200"``)."""
        depth = int(variant) if variant is not None else self.depth
        return orderbook_topic(symbol, depth)

    def parse(self, message: Message) -> Sequence[DepthDiff | DepthSnapshot]:
        """A snapshot as a :class:`DepthSnapshot` at ``u``; a delta as a diff ``u..u``."""
        data = message.data
        if not isinstance(data, OrderbookMessage):
            return ()
        book = data.book
        if book.seq is not None:
            self.last_seq[book.symbol] = book.seq
        if data.type == "snapshot":
            return (DepthSnapshot(book.symbol, book.update_id, book.bids, book.asks),)
        return (
            DepthDiff(
                book.symbol,
                book.update_id,
                book.update_id,
                book.bids,
                book.asks,
                event_time=data.cts if data.cts is not None else data.ts,
            ),
        )
