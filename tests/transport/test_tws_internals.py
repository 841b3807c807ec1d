"""Pins the trio-websocket internals ``_tws.py`` relies on, and the behaviour built on them.

``_tws.py`` subclasses ``trio_websocket.WebSocketConnection`` and uses private
names: the ``_handle_message_event``/``_handle_ping_event``/``_handle_pong_event``
handlers, ``_reader_task``, ``_open_handshake``, ``_send``, the
``_send_channel``/``_recv_channel`` pair, and ``_message_parts``/
``_message_size``/``_max_message_size``. If a trio-websocket release renames or
reshapes any of them, these tests fail before users do.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import struct

import pytest
import trio
import trio.testing
import trio_websocket
from wsproto import ConnectionType, WSConnection

from trio_venues._config import ConnectionConfig
from trio_venues._transport import Ping, TransportClosed
from trio_venues._tws import _QUEUE_SIZE, TrioWebsocketTransport, wrap_trio_websocket

URL = "ws://venue.test/ws"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True) -> bytes:
    """An unmasked server frame."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        return bytes((b0, n)) + payload
    if n < 0x10000:
        return struct.pack("!BBH", b0, 126, n) + payload
    return struct.pack("!BBQ", b0, 127, n) + payload


def text(s: str) -> bytes:
    return frame(1, s.encode())


async def accept(server: trio.abc.Stream) -> None:
    """Read the client's upgrade request and answer 101."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = await server.receive_some(65536)
        assert data, "the client closed during the handshake"
        buf += data
    head = buf.partition(b"\r\n\r\n")[0].decode()
    key = next(
        line.split(":", 1)[1].strip()
        for line in head.split("\r\n")
        if line.lower().startswith("sec-websocket-key:")
    )
    accept_value = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    await server.send_all(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_value}\r\n\r\n"
        ).encode()
    )


async def opened(
    nursery: trio.Nursery, max_message_size: int = 4 * 2**20
) -> tuple[TrioWebsocketTransport, trio.abc.Stream]:
    """A trio-websocket transport connected in memory to a server stream we drive by hand."""
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as handshake:
        handshake.start_soon(accept, server)
        transport = await wrap_trio_websocket(
            nursery,
            client,
            URL,
            ConnectionConfig(ping_interval=None, max_message_size=max_message_size),
        )
    return transport, server


def test_the_private_names_we_use_still_exist() -> None:
    """Every private attribute and handler _tws.py touches is still there, with its shape."""
    cls = trio_websocket.WebSocketConnection
    for name in (
        "_handle_message_event",
        "_handle_ping_event",
        "_handle_pong_event",
        "_reader_task",
        "_send",
    ):
        assert inspect.iscoroutinefunction(getattr(cls, name)), name
    for name in ("_handle_message_event", "_handle_ping_event", "_handle_pong_event"):
        assert list(inspect.signature(getattr(cls, name)).parameters) == ["self", "event"]
    client, _ = trio.testing.memory_stream_pair()
    ws = cls(
        client,
        WSConnection(ConnectionType.CLIENT),
        host="venue.test",
        path="/ws",
    )
    assert isinstance(ws._send_channel, trio.MemorySendChannel)
    assert isinstance(ws._recv_channel, trio.MemoryReceiveChannel)
    assert ws._message_parts == []
    assert ws._message_size == 0
    assert isinstance(ws._max_message_size, int)
    assert isinstance(ws._open_handshake, trio.Event)


async def test_one_write_of_messages_is_one_batch(nursery: trio.Nursery) -> None:
    """Messages that arrived in one read come out of one receive_batch, in order.

    trio-websocket's reader queues them all without yielding in between (our
    handler), so the batch is complete as soon as the first message wakes us.
    """
    transport, server = await opened(nursery)
    await server.send_all(b"".join(text(f"m{i}") for i in range(10)))
    assert await transport.receive_batch() == [f"m{i}" for i in range(10)]


async def test_a_lone_message_is_returned_without_waiting_for_more(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """receive_batch never waits for a second message once it has one."""
    transport, server = await opened(nursery)
    await server.send_all(text("alone"))
    with trio.fail_after(1):
        assert await transport.receive_batch() == ["alone"]
    assert trio.current_time() == 0


async def test_more_than_the_queue_holds_all_arrives_in_order(nursery: trio.Nursery) -> None:
    """A burst larger than trio-websocket's queue waits for room: nothing lost or reordered."""
    transport, server = await opened(nursery)
    count = _QUEUE_SIZE * 3 + 5
    await server.send_all(b"".join(text(f"m{i}") for i in range(count)))
    got: list[object] = []
    with trio.fail_after(5):
        while len(got) < count:
            batch = await transport.receive_batch()
            assert batch
            got += batch
    assert got == [f"m{i}" for i in range(count)]


async def test_fragments_binary_and_pings_keep_their_order(nursery: trio.Nursery) -> None:
    """Fragmented and binary messages still assemble; a ping between them stays in place."""
    transport, server = await opened(nursery)
    await server.send_all(
        frame(1, b"frag", fin=False)
        + frame(0, b"ment")
        + frame(9, b"hi")
        + frame(2, b"\x00\x01")
        + text("last")
    )
    got: list[object] = []
    with trio.fail_after(5):
        while len(got) < 4:
            got += await transport.receive_batch()
    assert got == ["fragment", Ping(b"hi"), b"\x00\x01", "last"]


async def test_an_oversized_message_still_closes_with_1009(nursery: trio.Nursery) -> None:
    """Over max_message_size, trio-websocket's own handler still sends 1009 and ends the stream."""
    transport, server = await opened(nursery, max_message_size=16)
    await server.send_all(text("fits") + text("x" * 40))
    first = await transport.receive_batch()
    assert first == ["fits"]
    with pytest.raises(TransportClosed):
        await transport.receive_batch()
    sent = await server.receive_some(65536)
    # A masked client close frame whose code unmasks to 1009.
    assert sent[0] == 0x88
    key, body = sent[2:6], sent[6:8]
    assert bytes(b ^ key[i] for i, b in enumerate(body)) == (1009).to_bytes(2, "big")
