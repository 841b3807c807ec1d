"""FaultProxy between a raw client and the fake venue, on loopback TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
import trio

from trio_venues.testing import (
    OP_TEXT,
    FakeVenueServer,
    FaultProxy,
    GenericVenue,
    RawClient,
    ServerConnection,
    encode_frame,
)

ProxyFactory = Callable[[str | int], Awaitable[FaultProxy]]


_opened: list[trio.SocketStream] = []


@pytest.fixture(autouse=True)
async def close_client_sockets() -> AsyncIterator[None]:
    """Close the sockets the test's raw clients opened."""
    yield
    while _opened:
        await trio.aclose_forcefully(_opened.pop())


async def through(
    proxy: FaultProxy, server: FakeVenueServer[GenericVenue], target: str = "/"
) -> tuple[RawClient, ServerConnection]:
    """A raw WebSocket client connected to ``server`` through ``proxy``."""
    assert proxy.port is not None
    before = server.connected_count
    stream = await trio.open_tcp_stream("127.0.0.1", proxy.port)
    _opened.append(stream)
    client = RawClient(stream, target=target)
    assert (await client.handshake()).accepted
    conn = await server.wait_connected(before + 1)
    return client, conn


async def echo(client: RawClient, value: int) -> object:
    """One echo request; the result."""
    await client.send_text(f'{{"op":"request","id":{value},"method":"echo","params":{value}}}')
    return orjson.loads(await client.receive_text())["result"]


async def test_transparent_by_default_with_byte_logs(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """Bytes flow both ways unchanged; each direction logs and counts them."""
    proxy = await fault_proxy(fake_venue.url)
    assert proxy.rewrite(fake_venue.url) == f"ws://127.0.0.1:{proxy.port}/"
    client, _ = await through(proxy, fake_venue)
    assert await echo(client, 7) == 7
    pconn = proxy.connection
    assert pconn.client_to_server.log.startswith(b"GET / HTTP/1.1\r\n")
    assert pconn.server_to_client.log.startswith(b"HTTP/1.1 101 ")
    assert pconn.server_to_client.log.endswith(b'{"id":7,"result":7}')
    assert pconn.client_to_server.total == len(pconn.client_to_server.log)
    assert (proxy.accepted, proxy.forwarded) == (1, 1)


async def test_pause_holds_data_until_resume(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """pause(): data is read and held, both sockets stay open; resume() delivers it."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue, "/?topics=t")
    proxy.server_to_client.pause()
    await fake_venue.push("t", "held")
    await proxy.wait_until(lambda p: p.connection.server_to_client.held > 0)
    total = proxy.connection.server_to_client.total
    assert conn.is_open
    proxy.server_to_client.resume()
    assert orjson.loads(await client.receive_text())["data"] == "held"
    assert proxy.connection.server_to_client.total > total


async def test_delay_holds_each_chunk(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """delay(0.05): a round trip takes at least 50 ms longer."""
    proxy = await fault_proxy(fake_venue.url)
    client, _ = await through(proxy, fake_venue)
    proxy.server_to_client.delay(0.05)
    t0 = trio.current_time()
    assert await echo(client, 1) == 1
    assert trio.current_time() - t0 >= 0.05


async def test_throttle_limits_the_rate(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """throttle(20 000 B/s): a 2 000-byte message takes at least 0.1 s."""
    proxy = await fault_proxy(fake_venue.url)
    client, _ = await through(proxy, fake_venue, "/?topics=t")
    proxy.server_to_client.throttle(20_000)
    t0 = trio.current_time()
    await fake_venue.push("t", "x" * 2000)
    assert len(await client.receive_text()) > 2000
    assert trio.current_time() - t0 >= 0.1


async def test_drop_after_cuts_mid_frame_then_fin(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """drop_after(10): exactly 10 more bytes reach the client, then EOF."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue, "/?topics=t")
    proxy.server_to_client.drop_after(10)
    await fake_venue.push("t", "y" * 50)
    assert await client.wait_eof() == []
    assert len(client.pending) == 10
    await conn.wait_closed()
    assert conn.end_reason == "client-eof"


async def test_half_close_toward_the_client(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """half_close(): the client sees EOF while its own messages still reach the server."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue)
    await proxy.server_to_client.half_close()
    assert await client.wait_eof() == []
    await client.send_text('{"op":"pong","ts":1}')
    await conn.wait_venue_pong(1)


async def test_fin_closes_both_sides(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """fin(): the client gets EOF and the server sees its client leave."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue)
    await proxy.server_to_client.fin()
    assert await client.wait_eof() == []
    await conn.wait_closed()
    assert conn.end_reason == "client-eof"
    assert proxy.connection.end == "fin->client"


async def test_rst_toward_the_client(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """server_to_client.rst(): the client's read fails with a reset; the server gets EOF."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue)
    await proxy.server_to_client.rst()
    with pytest.raises(trio.BrokenResourceError):
        await client.receive_frame()
    await conn.wait_closed()
    assert conn.end_reason == "client-eof"


async def test_rst_toward_the_server(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """client_to_server.rst(): the server sees a reset; the client gets a FIN."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue)
    await proxy.client_to_server.rst()
    await conn.wait_closed()
    assert conn.end_reason == "broken"
    assert await client.wait_eof() == []


async def test_a_server_reset_is_passed_on(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """A reset from the server reaches the client as a reset, not EOF."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue)
    await conn.reset()
    with pytest.raises(trio.BrokenResourceError):
        await client.receive_frame()
    await proxy.wait_until(lambda p: p.connection.closed)
    assert proxy.connection.end == "rst->client"


async def test_corrupt_rewrites_chunks(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """corrupt(fn): the client receives fn(chunk)."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue)
    proxy.server_to_client.corrupt(lambda chunk: chunk.replace(b"hello", b"HELLO"))
    await conn.send_text("hello")
    frame = await client.receive_frame()
    assert (frame.opcode, frame.payload) == (OP_TEXT, b"HELLO")


async def test_inject_writes_toward_the_receiver(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """inject(bytes): the client receives bytes the server never sent."""
    proxy = await fault_proxy(fake_venue.url)
    client, conn = await through(proxy, fake_venue)
    await proxy.server_to_client.inject(encode_frame(OP_TEXT, b"injected"))
    assert await client.receive_text() == "injected"
    assert conn.messages_sent == 0


async def test_refuse_new_then_accept_new(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """refuse_new(): connects are refused; accept_new() reopens the same port."""
    proxy = await fault_proxy(fake_venue.url)
    assert proxy.port is not None
    client, _ = await through(proxy, fake_venue)
    await proxy.refuse_new()
    with pytest.raises(OSError, match="connect"):
        await trio.open_tcp_stream("127.0.0.1", proxy.port)
    assert await echo(client, 3) == 3
    await proxy.accept_new()
    again, _ = await through(proxy, fake_venue)
    assert await echo(again, 4) == 4


async def test_blackhole_new_accepts_and_never_answers(
    fake_venue: FakeVenueServer[GenericVenue], fault_proxy: ProxyFactory
) -> None:
    """blackhole_new(): TCP connects, the request goes nowhere, no upstream connection."""
    proxy = await fault_proxy(fake_venue.url)
    assert proxy.port is not None
    proxy.blackhole_new()
    stream = await trio.open_tcp_stream("127.0.0.1", proxy.port)
    _opened.append(stream)
    await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await proxy.wait_accepted(1)
    assert (proxy.blackholed, proxy.forwarded, fake_venue.attempts) == (1, 0, 0)
    await stream.aclose()


async def test_upstream_down_closes_the_client(fault_proxy: ProxyFactory) -> None:
    """With nothing listening upstream, the client is accepted and then closed."""
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    proxy = await fault_proxy(dead_port)
    assert proxy.port is not None
    stream = await trio.open_tcp_stream("127.0.0.1", proxy.port)
    _opened.append(stream)
    assert await stream.receive_some() == b""
    await stream.aclose()
    assert proxy.upstream_failures == 1


async def test_proxy_validates_its_settings(fault_proxy: ProxyFactory) -> None:
    """Negative delays, rates and budgets are refused."""
    proxy = await fault_proxy(1)
    with pytest.raises(ValueError, match="delay"):
        proxy.client_to_server.delay(-1)
    with pytest.raises(ValueError, match="throttle"):
        proxy.client_to_server.throttle(0)
    with pytest.raises(ValueError, match="drop_after"):
        proxy.client_to_server.drop_after(-1)
