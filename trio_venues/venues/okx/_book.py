"""OKX's order books for ``book_feed``: in-stream snapshots chained by ``seqId``/``prevSeqId``.

OKX's procedure (``docs/venues/okx.md``, "Books"): subscribe to ``books``
(or ``books-l2-tbt``/``books50-l2-tbt``); the first message is a snapshot
(``prevSeqId == -1``), then each update's ``prevSeqId`` equals the previous
``seqId``. An update with no levels and ``prevSeqId == seqId`` is OKX's
keep-alive, and after maintenance the chain may restart lower (``seqId <
prevSeqId``); both continue the book. Anything else is a gap, and a resync
resubscribes that one instrument for a new snapshot (``snapshots="stream"``).

Checksum: OKX fixed ``checksum`` at 0 in 2026, so 0 means "absent" and is not
checked; a non-zero value is checked with the legacy CRC32 rule over the top
25 levels of each side (:func:`okx_book_checksum`), and a mismatch resyncs
that book. The book keeps exact ``Decimal`` levels, whose text is the string
OKX sent (``Decimal`` keeps trailing zeros), so the rule sees OKX's strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ...book import BookAdapter, ChainRules, DepthDiff, DepthSnapshot, OrderBook, SnapshotSourceKind
from ...events import Message
from ._wire import CHECKSUM_DEPTH, BookMessage, book_checksum

__all__ = ["OKX_BOOK_CHANNELS", "OkxBook", "OkxRules", "okx_book_checksum"]

#: Book channels ``book_feed`` can keep: the ones with a snapshot and chained updates.
OKX_BOOK_CHANNELS: tuple[str, ...] = ("books", "books-l2-tbt", "books50-l2-tbt")


def okx_book_checksum(book: OrderBook) -> int:
    """The legacy OKX checksum of ``book``: signed CRC32 over its top 25 levels a side."""
    bids = [(str(price), str(qty)) for price, qty in book.bids.top(CHECKSUM_DEPTH)]
    asks = [(str(price), str(qty)) for price, qty in book.asks.top(CHECKSUM_DEPTH)]
    return book_checksum(bids, asks)


class OkxRules(ChainRules):
    """OKX's chain rules: ``prevSeqId``/``seqId`` with the legacy checksum for non-zero values."""

    def __init__(self) -> None:
        super().__init__(checksum=okx_book_checksum)


class OkxBook(BookAdapter):
    """OKX's book procedure for ``book_feed``: snapshots in the stream, ``seqId`` chains.

    Symbols are OKX instrument ids (``"BTC-USDT"``); the topic is
    ``"<channel>:<instId>"``.

    Args:
        channel: ``"books"`` (default, 400 levels, 100 ms), ``"books50-l2-tbt"``
            or ``"books-l2-tbt"`` (both need a login and a VIP tier).
    """

    snapshots: ClassVar[SnapshotSourceKind] = "stream"
    # A snapshot while synced (after a resubscribe, or one OKX re-sends) replaces the book.
    reset_on_snapshot = True
    sequence = "topic"

    def __init__(self, channel: str = "books") -> None:
        if channel not in OKX_BOOK_CHANNELS:
            raise ValueError(f"OKX books with seqIds are {OKX_BOOK_CHANNELS}, not {channel!r}")
        self.channel = channel
        self.rules = OkxRules()

    def __repr__(self) -> str:
        return f"OkxBook(channel={self.channel!r})"

    def topic(self, symbol: str, variant: str | None = None) -> str:
        """``books:<instId>`` (``variant``: another book channel)."""
        channel = variant or self.channel
        if channel not in OKX_BOOK_CHANNELS:
            raise ValueError(f"OKX books with seqIds are {OKX_BOOK_CHANNELS}, not {channel!r}")
        return f"{channel}:{symbol}"

    def parse(self, message: Message) -> Sequence[DepthDiff | DepthSnapshot]:
        """A snapshot or an update, levels as received; checksum 0 reads "none"."""
        data = message.data
        if not isinstance(data, BookMessage) or message.topic is None:
            return ()
        symbol = message.topic.partition(":")[2]
        seq = data.seq_id if data.seq_id is not None else 0
        checksum = data.checksum or None
        if data.action == "snapshot":
            return (DepthSnapshot(symbol, seq, data.bids, data.asks, checksum),)
        prev = data.prev_seq_id
        return (
            DepthDiff(
                symbol,
                seq,
                seq,
                data.bids,
                data.asks,
                data.ts,
                previous_update_id=prev,
                checksum=checksum,
            ),
        )
