"""Order-book throughput: ``python -m benchmarks.bench_book [--symbols 300 ...]``.

Models ``<symbol>@depth@100ms`` on many symbols: every symbol starts from a
snapshot of ``--levels`` levels per side, then receives diffs of
``--changes`` level changes per side (mostly near the top of the book, a
quarter of them removals, exact 8-decimal strings as Binance sends). The
diffs are generated up front and fed round-robin across symbols, as they
would arrive. Prints figures; asserts nothing.

Measured:

- ``BookSet.on_diff``: the whole path (sequence check, parsing, apply,
  crossed check, ``BookUpdated``), against the rate the feed needs
  (symbols x 10 diffs/s);
- ``OrderBook.apply_diff`` alone, and parsing alone (the main cost);
- reads: best bid + best ask, ``top(10)`` of both sides, ``mid``,
  ``depth(side, 10)``;
- snapshot loads of 1000 and 5000 levels per side.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from trio_venues.book import (
    BookSet,
    DepthDiff,
    DepthSnapshot,
    OrderBook,
    Side,
    _parse_levels,
)

TICK_DIGITS = 8
ZERO_QTY = "0.00000000"


def _price(mid_ticks: int, offset: int, side: Side) -> str:
    """The price ``offset`` ticks away from the mid on ``side``, as an 8-decimal string."""
    ticks = mid_ticks - offset if side is Side.BID else mid_ticks + offset
    text = str(ticks).rjust(TICK_DIGITS + 1, "0")
    return f"{text[:-TICK_DIGITS]}.{text[-TICK_DIGITS:]}"


def _qty(rng: random.Random) -> str:
    return f"{rng.randrange(1, 10**10) / 10**TICK_DIGITS:.8f}"


def make_snapshot(symbol: str, mid_ticks: int, levels: int, rng: random.Random) -> DepthSnapshot:
    """A snapshot with ``levels`` consecutive ticks per side around ``mid_ticks``."""
    return DepthSnapshot(
        symbol,
        1000,
        bids=[(_price(mid_ticks, i, Side.BID), _qty(rng)) for i in range(1, levels + 1)],
        asks=[(_price(mid_ticks, i, Side.ASK), _qty(rng)) for i in range(1, levels + 1)],
    )


def make_diffs(
    symbol: str, mid_ticks: int, levels: int, changes: int, count: int, rng: random.Random
) -> list[DepthDiff]:
    """``count`` consecutive diffs after update id 1000, ``changes`` levels per side each."""
    diffs = []
    next_id = 1001
    for _ in range(count):
        sides = []
        for side in Side:
            # Activity concentrates near the top: offsets are exponential with mean 40
            # ticks, capped past the snapshot depth (so some changes insert new levels).
            offsets = {
                min(int(rng.expovariate(1 / 40)) + 1, levels + levels // 2) for _ in range(changes)
            }
            while len(offsets) < changes:
                offsets.add(rng.randrange(1, levels + levels // 2))
            sides.append(
                [
                    (
                        _price(mid_ticks, offset, side),
                        ZERO_QTY if rng.random() < 0.25 else _qty(rng),
                    )
                    for offset in sorted(offsets)
                ]
            )
        span = rng.randrange(1, 30)  # updates coalesced into one 100 ms diff
        diffs.append(DepthDiff(symbol, next_id, next_id + span - 1, sides[0], sides[1], 0))
        next_id += span
    return diffs


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``function``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float], operations: int, unit: str) -> None:
    """Print best and median throughput and the per-operation cost."""
    best = min(times)
    median = statistics.median(times)
    print(
        f"  {label:<42} {operations / best:>12,.0f} {unit}/s (best)  "
        f"{operations / median:>12,.0f} {unit}/s (median)  {best / operations * 1e6:8.2f} us/{unit}"
    )


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=300)
    parser.add_argument("--levels", type=int, default=1000, help="snapshot levels per side")
    parser.add_argument("--changes", type=int, default=20, help="changed levels per side per diff")
    parser.add_argument("--rounds", type=int, default=30, help="diffs per symbol")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    symbols = [f"SYM{i:03d}USDT" for i in range(args.symbols)]
    mids = {symbol: rng.randrange(10**6, 10**12) for symbol in symbols}
    snapshots = {s: make_snapshot(s, mids[s], args.levels, rng) for s in symbols}
    per_symbol = {
        s: make_diffs(s, mids[s], args.levels, args.changes, args.rounds, rng) for s in symbols
    }
    # Arrival order: round-robin over symbols, as a combined stream delivers them.
    stream = [per_symbol[s][r] for r in range(args.rounds) for s in symbols]
    levels_per_diff = 2 * args.changes
    needed = args.symbols * 10

    print(
        f"order book: {args.symbols} symbols, {args.levels} levels/side, "
        f"{args.changes} changes/side/diff, {len(stream)} diffs per run, best of {args.repeat}"
    )
    # A yardstick for the machine's speed and load: every figure below scales with it.
    parse_times = timed(lambda: [Decimal("12345.67890000") for _ in range(100_000)], args.repeat)
    print(f"  calibration: one Decimal(str) parse takes {min(parse_times) * 1e4:.0f} ns (best)")

    # -- the full synchroniser path ------------------------------------------------------
    def fresh_bookset() -> BookSet:
        books = BookSet(symbols)
        for symbol in symbols:
            books.on_diff(per_symbol[symbol][0])
            books.on_snapshot(snapshots[symbol])
        return books

    sync_times = []
    applied = 0
    for _ in range(args.repeat):
        books = fresh_bookset()  # setup not timed
        start = time.perf_counter()
        for diff in stream[args.symbols :]:  # round 0 was buffered and applied on sync
            books.on_diff(diff)
        sync_times.append(time.perf_counter() - start)
        applied = sum(books[s].stats().diffs_applied for s in symbols)
        gaps = sum(books[s].stats().gaps for s in symbols)
        if gaps:  # the generated stream is valid by construction: this is a bug here
            print(f"  WARNING: {gaps} gaps in a valid stream; the figures are meaningless")
    fed = len(stream) - args.symbols
    report("BookSet.on_diff (full path)", sync_times, fed, "diff")
    report("  ... per level", sync_times, fed * levels_per_diff, "level")
    best_rate = fed / min(sync_times)
    print(
        f"  feed needs {needed:,} diffs/s ({args.symbols} symbols x 10/s): "
        f"{needed / best_rate * 100:.1f}% of one core; {applied:,} diffs applied in the last run"
    )

    # -- apply alone, parse alone --------------------------------------------------------
    def fresh_books() -> dict[str, OrderBook]:
        result = {}
        for symbol in symbols:
            book = OrderBook(symbol)
            snap = snapshots[symbol]
            book.load_snapshot(snap.bids, snap.asks, snap.last_update_id)
            result[symbol] = book
        return result

    apply_times = []
    for _ in range(args.repeat):
        raw_books = fresh_books()
        start = time.perf_counter()
        for diff in stream:
            raw_books[diff.symbol].apply_diff(diff.bids, diff.asks)
        apply_times.append(time.perf_counter() - start)
    report("OrderBook.apply_diff", apply_times, len(stream), "diff")

    def parse_all() -> None:
        for diff in stream:
            _parse_levels(diff.bids)
            _parse_levels(diff.asks)

    report(
        "parse + validate only (Decimal x2 per level)",
        timed(parse_all, args.repeat),
        len(stream),
        "diff",
    )

    # -- reads ---------------------------------------------------------------------------
    books = fresh_bookset()
    for diff in stream[args.symbols :]:
        books.on_diff(diff)
    live = [books[s].book for s in symbols]
    loops = max(1, 200_000 // len(live))

    def best_reads() -> None:
        for _ in range(loops):
            for book in live:
                book.best_bid  # noqa: B018 - the read is what is measured
                book.best_ask  # noqa: B018

    def top_reads() -> None:
        for _ in range(loops // 4 or 1):
            for book in live:
                book.bids.top(10)
                book.asks.top(10)

    def mid_reads() -> None:
        for _ in range(loops // 4 or 1):
            for book in live:
                book.mid  # noqa: B018

    def depth_reads() -> None:
        for _ in range(loops // 4 or 1):
            for book in live:
                book.depth(Side.BID, 10)

    report("best_bid + best_ask", timed(best_reads, args.repeat), loops * len(live), "read")
    report(
        "bids.top(10) + asks.top(10)",
        timed(top_reads, args.repeat),
        (loops // 4 or 1) * len(live),
        "read",
    )
    report("mid", timed(mid_reads, args.repeat), (loops // 4 or 1) * len(live), "read")
    report("depth(BID, 10)", timed(depth_reads, args.repeat), (loops // 4 or 1) * len(live), "read")

    # -- snapshot loads ------------------------------------------------------------------
    for levels in (1000, 5000):
        snap = make_snapshot("LOAD", 10**9, levels, rng)
        book = OrderBook("LOAD")

        def load(snap: DepthSnapshot = snap, book: OrderBook = book) -> None:
            book.load_snapshot(snap.bids, snap.asks, snap.last_update_id)

        times = timed(load, max(args.repeat, 5))
        print(f"  snapshot load, {levels} levels/side{'':<17} {min(times) * 1e3:8.2f} ms (best)")


if __name__ == "__main__":
    main()
