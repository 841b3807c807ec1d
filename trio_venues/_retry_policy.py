"""What ``retry_scope`` decides, without any I/O: backoff policies, the retry policy, the schedule.

Everything here is pure. Delays come from :class:`Backoff` policies given a
random source; :class:`RetryPolicy` says which reasons are retried, with
which floors, breaker and limits; ``_Schedule`` applies the policy to the
attempts of one scope, with every time passed in as an argument, so the
whole decision table is testable without a clock (``retry_scope`` in
``_retry.py`` is the Trio shell that sleeps and connects).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from .errors import ConfigError, HandshakeRejected
from .reasons import ConnectAttemptFailed, DisconnectReason, RemoteClosed, UserInitiated

__all__ = [
    "DEFAULT_FLOORS",
    "Backoff",
    "CircuitBreaker",
    "ConstantBackoff",
    "DecorrelatedJitterBackoff",
    "ExponentialBackoff",
    "RetryPolicy",
]


# -- backoff policies (pure) -------------------------------------------------------------


@runtime_checkable
class Backoff(Protocol):
    """A backoff policy: produces the delays of one failure streak.

    Implementations are pure: all randomness comes from ``rng``, so a seeded
    ``random.Random`` makes the sequence reproducible.
    """

    def delays(self, rng: random.Random) -> Iterator[float]:
        """Return the delays (seconds) before retry 1, 2, 3, ... of a streak."""


def _check_finite(
    low: float, *, inclusive: bool
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok:
            ok = value >= low if inclusive else value > low
        if not ok:
            bound = f">= {low}" if inclusive else f"> {low}"
            raise ConfigError(f"{attribute.name} must be a finite number {bound}, got {value!r}")

    return check


def _check_fraction(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 <= value <= 1:
        raise ConfigError(f"{attribute.name} must be a number in [0, 1], got {value!r}")


def _proportional(base: float, jitter: float, rng: random.Random) -> float:
    """``base`` scaled by a uniform factor in ``[1 - jitter, 1 + jitter]``."""
    if jitter == 0:
        return base  # no randomness drawn: the rng's stream is left untouched
    return base * (1 + jitter * (2 * rng.random() - 1))


@attrs.frozen
class ExponentialBackoff:
    """Delays growing by ``factor`` from ``initial`` up to ``maximum``, with jitter.

    The n-th delay's base is ``min(maximum, initial * factor**n)``; the jitter
    then spreads it so that many clients dropped at once do not reconnect in
    lockstep:

    - a number ``j`` in [0, 1] (default 0.2): proportional, uniform in
      ``[base * (1 - j), base * (1 + j)]``, never above ``maximum``;
    - ``"full"``: uniform in ``[0, base]`` (AWS "full jitter");
    - ``"equal"``: ``base / 2`` plus uniform in ``[0, base / 2]``.

    Args:
        initial: the first base delay in seconds (> 0).
        maximum: the cap on every delay (>= ``initial``).
        factor: the growth per retry (>= 1).
        jitter: see above; 0 gives exact, deterministic delays.

    Raises:
        ConfigError: a value out of range.
    """

    initial: float = attrs.field(default=0.5, validator=_check_finite(0, inclusive=False))
    maximum: float = attrs.field(default=30.0, validator=_check_finite(0, inclusive=False))
    factor: float = attrs.field(default=2.0, validator=_check_finite(1, inclusive=True))
    jitter: float | Literal["full", "equal"] = 0.2

    def __attrs_post_init__(self) -> None:
        if self.maximum < self.initial:
            raise ConfigError(f"maximum ({self.maximum}) must be >= initial ({self.initial})")
        if self.jitter not in ("full", "equal"):
            _check_fraction(self, attrs.fields(ExponentialBackoff).jitter, self.jitter)

    def delays(self, rng: random.Random) -> Iterator[float]:
        """Yield the delays of one streak, forever (see the class docstring)."""
        base = self.initial
        while True:
            if self.jitter == "full":
                yield rng.uniform(0, base)
            elif self.jitter == "equal":
                yield base / 2 + rng.uniform(0, base / 2)
            else:
                yield min(self.maximum, _proportional(base, self.jitter, rng))
            # Grow by multiplication and clamp, so a long outage never overflows.
            base = min(self.maximum, base * self.factor)


@attrs.frozen
class ConstantBackoff:
    """The same delay before every retry, optionally with proportional jitter.

    Args:
        delay: seconds (>= 0). Zero retries at once; keep the circuit breaker on.
        jitter: a fraction in [0, 1]: each delay is uniform in
            ``[delay * (1 - jitter), delay * (1 + jitter)]``.

    Raises:
        ConfigError: a value out of range.
    """

    delay: float = attrs.field(default=1.0, validator=_check_finite(0, inclusive=True))
    jitter: float = attrs.field(default=0.0, validator=_check_fraction)

    def delays(self, rng: random.Random) -> Iterator[float]:
        """Yield ``delay`` (jittered) forever."""
        while True:
            yield _proportional(self.delay, self.jitter, rng)


@attrs.frozen
class DecorrelatedJitterBackoff:
    """AWS "decorrelated jitter": each delay is uniform in ``[initial, previous * factor]``.

    The previous delay starts at ``initial``; every delay is capped at
    ``maximum``, so all of them lie in ``[initial, maximum]``. It spreads
    clients better than exponential backoff with proportional jitter, at the
    cost of a less predictable sequence.

    Args:
        initial: the smallest delay in seconds (> 0).
        maximum: the cap (>= ``initial``).
        factor: how far past the previous delay the next may reach (> 1).

    Raises:
        ConfigError: a value out of range.
    """

    initial: float = attrs.field(default=0.5, validator=_check_finite(0, inclusive=False))
    maximum: float = attrs.field(default=30.0, validator=_check_finite(0, inclusive=False))
    factor: float = attrs.field(default=3.0, validator=_check_finite(1, inclusive=False))

    def __attrs_post_init__(self) -> None:
        if self.maximum < self.initial:
            raise ConfigError(f"maximum ({self.maximum}) must be >= initial ({self.initial})")

    def delays(self, rng: random.Random) -> Iterator[float]:
        """Yield the delays of one streak, forever."""
        previous = self.initial
        while True:
            previous = min(self.maximum, rng.uniform(self.initial, previous * self.factor))
            yield previous


# -- the policy --------------------------------------------------------------------------


@attrs.frozen
class CircuitBreaker:
    """Pause longer after a run of fast failures (a venue refusing or closing at once).

    A failure is *fast* when the attempt ended (refused, rejected, or
    connected and dropped) less than ``fast_within`` seconds after it started.
    After ``threshold`` fast failures in a row the breaker opens: the next delay
    is at least ``cool_down``, reported in ``Reconnecting.delay``. It then stays
    half-open: one more fast failure opens it again, a slow failure or a
    stable connection closes it.

    Args:
        threshold: fast failures in a row that open the breaker (>= 1).
        fast_within: seconds under which a failure counts as fast (> 0).
        cool_down: the pause when open, in seconds (>= 0).
    """

    threshold: int = attrs.field(default=5)
    fast_within: float = attrs.field(default=2.0, validator=_check_finite(0, inclusive=False))
    cool_down: float = attrs.field(default=60.0, validator=_check_finite(0, inclusive=True))

    @threshold.validator
    def _check_threshold(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"threshold must be an int >= 1, got {value!r}")


#: Minimum delays per close code (1000-4999) or HTTP status of a rejected
#: handshake (100-599). 1013 "try again later" and 503 are overload signals;
#: 429 is Binance's "back off or be banned" (its docs: ignoring 429s leads to
#: an IP ban, answered with 418); 418 is that ban, which lasts minutes to days.
DEFAULT_FLOORS: Mapping[int, float] = MappingProxyType(
    {1013: 10.0, 429: 30.0, 503: 10.0, 418: 300.0}
)


def _freeze_floors(value: Mapping[int, float]) -> Mapping[int, float]:
    floors = dict(value)
    for key, floor in floors.items():
        if not isinstance(key, int) or isinstance(key, bool):
            raise ConfigError(f"floors keys must be close codes or HTTP statuses, got {key!r}")
        if not isinstance(floor, int | float) or not math.isfinite(floor) or floor < 0:
            raise ConfigError(f"floors[{key}] must be a finite number >= 0, got {floor!r}")
    return MappingProxyType(floors)


def _check_backoff(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, Backoff):
        return
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigError(
            "backoff must be a Backoff (ExponentialBackoff, ConstantBackoff, "
            f"DecorrelatedJitterBackoff, ...) or an iterable of delays, got {value!r}"
        )


def _check_max_attempts(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"max_attempts must be None or an int >= 0, got {value!r}")


def _optional(
    check: Callable[[Any, attrs.Attribute[Any], Any], None],
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def wrapped(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check(instance, attribute, value)

    return wrapped


@attrs.frozen
class RetryPolicy:
    """When ``retry_scope`` tries again, how long it waits, and when it gives up.

    What each reason does under the default policy (``should_retry=None``):

    ======================================  ==============================================
    reason                                  action
    ======================================  ==============================================
    ``NetworkError``, ``HeartbeatTimeout``, retry after the backoff delay
    ``ServerRequested``, ``SlowConsumer``
    ``ResubscribeTimeout`` (the venue did   retry after the backoff delay
    not acknowledge the replay in time)
    ``RemoteClosed`` 1000/1001/1005/1006,   retry after the backoff delay
    1011/1012/1014, 3000-4999
    ``RemoteClosed`` 1013                   retry, waiting at least ``floors[1013]`` (10 s)
    other ``RemoteClosed`` (1002, 1003,     give up (``RetriesExhausted``), unless the
    1007-1010, 1015, ...)                   venue core marked the code retryable
    ``ProtocolError``, ``InvalidMessage``,  give up
    ``AuthenticationFailed``
    ``UserInitiated`` (inner closed         give up (``should_retry`` is not consulted)
    by someone else)
    connect: timeout, refused, DNS          retry after the backoff delay
    connect: HTTP 500/502/504/408/425       retry after the backoff delay
    connect: HTTP 503                       retry, at least ``floors[503]`` (10 s) and
                                            at least ``Retry-After``
    connect: HTTP 429                       retry, at least ``floors[429]`` (30 s) and
                                            at least ``Retry-After``
    connect: HTTP 418 (IP ban)              retry, at least ``floors[418]`` (300 s) and
                                            at least ``Retry-After``
    connect: HTTP 400/401/403/404/...,      give up
    TLS verification
    connect: connection-attempt limiter     wait its ``retry_after``, emit
    (``RateLimitExceeded``)                 ``RateLimited(waited=True)``; not an attempt
    ======================================  ==============================================

    Args:
        backoff: a :class:`Backoff` (default ``ExponentialBackoff()``: 0.5 s
            doubling to 30 s, 20 % jitter) or any iterable of delays in
            seconds. A list restarts on each backoff reset; a one-shot
            iterator continues where it stopped. When the delays run out, the
            scope gives up.
        max_attempts: how many connection attempts may fail in a row before
            giving up; ``None`` for no limit. After an established connection
            ends, up to ``max_attempts`` reconnection attempts are made; when
            the scope starts, the first attempt plus ``max_attempts`` retries.
            ``0`` never reconnects. ``RetriesExhausted.attempts`` says how
            many attempts were made in the failing run.
        should_retry: ``should_retry(reason) -> bool`` replaces the default
            test, ``reason.retryable``; call ``reason.retryable`` yourself to
            extend it. It is never asked about ``UserInitiated``.
        stable_after: seconds a connection must stay up for the backoff (and
            the attempt count and the breaker) to reset when it ends. A
            connection that ends sooner counts as a failed attempt.
        max_elapsed: give up when the next attempt would start more than this
            many seconds after the failing run began; ``None`` for no limit.
        floors: minimum delays keyed by close code (1000-4999) or HTTP status
            of a rejected handshake (100-599); see ``DEFAULT_FLOORS``.
        honour_retry_after: wait at least a rejected handshake's
            ``Retry-After`` (``HandshakeRejected.retry_after``).
        max_retry_after: the longest ``Retry-After`` honoured, in seconds
            (default 300): a server asking for more (or for an absurd
            5,000-digit delay) gets this long, and ``Reconnecting`` shows both
            (``retry_after``, ``retry_after_cap``).
        breaker: the :class:`CircuitBreaker` for fast failures; ``None``
            disables it.
        rng: the random source for jitter; ``None`` makes a fresh
            ``random.Random()`` per scope. Pass ``random.Random(seed)`` for
            reproducible delays (one instance shared by scopes is shared state).

    Raises:
        ConfigError: a value out of range.
    """

    backoff: Backoff | Iterable[float] = attrs.field(
        factory=ExponentialBackoff, validator=_check_backoff
    )
    max_attempts: int | None = attrs.field(default=None, validator=_check_max_attempts)
    should_retry: Callable[[DisconnectReason], bool] | None = None
    stable_after: float = attrs.field(default=30.0, validator=_check_finite(0, inclusive=True))
    max_elapsed: float | None = attrs.field(
        default=None, kw_only=True, validator=_optional(_check_finite(0, inclusive=False))
    )
    floors: Mapping[int, float] = attrs.field(
        default=DEFAULT_FLOORS, kw_only=True, converter=_freeze_floors
    )
    honour_retry_after: bool = attrs.field(default=True, kw_only=True)
    max_retry_after: float = attrs.field(
        default=300.0, kw_only=True, validator=_check_finite(0, inclusive=True)
    )
    breaker: CircuitBreaker | None = attrs.field(factory=CircuitBreaker, kw_only=True)
    rng: random.Random | None = attrs.field(default=None, kw_only=True, eq=False)

    def retries(self, reason: DisconnectReason) -> bool:
        """Whether ``reason`` is worth another attempt under this policy."""
        if isinstance(reason, UserInitiated):
            return False
        if self.should_retry is not None:
            return bool(self.should_retry(reason))
        return reason.retryable

    def floor(self, reason: DisconnectReason) -> float:
        """The minimum delay after ``reason``: its floor, and ``Retry-After`` when honoured."""
        floor = 0.0
        if isinstance(reason, RemoteClosed):
            floor = self.floors.get(reason.code, 0.0)
        elif isinstance(reason, ConnectAttemptFailed) and isinstance(
            reason.error, HandshakeRejected
        ):
            floor = self.floors.get(reason.error.status, 0.0)
            retry_after = self.retry_after(reason)[0]
            if self.honour_retry_after and retry_after is not None:
                floor = max(floor, min(retry_after, self.max_retry_after))
        return floor

    def retry_after(self, reason: DisconnectReason) -> tuple[float | None, float | None]:
        """The ``Retry-After`` the server asked for after ``reason``, and the cap if it applied.

        Returns ``(None, None)`` when the reason carries none; the cap is
        ``None`` unless the request exceeded ``max_retry_after``.
        """
        if not (
            isinstance(reason, ConnectAttemptFailed) and isinstance(reason.error, HandshakeRejected)
        ):
            return None, None
        asked = reason.error.retry_after
        if asked is None or math.isnan(asked):
            return None, None
        return asked, (self.max_retry_after if asked > self.max_retry_after else None)


# -- the retry bookkeeping (pure) --------------------------------------------------------


@attrs.frozen
class _Retry:
    attempt: int  # the retry about to be made, 1-based within the failing run
    delay: float


@attrs.frozen
class _GiveUp:
    attempts: int
    why: str


def _delays_of(backoff: Backoff | Iterable[float], rng: random.Random) -> Iterator[float]:
    if isinstance(backoff, Backoff):
        return backoff.delays(rng)
    return iter(backoff)


class _Schedule:
    """Counts attempts, draws delays and applies floors, breaker and limits.

    Pure: every time is an argument, the randomness is the injected ``rng``.
    """

    def __init__(self, policy: RetryPolicy, rng: random.Random, now: float) -> None:
        self._policy = policy
        self._rng = rng
        self._begin(now, initial=True)

    def _begin(self, now: float, *, initial: bool) -> None:
        # ``initial``: the run that starts with the scope's very first attempt,
        # which is not itself a retry.
        self._initial = initial
        self.attempts = 0
        self._fast_in_row = 0
        self._run_started = now
        self._delays = _delays_of(self._policy.backoff, self._rng)

    def record(
        self,
        reason: DisconnectReason,
        *,
        started_at: float,
        connected_at: float | None,
        ended_at: float,
    ) -> _Retry | _GiveUp:
        """Account for one attempt that ended with ``reason`` and decide what comes next.

        Args:
            reason: why it ended (``ConnectAttemptFailed`` when it never connected).
            started_at: when the attempt started (the factory was entered).
            connected_at: when it connected, or ``None``.
            ended_at: when it failed or the connection ended; also "now".
        """
        policy = self._policy
        breaker = policy.breaker
        if connected_at is not None and ended_at - connected_at >= policy.stable_after:
            # A stable connection: the run of failures starts over from here.
            self._begin(ended_at, initial=False)
        else:
            self.attempts += 1
            fast = breaker is not None and ended_at - started_at < breaker.fast_within
            self._fast_in_row = self._fast_in_row + 1 if fast else 0

        if isinstance(reason, UserInitiated):
            return _GiveUp(self.attempts, "the connection was closed from this side")
        if not policy.retries(reason):
            who = "should_retry declined it" if policy.should_retry else "it is not retryable"
            return _GiveUp(self.attempts, who)
        retries_made = self.attempts - (1 if self._initial else 0)
        if policy.max_attempts is not None and retries_made >= policy.max_attempts:
            return _GiveUp(self.attempts, f"max_attempts={policy.max_attempts} reached")
        try:
            drawn = next(self._delays)
        except StopIteration:
            return _GiveUp(self.attempts, "the backoff's delays ran out")
        if not isinstance(drawn, int | float) or not math.isfinite(drawn) or drawn < 0:
            raise ConfigError(f"the backoff produced {drawn!r}; delays must be finite and >= 0")
        delay = max(float(drawn), policy.floor(reason))
        if breaker is not None and self._fast_in_row >= breaker.threshold:
            delay = max(delay, breaker.cool_down)
            # Half-open: one more fast failure opens it again.
            self._fast_in_row = breaker.threshold - 1
        if policy.max_elapsed is not None and ended_at + delay - self._run_started > (
            policy.max_elapsed
        ):
            return _GiveUp(
                self.attempts,
                f"the next attempt would start after max_elapsed={policy.max_elapsed}s",
            )
        return _Retry(retries_made + 1, delay)
