"""Order books of the generic JSON test venue: in-stream snapshots, ranges, a checksum.

Topic ``book.<SYMBOL>``. Right after a subscribe's ack the fake sends a
snapshot, then diffs (``data`` of the venue's data frames)::

    {"book": "snapshot", "id": 1000040, "bids": [["99.99", "1.5"], ...],
     "asks": [...], "checksum": 2211334455}
    {"book": "diff", "first": 1000041, "last": 1000043, "bids": [...],
     "asks": [...], "checksum": 1122334455}

``first``/``last`` are the range of update ids a diff covers
(:class:`~trio_venues.book.RangeRules`); quantity ``"0"`` removes a level; a
snapshot may come again at any time and replaces the book. ``checksum`` is
:func:`book_checksum` of the book once the message is applied. It exercises
every path of ``book_feed`` a real venue needs: in-stream snapshots with
resubscription, resets, checksums, and (``sequence="connection"``) one
sequence for the whole connection.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from ...book import (
    BookAdapter,
    DepthDiff,
    DepthSnapshot,
    OrderBook,
    RangeRules,
    SequenceScope,
    SnapshotSourceKind,
    check_update_ids,
)
from ...errors import DecodeError
from ...events import Message

__all__ = ["CHECKSUM_LEVELS", "GenericBook", "book_checksum", "levels_checksum"]

#: Levels per side the checksum covers.
CHECKSUM_LEVELS = 10
_PREFIX = "book."


def levels_checksum(
    bids: Iterable[tuple[Decimal, Decimal]], asks: Iterable[tuple[Decimal, Decimal]]
) -> int:
    """CRC32 of ``"bid1:qty1:...:ask1:qty1:..."`` over the best levels given, best first.

    Prices and quantities are written as ``str(Decimal)``, so the exact text
    the venue sent (``"99.99000000"`` stays ``"99.99000000"``).
    """
    parts = [f"{price}:{qty}" for price, qty in (*bids, *asks)]
    return zlib.crc32(":".join(parts).encode())


def book_checksum(book: OrderBook) -> int:
    """The generic venue's checksum of ``book``: its best :data:`CHECKSUM_LEVELS` per side."""
    return levels_checksum(book.bids.top(CHECKSUM_LEVELS), book.asks.top(CHECKSUM_LEVELS))


class GenericBook(BookAdapter):
    """The generic venue's book procedure: in-stream snapshots that reset, range rules, CRC32.

    Args:
        sequence: ``"connection"`` when the connection numbers every message in
            one sequence (``?sequence=connection``); ``"topic"`` by default.
        reset_on_snapshot: a snapshot arriving while synced replaces the book
            (True, as the fake may re-send one at any time).
    """

    snapshots: ClassVar[SnapshotSourceKind] = "stream"

    def __init__(
        self, *, sequence: SequenceScope = "topic", reset_on_snapshot: bool = True
    ) -> None:
        self.rules = RangeRules(checksum=book_checksum)
        self.sequence = sequence
        self.reset_on_snapshot = reset_on_snapshot

    def __repr__(self) -> str:
        return f"GenericBook(sequence={self.sequence!r})"

    def topic(self, symbol: str, variant: str | None = None) -> str:
        """``book.<symbol>`` (the generic venue has one book stream per symbol)."""
        return f"{_PREFIX}{symbol}"

    def parse(self, message: Message) -> Sequence[DepthDiff | DepthSnapshot]:
        """A snapshot or a diff (see the module docstring); anything else is no book message."""
        data, topic = message.data, message.topic
        if not isinstance(data, dict) or topic is None or not topic.startswith(_PREFIX):
            return ()
        symbol = topic.removeprefix(_PREFIX)
        kind = data.get("book")
        try:
            if kind == "snapshot":
                check_update_ids(data["id"])
                return (
                    DepthSnapshot(symbol, data["id"], data["bids"], data["asks"], _checksum(data)),
                )
            if kind == "diff":
                check_update_ids(data["first"], data["last"])
                return (
                    DepthDiff(
                        symbol,
                        data["first"],
                        data["last"],
                        data["bids"],
                        data["asks"],
                        checksum=_checksum(data),
                    ),
                )
        except KeyError as exc:
            raise DecodeError(f"generic book message without {exc}") from None
        return ()


def _checksum(data: dict[str, Any]) -> int | None:
    value = data.get("checksum")
    if value is None:
        return None
    if type(value) is not int:
        raise DecodeError(f"a book checksum is an integer, got {value!r}")
    return value
