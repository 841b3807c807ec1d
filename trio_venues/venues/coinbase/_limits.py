"""Coinbase Advanced Trade's published limits, as :class:`~trio_venues.ratelimit.VenueLimits`.

Source (``docs/venues/coinbase.md``, "Limits"): CB-RL, Coinbase's "WebSocket
Rate Limits" page
(https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-rate-limits).
Both limits are per IP address, so they are kept per process and host
(``scope="process"``): every connection of this process to a Coinbase host
draws from the same budget, across reconnects.
"""

from __future__ import annotations

from ..._ratelimit import LimitRule, VenueLimits

__all__ = ["COINBASE_LIMITS"]

#: Both endpoints (market data and user order data).
COINBASE_LIMITS = VenueLimits(
    name="coinbase",
    rules=(
        # "8 connections per second per IP address." [CB-RL]
        LimitRule("connections", 8, 1.0, scope="process", source="CB-RL: 8 connections/s per IP"),
        # "8 unauthenticated messages per second per IP address." [CB-RL] The
        # limit of authenticated messages is not documented: every frame we send
        # is charged against the 8 per second, JWT or not (the stricter reading).
        LimitRule(
            "messages",
            8,
            1.0,
            scope="process",
            source="CB-RL: 8 unauthenticated messages/s per IP",
        ),
    ),
    connect_cost=(("connections", 1.0),),
)
