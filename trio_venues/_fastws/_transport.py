"""The Trio shell of the fast transport: moves bytes between a stream and the codec.

:class:`FastTransport` implements :class:`trio_venues._transport.Transport`.
All protocol logic lives in the sans-I/O :mod:`._frames` and
:mod:`._handshake`; this module owns the stream, two locks and the close
sequence.

**Receiving.** One ``receive_some(64 KiB)`` per :meth:`~FastTransport.receive_batch`,
decoded in one synchronous call into every message it completes: no task
switch, channel or object per message inside the transport. Pings are
returned, not answered (the session answers them through its rate limiter).

**Closing, the rules.** When the decoder reports a violation, we send our
close frame (1002/1007/1009) at once, then ``receive_batch`` raises
``TransportClosed(ProtocolError)``; when the server's close frame arrives we
echo its code (1000 when it had none) and raise
``TransportClosed(RemoteClosed)``. These sends are bounded by
``close_timeout``, after which the stream is closed forcefully: a peer that
stops reading cannot hang the reader (the hang trio-websocket and
websockets.trio show, ``docs/reliability.md``, "Close watchdog"). :meth:`~FastTransport.aclose`
then waits for the server's close frame and its TCP close; the session bounds
that and calls :meth:`~FastTransport.abort`.

**Locks.** Writers (the session's writer and heartbeat tasks, and the reader
when it sends a close frame) are serialised by a ``trio.StrictFIFOLock`` so
frames never interleave. Reading is guarded by a ``trio.Lock`` so that
:meth:`~FastTransport.aclose` can wait for a reader that is still running
before it reads the rest of the closing handshake itself.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final, NoReturn

import trio

from .. import _errmap
from .._transport_types import Ping, Pong, TransportClosed, TransportItem
from ..reasons import DisconnectReason, NetworkError, ProtocolError, RemoteClosed, UserInitiated
from ._deflate import Inflater
from ._frames import CloseReceived, FrameDecoder, FrameEncoder
from ._handshake import ClientHandshake, HandshakeAccepted, parse_ws_url

if TYPE_CHECKING:
    from .._config import ConnectionConfig

__all__ = [
    "MAX_RECEIVE_SIZE",
    "RECEIVE_SIZE",
    "FastTransport",
    "open_fast_transport",
    "open_fast_transport_over_stream",
]

#: Bytes asked of the stream per read while data arrives in small bursts.
#: ``recv(n)`` allocates ``n`` bytes up front; at 64 KiB that stays on the heap,
#: while a 256 KiB request costs ~20 us more per read here (an mmap/munmap
#: pair), which a latency-bound feed of one message per read would pay every time.
RECEIVE_SIZE: Final = 64 * 1024
#: Bytes asked per read while reads come back full (a backlog): fewer, larger
#: reads were up to 1.3x faster on a saturated loopback trade feed (in some
#: runs; the machine is noisy, see docs/performance.md).
MAX_RECEIVE_SIZE: Final = 256 * 1024

# How long we keep reading the body of a rejected upgrade before reporting it:
# the status is what matters, the body is a courtesy.
_REJECTION_BODY_GRACE: Final = 1.0

_EOF_DETAILS: Final = "the server closed the TCP connection: EOF without a close frame"


class FastTransport:
    """One open WebSocket connection over a Trio stream (the default transport).

    Built by :func:`open_fast_transport` or :func:`open_fast_transport_over_stream`.
    It owns the stream. Single reader: one task calls :meth:`receive_batch`;
    any number of tasks may send.

    Attributes:
        response_headers: the server's 101 headers as (lower-case name, value).
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        accepted: HandshakeAccepted,
        config: ConnectionConfig,
        *,
        receive_size: int = RECEIVE_SIZE,
        max_receive_size: int = MAX_RECEIVE_SIZE,
    ) -> None:
        self._stream = stream
        self._subprotocol = accepted.subprotocol
        self._extensions = accepted.extensions
        self.response_headers = accepted.headers
        # Adaptive read size: ``_min_read`` normally, ``_max_read`` while reads
        # come back at least ``_min_read`` long (see MAX_RECEIVE_SIZE).
        self._min_read = receive_size
        self._max_read = max(receive_size, max_receive_size)
        self._receive_size = receive_size
        self._close_timeout = config.close_timeout
        inflater = Inflater(accepted.deflate) if accepted.deflate is not None else None
        self._decoder: FrameDecoder[Ping | Pong] = FrameDecoder(
            ping=Ping,
            pong=Pong,
            max_message_size=config.max_message_size,
            max_fragments=config.max_fragments,
            inflater=inflater,
        )
        self._encoder = FrameEncoder()
        self._send_lock = trio.StrictFIFOLock()
        self._recv_lock = trio.Lock()
        # Why the connection ended, as the reader reports it; set once.
        self._reason: DisconnectReason | None = None
        # Set when sending became impossible (a broken stream, a send
        # cancelled part-way through a frame, or abort()).
        self._send_failure: DisconnectReason | None = None
        # A close frame was sent (or attempted): no data frame may follow it.
        self._close_sent = False
        # Some close started (ours, the peer's, a violation, abort): sends now fail.
        self._closing = False
        self._eof = False
        self._stream_closed = False
        # Items decoded but not yet returned: frames that came in the same read
        # as the 101, or a batch whose close-frame send was cancelled.
        self._ready: list[TransportItem] = []
        #: Reads that completed no item: part of a message arrived (the session's
        #: heartbeat counts that as a sign of life while a large frame trickles in).
        self.partial_reads = 0
        leftover = accepted.leftover
        if leftover:
            self._ready = self._decoder.receive_data(leftover)

    @property
    def subprotocol(self) -> str | None:
        """The negotiated subprotocol, or ``None``."""
        return self._subprotocol

    @property
    def extensions(self) -> tuple[str, ...]:
        """The negotiated extensions by name: ``("permessage-deflate",)`` or ``()``."""
        return self._extensions

    # -- receiving -----------------------------------------------------------------

    async def receive_batch(self) -> list[TransportItem]:
        """Wait for the next read and return every item it completed, in order.

        Returns:
            One or more of ``str`` (text message), ``bytes`` (binary message),
            :class:`~trio_venues._transport.Ping`, :class:`~trio_venues._transport.Pong`.

        Raises:
            TransportClosed: the connection ended: ``RemoteClosed`` (the server's
                close frame, already echoed), ``ProtocolError`` (our close frame
                with 1002/1007/1009 was sent) or ``NetworkError`` (EOF without a
                close frame, reset, TLS failure, closed locally). Raised again by
                every later call.

        Cancellation: no data is lost; the next call continues where this one
        stopped.
        """
        if self._reason is None and self._decoder.outcome is not None:
            # The bytes that came with the 101 already ended the connection.
            frame = self._record_outcome()
            if frame is not None:
                await self._send_close_bounded(frame)
        if self._ready:
            await trio.lowlevel.checkpoint()
            items, self._ready = self._ready, []
            return items
        if self._decoder.backlog and self._reason is None:
            # The previous read stopped decoding at its inflation budget
            # (FrameDecoder.receive_data): finish it before reading more.
            await trio.lowlevel.checkpoint()
            items = self._decoder.receive_data(b"")
            if self._decoder.outcome is not None:
                self._ready = items
                frame = self._record_outcome()
                if frame is not None:
                    await self._send_close_bounded(frame)
                items, self._ready = self._ready, []
            if items:
                return items
        lock = self._recv_lock
        try:
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        try:
            decoder = self._decoder
            while True:
                if self._reason is not None:
                    raise TransportClosed(self._reason)
                try:
                    data = await self._stream.receive_some(self._receive_size)
                except _errmap.STREAM_ERRORS as exc:
                    self._set_reason(_errmap.network_error(exc))
                    self._closing = True
                    raise TransportClosed(self._reason_now()) from exc
                if not data:
                    self._eof = True
                    self._closing = True
                    self._set_reason(NetworkError(_EOF_DETAILS))
                    continue
                self._receive_size = (
                    self._max_read if len(data) >= self._min_read else self._min_read
                )
                items = decoder.receive_data(data)
                if decoder.outcome is not None:
                    # Keep the items safe across the close-frame send (a checkpoint).
                    self._ready = items
                    frame = self._record_outcome()
                    if frame is not None:
                        await self._send_close_bounded(frame)
                    items, self._ready = self._ready, []
                if items:
                    return items
                self.partial_reads += 1
        finally:
            lock.release()

    def _set_reason(self, reason: DisconnectReason) -> None:
        if self._reason is None:
            self._reason = reason

    def _reason_now(self) -> DisconnectReason:
        assert self._reason is not None
        return self._reason

    def _record_outcome(self) -> bytes | None:
        """Record why the decoder stopped; return our close frame when one is still due."""
        outcome = self._decoder.outcome
        if isinstance(outcome, CloseReceived):
            self._set_reason(RemoteClosed(outcome.code, outcome.reason))
            # RFC 6455 5.5.1: echo the code; 1005 means "no code", answered with 1000.
            code, text = (1000 if outcome.code == 1005 else outcome.code), ""
        else:
            assert outcome is not None
            self._set_reason(ProtocolError(outcome.details, outcome.close_code))
            code, text = outcome.close_code, outcome.details
        self._closing = True
        if self._close_sent or self._send_failure is not None:
            return None
        self._close_sent = True
        return self._encoder.close(code, text)

    async def _send_close_bounded(self, frame: bytes) -> None:
        """Send our close frame at once, but give up after ``close_timeout`` and abort."""
        with trio.move_on_after(self._close_timeout) as scope:
            async with self._send_lock:
                with contextlib.suppress(TransportClosed):
                    await self._write_locked(frame)
        if scope.cancelled_caught:
            # The peer stopped reading: don't let it hold the reader hostage.
            await self.abort()

    # -- sending -------------------------------------------------------------------

    async def _send_frame(self, frame: bytes, *, closing: bool = False) -> None:
        """Send one whole frame under the writers' lock.

        Raises:
            TransportClosed: a close started (unless ``closing``), or the stream broke.
        """
        if self._closing and not closing:
            raise TransportClosed(self._closed_reason())
        async with self._send_lock:
            # Re-check: a close frame may have gone out while we waited.
            if self._closing and not closing:
                raise TransportClosed(self._closed_reason())
            await self._write_locked(frame)

    async def _write_locked(self, frame: bytes) -> None:
        """Write a frame; the caller holds the writers' lock.

        Raises:
            TransportClosed: sending is no longer possible.
        """
        if self._send_failure is not None:
            raise TransportClosed(self._closed_reason())
        try:
            await self._stream.send_all(frame)
        except _errmap.STREAM_ERRORS as exc:
            failure = _errmap.network_error(exc)
            self._send_failure = failure
            self._closing = True
            raise TransportClosed(self._reason or failure) from exc
        except BaseException:
            # Cancelled inside send_all: part of the frame may be on the wire,
            # and the stream can no longer be framed correctly.
            self._send_failure = NetworkError("a send was cancelled part-way through a frame")
            self._closing = True
            raise

    def _closed_reason(self) -> DisconnectReason:
        # The reader's reason when there is one; else why sending stopped; else
        # the close was started locally with aclose().
        return self._reason or self._send_failure or UserInitiated()

    async def send_text(self, data: str) -> None:
        """Send a text message (one frame, masked).

        Raises:
            TransportClosed: the connection is closing or closed.
            UnicodeEncodeError: ``data`` holds lone surrogates.
        """
        await self._send_frame(self._encoder.text(data))

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message (one frame, masked).

        Raises:
            TransportClosed: the connection is closing or closed.
        """
        await self._send_frame(self._encoder.binary(data))

    async def ping(self, payload: bytes) -> None:
        """Send a ping frame (its pong arrives as a :class:`Pong` item).

        Raises:
            TransportClosed: the connection is closing or closed.
            ValueError: ``payload`` is over 125 bytes.
        """
        await self._send_frame(self._encoder.ping(payload))

    async def pong(self, payload: bytes) -> None:
        """Send a pong frame.

        Raises:
            TransportClosed: the connection is closing or closed.
            ValueError: ``payload`` is over 125 bytes.
        """
        await self._send_frame(self._encoder.pong(payload))

    # -- closing -------------------------------------------------------------------

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Run the closing handshake, then close the stream.

        Sends our close frame (unless one went out already), waits for the
        server's close frame and then for its TCP close (RFC 6455 7.1.1: the
        server closes TCP first), discarding any messages still in flight.
        If a reader is inside :meth:`receive_batch`, this waits for it to
        return first. Not bounded: the caller bounds it (the session uses
        ``close_timeout``) and then calls :meth:`abort`.

        Args:
            code: our close code (1000-1003, 1007-1014, 3000-4999).
            reason: our close reason (cut to 123 UTF-8 bytes).

        Raises:
            ValueError: ``code`` may not be sent.
        """
        frame = self._encoder.close(code, reason)
        if self._stream_closed:
            await trio.lowlevel.checkpoint()
            return
        self._closing = True
        if not self._close_sent and self._send_failure is None:
            self._close_sent = True
            with contextlib.suppress(TransportClosed):
                await self._send_frame(frame, closing=True)
        if self._send_failure is not None:
            # Our close frame could not go out (or only in part): nothing to wait for.
            await self.abort()
            return
        async with self._recv_lock:
            # Read (and discard) until the peer closes TCP or the stream breaks.
            while not self._eof and not self._stream_closed:
                try:
                    data = await self._stream.receive_some(self._receive_size)
                except _errmap.STREAM_ERRORS as exc:
                    self._set_reason(_errmap.network_error(exc))
                    break
                if not data:
                    self._eof = True
                elif self._decoder.outcome is None:
                    # Messages in flight after our close are dropped; the decoder
                    # still runs so the server's close frame is recognised.
                    self._decoder.receive_data(data)
            # Fixed before the stream is closed, so a reader after us reports
            # the peer's close rather than "closed locally".
            outcome = self._decoder.outcome
            if isinstance(outcome, CloseReceived):
                self._set_reason(RemoteClosed(outcome.code, outcome.reason))
            elif outcome is not None:
                self._set_reason(ProtocolError(outcome.details, outcome.close_code))
            else:
                self._set_reason(NetworkError(_EOF_DETAILS))
            if not self._stream_closed:
                self._stream_closed = True
                # Closing a broken stream: there is nothing more to report.
                with contextlib.suppress(*_errmap.STREAM_ERRORS):
                    await self._stream.aclose()

    async def abort(self) -> None:
        """Close the stream at once, without a closing handshake.

        A reader or writer blocked on the stream wakes with ``TransportClosed``.
        """
        self._closing = True
        self._set_reason(
            NetworkError("the connection was closed locally without a close handshake")
        )
        if self._send_failure is None:
            self._send_failure = self._reason
        if self._stream_closed:
            await trio.lowlevel.checkpoint()
        else:
            self._stream_closed = True
            await trio.aclose_forcefully(self._stream)


async def _read_rejection_body(stream: trio.abc.Stream, handshake: ClientHandshake) -> NoReturn:
    """Feed the body of a rejection until it is complete or the stream ends; both raise."""
    while True:
        data = await stream.receive_some(RECEIVE_SIZE)
        if not data:
            handshake.receive_eof()
        handshake.receive_data(data)


async def _run_handshake(stream: trio.abc.Stream, handshake: ClientHandshake) -> HandshakeAccepted:
    await stream.send_all(handshake.request())
    while True:
        pending = handshake.pending_rejection
        if pending is not None:
            # A rejection's head arrived; give its body a moment, then report it.
            with (
                trio.move_on_after(_REJECTION_BODY_GRACE),
                # A broken stream ends the body as EOF does.
                contextlib.suppress(*_errmap.STREAM_ERRORS),
            ):
                await _read_rejection_body(stream, handshake)
            raise handshake.pending_rejection or pending
        data = await stream.receive_some(RECEIVE_SIZE)
        if not data:
            handshake.receive_eof()
        accepted = handshake.receive_data(data)
        if accepted is not None:
            return accepted


async def open_fast_transport_over_stream(
    stream: trio.abc.Stream, url: str, config: ConnectionConfig
) -> FastTransport:
    """Run the opening handshake over an already open stream.

    Used with :func:`~trio_venues._errmap.open_stream`'s streams, in-memory
    test streams, and the fake venues. The transport owns the stream from
    here on: on any failure (or cancellation) the stream is closed.

    Not bounded in time: the session wraps opening in ``connect_timeout``.

    Raises:
        HandshakeRejected: any status but 101, or an invalid 101.
        ConnectFailed: the connection broke or the answer was not HTTP.
        TLSFailed: TLS broke during the handshake.
        ConfigError: an invalid URL or header.
    """
    try:
        handshake = ClientHandshake(
            parse_ws_url(url),
            headers=config.headers,
            subprotocols=config.subprotocols,
            compression=config.compression,
            url_text=url,
        )
        with _errmap.map_connect_errors(url):
            accepted = await _run_handshake(stream, handshake)
        return FastTransport(stream, accepted, config)
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise


async def open_fast_transport(
    nursery: trio.Nursery, url: str, config: ConnectionConfig
) -> FastTransport:
    """Open TCP (+TLS) with :func:`~trio_venues._errmap.open_stream`, then the handshake.

    A :data:`~trio_venues._transport.TransportFactory`; ``nursery`` is unused
    (this transport starts no tasks).

    Raises:
        ConnectFailed: one of its subclasses (see ``open_stream`` and
            :func:`open_fast_transport_over_stream`).
        ConfigError: an invalid URL or header.
    """
    stream = await _errmap.open_stream(url, config)
    return await open_fast_transport_over_stream(stream, url, config)
