"""What every benchmark client shares: its command line, its clocks and its result line.

A client is run as ``python -m benchmarks.clients.<name> --mode MODE --url URL ...``
in its own process. It prints exactly one line ``RESULT {json}`` on stdout,
which ``benchmarks.run`` collects. The per-message work is the same in every
client: decode, compare the stream name with the sentinel's, count, and add
up the payload length (typed clients, which never see the payload, skip the
length). Timing runs from handshake completion to the sentinel.

Modes: ``trade`` / ``depth`` (throughput), ``latency`` (one-way latency from
the server's ``E`` stamp in microseconds of wall clock), ``idle`` (open
``--conns`` idle connections and report the RSS growth per connection).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ..payloads import sentinel_stream

__all__ = [
    "LatencyRecorder",
    "Result",
    "client_args",
    "cpu_seconds",
    "emit",
    "now_us",
    "percentiles",
    "rss_bytes",
    "sentinel_for",
]

Result = dict[str, Any]
_PAGE = os.sysconf("SC_PAGE_SIZE")


def client_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line every client accepts."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--mode", choices=("trade", "depth", "latency", "idle"), required=True)
    p.add_argument("--url", default="", help="the server's URL (ws://127.0.0.1:PORT/...)")
    p.add_argument("--count", type=int, default=0, help="messages expected before the sentinel")
    p.add_argument("--conns", type=int, default=100, help="idle mode: connections to open")
    p.add_argument("--transport", default="default", help="trio_venues clients only")
    p.add_argument(
        "--delivery",
        choices=("events", "batches"),
        default="events",
        help="typed trio_venues client: `async for event in ws.events` or ws.events.batches()",
    )
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="asyncio peers")
    p.add_argument(
        "--venue",
        default="",
        help="venues scenario: the benchmarks.venues.VENUES entry whose frames are streamed",
    )
    return p.parse_args(argv)


def sentinel_for(mode: str) -> str:
    """The sentinel's stream name in ``mode`` (latency mode streams trades)."""
    return sentinel_stream("depth" if mode == "depth" else "trade")


def now_us() -> int:
    """Wall clock in microseconds, the unit of the latency server's ``E`` stamp."""
    return time.time_ns() // 1000


class LatencyRecorder:
    """One-way latency samples in microseconds, at most ``capacity`` of them."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, 1)
        self.samples: list[int] = []

    def add(self, sent_us: int) -> None:
        """Record the latency of a message the server stamped at ``sent_us``."""
        if len(self.samples) < self.capacity:
            self.samples.append(now_us() - sent_us)

    def summary(self) -> Result:
        """p50/p90/p99/p99.9 and max after skipping the first 1% as warm-up."""
        return percentiles(self.samples[len(self.samples) // 100 :])


def percentiles(samples: Sequence[int]) -> Result:
    """Nearest-rank percentiles of ``samples`` (microseconds)."""
    if not samples:
        return {"samples": 0}
    ordered = sorted(samples)

    def rank(q: float) -> int:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "samples": len(ordered),
        "p50_us": rank(0.50),
        "p90_us": rank(0.90),
        "p99_us": rank(0.99),
        "p999_us": rank(0.999),
        "max_us": ordered[-1],
    }


def rss_bytes() -> int:
    """This process's resident set size, from ``/proc/self/statm``."""
    gc.collect()
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    t = os.times()
    return t.user + t.system


def emit(result: Result) -> None:
    """Print the one ``RESULT`` line the harness reads."""
    print("RESULT " + json.dumps(result), flush=True)


async def trio_idle_rss(
    open_one: Callable[[], AbstractAsyncContextManager[object]], conns: int
) -> Result:
    """Hold ``conns`` connections from ``open_one()`` open at once and report the RSS growth.

    One connection is opened and closed first, so imports and first-use
    allocations are not counted.
    """
    import trio

    async with open_one():
        pass  # warm-up: imports and first-use allocations
    before = rss_bytes()
    opened = trio.Event()
    done = trio.Event()
    count = 0

    async def hold() -> None:
        nonlocal count
        async with open_one():
            count += 1
            if count == conns:
                opened.set()
            await done.wait()

    async with trio.open_nursery() as nursery:
        for _ in range(conns):
            nursery.start_soon(hold)
        await opened.wait()
        await trio.sleep(0.5)
        after = rss_bytes()
        done.set()
    return {"conns": conns, "rss_before": before, "rss_after": after}
