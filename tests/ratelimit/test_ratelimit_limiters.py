"""The pure limiters: time is an argument, so these are plain synchronous tests."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_venues.errors import ConfigError
from trio_venues.ratelimit import (
    GCRA,
    Limiter,
    MultiWindowLimiter,
    SlidingWindowCounter,
    SlidingWindowLog,
    TokenBucket,
)

# A timeline is a list of (seconds since the previous operation, cost).
timelines = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=3.0), st.integers(min_value=1, max_value=7)),
    max_size=60,
)
windows = st.floats(min_value=0.01, max_value=5.0)
limits = st.integers(min_value=1, max_value=12)
start_times = st.floats(min_value=0.0, max_value=1e5)


def _sliding(kind: str, limit: int, window: float, buckets: int) -> Limiter:
    if kind == "log":
        return SlidingWindowLog(limit, window)
    return SlidingWindowCounter(limit, window, buckets)


def _run(
    limiter: Limiter | MultiWindowLimiter, start: float, timeline: list[tuple[float, int]]
) -> list[tuple[float, int]]:
    """Feed the timeline; check every refusal's delay; return the admitted operations."""
    admitted = []
    now = start
    for gap, cost in timeline:
        now += gap
        delay = limiter.try_acquire(cost, now)
        if delay == 0.0:
            admitted.append((now, cost))
            continue
        assert delay > 0.0
        if delay == math.inf:
            continue
        # Never early: the same call at now + delay is admitted ...
        later = copy.deepcopy(limiter)
        assert later.try_acquire(cost, now + delay) == 0.0
        # ... and the delay is not padded either (exact up to float rounding).
        if delay > 1e-6:
            earlier = copy.deepcopy(limiter)
            assert earlier.try_acquire(cost, now + delay - 1e-6) > 0.0
    return admitted


def _assert_window(admitted: list[tuple[float, int]], limit: float, window: float) -> None:
    """No interval [t, t + window) starting at an admitted operation holds more than limit."""
    for t, _ in admitted:
        inside = sum(c for u, c in admitted if t <= u < t + window)
        assert inside <= limit, (t, inside, limit)


def _assert_bucket(admitted: list[tuple[float, int]], rate: float, burst: float) -> None:
    """Any closed interval of T seconds admits at most burst + rate * T (float slack only)."""
    for i, (ti, _) in enumerate(admitted):
        total = 0.0
        for tj, cj in admitted[i:]:
            total += cj
            assert total <= burst + rate * (tj - ti) + 1e-9 * (1.0 + burst), (ti, tj, total)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["log", "counter"]),
    limit=limits,
    window=windows,
    buckets=st.integers(min_value=1, max_value=20),
    start=start_times,
    timeline=timelines,
)
def test_sliding_windows_never_admit_more_than_the_limit(
    kind: str,
    limit: int,
    window: float,
    buckets: int,
    start: float,
    timeline: list[tuple[float, int]],
) -> None:
    """For any timeline, no window of a sliding limiter admits over its limit; delays are exact."""
    limiter = _sliding(kind, limit, window, buckets)
    admitted = _run(limiter, start, timeline)
    _assert_window(admitted, limit, window)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["token_bucket", "gcra"]),
    rate=st.floats(min_value=0.1, max_value=50.0),
    burst=limits,
    start=start_times,
    timeline=timelines,
)
def test_buckets_never_exceed_burst_plus_rate(
    kind: str, rate: float, burst: int, start: float, timeline: list[tuple[float, int]]
) -> None:
    """Token bucket and GCRA admit at most burst + rate*T in any T seconds; delays are exact."""
    limiter: Limiter = TokenBucket(rate, burst) if kind == "token_bucket" else GCRA(rate, burst)
    admitted = _run(limiter, start, timeline)
    _assert_bucket(admitted, rate, burst)


@settings(max_examples=100, deadline=None)
@given(
    short=st.tuples(limits, st.floats(min_value=0.05, max_value=1.0)),
    long=st.tuples(
        st.integers(min_value=1, max_value=40), st.floats(min_value=1.0, max_value=20.0)
    ),
    start=start_times,
    timeline=timelines,
)
def test_multi_window_admits_only_what_every_window_admits(
    short: tuple[int, float],
    long: tuple[int, float],
    start: float,
    timeline: list[tuple[float, int]],
) -> None:
    """A 1s-like and a 1min-like window together: each window's limit holds, delays are exact."""
    multi = MultiWindowLimiter(
        [SlidingWindowLog(*short), SlidingWindowCounter(long[0], long[1], buckets=7)]
    )
    admitted = _run(multi, start, timeline)
    _assert_window(admitted, *short)
    _assert_window(admitted, *long)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["log", "counter", "token_bucket", "gcra"]),
    limit=limits,
    start=start_times,
    timeline=timelines,
    reported_limit=st.integers(min_value=1, max_value=15),
    reported_used=st.integers(min_value=0, max_value=15),
)
def test_usage_reports_never_loosen(
    kind: str,
    limit: int,
    start: float,
    timeline: list[tuple[float, int]],
    reported_limit: int,
    reported_used: int,
) -> None:
    """After the venue reports used of limit, at most limit - used (and our rest) is admitted."""
    window = 1.0
    limiter: Limiter
    if kind in ("log", "counter"):
        limiter = _sliding(kind, limit, window, 4)
    elif kind == "token_bucket":
        limiter = TokenBucket(limit / window, limit)
    else:
        limiter = GCRA(limit / window, limit)
    admitted = _run(limiter, start, timeline)
    now = admitted[-1][0] if admitted else start
    ours = limiter.used(now)
    limiter.observe(reported_used, reported_limit, now)
    taken = 0
    while limiter.try_acquire(1, now) == 0.0:
        taken += 1
        assert taken <= limit  # bounded loop
    assert taken <= max(0, reported_limit - reported_used)
    assert taken <= max(0.0, limit - ours) + 1e-9


def test_sliding_log_admits_again_exactly_when_the_window_passes() -> None:
    """5 per 1s: five at t=0, the sixth refused with exactly 1.0s, admitted at t=1.0."""
    log = SlidingWindowLog(5, 1.0)
    assert [log.try_acquire(1, 0.0) for _ in range(5)] == [0.0] * 5
    assert log.try_acquire(1, 0.0) == 1.0
    assert log.try_acquire(1, 0.999) == pytest.approx(0.001)
    assert log.try_acquire(1, 1.0) == 0.0
    assert log.used(1.0) == 1.0


def test_weighted_costs_wait_for_enough_to_expire() -> None:
    """A cost of 4 on a 5-per-10s log waits until enough older cost has left the window."""
    log = SlidingWindowLog(5, 10.0)
    assert log.try_acquire(2, 0.0) == 0.0
    assert log.try_acquire(2, 3.0) == 0.0
    assert log.retry_after(4, 5.0) == 8.0  # at t=13 only the entry from t=3 still counts
    assert log.try_acquire(4, 13.0) == 0.0


def test_cost_over_the_limit_is_never_admitted_and_zero_always_is() -> None:
    """A cost above the limit gives inf; cost 0 is admitted and counts nothing; < 0 is an error."""
    for limiter in (
        SlidingWindowLog(3, 1.0),
        SlidingWindowCounter(3, 1.0),
        TokenBucket(3.0, 3),
        GCRA(3.0, 3),
    ):
        assert limiter.try_acquire(4, 0.0) == math.inf
        assert limiter.try_acquire(0, 0.0) == 0.0
        assert limiter.used(0.0) == 0.0
        with pytest.raises(ValueError, match="cost"):
            limiter.try_acquire(-1, 0.0)


def test_counter_memory_stays_bounded_under_a_flood() -> None:
    """A sliding counter keeps at most buckets + 1 slots however many operations it admits."""
    counter = SlidingWindowCounter(1e9, 60.0, buckets=60)
    for i in range(20_000):
        assert counter.try_acquire(1, i * 0.01) == 0.0
        assert len(counter._costs) <= 61


def test_token_bucket_refills_at_its_rate() -> None:
    """A 2/s bucket of burst 4: four at once, then one every 0.5s."""
    bucket = TokenBucket(2.0, 4)
    assert [bucket.try_acquire(1, 0.0) for _ in range(4)] == [0.0] * 4
    assert bucket.try_acquire(1, 0.0) == 0.5
    assert bucket.try_acquire(1, 0.5) == 0.0
    assert bucket.try_acquire(1, 0.5) == 0.5


def test_gcra_spaces_operations_after_the_burst() -> None:
    """GCRA 2/s burst 2: two at once, the third due at 0.5s, never before."""
    gcra = GCRA(2.0, 2)
    assert gcra.try_acquire(1, 0.0) == 0.0
    assert gcra.try_acquire(1, 0.0) == 0.0
    assert gcra.try_acquire(1, 0.0) == 0.5
    assert gcra.try_acquire(1, 0.25) == 0.25
    assert gcra.try_acquire(1, 0.5) == 0.0


@pytest.mark.parametrize(
    ("factory", "text"),
    [
        (lambda: SlidingWindowLog(5, 1.0), "5 per 1s"),
        (lambda: SlidingWindowCounter(6000, 60.0), "6000 per 1min"),
        (lambda: SlidingWindowLog(300, 300.0), "300 per 5min"),
        (lambda: SlidingWindowCounter(160_000, 86_400.0), "160000 per 1d"),
        (lambda: TokenBucket(5.0, 10), "5 per 1s (burst 10)"),
    ],
)
def test_limits_describe_themselves(factory: object, text: str) -> None:
    """Each limiter names its limit in words for error messages."""
    assert callable(factory)
    assert factory().describe() == text


def test_invalid_parameters_are_config_errors() -> None:
    """Zero, negative or infinite limits and windows are refused at construction."""
    with pytest.raises(ConfigError):
        SlidingWindowLog(0, 1.0)
    with pytest.raises(ConfigError):
        SlidingWindowCounter(5, math.inf)
    with pytest.raises(ConfigError):
        TokenBucket(-1.0, 5)
    with pytest.raises(ConfigError):
        SlidingWindowCounter(5, 1.0, buckets=0)
