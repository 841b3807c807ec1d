"""Binance Spot's published limits, as :class:`~trio_venues.ratelimit.VenueLimits`.

Sources (see ``docs/venues/binance.md`` section 3): BN-S = ``binance/binance-spot-api-docs``
``web-socket-streams.md`` "WebSocket Limits"
(https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams);
BN-A = the same repository's ``web-socket-api.md`` "Rate limits"
(https://developers.binance.com/docs/binance-spot-api-docs/websocket-api).

Binance's own view of these limits (``rateLimits`` in WS-API responses) is
decoded in one place, ``BinanceApiCore`` (``_protocol.py``), into
``UsageReport`` outputs that the session feeds to the limiter.

Binance counts its WS-API limits in clock-aligned intervals ("a 1 MINUTE
interval starts every minute"); our sliding windows are at least as strict.
"""

from __future__ import annotations

from ..._ratelimit import LimitRule, VenueLimits
from ._protocol import MAX_TOPICS_PER_REQUEST

__all__ = ["BINANCE_API_LIMITS", "BINANCE_SPOT_LIMITS"]

# Per IP, for both market streams and the WS API: "There is a limit of 300
# connections per attempt every 5 minutes per IP." [BN-S, BN-A "Connection limits"]
_CONNECTIONS = LimitRule(
    "connections", 300, 300.0, scope="process", source="BN-S/BN-A: 300 per 5 min per IP"
)

#: Market-data streams (``wss://stream.binance.com:9443``).
BINANCE_SPOT_LIMITS = VenueLimits(
    name="binance-spot",
    rules=(
        # "WebSocket connections have a limit of 5 incoming messages per second. A
        # message is considered: a PING frame, a PONG frame, a JSON controlled
        # message (e.g. subscribe, unsubscribe)." Going over disconnects (observed
        # close 1008 "Too many requests"); repeated disconnects may ban the IP. [BN-S]
        # "Incoming" is the server's view: it limits what we send.
        LimitRule("messages", 5, 1.0, source="BN-S: 5 incoming msgs/s per connection"),
        # "A single connection can listen to a maximum of 1024 streams." [BN-S]
        LimitRule("subscriptions", 1024, algorithm="cap", source="BN-S: 1024 streams"),
        # Not Binance's: our batch size, so a SUBSCRIBE frame stays near 5 KB.
        LimitRule(
            "topics_per_request",
            MAX_TOPICS_PER_REQUEST,
            algorithm="cap",
            source="ours: 200 streams per SUBSCRIBE (Binance documents no cap)",
        ),
        _CONNECTIONS,
    ),
    connect_cost=(("connections", 1.0),),
)

#: The WebSocket API (``wss://ws-api.binance.com:443/ws-api/v3``).
BINANCE_API_LIMITS = VenueLimits(
    name="binance-api",
    rules=(
        _CONNECTIONS,
        # "Weight is accumulated per IP address and is shared by all connections
        # from that address"; REQUEST_WEIGHT 6000 per 1 MINUTE in the docs'
        # examples (the live value comes back in every response's rateLimits and
        # is fed in with update_usage); over it: status 429 with retryAfter. [BN-A "IP limits"]
        LimitRule(
            "weight",
            6000,
            60.0,
            scope="process",
            algorithm="sliding_counter",
            buckets=60,
            source="BN-A: REQUEST_WEIGHT 6000 per minute per IP",
        ),
        # ORDERS ("unfilled order count"): 50 per 10 SECOND and 160000 per 1 DAY in
        # the docs' examples; kept "per account", which we approximate per process
        # and host. Filled orders give their count back at Binance, so counting
        # every placement is stricter than Binance; rateLimits reports correct us
        # only upwards. [BN-A "Unfilled Order Count"]
        LimitRule(
            "orders",
            50,
            10.0,
            scope="process",
            algorithm="sliding_counter",
            buckets=10,
            source="BN-A: ORDERS 50 per 10s",
        ),
        LimitRule(
            "orders",
            160_000,
            86_400.0,
            scope="process",
            algorithm="sliding_counter",
            buckets=96,
            source="BN-A: ORDERS 160000 per day",
        ),
        # "≤1000 active subscriptions per session" (userDataStream.subscribe). [BN-A, BN-C]
        LimitRule("subscriptions", 1000, algorithm="cap", source="BN-A: 1000 per session"),
    ),
    # "Connecting to WebSocket API costs 2 weight." [BN-A "IP limits"]
    connect_cost=(("connections", 1.0), ("weight", 2.0)),
    # The log-on step is session.logon: "Weight: 2" [BN-A]. Other requests are
    # charged their method's weight by BinanceApiConnection.request.
    costs={"login": (("weight", 2.0),)},
)
