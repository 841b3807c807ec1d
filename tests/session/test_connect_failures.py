"""connect() failures: each raises its typed ConnectFailed out of ``async with``, never retries."""

from __future__ import annotations

import socket
import ssl
from functools import partial
from typing import Any

import pytest
import trio

from trio_venues import RawWebSocket
from trio_venues.errors import (
    ConnectionRefused,
    ConnectTimeout,
    HandshakeRejected,
    NameResolutionFailed,
    TLSFailed,
)
from trio_venues.testing import FakeVenueServer, NoUpgrade, Silent, WrongAccept, make_tls_certs

from ._helpers import connect
from .conftest import TRANSPORTS

Server = FakeVenueServer[Any]


@pytest.mark.parametrize(
    ("status", "headers", "retry_after", "retryable"),
    [
        (403, (), None, False),
        (429, (("Retry-After", "7"),), 7.0, True),
        (503, (("Retry-After", "30"),), 30.0, True),
        (418, (), None, True),
        (500, (), None, True),
    ],
)
async def test_handshake_rejected(
    server: Server,
    kind: str,
    status: int,
    headers: tuple[tuple[str, str], ...],
    retry_after: float | None,
    retryable: bool,
) -> None:
    """An HTTP rejection raises HandshakeRejected with status, Retry-After and body; one attempt."""
    server.reject(status, headers=headers, body=b"go away")
    with pytest.raises(HandshakeRejected) as info:
        async with connect(server, kind):
            pytest.fail("connected")
    exc = info.value
    assert exc.status == status
    assert exc.retry_after == retry_after
    assert exc.retryable is retryable
    assert exc.body == b"go away"
    assert server.attempts == 1


@pytest.mark.parametrize("fault", [NoUpgrade(), WrongAccept()])
async def test_invalid_101_is_rejected(server: Server, fault: Any) -> None:
    """A 101 without Upgrade or with a wrong accept key is refused as HandshakeRejected(101)."""
    server.fail_handshakes(fault)
    with pytest.raises(HandshakeRejected) as info:
        async with connect(server, "default"):
            pytest.fail("connected")
    assert info.value.status == 101


async def test_silent_server_times_out_at_connect_timeout(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A server that accepts and never answers the handshake: ConnectTimeout at exactly 10 s."""
    server.fail_handshakes(Silent())
    with pytest.raises(ConnectTimeout, match=r"connect_timeout=10\.0s"):
        async with connect(server, kind):
            pytest.fail("connected")
    assert trio.current_time() == 10.0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_connection_refused(transport: str) -> None:
    """Nothing listening: ConnectionRefused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with trio.fail_after(5), pytest.raises(ConnectionRefused):
        async with RawWebSocket.connect(f"ws://127.0.0.1:{port}/", transport=transport):
            pytest.fail("connected")


class _FailingResolver(trio.abc.HostnameResolver):
    async def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def getnameinfo(self, sockaddr: Any, flags: int) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_dns_failure(transport: str) -> None:
    """A host that does not resolve: NameResolutionFailed, no query leaves the machine."""
    previous = trio.socket.set_custom_hostname_resolver(_FailingResolver())
    try:
        with pytest.raises(NameResolutionFailed):
            async with RawWebSocket.connect("wss://no-such-host.invalid/", transport=transport):
                pytest.fail("connected")
    finally:
        trio.socket.set_custom_hostname_resolver(previous)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("variant", ["untrusted_server", "wrong_host_server", "expired_server"])
async def test_tls_failures_are_immediate(
    nursery: trio.Nursery, transport: str, variant: str
) -> None:
    """A bad certificate raises TLSFailed at once with the SSL reason, never a timeout."""
    certs = make_tls_certs()
    server_ctx: ssl.SSLContext = getattr(certs, variant)
    fake: Server = FakeVenueServer(ssl_context=server_ctx)
    port = await nursery.start(fake.serve_tcp)
    start = trio.current_time()
    with pytest.raises(TLSFailed) as info:
        async with RawWebSocket.connect(
            f"wss://localhost:{port}/", transport=transport, ssl_context=certs.client
        ):
            pytest.fail("connected")
    assert trio.current_time() - start < 5
    assert not info.value.retryable
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.ssl_reason or info.value.ssl_reason
    fake.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_non_tls_peer(nursery: trio.Nursery, transport: str) -> None:
    """wss:// to a plain HTTP peer (it answers the ClientHello with a 400) fails with TLSFailed."""

    async def plain_http(stream: trio.SocketStream) -> None:
        await stream.receive_some(4096)
        await stream.send_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await stream.aclose()

    listeners = await nursery.start(partial(trio.serve_tcp, plain_http, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    certs = make_tls_certs()
    with trio.fail_after(5), pytest.raises(TLSFailed) as info:
        async with RawWebSocket.connect(
            f"wss://127.0.0.1:{port}/", transport=transport, ssl_context=certs.client
        ):
            pytest.fail("connected")
    assert info.value.ssl_reason
    for listener in listeners:
        await listener.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_good_tls(nursery: trio.Nursery, transport: str) -> None:
    """A trusted certificate connects over wss:// and closes cleanly."""
    certs = make_tls_certs()
    fake: Server = FakeVenueServer(ssl_context=certs.server)
    port = await nursery.start(fake.serve_tcp)
    async with RawWebSocket.connect(
        f"wss://localhost:{port}/", transport=transport, ssl_context=certs.client
    ) as ws:
        await fake.wait_connected()
        assert ws.state.value == "connected"
    fake.stop()
