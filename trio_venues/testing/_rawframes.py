"""Raw WebSocket frames: an encoder that builds any frame (valid or not) and a lax decoder.

wsproto refuses to emit invalid frames, yet a client must be tested against
them: RSV bits without an extension, reserved opcodes, fragmented or oversized
control frames, invalid UTF-8, illegal close codes, lying length fields. This
module writes the bytes of RFC 6455 section 5.2 directly::

     0                   1                   2                   3
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |     Masking-key (0 or 4 bytes, client to server only)         |
    +---------------------------------------------------------------+

The decoder (:class:`FrameDecoder`) parses frames without validating them,
so tests can assert exactly what a peer put on the wire. :class:`RawClient`
is a test-side client: wsproto builds and checks the opening handshake, then
the raw codec reads and writes frames.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Literal

import attrs
import trio
import wsproto
import wsproto.events as wse
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Frame",
    "FrameDecoder",
    "HandshakeResponse",
    "RawClient",
    "close_payload",
    "encode_frame",
]

# RFC 6455 5.2 opcodes; 0x3-0x7 and 0xB-0xF are reserved.
OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

#: A frame whose header announces more than this is refused by the decoder
#: (it would otherwise buffer without bound).
DEFAULT_MAX_FRAME = 16 * 1024 * 1024


def encode_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask: bytes | None = None,
    length: int | None = None,
    length_bits: Literal[7, 16, 64] | None = None,
) -> bytes:
    """Build one frame, exactly as asked, valid or not.

    Args:
        opcode: 0 to 15, reserved values included.
        payload: the payload (unmasked); it is masked here when ``mask`` is given.
        fin: the FIN bit (``False`` makes a fragment; on a control frame, a protocol error).
        rsv1: the RSV1 bit (only legal with a negotiated extension).
        rsv2: the RSV2 bit.
        rsv3: the RSV3 bit.
        mask: a 4-byte masking key; clients must mask, servers must not.
        length: the declared payload length, when it should lie about ``payload``.
        length_bits: force the 7-, 16- or 64-bit length form (RFC 6455 requires
            the shortest; a longer form is a way to test lax peers).

    Returns:
        The frame's bytes.

    Raises:
        ValueError: the opcode is not 4 bits, the mask is not 4 bytes, or the
            length does not fit the requested form.
    """
    if not 0 <= opcode <= 0xF:
        raise ValueError(f"opcode must be 0..15, got {opcode}")
    if mask is not None and len(mask) != 4:
        raise ValueError(f"mask must be 4 bytes, got {len(mask)}")
    declared = len(payload) if length is None else length
    if length_bits is None:
        length_bits = 7 if declared <= 125 else 16 if declared <= 0xFFFF else 64
    first = (
        (0x80 if fin else 0)
        | (0x40 if rsv1 else 0)
        | (0x20 if rsv2 else 0)
        | (0x10 if rsv3 else 0)
        | opcode
    )
    mask_bit = 0x80 if mask is not None else 0
    if length_bits == 7:
        if declared > 125:
            raise ValueError(f"a 7-bit length holds at most 125, got {declared}")
        header = bytes([first, mask_bit | declared])
    elif length_bits == 16:
        if declared > 0xFFFF:
            raise ValueError(f"a 16-bit length holds at most 65535, got {declared}")
        header = bytes([first, mask_bit | 126]) + struct.pack("!H", declared)
    else:
        if not 0 <= declared < 2**64:
            raise ValueError(f"a 64-bit length holds at most 2**64 - 1, got {declared}")
        header = bytes([first, mask_bit | 127]) + struct.pack("!Q", declared)
    if mask is None:
        return header + payload
    return header + mask + _apply_mask(payload, mask)


def _apply_mask(payload: bytes, mask: bytes) -> bytes:
    # XOR with the key repeated; int arithmetic is fast enough for test traffic.
    if not payload:
        return b""
    key = (mask * (len(payload) // 4 + 1))[: len(payload)]
    n = int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")
    return n.to_bytes(len(payload), "big")


def close_payload(code: int | None = None, reason: str | bytes = b"") -> bytes:
    """The payload of a close frame: a 2-byte code then the reason, any bytes at all.

    ``code=None`` gives an empty payload (a close without a status). ``reason``
    as ``bytes`` may be invalid UTF-8; the code may be any 0..65535 (1004,
    1005, 1006, 1015, 999, 5000 are all illegal on the wire and that is the point).
    """
    raw_reason = reason.encode() if isinstance(reason, str) else reason
    if code is None:
        return raw_reason
    return struct.pack("!H", code) + raw_reason


@attrs.frozen
class Frame:
    """One decoded frame, exactly as it was on the wire (payload unmasked)."""

    opcode: int
    payload: bytes
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False
    masked: bool = False

    @property
    def close_code(self) -> int | None:
        """The status code of a close frame, ``None`` when it has none."""
        if self.opcode != OP_CLOSE or len(self.payload) < 2:
            return None
        return int(struct.unpack("!H", self.payload[:2])[0])

    @property
    def close_reason(self) -> bytes:
        """The raw reason bytes of a close frame (not decoded: they may be invalid)."""
        return self.payload[2:] if self.opcode == OP_CLOSE else b""

    @property
    def text(self) -> str:
        """The payload decoded as UTF-8 (raises ``UnicodeDecodeError`` when invalid)."""
        return self.payload.decode()


class FrameDecoder:
    """An incremental, non-validating frame parser.

    Feed it bytes with :meth:`feed`; it returns every complete frame. A frame
    announcing more than ``max_frame`` bytes raises ``ValueError`` rather than
    buffering without bound.
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._buf = bytearray()
        self._max_frame = max_frame

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet make a whole frame."""
        return bytes(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return the frames they completed, in order."""
        self._buf += data
        frames: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _next(self) -> Frame | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        length = second & 0x7F
        pos = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length = struct.unpack("!H", buf[2:4])[0]
            pos = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length = struct.unpack("!Q", buf[2:10])[0]
            pos = 10
        if length > self._max_frame:
            raise ValueError(f"frame announces {length} bytes, over the {self._max_frame} limit")
        masked = bool(second & 0x80)
        mask = b""
        if masked:
            if len(buf) < pos + 4:
                return None
            mask = bytes(buf[pos : pos + 4])
            pos += 4
        if len(buf) < pos + length:
            return None
        payload = bytes(buf[pos : pos + length])
        del buf[: pos + length]
        if masked:
            payload = _apply_mask(payload, mask)
        return Frame(
            opcode=first & 0x0F,
            payload=payload,
            fin=bool(first & 0x80),
            rsv1=bool(first & 0x40),
            rsv2=bool(first & 0x20),
            rsv3=bool(first & 0x10),
            masked=masked,
        )


@attrs.frozen
class HandshakeResponse:
    """The server's answer to the opening handshake, as received.

    Attributes:
        status: the HTTP status code.
        headers: the header lines as (lower-case name, value).
        raw: the status line and headers, exactly as received.
        body: the body of a rejection (up to ``Content-Length``, or until EOF).
        accepted: wsproto's verdict: a 101 with a valid ``Sec-WebSocket-Accept``.
        error: why wsproto refused the response, when it did.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    raw: bytes
    body: bytes = b""
    accepted: bool = False
    error: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        lname = name.lower()
        return next((v for k, v in self.headers if k == lname), None)


class HandshakeIncomplete(Exception):
    """The stream ended (or a limit was hit) before the handshake response was complete."""

    def __init__(self, message: str, received: bytes) -> None:
        super().__init__(message)
        self.received = received


class RawClient:
    """A test-side WebSocket client over any stream: wsproto handshake, raw frames after.

    Everything it reads after the handshake goes through :class:`FrameDecoder`,
    so a test sees invalid frames and illegal close codes exactly as sent.
    Its frames are masked with a fixed key (deterministic bytes on the wire).

    Args:
        stream: a connected stream (TCP, TLS or in-memory).
        host: the ``Host`` header.
        target: the request target (path and query).
        extra_headers: more request headers.
        subprotocols: subprotocols to offer.
    """

    MASK = b"\x11\x22\x33\x44"
    _MAX_HEAD = 64 * 1024
    _READ = 65536

    def __init__(
        self,
        stream: trio.abc.Stream,
        *,
        host: str = "127.0.0.1",
        target: str = "/",
        extra_headers: Sequence[tuple[str, str]] = (),
        subprotocols: Sequence[str] = (),
    ) -> None:
        self.stream = stream
        self._host = host
        self._target = target
        self._extra_headers = [(k.encode(), v.encode()) for k, v in extra_headers]
        self._subprotocols = list(subprotocols)
        self._decoder = FrameDecoder()
        self._frames: list[Frame] = []
        self.eof = False

    async def handshake(self, *, body_limit: int = 65536) -> HandshakeResponse:
        """Send the upgrade request and read the response (and a rejection's body).

        Returns:
            The response; ``accepted`` tells whether it was a valid 101.

        Raises:
            HandshakeIncomplete: EOF or 64 KiB before the end of the headers.
        """
        ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        await self.stream.send_all(
            ws.send(
                wse.Request(
                    host=self._host,
                    target=self._target,
                    extra_headers=self._extra_headers,
                    subprotocols=self._subprotocols,
                )
            )
        )
        buf = b""
        # Bounded by the 64 KiB header limit and by EOF.
        while b"\r\n\r\n" not in buf:
            if len(buf) > self._MAX_HEAD:
                raise HandshakeIncomplete("response headers over 64 KiB", buf)
            data = await self.stream.receive_some(self._READ)
            if not data:
                self.eof = True
                raise HandshakeIncomplete("EOF before the end of the response headers", buf)
            buf += data
        head, _, rest = buf.partition(b"\r\n\r\n")
        head += b"\r\n\r\n"
        status, headers = _parse_head(head)
        accepted, error = False, None
        try:
            ws.receive_data(head)
            for event in ws.events():
                if isinstance(event, wse.AcceptConnection):
                    accepted = True
        except (RemoteProtocolError, LocalProtocolError) as exc:
            error = str(exc)
        if status == 101:
            # A switch, valid or not, has no body: what follows is the new protocol.
            self._frames.extend(self._decoder.feed(rest))
            return HandshakeResponse(status, headers, head, b"", accepted, error)
        body = await self._read_body(rest, headers, body_limit)
        return HandshakeResponse(status, headers, head, body, False, error)

    async def _read_body(
        self, rest: bytes, headers: tuple[tuple[str, str], ...], limit: int
    ) -> bytes:
        length_text = next((v for k, v in headers if k == "content-length"), None)
        want = min(int(length_text), limit) if length_text is not None else limit
        body = rest
        # Bounded by ``limit`` bytes and by EOF.
        while len(body) < want and not self.eof:
            data = await self.stream.receive_some(self._READ)
            if not data:
                self.eof = True
                break
            body += data
        return body[:want]

    async def receive_frame(self) -> Frame:
        """The next frame from the server.

        Raises:
            EOFError: the server closed the stream (FIN) before a whole frame.
            trio.BrokenResourceError: the stream broke (e.g. a TCP reset).
        """
        # Bounded: each pass either returns, raises at EOF, or consumes data.
        while not self._frames:
            if self.eof:
                raise EOFError(f"EOF; {len(self._decoder.pending)} bytes of a partial frame")
            data = await self.stream.receive_some(self._READ)
            if not data:
                self.eof = True
                continue
            self._frames.extend(self._decoder.feed(bytes(data)))
        return self._frames.pop(0)

    async def receive_until(self, opcode: int, *, limit: int = 10_000) -> list[Frame]:
        """Frames up to and including the first with ``opcode`` (at most ``limit`` frames)."""
        frames: list[Frame] = []
        for _ in range(limit):
            frame = await self.receive_frame()
            frames.append(frame)
            if frame.opcode == opcode:
                return frames
        raise AssertionError(f"no frame with opcode {opcode} in {limit} frames")

    async def receive_text(self, *, skip_control: bool = True) -> str:
        """The next text frame's payload, skipping pings/pongs when asked (at most 10 000)."""
        for _ in range(10_000):
            frame = await self.receive_frame()
            if skip_control and frame.opcode in (OP_PING, OP_PONG):
                continue
            if frame.opcode != OP_TEXT:
                raise AssertionError(f"expected a text frame, got {frame}")
            return frame.text
        raise AssertionError("10 000 control frames and no text frame")

    @property
    def pending(self) -> bytes:
        """Bytes of a partial frame received so far."""
        return self._decoder.pending

    async def wait_eof(self, *, limit: int = 10_000) -> list[Frame]:
        """Read until EOF; return the frames that arrived first (at most ``limit``)."""
        frames: list[Frame] = []
        for _ in range(limit):
            try:
                frames.append(await self.receive_frame())
            except EOFError:
                return frames
        raise AssertionError(f"no EOF after {limit} frames")

    async def send_frame(
        self,
        opcode: int,
        payload: bytes = b"",
        *,
        fin: bool = True,
        rsv1: bool = False,
        rsv2: bool = False,
        rsv3: bool = False,
    ) -> None:
        """Send one masked frame, with any flags."""
        frame = encode_frame(
            opcode, payload, fin=fin, rsv1=rsv1, rsv2=rsv2, rsv3=rsv3, mask=self.MASK
        )
        await self.stream.send_all(frame)

    async def send_text(self, text: str) -> None:
        """Send a text message in one frame."""
        await self.send_frame(OP_TEXT, text.encode())

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message in one frame."""
        await self.send_frame(OP_BINARY, data)

    async def send_ping(self, payload: bytes = b"") -> None:
        """Send a ping frame."""
        await self.send_frame(OP_PING, payload)

    async def send_pong(self, payload: bytes = b"") -> None:
        """Send a pong frame."""
        await self.send_frame(OP_PONG, payload)

    async def send_close(self, code: int | None = 1000, reason: str | bytes = b"") -> None:
        """Send a close frame."""
        await self.send_frame(OP_CLOSE, close_payload(code, reason))

    async def aclose(self) -> None:
        """Close the stream (TCP: FIN, or RST if unread data remains)."""
        await self.stream.aclose()


def _parse_head(head: bytes) -> tuple[int, tuple[tuple[str, str], ...]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        status = 0
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    return status, tuple(headers)
