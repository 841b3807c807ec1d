"""Bybit's published limits per endpoint, as :class:`~trio_venues.ratelimit.VenueLimits`.

Sources (``docs/venues/bybit.md``, "Limits"): BY-C "Connect" (IP limits,
public args limits), BY-TG "WebSocket Trade Guideline" and BY-ERR "Error
Codes" (order-entry rates).

What is charged before a frame goes out:

- every connection attempt: one of the 500 per 5 minutes per IP, counted per
  WebSocket domain (the limiter keys process-scope rules by host);
- spot subscribe requests: at most 10 topics each (the core also splits to
  it, so a helper with 25 symbols sends three requests);
- every order-entry request: one of the per-account ``"orders"`` budget,
  whose real size Bybit reports in each reply's ``X-Bapi-Limit`` headers
  (the core turns them into usage reports); before the first reply we
  assume 10 per second, Bybit's documented example value.

The per-connection budgets that depend on what is subscribed (21,000
characters of topics, 2,000 option topics) are checked by the core, which
knows the connection's topics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..._ratelimit import LimitRule, VenueLimits

__all__ = ["BYBIT_LIMITS", "limits_for"]

# "Do not build over 500 connections in 5 minutes. This is counted per WebSocket domain." [BY-C]
_CONNECTIONS = LimitRule(
    "connections", 500, 300.0, scope="process", source="BY-C: 500 per 5 min per IP and domain"
)

_PUBLIC = VenueLimits(name="bybit-public", rules=(_CONNECTIONS,))

_SPOT = VenueLimits(
    name="bybit-spot",
    rules=(
        _CONNECTIONS,
        # "Spot can input up to 10 args for each subscription request" [BY-C]
        LimitRule("topics_per_request", 10, algorithm="cap", source="BY-C: 10 args per request"),
    ),
)

_OPTION = VenueLimits(
    name="bybit-option",
    rules=(
        _CONNECTIONS,
        # "Options can input up to 2000 args for a single connection" [BY-C]
        LimitRule("subscriptions", 2000, algorithm="cap", source="BY-C: 2000 args per connection"),
    ),
)

_PRIVATE = VenueLimits(name="bybit-private", rules=(_CONNECTIONS,))

_TRADE = VenueLimits(
    name="bybit-trade",
    rules=(
        _CONNECTIONS,
        # The per-account order rate is reported in every reply (X-Bapi-Limit per
        # op type, per second); 10/s is the docs' example until the first report.
        LimitRule("orders", 10, 1.0, scope="process", source="BY-TG: X-Bapi-Limit (10/s example)"),
        # 10403: "over 3000 requests per second per IP" [BY-TG, BY-ERR]
        LimitRule("requests", 3000, 1.0, scope="process", source="BY-TG: 3000 req/s per IP"),
    ),
    costs={"request": (("orders", 1.0), ("requests", 1.0))},
)

#: The limits of each endpoint.
BYBIT_LIMITS: Final[Mapping[str, VenueLimits]] = {
    "spot": _SPOT,
    "linear": _PUBLIC,
    "inverse": _PUBLIC,
    "option": _OPTION,
    "spread": _PUBLIC,
    "status": _PUBLIC,
    "private": _PRIVATE,
    "trade": _TRADE,
}


def limits_for(category: str) -> VenueLimits:
    """The :class:`VenueLimits` of ``category`` (one of :data:`BYBIT_LIMITS`)."""
    return BYBIT_LIMITS[category]
