"""The one place where transport, OS, SSL and library exceptions become ours.

Two phases, two vocabularies:

- **Opening** (DNS, TCP, TLS, the upgrade): a failure raises a
  :class:`~trio_venues.errors.ConnectFailed` subclass. :func:`open_stream`
  opens TCP (and TLS for ``wss://``) and maps its failures itself;
  :func:`map_connect_errors` maps I/O failures of a transport's own handshake.
- **Open** (after the handshake): an I/O failure becomes
  :class:`~trio_venues._transport.TransportClosed` carrying
  :class:`~trio_venues.reasons.NetworkError` (:func:`map_stream_errors`,
  :func:`transport_closed`, and :data:`STREAM_ERRORS` for ``except`` clauses
  on hot paths where a context manager per call would cost too much).

Both transports (the fast one and trio-websocket) use these, so the same
fault reads the same whatever transport is configured.

Why TLS is done here and at once: trio-websocket performs the TLS handshake
lazily inside its first write, and a certificate failure there surfaced as a
60 s ``ConnectionTimeout`` with the SSL reason lost (``docs/reliability.md``,
"TLS failures and connect timeouts").
:func:`open_stream` runs ``do_handshake()`` before returning, so a bad
certificate, a wrong host name or a non-TLS peer raise
:class:`~trio_venues.errors.TLSFailed` within one round trip, keeping the
SSL library's reason (``CERTIFICATE_VERIFY_FAILED``, ``WRONG_VERSION_NUMBER``...).
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

import trio

from ._fastws._handshake import parse_ws_url, rejection_from_response
from ._transport_types import TransportClosed
from .errors import (
    ConnectFailed,
    ConnectionRefused,
    NameResolutionFailed,
    TLSFailed,
)
from .reasons import NetworkError

if TYPE_CHECKING:
    from ._config import ConnectionConfig

__all__ = [
    "STREAM_ERRORS",
    "connect_error",
    "default_ssl_context",
    "describe_stream_error",
    "map_connect_errors",
    "map_stream_errors",
    "network_error",
    "open_stream",
    "rejection_from_response",
    "tls_error",
    "transport_closed",
]

#: What a Trio stream raises when the connection breaks or was closed under
#: us. ``OSError`` covers ``ssl.SSLError`` and socket errors that escape
#: unwrapped. Catch this tuple, then call :func:`transport_closed`.
STREAM_ERRORS: Final[tuple[type[Exception], ...]] = (
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    OSError,
)

_default_context: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    """Return the shared default client context (system CAs, hostname checks).

    Built once: ``ssl.create_default_context()`` loads the system CA store,
    which takes tens of milliseconds, far too slow to repeat per connect.
    """
    global _default_context
    if _default_context is None:
        _default_context = ssl.create_default_context()
    return _default_context


def _root_cause(exc: BaseException) -> BaseException:
    """Follow ``__cause__`` (Trio wraps SSL and socket errors) to the original error."""
    seen = 0
    while exc.__cause__ is not None and seen < 8:
        exc = exc.__cause__
        seen += 1
    return exc


def describe_stream_error(exc: BaseException) -> str:
    """Say in words what broke a stream, from the innermost cause."""
    if isinstance(exc, trio.ClosedResourceError):
        return "the connection was closed locally"
    root = _root_cause(exc)
    if isinstance(root, ssl.SSLError):
        return f"TLS error: {getattr(root, 'reason', None) or type(root).__name__} ({root})"
    if isinstance(root, OSError):
        name = errno.errorcode.get(root.errno or 0, "")
        text = root.strerror or str(root) or type(root).__name__
        return f"{text} ({name})" if name else text
    if root is not exc:
        return f"{type(root).__name__}: {root}"
    return f"the connection broke ({type(exc).__name__}{f': {exc}' if str(exc) else ''})"


def network_error(exc: BaseException) -> NetworkError:
    """Return the :class:`~trio_venues.reasons.NetworkError` for a mid-stream I/O failure."""
    return NetworkError(describe_stream_error(exc))


def transport_closed(exc: BaseException) -> TransportClosed:
    """Return the ``TransportClosed(NetworkError(...))`` to raise for a mid-stream failure."""
    return TransportClosed(network_error(exc))


@contextmanager
def map_stream_errors() -> Iterator[None]:
    """Turn :data:`STREAM_ERRORS` raised inside into ``TransportClosed(NetworkError)``.

    ``trio.Cancelled`` and every other exception pass through unchanged.
    """
    try:
        yield
    except STREAM_ERRORS as exc:
        raise transport_closed(exc) from exc


def _all_refused(exc: BaseException) -> bool:
    """Whether every connection attempt behind ``exc`` was refused.

    ``trio.open_tcp_stream`` raises a plain ``OSError("all attempts ... failed")``
    whose ``__cause__`` is an ``ExceptionGroup`` of the per-address errors.
    """
    if isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED
    ):
        return True
    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup):
        leaves = list(_leaves(cause))
        return bool(leaves) and all(_all_refused(e) for e in leaves)
    return False


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def tls_error(exc: BaseException, url: str) -> TLSFailed:
    """Return the :class:`~trio_venues.errors.TLSFailed` for a failed TLS handshake.

    ``ssl_reason`` is the SSL library's reason code (``CERTIFICATE_VERIFY_FAILED``,
    ``WRONG_VERSION_NUMBER``, ``UNEXPECTED_EOF_WHILE_READING``...), or the
    error's class name when the library gave none.
    """
    root = _root_cause(exc)
    if isinstance(root, ssl.SSLCertVerificationError):
        reason = root.reason or "CERTIFICATE_VERIFY_FAILED"
        detail = root.verify_message or str(root)
        return TLSFailed(
            f"TLS with {url} failed: the server's certificate was refused ({detail}); check the "
            "host name in the URL, or pass ssl_context= trusting the right CA",
            url=url,
            ssl_reason=reason,
        )
    if isinstance(root, ssl.SSLError):
        reason = getattr(root, "reason", None) or type(root).__name__
        return TLSFailed(
            f"TLS with {url} failed ({reason}: {root}); the server may not speak TLS on this "
            "port: check ws:// vs wss:// and the port",
            url=url,
            ssl_reason=reason,
        )
    reason = type(root).__name__
    return TLSFailed(
        f"TLS with {url} failed: the server closed or broke the connection during the TLS "
        f"handshake ({describe_stream_error(exc)}); it may not speak TLS on this port",
        url=url,
        ssl_reason=reason,
    )


def connect_error(exc: BaseException, url: str, *, during: str = "connect") -> ConnectFailed:
    """Return the :class:`~trio_venues.errors.ConnectFailed` subclass for ``exc``.

    Args:
        exc: what opening raised: ``socket.gaierror``, ``OSError`` (including
            ``trio.open_tcp_stream``'s "all attempts failed"),
            ``trio.BrokenResourceError``/``ClosedResourceError`` (SSL causes
            become :class:`~trio_venues.errors.TLSFailed`).
        url: the URL being opened, for the message.
        during: the phase, for the message ("connect", "the WebSocket handshake").
    """
    if isinstance(exc, ConnectFailed):
        return exc
    if isinstance(exc, socket.gaierror):
        host = _host_of(url)
        return NameResolutionFailed(
            f"could not resolve the host {host!r} of {url} ({exc.strerror or exc}); check the "
            "URL and your DNS",
            url=url,
        )
    if _all_refused(exc):
        return ConnectionRefused(
            f"{url} refused the connection: nothing listens on that port; check the URL and port",
            url=url,
        )
    root = _root_cause(exc)
    if isinstance(root, ssl.SSLError):
        return tls_error(exc, url)
    return ConnectFailed(
        f"could not {during} {url}: {describe_stream_error(exc)}"
        if during == "connect"
        else f"the connection to {url} failed during {during}: {describe_stream_error(exc)}",
        url=url,
    )


def _host_of(url: str) -> str:
    try:
        return parse_ws_url(url).host
    except ValueError:
        return url


@contextmanager
def map_connect_errors(url: str, *, during: str = "the WebSocket handshake") -> Iterator[None]:
    """Turn :data:`STREAM_ERRORS` raised inside into :func:`connect_error`'s result.

    For a transport's handshake over a stream from :func:`open_stream`.
    ``trio.Cancelled`` (e.g. the session's ``connect_timeout``) passes through.
    """
    try:
        yield
    except STREAM_ERRORS as exc:
        raise connect_error(exc, url, during=during) from exc


async def open_stream(url: str, config: ConnectionConfig) -> trio.abc.Stream:
    """Open TCP, and TLS for ``wss://``, to the host of a WebSocket URL.

    The TLS handshake runs here, before returning, so TLS failures surface at
    once (not as a timeout later). ``https_compatible=True``: servers often
    drop TCP without a TLS close_notify, which is then a plain EOF.

    Not bounded in time: the caller wraps it (the session uses
    ``trio.fail_after(config.connect_timeout)``). Cancellation closes
    whatever was opened.

    Args:
        url: ``ws://`` or ``wss://`` URL.
        config: uses ``ssl_context`` (default: the system CAs).

    Returns:
        A ``trio.SocketStream`` or a ``trio.SSLStream`` over one.

    Raises:
        NameResolutionFailed: DNS could not resolve the host.
        ConnectionRefused: nothing listens there.
        TLSFailed: untrusted or mismatched certificate, or a non-TLS peer.
        ConnectFailed: any other OS-level failure.
        ConfigError: the URL is not a valid ws:// or wss:// URL.
    """
    target = parse_ws_url(url)
    try:
        tcp = await trio.open_tcp_stream(target.host, target.port)
    except OSError as exc:
        raise connect_error(exc, url) from exc
    if not target.secure:
        return tcp
    context = config.ssl_context or default_ssl_context()
    tls = trio.SSLStream(tcp, context, server_hostname=target.host, https_compatible=True)
    try:
        await tls.do_handshake()
    except STREAM_ERRORS as exc:
        await trio.aclose_forcefully(tcp)
        raise tls_error(exc, url) from exc
    except BaseException:
        await trio.aclose_forcefully(tcp)
        raise
    return tls
