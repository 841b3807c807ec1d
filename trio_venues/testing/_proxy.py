"""``FaultProxy``: a loopback TCP proxy that breaks the link on command.

It sits between a client and a (fake) venue: ``127.0.0.1:<proxy port>`` ->
``target host:port``. Every accepted connection gets one task per direction,
forwarding bytes as they come. Each direction has controls shared by all
connections (:class:`Direction`), called directly from a test:

- ``pause()`` / ``resume()``: stop forwarding but keep both sockets open. The
  kernel still ACKs what the sender wrote, so this is the loopback stand-in
  for a silent, half-open link (the sender only notices through timeouts).
- ``delay(seconds)``: hold every chunk that long before forwarding it.
- ``throttle(bytes_per_second)``: forward no faster than that.
- ``drop_after(n)``: forward ``n`` more bytes (per connection), then close with FIN.
- ``corrupt(fn)``: forward ``fn(chunk)`` instead of each chunk.
- ``half_close()``: send EOF toward this direction's receiver; the other
  direction keeps flowing.
- ``fin()``: close the connection with FINs, this direction's receiver first.
- ``rst()``: reset the receiver's socket (``SO_LINGER`` 0), FIN the other.
- ``inject(data)``: write bytes toward this direction's receiver.

``refuse_new()`` closes the listener (new connects are refused),
``blackhole_new()`` accepts new connections and never answers, and
``accept_new()`` restores forwarding. Each connection keeps a bounded log of
the bytes forwarded per direction.

A reset seen on one side is passed on as a reset to the other, and an EOF as
an EOF, so the proxy is transparent until told otherwise. It listens on
127.0.0.1 only; its loops end with their connection (EOF, reset, or the
proxy's nursery), and every drain is bounded by ``linger``.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterator
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import trio

from ._server import close_now

__all__ = ["Direction", "FaultProxy", "Pipe", "ProxyConnection"]

_READ_SIZE = 65536
# Throttling sends in slices of about 1/100 of a second worth of bytes.
_THROTTLE_SLICES_PER_S = 100

Side = Literal["client", "server"]


class Direction:
    """The controls of one direction (``client_to_server`` or ``server_to_client``)."""

    def __init__(self, proxy: FaultProxy, name: str, receiver: Side) -> None:
        self._proxy = proxy
        self.name = name
        #: which side receives what this direction forwards
        self.receiver: Side = receiver
        self.paused = False
        self._resumed = trio.Event()
        self._resumed.set()
        self.delay_s = 0.0
        self.rate: float | None = None
        self.drop_budget: int | None = None
        self.corrupter: Callable[[bytes], bytes] | None = None

    def __repr__(self) -> str:
        return f"<Direction {self.name} paused={self.paused}>"

    def _pipes(self) -> Iterator[Pipe]:
        for conn in self._proxy.active:
            yield conn.pipe(self.name)

    def pause(self) -> None:
        """Stop forwarding (chunks already read wait); both sockets stay open."""
        if not self.paused:
            self.paused = True
            self._resumed = trio.Event()

    def resume(self) -> None:
        """Forward again, starting with whatever waited."""
        self.paused = False
        self._resumed.set()

    async def _wait_resumed(self) -> None:
        # Bounded by resume() or by the connection's end (cancellation).
        while self.paused:
            await self._resumed.wait()

    def delay(self, seconds: float) -> None:
        """Hold each chunk ``seconds`` before forwarding it (0 turns it off)."""
        if seconds < 0:
            raise ValueError(f"delay must be >= 0, got {seconds}")
        self.delay_s = seconds

    def throttle(self, bytes_per_second: float | None) -> None:
        """Forward at most this many bytes per second (``None`` turns it off)."""
        if bytes_per_second is not None and not bytes_per_second > 0:
            raise ValueError(f"throttle must be > 0 or None, got {bytes_per_second}")
        self.rate = bytes_per_second

    def drop_after(self, n: int | None) -> None:
        """Forward ``n`` more bytes on each connection (new ones too), then close with FIN.

        ``None`` turns it off.
        """
        if n is not None and n < 0:
            raise ValueError(f"drop_after must be >= 0 or None, got {n}")
        self.drop_budget = n
        for pipe in self._pipes():
            pipe.budget = n

    def corrupt(self, fn: Callable[[bytes], bytes] | None) -> None:
        """Forward ``fn(chunk)`` instead of each chunk (``None`` turns it off)."""
        self.corrupter = fn

    async def inject(self, data: bytes) -> None:
        """Write ``data`` toward this direction's receiver on every open connection."""
        for pipe in list(self._pipes()):
            await pipe.send(data)

    async def half_close(self) -> None:
        """Send EOF toward the receiver on every open connection and stop this direction."""
        for pipe in list(self._pipes()):
            await pipe.half_close()

    async def fin(self) -> None:
        """Close every open connection with FINs, the receiver's side first."""
        for conn in self._proxy.active:
            await conn.teardown("fin", self.receiver)

    async def rst(self) -> None:
        """Reset the receiver's socket of every open connection; the other side gets a FIN."""
        for conn in self._proxy.active:
            await conn.teardown("rst", self.receiver)


class Pipe:
    """One direction of one proxied connection: its byte count, log and state.

    Attributes:
        total: bytes forwarded (injected ones included).
        held: bytes read from the sender and not yet forwarded.
        eof: the sender's EOF was passed on (or the direction was half-closed).
        budget: bytes left before ``drop_after`` closes the connection.
    """

    def __init__(
        self,
        conn: ProxyConnection,
        direction: Direction,
        src: trio.SocketStream,
        dst: trio.SocketStream,
        log_size: int,
    ) -> None:
        self.conn = conn
        self.direction = direction
        self.src = src
        self.dst = dst
        self.budget = direction.drop_budget
        self.total = 0
        #: bytes read from the sender and not yet forwarded (e.g. while paused)
        self.held = 0
        self._log: deque[int] = deque(maxlen=log_size)
        self.eof = False
        self._lock = trio.Lock()
        self._scope = trio.CancelScope()
        self._half_close_requested = False
        self.done = trio.Event()

    @property
    def log(self) -> bytes:
        """The last ``log_size`` bytes forwarded (injected bytes included)."""
        return bytes(self._log)

    async def send(self, data: bytes) -> None:
        """Write ``data`` to this pipe's receiver, logging it."""
        # Counted before the write, so that a test woken by the receiver's read
        # already sees the bytes in the log.
        self.total += len(data)
        self._log.extend(data)
        self.conn._proxy._notifier_notify()
        async with self._lock:
            await self.dst.send_all(data)

    async def half_close(self) -> None:
        """Stop forwarding and send EOF to the receiver; wait until done."""
        self._half_close_requested = True
        self._scope.cancel(reason=f"{self.direction.name} half-closed")
        await self.done.wait()

    async def run(self) -> None:
        """Forward until EOF, a fault or cancellation (the proxy runs this)."""
        try:
            with self._scope:
                await self._forward()
            if self._half_close_requested:
                with trio.CancelScope(shield=True):
                    await _send_eof(self.dst)
                self.eof = True
        finally:
            self.done.set()

    async def _forward(self) -> None:
        d = self.direction
        sender: Side = "server" if d.receiver == "client" else "client"
        # Ends at EOF, at a reset, when the budget runs out, or with the connection.
        while True:
            # No gate before the read: a paused direction reads one chunk and
            # holds it (observable as ``held``); the rest waits in the kernel.
            try:
                data = bytes(await self.src.receive_some(_READ_SIZE))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                # The sender reset the connection: pass the reset on.
                self.conn.start_teardown("rst", d.receiver)
                return
            if not data:
                async with self._lock:
                    await _send_eof(self.dst)
                self.eof = True
                self.conn._proxy._notifier_notify()
                return
            # Read but not yet forwarded: what a paused direction holds back.
            self.held = len(data)
            self.conn._proxy._notifier_notify()
            await d._wait_resumed()
            if d.corrupter is not None:
                data = d.corrupter(data)
            if d.delay_s:
                await trio.sleep(d.delay_s)
            cut = False
            if self.budget is not None and len(data) >= self.budget:
                data, cut = data[: self.budget], True
            if self.budget is not None:
                self.budget -= len(data)
            try:
                await self._send_paced(data)
                self.held = 0
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                # The receiver reset the connection: reset the sender too.
                self.conn.start_teardown("rst", sender)
                return
            if cut:
                self.conn.start_teardown("fin", d.receiver)
                return

    async def _send_paced(self, data: bytes) -> None:
        rate = self.direction.rate
        if rate is None:
            await self.send(data)
            return
        step = max(1, int(rate / _THROTTLE_SLICES_PER_S))
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            await self.send(piece)
            await trio.sleep(len(piece) / rate)


async def _send_eof(stream: trio.SocketStream) -> None:
    try:
        await stream.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        return


class ProxyConnection:
    """One proxied connection: the client's socket, the upstream socket, two pipes."""

    def __init__(
        self,
        proxy: FaultProxy,
        number: int,
        client: trio.SocketStream,
        upstream: trio.SocketStream,
    ) -> None:
        self.number = number
        self.client = client
        self.upstream = upstream
        self.client_to_server = Pipe(self, proxy.client_to_server, client, upstream, proxy.log_size)
        self.server_to_client = Pipe(self, proxy.server_to_client, upstream, client, proxy.log_size)
        self.closed = False
        #: how it ended: ``"eof"`` (both sides closed), ``"fin"`` or ``"rst"`` (toward a side)
        self.end: str | None = None
        self._linger = proxy.linger
        self._nursery: trio.Nursery | None = None
        self._mode: tuple[str, Side] | None = None
        self._acted = trio.Event()
        self._proxy = proxy

    def __repr__(self) -> str:
        return f"<ProxyConnection #{self.number} end={self.end}>"

    @property
    def is_open(self) -> bool:
        """Whether the connection is still forwarding."""
        return self._mode is None and not self.closed

    def pipe(self, name: str) -> Pipe:
        """``"client_to_server"`` or ``"server_to_client"``."""
        return self.client_to_server if name == "client_to_server" else self.server_to_client

    def _stream(self, side: Side) -> trio.SocketStream:
        return self.client if side == "client" else self.upstream

    def start_teardown(self, mode: str, toward: Side) -> None:
        """Stop forwarding and close: ``"fin"`` or ``"rst"`` toward ``toward`` first."""
        if self._mode is None:
            self._mode = (mode, toward)
            self.end = f"{mode}->{toward}"
            self._proxy._notifier_notify()
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel(reason=f"proxy {mode} toward the {toward}")

    async def teardown(self, mode: str, toward: Side) -> None:
        """:meth:`start_teardown`, then wait until the FIN or RST was sent."""
        self.start_teardown(mode, toward)
        await self._acted.wait()

    async def run(self) -> None:
        """Forward both directions until the connection ends, then close both sockets."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self.client_to_server.run)
                nursery.start_soon(self.server_to_client.run)
            self._nursery = None
            if self._mode is None:
                self.end = "eof"
            else:
                await self._close_with(*self._mode)
        finally:
            self._acted.set()
            await close_now(self.client)  # noqa: ASYNC102 - close_now shields itself
            await close_now(self.upstream)  # noqa: ASYNC102 - close_now shields itself
            self.closed = True
            self._proxy._notifier_notify()

    async def _close_with(self, mode: str, toward: Side) -> None:
        first = self._stream(toward)
        other = self.upstream if first is self.client else self.client
        if mode == "rst":
            # SO_LINGER on, timeout 0: close() sends RST instead of FIN.
            with contextlib.suppress(OSError):
                first.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await first.aclose()
            await _send_eof(other)
            self._acted.set()
            await _drain(other, self._linger)
            return
        await _send_eof(first)
        await _send_eof(other)
        self._acted.set()
        # Read until both peers closed, so closing sends no RST for unread data.
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_drain, first, self._linger)
            nursery.start_soon(_drain, other, self._linger)


async def _drain(stream: trio.SocketStream, limit: float) -> None:
    with trio.move_on_after(limit):
        try:
            # Ends at EOF, a reset, or the time limit.
            while await stream.receive_some(_READ_SIZE):
                continue
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that misbehaves on command (see the module docstring).

    Start it in a nursery: ``port = await nursery.start(proxy.serve)``, then
    connect to :meth:`rewrite` (``proxy.rewrite(server.url)``).

    Args:
        target_port: the port to forward to.
        target_host: the host to forward to (loopback in tests).
        log_size: how many bytes each pipe's log keeps (the most recent).
        connection_log: how many past connections :attr:`connections` keeps.
        linger: how long a closing connection drains its peers before closing.
    """

    def __init__(
        self,
        target_port: int,
        target_host: str = "127.0.0.1",
        *,
        log_size: int = 64 * 1024,
        connection_log: int = 256,
        linger: float = 5.0,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.log_size = log_size
        self.linger = linger
        self.port: int | None = None
        self.client_to_server = Direction(self, "client_to_server", "server")
        self.server_to_client = Direction(self, "server_to_client", "client")
        self.connections: deque[ProxyConnection] = deque(maxlen=connection_log)
        #: connections accepted (forwarded, blackholed or failed upstream)
        self.accepted = 0
        #: connections forwarded upstream
        self.forwarded = 0
        self.blackholed = 0
        self.upstream_failures = 0
        self.mode: Literal["forward", "blackhole", "refuse"] = "forward"
        self._nursery: trio.Nursery | None = None
        self._listener: trio.SocketListener | None = None
        self._changed = trio.Event()

    def _notifier_notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    @property
    def active(self) -> list[ProxyConnection]:
        """Connections still forwarding."""
        return [c for c in self.connections if c.is_open]

    @property
    def connection(self) -> ProxyConnection:
        """The most recent connection.

        Raises:
            LookupError: nothing connected yet.
        """
        if not self.connections:
            raise LookupError("nothing has connected through the proxy yet")
        return self.connections[-1]

    def rewrite(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        if self.port is None:
            raise RuntimeError("the proxy is not serving yet: `await nursery.start(proxy.serve)`")
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.port}"))

    async def wait_until(self, predicate: Callable[[FaultProxy], bool]) -> None:
        """Wait until ``predicate(proxy)`` is true (re-checked after every change)."""
        # Each pass waits for a change; bounded by the caller's deadline.
        while not predicate(self):
            await self._changed.wait()

    async def wait_connections(self, count: int) -> ProxyConnection:
        """Wait until ``count`` connections were forwarded; return the newest."""
        # Each pass waits for a change; bounded by the caller's deadline.
        while self.forwarded < count:
            await self._changed.wait()
        return self.connections[-1]

    async def wait_accepted(self, count: int) -> None:
        """Wait until ``count`` connections were accepted (blackholed ones included)."""
        while self.accepted < count:
            await self._changed.wait()

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on 127.0.0.1 (a free port) and proxy; ``task_status.started(port)``."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
                self.port = int(listener.socket.getsockname()[1])
                self._start_accepting(listener)
                task_status.started(self.port)
                await trio.sleep_forever()
            finally:
                self._nursery = None

    def stop(self) -> None:
        """Stop the proxy: every connection is dropped at once."""
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel(reason="fault proxy stopped")

    def _start_accepting(self, listener: trio.SocketListener) -> None:
        assert self._nursery is not None
        self._listener = listener
        self._nursery.start_soon(self._accept_loop, listener)

    async def _accept_loop(self, listener: trio.SocketListener) -> None:
        assert self._nursery is not None
        async with listener:
            # Ends when the listener is closed (refuse_new, or the proxy stops).
            while True:
                try:
                    stream = await listener.accept()
                except (trio.ClosedResourceError, trio.BrokenResourceError):
                    return
                self.accepted += 1
                self._notifier_notify()
                if self.mode == "blackhole":
                    self.blackholed += 1
                    self._nursery.start_soon(self._blackhole, stream)
                else:
                    self._nursery.start_soon(self._forward, stream)

    async def refuse_new(self) -> None:
        """Close the listener: new connections are refused (open ones keep going)."""
        self.mode = "refuse"
        if self._listener is not None:
            await self._listener.aclose()
            self._listener = None

    def blackhole_new(self) -> None:
        """Accept new connections but never forward nor answer (open ones keep going)."""
        self.mode = "blackhole"

    async def accept_new(self) -> None:
        """Forward new connections again (reopening the listener on the same port)."""
        if self._listener is None:
            if self._nursery is None or self.port is None:
                raise RuntimeError("the proxy is not serving")
            listener = (await trio.open_tcp_listeners(self.port, host="127.0.0.1"))[0]
            self._start_accepting(listener)
        self.mode = "forward"

    async def _blackhole(self, stream: trio.SocketStream) -> None:
        try:
            # Accepted, never answered: discard until the client gives up.
            while await stream.receive_some(_READ_SIZE):
                continue
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await close_now(stream)  # noqa: ASYNC102 - close_now shields itself

    async def _forward(self, client: trio.SocketStream) -> None:
        try:
            upstream = await trio.open_tcp_stream(self.target_host, self.target_port)
        except OSError:
            self.upstream_failures += 1
            self._notifier_notify()
            await close_now(client)
            return
        self.forwarded += 1
        conn = ProxyConnection(self, self.forwarded, client, upstream)
        self.connections.append(conn)
        self._notifier_notify()
        await conn.run()
