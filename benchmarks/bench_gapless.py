"""What the gapless feed costs: ``python -m benchmarks.bench_gapless [--quick]``.

Three figures (issue 22), printed, never asserted:

1. **De-duplication per message**: the pure merge step
   (``Merger.on_message``) on decoded Binance trades, one copy (every message
   delivered) and two copies (every message seen twice, half dropped), in
   microseconds per incoming message. Target: at most 0.2 us at one copy.
2. **Throughput**: unique trades per second delivered to the consumer, over
   TCP from a local server process that sends pre-built frames as fast as the
   client reads (one thread per connection, 1 MiB writes, 127.0.0.1 only,
   bounded lifetime): one plain ``BinanceSpot.connect()``, a gapless feed
   with one connection, and a gapless feed with ``copies=2`` (two connections
   receiving the same frames, each trade delivered once). Target: the pair at
   >= 0.8x one connection. Rounds interleaved A B C C B A, medians; server
   pinned to CPU 0 and this process to CPU 1 when there are two.
3. **Memory per extra connection**: ``tracemalloc`` bytes held by an idle
   feed with ``copies=5`` against one with ``copies=1`` (10 topics each), per
   extra connection.

The machine is shared and loaded: read ratios from one run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
import trio

from trio_venues import BinanceSpot
from trio_venues._gapless._merge import Merger
from trio_venues.events import Event, Message
from trio_venues.gapless import gapless_feed
from trio_venues.venues.binance._protocol import BinanceSpotCore, binance_topic_ids

from .payloads import close_frame, server_frame
from .server import blocking_handshake, listen, parse_client_frames

SYMBOLS = [f"sym{i}usdt" for i in range(10)]
TOPICS = [f"{s}@trade" for s in SYMBOLS]
SENTINEL = "endusdt@trade"
LIFETIME = 300  # seconds before the server process ends itself


def trade_payload(symbol: str, trade_id: int) -> bytes:
    """A Binance combined-stream trade with id ``trade_id``."""
    return orjson.dumps(
        {
            "stream": f"{symbol}@trade",
            "data": {
                "e": "trade",
                "E": 1672515782136 + trade_id,
                "s": symbol.upper(),
                "t": trade_id,
                "p": "97012.35000000",
                "q": "0.00150000",
                "T": 1672515782136 + trade_id,
                "m": trade_id % 2 == 0,
                "M": True,
            },
        }
    )


def frames(count: int) -> bytes:
    """``count`` trades spread over the symbols (ids 1.. per symbol), the sentinel, a close."""
    out = bytearray()
    for n in range(count):
        out += server_frame(trade_payload(SYMBOLS[n % len(SYMBOLS)], n // len(SYMBOLS) + 1))
    out += server_frame(trade_payload("endusdt", 1)) + close_frame(1000)
    return bytes(out)


# -- the server process ---------------------------------------------------------------------


def _serve_one(conn: socket.socket, blob: bytes) -> None:
    """Handshake, acknowledge the subscribe, send ``blob``, drain until the client leaves."""
    try:
        rest = bytearray(blocking_handshake(conn))
        acked = False
        while not acked:
            for opcode, payload in parse_client_frames(rest):
                if opcode in (0x1, 0x2):
                    request = orjson.loads(payload)
                    ack = {"result": None, "id": request["id"]}
                    conn.sendall(server_frame(orjson.dumps(ack)))
                    acked = True
            if not acked:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                rest += chunk
        if blob:
            view = memoryview(blob)
            for start in range(0, len(view), 1 << 20):
                conn.sendall(view[start : start + (1 << 20)])
        # Drain until the client's close frame (answered when ours was not
        # sent yet), then close TCP first, as a server does.
        conn.settimeout(30)
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            rest += chunk
            if any(opcode == 0x8 for opcode, _ in parse_client_frames(rest)):
                if not blob:
                    conn.sendall(close_frame(1000))
                return
    except OSError:
        pass
    finally:
        conn.close()


def serve(count: int) -> None:
    """Serve every connection the same frames (``count`` trades; 0: idle after the ack)."""
    blob = frames(count) if count else b""
    sock = listen(0)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    deadline = time.monotonic() + LIFETIME
    sock.settimeout(1.0)
    while time.monotonic() < deadline:
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        threading.Thread(target=_serve_one, args=(conn, blob), daemon=True).start()


class Server:
    """The server process: started, asked for its port, terminated."""

    def __init__(self, count: int, cpu: int | None) -> None:
        def pin() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_gapless", "--serve", str(count)],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pin,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if line[:1] != ["READY"]:
            self.stop()
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        self.url = f"ws://127.0.0.1:{line[1]}/stream"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# -- 1. the merge step ------------------------------------------------------------------------


def dedupe_costs(n: int, rounds: int) -> tuple[float, float, float]:
    """(sink only, one copy, two copies): microseconds per incoming message, medians."""
    core = BinanceSpotCore("wss://stream.binance.com:9443/stream")
    messages: list[Message] = []
    for i in range(n):
        frame = trade_payload(SYMBOLS[i % len(SYMBOLS)], i // len(SYMBOLS) + 1).decode()
        (msg,) = core.decode(frame, 0.0)
        assert isinstance(msg, Message)
        messages.append(msg)

    def sink(event: Event) -> None:
        return None

    def fresh(copies: int) -> Merger:
        merger = Merger(sink)
        for topic in TOPICS:
            merger.add_topic(topic, binance_topic_ids(topic))
        for link in range(1, copies + 1):
            merger.attach(link, TOPICS, 0.0)
        return merger

    def bare() -> float:
        start = time.perf_counter()
        for msg in messages:
            sink(msg)
        return (time.perf_counter() - start) / n * 1e6

    def one_copy() -> float:
        on_message = fresh(1).on_message
        start = time.perf_counter()
        for msg in messages:
            on_message(1, msg)
        return (time.perf_counter() - start) / n * 1e6

    def two_copies() -> float:
        on_message = fresh(2).on_message
        start = time.perf_counter()
        for msg in messages:
            on_message(1, msg)
            on_message(2, msg)
        return (time.perf_counter() - start) / (2 * n) * 1e6

    results: dict[str, list[float]] = {"bare": [], "one": [], "two": []}
    for _ in range(rounds):
        for name, fn in (("bare", bare), ("one", one_copy), ("two", two_copies)):
            gc.collect()
            results[name].append(fn())
    return (
        statistics.median(results["bare"]),
        statistics.median(results["one"]),
        statistics.median(results["two"]),
    )


# -- 2. throughput ------------------------------------------------------------------------------


def _connect(url: str) -> AbstractAsyncContextManager[Any]:
    return BinanceSpot.connect(url, ping_interval=None, max_queued_bytes=64 * 1024 * 1024)


async def _count(events: Any, count: int) -> float:
    """Trades per second from the first trade to the sentinel."""
    start = 0.0
    got = 0
    async for event in events:
        if type(event) is Message:
            if event.topic == SENTINEL:
                break
            if not got:
                start = time.perf_counter()
            got += 1
    elapsed = time.perf_counter() - start
    assert got == count, (got, count)
    return (count - 1) / elapsed


async def _plain(url: str, count: int) -> float:
    async with _connect(url) as ws:
        await ws.subscribe(*TOPICS, SENTINEL)
        return await _count(ws.events, count)


async def _gapless(url: str, count: int, copies: int) -> float:
    async with gapless_feed(
        BinanceSpot, [*TOPICS, SENTINEL], copies=copies, urls=[url], connect=_connect
    ) as feed:
        return await _count(feed.events, count)


def throughput(count: int, rounds: int, cpus: tuple[int | None, int | None]) -> dict[str, float]:
    """Median unique trades per second per client."""
    server = Server(count, cpus[0])
    try:
        clients: dict[str, Callable[[], Any]] = {
            "connect()": lambda: _plain(server.url, count),
            "gapless, 1 connection": lambda: _gapless(server.url, count, 1),
            "gapless, copies=2": lambda: _gapless(server.url, count, 2),
        }
        rates: dict[str, list[float]] = {name: [] for name in clients}
        order = list(clients)
        for r in range(rounds):
            for name in order if r % 2 == 0 else reversed(order):
                gc.collect()
                rates[name].append(trio.run(clients[name]))
    finally:
        server.stop()
    return {name: statistics.median(values) for name, values in rates.items()}


# -- 3. memory ----------------------------------------------------------------------------------


async def _idle_bytes(url: str, copies: int) -> int:
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    async with gapless_feed(BinanceSpot, TOPICS, copies=copies, urls=[url], connect=_connect) as f:
        await f.wait_ready()
        await trio.sleep(0.2)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    return held


def memory_per_connection(cpus: tuple[int | None, int | None]) -> tuple[int, int]:
    """(bytes of a one-connection feed, bytes per extra connection)."""
    server = Server(0, cpus[0])
    try:
        tracemalloc.start()
        trio.run(_idle_bytes, server.url, 1)  # warm imports and caches
        one = trio.run(_idle_bytes, server.url, 1)
        five = trio.run(_idle_bytes, server.url, 5)
        tracemalloc.stop()
    finally:
        server.stop()
    return one, (five - one) // 4


def _cpus(pin: bool) -> tuple[int | None, int | None]:
    available = sorted(os.sched_getaffinity(0))
    if not pin or len(available) < 2:
        return None, None
    return available[0], available[1]


def main(argv: Sequence[str] | None = None) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and client")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return
    cpus = _cpus(not args.no_pin)
    if cpus[1] is not None:
        os.sched_setaffinity(0, {cpus[1]})
    n, rounds, count = (2_000, 3, 2_000) if args.quick else (200_000, 7, 100_000)

    print("gapless feed: de-duplication per incoming message (Binance trades, 10 topics)")
    bare, one, two = dedupe_costs(n, rounds)
    print(f"  sink call alone            {bare:6.3f} us")
    print(f"  merge, one copy            {one:6.3f} us  (target <= 0.2 us)")
    print(f"  merge, two copies          {two:6.3f} us  per incoming message (half dropped)")

    print(f"gapless feed: throughput, {count:,} trades over TCP, unique trades/s (median)")
    rates = throughput(count, rounds if not args.quick else 1, cpus)
    base = rates["connect()"]
    for name, rate in rates.items():
        print(f"  {name:<24} {rate:>10,.0f}/s  {rate / base:5.2f}x connect()")
    pair = rates["gapless, copies=2"] / rates["gapless, 1 connection"]
    print(f"  copies=2 / one connection  {pair:5.2f}x  (target >= 0.8x)")

    one_bytes, extra = memory_per_connection(cpus)
    print("gapless feed: memory (tracemalloc, idle, 10 topics)")
    print(f"  feed with one connection   {one_bytes / 1024:8.1f} KiB")
    print(f"  per extra connection       {extra / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
