"""Plain HTTP GETs of a venue's public REST endpoints, with our errors (needs the ``rest`` extra).

Some venues publish data only over REST: Bybit's and Coinbase's instrument
lists (``docs/venues/bybit.md``, ``docs/venues/coinbase.md``). httpx2 (the
maintained continuation of httpx, same API; httpx itself gets no more
security releases) runs on Trio and does the HTTP; it is an optional
dependency (``pip install 'trio_venues[rest]'``), imported only when a REST
call is made, with a :class:`~trio_venues.errors.ConfigError` saying how to
install it when it is missing.

Every failure is mapped here, in one place, to the error tree of
:mod:`trio_venues.errors`; nothing of httpx2 leaves this module:

============================  ==============================================
what happened                 raised
============================  ==============================================
DNS failed                    ``NameResolutionFailed``
nothing listens               ``ConnectionRefused``
TLS failed                    ``TLSFailed``
no answer in ``timeout``      ``ConnectTimeout`` (connecting or reading)
other transport failure       ``ConnectFailed``
an HTTP status other than 2xx ``VenueError`` (``status``, ``retry_after``)
a body that is not JSON       ``DecodeError``
a bad URL                     ``ConfigError``
============================  ==============================================

``trio.Cancelled`` is never caught.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any, Final

import orjson

from ._errmap import connect_error
from .errors import (
    ConfigError,
    ConnectFailed,
    ConnectTimeout,
    DecodeError,
    VenueError,
)

__all__ = ["DEFAULT_TIMEOUT", "MAX_BODY", "RestSession", "rest_session"]

#: seconds for each phase of one request (connect, send, each read)
DEFAULT_TIMEOUT: Final = 10.0
#: the largest response body read; a longer one is a DecodeError
MAX_BODY: Final = 64 * 1024 * 1024
# Statuses after which the same request may succeed later (docs/reliability.md).
_RETRYABLE_STATUS: Final = frozenset({408, 418, 425, 429, 500, 502, 503, 504})
_EXCERPT: Final = 200


def _httpx() -> ModuleType:
    try:
        import httpx2
    except ImportError as exc:
        raise ConfigError(
            "this venue's instrument catalogue comes from its REST API, which needs httpx2: "
            "pip install 'trio_venues[rest]'"
        ) from exc
    return httpx2


class RestSession:
    """One httpx2 client, and :meth:`get_json` mapping its failures to our errors."""

    def __init__(self, client: Any, httpx: ModuleType, venue: str, timeout: float) -> None:
        self._client = client
        self._httpx = httpx
        self.venue = venue
        self.timeout = timeout

    async def get_json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        """``GET url?params`` and the body parsed as JSON.

        Raises:
            ConnectFailed: DNS, refused, TLS, a timeout (``ConnectTimeout``) or a
                broken connection.
            VenueError: an HTTP status other than 2xx.
            DecodeError: a body that is not JSON, or longer than :data:`MAX_BODY`.
            ConfigError: ``url`` is not an http(s) URL.
        """
        httpx = self._httpx
        shown = url if not params else f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        try:
            async with self._client.stream("GET", url, params=params) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise DecodeError(
                            f"{self.venue}: GET {shown}: the body is over {MAX_BODY} bytes"
                        )
                    chunks.append(chunk)
                status = response.status_code
                headers = response.headers
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise ConfigError(f"{self.venue}: cannot GET {url!r}: {exc}") from None
        except httpx.TimeoutException as exc:
            phase = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
            raise ConnectTimeout(
                f"{self.venue}: GET {shown}: could not {phase} within {self.timeout}s; "
                "pass timeout= to wait longer",
                url=url,
            ) from None
        except httpx.ConnectError as exc:
            raise connect_error(_os_error(exc), url) from None
        except httpx.HTTPError as exc:
            raise ConnectFailed(
                f"{self.venue}: GET {shown} failed: {type(exc).__name__}: {exc}", url=url
            ) from None
        body = b"".join(chunks)
        if not 200 <= status < 300:
            excerpt = body[:_EXCERPT].decode("utf-8", "replace")
            raise VenueError(
                status,
                f"GET {shown} answered HTTP {status}: {excerpt!r}",
                retryable=status in _RETRYABLE_STATUS,
                status=status,
                retry_after=_retry_after(headers.get("retry-after")),
            )
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(
                f"{self.venue}: GET {shown} answered with a body that is not JSON ({exc})", body
            ) from None


def _os_error(exc: BaseException) -> BaseException:
    """The operating system's error behind a ``ConnectError`` (httpcore2 wraps it twice)."""
    seen: BaseException | None = exc
    for _ in range(8):  # a short chain: httpx -> httpcore -> OSError
        if seen is None:
            break
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ if seen.__cause__ is not None else seen.__context__
    return exc


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 6:
        return None
    return float(value.strip())


@asynccontextmanager
async def rest_session(
    venue: str,
    *,
    transport: Any = None,
    http_transport: Any = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - httpx's per-phase timeout
) -> AsyncIterator[RestSession]:
    """An httpx2 client for ``venue``'s REST calls.

    Args:
        venue: the venue's name, for messages.
        transport: a WebSocket ``transport=`` factory; one that also carries
            HTTP (a fake's ``memory_transport()``, through its
            ``http_transport()``) is used for the requests too.
        http_transport: an httpx2 transport (a proxy, a mock); wins over ``transport``.
        timeout: seconds for each phase of a request.

    Raises:
        ConfigError: httpx2 is not installed, or ``transport`` cannot carry HTTP.
    """
    httpx = _httpx()
    if http_transport is None and transport is not None:
        make = getattr(transport, "http_transport", None)
        if make is None:
            raise ConfigError(
                f"{venue}: the catalogue is fetched over HTTP, and transport={transport!r} "
                "carries only WebSockets; pass http_transport= (an httpx2 transport) instead"
            )
        http_transport = make()
    async with httpx.AsyncClient(
        transport=http_transport, timeout=timeout, follow_redirects=False
    ) as client:
        yield RestSession(client, httpx, venue, timeout)
