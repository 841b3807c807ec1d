"""Bybit WebSocket authentication: the ``auth`` signature and its ``expires`` stamp.

Bybit's private and order-entry endpoints log on with one frame
(``docs/venues/bybit.md``, "Authentication")::

    {"req_id": "...", "op": "auth", "args": [api_key, expires, signature]}

``expires`` is a JSON *number*: milliseconds since the epoch, in the future
(Bybit refuses a stamp that has passed, with ``"Params Error"`` or a
"request expired" message). ``signature`` is
``hex(HMAC-SHA256(secret, "GET/realtime" + str(expires)))``. Users who give
``expires`` only a second of headroom are refused when their clock runs a
little ahead, so the default headroom is a few seconds.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

__all__ = [
    "DEFAULT_AUTH_HEADROOM",
    "auth_args",
    "auth_expires",
    "auth_payload",
    "auth_signature",
]

#: Seconds between "now" and the ``expires`` we send: enough for a clock a
#: little ahead of Bybit's and a slow network, short enough that a captured
#: frame is useless soon after.
DEFAULT_AUTH_HEADROOM: Final = 5.0


def auth_expires(wall_time: float, headroom: float = DEFAULT_AUTH_HEADROOM) -> int:
    """The ``expires`` stamp: ``wall_time + headroom`` seconds, in integer milliseconds.

    Args:
        wall_time: seconds since the epoch (the connection's wall clock).
        headroom: seconds ahead of ``wall_time``; must be > 0.

    Raises:
        ValueError: ``headroom`` is not positive.
    """
    if not headroom > 0:
        raise ValueError(f"auth headroom must be > 0 seconds, got {headroom!r}")
    return int((wall_time + headroom) * 1000)


def auth_payload(expires: int) -> bytes:
    """The signed text: ``b"GET/realtime" + str(expires)``."""
    if type(expires) is not int or expires <= 0:
        raise ValueError(f"expires must be a positive int of milliseconds, got {expires!r}")
    return b"GET/realtime" + str(expires).encode()


def auth_signature(secret: str | bytes, expires: int) -> str:
    """``hex(HMAC-SHA256(secret, "GET/realtime" + str(expires)))``, lower case."""
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(key, auth_payload(expires), hashlib.sha256).hexdigest()


def auth_args(api_key: str, secret: str | bytes, expires: int) -> list[str | int]:
    """The ``args`` of an ``auth`` frame: ``[api_key, expires, signature]``."""
    if not isinstance(api_key, str) or not api_key:
        raise ValueError("api_key must be a non-empty str")
    return [api_key, expires, auth_signature(secret, expires)]
