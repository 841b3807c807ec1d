"""Binance Spot's order books: diff-depth rules, the book adapter, snapshot fetches.

Binance's procedure (``docs/venues/binance.md`` section 10): subscribe to
``<symbol>@depth@100ms``, buffer the diffs, fetch a ``depth`` snapshot, drop
the diffs it already holds and apply the rest; a diff whose ``U`` is beyond
the book's id + 1 is a gap. Snapshots are fetched (``snapshots="fetch"``), so
``book_feed`` needs a fetch function: :func:`binance_depth_snapshots` over a
``BinanceSpotApi`` connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ..._bookfeed import FetchSnapshots
from ...book import (
    BookAdapter,
    DepthDiff,
    DepthSnapshot,
    RangeRules,
    SnapshotSourceKind,
    check_update_ids,
)
from ...errors import DecodeError
from ...events import Message
from ._protocol import depth_topic
from ._wire import DepthUpdate

__all__ = [
    "BinanceBook",
    "BinanceRules",
    "binance_depth_snapshots",
    "depth_diff_from_binance",
    "depth_snapshot_from_binance",
]


class BinanceRules(RangeRules):
    """Binance Spot's diff-depth rules: :class:`~trio_venues.book.RangeRules` over ``U``/``u``.

    ``first_update_id`` is ``U``, ``final_update_id`` is ``u``. A diff with
    ``u <= last`` is old (dropped); ``U <= last + 1 <= u`` continues the book;
    ``U > last + 1`` is a gap. A snapshot is usable when its ``lastUpdateId``
    is at least the first buffered ``U - 1``. Spot has no ``pu`` field (that is
    USDⓈ-M futures) and no checksum.
    """


class BinanceBook(BookAdapter):
    """Binance Spot's book procedure for ``book_feed``: fetched snapshots, ``U``/``u`` diffs.

    Args:
        speed: the diff stream's speed, ``"100ms"`` (default) or ``"1000ms"``.
    """

    snapshots: ClassVar[SnapshotSourceKind] = "fetch"

    def __init__(self, speed: str = "100ms") -> None:
        self.speed = speed
        self.rules = BinanceRules()

    def __repr__(self) -> str:
        return f"BinanceBook(speed={self.speed!r})"

    def symbol(self, symbol: str) -> str:
        """Binance names symbols in upper case in depth messages: ``"btcusdt"`` -> ``"BTCUSDT"``."""
        return symbol.upper()

    def topic(self, symbol: str, variant: str | None = None) -> str:
        """``<symbol>@depth@100ms`` (``variant``: the speed)."""
        return depth_topic(symbol, speed=variant or self.speed)

    def parse(self, message: Message) -> Sequence[DepthDiff | DepthSnapshot]:
        """A ``depthUpdate`` as one :class:`~trio_venues.book.DepthDiff` (levels as received)."""
        data = message.data
        if not isinstance(data, DepthUpdate):
            return ()
        return (
            DepthDiff(
                data.symbol,
                data.first_update_id,
                data.final_update_id,
                data.bids,
                data.asks,
                data.event_time,
            ),
        )


def depth_diff_from_binance(data: Mapping[str, Any]) -> DepthDiff:
    """A diff from a raw Binance ``depthUpdate`` payload (the ``data`` of a combined stream).

    Raises:
        DecodeError: a field is missing or has the wrong type.
    """
    try:
        diff = DepthDiff(
            symbol=data["s"],
            first_update_id=data["U"],
            final_update_id=data["u"],
            bids=data["b"],
            asks=data["a"],
            event_time=data.get("E"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise DecodeError(f"not a Binance depthUpdate payload: {exc!r}") from exc
    check_update_ids(diff.first_update_id, diff.final_update_id)
    return diff


def depth_snapshot_from_binance(symbol: str, data: Mapping[str, Any]) -> DepthSnapshot:
    """A snapshot from a Binance depth answer (REST body or WS-API ``result``).

    The answer does not name its symbol, so pass the one you asked for,
    spelled as in the diffs (``"BNBBTC"``).

    Raises:
        DecodeError: a field is missing or has the wrong type.
    """
    try:
        snapshot = DepthSnapshot(
            symbol=symbol,
            last_update_id=data["lastUpdateId"],
            bids=data["bids"],
            asks=data["asks"],
        )
    except (KeyError, TypeError) as exc:
        raise DecodeError(f"not a Binance depth snapshot: {exc!r}") from exc
    check_update_ids(snapshot.last_update_id)
    return snapshot


def binance_depth_snapshots(api: Any, limit: int = 1000, *, speed: str = "100ms") -> FetchSnapshots:
    """Snapshots through a ``BinanceSpotApi`` connection's ``depth`` request (weighted).

    The result carries Binance's book adapter, so ``book_feed(ws,
    binance_depth_snapshots(api), symbols)`` needs nothing else.

    Args:
        api: a ``BinanceSpotApi`` connection (or a ``retry_scope`` over one).
        limit: levels per side (Binance: up to 5000; the weight grows with it).
        speed: the diff stream's speed (see :class:`BinanceBook`).
    """

    async def fetch(symbol: str) -> DepthSnapshot:
        result = await api.request("depth", {"symbol": symbol, "limit": limit})
        return depth_snapshot_from_binance(symbol, result)

    return FetchSnapshots(fetch, BinanceBook(speed))
