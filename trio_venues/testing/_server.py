"""A fake venue server that speaks a venue's protocol and misbehaves on command.

:class:`FakeVenueServer` is a WebSocket server written on wsproto. It runs on
a loopback TCP listener (``await nursery.start(server.serve_tcp)``, optionally
``wss://`` with an ``ssl_context``) and over in-memory streams
(:meth:`FakeVenueServer.memory_transport`), with the same code for both.

What a venue *says* is a pluggable :class:`VenueBehaviour` (the generic JSON
venue by default; a Binance fake plugs in the same way): it answers the
client's messages, frames data, and is told when a client connects
(``on_connect``) and of every ping and pong the client sends
(``on_control_frame``). The server owns what is common to every venue:

- the opening handshake, and handshake faults for the next N attempts
  (:meth:`FakeVenueServer.fail_handshakes`: any HTTP rejection, a 101 without
  ``Upgrade``, a wrong accept key, a trickled or never-finished response, a
  server that reads the request and never answers, one that never reads);
- one :class:`ServerConnection` per client, with its subscriptions, a bounded
  log of what the client sent, and fault methods a test calls while the client
  is connected: ``close(code, reason, fin=...)``, ``drop()`` (FIN, optionally
  mid-frame), ``reset()`` (RST), ``stall()``, ``answer_pings = False``,
  ``ping_storm()``, ``send_frame()`` (any invalid frame), ``send_raw()``,
  ``venue_ping()``, ``notify_shutdown()``;
- market data: ``await server.push(topic, data)``, bounded generator tasks
  (:meth:`FakeVenueServer.generate`) and sequence faults
  (:meth:`FakeVenueServer.inject_gap` and friends), numbered per topic or,
  with ``sequence="connection"``, with one counter per connection across
  every topic (as Coinbase numbers its messages);
- readiness without sleeps: ``await server.wait_connected(n)``,
  ``await conn.wait_subscribed(topic)``, ``await conn.wait_until(predicate)``.

Valid traffic goes out through wsproto; faults are raw bytes written to the
stream (see :mod:`trio_venues.testing._rawframes`), because wsproto refuses to
write invalid frames. The server binds 127.0.0.1 only; every buffer and log is
bounded and every loop is bounded in count or ends with its connection.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeAlias, TypeVar, overload
from urllib.parse import urlsplit

import attrs
import orjson
import trio
import trio.testing
import wsproto
import wsproto.events as wse
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from ._rawframes import OP_CLOSE, OP_PING, OP_TEXT, RawClient, close_payload, encode_frame

if TYPE_CHECKING:
    import ssl

    from .._config import ConnectionConfig
    from .._transport import Transport, TransportFactory
    from ._generic import GenericVenue

__all__ = [
    "AcceptWith",
    "FakeVenueServer",
    "GeneratorHandle",
    "HandshakeFault",
    "HandshakeRequest",
    "NeverRead",
    "NoUpgrade",
    "RawResponse",
    "Reject",
    "ServerConnection",
    "Silent",
    "Trickle",
    "VenueBehaviour",
    "WrongAccept",
    "accept_key",
]

# RFC 6455 1.3: the GUID appended to Sec-WebSocket-Key for Sec-WebSocket-Accept.
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_REQUEST_HEAD = 64 * 1024
_READ_SIZE = 65536
# Periodic loops (heartbeats) end with their connection; this bound only makes
# sure none of them can spin for ever if a connection outlives every test.
_MAX_TICKS = 1_000_000

_REASON_PHRASES = {
    101: "Switching Protocols",
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    418: "I'm a teapot",
    426: "Upgrade Required",
    429: "Too Many Requests",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + _WS_GUID).digest()).decode()


# -- the handshake -----------------------------------------------------------------


@attrs.frozen
class HandshakeRequest:
    """A client's opening handshake request, as received.

    Attributes:
        method: the HTTP method (``GET`` for WebSocket).
        target: the request target: path and query.
        headers: (lower-case name, value) pairs, in order.
        raw: the request line and headers as received.
    """

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    raw: bytes

    @classmethod
    def parse(cls, head: bytes) -> HandshakeRequest:
        """Parse the request line and headers (lax: a bad request still parses)."""
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        method = parts[0] if parts else ""
        target = parts[1] if len(parts) > 1 else ""
        headers = []
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers.append((name.strip().lower(), value.strip()))
        return cls(method, target, tuple(headers), head)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        lname = name.lower()
        return next((v for k, v in self.headers if k == lname), None)

    @property
    def path(self) -> str:
        """The path part of the target."""
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        """The query string of the target (without ``?``)."""
        return urlsplit(self.target).query

    @property
    def key(self) -> str:
        """The ``Sec-WebSocket-Key`` header (empty if missing)."""
        return self.header("sec-websocket-key") or ""


class HandshakeFault:
    """Base of the ways :meth:`FakeVenueServer.fail_handshakes` can spoil a handshake."""


@attrs.frozen
class Reject(HandshakeFault):
    """Answer the upgrade with an HTTP status, headers and body, then close (FIN).

    ``Reject(429, headers=[("Retry-After", "7")])``, ``Reject(403)``,
    ``Reject(418)``, ``Reject(503, body=b"maintenance")``. ``Content-Length``
    and ``Connection: close`` are added.
    """

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    reason: str | None = None

    def response(self) -> bytes:
        """The response bytes."""
        phrase = self.reason if self.reason is not None else _REASON_PHRASES.get(self.status, "")
        lines = [f"HTTP/1.1 {self.status} {phrase}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        lines += [f"Content-Length: {len(self.body)}", "Connection: close"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@attrs.frozen
class RawResponse(HandshakeFault):
    """Write these bytes as the response; then close (``hold=False``) or hold the socket."""

    data: bytes
    hold: bool = False


@attrs.frozen
class NoUpgrade(HandshakeFault):
    """A 101 with a valid accept key but no ``Upgrade`` header; then hold the socket."""


@attrs.frozen
class WrongAccept(HandshakeFault):
    """A 101 whose ``Sec-WebSocket-Accept`` is wrong; then hold the socket."""


@attrs.frozen
class AcceptWith(HandshakeFault):
    """A valid 101 plus extra headers (e.g. an extension or subprotocol never offered).

    The connection then carries on as a WebSocket, so a client that accepts
    the response anyway can be observed.
    """

    headers: Sequence[tuple[str, str]]


@attrs.frozen
class Trickle(HandshakeFault):
    """Send the valid 101 ``chunk`` bytes every ``interval`` seconds.

    With ``stop_after`` the response stops after that many bytes and the
    socket is held: a handshake that never finishes. Otherwise the
    connection carries on as a WebSocket once the response is complete.
    """

    interval: float = 0.5
    chunk: int = 1
    stop_after: int | None = None


@attrs.frozen
class Silent(HandshakeFault):
    """Read the request and never answer; hold the socket until the client leaves."""


@attrs.frozen
class NeverRead(HandshakeFault):
    """Accept the TCP connection, never read nor write; hold it for ``hold`` seconds.

    ``hold=None`` holds it until the server stops.
    """

    hold: float | None = None


# -- the venue behaviour -----------------------------------------------------------


class VenueBehaviour(Protocol):
    """What a venue says: the part of a fake server that differs per venue.

    A behaviour is any class with these members. :meth:`on_connect` and
    :meth:`on_control_frame` are optional hooks: subclass ``VenueBehaviour``
    to inherit their defaults (which do nothing), or define them yourself.
    A behaviour that neither subclasses nor defines them still runs (the
    server skips a missing hook), but type checkers ask for them.
    """

    name: str

    def initial_topics(self, request: HandshakeRequest) -> Sequence[str]:
        """Topics the connection is subscribed to by its URL alone."""
        ...

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Handle one complete message from the client (acks, requests, venue pongs)."""
        ...

    def data_frame(self, conn: ServerConnection, topic: str, seq: int, data: Any) -> str | bytes:
        """The frame carrying one data message of ``topic`` to ``conn``."""
        ...

    def make_data(self, topic: str, seq: int) -> Any:
        """Generated data for message ``seq`` of ``topic``."""
        ...

    def venue_ping_frame(self, ts: int) -> str | bytes | None:
        """The venue's application-level ping, or ``None`` when the venue has none."""
        ...

    def shutdown_frame(self, message: str) -> str | bytes:
        """The venue's "about to go away" notice."""
        ...

    async def on_connect(self, conn: ServerConnection) -> None:
        """Meet a client once, when its handshake was accepted, before any data.

        Nothing has been sent to ``conn`` and none of the client's frames has
        been read. The connection is not yet in ``server.connections`` (so
        ``wait_connected`` returns after this hook) and its URL's topics are
        not yet subscribed, so no pushed data reaches it until this returns:
        whatever the hook sends is the client's first message. The default
        does nothing.
        """
        return None

    async def on_control_frame(
        self, conn: ServerConnection, kind: Literal["ping", "pong"], payload: bytes
    ) -> None:
        """See one ping or pong frame from the client, in arrival order.

        Called after the frame is logged (``conn.pings_received`` /
        ``conn.pongs_received``) and before the server's automatic pong, so
        a behaviour that closes ``conn`` here leaves that ping unanswered.
        Like :meth:`on_message`, not called while the connection is stalled.
        The default does nothing.
        """
        return None


B = TypeVar("B", bound=VenueBehaviour)


class _Notifier:
    """A condition variable for "some state changed": waiters re-check a predicate."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        # Bounded by the caller's deadline (tests use fail_after); each pass waits
        # for a change, so this never spins.
        while not predicate():
            await self._event.wait()


class _FrameProtocol(Protocol):
    """What ServerConnection needs of wsproto (``WSConnection`` and ``Connection`` both fit)."""

    @property
    def state(self) -> ConnectionState: ...

    def send(self, event: wse.Event) -> bytes: ...

    def receive_data(self, data: bytes | None) -> None: ...

    def events(self) -> Any: ...


# -- one connection ----------------------------------------------------------------


class ServerConnection:
    """One accepted client of a :class:`FakeVenueServer`, and the faults to inject into it.

    State a test reads (all logs are bounded by the server's ``log_size``):

    Attributes:
        number: 1 for the server's first accepted connection, 2 for the next...
        request: the client's handshake request.
        subscriptions: the topics this client is subscribed to.
        received: the last messages the client sent (``str`` or ``bytes``).
        received_count: how many messages the client sent in all.
        pings_received / pongs_received: payloads of the client's ping/pong frames.
        venue_pongs: values the client sent back in answer to venue pings.
        client_close: ``(code, reason)`` of the client's close frame, once received.
        protocol_error: wsproto's complaint when the client broke the protocol.
        end_reason: why the connection ended (``"client-close"``, ``"client-eof"``,
            ``"server-close"``, ``"server-fin"``, ``"server-rst"``, ``"broken"``,
            ``"server-stopped"``...), ``None`` while open.
        closed: the connection is over and its stream closed.

    Switches a test flips (they take effect at once):

    Attributes:
        answer_pings: answer ping frames with pongs.
        answer_venue_pings: let the venue behaviour answer application-level pings.
        answer_close: answer the client's close frame (and then close TCP).
        data_muted: send no market data (everything else still flows).
        stalled: send nothing and answer nothing, keep the socket (see :meth:`stall`).
    """

    def __init__(
        self,
        server: FakeVenueServer[Any],
        stream: trio.abc.Stream,
        ws: _FrameProtocol,
        request: HandshakeRequest,
        number: int,
        peer: _MemoryClientStream | None,
    ) -> None:
        self.server = server
        self.number = number
        self.request = request
        self.subscriptions: set[str] = set()
        size = server.log_size
        self.received: deque[str | bytes] = deque(maxlen=size)
        self.received_count = 0
        self.pings_received: deque[bytes] = deque(maxlen=size)
        self.pongs_received: deque[bytes] = deque(maxlen=size)
        self.venue_pongs: deque[Any] = deque(maxlen=size)
        self.client_close: tuple[int, str] | None = None
        self.protocol_error: str | None = None
        self.end_reason: str | None = None
        self.closed = False
        self.messages_sent = 0
        self.pings_sent = 0
        self.answer_pings = server.answer_pings
        self.answer_venue_pings = server.answer_venue_pings
        self.answer_close = server.answer_close
        self.data_muted = False
        self.stalled = False
        #: with ``sequence="connection"``: the number of this client's next data message
        self.next_seq = 1
        self._stream = stream
        self._ws = ws
        self._peer = peer
        self._send_lock = trio.Lock()
        self._nursery: trio.Nursery | None = None
        self._end_mode = "graceful"
        self._close_sent = False
        self._fin_after_close = True
        # Our FIN went out (drop()): nothing more may be written.
        self._eof_sent = False
        # Fragments of the message being received (bounded by max_message_size).
        self._partial: list[Any] = []
        self._partial_size = 0
        self._oversized = False
        self._last_pong_at = trio.current_time()
        self._last_venue_ts = 0

    def __repr__(self) -> str:
        state = "open" if self.end_reason is None else f"ended:{self.end_reason}"
        return f"<ServerConnection #{self.number} {self.request.target!r} {state}>"

    @property
    def is_open(self) -> bool:
        """Whether the connection is still running (not ending, not closed)."""
        return self.end_reason is None

    @property
    def behaviour(self) -> VenueBehaviour:
        """The server's venue behaviour."""
        behaviour: VenueBehaviour = self.server.behaviour
        return behaviour

    def start_soon(self, fn: Callable[..., Awaitable[object]], *args: Any) -> None:
        """Run ``fn(*args)`` as one of this connection's tasks: it ends with the connection.

        For a venue behaviour's per-connection timers (a heartbeat, a deadline
        for the first subscribe), started from ``on_connect``.

        Raises:
            RuntimeError: the connection is not running.
        """
        if self._nursery is None:
            raise RuntimeError(f"{self!r} is not running")
        self._nursery.start_soon(fn, *args)

    # -- waiting, without sleeps -----------------------------------------------------

    async def wait_until(self, predicate: Callable[[ServerConnection], bool]) -> None:
        """Wait until ``predicate(self)`` is true (re-checked after every change)."""
        await self.server._notifier.wait_until(lambda: predicate(self))

    async def wait_subscribed(self, *topics: str) -> None:
        """Wait until every one of ``topics`` is subscribed."""
        await self.wait_until(lambda c: all(t in c.subscriptions for t in topics))

    async def wait_unsubscribed(self, *topics: str) -> None:
        """Wait until none of ``topics`` is subscribed."""
        await self.wait_until(lambda c: not any(t in c.subscriptions for t in topics))

    async def wait_received(self, count: int) -> None:
        """Wait until the client has sent ``count`` messages in all."""
        await self.wait_until(lambda c: c.received_count >= count)

    async def wait_closed(self) -> None:
        """Wait until the connection is over and its stream closed."""
        await self.wait_until(lambda c: c.closed)

    async def wait_venue_pong(self, value: Any) -> None:
        """Wait until the client answered the venue ping that carried ``value``."""
        await self.wait_until(lambda c: value in c.venue_pongs)

    def received_json(self) -> list[Any]:
        """The logged text messages that parse as JSON, decoded, oldest first."""
        out = []
        for message in self.received:
            if isinstance(message, str):
                try:
                    out.append(orjson.loads(message))
                except orjson.JSONDecodeError:
                    continue
        return out

    # -- state changes (venue behaviours call these) -------------------------------

    def add_subscriptions(self, topics: Sequence[str]) -> None:
        """Subscribe this client to ``topics`` (starts auto-generators if configured)."""
        self.subscriptions.update(topics)
        self.server._on_subscribed(topics)
        self.server._notifier.notify()

    def remove_subscriptions(self, topics: Sequence[str]) -> None:
        """Unsubscribe this client from ``topics``."""
        self.subscriptions.difference_update(topics)
        self.server._notifier.notify()

    def record_venue_pong(self, value: Any) -> None:
        """Record the client's answer to a venue ping."""
        self.venue_pongs.append(value)
        self.server._notifier.notify()

    # -- valid traffic -------------------------------------------------------------

    async def send_text(self, text: str) -> bool:
        """Send a text message (dropped while stalled or after our close). Returns if sent."""
        return await self._send_ws(wse.TextMessage(data=text))

    async def send_bytes(self, data: bytes) -> bool:
        """Send a binary message (dropped while stalled or after our close)."""
        return await self._send_ws(wse.BytesMessage(data=data))

    async def send_json(self, obj: Any) -> bool:
        """Send ``obj`` as a JSON text message."""
        return await self.send_text(orjson.dumps(obj).decode())

    async def send_message(self, message: str | bytes) -> bool:
        """Send a text (``str``) or binary (``bytes``) message."""
        if isinstance(message, str):
            return await self.send_text(message)
        return await self.send_bytes(message)

    def take_seq(self) -> int:
        """This client's next connection-wide sequence number (``sequence="connection"``)."""
        seq = self.next_seq
        self.next_seq = seq + 1
        return seq

    async def send_data(self, topic: str, data: Any, seq: int) -> bool:
        """Send one data message of ``topic`` with an explicit ``seq`` to this client only.

        Skipped while ``data_muted``. Use it for per-connection sequence faults;
        :meth:`FakeVenueServer.push` numbers messages itself.
        """
        if self.data_muted:
            return False
        return await self.send_message(self.behaviour.data_frame(self, topic, seq, data))

    async def ping(self, payload: bytes = b"") -> None:
        """Send one ping frame (any payload, even over 125 bytes: a protocol error)."""
        await self.send_frame(OP_PING, payload)
        self.pings_sent += 1

    async def ping_storm(self, count: int, *, interval: float = 0.0, payload: bytes = b"") -> None:
        """Send ``count`` pings, ``interval`` seconds apart (0: back to back)."""
        for _ in range(count):
            await self.ping(payload)
            if interval > 0:
                await trio.sleep(interval)

    async def venue_ping(self, *, reply_within: float | None = None) -> int:
        """Send the venue's application-level ping; return its ``ts`` value.

        With ``reply_within``, the connection is closed with the server's
        ``venue_pong_timeout_close`` code if no answer arrives in time (as real
        venues do). ``await conn.wait_venue_pong(ts)`` waits for the answer.

        Raises:
            RuntimeError: the venue has no application-level ping.
        """
        now_ms = int(trio.current_time() * 1000)
        # Strictly increasing, so two pings in the same virtual millisecond differ.
        ts = max(now_ms, self._last_venue_ts + 1)
        self._last_venue_ts = ts
        frame = self.behaviour.venue_ping_frame(ts)
        if frame is None:
            raise RuntimeError(f"venue {self.behaviour.name!r} has no application-level ping")
        await self.send_message(frame)
        if reply_within is not None and self._nursery is not None:
            self._nursery.start_soon(self._venue_pong_watchdog, ts, reply_within)
        return ts

    async def notify_shutdown(self, message: str = "server restart") -> None:
        """Send the venue's shutdown notice (the connection stays open)."""
        await self.send_message(self.behaviour.shutdown_frame(message))

    # -- faults --------------------------------------------------------------------

    async def send_raw(self, data: bytes) -> None:
        """Write raw bytes to the stream (even while stalled): any garbage at all."""
        await self._write(data)

    async def send_frame(self, opcode: int, payload: bytes = b"", **options: Any) -> None:
        """Write one hand-built frame; ``options`` as :func:`~._rawframes.encode_frame`.

        ``send_frame(OP_TEXT, b"hi", rsv1=True)``, ``send_frame(3)`` (reserved
        opcode), ``send_frame(OP_PING, fin=False)``, ``send_frame(OP_TEXT, b"\\xc0\\xaf")``.
        """
        await self._write(encode_frame(opcode, payload, **options))

    async def close(
        self,
        code: int | None = 1000,
        reason: str | bytes = "",
        *,
        fin: bool = True,
        payload: bytes | None = None,
    ) -> None:
        """Send a close frame with any code and reason, legal or not.

        Args:
            code: the close code (1004, 1005, 1006, 1015, 999, 5000 go out as
                given); ``None`` sends a close frame without a status.
            reason: the reason, as text or raw bytes (invalid UTF-8 allowed).
            fin: ``True``: close TCP (FIN) once the client answers, or after the
                server's ``close_timeout``. ``False``: never close TCP; hold the
                socket until the client drops it.
            payload: the exact close payload, overriding ``code``/``reason``
                (a 1-byte payload, 124 bytes of reason...).
        """
        body = close_payload(code, reason) if payload is None else payload
        self._close_sent = True
        self._fin_after_close = fin
        await self._write(encode_frame(OP_CLOSE, body))
        if fin and self._nursery is not None:
            self._nursery.start_soon(self._close_watchdog)

    async def drop(self, *, mid_message: bool = False) -> None:
        """Close TCP with a FIN and no close frame (optionally after half a frame).

        The client sees EOF without a close frame (RFC 6455 1006). The server
        then discards what the client sends until it closes its side.
        """
        transport = _innermost(self._stream)
        # One hold of the send lock for the half frame and the FIN: a push()
        # waiting for the lock must not slip a whole frame in between (the
        # client would then see garbage, 1002/1007, instead of EOF mid-message).
        async with self._send_lock:
            if mid_message and not await self._write_locked(self._half_frame()):
                return
            if isinstance(transport, trio.abc.HalfCloseableStream):
                try:
                    await transport.send_eof()
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self._end("broken", "abort")
                    return
                self._eof_sent = True
                self._end("server-fin", "fin")
            else:
                self._end("server-fin", "abort")

    async def reset(self, *, mid_message: bool = False) -> None:
        """Reset the connection (TCP RST: ``SO_LINGER`` 0 then close), optionally mid-frame.

        Over in-memory streams the reset is emulated: the client's next (or
        pending) read and write raise ``trio.BrokenResourceError``.

        Raises:
            RuntimeError: the stream is neither TCP nor one of our memory streams.
        """
        if mid_message:
            # Held until the reset, so no push() lands after the half frame.
            await self._send_lock.acquire()
            try:
                if not await self._write_locked(self._half_frame()):
                    return
                self._eof_sent = True
            finally:
                self._send_lock.release()
        sock_stream = _socket_stream(self._stream)
        if sock_stream is not None:
            # SO_LINGER on with a 0 timeout makes close() send RST, not FIN.
            sock_stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._end("server-rst", "abort")
            await sock_stream.aclose()
        elif self._peer is not None:
            self._peer.reset_by_peer()
            self._end("server-rst", "abort")
            await close_now(self._stream)
        else:
            raise RuntimeError("reset() needs a TCP stream or one from server.open_memory_stream()")

    def stall(self) -> None:
        """Keep the socket, send nothing, answer nothing (pings, requests, close).

        What the client sent is still read and logged (the kernel would ACK it
        anyway). Raw faults (``send_raw``, ``send_frame``, ``close``) still go out.
        """
        self.stalled = True
        self.server._notifier.notify()

    def resume(self) -> None:
        """Undo :meth:`stall`."""
        self.stalled = False
        self.server._notifier.notify()

    # -- internals -----------------------------------------------------------------

    def _half_frame(self) -> bytes:
        frame = self.behaviour.data_frame(self, "partial", 1, "x" * 200)
        raw = frame.encode() if isinstance(frame, str) else frame
        whole = encode_frame(OP_TEXT, raw)
        return whole[: len(whole) // 2]

    async def _send_ws(self, event: wse.Event) -> bool:
        if self.stalled or self._close_sent or self._ws.state is not ConnectionState.OPEN:
            return False
        try:
            data = self._ws.send(event)
        except LocalProtocolError:
            return False
        sent = await self._write(data)
        if sent and isinstance(event, wse.Message):
            self.messages_sent += 1
        return sent

    async def _write(self, data: bytes) -> bool:
        async with self._send_lock:
            return await self._write_locked(data)

    async def _write_locked(self, data: bytes) -> bool:
        """Write ``data``; the caller holds the send lock. Nothing goes out after our FIN."""
        if self.closed or self._eof_sent:
            return False
        try:
            await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._end("broken", "abort")
            return False
        return True

    def _end(self, why: str, mode: str) -> None:
        """Stop the connection's tasks; ``_run`` then finishes the stream per ``mode``."""
        if self.end_reason is None:
            self.end_reason = why
            self._end_mode = mode
            self.server._notifier.notify()
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel(reason=f"connection ended: {why}")

    async def _run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    # The behaviour meets the connection before anyone else: no
                    # data is pushed to it and none of its frames is read until
                    # on_connect returns, so whatever the hook sends comes first.
                    # A missing hook (see _on_control_frame) does nothing.
                    on_connect = getattr(self.behaviour, "on_connect", None)
                    if on_connect is not None:
                        await on_connect(self)
                finally:
                    # Registered even when the client left during the hook, so
                    # the counts and logs show every accepted handshake.
                    self.server._register(self)
                nursery.start_soon(self._reader)
                if self.server.max_connection_age is not None:
                    nursery.start_soon(self._age_limit, self.server.max_connection_age)
                if self.server.ping_interval is not None:
                    nursery.start_soon(self._frame_heartbeat, self.server.ping_interval)
                if self.server.venue_ping_interval is not None:
                    nursery.start_soon(self._venue_heartbeat, self.server.venue_ping_interval)
        finally:
            if self.end_reason is None:
                self.end_reason = "server-stopped"
                self._end_mode = "abort"
            self._nursery = None
            try:
                await self._finish()  # noqa: ASYNC102 - bounded cleanup of the fake server
            finally:
                await close_now(self._stream)  # noqa: ASYNC102 - close_now shields itself
                self.closed = True
                self.subscriptions.clear()
                self.server._on_closed(self)

    async def _finish(self) -> None:
        """Close the stream after the tasks ended: politely, or at once."""
        mode = self._end_mode
        transport = _innermost(self._stream)
        if mode == "graceful":
            if transport is self._stream and isinstance(transport, trio.abc.HalfCloseableStream):
                # Under the send lock: a push() still writing (its task is not
                # ours to cancel) would make send_eof raise BusyResourceError.
                # Bounded: a writer stuck on a peer that stopped reading gets
                # ``linger``, then the stream is closed at once.
                with trio.move_on_after(self.server.linger) as scope:
                    async with self._send_lock:
                        try:
                            if not self._eof_sent:
                                await transport.send_eof()
                                self._eof_sent = True
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            return
                if scope.cancelled_caught:
                    return
                mode = "fin"
            else:
                # TLS: close_notify, then the transport closes.
                with trio.move_on_after(self.server.linger):
                    await self._stream.aclose()
                return
        if mode == "fin":
            # Our FIN is out; read until the client's, so close() does not turn
            # unread data into a RST. Bounded by ``linger`` and by the data size.
            with trio.move_on_after(self.server.linger):
                try:
                    while await transport.receive_some(_READ_SIZE):
                        continue
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return

    async def _reader(self) -> None:
        # Ends at EOF, on a broken stream, or when the connection is ended.
        while True:
            try:
                data = await self._stream.receive_some(_READ_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._end("broken", "abort")
                return
            if not data:
                self._end("client-eof", "graceful")
                return
            if self._ws.state is ConnectionState.CLOSED:
                continue  # after the close handshake wsproto takes no more data
            self._ws.receive_data(bytes(data))
            for event in self._ws.events():
                if not await self._on_event(event):
                    return

    async def _on_event(self, event: wse.Event) -> bool:
        """Handle one wsproto event; ``False`` ends the reader."""
        if isinstance(event, wse.Message):
            return await self._on_message_part(event)
        if isinstance(event, wse.Ping):
            payload = bytes(event.payload)
            self.pings_received.append(payload)
            self.server._notifier.notify()
            # The behaviour sees the ping before it is answered: a venue that
            # closes on it (Binance's 6th frame in a second) sends no pong.
            await self._on_control_frame("ping", payload)
            if self.answer_pings:
                await self._send_ws(event.response())
            return True
        if isinstance(event, wse.Pong):
            payload = bytes(event.payload)
            self.pongs_received.append(payload)
            self._last_pong_at = trio.current_time()
            self.server._notifier.notify()
            await self._on_control_frame("pong", payload)
            return True
        if isinstance(event, wse.CloseConnection):
            return await self._on_close(event)
        return True

    async def _on_control_frame(self, kind: Literal["ping", "pong"], payload: bytes) -> None:
        if self.stalled:
            return  # a stalled server's behaviour sees nothing, as with messages
        # VenueBehaviour is structural: a behaviour written before the hook
        # existed (and not subclassing it) lacks it, and gets the default.
        hook = getattr(self.behaviour, "on_control_frame", None)
        if hook is not None:
            await hook(self, kind, payload)

    async def _on_message_part(self, event: wse.Message[Any]) -> bool:
        if self._oversized:
            # Skip the rest of a message we already refused with 1009.
            self._oversized = not event.message_finished
            return True
        self._partial.append(event.data)
        self._partial_size += len(event.data)
        if self._partial_size > self.server.max_message_size:
            self._partial, self._partial_size = [], 0
            self._oversized = not event.message_finished
            await self.close(1009, "message too big")
            return True
        if not event.message_finished:
            return True
        parts, self._partial, self._partial_size = self._partial, [], 0
        is_text = isinstance(event, wse.TextMessage)
        message: str | bytes = "".join(parts) if is_text else b"".join(parts)
        self.received.append(message)
        self.received_count += 1
        self.server._notifier.notify()
        if not self.stalled:
            await self.behaviour.on_message(self, message)
        return True

    async def _on_close(self, event: wse.CloseConnection) -> bool:
        if self._ws.state is ConnectionState.OPEN:
            # wsproto reports a protocol error of the *client* as a close event
            # while the state stays OPEN (docs/reliability.md, "Local errors look like
            # remote closes"): answer it with that
            # code, as a server should, and record it apart from a real close.
            self.protocol_error = f"{event.code}: {event.reason}"
            self.server._notifier.notify()
            await self._write(self._ws.send(event.response()))
            self._close_sent = True
            self._end("client-protocol-error", "graceful")
            return False
        self.client_close = (event.code, event.reason or "")
        self.server._notifier.notify()
        if self._close_sent:
            if self._fin_after_close:
                self._end("server-close", "graceful")
                return False
            return True  # fin=False: hold the socket until the client drops it
        if self.stalled or not self.answer_close:
            return True  # a server that never answers the close
        await self._write(self._ws.send(event.response()))
        self._close_sent = True
        self._end("client-close", "graceful")
        return False

    async def _close_watchdog(self) -> None:
        await trio.sleep(self.server.close_timeout)
        self._end("server-close", "graceful")

    async def _venue_pong_watchdog(self, ts: int, reply_within: float) -> None:
        await trio.sleep(reply_within)
        if ts not in self.venue_pongs:
            code, reason = self.server.venue_pong_timeout_close
            await self.close(code, reason)

    async def _frame_heartbeat(self, interval: float) -> None:
        # Ping every ``interval``; with ``pong_timeout``, close when no pong came
        # for that long (Binance: ping every 20 s, disconnect after 1 min).
        for tick in range(1, _MAX_TICKS):
            await trio.sleep(interval)
            timeout = self.server.pong_timeout
            if timeout is not None and trio.current_time() - self._last_pong_at >= timeout:
                code, reason = self.server.pong_timeout_close
                await self.close(code, reason)
                return
            if self._close_sent:
                return  # no pings after our close frame
            if not self.stalled:
                await self.ping(str(tick).encode())

    async def _age_limit(self, age: float) -> None:
        # The venue's cut of long-lived connections: a close frame at ``age``
        # seconds after the handshake (unless something else closed it first).
        await trio.sleep(age)
        if not self._close_sent:
            code, reason = self.server.max_connection_age_close
            await self.close(code, reason)

    async def _venue_heartbeat(self, interval: float) -> None:
        for _ in range(_MAX_TICKS):
            await trio.sleep(interval)
            if self._close_sent:
                return
            if not self.stalled:
                await self.venue_ping(reply_within=self.server.venue_pong_timeout)


def over_frame_rate(times: deque[float], now: float, limit: int) -> bool:
    """Log a client frame at ``now``; whether it is more than ``limit`` in the last second.

    ``times`` is the connection's log of frame times; entries older than one
    second are dropped first, so it holds at most the last second's frames.
    Venue behaviours share this to enforce "N frames per second, pings and
    pongs included" (Binance: 5; the 6th within a second is over).
    """
    while times and times[0] + 1.0 <= now:
        times.popleft()
    times.append(now)
    return len(times) > limit


async def close_now(stream: trio.abc.AsyncResource) -> None:
    """Close ``stream`` at once, even inside a cancelled scope.

    ``trio.aclose_forcefully`` closes the resource but then re-raises an outer
    cancellation at its checkpoint, which would skip the next line of a
    ``finally`` (closing a second socket, say). Shielding it makes a series of
    closes all happen; the cancellation is delivered at the next checkpoint.
    """
    with trio.CancelScope(shield=True):
        await trio.aclose_forcefully(stream)


def _innermost(stream: trio.abc.Stream) -> trio.abc.Stream:
    """The transport under any TLS layers."""
    while isinstance(stream, trio.SSLStream):
        stream = stream.transport_stream
    return stream


def _socket_stream(stream: trio.abc.Stream) -> trio.SocketStream | None:
    inner = _innermost(stream)
    return inner if isinstance(inner, trio.SocketStream) else None


# -- in-memory client end ------------------------------------------------------------


class _MemoryClientStream(trio.abc.HalfCloseableStream):
    """The client end of an in-memory connection, able to emulate a TCP reset.

    After a reset the client still reads what was already in flight (half a
    frame, say), then gets ``trio.BrokenResourceError`` where a FIN would have
    given EOF; its writes fail the same way, as after a RST on TCP. The
    buffers are ``trio.testing.memory_stream_pair``'s: unbounded, so the
    fake's generators are bounded in count instead.
    """

    def __init__(
        self,
        inner: trio.StapledStream[trio.testing.MemorySendStream, trio.testing.MemoryReceiveStream],
    ) -> None:
        self._inner = inner
        self._was_reset = False

    def reset_by_peer(self) -> None:
        """Called by the server before it closes its end: the close becomes a reset."""
        self._was_reset = True
        self._inner.send_stream.close()

    def _broken(self) -> trio.BrokenResourceError:
        return trio.BrokenResourceError("connection reset by peer (emulated in memory)")

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        try:
            await self._inner.send_all(data)
        except trio.ClosedResourceError:
            if self._was_reset:
                raise self._broken() from None
            raise

    async def wait_send_all_might_not_block(self) -> None:
        await self._inner.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        try:
            await self._inner.send_eof()
        except trio.ClosedResourceError:
            if self._was_reset:
                raise self._broken() from None
            raise

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self._inner.receive_some(max_bytes)
        if not data and self._was_reset:
            raise self._broken()
        return data

    async def aclose(self) -> None:
        await self._inner.aclose()


# -- data generators -----------------------------------------------------------------


class GeneratorHandle:
    """A running data generator (see :meth:`FakeVenueServer.generate`)."""

    def __init__(self, topic: str, count: int) -> None:
        self.topic = topic
        self.count = count
        self.sent = 0
        self.done = trio.Event()
        self._scope = trio.CancelScope()

    def stop(self) -> None:
        """Stop generating (the handle is then done)."""
        self._scope.cancel(reason=f"generator for {self.topic!r} stopped")

    async def wait_done(self) -> None:
        """Wait until the generator sent everything or was stopped."""
        await self.done.wait()


# -- the server ------------------------------------------------------------------------

TopicData: TypeAlias = Callable[[str, int], Any]


class FakeVenueServer(Generic[B]):
    """A fake venue server on loopback TCP and in-memory streams (see the module docstring).

    Start it in a nursery: ``port = await nursery.start(server.serve_tcp)``
    (TCP on a free port, plus memory; ``partial(server.serve_tcp, port=8765)``
    for a fixed port), or ``await nursery.start(server.run)`` (memory only).
    Stopping the nursery (or :meth:`stop`) drops every connection at once.

    Args:
        behaviour: what the venue says; the generic JSON venue by default.
        ssl_context: serve ``wss://`` with this server context (see ``_tls``).
        path: the path part of :attr:`url`.
        subprotocols: subprotocols the server accepts (the first one the client offers wins).
        ping_interval: send a ping frame this often (``None``: never).
        pong_timeout: close when no pong arrived for this long (needs ``ping_interval``).
        venue_ping_interval: send the venue's application-level ping this often.
        venue_pong_timeout: close when a venue ping is not answered in this long.
        auto_generate: when a topic gets its first subscriber, start a generator
            sending a message every ``auto_generate`` seconds.
        generate_count: how many messages an auto-generator sends.
        log_size: capacity of every per-connection log.
        connection_log: how many past connections :attr:`connections` keeps.
        max_message_size: a bigger client message is answered with close 1009.
        handshake_timeout: how long a client may take to send its request.
        close_timeout: after our close frame, how long to wait for the client's.
        linger: after our FIN, how long to drain the client before closing.
        answer_pings: initial value of ``ServerConnection.answer_pings``.
        answer_venue_pings: initial value of ``ServerConnection.answer_venue_pings``.
        answer_close: initial value of ``ServerConnection.answer_close``.
        pong_timeout_close: close code and reason on a pong timeout.
        venue_pong_timeout_close: close code and reason on a venue pong timeout.
        sequence: ``"topic"`` (default): data messages are numbered per topic,
            the same numbers for every subscriber; ``"connection"``: each
            client's data messages are numbered by one counter of its own,
            across every topic (``ServerConnection.next_seq``).
        max_connection_age: close every connection this many seconds after
            its handshake (on ``trio.current_time()``, so ``MockClock`` tests
            reach it at once), as venues that cut long-lived connections do
            (Binance: 24 h); ``None`` (default): never.
        max_connection_age_close: the close code and reason sent then.
    """

    @overload
    def __init__(
        self: FakeVenueServer[GenericVenue], behaviour: None = None, **options: Any
    ) -> None: ...

    @overload
    def __init__(self, behaviour: B, **options: Any) -> None: ...

    def __init__(self, behaviour: B | None = None, **options: Any) -> None:
        if behaviour is None:
            from ._generic import GenericVenue

            behaviour = GenericVenue()  # type: ignore[assignment]
        assert behaviour is not None
        self.behaviour: B = behaviour
        self._configure(**options)
        if self.venue_ping_interval is not None and behaviour.venue_ping_frame(0) is None:
            raise ValueError(f"venue {behaviour.name!r} has no application-level ping")
        self.port: int | None = None
        #: TCP connections and memory streams handled, handshake faults included
        self.attempts = 0
        #: completed WebSocket handshakes (counted once the behaviour's on_connect ran)
        self.connected_count = 0
        # Numbers connections in accept order (ServerConnection.number).
        self._accepted = 0
        #: TLS handshakes that failed (bad client, untrusted cert...)
        self.tls_failures = 0
        self.requests: deque[HandshakeRequest] = deque(maxlen=self.log_size)
        self.connections: deque[ServerConnection] = deque(maxlen=self.connection_log)
        self._notifier = _Notifier()
        self._nursery: trio.Nursery | None = None
        self._listeners: list[trio.SocketListener] = []
        self._faults: deque[tuple[HandshakeFault, int | None]] = deque()
        self._next_seq: dict[str, int] = {}
        self._generators: dict[str, GeneratorHandle] = {}
        self._raw_streams: list[trio.SocketStream] = []

    def _configure(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        path: str = "/",
        subprotocols: Sequence[str] = (),
        ping_interval: float | None = None,
        pong_timeout: float | None = None,
        venue_ping_interval: float | None = None,
        venue_pong_timeout: float | None = None,
        auto_generate: float | None = None,
        generate_count: int = 1000,
        log_size: int = 1000,
        connection_log: int = 256,
        max_message_size: int = 1024 * 1024,
        handshake_timeout: float = 10.0,
        close_timeout: float = 5.0,
        linger: float = 5.0,
        answer_pings: bool = True,
        answer_venue_pings: bool = True,
        answer_close: bool = True,
        pong_timeout_close: tuple[int, str] = (1008, "pong timeout"),
        venue_pong_timeout_close: tuple[int, str] = (4000, "venue ping timeout"),
        sequence: Literal["topic", "connection"] = "topic",
        max_connection_age: float | None = None,
        max_connection_age_close: tuple[int, str] = (1000, ""),
    ) -> None:
        if max_connection_age is not None and not max_connection_age > 0:
            raise ValueError(f"max_connection_age must be > 0 seconds, not {max_connection_age!r}")
        if sequence not in ("topic", "connection"):
            raise ValueError(f"sequence must be 'topic' or 'connection', not {sequence!r}")
        self.sequence = sequence
        self.ssl_context = ssl_context
        self.path = path
        self.subprotocols = tuple(subprotocols)
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.venue_ping_interval = venue_ping_interval
        self.venue_pong_timeout = venue_pong_timeout
        self.auto_generate = auto_generate
        self.generate_count = generate_count
        self.log_size = log_size
        self.connection_log = connection_log
        self.max_message_size = max_message_size
        self.handshake_timeout = handshake_timeout
        self.close_timeout = close_timeout
        self.linger = linger
        self.answer_pings = answer_pings
        self.answer_venue_pings = answer_venue_pings
        self.answer_close = answer_close
        self.pong_timeout_close = pong_timeout_close
        self.venue_pong_timeout_close = venue_pong_timeout_close
        self.max_connection_age = max_connection_age
        self.max_connection_age_close = max_connection_age_close

    # -- running -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT/path`` (``wss`` with TLS); before ``serve_tcp``, a memory URL."""
        if self.port is None:
            return f"ws://fake-venue.invalid{self.path}"
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://127.0.0.1:{self.port}{self.path}"

    @property
    def running(self) -> bool:
        """Whether the server's nursery is open."""
        return self._nursery is not None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the server without a listener (in-memory connections only)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                task_status.started()
                await trio.sleep_forever()
            finally:
                self._nursery = None
                await self._close_raw_clients()  # noqa: ASYNC102 - bounded cleanup of the fake server

    async def serve_tcp(
        self, *, port: int = 0, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen on 127.0.0.1 and serve; ``task_status.started(port)``.

        Args:
            port: the port to listen on; 0 (the default) picks a free one.
                The server only ever binds 127.0.0.1.

        Raises:
            ValueError: ``port`` is not in 0-65535.
            OSError: the port cannot be listened on: ``errno.EADDRINUSE`` when
                another socket holds it, ``errno.EACCES`` for a privileged port.
                Raised before ``started``, so ``await nursery.start(...)``
                raises it as it is (not in an exception group).
        """
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in 0-65535 (0: a free port), got {port}")
        try:
            # Bound before the nursery opens, so a failure is a plain OSError.
            listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise OSError(
                exc.errno, f"the fake venue cannot listen on 127.0.0.1:{port}: {why}"
            ) from exc
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                self._listeners = listeners
                self.port = int(listeners[0].socket.getsockname()[1])
                nursery.start_soon(
                    partial(
                        trio.serve_listeners,
                        self._handle_tcp,
                        self._listeners,
                        handler_nursery=nursery,
                    )
                )
                task_status.started(self.port)
                await trio.sleep_forever()
            finally:
                self._nursery = None
                await self._close_raw_clients()  # noqa: ASYNC102 - bounded cleanup of the fake server

    async def _close_raw_clients(self) -> None:
        streams, self._raw_streams = self._raw_streams, []
        for stream in streams:
            await close_now(stream)

    def stop(self) -> None:
        """Stop the server: every connection is dropped at once, the listener closes."""
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel(reason="fake venue server stopped")

    def _running_nursery(self) -> trio.Nursery:
        if self._nursery is None:
            raise RuntimeError(
                "the fake venue server is not running: "
                "`await nursery.start(server.run)` or `server.serve_tcp` first"
            )
        return self._nursery

    def open_memory_stream(self) -> trio.abc.HalfCloseableStream:
        """Connect in memory: the server serves one end, the client end is returned."""
        nursery = self._running_nursery()
        client_end, server_end = trio.testing.memory_stream_pair()
        client = _MemoryClientStream(client_end)
        nursery.start_soon(self._serve_stream, server_end, client)
        return client

    def memory_transport(self, kind: str = "default") -> TransportFactory:
        """A ``transport=`` factory that connects a trio_venues client to this server in memory.

        ``kind`` is the client transport to run over the memory stream:
        ``"default"`` (the fast transport) or ``"trio-websocket"``.
        """

        async def factory(nursery: trio.Nursery, url: str, config: ConnectionConfig) -> Transport:
            from .. import _transport

            opener = getattr(_transport, "open_transport_over_stream", None)
            if opener is None:
                raise RuntimeError(
                    "trio_venues._transport.open_transport_over_stream is missing; "
                    "in-memory transports need it"
                )
            stream = self.open_memory_stream()
            transport: Transport = await opener(kind, nursery, stream, url, config)
            return transport

        return factory

    async def open_raw(
        self,
        target: str | None = None,
        *,
        tcp: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> RawClient:
        """Open a :class:`~._rawframes.RawClient` to this server (no handshake yet).

        Args:
            target: the request target (default: the server's ``path``).
            tcp: connect over loopback TCP (``serve_tcp`` must be running)
                instead of in memory.
            ssl_context: the client TLS context when the server serves ``wss``.
        """
        stream: trio.abc.Stream
        if tcp:
            if self.port is None:
                raise RuntimeError(
                    "open_raw(tcp=True) needs `await nursery.start(server.serve_tcp)`"
                )
            stream = await trio.open_tcp_stream("127.0.0.1", self.port)
            # Closed when the server stops, so tests need not close raw clients.
            self._raw_streams.append(stream)
            if self.ssl_context is not None:
                if ssl_context is None:
                    raise ValueError("the server serves wss://: pass a client ssl_context")
                tls = trio.SSLStream(stream, ssl_context, server_hostname="127.0.0.1")
                try:
                    await tls.do_handshake()
                except trio.BrokenResourceError:
                    # Close at once so the server sees the failure now, not at its timeout.
                    await close_now(stream)  # noqa: ASYNC120 - close_now shields itself
                    raise
                stream = tls
        else:
            stream = self.open_memory_stream()
        return RawClient(stream, target=self.path if target is None else target)

    async def connect_raw(
        self,
        target: str | None = None,
        *,
        tcp: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> tuple[RawClient, ServerConnection]:
        """:meth:`open_raw`, the handshake, and the server's side of the new connection.

        Connect one raw client at a time: the server side returned is the next
        connection the server accepted.

        Raises:
            AssertionError: the server did not accept the handshake.
        """
        before = self.connected_count
        client = await self.open_raw(target, tcp=tcp, ssl_context=ssl_context)
        response = await client.handshake()
        if not response.accepted:
            raise AssertionError(f"handshake refused: {response.status} {response.error}")
        await self.wait_until(lambda s: s.connected_count > before)
        # Connections are numbered in accept order; connect one client at a time.
        return client, next(c for c in self.connections if c.number == before + 1)

    # -- readiness ---------------------------------------------------------------------

    @property
    def active(self) -> list[ServerConnection]:
        """The connections still open, oldest first."""
        return [c for c in self.connections if c.is_open]

    @property
    def connection(self) -> ServerConnection:
        """The most recent connection (open or not).

        Raises:
            LookupError: no client has connected yet.
        """
        if not self.connections:
            raise LookupError("no client has connected to the fake venue yet")
        return self.connections[-1]

    async def wait_until(self, predicate: Callable[[FakeVenueServer[B]], bool]) -> None:
        """Wait until ``predicate(server)`` is true (re-checked after every change)."""
        await self._notifier.wait_until(lambda: predicate(self))

    async def wait_connected(self, count: int = 1) -> ServerConnection:
        """Wait for the ``count``-th completed handshake; return the newest connection."""
        await self.wait_until(lambda s: s.connected_count >= count)
        return self.connections[-1]

    async def wait_attempts(self, count: int) -> None:
        """Wait until ``count`` connections were attempted (rejected handshakes included)."""
        await self.wait_until(lambda s: s.attempts >= count)

    # -- handshake faults --------------------------------------------------------------

    def fail_handshakes(self, fault: HandshakeFault, *, times: int | None = 1) -> None:
        """Spoil the next ``times`` handshakes with ``fault`` (``None``: until cleared).

        Faults queue up in order: ``fail_handshakes(Reject(503), times=2)`` then
        ``fail_handshakes(Reject(429))`` rejects three attempts.
        """
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times}")
        self._faults.append((fault, times))

    def reject(
        self,
        status: int,
        *,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        times: int | None = 1,
    ) -> None:
        """Reject the next ``times`` handshakes with an HTTP status (see :class:`Reject`)."""
        self.fail_handshakes(Reject(status, tuple(headers), body), times=times)

    def clear_handshake_faults(self) -> None:
        """Accept handshakes normally again."""
        self._faults.clear()

    def _take_fault(self) -> HandshakeFault | None:
        if not self._faults:
            return None
        fault, times = self._faults[0]
        if times is not None:
            if times <= 1:
                self._faults.popleft()
            else:
                self._faults[0] = (fault, times - 1)
        return fault

    # -- market data -------------------------------------------------------------------

    async def push(self, topic: str, data: Any = None) -> int:
        """Send one data message of ``topic`` to every subscriber; return its ``seq``.

        ``data=None`` uses the behaviour's generated data. The ``seq`` counts per
        topic from 1, unless a sequence fault was injected. With
        ``sequence="connection"`` each subscriber's frame carries that client's
        own next number instead, and the returned number only counts the topic's
        messages (it is what ``make_data`` gets).
        """
        seq = self._next_seq.get(topic, 1)
        self._next_seq[topic] = seq + 1
        payload = self.behaviour.make_data(topic, seq) if data is None else data
        per_connection = self.sequence == "connection"
        for conn in self.active:
            if topic in conn.subscriptions:
                await conn.send_data(topic, payload, conn.take_seq() if per_connection else seq)
        return seq

    def last_seq(self, topic: str) -> int:
        """The number of the last message of ``topic`` (0 before the first)."""
        return self._next_seq.get(topic, 1) - 1

    def inject_gap(self, topic: str, n: int = 1) -> None:
        """The next message of ``topic`` skips ``n`` sequence numbers.

        With ``sequence="connection"``: the next message each subscriber of
        ``topic`` gets skips ``n`` of its connection's numbers.
        """
        if self.sequence == "connection":
            for conn in self.active:
                if topic in conn.subscriptions:
                    conn.next_seq += n
            return
        self._next_seq[topic] = self._next_seq.get(topic, 1) + n

    def inject_duplicate(self, topic: str) -> None:
        """The next message of ``topic`` repeats the last sequence number."""
        self._next_seq[topic] = max(1, self._next_seq.get(topic, 1) - 1)

    def inject_regression(self, topic: str, n: int = 1) -> None:
        """The next message of ``topic`` goes back ``n`` below the last one, then counts on."""
        self._next_seq[topic] = self._next_seq.get(topic, 1) - 1 - n

    def set_next_seq(self, topic: str, seq: int) -> None:
        """The next message of ``topic`` carries ``seq`` (e.g. 0 for a reset)."""
        self._next_seq[topic] = seq

    def generate(
        self,
        topic: str,
        *,
        interval: float = 0.01,
        count: int = 100,
        make_data: TopicData | None = None,
    ) -> GeneratorHandle:
        """Start a task pushing ``count`` messages of ``topic``, one every ``interval`` seconds.

        Returns a handle with ``stop()``, ``sent`` and ``wait_done()``.
        """
        handle = GeneratorHandle(topic, count)
        self._generators[topic] = handle
        self._running_nursery().start_soon(self._generate, handle, interval, make_data)
        return handle

    async def _generate(
        self, handle: GeneratorHandle, interval: float, make_data: TopicData | None
    ) -> None:
        try:
            with handle._scope:
                for _ in range(handle.count):
                    await trio.sleep(interval)
                    seq = self._next_seq.get(handle.topic, 1)
                    data = make_data(handle.topic, seq) if make_data is not None else None
                    await self.push(handle.topic, data)
                    handle.sent += 1
        finally:
            handle.done.set()
            if self._generators.get(handle.topic) is handle:
                del self._generators[handle.topic]

    def _on_subscribed(self, topics: Sequence[str]) -> None:
        if self.auto_generate is None:
            return
        for topic in topics:
            if topic not in self._generators:
                self.generate(topic, interval=self.auto_generate, count=self.generate_count)

    def _on_closed(self, conn: ServerConnection) -> None:
        self._notifier.notify()

    # -- serving one stream ------------------------------------------------------------

    async def _handle_tcp(self, stream: trio.SocketStream) -> None:
        served: trio.abc.Stream = stream
        if self.ssl_context is not None:
            tls = trio.SSLStream(stream, self.ssl_context, server_side=True)
            ok = False
            with trio.move_on_after(self.handshake_timeout):
                try:
                    await tls.do_handshake()
                    ok = True
                except trio.BrokenResourceError:
                    ok = False
            if not ok:
                self.tls_failures += 1
                self.attempts += 1
                self._notifier.notify()
                await close_now(stream)
                return
            served = tls
        await self._serve_stream(served, None)

    async def _serve_stream(
        self, stream: trio.abc.Stream, peer: _MemoryClientStream | None
    ) -> None:
        self.attempts += 1
        self._notifier.notify()
        try:
            fault = self._take_fault()
            if isinstance(fault, NeverRead):
                await _hold(None, fault.hold)
                return
            raw = await self._read_request(stream)
            if raw is None:
                return
            head = raw[: raw.index(b"\r\n\r\n") + 4]
            request = HandshakeRequest.parse(head)
            self.requests.append(request)
            self._notifier.notify()
            ws: _FrameProtocol | None
            if fault is None:
                ws = await self._accept(stream, raw)
            else:
                ws = await self._spoil(stream, fault, request, raw[len(head) :])
            if ws is None:
                return
            self._accepted += 1
            conn = ServerConnection(self, stream, ws, request, self._accepted, peer)
            # The connection registers itself (_register) once the behaviour's
            # on_connect hook has run.
            await conn._run()
        finally:
            await close_now(stream)  # noqa: ASYNC102 - close_now shields itself

    def _register(self, conn: ServerConnection) -> None:
        """Make an accepted connection visible: counted, listed, subscribed to its URL's topics."""
        self.connected_count += 1
        self.connections.append(conn)
        topics = list(self.behaviour.initial_topics(conn.request))
        if topics:
            conn.add_subscriptions(topics)
        self._notifier.notify()

    async def _read_request(self, stream: trio.abc.Stream) -> bytes | None:
        buf = b""
        with trio.move_on_after(self.handshake_timeout):
            # Bounded by the 64 KiB limit, EOF and the handshake timeout.
            while b"\r\n\r\n" not in buf:
                if len(buf) > _MAX_REQUEST_HEAD:
                    await self._write_quietly(stream, Reject(431).response())
                    return None
                try:
                    data = await stream.receive_some(_READ_SIZE)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return None
                if not data:
                    return None
                buf += data
            return buf
        return None

    async def _accept(self, stream: trio.abc.Stream, raw: bytes) -> _FrameProtocol | None:
        ws = wsproto.WSConnection(ConnectionType.SERVER)
        try:
            ws.receive_data(raw)
            request = next((e for e in ws.events() if isinstance(e, wse.Request)), None)
        except RemoteProtocolError as exc:
            await self._write_quietly(stream, Reject(400, body=str(exc).encode()).response())
            return None
        if request is None:
            await self._write_quietly(stream, Reject(400).response())
            return None
        chosen = next((p for p in request.subprotocols if p in self.subprotocols), None)
        if not await self._write_quietly(stream, ws.send(wse.AcceptConnection(chosen))):
            return None
        return ws

    async def _spoil(
        self, stream: trio.abc.Stream, fault: HandshakeFault, request: HandshakeRequest, rest: bytes
    ) -> _FrameProtocol | None:
        """Apply a handshake fault; return a frame protocol if the connection goes on."""
        key = accept_key(request.key)
        if isinstance(fault, Reject):
            await self._write_quietly(stream, fault.response())
            await _send_eof_and_drain(stream, self.linger)
            return None
        if isinstance(fault, RawResponse):
            await self._write_quietly(stream, fault.data)
            if fault.hold:
                await _hold(stream, None)
            else:
                await _send_eof_and_drain(stream, self.linger)
            return None
        if isinstance(fault, NoUpgrade):
            await self._write_quietly(stream, _switching(key, upgrade=False))
            await _hold(stream, None)
            return None
        if isinstance(fault, WrongAccept):
            wrong = accept_key(request.key + "wrong")
            await self._write_quietly(stream, _switching(wrong))
            await _hold(stream, None)
            return None
        if isinstance(fault, AcceptWith):
            if not await self._write_quietly(stream, _switching(key, fault.headers)):
                return None
            return Connection(ConnectionType.SERVER, trailing_data=rest)
        if isinstance(fault, Trickle):
            response = _switching(key)
            limit = (
                len(response) if fault.stop_after is None else min(fault.stop_after, len(response))
            )
            for start in range(0, limit, max(1, fault.chunk)):
                end = min(start + max(1, fault.chunk), limit)
                if not await self._write_quietly(stream, response[start:end]):
                    return None
                await trio.sleep(fault.interval)
            if fault.stop_after is not None:
                await _hold(stream, None)
                return None
            return Connection(ConnectionType.SERVER, trailing_data=rest)
        if isinstance(fault, Silent):
            await _hold(stream, None)
            return None
        raise TypeError(f"unknown handshake fault {fault!r}")

    @staticmethod
    async def _write_quietly(stream: trio.abc.Stream, data: bytes) -> bool:
        try:
            await stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        return True


def _switching(
    accept: str, extra: Sequence[tuple[str, str]] = (), *, upgrade: bool = True
) -> bytes:
    lines = ["HTTP/1.1 101 Switching Protocols"]
    if upgrade:
        lines.append("Upgrade: websocket")
    lines += ["Connection: Upgrade", f"Sec-WebSocket-Accept: {accept}"]
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _hold(stream: trio.abc.Stream | None, limit: float | None) -> None:
    """Keep a connection open without answering: read and discard until EOF (or ``limit``)."""
    with trio.move_on_after(limit if limit is not None else float("inf")):
        if stream is None:
            await trio.sleep_forever()
        try:
            # Ends at the client's EOF, a broken stream, or the time limit.
            while await stream.receive_some(_READ_SIZE):
                continue
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return


async def _send_eof_and_drain(stream: trio.abc.Stream, linger: float) -> None:
    """FIN, then read until the client's FIN so that closing does not send a RST."""
    transport = _innermost(stream)
    if not isinstance(transport, trio.abc.HalfCloseableStream):
        return
    try:
        await transport.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return
    await _hold(transport, linger)
