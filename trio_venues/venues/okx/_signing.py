"""The OKX WebSocket login: its HMAC-SHA256 signature and the ``login`` request.

The rule (``docs/venues/okx.md``, "Login"): ``sign = base64(HMAC-SHA256(secret,
timestamp + "GET" + "/users/self/verify"))`` where ``timestamp`` is the Unix
time in **seconds**, as a decimal string, and OKX refuses a login more than
30 s after it. The request is ``{"op": "login", "args": [{"apiKey",
"passphrase", "timestamp", "sign"}]}``.

Nothing here logs or keeps a secret: the functions take the secret text, sign,
and return; the frame they build is sent and never recorded by the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from typing import Final

__all__ = ["LOGIN_PATH", "login_args", "login_prehash", "login_signature", "login_timestamp"]

#: The method and path signed by the WebSocket login [OKX-WS "Login"].
LOGIN_PATH: Final = "GET/users/self/verify"


def login_timestamp(wall_time: float) -> str:
    """The login ``timestamp``: whole Unix seconds as a decimal string (``"1538054050"``)."""
    if not math.isfinite(wall_time) or wall_time < 0:
        raise ValueError(f"wall_time must be a finite number of seconds >= 0, not {wall_time!r}")
    return str(int(wall_time))


def login_prehash(timestamp: str) -> str:
    """The signed text: ``timestamp + "GET" + "/users/self/verify"``."""
    return timestamp + LOGIN_PATH


def login_signature(secret: str, timestamp: str) -> str:
    """``base64(HMAC-SHA256(secret, login_prehash(timestamp)))``."""
    digest = hmac.new(secret.encode(), login_prehash(timestamp).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def login_args(api_key: str, secret: str, passphrase: str, wall_time: float) -> dict[str, str]:
    """The one ``args`` item of a ``login`` request, signed for ``wall_time``."""
    timestamp = login_timestamp(wall_time)
    return {
        "apiKey": api_key,
        "passphrase": passphrase,
        "timestamp": timestamp,
        "sign": login_signature(secret, timestamp),
    }
