"""``FakeVenueServer.serve_tcp(port=...)``: a fixed 127.0.0.1 port, a clear error when taken."""

from __future__ import annotations

import errno
import socket
from functools import partial

import pytest
import trio

from trio_venues.testing import FakeVenueServer


def free_port() -> int:
    """A port that was free a moment ago: bind 127.0.0.1:0, read the port, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_serve_tcp_listens_on_the_port_given(nursery: trio.Nursery) -> None:
    """serve_tcp(port=N) starts with N, serves ws://127.0.0.1:N/ and accepts a handshake there."""
    chosen = free_port()
    server = FakeVenueServer()
    started = await nursery.start(partial(server.serve_tcp, port=chosen))
    assert started == server.port == chosen
    assert server.url == f"ws://127.0.0.1:{chosen}/"
    client = await server.open_raw(tcp=True)
    assert (await client.handshake()).accepted
    conn = await server.wait_connected()
    assert isinstance(client.stream, trio.SocketStream)
    assert client.stream.socket.getpeername() == ("127.0.0.1", chosen)
    assert conn.number == 1


async def test_serve_tcp_on_a_taken_port_raises_a_plain_os_error(nursery: trio.Nursery) -> None:
    """A port another server holds: OSError EADDRINUSE naming the address, not a group."""
    first = FakeVenueServer()
    port = await nursery.start(first.serve_tcp)
    second = FakeVenueServer()
    with pytest.raises(OSError, match=rf"cannot listen on 127\.0\.0\.1:{port}\b") as info:
        await nursery.start(partial(second.serve_tcp, port=port))
    assert type(info.value) is OSError
    assert info.value.errno == errno.EADDRINUSE
    assert (second.port, second.running) == (None, False)
    assert first.running


@pytest.mark.parametrize("port", [-1, 65536])
async def test_serve_tcp_refuses_a_port_out_of_range(nursery: trio.Nursery, port: int) -> None:
    """A port outside 0-65535 is a ValueError before anything is bound."""
    server = FakeVenueServer()
    with pytest.raises(ValueError, match="0-65535"):
        await nursery.start(partial(server.serve_tcp, port=port))
    assert server.port is None
