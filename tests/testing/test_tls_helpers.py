"""TLS helpers: the fake venue over wss:// with good and bad certificates."""

from __future__ import annotations

import ssl

import pytest
import trio

from trio_venues.testing import FakeVenueServer, GenericVenue, TLSCerts


async def start_tls(
    nursery: trio.Nursery, context: ssl.SSLContext
) -> FakeVenueServer[GenericVenue]:
    """A fake venue serving wss:// with ``context``."""
    server = FakeVenueServer(ssl_context=context, handshake_timeout=2.0)
    await nursery.start(server.serve_tcp)
    return server


async def test_good_certificate_serves_wss(nursery: trio.Nursery, tls_certs: TLSCerts) -> None:
    """The good server context works with the trusting client context; the URL is wss://."""
    server = await start_tls(nursery, tls_certs.server)
    assert server.url == f"wss://127.0.0.1:{server.port}/"
    client, conn = await server.connect_raw("/?topics=t", tcp=True, ssl_context=tls_certs.client)
    await server.push("t", "secret")
    assert '"secret"' in await client.receive_text()
    assert isinstance(client.stream, trio.SSLStream)
    assert conn.subscriptions == {"t"}


@pytest.mark.parametrize(
    ("which", "verify_message"),
    [
        ("untrusted_server", "unable to get local issuer certificate"),
        ("wrong_host_server", "certificate is not valid for '127.0.0.1'"),
        ("expired_server", "certificate has expired"),
    ],
)
async def test_bad_certificates_fail_verification(
    nursery: trio.Nursery, tls_certs: TLSCerts, which: str, verify_message: str
) -> None:
    """Untrusted CA, wrong hostname and expired certificates fail the client's verification."""
    server = await start_tls(nursery, getattr(tls_certs, which))
    with pytest.raises(trio.BrokenResourceError) as info:
        await server.open_raw(tcp=True, ssl_context=tls_certs.client)
    cause = info.value.__cause__
    assert isinstance(cause, ssl.SSLCertVerificationError)
    assert verify_message in str(cause)
    await server.wait_until(lambda s: s.tls_failures == 1)
    assert server.connected_count == 0


async def test_plain_client_against_a_tls_server(
    nursery: trio.Nursery, tls_certs: TLSCerts
) -> None:
    """A plain-text HTTP upgrade to a wss server is a TLS failure on the server's side."""
    server = await start_tls(nursery, tls_certs.server)
    assert server.port is not None
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    try:
        await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await server.wait_until(lambda s: s.tls_failures == 1)
    finally:
        await stream.aclose()


async def test_tls_client_against_a_plain_server(
    nursery: trio.Nursery, tls_certs: TLSCerts
) -> None:
    """A TLS ClientHello to a plain server never completes: the server drops it."""
    server = FakeVenueServer(handshake_timeout=0.2)
    await nursery.start(server.serve_tcp)
    assert server.port is not None
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    tls = trio.SSLStream(stream, tls_certs.client, server_hostname="127.0.0.1")
    try:
        with pytest.raises(trio.BrokenResourceError):
            await tls.do_handshake()
    finally:
        await stream.aclose()
    assert (server.attempts, len(server.requests)) == (1, 0)


def test_contexts_have_the_right_purposes(tls_certs: TLSCerts) -> None:
    """The client context verifies hostnames; server contexts are server-side."""
    assert tls_certs.client.check_hostname
    assert tls_certs.client.verify_mode == ssl.CERT_REQUIRED
    for ctx in (tls_certs.server, tls_certs.expired_server, tls_certs.wrong_host_server):
        assert ctx.verify_mode == ssl.CERT_NONE
        assert not ctx.check_hostname
