"""Where the time goes on the typed trade path: ``python -m benchmarks.bench_path``.

In one process, with no sockets, the same Binance trade frames go through
growing slices of the path, so each layer's cost per message is the
difference between two rows (CPU time per message, medians of interleaved
rounds; prints figures, asserts nothing):

- ``minimal``: the minimal frame splitter of the Trio-limit client
  (``benchmarks.clients.trio_rawsock_orjson``) + ``orjson.loads`` + the
  stream-name comparison: the in-process version of the "Trio minimal-framing
  limit" row of ``make bench``;
- ``frames+orjson``: our frame decoder instead of the minimal splitter;
- ``typed decode``: our frame decoder + ``BinanceSpotCore.decode`` (a
  ``Message`` holding a ``Trade`` with ``Decimal`` price and quantity) + the
  consumer's ``match``: every per-message cost of typed events, *without any
  session* — the ceiling for any design of the Trio shell;
- ``session``: the whole ``BinanceSpot`` session (reader task, routing,
  counters, the bounded event channel) over an in-memory transport that runs
  our frame decoder on each read, consumed with ``async for``;

and the pieces: frame decoding alone, ``orjson.loads`` alone, the msgspec
decode of a whole combined frame into its ``Trade`` (envelope and checks
included), one ``Decimal(str)``, one ``Message`` built the way the decoder
builds it.

The last lines give the budget: reaching a ratio ``r`` of the minimal loop
leaves ``minimal / r`` microseconds per typed message for everything.

Then the same three slices (``minimal``, ``typed decode``, ``session``) for
every venue of ``benchmarks.venues.VENUES`` on its own trade frames, with the
ratio of each to that venue's ``minimal`` (issue 17's target for a venue's
typed trades: >= 0.45x). Here ``minimal`` recognises the end frame with the
venue entry's ``raw_is_sentinel``, as the socket client of ``make bench``
does. ``--venues`` picks the venues (``none`` skips the table).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
import trio

from trio_venues import BinanceSpot
from trio_venues._fastws._frames import FrameDecoder
from trio_venues._transport import Ping, Pong, TransportItem
from trio_venues.events import Message
from trio_venues.venues.binance._protocol import (
    BinanceSpotCore,
    _set_data,
    _set_received_at,
    _set_topic,
)
from trio_venues.venues.binance._protocol import (
    _new as _new_message,
)
from trio_venues.venues.binance._wire import TAGGED_ROUTE

from .payloads import sentinel_payload, sentinel_stream, server_frame, trade_payloads
from .venues import VENUES, VenueTrades

READ_SIZE = 65536
SENTINEL = sentinel_stream("trade")


def _chunks(count: int) -> list[bytes]:
    """``count`` trade frames and the sentinel's, cut into reads of ``READ_SIZE`` bytes."""
    payloads = [*trade_payloads(count), sentinel_payload("trade")]
    wire = b"".join(server_frame(p) for p in payloads)
    return [wire[i : i + READ_SIZE] for i in range(0, len(wire), READ_SIZE)]


def _decoder() -> FrameDecoder[Ping | Pong]:
    return FrameDecoder(ping=Ping, pong=Pong, max_message_size=1 << 24, max_fragments=1000)


def minimal(chunks: list[bytes]) -> int:
    """The Trio-limit client's loop (splitter + orjson + stream compare), minus the socket."""
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
            if obj["stream"] == SENTINEL:
                return n
            n += 1
    return n


def frames_orjson(chunks: list[bytes]) -> int:
    """Our frame decoder + orjson + the stream compare."""
    decoder = _decoder()
    n = 0
    for chunk in chunks:
        for item in decoder.receive_data(chunk):
            if not isinstance(item, str):
                continue  # the benchmark frames are all text
            obj = orjson.loads(item)
            if obj["stream"] == SENTINEL:
                return n
            n += 1
    return n


def typed_decode(chunks: list[bytes]) -> int:
    """Our frame decoder + the Binance core's typed decode + the consumer's match; no session."""
    decoder = _decoder()
    decode = BinanceSpotCore().decode
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
    """Our frame decoder + the whole ``BinanceSpot`` session, consumed with ``async for``."""

    async def factory(nursery: trio.Nursery, url: str, config: Any) -> _ChunkTransport:
        return _ChunkTransport(chunks)

    async def consume() -> int:
        n = 0
        async with BinanceSpot.connect("ws://in-memory/stream", transport=factory) as ws:
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
    "frames+orjson": frames_orjson,
    "typed decode": typed_decode,
    "session": session,
}


# -- every venue's typed trade path on its own frames ------------------------------------------


def venue_chunks(venue: VenueTrades, count: int) -> list[bytes]:
    """``count`` of ``venue``'s trade frames and its end frame, cut into reads of ``READ_SIZE``."""
    payloads = [*venue.frames(count), venue.sentinel(count)]
    wire = b"".join(server_frame(p) for p in payloads)
    return [wire[i : i + READ_SIZE] for i in range(0, len(wire), READ_SIZE)]


def venue_minimal(venue: VenueTrades, chunks: list[bytes]) -> int:
    """The Trio-limit loop on ``venue``'s frames (splitter + orjson + its end-frame test)."""
    is_sentinel = venue.raw_is_sentinel
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
            if is_sentinel(obj):
                return n
            n += 1
    return n


def venue_typed_decode(venue: VenueTrades, chunks: list[bytes]) -> int:
    """Our frame decoder + the venue core's ``decode`` + the consumer's match; no session."""
    decoder = _decoder()
    decode = venue.core().decode
    is_sentinel, touch = venue.is_sentinel, venue.touch
    n = 0
    for chunk in chunks:
        for item in decoder.receive_data(chunk):
            if not isinstance(item, str):
                continue  # the benchmark frames are all text
            for event in decode(item, 0.0):
                match event:
                    case Message(data=data):
                        if is_sentinel(event):
                            return n
                        touch(data)
                        n += 1
    return n


def venue_session(venue: VenueTrades, chunks: list[bytes]) -> int:
    """Our frame decoder + the venue's whole session, consumed with ``async for``."""

    async def factory(nursery: trio.Nursery, url: str, config: Any) -> _ChunkTransport:
        return _ChunkTransport(chunks)

    async def consume() -> int:
        n = 0
        is_sentinel, touch = venue.is_sentinel, venue.touch
        async with venue.connect(f"ws://in-memory{venue.path}", transport=factory) as ws:
            async for event in ws.events:
                match event:
                    case Message(data=data):
                        if is_sentinel(event):
                            return n
                        touch(data)
                        n += 1
        return n

    return trio.run(consume)


VENUE_ROWS: dict[str, Callable[[VenueTrades, list[bytes]], int]] = {
    "minimal": venue_minimal,
    "typed decode": venue_typed_decode,
    "session": venue_session,
}

#: Issue 17's target for each venue's typed trades against the Trio limit on its frames.
VENUE_TARGET = 0.45


def _pieces(count: int) -> dict[str, Callable[[], None]]:
    """Single layers over ``count`` messages each."""
    chunks = _chunks(count)
    texts = [t for t in _decoder().receive_data(b"".join(chunks)) if isinstance(t, str)]
    payloads = [orjson.loads(t)["data"] for t in texts]
    prices = [p["p"] for p in payloads]
    decode_frame = TAGGED_ROUTE.combined.decode
    trades = [decode_frame(t).data for t in texts[:1000]]
    core = BinanceSpotCore()

    def frame_decode() -> None:
        decoder = _decoder()
        for chunk in chunks:
            decoder.receive_data(chunk)

    def loads() -> None:
        for t in texts:
            orjson.loads(t)

    def msgspec_decode() -> None:
        for t in texts:
            decode_frame(t)

    def decimals() -> None:
        for p in prices:
            Decimal(p)

    def messages() -> None:
        # The envelope as BinanceSpotCore.decode builds it: object.__new__ + slot setters.
        for i in range(count):
            message = _new_message(Message)
            _set_topic(message, SENTINEL)
            _set_data(message, trades[i % 1000])
            _set_received_at(message, 0.0)

    def core_decode() -> None:
        decode = core.decode
        for t in texts:
            decode(t, 0.0)

    return {
        "frame decode": frame_decode,
        "orjson.loads": loads,
        "core.decode (whole)": core_decode,
        "msgspec frame->Trade": msgspec_decode,
        "Decimal(str) x1": decimals,
        "Message envelope x1": messages,
    }


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    """CPU seconds ``fn()`` took, and what it returned.

    CPU time of this process, not wall time: everything here runs in one
    thread with no I/O wait, and on a shared machine CPU time leaves out the
    time other processes held the core (the figures stay comparable between
    runs made under different loads; caches still suffer).
    """
    t0 = time.process_time()
    result = fn()
    return time.process_time() - t0, result


def run(count: int, rounds: int) -> dict[str, float]:
    """Median microseconds per message of every row and piece, rounds interleaved."""
    chunks = _chunks(count)
    pieces = _pieces(count)
    samples: dict[str, list[float]] = {name: [] for name in [*ROWS, *pieces]}
    for r in range(rounds):
        order = list(ROWS) if r % 2 == 0 else list(reversed(ROWS))
        for name in order:
            seconds, got = _timed(partial(ROWS[name], chunks))
            samples[name].append(seconds / count * 1e6)
            if got != count:
                raise RuntimeError(f"{name} counted {got} messages, expected {count}")
        for name, piece in pieces.items():
            samples[name].append(_timed(piece)[0] / count * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(us: dict[str, float], count: int, rounds: int) -> str:
    """The printed tables."""
    base = us["minimal"]
    lines = [
        f"== Typed trade path in process: {count:,} messages, {rounds} rounds, medians ==",
        f"{'row':<22}{'us/msg':>9}{'msgs/s':>12}{'vs minimal':>12}  adds",
    ]
    previous = None
    for name in ROWS:
        value = us[name]
        adds = "" if previous is None else f"{value - us[previous]:+.2f} us over {previous}"
        lines.append(f"{name:<22}{value:>9.2f}{1e6 / value:>12,.0f}{base / value:>11.2f}x  {adds}")
        previous = name
    lines += ["", f"{'piece':<22}{'us/msg':>9}"]
    lines += [f"{name:<22}{us[name]:>9.2f}" for name in us if name not in ROWS]
    lines += [
        "",
        "Budget: a ratio r of the minimal loop leaves minimal / r per typed message.",
        f"  r = 0.5 -> {base / 0.5:.2f} us; typed decode with no session already takes "
        f"{us['typed decode']:.2f} us ({base / us['typed decode']:.2f}x), the session "
        f"{us['session']:.2f} us ({base / us['session']:.2f}x).",
    ]
    return "\n".join(lines)


def run_venues(count: int, rounds: int, names: list[str]) -> dict[str, dict[str, float]]:
    """Median microseconds per message of every venue row, rounds and venues interleaved."""
    chunks = {name: venue_chunks(VENUES[name], count) for name in names}
    cells = [(name, row) for name in names for row in VENUE_ROWS]
    samples: dict[tuple[str, str], list[float]] = {cell: [] for cell in cells}
    for r in range(rounds):
        for name, row in cells if r % 2 == 0 else cells[::-1]:
            seconds, got = _timed(partial(VENUE_ROWS[row], VENUES[name], chunks[name]))
            samples[name, row].append(seconds / count * 1e6)
            if got != count:
                raise RuntimeError(f"{name} {row} counted {got} messages, expected {count}")
    out: dict[str, dict[str, float]] = {name: {} for name in names}
    for (name, row), values in samples.items():
        out[name][row] = statistics.median(values)
    return out


def venue_report(us: dict[str, dict[str, float]], count: int, rounds: int) -> str:
    """The per-venue table: each row in us/msg and as a ratio of the venue's ``minimal``."""
    lines = [
        f"== Typed trades per venue in process: {count:,} of each venue's frames, "
        f"{rounds} rounds, medians ==",
        f"{'venue':<10}"
        + "".join(f"{row + ' us':>17}" for row in VENUE_ROWS)
        + f"{'typed/minimal':>15}{'session/minimal':>17}  target  met",
    ]
    for name, rows in us.items():
        base = rows["minimal"]
        typed, session_ratio = base / rows["typed decode"], base / rows["session"]
        met = "yes" if session_ratio >= VENUE_TARGET else "no"
        lines.append(
            f"{name:<10}"
            + "".join(f"{rows[row]:>17.2f}" for row in VENUE_ROWS)
            + f"{typed:>14.2f}x{session_ratio:>16.2f}x  >={VENUE_TARGET:.2f}x  {met}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Measure and print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--count", type=int, default=100_000, help="trade messages per run")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument(
        "--venues",
        default="all",
        help="comma-separated names of benchmarks.venues.VENUES, 'all' or 'none' (per-venue table)",
    )
    a = p.parse_args(argv)
    names = {"all": list(VENUES), "none": []}.get(a.venues, a.venues.split(","))
    unknown = [name for name in names if name not in VENUES]
    if unknown:
        p.error(f"unknown venue(s) {', '.join(unknown)}; known: {', '.join(VENUES)}")
    print(report(run(a.count, a.rounds), a.count, a.rounds), flush=True)
    if names:
        print()
        print(venue_report(run_venues(a.count, a.rounds, names), a.count, a.rounds))


if __name__ == "__main__":
    main()
