"""A sans-I/O RFC 6455 codec for the client side: bytes in, messages out.

No trio, no sockets: :class:`FrameDecoder` takes the bytes the server sent and
returns the complete messages they finish, in order; :class:`FrameEncoder`
builds the (masked) frames we send. The Trio shell in ``_transport.py`` only
moves bytes.

**Why it is built like this.** The reader is the hot path: a Binance trade
stream is ~200-byte text frames, hundreds of them per 64 KiB read, and
wsproto's per-frame objects cap a Python client at ~150k msgs/s
(``docs/performance.md``). So :meth:`FrameDecoder.receive_data` parses every
complete frame in one read in a single loop over the read's own ``bytes``, and
the common case (a whole unfragmented text or binary frame with no RSV bits)
costs two byte lookups, a slice and a decode: no frame object, no copy into a
buffer. Everything else (fragments, compression, control frames, a frame cut
by the read boundary) takes the general path.

A frame cut by the end of a read is never buffered whole: its payload is
consumed as it arrives (inflated and UTF-8-checked incrementally), so only a
partial header or a partial control frame (< 140 bytes) is carried over to
the next read, a huge frame costs no quadratic re-copying, and invalid UTF-8
fails the connection as soon as the bad byte arrives, even in the middle of a
frame.

**Faults on the wire are outcomes, not exceptions** (as in h11/wsproto): the
decoder never raises for anything the server sent. It stops at the first
violation and sets :attr:`FrameDecoder.outcome` to a :class:`ProtocolFailure`
carrying the close code we must send (1002 framing, 1007 invalid data, 1009
too big), or, on the server's close frame, to :class:`CloseReceived`. The
messages completed before that point are still returned; bytes after it are
ignored. Local misuse (an oversized ping payload, an invalid close code) raises
``ValueError`` from the encoder.

Wire format (RFC 6455 section 5.2)::

     0                   1                   2                   3
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |     Masking-key (0 or 4 bytes, client to server only)         |
    +---------------------------------------------------------------+
"""

from __future__ import annotations

import codecs
import os
import struct
from collections.abc import Callable
from typing import Final, Generic, TypeAlias, TypeVar

import attrs

from ._deflate import DeflateFailure, Inflater

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "CloseReceived",
    "FrameDecoder",
    "FrameEncoder",
    "Outcome",
    "ProtocolFailure",
    "is_valid_close_code",
    "mask",
]

# RFC 6455 5.2 opcodes; 0x3-0x7 and 0xB-0xF are reserved.
OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

# RFC 6455 5.5: control frames carry at most 125 payload bytes, so a close
# reason is at most 123 bytes after the 2-byte code.
_MAX_CONTROL_PAYLOAD: Final = 125
_MAX_CLOSE_REASON: Final = 123

# First header byte of an unfragmented, uncompressed text/binary frame:
# FIN set, RSV1-3 clear. These two take the fast path.
_FIN_TEXT: Final = 0x80 | OP_TEXT
_FIN_BINARY: Final = 0x80 | OP_BINARY
_RSV_BITS: Final = 0x70
_RSV1: Final = 0x40

# Internal results of the general path besides "the next offset".
_STOP: Final = -1  # the outcome is set: stop parsing
_MORE: Final = -2  # an incomplete control frame: wait for more bytes

_C = TypeVar("_C")

#: Decompressed bytes one :meth:`FrameDecoder.receive_data` call produces
#: before it stops at the next message boundary and keeps the rest of the read
#: for the next call (:attr:`FrameDecoder.backlog`). A 256 KiB read of small
#: compressed frames can inflate to hundreds of megabytes; decoding it in
#: steps lets the session charge each step against its byte budget (and stop
#: reading) before the next one is inflated.
INFLATE_PER_CALL: Final = 1024 * 1024


@attrs.frozen
class CloseReceived:
    """The server's close frame arrived.

    Attributes:
        code: the close code, or 1005 when the frame carried none.
        reason: the close reason (valid UTF-8, at most 123 bytes).
    """

    code: int
    reason: str = ""


@attrs.frozen
class ProtocolFailure:
    """The server broke the protocol; we must send ``close_code`` and close.

    Attributes:
        close_code: 1002 (framing), 1007 (invalid UTF-8 or compressed data) or
            1009 (over ``max_message_size`` or ``max_fragments``).
        details: what was wrong, for humans and logs.
    """

    close_code: int
    details: str


Outcome: TypeAlias = CloseReceived | ProtocolFailure


def is_valid_close_code(code: int) -> bool:
    """Return whether ``code`` may appear in a close frame on the wire.

    RFC 6455 7.4.1/7.4.2 and the IANA registry: 1000-1003 and 1007-1014 are
    defined for the wire (1014 "bad gateway" included: wsproto wrongly refuses
    it), 3000-4999 are for libraries and applications. 1004 is reserved,
    1005/1006/1015 are for reporting only and must never be sent, and
    1016-2999, < 1000 and >= 5000 are not assigned.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``key`` repeated (RFC 6455 5.3).

    Done as one big-integer XOR over the whole payload: a per-byte Python
    loop would cost ~50 ns a byte. Masking is its own inverse.
    """
    n = len(payload)
    if not n:
        return b""
    keystream = (key * ((n >> 2) + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keystream, "little")).to_bytes(
        n, "little"
    )


class FrameEncoder:
    """Builds the frames a client sends: always masked (RFC 6455 5.3), never compressed.

    Args:
        mask_key: returns ``n`` random bytes; ``os.urandom`` unless a test
            needs fixed keys. RFC 6455 10.3 asks for an unpredictable key per frame.
    """

    def __init__(self, mask_key: Callable[[int], bytes] = os.urandom) -> None:
        self._mask_key = mask_key

    def frame(self, opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
        """Return one masked frame carrying ``payload`` unmodified."""
        n = len(payload)
        first = (0x80 if fin else 0) | opcode
        if n < 126:
            header = bytes((first, 0x80 | n))
        elif n < 0x10000:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        key = self._mask_key(4)
        return b"".join((header, key, mask(payload, key)))

    def text(self, data: str) -> bytes:
        """Return a text frame (``UnicodeEncodeError`` for lone surrogates)."""
        return self.frame(OP_TEXT, data.encode("utf-8"))

    def binary(self, data: bytes) -> bytes:
        """Return a binary frame."""
        return self.frame(OP_BINARY, bytes(data))

    def ping(self, payload: bytes) -> bytes:
        """Return a ping frame; ``ValueError`` over 125 bytes."""
        return self.frame(OP_PING, _control_payload("ping", payload))

    def pong(self, payload: bytes) -> bytes:
        """Return a pong frame; ``ValueError`` over 125 bytes."""
        return self.frame(OP_PONG, _control_payload("pong", payload))

    def close(self, code: int, reason: str = "") -> bytes:
        """Return a close frame.

        The reason is cut at a UTF-8 character boundary to fit 123 bytes.

        Raises:
            ValueError: ``code`` may not be sent (see :func:`is_valid_close_code`).
        """
        if not is_valid_close_code(code):
            raise ValueError(f"close code {code} may not be sent on the wire")
        raw = reason.encode("utf-8")
        if len(raw) > _MAX_CLOSE_REASON:
            raw = raw[:_MAX_CLOSE_REASON].decode("utf-8", "ignore").encode("utf-8")
        return self.frame(OP_CLOSE, code.to_bytes(2, "big") + raw)


def _control_payload(kind: str, payload: bytes) -> bytes:
    if len(payload) > _MAX_CONTROL_PAYLOAD:
        raise ValueError(f"a {kind} payload is at most 125 bytes, got {len(payload)}")
    return bytes(payload)


class FrameDecoder(Generic[_C]):
    """Parses what the server sends into messages (``str``/``bytes``) and control items.

    Args:
        ping: builds the item for a ping frame from its payload.
        pong: builds the item for a pong frame from its payload.
        max_message_size: the largest message accepted, in bytes (after
            inflation for compressed messages); checked on each frame's declared
            length before any of its payload is kept. Over it: 1009.
        max_fragments: the most frames one message may take. Over it: 1009.
        inflater: the permessage-deflate state when the extension was
            negotiated; without it an RSV1 bit is a protocol error.

    The control items are built by the caller's factories so this module
    needs nothing from the Trio side (the shell passes
    :class:`~trio_venues._transport.Ping`/``Pong``).
    """

    def __init__(
        self,
        *,
        ping: Callable[[bytes], _C],
        pong: Callable[[bytes], _C],
        max_message_size: int,
        max_fragments: int,
        inflater: Inflater | None = None,
    ) -> None:
        self._ping = ping
        self._pong = pong
        self._max_size = max_message_size
        self._max_fragments = max_fragments
        self._inflater = inflater
        # Compressed frames may be slightly larger than what they inflate to
        # (stored blocks add 5 bytes per 64 KiB); their memory is bounded by
        # the inflated-size cap, so the wire cap is only a sanity bound.
        self._max_wire_compressed = max_message_size + max_message_size // 1024 + 1024
        self._outcome: Outcome | None = None
        # Bytes carried over to the next read: a partial header or control frame.
        self._tail = b""
        # Payload bytes still to come of a data frame cut by a read boundary,
        # and whether that frame has FIN set.
        self._remaining = 0
        self._frame_fin = False
        # The message being assembled across frames or reads (0: none).
        self._msg_opcode = 0
        self._msg_compressed = False
        self._msg_frames = 0
        self._msg_wire = 0  # payload bytes declared on the wire so far
        self._msg_size = 0  # decompressed bytes so far (compressed messages)
        self._parts: list[str] | list[bytes] = []
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        # Decompressed bytes produced by the current receive_data call.
        self._inflated = 0

    @property
    def outcome(self) -> Outcome | None:
        """``None`` while open; then the close frame or the violation that ended it."""
        return self._outcome

    @property
    def backlog(self) -> bool:
        """Whether bytes of an earlier read wait to be decoded (``receive_data(b"")`` does it).

        True after a call stopped at :data:`INFLATE_PER_CALL`; also while a
        partial header waits for more bytes (then the call returns nothing).
        """
        return len(self._tail) >= 2 and self._outcome is None

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[str | bytes | _C]:
        """Feed bytes from the server; return every item they complete, in order.

        Text messages come out as ``str``, binary ones as ``bytes``, pings and
        pongs as the factories' items. Once :attr:`outcome` is set the result
        holds what came before it and later calls return ``[]``.
        """
        out: list[str | bytes | _C] = []
        if self._outcome is not None:
            return out
        self._inflated = 0
        if self._tail:
            data = self._tail + data
            self._tail = b""
        elif type(data) is not bytes:
            # Sockets give bytes; memory streams give bytearrays, whose slices
            # would be bytearrays too. Binary messages must come out as bytes.
            data = bytes(data)
        n = len(data)
        pos = 0
        if self._remaining:
            # Continue the payload of a frame cut by the previous read.
            take = self._remaining if self._remaining < n else n
            self._remaining -= take
            final = not self._remaining and self._frame_fin
            if not self._consume(out, data[:take] if take < n else data, final):
                return out
            pos = take
        max_size = self._max_size
        while n - pos >= 2:
            b0 = data[pos]
            b1 = data[pos + 1]
            # b1 is MASK(1) + length(7): a server must not mask (RFC 6455 5.1),
            # so b1 >= 128 is a violation and the length tests need no masking.
            if b1 < 126:
                length = b1
                start = pos + 2
            elif b1 == 126:
                if n - pos < 4:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
            elif b1 == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                if length >> 63:
                    self._fail(1002, "the most significant bit of a 64-bit frame length is set")
                    return out
                start = pos + 10
            else:
                self._fail(1002, "the server sent a masked frame")
                return out
            end = start + length
            if end <= n and not self._msg_opcode:
                # Fast path: a whole, unfragmented, uncompressed message.
                if b0 == _FIN_TEXT:
                    if length > max_size:
                        self._fail(1009, f"a {length}-byte message exceeds {max_size} bytes")
                        return out
                    try:
                        out.append(data[start:end].decode("utf-8"))
                    except UnicodeDecodeError as exc:
                        self._fail(1007, f"invalid UTF-8 in a text message: {exc.reason}")
                        return out
                    pos = end
                    continue
                if b0 == _FIN_BINARY:
                    if length > max_size:
                        self._fail(1009, f"a {length}-byte message exceeds {max_size} bytes")
                        return out
                    out.append(data[start:end])
                    pos = end
                    continue
            after = self._general(out, data, b0, start, length)
            if after == _STOP:
                return out
            if after == _MORE:
                break
            pos = after
            if self._inflated >= INFLATE_PER_CALL and not self._msg_opcode:
                # Enough decompressed for one call: the rest waits (backlog).
                break
        if pos < n:
            self._tail = data[pos:]
        return out

    # -- the general path ---------------------------------------------------------

    def _general(
        self, out: list[str | bytes | _C], data: bytes, b0: int, start: int, length: int
    ) -> int:
        """Handle one frame whose header starts the unparsed data; return the next offset."""
        n = len(data)
        end = start + length
        opcode = b0 & 0x0F
        fin = bool(b0 & 0x80)
        rsv = b0 & _RSV_BITS
        if opcode & 0x08:
            # Control frames (RFC 6455 5.5): whole, short, never compressed.
            if opcode > OP_PONG:
                return self._fail(1002, f"reserved control opcode {opcode:#x}")
            if not fin:
                return self._fail(1002, "a control frame is fragmented")
            if rsv:
                return self._fail(1002, "RSV bits set on a control frame")
            if length > _MAX_CONTROL_PAYLOAD:
                return self._fail(1002, f"a control frame carries {length} bytes (at most 125)")
            if end > n:
                return _MORE
            payload = data[start:end]
            if opcode == OP_PING:
                out.append(self._ping(payload))
            elif opcode == OP_PONG:
                out.append(self._pong(payload))
            else:
                self._close_frame(payload)
                return _STOP
            return end
        if opcode > OP_BINARY:
            return self._fail(1002, f"reserved data opcode {opcode:#x}")
        if opcode == OP_CONTINUATION:
            if not self._msg_opcode:
                return self._fail(1002, "a continuation frame arrived with no message to continue")
            if rsv:
                return self._fail(1002, "RSV bits set on a continuation frame")
        else:
            if self._msg_opcode:
                return self._fail(1002, "a new message started before the fragmented one ended")
            compressed = False
            if rsv:
                if rsv != _RSV1 or self._inflater is None:
                    return self._fail(1002, f"RSV bits {rsv >> 4:#05b} set without an extension")
                compressed = True
            self._start_message(opcode, compressed)
        self._msg_frames += 1
        if self._msg_frames > self._max_fragments:
            return self._fail(1009, f"a message spans more than {self._max_fragments} frames")
        self._msg_wire += length
        limit = self._max_wire_compressed if self._msg_compressed else self._max_size
        if self._msg_wire > limit:
            return self._fail(1009, f"a {self._msg_wire}-byte message exceeds {self._max_size}")
        if end <= n:
            return end if self._consume(out, data[start:end], fin) else _STOP
        # Cut by the end of this read: take what is here, expect the rest.
        self._remaining = end - n
        self._frame_fin = fin
        return n if self._consume(out, data[start:], False) else _STOP

    def _start_message(self, opcode: int, compressed: bool) -> None:
        self._msg_opcode = opcode
        self._msg_compressed = compressed
        self._msg_frames = 0
        self._msg_wire = 0
        self._msg_size = 0
        self._parts = []
        if opcode == OP_TEXT:
            self._utf8.reset()

    def _consume(self, out: list[str | bytes | _C], chunk: bytes, final: bool) -> bool:
        """Add payload bytes to the current message; emit it when ``final``.

        Returns ``False`` when the message failed (the outcome is set).
        """
        if self._msg_compressed:
            assert self._inflater is not None
            try:
                chunk = self._inflater.decompress(chunk, self._max_size - self._msg_size, final)
            except DeflateFailure as exc:
                self._fail(exc.close_code, exc.details)
                return False
            self._msg_size += len(chunk)
            self._inflated += len(chunk)
        if self._msg_opcode == OP_TEXT:
            try:
                text = self._utf8.decode(chunk, final)
            except UnicodeDecodeError as exc:
                self._fail(1007, f"invalid UTF-8 in a text message: {exc.reason}")
                return False
            parts: list[str] = self._parts  # type: ignore[assignment]
            if final:
                if parts:
                    parts.append(text)
                    text = "".join(parts)
                out.append(text)
            elif text:
                parts.append(text)
        else:
            chunks: list[bytes] = self._parts  # type: ignore[assignment]
            if final:
                if chunks:
                    chunks.append(chunk)
                    chunk = b"".join(chunks)
                out.append(chunk)
            elif chunk:
                chunks.append(chunk)
        if final:
            self._msg_opcode = 0
            self._parts = []
        return True

    def _close_frame(self, payload: bytes) -> None:
        """Validate a close frame's payload (RFC 6455 5.5.1, 7.4) and record it."""
        if not payload:
            self._outcome = CloseReceived(1005, "")
            return
        if len(payload) == 1:
            self._fail(1002, "a close frame with a 1-byte payload")
            return
        code = (payload[0] << 8) | payload[1]
        if not is_valid_close_code(code):
            self._fail(1002, f"invalid close code {code}")
            return
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            self._fail(1007, "invalid UTF-8 in a close reason")
            return
        self._outcome = CloseReceived(code, reason)

    def _fail(self, close_code: int, details: str) -> int:
        self._outcome = ProtocolFailure(close_code, details)
        self._parts = []
        self._tail = b""
        self._remaining = 0
        return _STOP
