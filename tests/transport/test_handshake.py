"""Synchronous tests of the opening handshake (``trio_venues._fastws._handshake``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trio_venues._fastws._deflate import DeflateParams, NegotiationError, accept_response
from trio_venues._fastws._handshake import (
    MAX_BODY_BYTES,
    ClientHandshake,
    HandshakeAccepted,
    accept_key,
    parse_extensions,
    parse_retry_after,
    parse_ws_url,
)
from trio_venues.errors import ConfigError, ConnectFailed, HandshakeRejected

URL = "wss://stream.example.com/stream?streams=btcusdt@trade"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 1.3's example key


def handshake(**kw: object) -> ClientHandshake:
    """A handshake to URL with the RFC's example key."""
    return ClientHandshake(parse_ws_url(URL), key=KEY, url_text=URL, **kw)  # type: ignore[arg-type]


def response_101(*extra: str, accept: str | None = None, upgrade: bool = True) -> bytes:
    """A 101 response for KEY with extra header lines."""
    lines = ["HTTP/1.1 101 Switching Protocols"]
    if upgrade:
        lines.append("Upgrade: websocket")
    lines.append("Connection: Upgrade")
    lines.append(f"Sec-WebSocket-Accept: {accept if accept is not None else accept_key(KEY)}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def accepted(hs: ClientHandshake, data: bytes) -> HandshakeAccepted:
    """Feed a response that must be accepted."""
    result = hs.receive_data(data)
    assert result is not None
    return result


def rejected(hs: ClientHandshake, data: bytes) -> HandshakeRejected:
    """Feed a response that must be rejected; return the error."""
    with pytest.raises(HandshakeRejected) as info:
        hs.receive_data(data)
    return info.value


# -- URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secure", "host", "port", "resource", "host_header"),
    [
        ("ws://h/", False, "h", 80, "/", "h"),
        ("ws://h", False, "h", 80, "/", "h"),
        ("wss://h", True, "h", 443, "/", "h"),
        ("wss://h:443/a", True, "h", 443, "/a", "h"),
        ("ws://h:9001/a/b?x=1&y=2", False, "h", 9001, "/a/b?x=1&y=2", "h:9001"),
        ("WSS://Host.Example:8443", True, "host.example", 8443, "/", "host.example:8443"),
        ("ws://[::1]:8080/x", False, "::1", 8080, "/x", "[::1]:8080"),
        ("ws://127.0.0.1/?a", False, "127.0.0.1", 80, "/?a", "127.0.0.1"),
    ],
)
def test_urls_parse(
    url: str, secure: bool, host: str, port: int, resource: str, host_header: str
) -> None:
    """ws/wss URLs give host, port (defaults 80/443), resource and Host header."""
    u = parse_ws_url(url)
    assert (u.secure, u.host, u.port, u.resource, u.host_header) == (
        secure,
        host,
        port,
        resource,
        host_header,
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://h/",
        "h:80",
        "ws:///path",
        "ws://h:99999/",
        "ws://h/#frag",
        "ws://u:p@h/",
        "ws://h:x/",
    ],
)
def test_bad_urls_raise_config_error(url: str) -> None:
    """Non-ws schemes, no host, bad ports, fragments and credentials are config errors."""
    with pytest.raises(ConfigError):
        parse_ws_url(url)


# -- the request -----------------------------------------------------------------------


def test_request_has_the_websocket_headers_and_user_headers() -> None:
    """The request carries Host, Upgrade, Connection, key, version, offers and user headers."""
    hs = handshake(
        headers=[("X-MBX-APIKEY", "k1"), ("Origin", "https://o")],
        subprotocols=["v2", "v1"],
        compression=True,
    )
    lines = hs.request().decode().split("\r\n")
    assert lines[0] == "GET /stream?streams=btcusdt@trade HTTP/1.1"
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}
    assert headers["host"] == "stream.example.com"
    assert headers["upgrade"] == "websocket"
    assert headers["connection"] == "Upgrade"
    assert headers["sec-websocket-key"] == KEY
    assert headers["sec-websocket-version"] == "13"
    assert headers["sec-websocket-protocol"] == "v2, v1"
    assert headers["sec-websocket-extensions"] == "permessage-deflate; client_max_window_bits"
    assert headers["x-mbx-apikey"] == "k1"
    assert headers["origin"] == "https://o"
    assert headers["user-agent"].startswith("trio-venues")
    assert hs.request().endswith(b"\r\n\r\n")


def test_request_without_offers_has_no_offer_headers() -> None:
    """No subprotocols and no compression: neither header is sent."""
    request = handshake().request().lower()
    assert b"sec-websocket-protocol" not in request
    assert b"sec-websocket-extensions" not in request


def test_host_and_user_agent_may_be_replaced() -> None:
    """A user Host or User-Agent header replaces ours instead of duplicating it."""
    request = handshake(headers=[("host", "other:1"), ("User-Agent", "me/1")]).request()
    assert request.count(b"other:1") == 1
    assert b"stream.example.com" not in request
    assert request.lower().count(b"user-agent") == 1


def test_random_keys_differ() -> None:
    """Each handshake draws a fresh 16-byte key."""
    u = parse_ws_url(URL)
    keys = {ClientHandshake(u).key for _ in range(5)}
    assert len(keys) == 5


@pytest.mark.parametrize(
    "header",
    [
        ("Sec-WebSocket-Key", "x"),
        ("upgrade", "h2c"),
        ("Connection", "close"),
        ("Sec-WebSocket-Extensions", "x"),
        ("X-Evil", "a\r\nInjected: 1"),
        ("Bad Name", "v"),
    ],
)
def test_reserved_or_malformed_headers_are_config_errors(header: tuple[str, str]) -> None:
    """The handshake's own headers can't be replaced, and CR/LF or bad names are refused."""
    with pytest.raises(ConfigError):
        handshake(headers=[header])


# -- the 101 ---------------------------------------------------------------------------


def test_rfc_example_accept_key() -> None:
    """The accept key of RFC 6455's example matches the RFC."""
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_valid_101_fed_byte_by_byte_is_accepted() -> None:
    """A 101 fed byte by byte is accepted at its last byte, with nothing left over."""
    hs = handshake()
    data = response_101()
    for i in range(len(data) - 1):
        assert hs.receive_data(data[i : i + 1]) is None
    result = accepted(hs, data[-1:])
    assert result.leftover == b""
    assert result.subprotocol is None
    assert result.extensions == ()
    assert ("upgrade", "websocket") in result.headers


def test_101_split_across_reads_keeps_all_leftover() -> None:
    """Frames that arrive in the same read as the end of the head are kept."""
    hs = handshake()
    data = response_101() + b"\x81\x01a\x81\x01b"
    assert hs.receive_data(data[:10]) is None
    assert accepted(hs, data[10:]).leftover == b"\x81\x01a\x81\x01b"


def test_101_after_100_continue_is_accepted() -> None:
    """An interim 1xx response is skipped."""
    hs = handshake()
    assert accepted(hs, b"HTTP/1.1 100 Continue\r\n\r\n" + response_101()).leftover == b""


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (response_101(upgrade=False), "Upgrade"),
        (response_101(accept="s3pPLMBiTxaQ9kYGzzhZRbK+xOX="), "Accept"),
        (response_101(accept=""), "Accept"),
        (response_101(f"Sec-WebSocket-Accept: {accept_key(KEY)}"), "Accept"),
        (
            b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
            + f"Sec-WebSocket-Accept: {accept_key(KEY)}\r\n\r\n".encode(),
            "Connection",
        ),
        (
            b"HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept_key(KEY)}\r\n\r\n".encode(),
            "Upgrade",
        ),
    ],
)
def test_invalid_101_is_rejected_with_status_101(data: bytes, problem: str) -> None:
    """A 101 without Upgrade/Connection or with a wrong accept key is HandshakeRejected(101)."""
    err = rejected(handshake(), data)
    assert err.status == 101
    assert problem in str(err)
    assert not err.retryable


def test_subprotocol_we_offered_is_accepted() -> None:
    """The server may pick one of our subprotocols."""
    hs = handshake(subprotocols=["v1", "v2"])
    assert accepted(hs, response_101("Sec-WebSocket-Protocol: v2")).subprotocol == "v2"


@pytest.mark.parametrize(
    ("offered", "answer"),
    [([], "v1"), (["v1"], "v3"), (["v1", "v2"], "v1, v2")],
)
def test_subprotocol_we_did_not_offer_is_rejected(offered: list[str], answer: str) -> None:
    """A subprotocol not offered (or several) fails the handshake."""
    err = rejected(
        handshake(subprotocols=offered), response_101(f"Sec-WebSocket-Protocol: {answer}")
    )
    assert err.status == 101


def test_permessage_deflate_negotiated_with_parameters() -> None:
    """An accepted permessage-deflate offer returns its parameters."""
    hs = handshake(compression=True)
    result = accepted(
        hs,
        response_101(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
            'client_no_context_takeover; server_max_window_bits=10; client_max_window_bits="9"'
        ),
    )
    assert result.extensions == ("permessage-deflate",)
    assert result.deflate == DeflateParams(True, True, 10, 9)


def test_server_may_decline_compression() -> None:
    """No extension header in the 101: no compression."""
    result = accepted(handshake(compression=True), response_101())
    assert result.deflate is None
    assert result.extensions == ()


@pytest.mark.parametrize(
    ("compression", "header"),
    [
        (False, "permessage-deflate"),
        (True, "x-webkit-deflate-frame"),
        (True, "permessage-deflate, permessage-deflate"),
        (True, "permessage-deflate; unknown_param"),
        (True, "permessage-deflate; server_max_window_bits=16"),
        (True, "permessage-deflate; server_max_window_bits=7"),
        (True, "permessage-deflate; server_max_window_bits"),
        (True, "permessage-deflate; client_max_window_bits"),
        (True, "permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
        (True, "permessage-deflate; server_no_context_takeover=1"),
        (True, 'permessage-deflate; server_max_window_bits="10'),
        (True, "permessage-deflate; server_max_window_bits=010"),
    ],
)
def test_extension_not_offered_or_unacceptable_is_rejected(compression: bool, header: str) -> None:
    """An extension we did not offer, or parameters we can't accept, fail the handshake."""
    err = rejected(
        handshake(compression=compression), response_101(f"Sec-WebSocket-Extensions: {header}")
    )
    assert err.status == 101


def test_deflate_parameter_validation() -> None:
    """accept_response takes valid parameters and refuses duplicates and unknowns."""
    assert accept_response([("Server_Max_Window_Bits", "8")]) == DeflateParams(
        server_max_window_bits=8
    )
    with pytest.raises(NegotiationError):
        accept_response([("client_max_window_bits", "abc")])


def test_extension_header_parser() -> None:
    """Lists, parameters, quoted values and empty elements parse per RFC 6455 9.1."""
    assert parse_extensions(['a; x=1; y, b; z="q;,\\"s"', " , c"]) == [
        ("a", [("x", "1"), ("y", None)]),
        ("b", [("z", 'q;,"s')]),
        ("c", []),
    ]


# -- rejections ------------------------------------------------------------------------


def test_403_is_rejected_with_headers_and_body() -> None:
    """A 403 with a body is HandshakeRejected(403) carrying both; not retryable."""
    body = b'{"code":-2015,"msg":"Invalid API-key"}'
    err = rejected(
        handshake(),
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body,
    )
    assert (err.status, err.body, err.retry_after, err.retryable) == (403, body, None, False)
    assert ("content-type", "application/json") in err.headers
    assert "403" in str(err)


def test_429_with_retry_after_seconds() -> None:
    """A 429 reports Retry-After in seconds and is retryable."""
    err = rejected(
        handshake(),
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
    )
    assert (err.status, err.retry_after, err.retryable) == (429, 120.0, True)
    assert "120" in str(err)


def test_503_with_retry_after_http_date_relative_to_date_header() -> None:
    """An HTTP-date Retry-After is measured from the response's Date header."""
    err = rejected(
        handshake(),
        b"HTTP/1.1 503 Service Unavailable\r\nDate: Wed, 21 Oct 2026 07:28:00 GMT\r\n"
        b"Retry-After: Wed, 21 Oct 2026 07:29:30 GMT\r\nContent-Length: 0\r\n\r\n",
    )
    assert (err.status, err.retry_after, err.retryable) == (503, 90.0, True)


def test_rejection_body_arriving_later_is_collected() -> None:
    """The body of a rejection may arrive after its head."""
    hs = handshake()
    assert hs.receive_data(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbu") is None
    pending = hs.pending_rejection
    assert pending is not None
    assert (pending.status, pending.body) == (503, b"bu")
    assert rejected(hs, b"sy").body == b"busy"


def test_rejection_body_until_eof_and_its_cap() -> None:
    """A body without length ends with the connection; bodies are cut at 64 KiB."""
    hs = handshake()
    assert hs.receive_data(b"HTTP/1.1 500 Oops\r\n\r\npartial") is None
    with pytest.raises(HandshakeRejected) as info:
        hs.receive_eof()
    assert (info.value.status, info.value.body) == (500, b"partial")
    big = b"x" * (MAX_BODY_BYTES + 10)
    err = rejected(handshake(), b"HTTP/1.1 502 Bad\r\nContent-Length: 70000\r\n\r\n" + big)
    assert err.body == big[:MAX_BODY_BYTES]


def test_eof_before_any_response_is_connect_failed() -> None:
    """The server closing before answering is ConnectFailed, not a rejection."""
    hs = handshake()
    hs.receive_data(b"HTTP/1.1 10")
    with pytest.raises(ConnectFailed) as info:
        hs.receive_eof()
    assert not isinstance(info.value, HandshakeRejected)


def test_non_http_answer_is_connect_failed() -> None:
    """Garbage instead of HTTP fails the connect with ConnectFailed."""
    with pytest.raises(ConnectFailed, match="invalid HTTP"):
        handshake().receive_data(b"SSH-2.0-OpenSSH_9.0\r\n\r\n")


def test_oversized_head_is_refused() -> None:
    """A response head over 16 KiB fails instead of growing a buffer."""
    head = b"HTTP/1.1 101 OK\r\n" + b"".join(
        b"X-Pad-%d: %s\r\n" % (i, b"y" * 900) for i in range(20)
    )
    with pytest.raises(ConnectFailed, match="over 16384 bytes"):
        handshake().receive_data(head)


def test_too_many_headers_are_refused() -> None:
    """More than 128 header lines fail the connect."""
    lines = "".join(f"X-{i}: v\r\n" for i in range(200))
    with pytest.raises(ConnectFailed, match="headers"):
        handshake().receive_data(f"HTTP/1.1 403 No\r\n{lines}\r\n".encode())


@pytest.mark.parametrize(
    ("value", "date", "seconds"),
    [
        ("0", None, 0.0),
        (" 7 ", None, 7.0),
        ("Wed, 21 Oct 2026 07:28:10 GMT", "Wed, 21 Oct 2026 07:28:00 GMT", 10.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT", 0.0),
        ("soon", None, None),
        ("-5", None, None),
    ],
)
def test_parse_retry_after(value: str, date: str | None, seconds: float | None) -> None:
    """Retry-After: delay-seconds, or an HTTP-date measured from Date; never negative."""
    assert parse_retry_after(value, date=date) == seconds


def test_parse_retry_after_uses_now_without_date() -> None:
    """Without a Date header an HTTP-date is measured from the given wall-clock time."""
    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:05 GMT", now=now) == 5.0
