"""OKX's published WebSocket limits, as :class:`~trio_venues.ratelimit.VenueLimits`.

Sources: ``docs/venues/okx.md``, "Limits" (OKX-WS "Connect" and "Subscribe").
"""

from __future__ import annotations

from typing import Final

from ..._ratelimit import LimitRule, VenueLimits

__all__ = ["MAX_REQUEST_BYTES", "OKX_LIMITS", "OPERATIONS_PER_HOUR"]

#: The channels of one subscribe request may total at most 64 KB [OKX-WS].
MAX_REQUEST_BYTES: Final = 64 * 1024
#: subscribe + unsubscribe + login requests per hour per connection [OKX-WS].
OPERATIONS_PER_HOUR: Final = 480

#: The limits of every OKX endpoint (public, business, private).
OKX_LIMITS: Final = VenueLimits(
    name="okx",
    rules=(
        # "Connection limit: 3 requests per second (based on IP)." [OKX-WS]
        LimitRule("connections", 3, 1.0, scope="process", source="OKX-WS: 3 per second per IP"),
        # "The total number of 'subscribe'/'unsubscribe'/'login' requests per
        # connection is limited to 480 times per hour." [OKX-WS]
        LimitRule(
            "operations",
            OPERATIONS_PER_HOUR,
            3600.0,
            source="OKX-WS: 480 subscribe/unsubscribe/login per hour per connection",
        ),
    ),
    connect_cost=(("connections", 1.0),),
    max_request_bytes=MAX_REQUEST_BYTES,
    costs={
        "subscribe": (("operations", 1.0),),
        "unsubscribe": (("operations", 1.0),),
        "login": (("operations", 1.0),),
    },
)
