"""Local order books: a price-level model and a snapshot + diff synchroniser. Pure: no I/O, no trio.

Two layers:

* :class:`OrderBook` holds the price levels of one symbol, keyed by exact
  :class:`~decimal.Decimal` prices, and answers the usual questions (best
  bid/ask, top *n*, depth, spread, mid, crossed?).
* :class:`BookSync` is a sans-I/O state machine that keeps one ``OrderBook``
  in step with a venue's diff stream and its snapshots. It never does I/O:
  you feed it :class:`DepthDiff` and :class:`DepthSnapshot` values and it
  returns *actions* (:class:`RequestSnapshot`, :class:`BookUpdated`,
  :class:`Gap`, :class:`Resynced`, :class:`BufferOverflow`) for the caller to
  carry out. The venue's sequencing rules are a plug-in (:class:`SyncRules`:
  :class:`RangeRules` for diffs that name the range of update ids they cover,
  :class:`ChainRules` for diffs that name the previous one), with an optional
  checksum of the book. :class:`BookSet` routes many symbols to their synchronisers.
* :class:`BookAdapter` describes one venue's whole procedure for
  :func:`~trio_venues.book_feed`: its book topic, how a message becomes diffs
  and snapshots, where snapshots come from (a fetch, or in the stream itself),
  whether a snapshot resets a synced book, and whether the venue numbers its
  messages per topic or per connection. Each venue's adapter lives in its
  folder (``trio_venues/venues/<venue>/_book.py``).

How a Trio task drives it (the shape ``book_feed`` follows)::

    books = BookSet(["BNBBTC"])                    # RangeRules by default
    # task 1, the reader: every depthUpdate, in arrival order
    for action in books.on_diff(diff):
        match action:
            case RequestSnapshot(symbol=symbol):   # hand it to task 2; never fetch inline,
                ...                                # diffs must keep flowing into the buffer
            case Gap(symbol=s, expected=e, received=r):
                ...                                # emit GapDetected(topic, e, r)
            case BookUpdated() | Resynced():
                ...                                # the book changed / is (again) usable
    # task 2, the fetcher: the venue's snapshot request (REST or WebSocket), then
    #     books.on_snapshot(DepthSnapshot(symbol, last_update_id, bids, asks))   -> more actions
    # or, when the fetch failed: books.on_snapshot_failed(symbol)  -> a RequestSnapshot to retry
    # after a reconnect or a DataGap: books.reset()

Every :class:`RequestSnapshot` should be answered by exactly one ``on_snapshot``
or ``on_snapshot_failed`` call (after :meth:`BookSync.reset` outstanding
fetches may be dropped). Late or unsolicited snapshots are harmless: each is
judged on its own update id, used when it fits and re-requested or ignored
otherwise.
"""

from __future__ import annotations

import abc
import enum
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Context, Decimal, InvalidOperation, localcontext
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeAlias

import attrs

from ._deprecated import attach_moved_methods, moved_names
from ._wirecodec import DECIMAL_EXPONENT_LIMIT
from .errors import ConfigError, DecodeError

if TYPE_CHECKING:
    from .events import Message

__all__ = [
    "BookAction",
    "BookAdapter",
    "BookSet",
    "BookSide",
    "BookSync",
    "BookUpdated",
    "BufferOverflow",
    "ChainRules",
    "ChecksumRule",
    "DepthDiff",
    "DepthSnapshot",
    "Gap",
    "GapReason",
    "InvalidLevel",
    "Level",
    "OrderBook",
    "RangeRules",
    "RawLevel",
    "RequestSnapshot",
    "Resynced",
    "SequenceScope",
    "Side",
    "SnapshotReason",
    "SnapshotSourceKind",
    "Step",
    "SyncRules",
    "SyncState",
    "SyncStats",
]

Level: TypeAlias = tuple[Decimal, Decimal]
"""A parsed price level: ``(price, quantity)``."""

RawLevel: TypeAlias = Sequence[str | Decimal]
"""A level as a venue sends it: ``[price, quantity, ...]``, exact strings (or Decimals).

Items after the quantity are ignored (OKX sends four: price, size, "0", order count).
"""

_ZERO: Final = Decimal(0)
_EXPONENT_LIMIT: Final = DECIMAL_EXPONENT_LIMIT
_TWO: Final = Decimal(2)

# spread, mid and depth sums are computed in this context rather than the caller's thread
# context (28 digits by default, and user-changeable): 60 significant digits keep them exact
# for any price or quantity a venue sends, and the results never depend on global state.
_ARITHMETIC: Final = Context(prec=60)


class InvalidLevel(DecodeError, ValueError):
    """A price level that cannot be in a book.

    Raised for an unparsable price or quantity, a non-finite one (``NaN``,
    ``Infinity``), a price that is not positive or a negative quantity. The
    book is left exactly as it was: levels are all parsed before any is applied.
    """


class Side(enum.StrEnum):
    """A side of the book."""

    BID = "bid"
    ASK = "ask"


def _parse_levels(levels: Iterable[RawLevel]) -> list[Level]:
    """Parse and validate venue levels into ``(price, qty)`` Decimals, all or nothing.

    Each string is parsed exactly once here; everything downstream reuses the
    Decimals (parsing is the main cost of a book update).
    """
    parsed: list[Level] = []
    append = parsed.append
    for level in levels:
        try:
            raw_price = level[0]
            raw_qty = level[1]
            # Decimal() also takes a float and keeps its binary error (0.1 becomes
            # 0.1000000000000000055...), so only exact strings and Decimals get through.
            if (type(raw_price) is not str and not isinstance(raw_price, Decimal)) or (
                type(raw_qty) is not str and not isinstance(raw_qty, Decimal)
            ):
                raise TypeError("prices and quantities must be strings or Decimals")
            price = Decimal(raw_price)
            qty = Decimal(raw_qty)
        except (InvalidOperation, IndexError, TypeError, ValueError) as exc:
            raise InvalidLevel(f"unparsable price level {level!r}: {exc!r}") from exc
        # Decimal("NaN") and Decimal("Infinity") parse fine, and a NaN would break the
        # sort order (comparisons with it raise or are always False), so reject them here;
        # so is an absurd exponent ("1e9999999999"), on which user arithmetic overflows.
        if (
            not (price.is_finite() and qty.is_finite())
            or price <= _ZERO
            or qty < _ZERO
            or not -_EXPONENT_LIMIT <= price.adjusted() <= _EXPONENT_LIMIT
            or not -_EXPONENT_LIMIT <= qty.adjusted() <= _EXPONENT_LIMIT
        ):
            raise InvalidLevel(
                f"invalid price level {level!r:.80}: the price must be finite and positive, "
                "the quantity finite and not negative, both within 1e-100 and 1e100"
            )
        append((price, qty))
    return parsed


class BookSide:
    """One side of an :class:`OrderBook`, read from the best price outwards.

    ``len(side)`` is the number of levels; iterating yields ``(price, qty)``
    from the best price outwards (do not mutate the book while iterating).
    Changes go through the owning :class:`OrderBook`.
    """

    __slots__ = ("_keys", "_negate", "_qtys", "side")

    # Why two parallel sorted lists and no dict: hashing a freshly parsed Decimal costs
    # about 0.5 us (CPython computes it arithmetically, then caches it), more than a bisect
    # over 1000 levels (about 0.2 us). So a price is found by bisect, in O(log n) Decimal
    # comparisons, and its quantity sits at the same index of the second list.
    #
    # The best price is kept at the END of the lists: most activity is near the top of the
    # book, and list.insert/del only shift the items after the index, so updates near the
    # top shift almost nothing and the best level is keys[-1], O(1). Asks are stored
    # negated (copy_negate: exact, no context rounding), so both sides sort ascending
    # towards their best price and share one code path.

    def __init__(self, side: Side) -> None:
        self.side = side
        self._negate = side is Side.ASK
        self._keys: list[Decimal] = []
        self._qtys: list[Decimal] = []

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Level]:
        keys, qtys = self._keys, self._qtys
        if self._negate:
            for i in range(len(keys) - 1, -1, -1):
                yield keys[i].copy_negate(), qtys[i]
        else:
            for i in range(len(keys) - 1, -1, -1):
                yield keys[i], qtys[i]

    def __repr__(self) -> str:
        return f"<BookSide {self.side.value}: {len(self._keys)} levels, best={self.best}>"

    @property
    def best(self) -> Level | None:
        """The best level ``(price, qty)`` (highest bid, lowest ask), or None when empty."""
        keys = self._keys
        if not keys:
            return None
        key = keys[-1]
        return (key.copy_negate() if self._negate else key), self._qtys[-1]

    @property
    def best_price(self) -> Decimal | None:
        """The best price, or None when the side is empty."""
        keys = self._keys
        if not keys:
            return None
        return keys[-1].copy_negate() if self._negate else keys[-1]

    def top(self, n: int) -> list[Level]:
        """The ``n`` best levels, best first (bids descending, asks ascending)."""
        if n <= 0:
            return []
        keys = self._keys[-n:]
        qtys = self._qtys[-n:]
        keys.reverse()
        qtys.reverse()
        if self._negate:
            return [(key.copy_negate(), qty) for key, qty in zip(keys, qtys, strict=True)]
        return list(zip(keys, qtys, strict=True))

    def get(self, price: Decimal) -> Decimal | None:
        """The quantity at ``price`` (compared by value: ``1.0 == 1.00``), or None."""
        key = price.copy_negate() if self._negate else price
        keys = self._keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            return self._qtys[i]
        return None

    def depth(self, n: int | None = None) -> Decimal:
        """The total quantity of the ``n`` best levels (all levels when ``n`` is None)."""
        if n is not None and n <= 0:
            return _ZERO
        qtys = self._qtys if n is None else self._qtys[-n:]
        with localcontext(_ARITHMETIC):
            return sum(qtys, _ZERO)

    def _apply(self, parsed: list[Level]) -> None:
        """Apply parsed levels in order: quantity 0 removes (absent levels are fine)."""
        keys, qtys, negate = self._keys, self._qtys, self._negate
        for price, qty in parsed:
            key = price.copy_negate() if negate else price
            i = bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                if qty:
                    qtys[i] = qty
                else:
                    del keys[i]
                    del qtys[i]
            elif qty:
                keys.insert(i, key)
                qtys.insert(i, qty)
            # else: removing a level we do not have. Binance documents this as normal
            # (levels beyond the snapshot depth), so it is not an error.

    def _load(self, parsed: list[Level]) -> None:
        """Replace every level with ``parsed``, as if applied one by one to an empty side.

        So for a price given twice the later entry wins, and a zero removes.
        """
        negate = self._negate
        pairs = [((price.copy_negate() if negate else price), qty) for price, qty in parsed]
        # A stable sort on the price alone keeps duplicates in input order, so the later
        # entry wins below.
        pairs.sort(key=itemgetter(0))
        keys: list[Decimal] = []
        qtys: list[Decimal] = []
        for key, qty in pairs:
            if keys and keys[-1] == key:
                qtys[-1] = qty
            else:
                keys.append(key)
                qtys.append(qty)
        if not all(qtys):  # rare: venues do not send zero levels in snapshots
            kept = [(key, qty) for key, qty in zip(keys, qtys, strict=True) if qty]
            keys = [key for key, _ in kept]
            qtys = [qty for _, qty in kept]
        self._keys = keys
        self._qtys = qtys

    def _trim(self, max_levels: int) -> None:
        """Drop the levels farthest from the top beyond ``max_levels``."""
        excess = len(self._keys) - max_levels
        if excess > 0:
            del self._keys[:excess]
            del self._qtys[:excess]


class OrderBook:
    """The price levels of one symbol: exact Decimal prices, bids and asks.

    Prices are compared by value (``"1.0"`` and ``"1.00"`` are one level). A
    quantity of 0 removes a level. Reads of the best level are O(1); an update
    is a bisect (O(log n)) plus a list shift that is short near the top of the book.

    Args:
        symbol: the instrument, as the venue spells it in its messages.
        max_levels: keep at most this many levels per side, dropping the ones
            farthest from the top after each change (None: no limit). Binance
            snapshots carry at most 5000 levels per side and diffs keep adding
            deeper ones, so a long-lived book grows without a cap.

    Attributes:
        symbol: the instrument.
        bids: the bid side (:class:`BookSide`), best (highest) first.
        asks: the ask side, best (lowest) first.
        last_update_id: the venue update id the book reflects, or None.
        max_levels: the per-side cap, or None.
    """

    __slots__ = ("asks", "bids", "last_update_id", "max_levels", "symbol")

    def __init__(self, symbol: str, *, max_levels: int | None = None) -> None:
        if max_levels is not None and max_levels < 1:
            raise ConfigError(f"max_levels must be at least 1 or None, got {max_levels!r}")
        self.symbol = symbol
        self.max_levels = max_levels
        self.bids = BookSide(Side.BID)
        self.asks = BookSide(Side.ASK)
        self.last_update_id: int | None = None

    def __repr__(self) -> str:
        return (
            f"<OrderBook {self.symbol} bids={len(self.bids)} asks={len(self.asks)} "
            f"best_bid={self.bids.best} best_ask={self.asks.best} "
            f"last_update_id={self.last_update_id}>"
        )

    def side(self, side: Side) -> BookSide:
        """The :class:`BookSide` for ``side``."""
        return self.bids if side is Side.BID else self.asks

    # -- changes -------------------------------------------------------------------------

    def apply(self, side: Side, price: Decimal, qty: Decimal) -> None:
        """Set one level: ``qty`` 0 removes it.

        Raises:
            InvalidLevel: ``price`` is not finite and positive, or ``qty`` is not
                finite and non-negative. The book is unchanged.
        """
        self.apply_levels(side, ((price, qty),))

    def apply_levels(self, side: Side, levels: Iterable[RawLevel]) -> tuple[Level, ...]:
        """Apply venue levels (``[[price_str, qty_str], ...]``) to one side, in order.

        Returns:
            The parsed levels as applied, ``(price, qty)`` with ``qty`` 0 for removals.

        Raises:
            InvalidLevel: a level is invalid; nothing was applied.
        """
        parsed = _parse_levels(levels)
        book_side = self.side(side)
        book_side._apply(parsed)
        if self.max_levels is not None:
            book_side._trim(self.max_levels)
        return tuple(parsed)

    def apply_diff(
        self, bids: Iterable[RawLevel], asks: Iterable[RawLevel]
    ) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """Apply the bid and ask levels of one venue diff, all or nothing.

        Returns:
            ``(changed_bids, changed_asks)``, parsed, as applied.

        Raises:
            InvalidLevel: a level on either side is invalid; nothing was applied.
        """
        parsed_bids = _parse_levels(bids)
        parsed_asks = _parse_levels(asks)
        self.bids._apply(parsed_bids)
        self.asks._apply(parsed_asks)
        if self.max_levels is not None:
            self.bids._trim(self.max_levels)
            self.asks._trim(self.max_levels)
        return tuple(parsed_bids), tuple(parsed_asks)

    def load_snapshot(
        self,
        bids: Iterable[RawLevel],
        asks: Iterable[RawLevel],
        last_update_id: int | None = None,
    ) -> None:
        """Replace the whole book with a snapshot.

        Levels may come in any order. The result is what applying them one by one
        to an empty book gives: for a price given twice the later entry wins, and
        a zero quantity removes.

        Raises:
            InvalidLevel: a level is invalid; the book is unchanged.
        """
        parsed_bids = _parse_levels(bids)
        parsed_asks = _parse_levels(asks)
        self.bids._load(parsed_bids)
        self.asks._load(parsed_asks)
        if self.max_levels is not None:
            self.bids._trim(self.max_levels)
            self.asks._trim(self.max_levels)
        self.last_update_id = last_update_id

    def clear(self) -> None:
        """Remove every level and forget the update id."""
        self.bids._load([])
        self.asks._load([])
        self.last_update_id = None

    # -- reads ---------------------------------------------------------------------------

    @property
    def best_bid(self) -> Level | None:
        """The highest bid ``(price, qty)``, or None."""
        return self.bids.best

    @property
    def best_ask(self) -> Level | None:
        """The lowest ask ``(price, qty)``, or None."""
        return self.asks.best

    def top(self, side: Side, n: int) -> list[Level]:
        """The ``n`` best levels of ``side``, best first (bids descending, asks ascending)."""
        return self.side(side).top(n)

    def depth(self, side: Side, n: int | None = None) -> Decimal:
        """The total quantity of the ``n`` best levels of ``side`` (all when None)."""
        return self.side(side).depth(n)

    @property
    def is_crossed(self) -> bool:
        """Whether the best bid is at or above the best ask (a locked book counts too)."""
        bid = self.bids.best_price
        ask = self.asks.best_price
        return bid is not None and ask is not None and bid >= ask

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid, or None when a side is empty."""
        bid = self.bids.best_price
        ask = self.asks.best_price
        if bid is None or ask is None:
            return None
        with localcontext(_ARITHMETIC):
            return ask - bid

    @property
    def mid(self) -> Decimal | None:
        """The midpoint of the best bid and ask, or None when a side is empty."""
        bid = self.bids.best_price
        ask = self.asks.best_price
        if bid is None or ask is None:
            return None
        with localcontext(_ARITHMETIC):
            return (bid + ask) / _TWO


# ---------------------------------------------------------------------------------------
# Inputs of the synchroniser
# ---------------------------------------------------------------------------------------


@attrs.frozen
class DepthDiff:
    """One diff message of a venue's depth stream, in venue-neutral form.

    Each venue's :class:`BookAdapter` maps its sequence fields as its
    :class:`SyncRules` document (see ``docs/venues/<venue>.md``).

    Attributes:
        symbol: the instrument; must match the synchroniser's symbol exactly.
        first_update_id: the first update id the diff covers.
        final_update_id: the last update id the diff covers: the book's update
            id once the diff is applied.
        bids: changed bid levels ``(price_str, qty_str)``; quantity "0" removes.
        asks: changed ask levels.
        event_time: the venue's event time in ms, passed through, or None.
        previous_update_id: the final update id of the diff this one follows,
            for venues that chain their diffs (``prevSeqId``); None otherwise.
        checksum: the venue's checksum of the book after this diff, checked
            with the rules' :attr:`SyncRules.checksum`; None: none sent.
    """

    symbol: str
    first_update_id: int
    final_update_id: int
    bids: Sequence[RawLevel]
    asks: Sequence[RawLevel]
    event_time: int | None = None
    previous_update_id: int | None = None
    checksum: int | None = None


@attrs.frozen
class DepthSnapshot:
    """A full book snapshot at one update id.

    From a fetch (Binance's ``depth`` request) or from the stream itself
    (OKX, Bybit and Coinbase send one after each subscribe).

    Attributes:
        symbol: the instrument; must match the synchroniser's symbol exactly.
        last_update_id: the update id the snapshot reflects.
        bids: bid levels ``(price_str, qty_str)``, any order.
        asks: ask levels.
        checksum: the venue's checksum of this book (None: none sent).
    """

    symbol: str
    last_update_id: int
    bids: Sequence[RawLevel]
    asks: Sequence[RawLevel]
    checksum: int | None = None


def check_update_ids(*values: object) -> None:
    for value in values:
        # bool is an int subclass, and a JSON true is never an update id.
        if type(value) is not int:
            raise DecodeError(f"an update id must be an integer, got {value!r}")


# ---------------------------------------------------------------------------------------
# Venue rules
# ---------------------------------------------------------------------------------------


class Step(enum.Enum):
    """Where a diff lies relative to a known update id."""

    OLD = "old"
    """Everything in it is already reflected: a duplicate or a regression. Ignore it."""
    NEXT = "next"
    """It continues from the known id: apply it."""
    GAP = "gap"
    """It starts after a hole: updates between the known id and it are missing."""


#: ``rule(book)`` -> the venue's checksum of ``book`` (as a signed or unsigned int,
#: whichever the venue sends).
ChecksumRule: TypeAlias = Callable[["OrderBook"], int]


class SyncRules(abc.ABC):
    """A venue's sequencing rules, as used by :class:`BookSync`.

    Implementations are stateless (one instance can serve every symbol) and
    define what :class:`DepthDiff`'s ``first_update_id``/``final_update_id``
    (and ``previous_update_id``) mean for their venue. After a diff is
    applied, the book's update id is the diff's ``final_update_id``.

    Attributes:
        checksum: the venue's checksum of a book, or None (the default) when
            the venue sends none. When set, a diff or snapshot that carries a
            ``checksum`` is checked against the book it leaves; a mismatch
            discards the book (``Gap(reason="checksum")``) and resyncs it.
    """

    checksum: ChecksumRule | None = None

    @abc.abstractmethod
    def classify(self, last_id: int, diff: DepthDiff) -> Step:
        """Where ``diff`` lies relative to ``last_id`` (a book's or the stream's position)."""

    @abc.abstractmethod
    def expected_after(self, last_id: int) -> int | None:
        """The first update id expected after ``last_id`` (reported in :class:`Gap`)."""

    @abc.abstractmethod
    def snapshot_covers(self, snapshot_id: int, last_id: int) -> bool:
        """Whether a snapshot at ``snapshot_id`` includes every update up to ``last_id``."""


class RangeRules(SyncRules):
    """Diffs name the range of update ids they cover: ``first_update_id..final_update_id``.

    A diff with ``final <= last`` is old (dropped); ``first <= last + 1 <=
    final`` continues the book (normally ``first == last + 1``; an overlap is
    fine because levels carry absolute quantities); ``first > last + 1`` is a
    gap. A snapshot is usable when its id is at least the first buffered
    ``first - 1``. Binance Spot's ``U``/``u`` follow these rules
    (``docs/venues/binance.md``).

    Args:
        checksum: the venue's checksum rule (see :attr:`SyncRules.checksum`).
    """

    def __init__(self, checksum: ChecksumRule | None = None) -> None:
        self.checksum = checksum

    def classify(self, last_id: int, diff: DepthDiff) -> Step:
        """See :meth:`SyncRules.classify`."""
        if diff.final_update_id <= last_id:
            return Step.OLD
        if diff.first_update_id > last_id + 1:
            return Step.GAP
        return Step.NEXT

    def expected_after(self, last_id: int) -> int:
        """See :meth:`SyncRules.expected_after`: ``last_id + 1``."""
        return last_id + 1

    def snapshot_covers(self, snapshot_id: int, last_id: int) -> bool:
        """See :meth:`SyncRules.snapshot_covers`: ids are totally ordered."""
        return snapshot_id >= last_id


class ChainRules(SyncRules):
    """Each diff names the diff it follows: ``previous_update_id`` (ids need not be dense).

    A diff whose ``previous_update_id`` is ``last`` continues the book; one
    whose ``final_update_id`` is at most ``last`` is old; anything else is a
    gap (a diff without ``previous_update_id`` is judged by ``first_update_id
    == last + 1``). OKX's ``prevSeqId``/``seqId`` have this shape.

    Args:
        checksum: the venue's checksum rule (see :attr:`SyncRules.checksum`).
    """

    def __init__(self, checksum: ChecksumRule | None = None) -> None:
        self.checksum = checksum

    def classify(self, last_id: int, diff: DepthDiff) -> Step:
        """See :meth:`SyncRules.classify`."""
        previous = diff.previous_update_id
        if previous == last_id or (previous is None and diff.first_update_id == last_id + 1):
            return Step.NEXT
        if diff.final_update_id <= last_id:
            return Step.OLD
        return Step.GAP

    def expected_after(self, last_id: int) -> None:
        """See :meth:`SyncRules.expected_after`: unknown (ids are not dense)."""
        return None

    def snapshot_covers(self, snapshot_id: int, last_id: int) -> bool:
        """See :meth:`SyncRules.snapshot_covers`: ids increase."""
        return snapshot_id >= last_id


SnapshotSourceKind: TypeAlias = Literal["fetch", "stream"]
"""Where a venue's snapshots come from: a request the caller makes (``"fetch"``),
or the stream itself after each subscribe (``"stream"``: resync = resubscribe)."""

SequenceScope: TypeAlias = Literal["topic", "connection"]
"""What a venue's message sequence numbers count: each topic's messages, or every
message of the connection (a gap there may have lost any topic's update)."""


class BookAdapter(abc.ABC):
    """One venue's order-book procedure, as :func:`~trio_venues.book_feed` runs it (pure).

    A venue's adapter lives in ``trio_venues/venues/<venue>/_book.py`` and is
    named by its registry entry, so ``book_feed(ws, "okx", symbols)`` finds it.
    Subclasses set the attributes (class or instance) and the two methods.

    Attributes:
        rules: the venue's :class:`SyncRules` (its checksum rule included).
        snapshots: ``"fetch"``: snapshots come from a request the caller
            passes to ``book_feed`` (``snapshots=``); ``"stream"``: each
            subscribe brings one in the stream, and a resync resubscribes
            that one topic.
        reset_on_snapshot: a snapshot arriving while the book is synced
            replaces it (a venue that re-sends snapshots mid-stream, or after
            a restart); False: it is ignored.
        sequence: ``"topic"``: a ``GapDetected`` event of a book's topic
            resyncs that book; ``"connection"``: the venue numbers every
            message of the connection in one sequence, so a ``GapDetected``
            resyncs every book of the connection.
    """

    rules: SyncRules
    snapshots: ClassVar[SnapshotSourceKind] = "fetch"
    reset_on_snapshot: bool = False
    sequence: SequenceScope = "topic"

    @abc.abstractmethod
    def topic(self, symbol: str, variant: str | None = None) -> str:
        """The book topic of ``symbol``, in the venue's spelling.

        ``variant`` picks one of the venue's book streams where it has several
        (Binance: the speed ``"100ms"``/``"1000ms"``); None: the adapter's default.
        """

    def symbol(self, symbol: str) -> str:
        """``symbol`` as the venue spells it in its book messages (default: unchanged).

        ``book_feed`` keys its books by this spelling, so a user's spelling
        that differs only in case still matches the venue's diffs.
        """
        return symbol

    @abc.abstractmethod
    def parse(self, message: Message) -> Sequence[DepthDiff | DepthSnapshot]:
        """The diffs and snapshots in one ``Message`` of a book topic (empty: none).

        Raises:
            DecodeError: the message is a book message but malformed.
        """


# ---------------------------------------------------------------------------------------
# Outputs of the synchroniser
# ---------------------------------------------------------------------------------------

SnapshotReason: TypeAlias = Literal["initial", "gap", "stale", "invalid", "overflow", "retry"]
"""Why a snapshot is requested: the first diff was buffered; the book was lost (a
:class:`Gap`); the last snapshot was older than the buffered diffs; it held an invalid
level; the buffer overflowed; the last fetch failed."""

GapReason: TypeAlias = Literal["sequence", "restart", "crossed", "invalid", "checksum"]
"""Why a :class:`Gap` was reported: an update id jumped; the ids went backwards for
``max_stale_run`` diffs in a row (the venue restarted its sequence); an update left the
book crossed; a diff held an invalid level; the book did not match the venue's checksum."""


@attrs.frozen
class BookAction:
    """Base class of what :class:`BookSync` asks its caller to do or tells it."""


@attrs.frozen
class RequestSnapshot(BookAction):
    """Fetch a snapshot of ``symbol`` and feed it back with ``on_snapshot``.

    Do it in another task: diffs must keep arriving (they are buffered meanwhile).
    """

    symbol: str
    reason: SnapshotReason = "initial"


@attrs.frozen
class BookUpdated(BookAction):
    """A diff was applied to the live book.

    ``book`` is the synchroniser's live book, not a copy: read it before the
    next diff is fed. ``changed_*`` are the levels as applied (quantity 0: removed).
    """

    symbol: str
    changed_bids: tuple[Level, ...]
    changed_asks: tuple[Level, ...]
    book: OrderBook
    update_id: int
    event_time: int | None = None


@attrs.frozen
class Gap(BookAction):
    """The book lost data and was discarded; a resync has started.

    The caller emits ``GapDetected(topic, expected, received)``. For
    ``reason="sequence"``/``"restart"`` these are update ids (the one expected,
    None when the rules cannot tell, and the ``first_update_id`` that arrived);
    for ``"crossed"``/``"invalid"``/``"checksum"`` ``expected`` is None and
    ``received`` is the offending diff's final update id.
    """

    symbol: str
    expected: int | None
    received: int | None
    reason: GapReason = "sequence"


@attrs.frozen
class Resynced(BookAction):
    """The book is synchronised (the first time, and after every loss): read it whole."""

    symbol: str
    last_update_id: int
    book: OrderBook


@attrs.frozen
class BufferOverflow(BookAction):
    """The diff buffer filled before a usable snapshot came: ``dropped`` diffs were discarded.

    Buffering restarts with the diff that overflowed, and a fresh snapshot is requested.
    """

    symbol: str
    dropped: int


class SyncState(enum.StrEnum):
    """Where a :class:`BookSync` is.

    ``BUFFERING`` (no book; the first diff triggers the snapshot request) →
    ``SNAPSHOT_REQUESTED`` (buffering diffs until a usable snapshot comes) →
    ``ALIGNED`` (snapshot loaded, no diff applied on it yet; the book is
    usable) → ``LIVE`` (diffs applied as they come). A loss moves to
    ``RESYNCING`` (a snapshot is requested and the diff that revealed the gap
    is buffered) or to ``GAP_DETECTED`` (a snapshot is requested, nothing is
    buffered yet: the update that crossed the book or held an invalid level
    was dropped); the next usable snapshot leads back to ``ALIGNED``/``LIVE``.
    """

    BUFFERING = "buffering"
    SNAPSHOT_REQUESTED = "snapshot_requested"
    ALIGNED = "aligned"
    LIVE = "live"
    GAP_DETECTED = "gap_detected"
    RESYNCING = "resyncing"


@attrs.frozen
class SyncStats:
    """Counters of one :class:`BookSync` since it was created (``reset`` keeps them)."""

    diffs_applied: int
    diffs_ignored: int
    gaps: int
    resyncs: int
    overflows: int
    snapshots_requested: int
    snapshots_rejected: int
    snapshots_ignored: int


_SYNCED: Final = frozenset({SyncState.ALIGNED, SyncState.LIVE})


def _check_sync_options(max_buffer: int, max_levels: int | None, max_stale_run: int) -> None:
    if max_buffer < 1:
        raise ConfigError(f"max_buffer must be at least 1, got {max_buffer!r}")
    if max_levels is not None and max_levels < 1:
        raise ConfigError(f"max_levels must be at least 1 or None, got {max_levels!r}")
    if max_stale_run < 1:
        raise ConfigError(f"max_stale_run must be at least 1, got {max_stale_run!r}")


class BookSync:
    """Keeps one symbol's :class:`OrderBook` in step with diffs and snapshots (sans-I/O).

    Feed every diff of the symbol, in arrival order, to :meth:`on_diff` and
    every snapshot to :meth:`on_snapshot`; carry out the returned actions in
    order. Call :meth:`reset` after a reconnect or a ``DataGap``: the stream's
    continuity is then unknown.

    The procedure (with :class:`RangeRules`, Binance's):

    * the stream itself must be continuous: a diff that is old relative to the
      previous one is ignored (duplicates, regressions, no gap); one that
      jumps is a :class:`Gap` wherever the machine is;
    * diffs are buffered (bounded: ``max_buffer``) until a snapshot comes;
      the first diff buffered triggers a :class:`RequestSnapshot`;
    * a snapshot older than the first buffered diff (``lastUpdateId <
      U - 1``), or, with nothing buffered, older than the last diff seen, is
      stale and re-requested; otherwise buffered diffs it already contains are
      dropped and the rest are applied on top of it;
    * a gap, an update that leaves the book crossed, or an invalid level
      discards the book, reports a :class:`Gap` and requests a new snapshot
      for this symbol only;
    * at most one snapshot request is outstanding (a buffer overflow asks
      again regardless, as the earlier request seems lost);
    * with ``in_stream_snapshots`` (venues whose subscribe brings a snapshot),
      a snapshot restarts the stream: diffs buffered before it are dropped and
      the stream continues from the snapshot's id; with ``reset_on_snapshot``
      a snapshot that arrives while synced replaces the book instead of being
      ignored;
    * when the rules have a checksum, a diff or snapshot carrying one is
      checked against the book it leaves; a mismatch is a :class:`Gap`.

    Args:
        symbol: the instrument, spelled as in the diffs (Binance: ``"BNBBTC"``).
        rules: the venue's :class:`SyncRules`; :class:`RangeRules` by default.
        max_buffer: the most diffs buffered while waiting for a snapshot
            (1000 is 100 s of ``@depth@100ms``). Overflow policy: drop the
            buffer, report :class:`BufferOverflow`, restart and ask again.
        max_levels: passed to :class:`OrderBook` (per-side cap, None: none).
        max_stale_run: this many old diffs in a row mean the venue restarted
            its sequence (an id "reset to 0"): report ``Gap(reason="restart")``
            and resync instead of ignoring the stream forever.
        in_stream_snapshots: snapshots come from the stream (see above).
        reset_on_snapshot: a snapshot while synced replaces the book.

    Attributes:
        symbol: the instrument.
        rules: the rules in use.
        book: the book, the same object for the synchroniser's whole life;
            only meaningful while :attr:`is_synced`.
    """

    def __init__(
        self,
        symbol: str,
        rules: SyncRules | None = None,
        *,
        max_buffer: int = 1000,
        max_levels: int | None = None,
        max_stale_run: int = 100,
        in_stream_snapshots: bool = False,
        reset_on_snapshot: bool = False,
    ) -> None:
        _check_sync_options(max_buffer, max_levels, max_stale_run)
        self.symbol = symbol
        self.rules: SyncRules = rules if rules is not None else RangeRules()
        self.book = OrderBook(symbol, max_levels=max_levels)
        self._max_buffer = max_buffer
        self._max_stale_run = max_stale_run
        self._in_stream = in_stream_snapshots
        self._reset_on_snapshot = reset_on_snapshot
        self._state = SyncState.BUFFERING
        self._buffer: list[DepthDiff] = []  # bounded by max_buffer, see _buffer_diff
        # The final update id of the last diff accepted from the stream (None: none since
        # the last reset). Stream continuity is checked against it in every state.
        self._stream_last: int | None = None
        # The update id the book reflects; meaningful only in ALIGNED and LIVE.
        self._book_id = 0
        self._pending = 0  # snapshot requests not yet answered
        self._stale_run = 0  # consecutive old diffs
        self._diffs_applied = 0
        self._diffs_ignored = 0
        self._gaps = 0
        self._resyncs = 0
        self._overflows = 0
        self._snapshots_requested = 0
        self._snapshots_rejected = 0
        self._snapshots_ignored = 0

    def __repr__(self) -> str:
        return (
            f"<BookSync {self.symbol} {self._state.value} buffered={len(self._buffer)} "
            f"pending={self._pending} last_update_id={self.last_update_id}>"
        )

    @property
    def state(self) -> SyncState:
        """The current :class:`SyncState`."""
        return self._state

    @property
    def is_synced(self) -> bool:
        """Whether the book is usable (``ALIGNED`` or ``LIVE``)."""
        return self._state in _SYNCED

    @property
    def last_update_id(self) -> int | None:
        """The update id the book reflects, or None while it is not synced."""
        return self._book_id if self._state in _SYNCED else None

    @property
    def buffered(self) -> int:
        """How many diffs wait for a snapshot."""
        return len(self._buffer)

    @property
    def snapshot_pending(self) -> bool:
        """Whether a snapshot request is outstanding."""
        return self._pending > 0

    def stats(self) -> SyncStats:
        """The counters, as a frozen value."""
        return SyncStats(
            diffs_applied=self._diffs_applied,
            diffs_ignored=self._diffs_ignored,
            gaps=self._gaps,
            resyncs=self._resyncs,
            overflows=self._overflows,
            snapshots_requested=self._snapshots_requested,
            snapshots_rejected=self._snapshots_rejected,
            snapshots_ignored=self._snapshots_ignored,
        )

    # -- inputs --------------------------------------------------------------------------

    def on_diff(self, diff: DepthDiff) -> list[BookAction]:
        """Take one diff of the stream, in arrival order; returns the actions to carry out.

        Raises:
            ValueError: the diff is for another symbol (a routing bug in the caller).
        """
        if diff.symbol != self.symbol:
            raise ValueError(f"a {diff.symbol!r} diff was fed to the {self.symbol!r} book")
        rules = self.rules
        last = self._stream_last
        if last is not None:
            step = rules.classify(last, diff)
            if step is Step.OLD:
                self._stale_run += 1
                if self._stale_run < self._max_stale_run:
                    self._diffs_ignored += 1
                    return []
                # Ids going backwards this long is no duplicate: the venue restarted its
                # sequence. Ignoring it would freeze the book silently, forever.
                gap = Gap(self.symbol, rules.expected_after(last), diff.first_update_id, "restart")
                return self._lose(gap, diff)
            if step is Step.GAP:
                gap = Gap(self.symbol, rules.expected_after(last), diff.first_update_id)
                return self._lose(gap, diff)
        self._stale_run = 0
        self._stream_last = diff.final_update_id

        state = self._state
        if state is SyncState.LIVE:
            # The stream check above already proved this diff continues the book:
            # in LIVE the book's id is the stream's.
            return self._apply_live(diff)
        if state is SyncState.ALIGNED:
            step = rules.classify(self._book_id, diff)
            if step is Step.OLD:  # already in the snapshot
                self._diffs_ignored += 1
                return []
            if step is Step.NEXT:
                return self._apply_live(diff)
            # Only reachable when the snapshot was loaded before any diff arrived (since
            # the last reset) and the stream starts after it: the snapshot is too old.
            self._snapshots_rejected += 1
            self._discard()
            self._buffer.append(diff)
            self._state = SyncState.SNAPSHOT_REQUESTED
            return self._request("stale")
        return self._buffer_diff(diff)

    def on_snapshot(self, snapshot: DepthSnapshot) -> list[BookAction]:
        """Take a snapshot (requested or not); returns the actions to carry out.

        Raises:
            ValueError: the snapshot is for another symbol (a routing bug in the caller).
        """
        if snapshot.symbol != self.symbol:
            raise ValueError(f"a {snapshot.symbol!r} snapshot was fed to the {self.symbol!r} book")
        if self._pending:
            self._pending -= 1
        if self._state in _SYNCED and not self._reset_on_snapshot:
            # A late answer to an earlier request, or unsolicited: the book is fine as is.
            self._snapshots_ignored += 1
            return []
        if self._in_stream:
            return self._restart_from(snapshot)

        rules = self.rules
        snapshot_id = snapshot.last_update_id
        buffer = self._buffer
        # Buffered diffs the snapshot already contains are dropped. The buffer is
        # continuous (on_diff checks every diff against the previous one), so if the
        # first remaining diff continues the snapshot, all the rest follow it.
        start = 0
        while start < len(buffer) and rules.classify(snapshot_id, buffer[start]) is Step.OLD:
            start += 1
        if start < len(buffer):
            stale = rules.classify(snapshot_id, buffer[start]) is Step.GAP
        else:
            stale = self._stream_last is not None and not rules.snapshot_covers(
                snapshot_id, self._stream_last
            )
        if stale:
            self._snapshots_rejected += 1
            return self._request("stale")

        book = self.book
        try:
            book.load_snapshot(snapshot.bids, snapshot.asks, snapshot_id)
        except InvalidLevel:
            # The buffer is still good; only this snapshot is not.
            book.clear()
            self._snapshots_rejected += 1
            return self._request("invalid")
        self._book_id = snapshot_id
        applied = buffer[start:]
        buffer.clear()
        for diff in applied:
            try:
                book.apply_diff(diff.bids, diff.asks)
            except InvalidLevel:
                return self._lose(Gap(self.symbol, None, diff.final_update_id, "invalid"), None)
            self._book_id = book.last_update_id = diff.final_update_id
        if book.is_crossed:
            return self._lose(Gap(self.symbol, None, self._book_id, "crossed"), None)
        checked = applied[-1].checksum if applied else snapshot.checksum
        if not self._checksum_ok(checked):
            return self._lose(Gap(self.symbol, None, self._book_id, "checksum"), None)
        self._diffs_applied += len(applied)
        self._diffs_ignored += start
        self._state = SyncState.LIVE if applied else SyncState.ALIGNED
        self._resyncs += 1
        return [Resynced(self.symbol, self._book_id, book)]

    def _restart_from(self, snapshot: DepthSnapshot) -> list[BookAction]:
        """Load an in-stream snapshot: the stream continues from it.

        Diffs buffered before it came before the subscription that sent it
        (the resubscribe after a gap): none of them can apply.
        """
        book = self.book
        self._diffs_ignored += len(self._buffer)
        self._discard()
        self._stale_run = 0
        try:
            book.load_snapshot(snapshot.bids, snapshot.asks, snapshot.last_update_id)
        except InvalidLevel:
            book.clear()
            self._snapshots_rejected += 1
            self._state = SyncState.GAP_DETECTED
            return self._request("invalid")
        if book.is_crossed or not self._checksum_ok(snapshot.checksum):
            book.clear()
            self._snapshots_rejected += 1
            self._state = SyncState.GAP_DETECTED
            return self._request("invalid")
        self._book_id = self._stream_last = snapshot.last_update_id
        self._state = SyncState.ALIGNED
        self._resyncs += 1
        return [Resynced(self.symbol, self._book_id, book)]

    def _checksum_ok(self, expected: int | None) -> bool:
        rule = self.rules.checksum
        return expected is None or rule is None or rule(self.book) == expected

    def on_snapshot_failed(self) -> list[BookAction]:
        """The fetch for a :class:`RequestSnapshot` failed; returns a retry request if needed.

        Apply your own backoff before carrying the returned request out.
        """
        if self._pending:
            self._pending -= 1
        if self._state in _SYNCED or self._state is SyncState.BUFFERING:
            # Synced: nothing to fetch. BUFFERING: the first diff will ask.
            return []
        return self._request("retry")

    def reset(self) -> None:
        """Forget the book, the buffer and the stream position: start over in ``BUFFERING``.

        Use it after a reconnect or a ``DataGap``. Outstanding snapshot requests are
        forgotten; answers that still arrive are judged like any other snapshot.
        """
        self._discard()
        self._stream_last = None
        self._pending = 0
        self._stale_run = 0
        self._state = SyncState.BUFFERING

    # -- internals -----------------------------------------------------------------------

    def _apply_live(self, diff: DepthDiff) -> list[BookAction]:
        book = self.book
        try:
            changed_bids, changed_asks = book.apply_diff(diff.bids, diff.asks)
        except InvalidLevel:
            return self._lose(Gap(self.symbol, None, diff.final_update_id, "invalid"), None)
        self._book_id = book.last_update_id = diff.final_update_id
        if book.is_crossed:
            return self._lose(Gap(self.symbol, None, diff.final_update_id, "crossed"), None)
        if diff.checksum is not None and not self._checksum_ok(diff.checksum):
            return self._lose(Gap(self.symbol, None, diff.final_update_id, "checksum"), None)
        self._state = SyncState.LIVE
        self._diffs_applied += 1
        return [
            BookUpdated(
                self.symbol, changed_bids, changed_asks, book, diff.final_update_id, diff.event_time
            )
        ]

    def _buffer_diff(self, diff: DepthDiff) -> list[BookAction]:
        buffer = self._buffer
        if len(buffer) >= self._max_buffer:
            # No usable snapshot within max_buffer diffs: the request was lost or is far
            # too slow. Start over from this diff and ask again even if one is pending;
            # a late answer is still judged on its own update id.
            dropped = len(buffer)
            buffer.clear()
            buffer.append(diff)
            self._overflows += 1
            self._pending += 1
            self._snapshots_requested += 1
            return [BufferOverflow(self.symbol, dropped), RequestSnapshot(self.symbol, "overflow")]
        buffer.append(diff)
        state = self._state
        if state is SyncState.BUFFERING:
            self._state = SyncState.SNAPSHOT_REQUESTED
            return self._request("initial")
        if state is SyncState.GAP_DETECTED:
            self._state = SyncState.RESYNCING
        return []

    def _lose(self, gap: Gap, diff: DepthDiff | None) -> list[BookAction]:
        """Discard the book after ``gap``; start resyncing from ``diff`` if one is given."""
        self._discard()
        self._gaps += 1
        self._stale_run = 0
        if diff is not None:
            self._stream_last = diff.final_update_id
            self._buffer.append(diff)
            self._state = SyncState.RESYNCING
        else:
            self._state = SyncState.GAP_DETECTED
        return [gap, *self._request("gap")]

    def _discard(self) -> None:
        self.book.clear()
        self._buffer.clear()

    def _request(self, reason: SnapshotReason) -> list[BookAction]:
        if self._pending:
            return []  # the outstanding request's answer will be judged first
        self._pending = 1
        self._snapshots_requested += 1
        return [RequestSnapshot(self.symbol, reason)]


class BookSet:
    """Many symbols' :class:`BookSync`, with inputs routed by symbol.

    Diffs and snapshots for symbols not added are ignored and counted in
    :attr:`untracked` (after an unsubscribe, messages in flight still arrive).

    Args:
        symbols: the symbols to add now, spelled as in the diffs.
        rules: shared by every symbol (rules are stateless); :class:`RangeRules` by default.
        max_buffer: per symbol, see :class:`BookSync`.
        max_levels: per symbol and side, see :class:`OrderBook`.
        max_stale_run: per symbol, see :class:`BookSync`.
        in_stream_snapshots: per symbol, see :class:`BookSync`.
        reset_on_snapshot: per symbol, see :class:`BookSync`.
    """

    def __init__(
        self,
        symbols: Iterable[str] = (),
        rules: SyncRules | None = None,
        *,
        max_buffer: int = 1000,
        max_levels: int | None = None,
        max_stale_run: int = 100,
        in_stream_snapshots: bool = False,
        reset_on_snapshot: bool = False,
    ) -> None:
        _check_sync_options(max_buffer, max_levels, max_stale_run)
        self.rules: SyncRules = rules if rules is not None else RangeRules()
        self._max_buffer = max_buffer
        self._max_levels = max_levels
        self._max_stale_run = max_stale_run
        self._in_stream = in_stream_snapshots
        self._reset_on_snapshot = reset_on_snapshot
        self._syncs: dict[str, BookSync] = {}
        self.untracked = 0
        for symbol in symbols:
            self.add(symbol)

    def __repr__(self) -> str:
        return f"<BookSet {len(self._syncs)} symbols>"

    def __len__(self) -> int:
        return len(self._syncs)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._syncs

    def __iter__(self) -> Iterator[str]:
        return iter(self._syncs)

    def __getitem__(self, symbol: str) -> BookSync:
        return self._syncs[symbol]

    def add(self, symbol: str) -> BookSync:
        """Track ``symbol`` (no-op if tracked); returns its synchroniser."""
        sync = self._syncs.get(symbol)
        if sync is None:
            sync = self._syncs[symbol] = BookSync(
                symbol,
                self.rules,
                max_buffer=self._max_buffer,
                max_levels=self._max_levels,
                max_stale_run=self._max_stale_run,
                in_stream_snapshots=self._in_stream,
                reset_on_snapshot=self._reset_on_snapshot,
            )
        return sync

    def remove(self, symbol: str) -> None:
        """Stop tracking ``symbol`` (no-op if not tracked)."""
        self._syncs.pop(symbol, None)

    def book(self, symbol: str) -> OrderBook | None:
        """``symbol``'s book while it is synced, else None."""
        sync = self._syncs.get(symbol)
        return sync.book if sync is not None and sync.is_synced else None

    def on_diff(self, diff: DepthDiff) -> list[BookAction]:
        """Route a diff to its symbol's :meth:`BookSync.on_diff`."""
        sync = self._syncs.get(diff.symbol)
        if sync is None:
            self.untracked += 1
            return []
        return sync.on_diff(diff)

    def on_snapshot(self, snapshot: DepthSnapshot) -> list[BookAction]:
        """Route a snapshot to its symbol's :meth:`BookSync.on_snapshot`."""
        sync = self._syncs.get(snapshot.symbol)
        if sync is None:
            self.untracked += 1
            return []
        return sync.on_snapshot(snapshot)

    def on_snapshot_failed(self, symbol: str) -> list[BookAction]:
        """Route a failed fetch to its symbol's :meth:`BookSync.on_snapshot_failed`."""
        sync = self._syncs.get(symbol)
        return [] if sync is None else sync.on_snapshot_failed()

    def reset(self, symbols: Iterable[str] | None = None) -> None:
        """Reset ``symbols`` (all when None) after a reconnect or a ``DataGap``."""
        if symbols is None:
            for sync in self._syncs.values():
                sync.reset()
        else:
            for symbol in symbols:
                tracked = self._syncs.get(symbol)
                if tracked is not None:
                    tracked.reset()


# Names that moved to a venue's folder work here for one release, with a
# DeprecationWarning; the table of them is in trio_venues/_deprecated.py.
_moved_name = moved_names(__name__)
attach_moved_methods(__name__, {"DepthDiff": DepthDiff, "DepthSnapshot": DepthSnapshot})


def __getattr__(name: str) -> Any:
    return _moved_name(name)
