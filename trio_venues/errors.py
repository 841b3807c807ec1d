"""The errors trio_venues raises. Every one derives from :class:`TrioVenuesError`.

::

    TrioVenuesError
    ├── ConnectFailed                  connect() could not open the connection
    │   ├── ConnectTimeout             TCP, TLS or the handshake took too long
    │   ├── HandshakeRejected          the server answered the upgrade with an HTTP status
    │   ├── NameResolutionFailed       DNS could not resolve the host
    │   ├── ConnectionRefused          nothing listens there
    │   └── TLSFailed                  certificate, hostname or TLS protocol failure
    ├── NotConnected                   send/subscribe/request on a closed connection
    ├── ConnectionLost                 a request was in flight when the connection ended
    ├── RateLimitExceeded              a local limit refused an operation
    ├── RequestTimeout                 a request got no response in time
    ├── VenueError                     the venue answered with an error
    │   ├── SubscriptionError          ... to a subscribe/unsubscribe
    │   └── AuthenticationError        ... to a login or a signed request
    ├── DecodeError                    a message could not be decoded
    ├── UnexpectedResponse             a response nobody waits for (e.g. after a timeout)
    ├── RetriesExhausted               retry_scope gave up
    ├── ConfigError                    (also a ValueError) a setting is invalid
    └── InternalError                  a bug in trio_venues: please report it

Every message says what happened and what the user can do about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .reasons import DisconnectReason

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConnectFailed",
    "ConnectTimeout",
    "ConnectionLost",
    "ConnectionRefused",
    "DecodeError",
    "HandshakeRejected",
    "InternalError",
    "NameResolutionFailed",
    "NotConnected",
    "RateLimitExceeded",
    "RequestTimeout",
    "RetriesExhausted",
    "SubscriptionError",
    "TLSFailed",
    "TrioVenuesError",
    "UnexpectedResponse",
    "VenueError",
]


class TrioVenuesError(Exception):
    """Base class of every error raised by trio_venues."""


class ConfigError(TrioVenuesError, ValueError):
    """A configuration value is invalid; the message names the field and the valid range."""


class InternalError(TrioVenuesError):
    """Something happened that trio_venues did not expect: a bug. Please report it."""


class ConnectFailed(TrioVenuesError):
    """``connect()`` could not open the connection. Nothing was retried.

    Attributes:
        url: the URL that was being opened.
        retryable: whether trying again later may succeed.
    """

    retryable: bool = True

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class ConnectTimeout(ConnectFailed):
    """TCP, TLS or the WebSocket handshake did not finish within ``connect_timeout``."""


class NameResolutionFailed(ConnectFailed):
    """The host name could not be resolved (DNS)."""


class ConnectionRefused(ConnectFailed):
    """The host refused the TCP connection: nothing listens on that port."""


class TLSFailed(ConnectFailed):
    """TLS failed: untrusted certificate, wrong host name, expired, or a non-TLS peer.

    Not retryable: the same certificate will fail the same way. ``ssl_reason``
    carries the SSL library's own reason (e.g. ``CERTIFICATE_VERIFY_FAILED``).
    """

    retryable = False

    def __init__(self, message: str, *, url: str = "", ssl_reason: str = "") -> None:
        super().__init__(message, url=url)
        self.ssl_reason = ssl_reason


# HTTP statuses after which a retry may succeed (docs/reliability.md, "Retry table").
_RETRYABLE_STATUS = frozenset({408, 418, 425, 429, 500, 502, 503, 504})


class HandshakeRejected(ConnectFailed):
    """The server answered the WebSocket upgrade with something other than 101.

    Attributes:
        status: the HTTP status code (101 when the 101 response itself was invalid).
        headers: the response headers as (name, value) pairs, names lower-case.
        body: the response body (possibly truncated).
        retry_after: seconds from ``Retry-After``, when the server sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        retry_after: float | None = None,
        url: str = "",
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.headers = tuple(headers)
        self.body = body
        self.retry_after = retry_after
        self.retryable = status in _RETRYABLE_STATUS


class NotConnected(TrioVenuesError):
    """The connection is not open: it ended, or has not been opened yet."""


class ConnectionLost(TrioVenuesError):
    """The connection ended while this operation was waiting for the venue.

    The request was *not* re-sent; its outcome at the venue is unknown.
    ``reason`` is the :class:`~trio_venues.reasons.DisconnectReason`.
    """

    def __init__(self, reason: DisconnectReason) -> None:
        super().__init__(
            f"the connection ended before a response arrived ({reason!r}); the request was "
            "not re-sent and its outcome at the venue is unknown"
        )
        self.reason = reason


class RateLimitExceeded(TrioVenuesError):
    """A local rate limit refused an operation before it was sent.

    Attributes:
        kind: which limit (``"messages"``, ``"subscriptions"``, ``"connections"``, ...).
        limit: a description of the limit, e.g. ``"5 per 1s"``.
        retry_after: seconds until the operation would be admitted (never early).
    """

    def __init__(self, kind: str, limit: str, retry_after: float) -> None:
        if retry_after == float("inf"):
            advice = "it is a cap, not a rate: free capacity first (e.g. unsubscribe)"
        else:
            advice = (
                f"retry in {retry_after:.3f}s, or use the 'wait' policy for {kind} "
                "to queue instead of raising"
            )
        super().__init__(f"local {kind} limit ({limit}) would be exceeded; {advice}")
        self.kind = kind
        self.limit = limit
        self.retry_after = retry_after


class RequestTimeout(TrioVenuesError):
    """No response arrived within the request's timeout. The entry was removed.

    A response that arrives later is reported as an ``ErrorEvent``, never
    delivered to another caller.
    """

    def __init__(self, method: str, request_id: object, timeout: float) -> None:
        super().__init__(
            f"no response to {method!r} (id {request_id!r}) within {timeout}s; its outcome at "
            "the venue is unknown (a late answer is reported as an event). To wait longer, "
            "pass timeout= to the call or request_timeout= to connect()"
        )
        self.method = method
        self.request_id = request_id
        self.timeout = timeout


class VenueError(TrioVenuesError):
    """The venue answered with an error.

    Attributes:
        code: the venue's own error code (int or string, as the venue sends it).
        message: the venue's message.
        retryable: the venue core's classification.
        status: an HTTP-like status when the venue sends one (Binance WS API).
        retry_after: seconds to wait, when the venue said so.
    """

    def __init__(
        self,
        code: int | str | None,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        data: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(f"venue error {code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.data = dict(data) if data else {}


class SubscriptionError(VenueError):
    """The venue refused some topics; the rest stay subscribed.

    Attributes:
        topics: the refused topics, in request order.
        errors: each refused topic's own :class:`VenueError` (``code`` and
            ``message`` of this error are the first one's).
    """

    def __init__(
        self,
        code: int | str | None,
        message: str,
        topics: Sequence[str] = (),
        *,
        retryable: bool = False,
        errors: Mapping[str, VenueError] | None = None,
    ) -> None:
        super().__init__(code, message, retryable=retryable)
        self.topics = tuple(topics)
        self.errors: dict[str, VenueError] = dict(errors) if errors else {}
        self.args = (f"venue refused {list(self.topics)}: error {code}: {message}",)


class AuthenticationError(VenueError):
    """The venue rejected our credentials or signature. Not retryable."""


#: The most of a rejected message a :class:`DecodeError` keeps (``raw``), and
#: the longest message text it carries: an error must never hold on to a
#: multi-megabyte document it refused.
DECODE_EXCERPT = 1024


class DecodeError(TrioVenuesError):
    """A message could not be decoded into a typed event.

    A ``DecodeError`` never keeps the document it rejects: ``raw`` is an
    excerpt of at most 1 KiB, the message text is cut to 1 KiB, and when the
    connection reports it (an ``ErrorEvent``, or ``InvalidMessage`` under the
    ``strict`` policy) its ``__cause__``, ``__context__`` and traceback are
    dropped (they would hold the parser's copy of the whole document, e.g.
    ``JSONDecodeError.doc``, and the decoder's frames); what the cause said is
    already part of the message.

    Attributes:
        raw: the start of the message as received (at most 1 KiB).
    """

    def __init__(self, message: str, raw: str | bytes = b"") -> None:
        if len(message) > DECODE_EXCERPT:
            message = message[:DECODE_EXCERPT] + f"... ({len(message)} characters)"
        super().__init__(message)
        excerpt = raw[:DECODE_EXCERPT]
        # A slice of a memoryview or bytearray would keep (or be) a buffer of its own type.
        self.raw: str | bytes = excerpt if isinstance(excerpt, str) else bytes(excerpt)

    def detach(self) -> DecodeError:
        """Drop the chained exceptions and the traceback; return ``self``.

        The session calls this before an error is queued, so an event holds
        nothing but this object's excerpt and text.
        """
        self.__cause__ = None
        self.__context__ = None
        self.__suppress_context__ = True
        self.__traceback__ = None
        return self


class RetriesExhausted(TrioVenuesError):
    """``retry_scope`` gave up.

    Attributes:
        last_reason: the :class:`~trio_venues.reasons.DisconnectReason` of the last failure.
        attempts: how many connection attempts were made.
    """

    def __init__(self, last_reason: DisconnectReason, attempts: int, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(
            f"gave up after {attempts} attempt(s){detail}; last reason {last_reason!r}"
        )
        self.last_reason = last_reason
        self.attempts = attempts


class UnexpectedResponse(TrioVenuesError):
    """A response arrived that no caller waits for (reported as an ``ErrorEvent``).

    Attributes:
        request_id: the id in the response.
        late: ``True`` when its caller had timed out or was cancelled.
        result: the response's result (``None`` for an error response).
        error: the venue error carried by the response, if any.
    """

    def __init__(
        self, request_id: object, *, late: bool, result: object = None, error: object = None
    ) -> None:
        what = "after its caller timed out or was cancelled" if late else "for an unknown id"
        super().__init__(f"response to request id {request_id!r} arrived {what}; it was dropped")
        self.request_id = request_id
        self.late = late
        self.result = result
        self.error = error
