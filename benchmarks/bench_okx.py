"""The OKX typed trade path against the Trio limit: ``python -m benchmarks.bench_okx``.

In one process, with no sockets (like ``benchmarks.bench_path`` for Binance),
the same OKX ``trades`` frames go through:

- ``minimal``: a minimal frame splitter + ``orjson.loads`` + the channel
  comparison: the in-process "Trio minimal-framing limit";
- ``typed decode``: our frame decoder + ``OkxCore.decode`` (a ``Message``
  holding a ``Trade`` with ``Decimal`` price and size) + the consumer's
  ``match``, without a session;
- ``session``: the whole ``Okx`` session over an in-memory transport that runs
  our frame decoder on each read, consumed with ``async for``.

It prints medians of interleaved rounds and the ratios to ``minimal`` (the
issue's target for a new venue's typed trades: at least 0.45x). It asserts
nothing.
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
from trio_venues.venues.okx import Okx, OkxCore

from .payloads import server_frame

READ_SIZE = 65536
INSTRUMENTS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT", "XRP-USDT", "DOGE-USDT")
SENTINEL_INST = "END-USDT"
SENTINEL = f"trades:{SENTINEL_INST}"


def trade_payload(rng: random.Random, seq: int, inst: str) -> bytes:
    """One ``trades`` push as OKX sends it (about 230 bytes)."""
    price = f"{rng.randint(100_000, 9_999_999) / 100:.2f}"
    size = f"{rng.randint(1, 500_000) / 100_000:.5f}"
    return orjson.dumps(
        {
            "arg": {"channel": "trades", "instId": inst},
            "data": [
                {
                    "instId": inst,
                    "tradeId": str(130_000_000 + seq),
                    "px": price,
                    "sz": size,
                    "side": "buy" if rng.random() < 0.5 else "sell",
                    "ts": str(1_795_219_200_000 + seq),
                    "count": "1",
                    "source": "0",
                    "seqId": seq,
                }
            ],
        }
    )


def _chunks(count: int) -> list[bytes]:
    rng = random.Random(1)
    payloads = [trade_payload(rng, i, INSTRUMENTS[i % len(INSTRUMENTS)]) for i in range(count)]
    payloads.append(trade_payload(rng, count, SENTINEL_INST))
    wire = b"".join(server_frame(p) for p in payloads)
    return [wire[i : i + READ_SIZE] for i in range(0, len(wire), READ_SIZE)]


def _decoder() -> FrameDecoder[Ping | Pong]:
    return FrameDecoder(ping=Ping, pong=Pong, max_message_size=1 << 24, max_fragments=1000)


def minimal(chunks: list[bytes]) -> int:
    """A minimal splitter + orjson + the instrument compare, minus the socket."""
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
            if obj["arg"]["instId"] == SENTINEL_INST:
                return n
            n += 1
    return n


def typed_decode(chunks: list[bytes]) -> int:
    """Our frame decoder + ``OkxCore.decode`` + the consumer's match; no session."""
    decoder = _decoder()
    decode = OkxCore().decode
    n = 0
    for chunk in chunks:
        for item in decoder.receive_data(chunk):
            if not isinstance(item, str):
                continue
            for event in decode(item, 0.0):
                match event:
                    case Message(topic=topic, data=data):
                        if topic == SENTINEL:
                            return n
                        _ = data.price
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
    """Our frame decoder + the whole ``Okx`` session, consumed with ``async for``."""

    async def factory(nursery: trio.Nursery, url: str, config: Any) -> _ChunkTransport:
        return _ChunkTransport(chunks)

    async def consume() -> int:
        n = 0
        async with Okx.connect("ws://in-memory/ws/v5/public", transport=factory) as ws:
            async for event in ws.events:
                match event:
                    case Message(topic=topic, data=data):
                        if topic == SENTINEL:
                            return n
                        _ = data.price
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
        f"== OKX typed trade path in process: {count:,} messages, {rounds} rounds, medians ==",
        f"{'row':<22}{'us/msg':>9}{'msgs/s':>12}{'vs minimal':>12}",
    ]
    for name, value in us.items():
        lines.append(f"{name:<22}{value:>9.2f}{1e6 / value:>12,.0f}{base / value:>11.2f}x")
    lines.append("Target (issue 17): the OKX typed session at >= 0.45x minimal.")
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
