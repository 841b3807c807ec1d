"""Bybit's typed trade path, in one process: ``python -m benchmarks.bench_bybit``.

The same ``publicTrade`` frames (one trade each, compact JSON with ``"topic"``
first, as Bybit sends them) go through three slices of the path; prints
figures, asserts nothing (medians of interleaved rounds):

- ``minimal``: the Trio-limit loop of ``make bench`` (minimal frame splitter
  + ``orjson.loads`` + the topic comparison), the in-process version of the
  "Trio minimal-framing limit" row;
- ``typed decode``: our frame decoder + ``BybitCore.decode`` (a ``Message``
  holding a ``TradeMessage`` whose trades have ``Decimal`` price and size) +
  the consumer's ``match``; no session;
- ``session``: the whole ``Bybit`` session (reader task, routing, counters,
  the bounded event channel) over an in-memory transport, with ``async for``.

The ratio column is the issue's yardstick: each venue's typed trade path
against the Trio limit measured on its own payloads.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson
import trio

from trio_venues.events import Message
from trio_venues.venues.bybit import Bybit, BybitCore

from .bench_path import READ_SIZE, _ChunkTransport, _decoder
from .payloads import server_frame

SENTINEL = "publicTrade.ENDUSDT"
_SYMBOLS = (("BTCUSDT", 9_701_235, 2), ("ETHUSDT", 341_257, 2), ("SOLUSDT", 24_137, 2))


def bybit_trade_payloads(count: int, seed: int = 7) -> list[bytes]:
    """``count`` deterministic ``publicTrade`` messages, one trade each (about 250 bytes)."""
    rng = random.Random(seed)
    ticks = {symbol: start for symbol, start, _ in _SYMBOLS}
    out = []
    ts = 1_795_219_200_000
    for n in range(count):
        symbol, _, decimals = _SYMBOLS[n % len(_SYMBOLS)]
        ticks[symbol] += rng.choice((-2, -1, 0, 1, 2))
        price = f"{ticks[symbol] / 10**decimals:.{decimals}f}"
        size = f"{rng.randint(1, 50000) / 1000:.3f}"
        ts += rng.randint(0, 3)
        message = {
            "topic": f"publicTrade.{symbol}",
            "type": "snapshot",
            "ts": ts,
            "data": [
                {
                    "T": ts - 2,
                    "s": symbol,
                    "S": "Buy" if rng.random() < 0.5 else "Sell",
                    "v": size,
                    "p": price,
                    "L": "PlusTick",
                    "i": f"{rng.getrandbits(64):016x}-{n}",
                    "BT": False,
                    "seq": 1_783_284_617 + n,
                }
            ],
        }
        out.append(orjson.dumps(message))
    return out


def _sentinel() -> bytes:
    return orjson.dumps(
        {
            "topic": SENTINEL,
            "type": "snapshot",
            "ts": 1,
            "data": [{"T": 1, "s": "ENDUSDT", "S": "Buy", "v": "1", "p": "1", "i": "end"}],
        }
    )


def _chunks(count: int) -> list[bytes]:
    wire = b"".join(server_frame(p) for p in [*bybit_trade_payloads(count), _sentinel()])
    return [wire[i : i + READ_SIZE] for i in range(0, len(wire), READ_SIZE)]


def minimal(chunks: list[bytes]) -> int:
    """The Trio-limit loop (splitter + orjson + topic compare), minus the socket."""
    n = 0
    buf = b""
    pos = 0
    for chunk in chunks:
        buf = buf[pos:] + chunk if pos < len(buf) else chunk
        pos = 0
        end_of_buf = len(buf)
        while end_of_buf - pos >= 2:
            length = buf[pos + 1] & 0x7F
            header = 2
            if length == 126:
                if end_of_buf - pos < 4:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if end_of_buf - pos < 10:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            end = pos + header + length
            if end > end_of_buf:
                break
            obj = orjson.loads(buf[pos + header : end])
            pos = end
            if obj["topic"] == SENTINEL:
                return n
            n += 1
    return n


def typed_decode(chunks: list[bytes]) -> int:
    """Our frame decoder + ``BybitCore.decode`` + the consumer's match; no session."""
    decoder = _decoder()
    decode = BybitCore("linear").decode
    n = 0
    for chunk in chunks:
        for item in decoder.receive_data(chunk):
            if not isinstance(item, str):
                continue  # the benchmark frames are all text
            for event in decode(item, 0.0):
                match event:
                    case Message(topic=topic, data=data):
                        if topic == SENTINEL:
                            return n
                        _ = data.trades[0].price
                        n += 1
    return n


def session(chunks: list[bytes]) -> int:
    """Our frame decoder + the whole ``Bybit`` session, consumed with ``async for``."""

    async def factory(nursery: trio.Nursery, url: str, config: Any) -> _ChunkTransport:
        return _ChunkTransport(chunks)

    async def consume() -> int:
        n = 0
        async with Bybit.connect(
            "ws://in-memory/v5/public/linear",
            endpoint="linear",
            transport=factory,
            ping_interval=None,
            venue_ping_interval=None,
        ) as ws:
            async for event in ws.events:
                match event:
                    case Message(topic=topic, data=data):
                        if topic == SENTINEL:
                            return n
                        _ = data.trades[0].price
                        n += 1
        return n

    return trio.run(consume)


ROWS: dict[str, Callable[[list[bytes]], int]] = {
    "minimal": minimal,
    "typed decode": typed_decode,
    "session": session,
}


def run(count: int, rounds: int) -> dict[str, float]:
    """Median microseconds per message of every row, rounds interleaved."""
    chunks = _chunks(count)
    samples: dict[str, list[float]] = {name: [] for name in ROWS}
    for r in range(rounds):
        order = list(ROWS) if r % 2 == 0 else list(reversed(ROWS))
        for name in order:
            t0 = time.perf_counter()
            got = ROWS[name](chunks)
            samples[name].append((time.perf_counter() - t0) / count * 1e6)
            if got != count:
                raise RuntimeError(f"{name} counted {got} messages, expected {count}")
    return {name: statistics.median(values) for name, values in samples.items()}


def report(us: dict[str, float], count: int, rounds: int) -> str:
    """The printed table."""
    base = us["minimal"]
    lines = [
        f"== Bybit typed trade path in process: {count:,} messages, {rounds} rounds, medians ==",
        f"{'row':<22}{'us/msg':>9}{'msgs/s':>12}{'vs minimal':>12}",
    ]
    for name in ROWS:
        value = us[name]
        lines.append(f"{name:<22}{value:>9.2f}{1e6 / value:>12,.0f}{base / value:>11.2f}x")
    lines.append(
        f"Bybit typed trades through the session: {base / us['session']:.2f}x the Trio limit "
        "(target >= 0.45x)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Measure and print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--count", type=int, default=100_000, help="trade messages per run")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args(argv)
    print(report(run(a.count, a.rounds), a.count, a.rounds))


if __name__ == "__main__":
    main()
