"""Rate limiting: every venue limit, checked before the operation is sent.

Two layers, like the rest of trio_venues:

* **Limiters** (pure: no trio, no clock). Time is an argument, ``now``, in
  seconds on any clock that never goes back (the shell passes
  ``trio.current_time()``). :class:`SlidingWindowLog` (exact),
  :class:`SlidingWindowCounter` (bounded memory, slightly stricter),
  :class:`TokenBucket` and :class:`GCRA` (rate plus burst), and
  :class:`MultiWindowLimiter` to require several windows at once.
* **The gate** :class:`RateLimiter`: the async object a connection calls before
  it sends. It keeps one state per limit *kind* (``"messages"``, ``"weight"``,
  ...): the kind's windows, a venue-imposed block (a 429 with Retry-After), and
  a bounded FIFO queue of waiters.

:class:`VenueLimits` describes a venue's published limits as :class:`LimitRule`
values and builds the gates: ``connection_limiter()`` for one connection, and
``process_limiter(host)`` for limits the venue counts per IP (connection
attempts, request weight), shared by every connection to that host.

The contract of every limiter's ``try_acquire(cost, now)``: ``0.0`` means
admitted and recorded; anything else is the exact number of seconds until the
same call would be admitted, and nothing was recorded. It is never early:
``try_acquire(cost, now + delay)`` succeeds when nothing else was admitted in
between. ``math.inf`` means never (the cost exceeds the limit).

Sliding windows count an operation admitted at ``t`` for every ``now`` with
``now < t + window``: no interval ``[a, a + window)`` ever holds more than
``limit``. That is at least as strict as the fixed, clock-aligned intervals
venues count in (Binance resets its minute at :00), so it never goes over a
venue's count from our side of the wire.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Literal, Protocol, TypeAlias

import attrs
import trio

from .errors import ConfigError, RateLimitExceeded
from .events import RateLimited

__all__ = [
    "DEFAULT_MARGIN",
    "GCRA",
    "Algorithm",
    "LimitRule",
    "Limiter",
    "LimiterStats",
    "MultiWindowLimiter",
    "Policy",
    "RateLimiter",
    "Scope",
    "SlidingWindowCounter",
    "SlidingWindowLog",
    "TokenBucket",
    "VenueLimits",
    "WindowStats",
]

Policy: TypeAlias = Literal["raise", "wait"]
Scope: TypeAlias = Literal["connection", "process"]
Algorithm: TypeAlias = Literal["sliding_log", "sliding_counter", "token_bucket", "gcra", "cap"]

#: Seconds added to every window by default: latency jitter up to this much
#: between us and the venue cannot make the venue count more than its limit in
#: its own window (issue: sends packed on the exact 1.000 s boundary got closed
#: with 1008 through 50 ms of jitter). See ``VenueLimits.margin``.
DEFAULT_MARGIN = 0.1

#: The kind every frame sent is charged one of.
_MESSAGES = "messages"

#: Most windows a venue's usage reports may add to one kind (memory stays bounded
#: whatever a venue sends).
_MAX_WINDOWS_PER_KIND = 8


# -- helpers ------------------------------------------------------------------------


def _delay_until(target: float, now: float) -> float:
    """The delay ``d`` from ``now`` with ``now + d >= target``, as small as floats allow.

    ``target - now`` alone can be one rounding step short (``now + (target - now)``
    is not always ``target`` in binary floating point), and a retry one step early
    would be refused.
    """
    delay = target - now
    step = math.ulp(delay)
    while now + delay < target:
        delay += step
        step *= 2
    return delay


def _check_cost(cost: float, limit: float) -> float | None:
    """The answer for costs that need no look at the state, or ``None``."""
    if not cost > 0.0:
        if cost == 0.0:
            return 0.0
        raise ValueError(f"a cost must be >= 0, got {cost!r}")
    if cost > limit:
        return math.inf
    return None


def _fmt_window(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _describe(limit: float, window: float) -> str:
    return f"{limit:g} per {_fmt_window(window)}"


def _require_margin(margin: float) -> None:
    if isinstance(margin, bool) or not isinstance(margin, int | float):
        raise ConfigError(f"a rate-limit margin must be a number of seconds, got {margin!r}")
    if not (margin >= 0 and math.isfinite(margin)):
        raise ConfigError(f"a rate-limit margin must be a finite number >= 0, got {margin!r}")


def _require_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")


# -- pure limiters --------------------------------------------------------------------


class Limiter(Protocol):
    """What every single-window limiter provides. All methods take the time as ``now``."""

    @property
    def limit(self) -> float:
        """Most cost admitted per ``window`` (for buckets: the burst)."""
        ...

    @property
    def window(self) -> float:
        """The window in seconds (for buckets: the time to refill from empty)."""
        ...

    def try_acquire(self, cost: float, now: float) -> float:
        """``0.0``: admitted and recorded; else the exact delay until admitted, nothing recorded."""
        ...

    def retry_after(self, cost: float, now: float) -> float:
        """The delay until ``try_acquire(cost, ...)`` admits (0.0: now). Records nothing."""
        ...

    def record(self, cost: float, now: float) -> None:
        """Count ``cost`` at ``now`` without checking (used once every window has agreed)."""
        ...

    def used(self, now: float) -> float:
        """The cost currently counted against the limit."""
        ...

    def observe(self, used: float, limit: float, now: float) -> None:
        """Take in the venue's own count: never loosen, tighten to what it reported."""
        ...

    def describe(self) -> str:
        """The limit in words, e.g. ``"5 per 1s"``."""
        ...


class _ExpiryWindow:
    """What the two sliding windows share: costs that count until their expiry.

    ``_expiries[i]`` is when ``_costs[i]`` stops counting (kept sorted);
    ``_used`` is their sum. Subclasses decide how a cost is stored (``_append``)
    and, when they keep more per entry, how entries leave (``_expire``).
    """

    __slots__ = ("_costs", "_expiries", "_used", "limit", "window")

    def __init__(self, limit: float, window: float) -> None:
        _require_positive("limit", limit)
        _require_positive("window", window)
        self.limit = float(limit)
        self.window = float(window)
        self._expiries: deque[float] = deque()
        self._costs: deque[float] = deque()
        self._used = 0.0

    def describe(self) -> str:
        """The limit in words, e.g. ``"5 per 1s"``."""
        return _describe(self.limit, self.window)

    def try_acquire(self, cost: float, now: float) -> float:
        """Admit and record ``cost`` at ``now`` (returns 0.0), or return the exact delay."""
        expiries = self._expiries
        if expiries and expiries[0] <= now:
            self._expire(now)
        if self._used + cost <= self.limit and cost > 0.0:
            self._append(cost, now)
            return 0.0
        return self.retry_after(cost, now)

    def retry_after(self, cost: float, now: float) -> float:
        """The delay until ``cost`` is admitted; 0.0 when it is now. Records nothing."""
        known = _check_cost(cost, self.limit)
        if known is not None:
            return known
        self._expire(now)
        used = self._used
        if used + cost <= self.limit:
            return 0.0
        # Walk the entries oldest first with the same arithmetic _expire will use,
        # so the answer agrees with try_acquire to the last bit.
        left = len(self._costs)
        for expiry, entry_cost in zip(self._expiries, self._costs, strict=True):
            left -= 1
            used = used - entry_cost if left else 0.0
            if used + cost <= self.limit:
                return _delay_until(expiry, now)
        return math.inf  # not reached: cost <= limit fits in an empty window

    def record(self, cost: float, now: float) -> None:
        """Count ``cost`` at ``now`` without checking."""
        if cost > 0.0:
            self._expire(now)
            self._append(cost, now)

    def used(self, now: float) -> float:
        """The cost still counted at ``now``."""
        return math.fsum(c for e, c in zip(self._expiries, self._costs, strict=True) if e > now)

    def observe(self, used: float, limit: float, now: float) -> None:
        """Adopt a lower venue limit, and count the venue's usage if it exceeds ours."""
        if 0.0 < limit < self.limit:
            self.limit = float(limit)
        self._expire(now)
        if used > self._used:
            # Whatever the venue counted that we did not, counted as of now: the
            # latest it can have happened, so it is kept for the longest.
            self._append(used - self._used, now)

    def _append(self, cost: float, now: float) -> None:
        expiry = now + self.window
        expiries = self._expiries
        if expiries and expiry < expiries[-1]:
            expiry = expiries[-1]  # the clock stepped back: keep the log sorted, stay strict
        expiries.append(expiry)
        self._costs.append(cost)
        self._used += cost

    def _expire(self, now: float) -> None:
        expiries, costs = self._expiries, self._costs
        while expiries and expiries[0] <= now:
            expiries.popleft()
            self._used -= costs.popleft()
        if not expiries:
            self._used = 0.0  # no float residue once the window is empty


class SlidingWindowLog(_ExpiryWindow):
    """Exact sliding window: remembers each admitted cost until it leaves the window.

    Memory is one entry per operation admitted within the last ``window``
    seconds, at most ``limit`` entries for costs >= 1. Use it for small limits
    (5 messages per second, 300 connections per 5 minutes); for large ones
    (6000 weight per minute, 160000 orders per day) use
    :class:`SlidingWindowCounter`.
    """

    __slots__ = ()


class SlidingWindowCounter(_ExpiryWindow):
    """Sliding window in fixed memory: costs are summed into ``buckets`` slots per window.

    Each slot stays counted until its *latest* operation leaves the window, so
    the count is never lower than the exact one (no interval of ``window``
    seconds ever exceeds ``limit``), and at most one slot's width
    (``window / buckets``) stricter than :class:`SlidingWindowLog`. Memory is
    ``buckets + 1`` slots whatever the rate, which suits large limits and
    weighted costs.
    """

    __slots__ = ("_slots", "_width", "buckets")

    def __init__(self, limit: float, window: float, buckets: int = 60) -> None:
        super().__init__(limit, window)
        if not isinstance(buckets, int) or buckets < 1:
            raise ConfigError(f"buckets must be an int >= 1, got {buckets!r}")
        self.buckets = buckets
        self._width = self.window / buckets
        self._slots: deque[float] = deque()

    def _append(self, cost: float, now: float) -> None:
        slot = now // self._width
        expiry = now + self.window
        if self._slots and self._slots[-1] >= slot:
            # Same slot (or the clock stepped back): add to the newest slot,
            # which now stays counted until this operation leaves the window.
            self._costs[-1] += cost
            if expiry > self._expiries[-1]:
                self._expiries[-1] = expiry
        else:
            self._slots.append(slot)
            self._costs.append(cost)
            self._expiries.append(max(expiry, self._expiries[-1]) if self._expiries else expiry)
        self._used += cost

    def _expire(self, now: float) -> None:
        slots, costs, expiries = self._slots, self._costs, self._expiries
        while expiries and expiries[0] <= now:
            slots.popleft()
            expiries.popleft()
            self._used -= costs.popleft()
        if not expiries:
            self._used = 0.0
        # Rounding can leave one slot too many alive; fold the oldest into the next
        # (its later expiry keeps the count strict) so memory stays bounded.
        while len(slots) > self.buckets + 1:
            slots.popleft()
            expiries.popleft()
            oldest = costs.popleft()
            costs[0] += oldest


class TokenBucket:
    """Token bucket: ``burst`` tokens, refilled at ``rate`` tokens per second.

    Any closed interval of ``T`` seconds admits at most ``burst + rate * T``.
    Note that a bucket with ``burst == limit`` allows up to twice ``limit`` in
    one sliding window (a full burst, then a window's refill); use a sliding
    window where a venue counts per window.
    """

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        _require_positive("rate", rate)
        _require_positive("burst", burst)
        self.rate = float(rate)
        self.burst = float(burst)
        self._tokens = self.burst
        self._stamp = -math.inf  # the time _tokens was computed for

    @property
    def limit(self) -> float:
        """The burst: most cost admitted at once."""
        return self.burst

    @property
    def window(self) -> float:
        """Seconds to refill from empty."""
        return self.burst / self.rate

    def describe(self) -> str:
        """The limit in words, e.g. ``"5 per 1s (burst 10)"``."""
        return f"{self.rate:g} per 1s (burst {self.burst:g})"

    def try_acquire(self, cost: float, now: float) -> float:
        """Admit and take ``cost`` tokens at ``now`` (returns 0.0), or return the exact delay."""
        level = self._level(now)
        if cost <= level and cost > 0.0:
            self._tokens = level - cost
            if now > self._stamp:
                self._stamp = now
            return 0.0
        return self.retry_after(cost, now)

    def retry_after(self, cost: float, now: float) -> float:
        """The delay until ``cost`` tokens are there; 0.0 when they are now."""
        known = _check_cost(cost, self.burst)
        if known is not None:
            return known
        level = self._level(now)
        if cost <= level:
            return 0.0
        at = max(now, self._stamp) + (cost - level) / self.rate
        # The division may round a hair short; step forward until the refill
        # arithmetic itself agrees (doubling steps: a few iterations at most).
        step = math.ulp(at)
        while self._level(at) < cost:
            at += step
            step *= 2
        return _delay_until(at, now)

    def record(self, cost: float, now: float) -> None:
        """Take ``cost`` tokens at ``now`` without checking (the level may go negative)."""
        if cost > 0.0:
            self._tokens = self._level(now) - cost
            self._stamp = max(self._stamp, now)

    def used(self, now: float) -> float:
        """Tokens missing from a full bucket."""
        return self.burst - self._level(now)

    def observe(self, used: float, limit: float, now: float) -> None:
        """Adopt a lower venue limit as the burst; keep at most ``limit - used`` tokens."""
        if 0.0 < limit < self.burst:
            self.burst = float(limit)
        self._tokens = min(self._level(now), max(0.0, min(limit, self.burst) - used))
        self._stamp = max(self._stamp, now)

    def _level(self, now: float) -> float:
        elapsed = now - self._stamp
        if elapsed <= 0.0:
            return self._tokens
        level = self._tokens + elapsed * self.rate
        return level if level < self.burst else self.burst


class GCRA:
    """Generic cell rate algorithm (the leaky bucket as a meter), in one float of state.

    Each unit of cost is due ``1 / rate`` seconds after the previous one; up to
    ``burst`` units may be early. Same admissions as :class:`TokenBucket` with
    the same ``rate`` and ``burst``, but the state is a single time (the
    *theoretical arrival time*), so ``retry_after`` is exact by construction.
    """

    __slots__ = ("_interval", "_tat", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        _require_positive("rate", rate)
        _require_positive("burst", burst)
        self.rate = float(rate)
        self.burst = float(burst)
        self._interval = 1.0 / self.rate
        self._tat = -math.inf  # when the backlog of admitted cost drains to zero

    @property
    def limit(self) -> float:
        """The burst: most cost admitted at once."""
        return self.burst

    @property
    def window(self) -> float:
        """Seconds for a full burst to drain."""
        return self.burst / self.rate

    def describe(self) -> str:
        """The limit in words, e.g. ``"5 per 1s (burst 5)"``."""
        return f"{self.rate:g} per 1s (burst {self.burst:g})"

    def try_acquire(self, cost: float, now: float) -> float:
        """Admit ``cost`` at ``now`` (returns 0.0), or return the exact delay."""
        tat = self._tat
        if tat <= now:
            if cost <= self.burst and cost > 0.0:
                self._tat = now + cost * self._interval
                return 0.0
        elif now >= tat + (cost - self.burst) * self._interval and cost > 0.0:
            self._tat = tat + cost * self._interval
            return 0.0
        return self.retry_after(cost, now)

    def retry_after(self, cost: float, now: float) -> float:
        """The delay until ``cost`` is admitted; 0.0 when it is now."""
        known = _check_cost(cost, self.burst)
        if known is not None:
            return known
        if self._tat <= now:
            return 0.0
        # The same expression try_acquire compares with, so the two always agree.
        allowed_at = self._tat + (cost - self.burst) * self._interval
        return 0.0 if now >= allowed_at else _delay_until(allowed_at, now)

    def record(self, cost: float, now: float) -> None:
        """Count ``cost`` at ``now`` without checking."""
        if cost > 0.0:
            self._tat = max(self._tat, now) + cost * self._interval

    def used(self, now: float) -> float:
        """The backlog still draining, in cost units."""
        return max(0.0, self._tat - now) * self.rate

    def observe(self, used: float, limit: float, now: float) -> None:
        """Adopt a lower venue limit as the burst; treat the venue's usage as backlog."""
        if 0.0 < limit < self.burst:
            self.burst = float(limit)
        self._tat = max(self._tat, now + used * self._interval)


class MultiWindowLimiter:
    """Several windows at once: an operation is admitted only when every one admits it.

    For example Binance's ORDERS limit of 50 per 10 s *and* 160,000 per day. The
    delay returned is the longest of the windows' delays, which is never early
    because each window only admits more as time passes.
    """

    __slots__ = ("limiters",)

    def __init__(self, limiters: Iterable[Limiter] = ()) -> None:
        self.limiters: list[Limiter] = list(limiters)

    def add(self, limiter: Limiter) -> None:
        """Add one more window."""
        self.limiters.append(limiter)

    def describe(self) -> str:
        """The windows in words, e.g. ``"50 per 10s and 160000 per 1d"``."""
        return " and ".join(lim.describe() for lim in self.limiters)

    def try_acquire(self, cost: float, now: float) -> float:
        """Admit and record ``cost`` in every window (0.0), or return the longest delay."""
        limiters = self.limiters
        if len(limiters) == 1:
            return limiters[0].try_acquire(cost, now)
        delay = self.retry_after(cost, now)
        if delay == 0.0 and cost > 0.0:
            for lim in limiters:
                lim.record(cost, now)
        return delay

    def retry_after(self, cost: float, now: float) -> float:
        """The longest delay among the windows; 0.0 when all admit now."""
        delay = 0.0
        for lim in self.limiters:
            wait = lim.retry_after(cost, now)
            if wait > delay:
                delay = wait
        return delay


# -- rules --------------------------------------------------------------------------


def _check_rule(rule: LimitRule) -> None:
    if not rule.kind:
        raise ConfigError("a LimitRule needs a kind, e.g. 'messages'")
    if rule.scope not in ("connection", "process"):
        raise ConfigError(f"scope must be 'connection' or 'process', got {rule.scope!r}")
    if rule.algorithm not in ("sliding_log", "sliding_counter", "token_bucket", "gcra", "cap"):
        raise ConfigError(f"unknown algorithm {rule.algorithm!r} for kind {rule.kind!r}")
    _require_positive(f"{rule.kind} limit", rule.limit)
    if rule.algorithm != "cap":
        _require_positive(f"{rule.kind} window", rule.window)
    if rule.burst is not None:
        _require_positive(f"{rule.kind} burst", rule.burst)
    if not isinstance(rule.buckets, int) or rule.buckets < 1:
        raise ConfigError(f"{rule.kind} buckets must be an int >= 1, got {rule.buckets!r}")


@attrs.frozen
class LimitRule:
    """One published limit of a venue.

    Attributes:
        kind: what is counted: ``"messages"`` (frames sent on a connection,
            pings and pongs included where the venue counts them),
            ``"subscriptions"`` (a cap on active streams), ``"topics_per_request"``
            (a cap per subscribe request), ``"connections"`` (connection
            attempts), ``"weight"`` (request weight), ``"requests_per_hour"``,
            ``"orders"`` ... any string the session and the venue core agree on.
        limit: most cost per ``window`` (for ``"cap"``: the most at any time).
        window: seconds (unused for ``"cap"``).
        scope: ``"connection"`` (each connection has its own count) or
            ``"process"`` (one count per process and host, shared by every
            connection to that host and kept across reconnects).
        algorithm: ``"sliding_log"`` (exact, default), ``"sliding_counter"``
            (fixed memory), ``"token_bucket"`` or ``"gcra"`` (``limit / window``
            per second with a ``burst``), or ``"cap"`` (not a rate: a maximum
            checked with :meth:`VenueLimits.check_cap`).
        burst: bucket size for the bucket algorithms (default: ``limit``).
        buckets: slots per window for ``"sliding_counter"``.
        source: where the number comes from (a venue-doc reference).
    """

    kind: str
    limit: float = attrs.field(converter=float)
    window: float = attrs.field(default=0.0, converter=float)
    scope: Scope = "connection"
    algorithm: Algorithm = "sliding_log"
    burst: float | None = None
    buckets: int = 60
    source: str = attrs.field(default="", eq=False)

    def __attrs_post_init__(self) -> None:
        _check_rule(self)

    @property
    def is_cap(self) -> bool:
        """Whether this rule is a cap rather than a rate."""
        return self.algorithm == "cap"

    def describe(self) -> str:
        """The rule in words, e.g. ``"5 per 1s"`` or ``"at most 1024"``."""
        if self.algorithm == "cap":
            return f"at most {self.limit:g}"
        return self.build().describe()

    def build(self, margin: float = 0.0) -> Limiter:
        """A fresh limiter for this rule, its window widened by ``margin`` seconds.

        Raises:
            ConfigError: the rule is a cap, which has no limiter.
        """
        window = self.window + margin
        if self.algorithm == "sliding_log":
            return SlidingWindowLog(self.limit, window)
        if self.algorithm == "sliding_counter":
            return SlidingWindowCounter(self.limit, window, self.buckets)
        burst = self.limit if self.burst is None else self.burst
        if self.algorithm == "token_bucket":
            return TokenBucket(self.limit / window, burst)
        if self.algorithm == "gcra":
            return GCRA(self.limit / window, burst)
        raise ConfigError(f"{self.kind!r} is a cap, not a rate: check it with check_cap()")


# -- stats --------------------------------------------------------------------------


@attrs.frozen
class WindowStats:
    """One window of one kind, as of the moment :meth:`RateLimiter.stats` was called.

    Attributes:
        kind: the limit kind.
        scope: ``"connection"`` or ``"process"``.
        limit: most cost per window (``inf`` for a kind that only has a venue block).
        window: seconds, as the venue counts them.
        margin: seconds the window is widened by locally (the safety margin):
            the limiter admits ``limit`` per ``window + margin``.
        used: cost counted in the window now.
        time_until_capacity: seconds until a cost of 1 would be admitted (0.0:
            now), venue-imposed blocks included.
        waits: acquisitions of this kind that had to wait (all windows of the kind).
        refusals: acquisitions of this kind that were refused.
        queued: waiters queued right now.
    """

    kind: str
    scope: str
    limit: float
    window: float
    used: float
    time_until_capacity: float
    waits: int
    refusals: int
    queued: int
    margin: float = 0.0


@attrs.frozen
class LimiterStats:
    """A snapshot of a :class:`RateLimiter`: one :class:`WindowStats` per kind and window."""

    windows: tuple[WindowStats, ...] = ()

    def for_kind(self, kind: str) -> tuple[WindowStats, ...]:
        """The windows of ``kind`` (empty when the limiter has no rule for it)."""
        return tuple(w for w in self.windows if w.kind == kind)


# -- the async gate -------------------------------------------------------------------

EventCallback: TypeAlias = Callable[[RateLimited], object]


def _refusal(kind: str, limit: str, retry_after: float) -> RateLimitExceeded:
    error = RateLimitExceeded(kind, limit, retry_after)
    if retry_after == math.inf:
        # The standard message suggests retrying later, which cannot help here.
        error.args = (
            f"local {kind} limit ({limit}) can never admit this as it is: reduce the cost "
            "or spread the work over more connections",
        )
    return error


class _Waiter:
    __slots__ = ("cost", "turn")

    def __init__(self, cost: float) -> None:
        self.cost = cost
        self.turn = trio.Event()  # set when this waiter reaches the head of the queue


class _Kind:
    """The state of one limit kind: its windows, a venue-imposed block, its FIFO queue."""

    __slots__ = (
        "blocked_until",
        "kind",
        "limiter",
        "margin",
        "max_waiters",
        "queued_cost",
        "refusals",
        "scope",
        "take",
        "waiters",
        "waits",
    )

    def __init__(self, kind: str, scope: str, max_waiters: int, margin: float = 0.0) -> None:
        self.margin = margin
        self.kind = kind
        self.scope = scope
        self.limiter = MultiWindowLimiter()
        self.blocked_until = -math.inf
        self.waiters: deque[_Waiter] = deque()
        self.queued_cost = 0.0
        self.max_waiters = max_waiters
        self.waits = 0
        self.refusals = 0
        # The hot path calls this directly: the one window's own try_acquire when
        # the kind has a single window (the usual case), else the composition.
        self.take: Callable[[float, float], float] = self.limiter.try_acquire

    def add(self, limiter: Limiter) -> None:
        self.limiter.add(limiter)
        one = len(self.limiter.limiters) == 1
        self.take = limiter.try_acquire if one else self.limiter.try_acquire

    def try_acquire(self, cost: float, now: float) -> float:
        if now < self.blocked_until:
            return self.retry_after(cost, now)
        return self.take(cost, now)

    def retry_after(self, cost: float, now: float) -> float:
        delay = self.limiter.retry_after(cost, now)
        if now < self.blocked_until:
            delay = max(delay, _delay_until(self.blocked_until, now))
        return delay

    def estimate(self, cost: float, now: float) -> float:
        """When a newcomer of ``cost`` could go: after everyone queued ahead, if that fits."""
        own = self.retry_after(cost, now)
        if own == math.inf or not self.waiters:
            return own
        after_queue = self.retry_after(self.queued_cost + cost, now)
        return after_queue if after_queue != math.inf else own

    def text(self, cost: float, now: float) -> str:
        """The limit as the refusal should name it."""
        margin = self.margin
        text = " and ".join(
            _describe(lim.limit, lim.window - margin)
            if isinstance(lim, _ExpiryWindow)
            else lim.describe()
            for lim in self.limiter.limiters
        )
        if not text:
            text = "no local rule"
        elif margin:
            text = f"{text}, paced with a {margin:g}s safety margin"
        if now < self.blocked_until:
            return f"{text}; blocked by the venue for {self.blocked_until - now:.3f}s more"
        if self.limiter.retry_after(cost, now) == math.inf:
            return f"{text}; a cost of {cost:g} exceeds it"
        return text

    async def wait_turn(self, cost: float) -> None:
        """Queue, wait to reach the head, then wait for capacity and take it.

        Cancellation leaves the queue at once and takes nothing.
        """
        waiter = _Waiter(cost)
        waiters = self.waiters
        waiters.append(waiter)
        self.queued_cost += cost
        try:
            if waiters[0] is not waiter:
                await waiter.turn.wait()
            else:
                await trio.lowlevel.checkpoint()  # waiting always checkpoints, even when short
            while True:
                now = trio.current_time()
                delay = self.try_acquire(cost, now)
                if delay == 0.0:
                    return
                if delay == math.inf:  # a venue report tightened the limit below the cost
                    self.refusals += 1
                    raise _refusal(self.kind, self.text(cost, now), delay)
                # Blocks and usage reports only ever push the time later; after
                # the sleep we look again, so a later block just means another sleep.
                await trio.sleep(delay)
        finally:
            if waiters[0] is waiter:
                waiters.popleft()
                if waiters:
                    waiters[0].turn.set()
            else:
                waiters.remove(waiter)
            self.queued_cost = self.queued_cost - cost if waiters else 0.0


class RateLimiter:
    """The gate a connection passes before each operation, one state per limit kind.

    Build one with :meth:`VenueLimits.connection_limiter` (one per connection)
    or :meth:`VenueLimits.process_limiter` (one per process and host, shared).
    A connection limiter built with a ``parent`` also answers for the parent's
    kinds, so a connection can charge the shared ``"weight"`` through its own
    limiter.

    A kind with no rule is always admitted. Methods that read the time must be
    called inside ``trio.run``.

    ``margin`` (seconds, default 0) widens every window: a rule of 5 per 1 s
    admits 5 per 1.1 s with ``margin=0.1`` (see :attr:`VenueLimits.margin`).
    """

    def __init__(
        self,
        rules: Iterable[LimitRule] = (),
        *,
        max_waiters: int = 1000,
        scope: Scope = "connection",
        parent: RateLimiter | None = None,
        name: str = "",
        margin: float = 0.0,
    ) -> None:
        if not isinstance(max_waiters, int) or max_waiters < 0:
            raise ConfigError(f"max_waiters must be an int >= 0, got {max_waiters!r}")
        _require_margin(margin)
        self.name = name
        self.scope = scope
        self.parent = parent
        self.margin = float(margin)
        self.rules: tuple[LimitRule, ...] = tuple(r for r in rules if not r.is_cap)
        self._max_waiters = max_waiters
        self._kinds: dict[str, _Kind] = {}
        for rule in self.rules:
            self._state(rule.kind).add(rule.build(self.margin))

    def __repr__(self) -> str:
        return f"<RateLimiter {self.name!r} {self.scope} kinds={sorted(self._kinds)}>"

    # -- acquiring --------------------------------------------------------------------

    async def acquire(
        self,
        kind: str,
        cost: float = 1.0,
        *,
        policy: Policy = "raise",
        on_event: EventCallback | None = None,
    ) -> None:
        """Take ``cost`` of ``kind`` before the operation is sent.

        Args:
            kind: the limit kind (``"messages"``, ``"weight"``, ...).
            cost: how much the operation counts (a request's weight; 1 for a message).
            policy: ``"raise"``: refuse at once when over the limit;
                ``"wait"``: queue in strict FIFO order until admitted.
            on_event: called with :class:`~trio_venues.events.RateLimited` when
                the operation is refused (``waited=False``) or has to wait
                (``waited=True``, once, as it starts waiting, with the
                estimated delay).

        Raises:
            RateLimitExceeded: ``"raise"`` and over the limit; or the cost can
                never fit; or ``"wait"`` with the kind's queue full. Nothing
                was taken. ``retry_after`` is exact when nobody is queued.

        Admitted at once, this is a cancellation point but not a schedule
        point (the send that follows is one). Cancelled while waiting, the
        operation leaves the queue and takes nothing.
        """
        state = self._kinds.get(kind)
        if state is None:
            state = self._inherited(kind)
        # A cancelled caller would not send: make sure it does not take capacity.
        await trio.lowlevel.checkpoint_if_cancelled()
        if state is None:
            return
        now = trio.current_time()
        if not state.waiters and now >= state.blocked_until and state.take(cost, now) == 0.0:
            return
        await self._acquire_slow(state, cost, policy, on_event)

    async def _acquire_slow(
        self, state: _Kind, cost: float, policy: Policy, on_event: EventCallback | None
    ) -> None:
        if policy not in ("raise", "wait"):
            raise ConfigError(f"policy must be 'raise' or 'wait', got {policy!r}")
        now = trio.current_time()
        delay = state.estimate(cost, now)
        text = state.text(cost, now)
        if policy == "wait" and delay != math.inf and len(state.waiters) >= state.max_waiters:
            text = f"{text}; {len(state.waiters)} operations already queued, the queue's maximum"
            policy = "raise"
        if policy == "raise" or delay == math.inf:
            state.refusals += 1
            if on_event is not None:
                on_event(RateLimited(state.kind, text, delay, waited=False))
            raise _refusal(state.kind, text, delay)
        state.waits += 1
        if on_event is not None:
            on_event(RateLimited(state.kind, text, delay, waited=True))
        await state.wait_turn(cost)

    def try_acquire_now(self, kind: str, cost: float = 1.0) -> float:
        """Take ``cost`` of ``kind`` now if the limit allows, without waiting.

        For paths that cannot wait (answering a ping). It does not queue, so it
        does not wait behind queued operations either: it takes capacity that
        is free right now, ahead of them.

        Returns:
            0.0 when admitted (and counted); otherwise the seconds until it
            would be, and nothing was taken.
        """
        state = self._kinds.get(kind)
        if state is None:
            state = self._inherited(kind)
            if state is None:
                return 0.0
        delay = state.try_acquire(cost, trio.current_time())
        if delay:
            state.refusals += 1
        return delay

    # -- what the venue told us ------------------------------------------------------------

    def update_usage(self, kind: str, used: float, limit: float, window: float) -> None:
        """Take in the venue's own count (Binance ``rateLimits``, a ``UsageReport``).

        The window of ``kind`` with the same length (before our margin)
        adopts the venue's limit if it is lower and the venue's usage if it is
        higher; it never loosens. A window we have no rule for is added (a
        sliding counter, widened by the margin), up to a small bound per kind.

        Raises:
            ValueError: ``limit`` or ``window`` is not a positive number, or
                ``used`` is negative.
        """
        if not (limit > 0 and window > 0 and used >= 0 and math.isfinite(window)):
            raise ValueError(
                f"usage report for {kind!r} must have limit > 0, window > 0 and used >= 0, "
                f"got used={used!r} limit={limit!r} window={window!r}"
            )
        state = self._state(kind)
        now = trio.current_time()
        for lim in state.limiter.limiters:
            if math.isclose(lim.window, window + self.margin, rel_tol=1e-9):
                lim.observe(used, limit, now)
                return
        if len(state.limiter.limiters) < _MAX_WINDOWS_PER_KIND:
            counter = SlidingWindowCounter(limit, window + self.margin)
            counter.observe(used, limit, now)
            state.add(counter)

    def penalise(self, kind: str, retry_after: float) -> None:
        """Block ``kind`` for ``retry_after`` seconds from now (a 429, a Retry-After, a ban).

        A longer block already in place stays. Waiters of the kind wait it out.
        """
        if not retry_after >= 0:
            raise ValueError(f"retry_after must be >= 0, got {retry_after!r}")
        state = self._state(kind)
        until = trio.current_time() + retry_after
        if until > state.blocked_until:
            state.blocked_until = until

    # -- inspection -------------------------------------------------------------------------

    def stats(self) -> LimiterStats:
        """A snapshot of every kind and window, the parent's (shared) kinds included."""
        now = trio.current_time()
        states = list(self._kinds.values())
        if self.parent is not None:
            states += [s for k, s in self.parent._kinds.items() if k not in self._kinds]
        rows: list[WindowStats] = []
        for state in states:
            blocked = _delay_until(state.blocked_until, now) if now < state.blocked_until else 0.0
            # (limit, window, used, time until capacity) per window; a kind that
            # only has a venue block shows as one unlimited row.
            margin = state.margin
            figures = [
                (
                    lim.limit,
                    lim.window - margin,
                    lim.used(now),
                    lim.retry_after(min(1.0, lim.limit), now),
                )
                for lim in state.limiter.limiters
            ] or [(math.inf, 0.0, 0.0, 0.0)]
            for limit, window, used, until in figures:
                rows.append(
                    WindowStats(
                        kind=state.kind,
                        scope=state.scope,
                        limit=limit,
                        window=window,
                        used=used,
                        time_until_capacity=max(blocked, until),
                        waits=state.waits,
                        refusals=state.refusals,
                        queued=len(state.waiters),
                        margin=margin,
                    )
                )
        return LimiterStats(tuple(rows))

    # -- internals -------------------------------------------------------------------------

    def _inherited(self, kind: str) -> _Kind | None:
        return self.parent._kinds.get(kind) if self.parent is not None else None

    def _state(self, kind: str) -> _Kind:
        state = self._kinds.get(kind) or self._inherited(kind)
        if state is None:
            state = _Kind(kind, self.scope, self._max_waiters, self.margin)
            self._kinds[kind] = state
        return state


# -- a venue's limits ----------------------------------------------------------------------

_PROCESS_LIMITERS: trio.lowlevel.RunVar[dict[tuple[str, str], RateLimiter]] = trio.lowlevel.RunVar(
    "trio_venues_process_limiters"
)


def _check_max_waiters(instance: VenueLimits, attribute: object, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{instance.name}: max_waiters must be an int >= 0, got {value!r}")


def _check_request_bytes(instance: VenueLimits, attribute: object, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ConfigError(f"{instance.name}: max_request_bytes must be an int >= 1 or None")


def _check_margin(instance: VenueLimits, attribute: object, value: float) -> None:
    _require_margin(value)


def _cost_table(
    costs: Mapping[str, Iterable[tuple[str, float]]],
) -> Mapping[str, tuple[tuple[str, float], ...]]:
    table: dict[str, tuple[tuple[str, float], ...]] = {}
    for operation, charges in dict(costs).items():
        pairs = tuple((str(kind), float(cost)) for kind, cost in charges)
        for kind, cost in pairs:
            if not (cost >= 0 and math.isfinite(cost)):
                raise ConfigError(f"cost of {operation!r} in {kind!r} must be >= 0, got {cost!r}")
        table[str(operation)] = pairs
    return MappingProxyType(table)


def _rule_tuple(rules: Iterable[LimitRule]) -> tuple[LimitRule, ...]:
    return tuple(rules)


def _check_venue_rules(
    instance: VenueLimits, attribute: object, rules: tuple[LimitRule, ...]
) -> None:
    seen: dict[str, LimitRule] = {}
    for rule in rules:
        first = seen.setdefault(rule.kind, rule)
        if first.scope != rule.scope or first.is_cap != rule.is_cap:
            raise ConfigError(
                f"{instance.name}: every rule of kind {rule.kind!r} needs the same scope and must "
                "all be rates or all be a cap"
            )


@attrs.frozen
class VenueLimits:
    """A venue's published limits: a frozen list of :class:`LimitRule`.

    Attributes:
        name: names the venue in the process-wide registry (with the host).
        rules: the rules; every rule of one kind has the same scope.
        connect_cost: what one connection attempt costs, as ``(kind, cost)``
            pairs to acquire on the process limiter before connecting (Binance's
            WS API: one ``"connections"`` and 2 ``"weight"``).
        max_waiters: the most operations of one kind queued under the ``"wait"``
            policy; one more raises ``RateLimitExceeded``.
        max_request_bytes: the most bytes of topics one subscribe/unsubscribe
            request may carry (OKX: 64 KB), counted as each topic's UTF-8
            length plus 3 (quotes and a comma); ``None``: no limit. With the
            ``"topics_per_request"`` cap it drives ``VenueCore.split_topics``.
        costs: what each operation costs on top of being one ``"messages"``,
            as ``{operation: ((kind, cost), ...)}``. The session's operations
            are ``"message"`` (``ws.send``), ``"subscribe"``,
            ``"unsubscribe"``, ``"login"``, ``"request"`` (``ws.request``) and
            whatever a core names in ``SendFrame.operation``. OKX counts
            subscribe, unsubscribe and login against one 480-per-hour budget:
            ``{"subscribe": (("operations", 1.0),), ...}`` with a rule of kind
            ``"operations"``. Costs whose kind has no rule are free.
        margin: seconds added to every window of every rule (default
            :data:`DEFAULT_MARGIN`, 0.1 s). The venue counts what *arrives*
            in its window, and arrival times jitter by the network and the
            venue's load: two sends a full window apart can arrive less than a
            window apart, and the venue then counts one too many (Binance
            closes with 1008 at the 6th message in a second). Widening the
            window by the jitter we allow for keeps the venue's count within
            its limit however the sends were spread: a sixth message goes out
            at 1.1 s, not on the exact 1.000 s boundary. A connection may
            override it (``rate_limit_margin=``).
    """

    name: str
    rules: tuple[LimitRule, ...] = attrs.field(converter=_rule_tuple, validator=_check_venue_rules)
    connect_cost: tuple[tuple[str, float], ...] = (("connections", 1.0),)
    max_waiters: int = attrs.field(default=1000, validator=_check_max_waiters)
    max_request_bytes: int | None = attrs.field(default=None, validator=_check_request_bytes)
    costs: Mapping[str, tuple[tuple[str, float], ...]] = attrs.field(
        factory=dict, converter=_cost_table, hash=False
    )
    margin: float = attrs.field(default=DEFAULT_MARGIN, validator=_check_margin)

    def charges(self, operation: str) -> tuple[tuple[str, float], ...]:
        """What one ``operation`` is charged before it is sent: one message, then its costs."""
        return ((_MESSAGES, 1.0), *self.costs.get(operation, ()))

    def rules_for(self, kind: str) -> tuple[LimitRule, ...]:
        """The rules of ``kind``."""
        return tuple(r for r in self.rules if r.kind == kind)

    def connection_limiter(
        self, host: str | None = None, *, margin: float | None = None
    ) -> RateLimiter:
        """A new limiter for one connection's own limits.

        With ``host``, it also answers for this venue's per-process kinds on
        that host (through :meth:`process_limiter`), so the connection can
        charge ``"weight"`` through it. Then it must be called inside ``trio.run``.
        ``margin`` overrides :attr:`margin` for the connection's own rules
        (the shared per-process rules keep the venue's).
        """
        parent = None if host is None else self.process_limiter(host)
        return RateLimiter(
            (r for r in self.rules if r.scope == "connection"),
            max_waiters=self.max_waiters,
            scope="connection",
            parent=parent,
            name=self.name,
            margin=self.margin if margin is None else margin,
        )

    def process_limiter(self, host: str) -> RateLimiter:
        """The limiter shared by every connection of this process to ``host``.

        The same object on every call within one ``trio.run``: it counts
        connection attempts across reconnects. Keyed by ``(name, host)``; kept
        for the rest of the run (one small entry per venue and host). A new
        ``trio.run`` starts with none, since its clock is a different one.

        Raises:
            RuntimeError: called outside ``trio.run``.
            ConfigError: another ``VenueLimits`` with the same name but other
                per-process rules already registered this host.
        """
        try:
            registry = _PROCESS_LIMITERS.get()
        except LookupError:
            registry = {}
            _PROCESS_LIMITERS.set(registry)
        except RuntimeError:
            raise RuntimeError(
                "process_limiter() must be called inside trio.run: its counts last as long as "
                "the run, and its times come from the run's clock"
            ) from None
        key = (self.name, host.lower())
        rules = tuple(r for r in self.rules if r.scope == "process" and not r.is_cap)
        limiter = registry.get(key)
        if limiter is None:
            limiter = RateLimiter(
                rules,
                max_waiters=self.max_waiters,
                scope="process",
                name=f"{self.name}@{key[1]}",
                margin=self.margin,
            )
            registry[key] = limiter
        elif limiter.rules != rules or limiter.margin != self.margin:
            raise ConfigError(
                f"another VenueLimits named {self.name!r} with different per-process rules "
                "(or margin) "
                f"already holds the limiter for {host!r}; give each rule set its own name"
            )
        return limiter

    def cap(self, kind: str) -> float | None:
        """The cap of ``kind`` (e.g. ``"subscriptions"``), or ``None`` without one."""
        caps = [r.limit for r in self.rules if r.kind == kind and r.is_cap]
        return min(caps) if caps else None

    @property
    def max_topics_per_request(self) -> int | None:
        """The most topics one subscribe request may carry (Bybit spot: 10), if capped."""
        cap = self.cap("topics_per_request")
        return None if cap is None else int(cap)

    @property
    def max_subscriptions(self) -> int | None:
        """The most active streams per connection (Binance: 1024), if capped."""
        cap = self.cap("subscriptions")
        return None if cap is None else int(cap)

    def check_cap(self, kind: str, current: int, adding: int) -> None:
        """Raise if ``current + adding`` goes over the cap of ``kind``.

        Raises:
            RateLimitExceeded: with ``retry_after=math.inf``: waiting will not help.
        """
        cap = self.cap(kind)
        if cap is not None and current + adding > cap:
            raise _refusal(
                kind, f"at most {cap:g}; {current} in place and {adding} more asked", math.inf
            )

    def check_subscriptions(self, current: int, adding: int) -> None:
        """Raise ``RateLimitExceeded`` if ``adding`` more streams exceed the per-connection cap."""
        self.check_cap("subscriptions", current, adding)
