"""Exception mapping and ``open_stream`` over real loopback TCP/TLS (``trio_venues._errmap``).

Every server here listens on 127.0.0.1 port 0 and every handler is bounded in
time. DNS failures come from an injected Trio resolver, so no query leaves
the machine.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import NoReturn

import pytest
import trio
import trustme

from trio_venues._config import ConnectionConfig
from trio_venues._errmap import (
    STREAM_ERRORS,
    connect_error,
    map_connect_errors,
    map_stream_errors,
    open_stream,
    rejection_from_response,
)
from trio_venues._fastws import open_fast_transport
from trio_venues._transport import TransportClosed
from trio_venues.errors import (
    ConfigError,
    ConnectFailed,
    ConnectionRefused,
    NameResolutionFailed,
    TLSFailed,
)
from trio_venues.reasons import NetworkError, RemoteClosed

# Far below any connect timeout: a TLS failure must be reported at once.
FAST = 5.0
Handler = Callable[[trio.SocketStream], Awaitable[None]]


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[int]:
    """Serve ``handler`` on 127.0.0.1:0 for the block; yield the port."""
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel(reason="test done")


def free_port() -> int:
    """A port nothing listens on (bound, read, closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """The CA the client trusts."""
    return trustme.CA()


@pytest.fixture
def client_config(ca: trustme.CA) -> ConnectionConfig:
    """A config whose SSL context trusts ``ca``."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ConnectionConfig(ssl_context=ctx)


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    """A server SSL context with a certificate for ``names`` issued by ``ca``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(ctx)
    return ctx


async def tls_server(stream: trio.SocketStream, ctx: ssl.SSLContext) -> None:
    """Complete the TLS handshake if the client lets us; hold briefly."""
    tls = trio.SSLStream(stream, ctx, server_side=True)
    with trio.move_on_after(FAST):
        try:
            await tls.do_handshake()
            await tls.receive_some(1)
        except trio.BrokenResourceError:
            pass


async def websocket_server(stream: trio.abc.Stream) -> None:
    """A minimal WebSocket server: accept, send one text frame and a close, await the echo."""
    with trio.move_on_after(FAST):
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = await stream.receive_some(4096)
            if not data:
                return
            buf += data
        key = next(
            line.split(b":", 1)[1].strip()
            for line in buf.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        await stream.send_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            b"\x81\x05hello" + b"\x88\x02\x03\xe8"
        )
        # Read the client's masked close echo (8 bytes), then hang up first,
        # as a server should (RFC 6455 7.1.1).
        echo = b""
        while len(echo) < 8:
            data = await stream.receive_some(4096)
            if not data:
                return
            echo += data
        assert echo[:2] == b"\x88\x82"


async def tls_websocket_server(stream: trio.SocketStream, ctx: ssl.SSLContext) -> None:
    """The WebSocket server above, over TLS."""
    tls = trio.SSLStream(stream, ctx, server_side=True)
    with suppress(trio.BrokenResourceError):
        await websocket_server(tls)


class NoSuchHost(trio.abc.HostnameResolver):
    """A resolver that fails every lookup like an NXDOMAIN."""

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> NoReturn:
        """Fail the lookup."""
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (injected)")

    async def getnameinfo(
        self, sockaddr: tuple[str, int] | tuple[str, int, int, int], flags: int
    ) -> NoReturn:
        """Fail the reverse lookup."""
        raise socket.gaierror(socket.EAI_NONAME, "injected")


# -- connect failures, for real ---------------------------------------------------------


async def test_refused_port_raises_connection_refused() -> None:
    """Nothing listening: ConnectionRefused, at once."""
    with trio.fail_after(FAST), pytest.raises(ConnectionRefused) as info:
        await open_stream(f"ws://127.0.0.1:{free_port()}/", ConnectionConfig())
    assert info.value.retryable
    assert "refused" in str(info.value)


async def test_dns_failure_raises_name_resolution_failed() -> None:
    """An unresolvable host: NameResolutionFailed naming the host."""
    previous = trio.socket.set_custom_hostname_resolver(NoSuchHost())
    try:
        with trio.fail_after(FAST), pytest.raises(NameResolutionFailed) as info:
            await open_stream("wss://venue.invalid/ws", ConnectionConfig())
    finally:
        trio.socket.set_custom_hostname_resolver(previous)
    assert "venue.invalid" in str(info.value)


async def test_untrusted_certificate_raises_tls_failed_at_once(
    client_config: ConnectionConfig,
) -> None:
    """A certificate from an unknown CA: TLSFailed(CERTIFICATE_VERIFY_FAILED), not a timeout."""
    other = trustme.CA()
    async with serve(partial(tls_server, ctx=server_context(other, "127.0.0.1"))) as port:
        with trio.fail_after(FAST), pytest.raises(TLSFailed) as info:
            await open_stream(f"wss://127.0.0.1:{port}/", client_config)
    assert info.value.ssl_reason == "CERTIFICATE_VERIFY_FAILED"
    assert not info.value.retryable


async def test_wrong_hostname_raises_tls_failed(
    ca: trustme.CA, client_config: ConnectionConfig
) -> None:
    """A trusted certificate for another name: TLSFailed mentioning the mismatch."""
    async with serve(partial(tls_server, ctx=server_context(ca, "wrong.test"))) as port:
        with trio.fail_after(FAST), pytest.raises(TLSFailed) as info:
            await open_stream(f"wss://127.0.0.1:{port}/", client_config)
    assert info.value.ssl_reason == "CERTIFICATE_VERIFY_FAILED"
    assert "mismatch" in str(info.value).lower()


async def http_answer(stream: trio.SocketStream) -> None:
    """A plain-TCP server that answers the ClientHello with HTTP text."""
    with trio.move_on_after(FAST):
        await stream.receive_some(4096)
        await stream.send_all(b"HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS")


async def hang_up(stream: trio.SocketStream) -> None:
    """A plain-TCP server that reads the ClientHello and closes."""
    with trio.move_on_after(FAST):
        await stream.receive_some(4096)


@pytest.mark.parametrize("handler", [http_answer, hang_up])
async def test_non_tls_peer_raises_tls_failed(
    handler: Handler, client_config: ConnectionConfig
) -> None:
    """A peer that does not speak TLS: TLSFailed with the SSL library's reason, at once."""
    async with serve(handler) as port:
        with trio.fail_after(FAST), pytest.raises(TLSFailed) as info:
            await open_stream(f"wss://127.0.0.1:{port}/", client_config)
    assert info.value.ssl_reason
    assert "TLS" in str(info.value)


async def test_tls_failure_through_the_transport_factory(client_config: ConnectionConfig) -> None:
    """open_fast_transport reports the same TLSFailed as open_stream."""
    async with serve(http_answer) as port, trio.open_nursery() as nursery:
        with trio.fail_after(FAST), pytest.raises(TLSFailed):
            await open_fast_transport(nursery, f"wss://127.0.0.1:{port}/", client_config)


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "ws://", "ws://h/#x"])
async def test_invalid_url_raises_config_error(url: str) -> None:
    """A URL that is not a valid ws/wss URL is a configuration error."""
    with pytest.raises(ConfigError):
        await open_stream(url, ConnectionConfig())


# -- successful connections, for real ----------------------------------------------------


async def test_ws_over_loopback_tcp() -> None:
    """ws:// over real TCP: handshake, a message, the server's close."""
    async with serve(websocket_server) as port, trio.open_nursery() as nursery:
        with trio.fail_after(FAST):
            transport = await open_fast_transport(
                nursery, f"ws://127.0.0.1:{port}/x", ConnectionConfig()
            )
            assert await transport.receive_batch() == ["hello"]
            with pytest.raises(TransportClosed) as info:
                await transport.receive_batch()
            assert info.value.reason == RemoteClosed(1000, "")
            await transport.aclose()


async def test_wss_over_loopback_tls(ca: trustme.CA, client_config: ConnectionConfig) -> None:
    """wss:// with a trusted certificate: TLS, handshake, a message, the close."""
    handler = partial(tls_websocket_server, ctx=server_context(ca, "127.0.0.1"))
    async with serve(handler) as port, trio.open_nursery() as nursery:
        with trio.fail_after(FAST):
            transport = await open_fast_transport(
                nursery, f"wss://127.0.0.1:{port}/", client_config
            )
            assert await transport.receive_batch() == ["hello"]
            with pytest.raises(TransportClosed):
                await transport.receive_batch()
            await transport.aclose()


# -- the mapping helpers ------------------------------------------------------------------


def broken(cause: BaseException) -> trio.BrokenResourceError:
    """A BrokenResourceError caused by ``cause``, as Trio raises them."""
    exc = trio.BrokenResourceError()
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (broken(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")), "ECONNRESET"),
        (broken(ssl.SSLError(1, "[SSL] bad record mac")), "TLS error"),
        (trio.ClosedResourceError(), "closed locally"),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), "EPIPE"),
        (trio.BrokenResourceError(), "broke"),
    ],
)
def test_map_stream_errors_gives_network_error(exc: Exception, words: str) -> None:
    """Mid-stream I/O errors become TransportClosed(NetworkError) describing the cause."""
    with pytest.raises(TransportClosed) as info, map_stream_errors():
        raise exc
    assert isinstance(info.value.reason, NetworkError)
    assert words in info.value.reason.details
    assert info.value.__cause__ is exc


def test_map_stream_errors_lets_other_errors_through() -> None:
    """Errors that are not stream errors pass unchanged."""
    assert ValueError not in STREAM_ERRORS
    with pytest.raises(ValueError, match="mine"), map_stream_errors():
        raise ValueError("mine")


def test_map_connect_errors_classifies() -> None:
    """Handshake-phase I/O errors become ConnectFailed; SSL causes become TLSFailed."""
    with pytest.raises(TLSFailed), map_connect_errors("wss://h/"):
        raise broken(ssl.SSLError(1, "[SSL: DECRYPTION_FAILED] x"))
    with (
        pytest.raises(ConnectFailed, match="during the WebSocket handshake"),
        map_connect_errors("ws://h/"),
    ):
        raise broken(ConnectionResetError(errno.ECONNRESET, "reset"))


def test_connect_error_reads_open_tcp_stream_groups() -> None:
    """trio's "all attempts failed" OSError: refused only when every attempt was refused."""
    refused = OSError("all attempts to connect to h:1 failed")
    refused.__cause__ = ExceptionGroup(
        "x", [ConnectionRefusedError(errno.ECONNREFUSED, "a"), OSError(errno.ECONNREFUSED, "b")]
    )
    assert isinstance(connect_error(refused, "ws://h:1/"), ConnectionRefused)
    mixed = OSError("all attempts to connect to h:1 failed")
    mixed.__cause__ = ExceptionGroup(
        "x", [ConnectionRefusedError(errno.ECONNREFUSED, "a"), OSError(errno.ENETUNREACH, "b")]
    )
    err = connect_error(mixed, "ws://h:1/")
    assert type(err) is ConnectFailed
    unreachable = connect_error(OSError(errno.EHOSTUNREACH, "No route to host"), "ws://h:1/")
    assert type(unreachable) is ConnectFailed
    assert "No route to host" in str(unreachable)


def test_rejection_from_trio_websocket_style_headers() -> None:
    """Bytes header pairs (as trio-websocket gives them) build a HandshakeRejected."""
    err = rejection_from_response(
        429,
        [(b"Retry-After", b"12"), (b"Content-Type", b"text/plain")],
        b"slow down",
        url="ws://h/",
    )
    assert (err.status, err.retry_after, err.body) == (429, 12.0, b"slow down")
    assert ("content-type", "text/plain") in err.headers
