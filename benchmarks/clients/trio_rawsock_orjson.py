"""Reference: the Trio minimal-framing limit (trio socket + minimal frame splitter + orjson).

No WebSocket library: a hand-made Upgrade request, 1 MiB reads, and a splitter
for unmasked server frames that handles only what the benchmark server sends
(final frames, 7/16/64-bit lengths, text and close). It shows how fast a Trio
program can go on this machine, which makes it the ceiling for our transport.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import trio

from ._common import LatencyRecorder, Result, client_args, emit, sentinel_for

READ_SIZE = 1 << 20


async def open_raw(url: str) -> tuple[trio.SocketStream, bytes]:
    """Connect and upgrade by hand; returns the stream and bytes read past the response."""
    parts = urlsplit(url)
    stream = await trio.open_tcp_stream(parts.hostname or "127.0.0.1", parts.port or 80)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await stream.send_all(request.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = await stream.receive_some(65536)
        if not chunk:
            raise ConnectionError("server closed during the handshake")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"handshake refused: {head[:60]!r}")
    return stream, rest


async def stream_loop(url: str, mode: str, count: int, venue: str = "") -> Result:
    """Receive and decode until the sentinel; latency mode records ``E``.

    With ``venue`` (a ``benchmarks.venues.VENUES`` name) the frames are that
    venue's and its entry recognises the sentinel; otherwise they are Binance
    combined-stream frames.
    """
    sentinel = sentinel_for(mode)
    is_sentinel: Callable[[Any], bool] | None = None
    if venue:
        from ..venues import VENUES

        is_sentinel = VENUES[venue].raw_is_sentinel
    latency = LatencyRecorder(count) if mode == "latency" else None
    n = nbytes = 0
    stream, buf = await open_raw(url)
    t0 = time.perf_counter()
    pos = 0
    done = False
    while True:
        # Frames first: the bytes that came with the handshake response may
        # already hold the whole stream.
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
            opcode = buf[pos] & 0x0F
            payload = buf[pos + header : end]
            pos = end
            if opcode == 0x8:
                done = True
                break
            obj = orjson.loads(payload)
            if obj["stream"] == sentinel if is_sentinel is None else is_sentinel(obj):
                done = True
                break
            n += 1
            nbytes += len(payload)
            if latency is not None:
                latency.add(obj["data"]["E"])
        if done:
            break
        chunk = await stream.receive_some(READ_SIZE)
        if not chunk:
            break
        buf = buf[pos:] + chunk if pos < len(buf) else chunk
        pos = 0
    seconds = time.perf_counter() - t0
    # A masked close frame (code 1000, zero mask), then close the socket.
    await stream.send_all(bytes([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]))
    await stream.aclose()
    result: Result = {"msgs": n, "bytes": nbytes, "seconds": seconds}
    if latency is not None:
        result.update(latency.summary())
    return result


def main() -> None:
    """Run one mode and print its RESULT line."""
    a = client_args(__doc__ or "")
    if a.mode == "idle":
        raise SystemExit("trio_rawsock_orjson has no idle mode")
    emit(trio.run(stream_loop, a.url, a.mode, a.count, a.venue))


if __name__ == "__main__":
    main()
