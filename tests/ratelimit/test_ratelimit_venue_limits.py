"""VenueLimits and LimitRule: Binance's published numbers, caps, validation, usage reports."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from trio_venues._core import UsageReport, VenueCore
from trio_venues._ratelimit import DEFAULT_MARGIN
from trio_venues.errors import ConfigError, RateLimitExceeded
from trio_venues.events import ErrorEvent
from trio_venues.ratelimit import (
    GCRA,
    LimitRule,
    SlidingWindowCounter,
    SlidingWindowLog,
    TokenBucket,
    VenueLimits,
)
from trio_venues.venues.binance._limits import BINANCE_API_LIMITS, BINANCE_SPOT_LIMITS
from trio_venues.venues.binance._protocol import BinanceApiCore, encode_api_response

# Examples of other venues' limits, written with the same rules (venues/README.md 3.2, 4.2).
BYBIT_SPOT = VenueLimits(
    "test-bybit-spot",
    (
        LimitRule("topics_per_request", 10, algorithm="cap"),
        LimitRule("connections", 500, 300.0, scope="process"),
    ),
)
OKX = VenueLimits(
    "test-okx",
    (
        LimitRule("requests_per_hour", 480, 3600.0),
        LimitRule("connections", 3, 1.0, scope="process"),
    ),
)


def _rule(limits: VenueLimits, kind: str) -> tuple[tuple[float, float, str, str], ...]:
    return tuple((r.limit, r.window, r.scope, r.algorithm) for r in limits.rules_for(kind))


def test_binance_stream_limits_match_the_docs() -> None:
    """Streams: 5 msgs/s per connection, 1024 streams, 300 connections per 5 min per IP."""
    assert _rule(BINANCE_SPOT_LIMITS, "messages") == ((5.0, 1.0, "connection", "sliding_log"),)
    assert BINANCE_SPOT_LIMITS.max_subscriptions == 1024
    assert _rule(BINANCE_SPOT_LIMITS, "connections") == ((300.0, 300.0, "process", "sliding_log"),)
    assert BINANCE_SPOT_LIMITS.connect_cost == (("connections", 1.0),)
    assert BINANCE_SPOT_LIMITS.max_topics_per_request == 200  # ours: Binance documents none
    assert all(rule.source for rule in BINANCE_SPOT_LIMITS.rules)


def test_binance_api_limits_match_the_docs() -> None:
    """WS API: 6000 weight/min per IP, connecting costs 2 weight, ORDERS per 10 s and per day."""
    assert _rule(BINANCE_API_LIMITS, "weight") == ((6000.0, 60.0, "process", "sliding_counter"),)
    assert [(r.limit, r.window) for r in BINANCE_API_LIMITS.rules_for("orders")] == [
        (50.0, 10.0),
        (160_000.0, 86_400.0),
    ]
    assert dict(BINANCE_API_LIMITS.connect_cost) == {"connections": 1.0, "weight": 2.0}
    assert _rule(BINANCE_API_LIMITS, "connections") == ((300.0, 300.0, "process", "sliding_log"),)
    assert BINANCE_API_LIMITS.rules_for("messages") == ()


def test_subscription_cap_raises_with_infinite_retry_after() -> None:
    """1020 + 4 streams fit on one Binance connection; 1020 + 5 raise, and waiting cannot help."""
    BINANCE_SPOT_LIMITS.check_subscriptions(1020, 4)
    with pytest.raises(RateLimitExceeded, match="can never admit") as info:
        BINANCE_SPOT_LIMITS.check_subscriptions(1020, 5)
    assert info.value.kind == "subscriptions"
    assert info.value.retry_after == math.inf
    assert "1020 in place and 5 more" in info.value.limit


def test_bybit_spot_topics_per_request() -> None:
    """Bybit spot allows 10 topics per subscribe request: a core splits 25 into 10 + 10 + 5."""
    assert BYBIT_SPOT.max_topics_per_request == 10
    core = VenueCore()
    core.limits = BYBIT_SPOT
    batches = core.split_topics("subscribe", [f"publicTrade.S{i}" for i in range(25)])
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [t for b in batches for t in b] == [f"publicTrade.S{i}" for i in range(25)]


async def test_okx_480_requests_per_hour_per_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """OKX: the 481st subscribe/login within an hour on one connection waits for the hour."""
    conn = OKX.connection_limiter()
    for _ in range(480):
        await conn.acquire("requests_per_hour")
    with pytest.raises(RateLimitExceeded) as info:
        await conn.acquire("requests_per_hour")
    assert info.value.retry_after == 3600.0 + DEFAULT_MARGIN
    await OKX.connection_limiter().acquire("requests_per_hour")  # per connection


def test_rules_build_their_algorithm() -> None:
    """Each algorithm name builds its limiter, with the rate limit/window and the burst."""
    assert isinstance(LimitRule("m", 5, 1.0).build(), SlidingWindowLog)
    counter = LimitRule("w", 6000, 60.0, algorithm="sliding_counter", buckets=12).build()
    assert isinstance(counter, SlidingWindowCounter)
    assert counter.buckets == 12
    bucket = LimitRule("m", 5, 1.0, algorithm="token_bucket", burst=10).build()
    assert isinstance(bucket, TokenBucket)
    assert (bucket.rate, bucket.burst) == (5.0, 10.0)
    gcra = LimitRule("m", 10, 2.0, algorithm="gcra").build()
    assert isinstance(gcra, GCRA)
    assert (gcra.rate, gcra.burst) == (5.0, 10.0)
    with pytest.raises(ConfigError, match="cap"):
        LimitRule("subscriptions", 1024, algorithm="cap").build()
    assert LimitRule("subscriptions", 1024, algorithm="cap").describe() == "at most 1024"


@pytest.mark.parametrize(
    "make",
    [
        lambda: LimitRule("", 5, 1.0),
        lambda: LimitRule("m", 0, 1.0),
        lambda: LimitRule("m", 5),  # a rate needs a window
        lambda: LimitRule("m", 5, 1.0, scope="host"),  # type: ignore[arg-type]
        lambda: LimitRule("m", 5, 1.0, algorithm="fixed"),  # type: ignore[arg-type]
        lambda: LimitRule("m", 5, 1.0, algorithm="token_bucket", burst=-1),
        lambda: LimitRule("m", 5, 1.0, algorithm="sliding_counter", buckets=0),
        lambda: VenueLimits(
            "x", (LimitRule("w", 5, 1.0), LimitRule("w", 50, 60.0, scope="process"))
        ),
        lambda: VenueLimits("x", (LimitRule("s", 5, 1.0), LimitRule("s", 5, algorithm="cap"))),
        lambda: VenueLimits("x", (), max_waiters=-1),
    ],
)
def test_invalid_rules_are_config_errors(make: object) -> None:
    """Rules and rule sets that cannot mean anything are refused when built."""
    assert callable(make)
    with pytest.raises(ConfigError):
        make()


def _entry(
    kind: str, interval: str, num: object, limit: object, count: object
) -> dict[str, object]:
    """One item of a WS-API response's rateLimits array."""
    return {
        "rateLimitType": kind,
        "interval": interval,
        "intervalNum": num,
        "limit": limit,
        "count": count,
    }


def binance_usage_reports(rate_limits: list[dict[str, object]]) -> tuple[UsageReport, ...]:
    """The usage reports BinanceApiCore decodes from a response carrying ``rate_limits``."""
    frame = encode_api_response("r1", {}, rate_limits=rate_limits)
    outputs = BinanceApiCore().decode(frame, 0.0)
    return tuple(o for o in outputs if isinstance(o, UsageReport))


def test_binance_rate_limits_become_usage_reports() -> None:
    """A WS-API rateLimits array maps to UsageReports; malformed entries are ErrorEvents."""
    rate_limits = [
        _entry("ORDERS", "SECOND", 10, 50, 12),
        _entry("ORDERS", "DAY", 1, 160000, 4043),
        _entry("REQUEST_WEIGHT", "MINUTE", 1, 6000, 321),
        _entry("RAW_REQUESTS", "MINUTE", 5, 61000, 7),
        _entry("REQUEST_WEIGHT", "FORTNIGHT", 1, 1, 0),
        _entry("REQUEST_WEIGHT", "MINUTE", 1, "6000", 1),
        _entry("REQUEST_WEIGHT", "MINUTE", 0, 6000, 1),
        _entry("REQUEST_WEIGHT", "MINUTE", 1, 6000, True),
    ]
    assert binance_usage_reports(rate_limits) == (
        UsageReport("orders", 12.0, 50.0, 10.0),
        UsageReport("orders", 4043.0, 160_000.0, 86_400.0),
        UsageReport("weight", 321.0, 6000.0, 60.0),
        UsageReport("raw_requests", 7.0, 61000.0, 300.0),
    )
    frame = encode_api_response("r1", {}, rate_limits=rate_limits)
    errors = [o for o in BinanceApiCore().decode(frame, 0.0) if isinstance(o, ErrorEvent)]
    assert len(errors) == 4  # each malformed entry is reported, and the response kept


async def test_usage_reports_feed_the_shared_limiter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Reports from one WS-API connection tighten what every connection to that host may use."""
    host = "ws-api.binance.com"
    a = BINANCE_API_LIMITS.connection_limiter(host)
    b = BINANCE_API_LIMITS.connection_limiter(host)
    for report in binance_usage_reports([_entry("REQUEST_WEIGHT", "MINUTE", 1, 6000, 5999)]):
        a.update_usage(report.kind, report.used, report.limit, report.window)
    await b.acquire("weight", 1)
    assert b.try_acquire_now("weight", 1) == 60.0 + DEFAULT_MARGIN
