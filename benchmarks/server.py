"""The benchmark's local WebSocket server: plain sockets, never the bottleneck.

Run as ``python -m benchmarks.server MODE ...``; it binds 127.0.0.1 only
(port 0 unless ``--port``), prints ``READY <port>`` once everything is built,
and has a bounded lifetime (``SIGALRM`` after ``--lifetime`` seconds).

Modes:

- ``stream``: one connection. After a hand-made HTTP Upgrade it sends the
  bytes of ``--frames-file`` (pre-built unmasked server frames: the payloads,
  the sentinel, a close frame) in 1 MiB writes, then waits (bounded) for the
  client's close frame or EOF.
- ``latency``: one connection. Sends ``--count`` trade messages one by one at
  ``--rate`` per second, with ``E`` overwritten by ``time.time_ns() // 1000``
  (microseconds of wall clock) just before each send; then the sentinel and
  a close frame.
- ``multi``: many connections at once on one ``selectors`` loop, for the idle
  memory and scale runs. It answers pings, acknowledges Binance
  ``SUBSCRIBE``/``UNSUBSCRIBE`` requests (``{"result":null,"id":N}``), echoes
  close frames, and, with ``--per-stream-rate``, sends each subscribed stream
  a trade message at that rate. It runs until SIGTERM or its lifetime ends,
  and prints its counters as JSON on stderr.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import selectors
import signal
import socket
import sys
import time
from collections.abc import Sequence
from types import FrameType

from .payloads import (
    SCALE_SYMBOLS,
    close_frame,
    sentinel_payload,
    server_frame,
    stream_name,
    trade_payloads,
)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
MAX_REQUEST = 16 * 1024  # largest HTTP Upgrade request accepted
WRITE_CHUNK = 1 << 20  # "large writes": 1 MiB per send
MAX_OUTBUF = 1 << 20  # multi mode: per-connection send backlog before dropping


class Stop(Exception):
    """Raised by the signal handlers to leave a serving loop."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    print("[server] lifetime over (SIGALRM)", file=sys.stderr)
    raise Stop


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise Stop


def listen(port: int, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (loopback only)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(backlog)
    return sock


def ready(sock: socket.socket) -> None:
    """Tell the parent process the port; everything is built by now."""
    print(f"READY {sock.getsockname()[1]}", flush=True)


def upgrade_response(request: bytes) -> bytes:
    """The ``101 Switching Protocols`` reply to a client's Upgrade request."""
    key = b""
    for line in request.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    if not key:
        return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def blocking_handshake(conn: socket.socket) -> bytes:
    """Read the Upgrade request, answer 101; returns bytes read past the request."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk or len(buf) > MAX_REQUEST:
            raise ConnectionError("client left before completing the handshake")
        buf += chunk
    request, _, rest = buf.partition(b"\r\n\r\n")
    conn.sendall(upgrade_response(request))
    return rest


def parse_client_frames(buf: bytearray) -> list[tuple[int, bytes]]:
    """Remove every complete frame from ``buf``; return their (opcode, unmasked payload)."""
    frames: list[tuple[int, bytes]] = []
    while len(buf) >= 2:
        opcode = buf[0] & 0x0F
        masked = buf[1] & 0x80
        n = buf[1] & 0x7F
        pos = 2
        if n == 126:
            if len(buf) < 4:
                break
            n, pos = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, pos = int.from_bytes(buf[2:10], "big"), 10
        mask = b""
        if masked:
            if len(buf) < pos + 4:
                break
            mask, pos = bytes(buf[pos : pos + 4]), pos + 4
        if len(buf) < pos + n:
            break
        payload = bytes(buf[pos : pos + n])
        del buf[: pos + n]
        if mask:
            # XOR with the 4-byte mask repeated over the payload, as one big int.
            key = (mask * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(
                n, "big"
            )
        frames.append((opcode, payload))
    return frames


def drain_until_close(conn: socket.socket, leftover: bytes, limit: float = 10.0) -> None:
    """Wait (at most ``limit`` seconds) for the client's close frame or EOF."""
    conn.settimeout(limit)
    buf = bytearray(leftover)
    try:
        while True:
            if any(op == 0x8 for op, _ in parse_client_frames(buf)):
                return
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
            if len(buf) > MAX_OUTBUF:  # a client that only talks: keep the parse bounded
                del buf[:]
    except OSError:
        return


def serve_stream(sock: socket.socket, frames_file: str) -> None:
    """``stream`` mode: one connection gets the whole pre-built byte stream."""
    with open(frames_file, "rb") as fh:
        data = fh.read()
    ready(sock)
    conn, _ = sock.accept()
    with conn:
        leftover = blocking_handshake(conn)
        view = memoryview(data)
        for start in range(0, len(view), WRITE_CHUNK):
            conn.sendall(view[start : start + WRITE_CHUNK])
        drain_until_close(conn, leftover)


def serve_latency(sock: socket.socket, count: int, rate: float) -> None:
    """``latency`` mode: one message every ``1/rate`` s, ``E`` stamped just before sending."""
    parts: list[tuple[bytes, bytes]] = []
    for payload in trade_payloads(count):
        head, _, tail = payload.partition(b'"E":')
        digits = len(tail) - len(tail.lstrip(b"0123456789"))
        parts.append((head + b'"E":', tail[digits:]))
    ending = server_frame(sentinel_payload("trade")) + close_frame()
    ready(sock)
    conn, _ = sock.accept()
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        leftover = blocking_handshake(conn)
        interval = 1.0 / rate
        start = time.perf_counter() + 0.05  # let the client reach its receive loop
        for i, (head, tail) in enumerate(parts):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            stamp = str(time.time_ns() // 1000).encode()
            conn.sendall(server_frame(head + stamp + tail))
        conn.sendall(ending)
        drain_until_close(conn, leftover)


class _Peer:
    """One connection of the ``multi`` server."""

    __slots__ = ("conn", "inbuf", "open", "outbuf", "sent", "since", "streams")

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.open = False  # handshake done
        self.streams: list[str] = []
        self.since = 0.0  # when the current subscriptions started
        self.sent = 0  # data messages sent (or dropped) since then


class MultiServer:
    """``multi`` mode: many connections, pings, Binance subscribe acks, optional data."""

    def __init__(self, sock: socket.socket, per_stream_rate: float, max_conns: int) -> None:
        self.sock = sock
        self.rate = per_stream_rate
        self.max_conns = max_conns
        self.sel = selectors.DefaultSelector()
        self.peers: dict[int, _Peer] = {}
        self.counters = {"accepted": 0, "messages": 0, "dropped": 0, "acks": 0, "pongs": 0}
        # A pool of pre-built frames per stream, sent in rotation.
        self.pool: dict[str, list[bytes]] = {}
        for n, symbol in enumerate(SCALE_SYMBOLS):
            frames = [server_frame(p) for p in trade_payloads(64, seed=100 + n, symbols=[symbol])]
            self.pool[stream_name(symbol, "trade")] = frames

    def serve(self) -> None:
        """Run until SIGTERM or the lifetime alarm."""
        self.sock.setblocking(False)
        self.sel.register(self.sock, selectors.EVENT_READ)
        ready(self.sock)
        try:
            while True:
                for key, events in self.sel.select(timeout=0.01):
                    if key.fileobj is self.sock:
                        self._accept()
                    else:
                        peer = self.peers.get(key.fd)
                        if peer is not None:
                            self._service(peer, events)
                if self.rate > 0:
                    self._send_due(time.monotonic())
        except Stop:
            pass
        finally:
            for peer in list(self.peers.values()):
                self._drop(peer)
            print(json.dumps(self.counters), file=sys.stderr, flush=True)

    def _accept(self) -> None:
        for _ in range(64):  # bounded per wake-up
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return
            if len(self.peers) >= self.max_conns:
                conn.close()
                continue
            conn.setblocking(False)
            peer = _Peer(conn)
            self.peers[conn.fileno()] = peer
            self.sel.register(conn, selectors.EVENT_READ)
            self.counters["accepted"] += 1

    def _drop(self, peer: _Peer) -> None:
        fd = peer.conn.fileno()
        if fd >= 0:
            self.sel.unregister(peer.conn)
            self.peers.pop(fd, None)
        peer.conn.close()

    def _service(self, peer: _Peer, events: int) -> None:
        if events & selectors.EVENT_WRITE:
            self._flush(peer)
        if not events & selectors.EVENT_READ:
            return
        try:
            chunk = peer.conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(peer)
            return
        peer.inbuf += chunk
        if not peer.open:
            if b"\r\n\r\n" not in peer.inbuf:
                if len(peer.inbuf) > MAX_REQUEST:
                    self._drop(peer)
                return
            request, _, rest = bytes(peer.inbuf).partition(b"\r\n\r\n")
            peer.inbuf = bytearray(rest)
            peer.open = True
            self._queue(peer, upgrade_response(request))
        for opcode, payload in parse_client_frames(peer.inbuf):
            if opcode == 0x9:  # ping -> pong with the same payload
                self.counters["pongs"] += 1
                self._queue(peer, server_frame(payload, opcode=0xA))
            elif opcode == 0x8:  # close -> echo it and end the connection
                self._queue(peer, server_frame(payload[:2], opcode=0x8))
                self._flush(peer)
                self._drop(peer)
                return
            elif opcode in (0x1, 0x2):  # Binance reads JSON from either
                self._request(peer, payload)

    def _request(self, peer: _Peer, payload: bytes) -> None:
        try:
            req = json.loads(payload)
            method, params, req_id = req["method"], req.get("params", []), req["id"]
        except (ValueError, KeyError, TypeError):
            return
        if method == "SUBSCRIBE":
            peer.streams += [s for s in params if s in self.pool and s not in peer.streams]
        elif method == "UNSUBSCRIBE":
            peer.streams = [s for s in peer.streams if s not in params]
        else:
            return
        peer.since, peer.sent = time.monotonic(), 0
        self.counters["acks"] += 1
        self._queue(peer, server_frame(json.dumps({"result": None, "id": req_id}).encode()))

    def _send_due(self, now: float) -> None:
        for peer in list(self.peers.values()):
            if not peer.streams:
                continue
            due = int((now - peer.since) * self.rate * len(peer.streams)) - peer.sent
            for _ in range(min(due, 1000)):
                stream = peer.streams[peer.sent % len(peer.streams)]
                frames = self.pool[stream]
                peer.sent += 1
                if len(peer.outbuf) > MAX_OUTBUF:  # the client is not keeping up
                    self.counters["dropped"] += 1
                    continue
                self.counters["messages"] += 1
                peer.outbuf += frames[(peer.sent // len(peer.streams)) % len(frames)]
            if peer.outbuf:
                self._flush(peer)

    def _queue(self, peer: _Peer, data: bytes) -> None:
        peer.outbuf += data
        self._flush(peer)

    def _flush(self, peer: _Peer) -> None:
        try:
            sent = peer.conn.send(peer.outbuf) if peer.outbuf else 0
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(peer)
            return
        del peer.outbuf[:sent]
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.outbuf else 0)
        if peer.conn.fileno() >= 0 and self.sel.get_key(peer.conn).events != want:
            self.sel.modify(peer.conn, want)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve one mode."""
    p = argparse.ArgumentParser(description="benchmark WebSocket server (127.0.0.1 only)")
    p.add_argument("mode", choices=("stream", "latency", "multi"))
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--lifetime", type=int, default=120, help="seconds before SIGALRM ends it")
    p.add_argument("--frames-file", help="stream mode: the pre-built bytes to send")
    p.add_argument("--count", type=int, default=4000, help="latency mode: messages")
    p.add_argument("--rate", type=float, default=2000.0, help="latency mode: messages per s")
    p.add_argument("--per-stream-rate", type=float, default=0.0, help="multi mode: msgs/s/stream")
    p.add_argument("--max-conns", type=int, default=2000, help="multi mode: connection cap")
    a = p.parse_args(argv)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.alarm(a.lifetime)
    sock = listen(a.port, backlog=min(a.max_conns, 4096))
    try:
        if a.mode == "stream":
            if not a.frames_file:
                p.error("stream mode needs --frames-file")
            serve_stream(sock, a.frames_file)
        elif a.mode == "latency":
            serve_latency(sock, a.count, a.rate)
        else:
            MultiServer(sock, a.per_stream_rate, a.max_conns).serve()
    except Stop:
        return 3
    except (ConnectionError, OSError) as exc:
        print(f"[server] {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
