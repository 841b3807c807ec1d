"""Coinbase's typed trade path, in process: ``python -m benchmarks.bench_coinbase``.

The same method as :mod:`benchmarks.bench_path`, on Coinbase frames: the same
``market_trades`` frames (one trade each, about 290 bytes, as the fake
Coinbase sends them) go through growing slices of the path, medians of
interleaved rounds; it prints figures and asserts nothing.

- ``minimal``: a minimal frame splitter + ``orjson.loads`` + the product
  compare (the in-process "Trio minimal-framing limit" on these frames);
- ``typed decode``: our frame decoder + ``CoinbaseCore.decode`` (a
  ``Message`` holding a ``MarketTradesMessage`` with ``Decimal`` price and
  size, the connection's sequence check included) + the consumer's ``match``;
- ``session``: the whole ``Coinbase`` session over an in-memory transport
  that runs our frame decoder on each read, consumed with ``async for``.

The ratio column is each row against ``minimal``: issue 17's target for a new
venue's typed trade path is 0.45x or better.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
import trio

from trio_venues._fastws._frames import FrameDecoder
from trio_venues._transport import Ping, Pong, TransportItem
from trio_venues.events import Message
from trio_venues.venues.coinbase import Coinbase, CoinbaseCore, MarketTradesMessage

READ_SIZE = 65536
SENTINEL_PRODUCT = "END-USD"
SENTINEL_TOPIC = f"market_trades:{SENTINEL_PRODUCT}"
_PRODUCTS = (("BTC-USD", 9_701_235, 2), ("ETH-USD", 341_257, 2), ("SOL-USD", 24_137, 2))


def trade_payloads(count: int, seed: int = 7) -> list[bytes]:
    """``count`` one-trade ``market_trades`` messages, then the sentinel; deterministic."""
    rng = random.Random(seed)
    ticks = [start for _, start, _ in _PRODUCTS]
    out = []
    for n in range(count + 1):
        index = n % len(_PRODUCTS)
        product, _, decimals = _PRODUCTS[index]
        ticks[index] += rng.choice((-2, -1, 0, 1, 2))
        price = f"{ticks[index] / 10**decimals:.{decimals}f}"
        size = f"{rng.uniform(0.0001, 2):.8f}"
        ns = 1_795_219_200_000_000_000 + n * 1_000_000
        seconds, fraction = divmod(ns, 1_000_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"
        trade = {
            "trade_id": str(700_000_000 + n),
            "product_id": SENTINEL_PRODUCT if n == count else product,
            "price": price,
            "size": size,
            "side": rng.choice(("BUY", "SELL")),
            "time": stamp,
        }
        message = {
            "channel": "market_trades",
            "client_id": "",
            "timestamp": stamp,
            "sequence_num": n,
            "events": [{"type": "update", "trades": [trade]}],
        }
        out.append(orjson.dumps(message))
    return out


def _frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    if n < 1 << 16:
        return bytes([0x81, 126]) + n.to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + n.to_bytes(8, "big") + payload


def _chunks(count: int) -> list[bytes]:
    wire = b"".join(_frame(p) for p in trade_payloads(count))
    return [wire[i : i + READ_SIZE] for i in range(0, len(wire), READ_SIZE)]


def _decoder() -> FrameDecoder[Ping | Pong]:
    return FrameDecoder(ping=Ping, pong=Pong, max_message_size=1 << 24, max_fragments=1000)


def minimal(chunks: list[bytes]) -> int:
    """A minimal splitter + orjson + the sentinel compare: the in-process Trio limit."""
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
            if obj["events"][0]["trades"][0]["product_id"] == SENTINEL_PRODUCT:
                return n
            n += 1
    return n


def typed_decode(chunks: list[bytes]) -> int:
    """Our frame decoder + ``CoinbaseCore.decode`` + the consumer's match; no session."""
    decoder = _decoder()
    decode = CoinbaseCore().decode
    n = 0
    for chunk in chunks:
        for item in decoder.receive_data(chunk):
            if not isinstance(item, str):
                continue
            for event in decode(item, 0.0):
                match event:
                    case Message(topic=topic, data=MarketTradesMessage() as data):
                        if topic == SENTINEL_TOPIC:
                            return n
                        _ = data.events[0].trades[0].price
                        n += 1
    return n


class _ChunkTransport:
    """An in-memory transport: each ``receive_batch()`` decodes the frames of one read."""

    subprotocol = None
    extensions: tuple[str, ...] = ()

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = iter(chunks)
        self._decoder = _decoder()

    async def receive_batch(self) -> list[TransportItem]:
        await trio.lowlevel.checkpoint()
        for chunk in self._chunks:
            items: list[TransportItem] = self._decoder.receive_data(chunk)
            if items:
                return items
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def send_text(self, data: str) -> None:
        await trio.lowlevel.checkpoint()

    async def send_bytes(self, data: bytes) -> None:
        await trio.lowlevel.checkpoint()

    async def ping(self, payload: bytes) -> None:
        await trio.lowlevel.checkpoint()

    async def pong(self, payload: bytes) -> None:
        await trio.lowlevel.checkpoint()

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        await trio.lowlevel.checkpoint()

    async def abort(self) -> None:
        await trio.lowlevel.checkpoint()


def session(chunks: list[bytes]) -> int:
    """Our frame decoder + the whole ``Coinbase`` session, consumed with ``async for``."""

    async def factory(nursery: trio.Nursery, url: str, config: Any) -> _ChunkTransport:
        return _ChunkTransport(chunks)

    async def consume() -> int:
        n = 0
        async with Coinbase.connect("ws://in-memory/", transport=factory) as ws:
            async for event in ws.events:
                match event:
                    case Message(topic=topic, data=MarketTradesMessage() as data):
                        if topic == SENTINEL_TOPIC:
                            return n
                        _ = data.events[0].trades[0].price
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
            got = partial(ROWS[name], chunks)()
            samples[name].append((time.perf_counter() - t0) / count * 1e6)
            if got != count:
                raise RuntimeError(f"{name} counted {got} messages, expected {count}")
    return {name: statistics.median(values) for name, values in samples.items()}


def report(us: dict[str, float], count: int, rounds: int) -> str:
    """The printed table."""
    base = us["minimal"]
    lines = [
        f"== Coinbase typed trade path in process: {count:,} messages, {rounds} rounds ==",
        f"{'row':<16}{'us/msg':>9}{'msgs/s':>12}{'vs minimal':>12}",
    ]
    for name in ROWS:
        value = us[name]
        lines.append(f"{name:<16}{value:>9.2f}{1e6 / value:>12,.0f}{base / value:>11.2f}x")
    lines.append(
        f"Coinbase typed trades (session) / Trio minimal limit: {base / us['session']:.2f}x "
        "(issue 17 target for a new venue: >= 0.45x)"
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
