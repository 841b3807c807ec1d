"""The opening handshake (RFC 6455 section 4), client side, sans-I/O.

:class:`ClientHandshake` builds the HTTP/1.1 upgrade request and parses the
server's answer; the Trio shell only moves the bytes. h11 does the HTTP
parsing (status line, header syntax, bodies in every framing, the 16 KiB head
limit) so we do not hand-roll an HTTP parser; this module adds what is
WebSocket-specific:

- ``Sec-WebSocket-Key`` (16 random bytes) and the check of
  ``Sec-WebSocket-Accept`` = base64(SHA-1(key + GUID)) (RFC 6455 4.2.2);
- ``Upgrade: websocket`` and ``Connection: Upgrade`` in the 101;
- subprotocols: the server may pick at most one of ours, or none (4.1 item 6);
- extensions: only ``permessage-deflate``, only when offered, with
  parameters we accept (:mod:`._deflate`) (4.1 item 5);
- a rejection (any status but 101) becomes
  :class:`~trio_venues.errors.HandshakeRejected` with its status, headers,
  body (at most 64 KiB) and ``Retry-After``; a 101 that fails a check above is
  a ``HandshakeRejected`` with status 101.

Limits: the response head may be at most 16 KiB with at most 128 header
lines; a larger one fails the connect instead of growing a buffer.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Final, NoReturn
from urllib.parse import urlsplit

import attrs
import h11

from ..errors import ConfigError, ConnectFailed, HandshakeRejected
from ._deflate import (
    EXTENSION_NAME,
    DeflateParams,
    NegotiationError,
    _excerpt,
    accept_response,
    client_offer,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEADERS",
    "MAX_HEAD_BYTES",
    "ClientHandshake",
    "HandshakeAccepted",
    "WsUrl",
    "accept_key",
    "parse_extensions",
    "parse_retry_after",
    "parse_ws_url",
    "rejection_from_response",
]

# RFC 6455 1.3: the GUID concatenated to the key before hashing.
_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: Largest response head (status line + headers) we read.
MAX_HEAD_BYTES: Final = 16 * 1024
#: Most header lines we accept in a response.
MAX_HEADERS: Final = 128
#: Most bytes of a rejection's body we keep.
MAX_BODY_BYTES: Final = 64 * 1024
# Retry-After delay-seconds longer than this many digits count as infinite.
_MAX_DELAY_DIGITS: Final = 15

# Headers the handshake itself sets; a user header may not replace them.
_RESERVED_HEADERS: Final = frozenset(
    {
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
        "content-length",
        "transfer-encoding",
    }
)


def _user_agent() -> str:
    try:
        return f"trio-venues/{version('trio_venues')}"
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "trio-venues"


_USER_AGENT: Final = _user_agent()


@attrs.frozen
class WsUrl:
    """A parsed ``ws://`` or ``wss://`` URL.

    Attributes:
        secure: ``wss``.
        host: the host to connect to (IPv6 literals without brackets).
        port: the TCP port (80/443 by default).
        resource: path and query, as the request target.
        host_header: the ``Host`` header value (port only when not the default).
    """

    secure: bool
    host: str
    port: int
    resource: str
    host_header: str


def parse_ws_url(url: str) -> WsUrl:
    """Parse a WebSocket URL (RFC 6455 section 3).

    Raises:
        ConfigError: not ``ws``/``wss``, no host, a bad port, a fragment, or
            credentials in the URL (pass an ``Authorization`` header instead).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"invalid WebSocket URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ConfigError(f"a WebSocket URL starts with ws:// or wss://, got {url!r}")
    host = parts.hostname
    if not host:
        raise ConfigError(f"the WebSocket URL {url!r} has no host")
    if parts.fragment or url.endswith("#"):
        raise ConfigError(f"a WebSocket URL may not have a #fragment (RFC 6455 3): {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"credentials in the URL are not supported: {url!r}; send an Authorization header "
            "with headers= instead"
        )
    secure = scheme == "wss"
    default_port = 443 if secure else 80
    if port is None:
        port = default_port
    resource = parts.path or "/"
    if parts.query:
        resource = f"{resource}?{parts.query}"
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if port == default_port else f"{bracketed}:{port}"
    return WsUrl(secure=secure, host=host, port=port, resource=resource, host_header=host_header)


def accept_key(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value the server must send for ``key``."""
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_retry_after(
    value: str, *, date: str | None = None, now: datetime | None = None
) -> float | None:
    """Return the seconds a ``Retry-After`` value asks us to wait, or ``None``.

    Args:
        value: delay-seconds (``"120"``) or an HTTP-date (RFC 9110 10.2.3).
        date: the response's ``Date`` header; an HTTP-date is measured from it
            when present, so the server's and our clocks need not agree.
        now: the wall-clock time otherwise (default: now). A wall clock, not
            Trio's: an HTTP-date is a calendar time.

    Returns:
        Seconds (never negative), or ``None`` when the value is not valid.
    """
    value = value.strip()
    if value.isascii() and value.isdigit():
        # RFC 9110 10.2.3: delay-seconds is 1*DIGIT. More than 15 digits is
        # longer than any clock runs (and int() refuses 4,300+ digits, float()
        # overflows past ~308): it means "a very long time", which the retry
        # policy caps (RetryPolicy.max_retry_after).
        return float(int(value)) if len(value) <= _MAX_DELAY_DIGITS else math.inf
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    reference: datetime | None = None
    if date is not None:
        try:
            reference = parsedate_to_datetime(date.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            reference = None
    if reference is None:
        reference = now if now is not None else datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    return max(0.0, (when - reference).total_seconds())


def _text(value: bytes | bytearray | str) -> str:
    return value if isinstance(value, str) else bytes(value).decode("latin-1")


def rejection_from_response(
    status: int,
    headers: Iterable[tuple[bytes | str, bytes | str]],
    body: bytes,
    *,
    url: str,
    problem: str = "",
) -> HandshakeRejected:
    """Build the :class:`~trio_venues.errors.HandshakeRejected` for a refused upgrade.

    Transport-neutral: the trio-websocket transport can pass
    ``ConnectionRejected``'s ``status_code``, ``headers`` and ``body``.

    Args:
        status: the HTTP status (101 when the 101 itself was invalid).
        headers: response headers as (name, value) pairs, bytes or str.
        body: the response body (cut to 64 KiB).
        url: the URL being opened.
        problem: for a 101, what was wrong with it.
    """
    pairs = tuple((_text(k).lower(), _text(v)) for k, v in headers)
    retry_after: float | None = None
    raw_retry = next((v for k, v in pairs if k == "retry-after"), None)
    if raw_retry is not None:
        date = next((v for k, v in pairs if k == "date"), None)
        retry_after = parse_retry_after(raw_retry, date=date)
    if status == 101:
        message = (
            f"{url} answered the WebSocket upgrade with an invalid 101 response: {problem}; "
            "the server (or a proxy in between) does not speak RFC 6455 correctly"
        )
    else:
        message = f"{url} rejected the WebSocket upgrade with HTTP {status}"
        if retry_after is not None:
            message += f"; it asks to retry after {retry_after:g}s"
        elif status in (401, 403):
            message += "; check the URL, credentials and headers"
        elif status >= 500:
            message += "; the server has a problem: retry later"
    return HandshakeRejected(
        message,
        status=status,
        headers=pairs,
        body=bytes(body[:MAX_BODY_BYTES]),
        retry_after=retry_after,
        url=url,
    )


def parse_extensions(values: Iterable[str]) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Parse ``Sec-WebSocket-Extensions`` values (RFC 6455 9.1) into (name, params).

    Raises:
        ValueError: the syntax is invalid (an empty name or parameter name,
            an unterminated quoted string).
    """
    result: list[tuple[str, list[tuple[str, str | None]]]] = []
    for value in values:
        for element in _split_outside_quotes(value, ","):
            if not element.strip():
                continue  # RFC 9110 5.6.1: empty list elements are ignored
            name, *raw_params = _split_outside_quotes(element, ";")
            name = name.strip()
            if not name:
                raise ValueError(f"an extension without a name in {_excerpt(value)}")
            params: list[tuple[str, str | None]] = []
            for raw in raw_params:
                key, sep, val = raw.partition("=")
                key = key.strip()
                if not key:
                    raise ValueError(f"an extension parameter without a name in {_excerpt(value)}")
                if not sep:
                    params.append((key, None))
                    continue
                val = val.strip()
                if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
                    val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                params.append((key, val))
            result.append((name, params))
    return result


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quoted:
        raise ValueError(f"an unterminated quoted string in {_excerpt(text)}")
    parts.append("".join(current))
    return parts


def _tokens(values: Iterable[str]) -> set[str]:
    return {t.strip().lower() for v in values for t in v.split(",") if t.strip()}


@attrs.frozen
class HandshakeAccepted:
    """The server accepted the upgrade.

    Attributes:
        subprotocol: the subprotocol the server picked, if any.
        extensions: the negotiated extensions by name (``("permessage-deflate",)`` or ``()``).
        deflate: the permessage-deflate parameters when negotiated.
        headers: the 101's headers as (lower-case name, value) pairs.
        leftover: bytes that followed the response head: the first frames.
    """

    subprotocol: str | None
    extensions: tuple[str, ...]
    deflate: DeflateParams | None
    headers: tuple[tuple[str, str], ...]
    leftover: bytes


class ClientHandshake:
    """The client side of one opening handshake.

    Args:
        url: where we connect (:func:`parse_ws_url`).
        headers: extra request headers (``Host`` and ``User-Agent`` may be
            replaced; the WebSocket headers may not).
        subprotocols: offered in order of preference.
        compression: offer permessage-deflate.
        key: the ``Sec-WebSocket-Key`` (random unless a test fixes it).
        url_text: the URL as the user wrote it, for error messages.

    Raises:
        ConfigError: a header is reserved or contains CR/LF or invalid characters.
    """

    def __init__(
        self,
        url: WsUrl,
        *,
        headers: Sequence[tuple[str, str]] = (),
        subprotocols: Sequence[str] = (),
        compression: bool = False,
        key: str | None = None,
        url_text: str = "",
    ) -> None:
        self._url = url_text or (
            f"{'wss' if url.secure else 'ws'}://{url.host_header}{url.resource}"
        )
        self.key = key if key is not None else base64.b64encode(os.urandom(16)).decode("ascii")
        self._subprotocols = tuple(subprotocols)
        self._compression = compression
        user: dict[str, tuple[str, str]] = {}
        for name, value in headers:
            lname = name.lower()
            if lname in _RESERVED_HEADERS:
                raise ConfigError(
                    f"header {name!r} is set by the WebSocket handshake and cannot be given in "
                    "headers=; use subprotocols= or compression= where that is what you need"
                )
            if any(c in name + value for c in "\r\n\0"):
                raise ConfigError(f"header {name!r} contains a line break or NUL")
            user[lname] = (name, value)
        request_headers: list[tuple[str, str]] = [
            user.pop("host", ("Host", url.host_header)),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", self.key),
            ("Sec-WebSocket-Version", "13"),
        ]
        if self._subprotocols:
            request_headers.append(("Sec-WebSocket-Protocol", ", ".join(self._subprotocols)))
        if compression:
            request_headers.append(("Sec-WebSocket-Extensions", client_offer()))
        request_headers.append(user.pop("user-agent", ("User-Agent", _USER_AGENT)))
        request_headers.extend(user.values())
        self._http = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        try:
            self._request = self._http.send(
                h11.Request(method="GET", target=url.resource, headers=request_headers)
            ) + (self._http.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError as exc:
            raise ConfigError(f"invalid handshake request header or URL: {exc}") from None
        self._rejected: h11.Response | None = None
        self._body = bytearray()

    def request(self) -> bytes:
        """Return the request bytes to send."""
        return self._request

    @property
    def pending_rejection(self) -> HandshakeRejected | None:
        """After a non-101 head arrived: the rejection, with the body received so far.

        The shell reads the body for a short while and raises this when it
        stops waiting.
        """
        if self._rejected is None:
            return None
        return self._rejection()

    def receive_data(self, data: bytes | bytearray) -> HandshakeAccepted | None:
        """Feed response bytes.

        Returns:
            The accepted handshake, or ``None`` when more bytes are needed.

        Raises:
            HandshakeRejected: a complete rejection, or an invalid 101.
            ConnectFailed: the response is not valid HTTP or is too large.
        """
        self._http.receive_data(bytes(data))
        return self._next()

    def receive_eof(self) -> NoReturn:
        """The server closed the connection before the handshake finished.

        Raises:
            HandshakeRejected: a rejection whose body ended with the connection.
            ConnectFailed: no complete response arrived.
        """
        if self._rejected is not None:
            raise self._rejection()
        raise ConnectFailed(
            f"{self._url} closed the connection before answering the WebSocket upgrade; "
            "check that the URL points at a WebSocket endpoint",
            url=self._url,
        )

    def _next(self) -> HandshakeAccepted | None:
        while True:
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError as exc:
                if self._rejected is not None:
                    raise self._rejection() from None
                if "too long" in str(exc):
                    raise ConnectFailed(
                        f"{self._url} answered the WebSocket upgrade with a response head over "
                        f"{MAX_HEAD_BYTES} bytes; refusing to buffer more",
                        url=self._url,
                    ) from None
                raise ConnectFailed(
                    f"{self._url} answered the WebSocket upgrade with invalid HTTP: {exc}",
                    url=self._url,
                ) from None
            if event is h11.NEED_DATA:
                return None
            if isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    return self._accept(event)
                continue  # 1xx such as 100 Continue: the real answer follows
            if isinstance(event, h11.Response):
                self._check_header_count(event.headers)
                self._rejected = event
                continue
            if isinstance(event, h11.Data):
                room = MAX_BODY_BYTES - len(self._body)
                self._body += event.data[:room]
                if len(self._body) >= MAX_BODY_BYTES:
                    raise self._rejection()
                continue
            # EndOfMessage, ConnectionClosed or PAUSED: the rejection is complete.
            raise self._rejection()

    def _check_header_count(self, headers: Sequence[tuple[bytes, bytes]]) -> None:
        if len(headers) > MAX_HEADERS:
            raise ConnectFailed(
                f"{self._url} answered the WebSocket upgrade with {len(headers)} headers "
                f"(at most {MAX_HEADERS} are accepted)",
                url=self._url,
            )

    def _rejection(self) -> HandshakeRejected:
        assert self._rejected is not None
        return rejection_from_response(
            self._rejected.status_code, self._rejected.headers, bytes(self._body), url=self._url
        )

    def _invalid_101(self, headers: Sequence[tuple[str, str]], problem: str) -> HandshakeRejected:
        return rejection_from_response(101, headers, b"", url=self._url, problem=problem)

    def _accept(self, event: h11.InformationalResponse) -> HandshakeAccepted:
        self._check_header_count(event.headers)
        headers = tuple((_text(k).lower(), _text(v)) for k, v in event.headers)

        def values(name: str) -> list[str]:
            return [v for k, v in headers if k == name]

        if "websocket" not in _tokens(values("upgrade")):
            raise self._invalid_101(headers, "no 'Upgrade: websocket' header")
        if "upgrade" not in _tokens(values("connection")):
            raise self._invalid_101(headers, "no 'Connection: Upgrade' header")
        accepts = values("sec-websocket-accept")
        if len(accepts) != 1 or accepts[0].strip() != accept_key(self.key):
            raise self._invalid_101(headers, "a wrong or missing Sec-WebSocket-Accept key")
        subprotocol = self._subprotocol(headers, values("sec-websocket-protocol"))
        deflate = self._extensions(headers, values("sec-websocket-extensions"))
        leftover, _closed = self._http.trailing_data
        return HandshakeAccepted(
            subprotocol=subprotocol,
            extensions=(EXTENSION_NAME,) if deflate is not None else (),
            deflate=deflate,
            headers=headers,
            leftover=bytes(leftover),
        )

    def _subprotocol(self, headers: Sequence[tuple[str, str]], found: list[str]) -> str | None:
        chosen = [t.strip() for v in found for t in v.split(",") if t.strip()]
        if not chosen:
            return None
        if len(chosen) > 1:
            raise self._invalid_101(headers, f"the server chose several subprotocols {chosen}")
        if chosen[0] not in self._subprotocols:
            raise self._invalid_101(
                headers,
                f"the server chose subprotocol {chosen[0]!r}, which we did not offer "
                f"(offered: {list(self._subprotocols)})",
            )
        return chosen[0]

    def _extensions(
        self, headers: Sequence[tuple[str, str]], found: list[str]
    ) -> DeflateParams | None:
        try:
            parsed = parse_extensions(found)
        except ValueError as exc:
            raise self._invalid_101(
                headers, f"an invalid Sec-WebSocket-Extensions: {exc}"
            ) from None
        if not parsed:
            return None
        names = [name for name, _ in parsed]
        if not self._compression or names != [EXTENSION_NAME]:
            offered = [EXTENSION_NAME] if self._compression else []
            raise self._invalid_101(
                headers,
                f"the server negotiated extensions {names}, but we offered {offered}",
            )
        try:
            return accept_response(parsed[0][1])
        except NegotiationError as exc:
            raise self._invalid_101(headers, f"unacceptable permessage-deflate: {exc}") from None
