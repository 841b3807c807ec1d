"""A simulated market for fake venues: an order book, trades, candles and statistics.

:class:`MarketSimulator` is venue-neutral: it produces plain values
(:class:`BookDiff`, :class:`BookSnapshot`, :class:`SimTrade`,
:class:`SimAggTrade`, :class:`Candle`, :class:`MarketStats`) and each venue's
fake renders them in its own wire format (Binance's ``depthUpdate`` ``U``/``u``,
an OKX ``books`` ``seqId``/``prevSeqId``, a Bybit ``snapshot``/``delta`` ...).

Every level change takes one update id, so a :class:`BookDiff` ``first..last``
lists exactly the changes with those ids (levels changed twice show their last
quantity), and a client that applies the diffs on top of a snapshot holds the
simulator's book. Trades take their quantity from the book (one book update
each), so trades and diffs tell one story. Faults on command:
:meth:`~MarketSimulator.inject_gap`, :meth:`~MarketSimulator.inject_duplicate`,
:meth:`~MarketSimulator.inject_crossed`, :meth:`~MarketSimulator.inject_stale_snapshot`.
Deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal, TypeAlias

import attrs

from ._clock import DEFAULT_EPOCH_MS

__all__ = [
    "CANDLE_INTERVALS",
    "BookDiff",
    "BookSide",
    "BookSnapshot",
    "Candle",
    "Level",
    "MarketSimulator",
    "MarketStats",
    "SimAggTrade",
    "SimTrade",
    "TradeListener",
]

#: A price level: ``(price, quantity)``.
Level: TypeAlias = tuple[Decimal, Decimal]

#: A side of the book.
BookSide: TypeAlias = Literal["bid", "ask"]
_Side: TypeAlias = BookSide

_EIGHT: Final = Decimal("0.00000001")
_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)
_MS_PER_DAY: Final = 86_400_000


@attrs.frozen
class BookDiff:
    """The changes of update ids ``first_update_id..last_update_id`` (quantity 0: removed).

    Attributes:
        first_update_id: the first update id the diff covers.
        last_update_id: the book's update id once the diff is applied.
        previous_update_id: the last update id of the previous diff of the same
            stream (the book's id when the stream started): what venues that
            chain their diffs (``prevSeqId``, ``pu``) send.
        bids: changed bids, best first.
        asks: changed asks, best first.
    """

    first_update_id: int
    last_update_id: int
    previous_update_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


@attrs.frozen
class BookSnapshot:
    """The top levels of the book at one update id (best first)."""

    update_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


@attrs.frozen
class SimTrade:
    """One trade: ``buyer_maker`` when the taker sold (hit the bid)."""

    trade_id: int
    price: Decimal
    quantity: Decimal
    time_ms: int
    buyer_maker: bool


#: Called after each trade the simulator makes on its own (``trade()``, and so
#: ``agg_trade()`` and ``candle()``): ``(book side, price, quantity, trade)``. The
#: level has already lost ``quantity``; a matching engine fills the resting
#: orders it holds there (and releases them with :meth:`MarketSimulator.release_own`).
TradeListener: TypeAlias = Callable[["BookSide", Decimal, Decimal, SimTrade], None]


@attrs.frozen
class SimAggTrade:
    """One to three trades of one taker at one price, aggregated."""

    agg_trade_id: int
    price: Decimal
    quantity: Decimal
    first_trade_id: int
    last_trade_id: int
    time_ms: int
    buyer_maker: bool


@attrs.frozen
class Candle:
    """One candle of ``interval`` as it stands (``closed``: final).

    ``first_trade_id``/``last_trade_id`` are -1 when no trade fell in it.
    """

    interval: str
    start: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    taker_volume: Decimal
    taker_quote_volume: Decimal
    count: int
    first_trade_id: int
    last_trade_id: int
    closed: bool


@attrs.frozen
class MarketStats:
    """Statistics since the simulator started (its "day").

    ``first_trade_id``/``last_trade_id`` are -1 before the first trade.
    """

    open_price: Decimal
    last_price: Decimal
    last_quantity: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal
    price_change: Decimal
    price_change_percent: Decimal
    weighted_average_price: Decimal
    open_time: int
    last_trade_time: int
    first_trade_id: int
    last_trade_id: int
    trade_count: int


@attrs.frozen
class _Change:
    """One book update id: a level set to ``new`` (0 removes it) from ``old``."""

    update_id: int
    side: _Side
    price: Decimal
    old: Decimal | None
    new: Decimal
    bogus: bool = False  # sent once (a fault), never applied to the book


@attrs.define
class _CandleState:
    start: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = _ZERO
    quote_volume: Decimal = _ZERO
    taker_volume: Decimal = _ZERO
    taker_quote_volume: Decimal = _ZERO
    count: int = 0
    first_id: int = -1
    last_id: int = -1


_INTERVAL_MS: Final[Mapping[str, int]] = {
    "1s": 1000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": _MS_PER_DAY,
    "3d": 3 * _MS_PER_DAY,
    "1w": 7 * _MS_PER_DAY,
}
#: The candle intervals the simulator knows (``"1M"``: calendar months).
CANDLE_INTERVALS: Final = (*_INTERVAL_MS, "1M")
# 1970-01-05, the first Monday after the epoch: weeks start on Monday.
_MONDAY_MS: Final = 4 * _MS_PER_DAY


def _period(interval: str, offset_ms: int, now_ms: int) -> tuple[int, int]:
    """(open time, close time) of the candle of ``interval`` holding ``now_ms``."""
    local = now_ms + offset_ms
    if interval == "1M":
        day = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=local)
        first = datetime(day.year, day.month, 1, tzinfo=UTC)
        following = datetime(day.year + day.month // 12, day.month % 12 + 1, 1, tzinfo=UTC)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        start = (first - epoch) // timedelta(milliseconds=1)
        end = (following - epoch) // timedelta(milliseconds=1)
        return start - offset_ms, end - offset_ms - 1
    size = _INTERVAL_MS[interval]
    base = _MONDAY_MS if interval == "1w" else 0
    start = (local - base) // size * size + base
    return start - offset_ms, start + size - offset_ms - 1


def _fmt(value: Decimal) -> Decimal:
    """Eight decimals (``"3.43200000"``), the precision the simulator trades in."""
    return value.quantize(_EIGHT)


class MarketSimulator:
    """One symbol's simulated market: an order book, trades, candles and statistics.

    See the module docstring. Every method that makes a trade or a candle
    takes the event time in milliseconds.

    Args:
        symbol: the symbol, as the venue's fake names it (``"BTCUSDT"``).
        price: the first mid price.
        tick: the price step.
        seed: the random seed.
        levels: levels per side at the start.
        first_update_id: the book's update id at the start.
        now_ms: the start time of the statistics.
    """

    #: How many level changes the simulator remembers (for diffs and stale snapshots).
    HISTORY: Final = 20_000
    #: Recent trades kept (a venue's "recent trades" request).
    RECENT_TRADES: Final = 1000

    def __init__(
        self,
        symbol: str,
        *,
        price: Decimal | str = "100.00",
        tick: Decimal | str = "0.01",
        seed: int = 0,
        levels: int = 40,
        first_update_id: int = 1_000_000,
        now_ms: int = DEFAULT_EPOCH_MS,
    ) -> None:
        self.symbol = symbol
        self.tick = Decimal(tick)
        start = _fmt(Decimal(price))
        self._rng = random.Random(seed)
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        for i in range(1, levels + 1):
            self._bids[_fmt(start - self.tick * i)] = self._quantity()
            self._asks[_fmt(start + self.tick * i)] = self._quantity()
        self._min_levels = max(2, levels // 4)
        self._max_levels = levels * 3
        self.update_id = first_update_id
        self._history: deque[_Change] = deque(maxlen=self.HISTORY)
        self._cursors: dict[str, int] = {}
        self._last_diffs: dict[str, BookDiff] = {}
        self.trade_id = 0
        self.agg_trade_id = 0
        self.recent_trades: deque[SimTrade] = deque(maxlen=self.RECENT_TRADES)
        self._candles: dict[tuple[str, int], _CandleState] = {}
        self._open_price = start
        self._open_time = now_ms
        self._last_price = start
        self._last_quantity = _ZERO
        self._high = start
        self._low = start
        self._volume = _ZERO
        self._quote_volume = _ZERO
        self._first_trade_id = -1
        self._last_trade_time = now_ms
        # Resting orders of a matching engine (testing/_matching.py): part of each
        # level's quantity that the random moves never touch.
        self._own: dict[tuple[_Side, Decimal], Decimal] = {}
        self.trade_listeners: list[TradeListener] = []
        # faults
        self._pending_gap = 0
        self._pending_duplicate = False
        self._pending_crossed = False
        self._pending_stale: int | None = None

    def __repr__(self) -> str:
        return (
            f"<MarketSimulator {self.symbol} update_id={self.update_id} trade_id={self.trade_id}>"
        )

    # -- the book -------------------------------------------------------------------------

    @property
    def bids(self) -> list[Level]:
        """The bid levels, best first."""
        return sorted(self._bids.items(), reverse=True)

    @property
    def asks(self) -> list[Level]:
        """The ask levels, best first."""
        return sorted(self._asks.items())

    def best_bid(self) -> Level:
        """The best bid (price, quantity)."""
        price = max(self._bids)
        return price, self._bids[price]

    def best_ask(self) -> Level:
        """The best ask (price, quantity)."""
        price = min(self._asks)
        return price, self._asks[price]

    def _quantity(self) -> Decimal:
        return _fmt(Decimal(self._rng.randint(1, 10_000)) / 1000)

    def _set(self, side: _Side, price: Decimal, quantity: Decimal, *, bogus: bool = False) -> None:
        levels = self._bids if side == "bid" else self._asks
        self.update_id += 1
        old = levels.get(price)
        if not bogus:
            if quantity == _ZERO:
                levels.pop(price, None)
            else:
                levels[price] = quantity
        self._history.append(_Change(self.update_id, side, price, old, quantity, bogus))

    def _set_other(self, side: _Side, price: Decimal, quantity: Decimal) -> None:
        """Set the other participants' quantity at a level (resting own orders stay)."""
        self._set(side, price, quantity + self._own.get((side, price), _ZERO))

    def own(self, side: BookSide, price: Decimal) -> Decimal:
        """The quantity of a matching engine's resting orders at a level."""
        return self._own.get((side, price), _ZERO)

    def others(self, side: BookSide, price: Decimal) -> Decimal:
        """The other participants' quantity at a level (the level less :meth:`own`)."""
        levels = self._bids if side == "bid" else self._asks
        return levels.get(price, _ZERO) - self.own(side, price)

    def add_own(self, side: BookSide, price: Decimal, quantity: Decimal) -> None:
        """A resting order joins a level (one update id: diffs show it)."""
        levels = self._bids if side == "bid" else self._asks
        self._own[side, price] = self.own(side, price) + quantity
        self._set(side, price, levels.get(price, _ZERO) + quantity)

    def remove_own(self, side: BookSide, price: Decimal, quantity: Decimal) -> None:
        """A resting order leaves a level unfilled (cancelled: one update id)."""
        levels = self._bids if side == "bid" else self._asks
        self.release_own(side, price, quantity)
        self._set(side, price, max(levels.get(price, _ZERO) - quantity, _ZERO))

    def release_own(self, side: BookSide, price: Decimal, quantity: Decimal) -> None:
        """Resting orders filled out of a level whose quantity already went (no update id)."""
        left = self.own(side, price) - quantity
        if left > _ZERO:
            self._own[side, price] = left
        else:
            self._own.pop((side, price), None)

    def execute(
        self, side: BookSide, price: Decimal, quantity: Decimal, now_ms: int, *, buyer_maker: bool
    ) -> SimTrade:
        """A taker of a matching engine trades ``quantity`` at a level of ``side``.

        The level loses the quantity (one update id) and the trade is recorded
        (trade id, statistics, candles); the side is refilled when it runs
        thin. Trade listeners are not called: the engine fills its own resting
        orders itself.
        """
        levels = self._bids if side == "bid" else self._asks
        self._set(side, price, _fmt(levels.get(price, _ZERO) - quantity))
        self._refill(side)
        self.trade_id += 1
        trade = SimTrade(self.trade_id, price, quantity, now_ms, buyer_maker)
        self._record(trade)
        return trade

    def _change(self) -> None:
        """One random level change (one update id, two when a side must be trimmed)."""
        rng = self._rng
        side: _Side = "bid" if rng.random() < 0.5 else "ask"
        levels = self._bids if side == "bid" else self._asks
        ordered = sorted(levels, reverse=side == "bid")  # best first
        roll = rng.random()
        if roll < 0.15 and len(levels) > self._min_levels:
            self._set_other(side, ordered[rng.randrange(min(5, len(ordered)))], _ZERO)
            return
        if roll < 0.40:
            # A new level near the top; never at or through the other side.
            steps = rng.randint(-8, 1)
            if side == "bid":
                price = min(ordered[0] + self.tick * steps, min(self._asks) - self.tick)
            else:
                price = max(ordered[0] - self.tick * steps, max(self._bids) + self.tick)
            if price <= _ZERO:
                price = ordered[0]
            self._set_other(side, _fmt(price), self._quantity())
        else:
            self._set_other(side, ordered[rng.randrange(min(10, len(ordered)))], self._quantity())
        if len(levels) > self._max_levels:
            self._set_other(side, min(levels) if side == "bid" else max(levels), _ZERO)

    def step(self) -> None:
        """Move the book: one to three level changes."""
        for _ in range(self._rng.randint(1, 3)):
            self._change()

    def diff(self, stream: str) -> BookDiff:
        """The next diff of the diff stream ``stream``: the book moves, then every change
        since the stream's previous diff.

        Each stream keeps its own cursor, so several streams of one book (say
        two depth speeds) stay consistent. The first diff of a stream starts at
        the book's current update id. Pending faults apply here: a gap skips
        changes (applied to the book, never sent), a duplicate repeats the
        previous diff, a crossed update adds a bid above the best ask (sent
        once, not applied).
        """
        last = self._last_diffs.get(stream)
        if self._pending_duplicate and last is not None:
            self._pending_duplicate = False
            return last
        cursor = self._cursors.get(stream, self.update_id)
        if self._pending_gap:
            for _ in range(self._pending_gap):
                self._change()
            self._pending_gap = 0
            cursor = self.update_id
        # After a gap the chain breaks too: ``previous`` names an id never sent.
        previous = cursor
        self.step()
        changes = [c for c in self._history if c.update_id > cursor and not c.bogus]
        if self._pending_crossed:
            self._pending_crossed = False
            price = _fmt(min(self._asks) + self.tick)
            self._set("bid", price, self._quantity(), bogus=True)
            changes.append(self._history[-1])
        first = cursor + 1
        if self._history and self._history[0].update_id > first:
            first = self._history[0].update_id  # history lost: the client sees a gap
        merged: dict[tuple[_Side, Decimal], Decimal] = {}
        for change in changes:
            merged[change.side, change.price] = change.new
        bids = sorted(((p, q) for (s, p), q in merged.items() if s == "bid"), reverse=True)
        asks = sorted((p, q) for (s, p), q in merged.items() if s == "ask")
        diff = BookDiff(first, self.update_id, previous, tuple(bids), tuple(asks))
        self._cursors[stream] = self.update_id
        self._last_diffs[stream] = diff
        return diff

    def snapshot(self, limit: int = 100) -> BookSnapshot:
        """The top ``limit`` levels per side and their update id.

        After :meth:`inject_stale_snapshot`, the next one is the book as it was
        that many update ids ago (as far back as the history goes).
        """
        if self._pending_stale is None:
            return BookSnapshot(self.update_id, tuple(self.bids[:limit]), tuple(self.asks[:limit]))
        back, self._pending_stale = self._pending_stale, None
        floor = self._history[0].update_id - 1 if self._history else self.update_id
        target = max(self.update_id - back, floor)
        bids, asks = dict(self._bids), dict(self._asks)
        for change in reversed(self._history):
            if change.update_id <= target:
                break
            if change.bogus:
                continue
            levels = bids if change.side == "bid" else asks
            if change.old is None:
                levels.pop(change.price, None)
            else:
                levels[change.price] = change.old
        return BookSnapshot(
            target,
            tuple(sorted(bids.items(), reverse=True)[:limit]),
            tuple(sorted(asks.items())[:limit]),
        )

    def restart_stream(self, stream: str) -> None:
        """Forget ``stream``'s cursor: its next diff starts at the book's current id.

        For venues whose snapshots arrive in the stream: after sending a
        snapshot, the stream's diffs continue from it.
        """
        self._cursors[stream] = self.update_id
        self._last_diffs.pop(stream, None)

    def moved_snapshot(self, levels: int) -> BookSnapshot:
        """The book moves, then its top ``levels`` (a partial-depth or ticker message)."""
        self.step()
        return BookSnapshot(self.update_id, tuple(self.bids[:levels]), tuple(self.asks[:levels]))

    # -- faults -----------------------------------------------------------------------------

    def inject_gap(self, n: int = 1) -> None:
        """The next diff skips ``n`` update ids (their changes reach the book only)."""
        if n < 1:
            raise ValueError(f"a gap skips at least one update id, not {n}")
        self._pending_gap += n

    def inject_duplicate(self) -> None:
        """The next diff repeats the previous one of its stream."""
        self._pending_duplicate = True

    def inject_crossed(self) -> None:
        """The next diff carries a bid above the best ask (never applied to the book)."""
        self._pending_crossed = True

    def inject_stale_snapshot(self, updates_back: int = 50) -> None:
        """The next snapshot is the book as of ``updates_back`` update ids ago."""
        if updates_back < 1:
            raise ValueError(f"updates_back must be >= 1, not {updates_back}")
        self._pending_stale = updates_back

    # -- trades, candles, statistics ----------------------------------------------------

    def trade(self, now_ms: int, *, buyer_maker: bool | None = None) -> SimTrade:
        """The next trade: the taker hits the best bid or lifts the best ask.

        The trade takes its quantity from that level (one book update: a
        level traded out is removed and the price moves). ``buyer_maker=True``
        makes the taker a seller.
        """
        rng = self._rng
        if buyer_maker is None:
            buyer_maker = rng.random() < 0.5
        side: _Side = "bid" if buyer_maker else "ask"
        price, available = self.best_bid() if buyer_maker else self.best_ask()
        quantity = min(_fmt(Decimal(rng.randint(1, 50_000)) / 100_000), available)
        self._set(side, price, _fmt(available - quantity))
        self.trade_id += 1
        trade = SimTrade(self.trade_id, price, quantity, now_ms, buyer_maker)
        for listener in self.trade_listeners:
            listener(side, price, quantity, trade)
        self._refill(side)
        self._record(trade)
        return trade

    def _refill(self, side: _Side) -> None:
        """New orders behind the worst level when a side runs thin (one update id each)."""
        levels = self._bids if side == "bid" else self._asks
        while len(levels) < self._min_levels:
            if side == "bid":
                price = min(levels) - self.tick if levels else min(self._asks) - self.tick
            else:
                price = max(levels) + self.tick if levels else max(self._bids) + self.tick
            if price <= _ZERO:
                return
            self._set(side, _fmt(price), self._quantity())

    def agg_trade(self, now_ms: int) -> SimAggTrade:
        """The next aggregate trade: one to three trades of one taker at one price."""
        buyer_maker = self._rng.random() < 0.5
        trades = [self.trade(now_ms, buyer_maker=buyer_maker)]
        for _ in range(self._rng.randint(0, 2)):
            best = self.best_bid() if buyer_maker else self.best_ask()
            if best[0] != trades[0].price:
                break  # the level traded out: the next trade would be another aggregate
            trades.append(self.trade(now_ms, buyer_maker=buyer_maker))
        self.agg_trade_id += 1
        return SimAggTrade(
            self.agg_trade_id,
            trades[0].price,
            sum((t.quantity for t in trades), _ZERO),
            trades[0].trade_id,
            trades[-1].trade_id,
            now_ms,
            buyer_maker,
        )

    def _record(self, trade: SimTrade) -> None:
        self.recent_trades.append(trade)
        quote = _fmt(trade.price * trade.quantity)
        self._last_price, self._last_quantity = trade.price, trade.quantity
        self._high, self._low = max(self._high, trade.price), min(self._low, trade.price)
        self._volume += trade.quantity
        self._quote_volume += quote
        if self._first_trade_id < 0:
            self._first_trade_id = trade.trade_id
        self._last_trade_time = trade.time_ms
        for candle in self._candles.values():
            if not candle.start <= trade.time_ms <= candle.close_time:
                continue
            candle.close = trade.price
            candle.high, candle.low = max(candle.high, trade.price), min(candle.low, trade.price)
            candle.volume += trade.quantity
            candle.quote_volume += quote
            if not trade.buyer_maker:
                candle.taker_volume += trade.quantity
                candle.taker_quote_volume += quote
            candle.count += 1
            if candle.first_id < 0:
                candle.first_id = trade.trade_id
            candle.last_id = trade.trade_id

    def candle(self, interval: str, now_ms: int, *, offset_ms: int = 0) -> Candle:
        """The next update of the ``interval`` candle: one to three trades, then the open candle.

        When ``now_ms`` is past the candle's close time, the candle is returned
        once more as final (``closed``) and the next one starts. ``offset_ms``
        moves the candle boundaries (UTC+8 candles: 8 hours).

        Raises:
            ValueError: ``interval`` is not one of :data:`CANDLE_INTERVALS`.
        """
        if interval not in CANDLE_INTERVALS:
            raise ValueError(f"unknown candle interval {interval!r}")
        start, close_time = _period(interval, offset_ms, now_ms)
        key = (interval, offset_ms)
        state = self._candles.get(key)
        if state is not None and state.start != start:
            price = state.close
            self._candles[key] = _CandleState(start, close_time, price, price, price, price)
            return self._freeze(state, interval, closed=True)
        if state is None:
            price = self._last_price
            state = _CandleState(start, close_time, price, price, price, price)
            self._candles[key] = state
        for _ in range(self._rng.randint(1, 3)):
            self.trade(now_ms)
        return self._freeze(state, interval, closed=False)

    @staticmethod
    def _freeze(state: _CandleState, interval: str, *, closed: bool) -> Candle:
        return Candle(
            interval=interval,
            start=state.start,
            close_time=state.close_time,
            open=state.open,
            high=state.high,
            low=state.low,
            close=state.close,
            volume=state.volume,
            quote_volume=state.quote_volume,
            taker_volume=state.taker_volume,
            taker_quote_volume=state.taker_quote_volume,
            count=state.count,
            first_trade_id=state.first_id,
            last_trade_id=state.last_id,
            closed=closed,
        )

    def stats(self) -> MarketStats:
        """Statistics since the simulator started."""
        change = self._last_price - self._open_price
        percent = (change * _HUNDRED / self._open_price).quantize(Decimal("0.001"))
        average = _fmt(self._quote_volume / self._volume) if self._volume else self._last_price
        traded = self._first_trade_id >= 0
        return MarketStats(
            open_price=self._open_price,
            last_price=self._last_price,
            last_quantity=self._last_quantity,
            high=self._high,
            low=self._low,
            volume=self._volume,
            quote_volume=self._quote_volume,
            price_change=change,
            price_change_percent=percent,
            weighted_average_price=average,
            open_time=self._open_time,
            last_trade_time=self._last_trade_time,
            first_trade_id=self._first_trade_id,
            last_trade_id=self.trade_id if traded else -1,
            trade_count=self.trade_id - self._first_trade_id + 1 if traded else 0,
        )
