"""Backoff policies and RetryPolicy validation: pure, exact with scripted randomness."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_venues._retry import (
    DEFAULT_FLOORS,
    CircuitBreaker,
    ConstantBackoff,
    DecorrelatedJitterBackoff,
    ExponentialBackoff,
    RetryPolicy,
)
from trio_venues.errors import ConfigError, HandshakeRejected, TLSFailed
from trio_venues.reasons import (
    AuthenticationFailed,
    ConnectAttemptFailed,
    NetworkError,
    RemoteClosed,
    UserInitiated,
)


class ScriptedRandom(random.Random):
    """A Random whose ``random()`` returns the scripted values in turn (uniform uses it)."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self._values = itertools.cycle(values)

    def random(self) -> float:
        return next(self._values)


def take(delays: Iterator[float], n: int) -> list[float]:
    return list(itertools.islice(delays, n))


# -- exact sequences -----------------------------------------------------------------------


def test_exponential_without_jitter_doubles_up_to_the_cap() -> None:
    """jitter=0: 0.5, 1, 2, ... capped at maximum, and no random number is drawn."""
    rng = random.Random(1)
    state = rng.getstate()
    delays = take(ExponentialBackoff(initial=0.5, maximum=30, factor=2, jitter=0).delays(rng), 9)
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert rng.getstate() == state


def test_exponential_proportional_jitter_spans_its_range() -> None:
    """jitter=j scales each base by 1-j (random()=0), 1+j (random()=1) or 1 (random()=0.5)."""
    rng = ScriptedRandom(0.0, 1.0, 0.5)
    backoff = ExponentialBackoff(initial=1, maximum=5, factor=2, jitter=0.25)
    assert take(backoff.delays(rng), 6) == [0.75, 2.5, 4, 3.75, 5, 5]


def test_exponential_proportional_jitter_never_exceeds_the_cap() -> None:
    """At the cap, the upward jitter is clamped to maximum."""
    rng = ScriptedRandom(1.0)
    backoff = ExponentialBackoff(initial=4, maximum=4, factor=2, jitter=0.5)
    assert take(backoff.delays(rng), 3) == [4, 4, 4]


def test_exponential_full_and_equal_jitter() -> None:
    """full: uniform(0, base); equal: base/2 + uniform(0, base/2)."""
    full = ExponentialBackoff(initial=2, maximum=8, factor=2, jitter="full")
    equal = ExponentialBackoff(initial=2, maximum=8, factor=2, jitter="equal")
    assert take(full.delays(ScriptedRandom(0.5)), 4) == [1, 2, 4, 4]
    assert take(full.delays(ScriptedRandom(0.0)), 2) == [0, 0]
    assert take(equal.delays(ScriptedRandom(0.5)), 4) == [1.5, 3, 6, 6]
    assert take(equal.delays(ScriptedRandom(1.0)), 2) == [2, 4]


def test_constant_backoff_with_and_without_jitter() -> None:
    """Constant: the same delay; with jitter, delay*(1±jitter) at the extremes."""
    assert take(ConstantBackoff(1.5).delays(random.Random(3)), 3) == [1.5, 1.5, 1.5]
    jittered = ConstantBackoff(2.0, jitter=0.5).delays(ScriptedRandom(0.0, 1.0))
    assert take(jittered, 4) == [1.0, 3.0, 1.0, 3.0]


def test_decorrelated_jitter_at_the_extremes() -> None:
    """random()=1 grows by factor up to the cap; random()=0 stays at initial."""
    backoff = DecorrelatedJitterBackoff(initial=0.5, maximum=30, factor=3)
    assert take(backoff.delays(ScriptedRandom(1.0)), 6) == [1.5, 4.5, 13.5, 30, 30, 30]
    assert take(backoff.delays(ScriptedRandom(0.0)), 3) == [0.5, 0.5, 0.5]


def test_huge_growth_does_not_overflow() -> None:
    """Hundreds of retries stay at the cap instead of overflowing to inf."""
    backoff = ExponentialBackoff(initial=1, maximum=1e300, factor=1e10, jitter=0)
    delays = take(backoff.delays(random.Random(0)), 200)
    assert delays[-1] == 1e300
    assert all(math.isfinite(d) for d in delays)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: ExponentialBackoff(initial=0),
        lambda: ExponentialBackoff(initial=-1),
        lambda: ExponentialBackoff(initial=2, maximum=1),
        lambda: ExponentialBackoff(factor=0.5),
        lambda: ExponentialBackoff(jitter=1.5),
        lambda: ExponentialBackoff(jitter="half"),  # type: ignore[arg-type]
        lambda: ExponentialBackoff(maximum=math.inf),
        lambda: ConstantBackoff(-1),
        lambda: ConstantBackoff(math.nan),
        lambda: ConstantBackoff(1, jitter=-0.1),
        lambda: DecorrelatedJitterBackoff(factor=1),
        lambda: DecorrelatedJitterBackoff(initial=3, maximum=2),
        lambda: CircuitBreaker(threshold=0),
        lambda: CircuitBreaker(fast_within=0),
        lambda: CircuitBreaker(cool_down=-1),
        lambda: RetryPolicy(max_attempts=-1),
        lambda: RetryPolicy(max_attempts=True),
        lambda: RetryPolicy(backoff="1,2,3"),  # type: ignore[arg-type]
        lambda: RetryPolicy(backoff=5),  # type: ignore[arg-type]
        lambda: RetryPolicy(stable_after=-1),
        lambda: RetryPolicy(max_elapsed=0),
        lambda: RetryPolicy(floors={1013: -1.0}),
        lambda: RetryPolicy(floors={"1013": 1.0}),  # type: ignore[dict-item]
    ],
)
def test_invalid_settings_raise_config_error(make: object) -> None:
    """Out-of-range settings fail at construction with ConfigError naming the field."""
    assert callable(make)
    with pytest.raises(ConfigError):
        make()


# -- RetryPolicy decisions -----------------------------------------------------------------------


def test_policy_retries_by_reason_and_should_retry_replaces_the_default() -> None:
    """Default: reason.retryable; should_retry replaces it; UserInitiated never retries."""
    default = RetryPolicy()
    assert default.retries(NetworkError("reset"))
    assert not default.retries(AuthenticationFailed("bad key"))
    assert not default.retries(ConnectAttemptFailed(TLSFailed("untrusted")))
    everything = RetryPolicy(should_retry=lambda reason: True)
    assert everything.retries(AuthenticationFailed("bad key"))
    assert not everything.retries(UserInitiated())


def test_policy_floor_combines_the_table_and_retry_after() -> None:
    """floor(): the per-code floor, raised to Retry-After when it is honoured."""
    policy = RetryPolicy()
    assert DEFAULT_FLOORS[1013] == policy.floor(RemoteClosed(1013))
    assert policy.floor(RemoteClosed(1000)) == 0

    def rejected(status: int, retry_after: float | None) -> ConnectAttemptFailed:
        return ConnectAttemptFailed(HandshakeRejected("no", status=status, retry_after=retry_after))

    assert policy.floor(rejected(503, None)) == DEFAULT_FLOORS[503]
    assert policy.floor(rejected(503, 99)) == 99
    assert policy.floor(rejected(500, 7)) == 7
    assert RetryPolicy(honour_retry_after=False).floor(rejected(500, 7)) == 0
    assert policy.floor(NetworkError("reset")) == 0


# -- properties --------------------------------------------------------------------------------

positive = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False, allow_infinity=False)
seeds = st.integers(min_value=0, max_value=2**32)


@st.composite
def exponential(draw: st.DrawFn) -> ExponentialBackoff:
    initial = draw(positive)
    maximum = draw(st.floats(min_value=initial, max_value=initial * 1e4))
    factor = draw(st.floats(min_value=1, max_value=10))
    modes: list[Literal["full", "equal"]] = ["full", "equal"]
    jitter = draw(st.one_of(st.floats(min_value=0, max_value=1), st.sampled_from(modes)))
    return ExponentialBackoff(initial=initial, maximum=maximum, factor=factor, jitter=jitter)


@given(exponential(), seeds)
def test_exponential_delays_are_bounded_and_inside_their_jitter_range(
    backoff: ExponentialBackoff, seed: int
) -> None:
    """Every delay is in [0, maximum] and within its jitter band around the base."""
    base = backoff.initial
    tolerance = 1e-9
    for delay in take(backoff.delays(random.Random(seed)), 40):
        assert 0 <= delay <= backoff.maximum
        if backoff.jitter == "full":
            low, high = 0.0, base
        elif backoff.jitter == "equal":
            low, high = base / 2, base
        else:
            assert isinstance(backoff.jitter, float)
            low = base * (1 - backoff.jitter)
            high = min(backoff.maximum, base * (1 + backoff.jitter))
        assert low * (1 - tolerance) <= delay <= high * (1 + tolerance)
        base = min(backoff.maximum, base * backoff.factor)


@given(positive, st.floats(min_value=0, max_value=1), seeds)
def test_constant_delays_stay_inside_their_jitter_range(
    delay: float, jitter: float, seed: int
) -> None:
    """Constant delays are non-negative and within delay*(1±jitter)."""
    for value in take(ConstantBackoff(delay, jitter=jitter).delays(random.Random(seed)), 40):
        assert value >= 0
        assert delay * (1 - jitter) * (1 - 1e-9) <= value <= delay * (1 + jitter) * (1 + 1e-9)


@given(
    positive, st.floats(min_value=1, max_value=1e4), st.floats(min_value=1.01, max_value=10), seeds
)
def test_decorrelated_delays_stay_between_initial_and_maximum(
    initial: float, spread: float, factor: float, seed: int
) -> None:
    """Decorrelated jitter never goes below initial nor above maximum."""
    backoff = DecorrelatedJitterBackoff(initial=initial, maximum=initial * spread, factor=factor)
    for value in take(backoff.delays(random.Random(seed)), 40):
        assert backoff.initial <= value <= backoff.maximum


@given(
    st.one_of(
        exponential(),
        st.builds(DecorrelatedJitterBackoff),
        st.builds(ConstantBackoff, positive, st.floats(min_value=0, max_value=1)),
    ),
    seeds,
)
def test_same_seed_same_delays(
    backoff: ExponentialBackoff | DecorrelatedJitterBackoff | ConstantBackoff, seed: int
) -> None:
    """Two streams from equally seeded sources are identical."""
    first = take(backoff.delays(random.Random(seed)), 30)
    second = take(backoff.delays(random.Random(seed)), 30)
    assert first == second
