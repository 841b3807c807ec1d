"""The fast transport's Trio shell over in-memory streams, against a scripted raw server.

The server side is written here by hand (a tiny frame encoder and literal
handshake responses) so it can send anything, valid or not, and so tests can
assert the exact bytes the client put on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio.testing

from trio_venues._config import ConnectionConfig
from trio_venues._fastws import FastTransport, open_fast_transport_over_stream
from trio_venues._transport import Ping, Pong, Transport, TransportClosed
from trio_venues.errors import ConnectFailed, HandshakeRejected
from trio_venues.reasons import NetworkError, ProtocolError, RemoteClosed, UserInitiated

URL = "ws://venue.test/ws"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
StreamPair = Callable[[], tuple[trio.abc.Stream, trio.abc.Stream]]


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """An unmasked server frame, valid or not."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    if n < 126:
        return bytes((b0, n)) + payload
    if n < 0x10000:
        return struct.pack("!BBH", b0, 126, n) + payload
    return struct.pack("!BBQ", b0, 127, n) + payload


def text(s: str, **kw: Any) -> bytes:
    """A server text frame."""
    return frame(1, s.encode(), **kw)


def close(code: int | None = None, reason: bytes = b"") -> bytes:
    """A server close frame."""
    return frame(8, b"" if code is None else code.to_bytes(2, "big") + reason)


def deflate(data: bytes) -> bytes:
    """One permessage-deflate message body (tail stripped)."""
    c = zlib.compressobj(wbits=-15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


class Peer:
    """The scripted server: reads the request, answers, sends frames, reads ours."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.buf = bytearray()
        self.request_headers: dict[str, str] = {}
        self.saw_eof = False

    async def _fill(self) -> bool:
        data = await self.stream.receive_some(65536)
        self.buf += data
        return bool(data)

    async def read_request(self) -> dict[str, str]:
        """Read the upgrade request; return its headers (lower-case names)."""
        while b"\r\n\r\n" not in self.buf:
            assert await self._fill(), "client closed during the request"
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        lines = head.decode().split("\r\n")
        self.request_headers = {
            k.lower(): v for k, _, v in (ln.partition(": ") for ln in lines[1:])
        }
        return self.request_headers

    def accept_value(self) -> str:
        """The correct Sec-WebSocket-Accept for the request's key."""
        key = self.request_headers["sec-websocket-key"].encode()
        return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()

    async def accept(self, extra: tuple[str, ...] = (), first: bytes = b"") -> None:
        """Answer 101 (with extra header lines) and optionally frames in the same write."""
        await self.read_request()
        lines = [
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {self.accept_value()}",
            *extra,
        ]
        await self.stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode() + first)

    async def respond(self, raw: bytes) -> None:
        """Read the request, answer with raw bytes, then wait for the client to close."""
        await self.read_request()
        await self.stream.send_all(raw)
        await self.expect_eof()
        self.saw_eof = True

    async def hang_up(self) -> None:
        """Read the request, then close without answering."""
        await self.read_request()
        await self.stream.aclose()

    async def send(self, data: bytes) -> None:
        """Send raw bytes."""
        await self.stream.send_all(data)

    async def read_frame(self) -> tuple[int, bytes] | None:
        """Read one client frame (checking it is masked): (first byte, payload), or None at EOF."""
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                assert b1 & 0x80, "client frame not masked"
                n, pos = b1 & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, pos = int.from_bytes(self.buf[2:4], "big"), 4
                elif n == 127 and len(self.buf) >= 10:
                    n, pos = int.from_bytes(self.buf[2:10], "big"), 10
                if n < 126 or pos > 2:
                    end = pos + 4 + n
                    if len(self.buf) >= end:
                        key = bytes(self.buf[pos : pos + 4])
                        raw = bytes(self.buf[pos + 4 : end])
                        del self.buf[:end]
                        keystream = (key * (n // 4 + 1))[:n]
                        return b0, bytes(a ^ b for a, b in zip(raw, keystream, strict=True))
            if not await self._fill():
                assert not self.buf, f"EOF inside a frame: {bytes(self.buf)!r}"
                return None

    async def expect_close(self) -> int:
        """Read frames until a close frame; return its code."""
        while True:
            got = await self.read_frame()
            assert got is not None, "EOF before a close frame"
            b0, payload = got
            if b0 == 0x88:
                return int.from_bytes(payload[:2], "big")

    async def expect_eof(self) -> None:
        """Read until EOF."""
        while await self._fill():
            pass


async def connect(
    config: ConnectionConfig | None = None,
    *,
    extra: tuple[str, ...] = (),
    first: bytes = b"",
    pair: StreamPair = trio.testing.memory_stream_pair,
) -> tuple[FastTransport, Peer]:
    """Open a transport over an in-memory pair against a Peer that accepts."""
    client, server = pair()
    peer = Peer(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(peer.accept, extra, first)
        transport = await open_fast_transport_over_stream(client, URL, config or ConnectionConfig())
    return transport, peer


async def closed_reason(transport: FastTransport) -> Any:
    """Receive until TransportClosed; return its reason."""

    async def drain() -> None:
        for _ in range(100):
            await transport.receive_batch()

    with pytest.raises(TransportClosed) as info:
        await drain()
    return info.value.reason


# -- opening ---------------------------------------------------------------------------


async def test_open_sends_the_request_and_exposes_negotiation() -> None:
    """The transport satisfies the Transport protocol; headers and subprotocol are negotiated."""
    options = {"headers": {"X-Key": "k"}, "subprotocols": ("v1",), "compression": True}
    config = ConnectionConfig.build(None, None, options)
    transport, peer = await connect(
        config,
        extra=("Sec-WebSocket-Protocol: v1", "Sec-WebSocket-Extensions: permessage-deflate"),
    )
    assert isinstance(transport, Transport)
    assert transport.subprotocol == "v1"
    assert transport.extensions == ("permessage-deflate",)
    assert peer.request_headers["host"] == "venue.test"
    assert peer.request_headers["x-key"] == "k"
    assert peer.request_headers["sec-websocket-extensions"].startswith("permessage-deflate")
    assert ("sec-websocket-protocol", "v1") in transport.response_headers


async def test_frames_sent_with_the_101_are_delivered() -> None:
    """Frames in the same write as the 101 come out of the first receive_batch."""
    transport, _ = await connect(first=text("a") + text("b"))
    assert await transport.receive_batch() == ["a", "b"]


async def test_close_sent_with_the_101_is_echoed_at_once() -> None:
    """A close frame that arrives with the 101 is echoed on the first receive_batch."""
    transport, peer = await connect(first=text("a") + close(1001))
    assert await transport.receive_batch() == ["a"]
    assert await peer.expect_close() == 1001
    assert await closed_reason(transport) == RemoteClosed(1001, "")


@pytest.mark.parametrize(
    ("response", "status", "retry_after"),
    [
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\ndenied", 403, None),
        (b"HTTP/1.1 429 Too Many\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n", 429, 30.0),
        (b"HTTP/1.1 503 Unavailable\r\nRetry-After: 5\r\n\r\nbusy", 503, 5.0),
        (
            b"HTTP/1.1 101 Switching\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
            101,
            None,
        ),
    ],
)
async def test_rejections_raise_handshake_rejected_and_close_the_stream(
    response: bytes, status: int, retry_after: float | None, autojump_clock: trio.testing.MockClock
) -> None:
    """403, 429 (Retry-After), 503 and an invalid 101 raise HandshakeRejected; the stream closes."""
    client, server = trio.testing.memory_stream_pair()
    peer = Peer(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(peer.respond, response)
        with pytest.raises(HandshakeRejected) as info:
            await open_fast_transport_over_stream(client, URL, ConnectionConfig())
    assert (info.value.status, info.value.retry_after) == (status, retry_after)
    assert peer.saw_eof


async def test_wrong_accept_key_is_rejected_with_101() -> None:
    """A 101 whose Sec-WebSocket-Accept does not match our key is HandshakeRejected(101)."""
    client, server = trio.testing.memory_stream_pair()
    peer = Peer(server)
    response = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(peer.respond, response)
        with pytest.raises(HandshakeRejected) as info:
            await open_fast_transport_over_stream(client, URL, ConnectionConfig())
    assert info.value.status == 101
    assert "Accept" in str(info.value)
    assert peer.saw_eof


async def test_rejection_body_that_never_ends_is_reported_after_a_grace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A rejection whose body never completes is reported with what arrived, 1 s later."""
    client, server = trio.testing.memory_stream_pair()
    peer = Peer(server)
    async with trio.open_nursery() as nursery:

        async def stall() -> None:
            await peer.read_request()
            await peer.send(b"HTTP/1.1 500 Oops\r\nContent-Length: 100\r\n\r\nhalf")
            await trio.sleep_forever()

        nursery.start_soon(stall)
        start = trio.current_time()
        with pytest.raises(HandshakeRejected) as info:
            await open_fast_transport_over_stream(client, URL, ConnectionConfig())
        assert trio.current_time() - start == pytest.approx(1.0)
        nursery.cancel_scope.cancel(reason="test done")
    assert (info.value.status, info.value.body) == (500, b"half")


async def test_server_closing_during_the_handshake_is_connect_failed() -> None:
    """EOF before any response raises ConnectFailed (not a rejection)."""
    client, server = trio.testing.memory_stream_pair()
    peer = Peer(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(peer.hang_up)
        with pytest.raises(ConnectFailed) as info:
            await open_fast_transport_over_stream(client, URL, ConnectionConfig())
    assert not isinstance(info.value, HandshakeRejected)


async def test_broken_stream_during_the_handshake_is_connect_failed() -> None:
    """A stream that breaks mid-handshake raises ConnectFailed naming the phase."""
    client, server = trio.testing.memory_stream_pair()
    await server.aclose()
    with pytest.raises(ConnectFailed, match="handshake"):
        await open_fast_transport_over_stream(client, URL, ConnectionConfig())


# -- receiving -------------------------------------------------------------------------


async def test_one_read_yields_many_messages() -> None:
    """Hundreds of frames sent at once come back in few batches, in order, as str/bytes."""
    transport, peer = await connect()
    payloads = [f'{{"e":"trade","t":{i}}}' for i in range(500)]
    await peer.send(b"".join(text(p) for p in payloads) + frame(2, b"\x00\x01"))
    got: list[Any] = []
    batches = 0
    while len(got) < 501:
        got += await transport.receive_batch()
        batches += 1
    assert got == [*payloads, b"\x00\x01"]
    assert batches <= 2


async def test_control_items_in_order_and_pings_not_answered() -> None:
    """Pings and pongs come out as items between messages; the transport sends no pong."""
    transport, peer = await connect()
    await peer.send(text("a") + frame(9, b"p1") + text("frag", fin=False))
    await peer.send(frame(10, b"q") + frame(0, b"ment") + text("b"))
    got: list[Any] = []
    while len(got) < 5:
        got += await transport.receive_batch()
    assert got == ["a", Ping(b"p1"), Pong(b"q"), "fragment", "b"]
    await transport.send_text("after")
    assert await peer.read_frame() == (0x81, b"after")


async def test_receive_batch_cancelled_while_waiting_loses_nothing() -> None:
    """Cancelling a waiting receive_batch loses no data; the next call gets it."""
    transport, peer = await connect()
    with trio.move_on_after(0.01):
        await transport.receive_batch()
    await peer.send(text("later"))
    assert await transport.receive_batch() == ["later"]


class RecordingStream(trio.abc.Stream):
    """Wraps a stream and records the ``max_bytes`` of each read."""

    def __init__(self, inner: trio.abc.Stream) -> None:
        self.inner = inner
        self.sizes: list[int | None] = []

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Record and delegate."""
        self.sizes.append(max_bytes)
        return await self.inner.receive_some(max_bytes)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Delegate."""
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """Delegate."""
        await self.inner.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        """Delegate."""
        await self.inner.aclose()


async def test_read_size_grows_under_backlog_and_shrinks_after() -> None:
    """Full 64 KiB reads switch to 256 KiB reads; a short read switches back."""
    client, server = trio.testing.memory_stream_pair()
    recording = RecordingStream(client)
    peer = Peer(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(peer.accept, (), b"")
        transport = await open_fast_transport_over_stream(recording, URL, ConnectionConfig())
    recording.sizes.clear()
    await peer.send(frame(2, b"x" * 300_000))
    await peer.send(text("small"))
    got: list[Any] = []
    while len(got) < 2:
        got += await transport.receive_batch()
    assert got == [b"x" * 300_000, "small"]
    for word in ("again", "and again"):
        await peer.send(text(word))
        assert await transport.receive_batch() == [word]
    assert recording.sizes[:2] == [65536, 262144]
    assert recording.sizes[-1] == 65536


# -- sending ---------------------------------------------------------------------------


async def test_sends_are_masked_frames_of_the_right_type() -> None:
    """send_text/send_bytes/ping/pong put masked frames with the right opcodes on the wire."""
    transport, peer = await connect()
    await transport.send_text("héllo")
    await transport.send_bytes(b"\x00" * 70_000)
    await transport.ping(b"p")
    await transport.pong(b"q")
    assert await peer.read_frame() == (0x81, "héllo".encode())
    assert await peer.read_frame() == (0x82, b"\x00" * 70_000)
    assert await peer.read_frame() == (0x89, b"p")
    assert await peer.read_frame() == (0x8A, b"q")
    with pytest.raises(ValueError, match="125"):
        await transport.ping(b"x" * 126)


async def test_concurrent_senders_are_serialised() -> None:
    """Several tasks sending large messages at once never interleave frames."""
    transport, peer = await connect(pair=trio.testing.lockstep_stream_pair)
    messages = [bytes([i]) * 50_000 for i in range(4)]
    received: list[tuple[int, bytes] | None] = []

    async def read_all() -> None:
        for _ in messages:
            received.append(await peer.read_frame())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read_all)
        for m in messages:
            nursery.start_soon(transport.send_bytes, m)
    assert sorted(received, key=repr) == sorted(((0x82, m) for m in messages), key=repr)


# -- violations: our close frame goes out at once --------------------------------------


VIOLATIONS = [
    pytest.param(text("x", rsv=4), 1002, id="rsv1-without-extension"),
    pytest.param(text("x", rsv=2), 1002, id="rsv2"),
    pytest.param(frame(3, b"x"), 1002, id="reserved-data-opcode"),
    pytest.param(frame(11, b""), 1002, id="reserved-control-opcode"),
    pytest.param(frame(9, b"x" * 126), 1002, id="ping-over-125"),
    pytest.param(frame(9, b"", fin=False), 1002, id="fragmented-ping"),
    pytest.param(frame(0, b"x"), 1002, id="unexpected-continuation"),
    pytest.param(bytes((0x81, 0x81)) + b"abcd" + b"\x00", 1002, id="masked-frame"),
    pytest.param(frame(1, b"\xce\xba\xe1\xbd"), 1007, id="invalid-utf8"),
    pytest.param(frame(1, b"ok\xff", fin=False), 1007, id="invalid-utf8-first-fragment"),
    pytest.param(close(1004), 1002, id="close-1004"),
    pytest.param(close(1005), 1002, id="close-1005"),
    pytest.param(close(1006), 1002, id="close-1006"),
    pytest.param(close(1015), 1002, id="close-1015"),
    pytest.param(close(1016), 1002, id="close-1016"),
    pytest.param(close(2999), 1002, id="close-2999"),
    pytest.param(close(999), 1002, id="close-999"),
    pytest.param(close(5000), 1002, id="close-5000"),
    pytest.param(frame(8, b"\x03"), 1002, id="close-1-byte"),
    pytest.param(close(1000, b"\xff"), 1007, id="close-reason-invalid-utf8"),
    pytest.param(frame(2, b"x" * 1025), 1009, id="over-max-message-size"),
    pytest.param(
        b"".join(frame(0 if i else 2, b"x", fin=i == 4) for i in range(5)),
        1009,
        id="too-many-fragments",
    ),
]


@pytest.mark.parametrize(("bad", "code"), VIOLATIONS)
async def test_violation_sends_its_close_code_and_ends_with_protocol_error(
    bad: bytes, code: int
) -> None:
    """Each violation: messages before it are delivered, our close code goes out, then the error."""
    config = ConnectionConfig(max_message_size=1024, max_fragments=4)
    transport, peer = await connect(config)
    await peer.send(text("before") + bad + text("never"))
    assert await transport.receive_batch() == ["before"]
    assert await peer.expect_close() == code
    reason = await closed_reason(transport)
    assert isinstance(reason, ProtocolError)
    assert reason.close_code == code
    # Later calls report the same reason; sending is refused.
    assert await closed_reason(transport) == reason
    with pytest.raises(TransportClosed):
        await transport.send_text("x")


async def test_violation_close_is_sent_without_waiting_for_the_peer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A protocol error is reported at once even if the server never answers our close."""
    transport, peer = await connect()
    await peer.send(frame(3, b""))
    start = trio.current_time()
    reason = await closed_reason(transport)
    assert reason == ProtocolError("reserved data opcode 0x3", 1002)
    assert trio.current_time() == start
    assert await peer.expect_close() == 1002


async def test_close_frame_send_is_bounded_when_the_peer_stops_reading(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """If the server stops reading, our close send gives up after close_timeout and aborts."""
    transport, peer = await connect(
        ConnectionConfig(close_timeout=3.0), pair=trio.testing.lockstep_stream_pair
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(peer.send, frame(3, b""))
        start = trio.current_time()
        reason = await closed_reason(transport)
        assert trio.current_time() - start == pytest.approx(3.0)
    assert isinstance(reason, ProtocolError)
    await peer.expect_eof()


# -- the peer's close ------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1011, 1012, 1013, 1014, 3000, 4001])
async def test_peer_close_is_echoed_and_reported(code: int) -> None:
    """The server's close code (1014 included) is echoed and reported as RemoteClosed."""
    transport, peer = await connect()
    await peer.send(close(code, b"see you"))
    assert await closed_reason(transport) == RemoteClosed(code, "see you")
    assert await peer.expect_close() == code
    with pytest.raises(TransportClosed) as info:
        await transport.send_text("late")
    assert info.value.reason == RemoteClosed(code, "see you")


async def test_empty_close_reports_1005_and_echoes_1000() -> None:
    """A close frame without a code is reported as 1005 and answered with 1000."""
    transport, peer = await connect()
    await peer.send(close())
    assert await closed_reason(transport) == RemoteClosed(1005, "")
    assert await peer.expect_close() == 1000


async def test_eof_without_close_is_a_network_error() -> None:
    """EOF without a close frame ends with NetworkError mentioning EOF."""
    transport, peer = await connect()
    await peer.send(text("last"))
    await peer.stream.aclose()
    assert await transport.receive_batch() == ["last"]
    reason = await closed_reason(transport)
    assert isinstance(reason, NetworkError)
    assert "EOF without a close frame" in reason.details


# -- closing ---------------------------------------------------------------------------


async def test_aclose_runs_the_closing_handshake() -> None:
    """aclose sends our code, waits for the server's close and EOF, then closes the stream."""
    transport, peer = await connect()
    done = trio.Event()

    async def server() -> None:
        assert await peer.expect_close() == 4000
        await peer.send(text("in flight") + close(4000))
        await peer.stream.aclose()
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(server)
        await transport.aclose(4000, "bye")
        assert done.is_set()
    assert await closed_reason(transport) == RemoteClosed(4000, "")
    with pytest.raises(TransportClosed) as info:
        await transport.send_bytes(b"x")
    assert info.value.reason == RemoteClosed(4000, "")


async def test_aclose_waits_for_a_running_reader() -> None:
    """aclose with a reader blocked in receive_batch: the reader gets data, then the close."""
    transport, peer = await connect()
    seen: list[Any] = []
    reasons: list[Any] = []

    async def reader() -> None:
        try:
            while True:
                seen.extend(await transport.receive_batch())
        except TransportClosed as exc:
            reasons.append(exc.reason)

    async def server() -> None:
        assert await peer.expect_close() == 1000
        await peer.send(text("a"))
        await trio.testing.wait_all_tasks_blocked()
        await peer.send(close(1000))
        await peer.stream.aclose()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        nursery.start_soon(server)
        await trio.testing.wait_all_tasks_blocked()
        await transport.aclose()
    assert seen == ["a"]
    assert reasons == [RemoteClosed(1000, "")]


async def test_send_after_aclose_started_raises(autojump_clock: trio.testing.MockClock) -> None:
    """Once aclose started, sends raise TransportClosed(UserInitiated); nothing goes out."""
    transport, peer = await connect()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(transport.aclose)
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(TransportClosed) as info:
            await transport.send_text("x")
        assert info.value.reason == UserInitiated()
        assert await peer.expect_close() == 1000
        await peer.stream.aclose()
    assert peer.buf == b""


async def test_aclose_after_peer_close_only_waits_for_eof() -> None:
    """After the reader echoed the server's close, aclose sends nothing more."""
    transport, peer = await connect()
    await peer.send(close(1001))
    await closed_reason(transport)
    assert await peer.expect_close() == 1001
    assert isinstance(peer.stream, trio.abc.HalfCloseableStream)
    await peer.stream.send_eof()
    await transport.aclose()
    await peer.expect_eof()
    assert peer.buf == b""


async def test_abort_closes_at_once_and_wakes_the_reader() -> None:
    """abort closes the stream; a blocked reader ends with TransportClosed(NetworkError)."""
    transport, peer = await connect()
    reasons: list[Any] = []

    async def reader() -> None:
        reasons.append(await closed_reason(transport))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        await transport.abort()
    assert isinstance(reasons[0], NetworkError)
    await peer.expect_eof()
    with pytest.raises(TransportClosed):
        await transport.ping(b"")
    await transport.aclose()  # a no-op once aborted


# -- permessage-deflate ----------------------------------------------------------------


async def test_compressed_messages_are_inflated() -> None:
    """With permessage-deflate negotiated, RSV1 messages are inflated; sends stay uncompressed."""
    transport, peer = await connect(
        ConnectionConfig(compression=True),
        extra=("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover",),
    )
    await peer.send(
        frame(1, deflate(b'{"e":"trade"}'), rsv=4) + frame(2, deflate(b"\x01" * 9), rsv=4)
    )
    got: list[Any] = []
    while len(got) < 2:
        got += await transport.receive_batch()
    assert got == ['{"e":"trade"}', b"\x01" * 9]
    await transport.send_text("plain")
    assert await peer.read_frame() == (0x81, b"plain")


async def test_decompression_bomb_closes_with_1009() -> None:
    """A compressed message inflating beyond max_message_size sends 1009 and ends."""
    transport, peer = await connect(
        ConnectionConfig(compression=True, max_message_size=100_000),
        extra=("Sec-WebSocket-Extensions: permessage-deflate",),
    )
    await peer.send(frame(2, deflate(b"\x00" * 5_000_000), rsv=4))
    reason = await closed_reason(transport)
    assert isinstance(reason, ProtocolError)
    assert reason.close_code == 1009
    assert await peer.expect_close() == 1009


async def test_rsv1_without_negotiation_closes_with_1002() -> None:
    """Offering compression that the server declined leaves RSV1 a protocol error."""
    transport, peer = await connect(ConnectionConfig(compression=True))
    assert transport.extensions == ()
    await peer.send(frame(1, deflate(b"x"), rsv=4))
    reason = await closed_reason(transport)
    assert isinstance(reason, ProtocolError)
    assert await peer.expect_close() == 1002
