"""Bybit's error codes, classified into our typed errors (``docs/venues/bybit.md``, "Errors").

Every error here derives from :class:`~trio_venues.errors.VenueError`, so
``except VenueError`` still catches them; the subclasses let a strategy tell a
rate limit (back off) from a restarting service (reconnect) without reading
codes.
"""

from __future__ import annotations

from typing import Final

from ...errors import AuthenticationError, VenueError

__all__ = [
    "AUTH_ERROR_CODES",
    "BybitRateLimited",
    "BybitServiceRestarting",
    "EXPIRED_CODES",
    "RATE_LIMIT_CODES",
    "RESTART_CODES",
    "auth_error",
    "trade_error",
]

#: Order-entry rate limits [BY-TG, BY-ERR]: 10403 more than the per-IP request
#: rate, 10429 system-level frequency protection, 20003 too frequent on this
#: session; 10006 too many visits (REST's code, also seen on WebSocket).
RATE_LIMIT_CODES: Final = frozenset({10006, 10403, 10429, 20003})
#: The trade service is restarting [BY-TG]: 10016 internal error / restarting,
#: 10019 restarting and taking no new requests (open a new connection).
RESTART_CODES: Final = frozenset({10016, 10019})
#: Credentials Bybit refused [BY-ERR]: 10003 invalid key, 10004 invalid
#: signature, 10005 permission denied, 10010 IP not allowed, 10001 parameter error
#: (the order-entry endpoint's code for a malformed auth).
AUTH_ERROR_CODES: Final = frozenset({10001, 10003, 10004, 10005, 10010})
#: 10002: the request's time is outside Bybit's window (our clock is off) [BY-ERR].
EXPIRED_CODES: Final = frozenset({10002})


class BybitRateLimited(VenueError):
    """Bybit refused a request for its rate (10403, 10429, 20003, 10006): back off, then retry."""


class BybitServiceRestarting(VenueError):
    """Bybit's trade service is restarting (10016, 10019): reconnect, then retry.

    With 10019 the connection takes no new requests, so the client also ends
    it (``Disconnected(ServerRequested)``), and ``retry_scope`` opens a new one,
    which Bybit routes to a healthy node. Requests in flight are unaffected.
    """


def _is_expired(code: int | None, message: str) -> bool:
    return code in EXPIRED_CODES or "expire" in message.lower()


def auth_error(code: int | None, message: str, headroom: float) -> AuthenticationError:
    """The :class:`AuthenticationError` for a refused ``auth``, saying what to do about it.

    An expired ``expires`` (10002, or a message about expiry) means this
    machine's clock disagrees with Bybit's by more than the headroom: that
    error says so and is retryable once the clock is fixed. ``"Params Error"``
    is Bybit's answer both to malformed arguments and, in practice, to an
    ``expires`` that was already due when it arrived, so it names both.
    Everything else (invalid key or signature, permission, IP) is not
    retryable.
    """
    if _is_expired(code, message):
        return AuthenticationError(
            code,
            f"{message} - Bybit says the auth 'expires' stamp has passed: this machine's clock "
            f"is off from Bybit's by more than the {headroom:g} s headroom. Synchronise the "
            "clock (NTP) or give connect() a larger auth_headroom",
            retryable=True,
        )
    if message == "Params Error":
        return AuthenticationError(
            code,
            f"{message} - Bybit refused the auth arguments: a malformed API key, or an "
            f"'expires' already past on arrival (clock skew beyond the {headroom:g} s "
            "headroom); check the key, then the system clock",
        )
    return AuthenticationError(
        code,
        f"{message} - Bybit refused the credentials (invalid key, signature, permission or IP)",
    )


def trade_error(code: int, message: str) -> VenueError:
    """The typed error of an order-entry reply with ``retCode`` ``code`` (not 0)."""
    text = message or f"retCode {code}"
    if code in RATE_LIMIT_CODES:
        return BybitRateLimited(code, text, retryable=True)
    if code in RESTART_CODES:
        return BybitServiceRestarting(code, text, retryable=True)
    if code in AUTH_ERROR_CODES:
        return AuthenticationError(code, text)
    return VenueError(code, text)
