"""retry_scope's timing: exact delays, attempt counts, floors, breaker, limits (virtual time)."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest
import trio

from trio_venues._retry import (
    CircuitBreaker,
    ConstantBackoff,
    DecorrelatedJitterBackoff,
    ExponentialBackoff,
    RetryingConnection,
    RetryPolicy,
    retry_scope,
)
from trio_venues.errors import (
    ConfigError,
    ConnectionRefused,
    ConnectTimeout,
    HandshakeRejected,
    RateLimitExceeded,
    RetriesExhausted,
    TLSFailed,
)
from trio_venues.events import Connected, Event, RateLimited, Reconnecting
from trio_venues.reasons import (
    AuthenticationFailed,
    ConnectAttemptFailed,
    DisconnectReason,
    ProtocolError,
    RemoteClosed,
    UserInitiated,
)

from ._fakes import RESET, Fail, FakeConnection, FakeFactory, Up, task_count

Clock = trio.abc.Clock
WS = RetryingConnection[FakeConnection]

REFUSED = ConnectionRefused("connection refused", url="fake://")


def exact(**options: Any) -> RetryPolicy:
    """Delays 0.5, 1, 2, 4, 8, 16, 30, ... exactly; breaker off unless given."""
    options.setdefault("breaker", None)
    return RetryPolicy(ExponentialBackoff(jitter=0), **options)


async def read_until(ws: WS, kind: type[Event], count: int = 1) -> list[Event]:
    """Events up to and including the ``count``-th event of class ``kind``."""
    out: list[Event] = []
    async for event in ws.events:
        out.append(event)
        if isinstance(event, kind):
            count -= 1
            if count == 0:
                break
    return out


def waits(events: list[Event]) -> list[tuple[int, float]]:
    return [(e.attempt, e.delay) for e in events if isinstance(e, Reconnecting)]


async def test_exponential_delays_and_attempt_numbers(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """After a drop, retries wait 0.5, 1, 2, 4, 8 s and are numbered 1..5."""
    factory = FakeFactory(nursery, Up(lasts=1), *[Fail(REFUSED)] * 4, Up())
    async with retry_scope(factory, policy=exact()) as ws:
        events = await read_until(ws, Connected, count=2)
    assert waits(events) == [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0)]
    assert factory.calls == [0, 1.5, 2.5, 4.5, 8.5, 16.5]
    reasons = [e.reason for e in events if isinstance(e, Reconnecting)]
    assert reasons[0] == RESET
    assert all(isinstance(r, ConnectAttemptFailed) and r.error is REFUSED for r in reasons[1:])


@pytest.mark.parametrize(
    "backoff",
    [
        ExponentialBackoff(),
        ExponentialBackoff(jitter="full"),
        ExponentialBackoff(jitter="equal"),
        ConstantBackoff(2.0, jitter=0.5),
        DecorrelatedJitterBackoff(),
    ],
    ids=["proportional", "full", "equal", "constant", "decorrelated"],
)
async def test_seeded_backoff_gives_reproducible_waits(
    autojump_clock: Clock,
    nursery: trio.Nursery,
    backoff: ExponentialBackoff | ConstantBackoff | DecorrelatedJitterBackoff,
) -> None:
    """With rng=Random(seed) the scope waits exactly what the backoff draws from that seed."""
    expected = list(itertools.islice(backoff.delays(random.Random(42)), 6))
    factory = FakeFactory(nursery, *[Fail(REFUSED)] * 6, Up())
    policy = RetryPolicy(backoff, rng=random.Random(42), breaker=None)
    async with retry_scope(factory, policy=policy) as ws:
        events = await read_until(ws, Connected)
    assert [delay for _, delay in waits(events)] == expected
    assert factory.calls == list(itertools.accumulate([0.0, *expected]))


async def test_a_list_of_delays_is_the_backoff_and_running_out_gives_up(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """backoff=[1, 2, 3]: three retries at those delays, then RetriesExhausted(attempts=4)."""
    factory = FakeFactory(nursery, then=Fail(REFUSED))
    with pytest.raises(RetriesExhausted) as info:
        async with retry_scope(factory, policy=RetryPolicy([1.0, 2.0, 3.0], breaker=None)):
            pytest.fail("the scope never connected, so the body must not run")
    assert info.value.attempts == 4
    assert "ran out" in str(info.value)
    assert factory.calls == [0, 1, 3, 6]
    assert trio.current_time() == 6


@pytest.mark.parametrize(
    ("make_backoff", "expected"),
    [
        (lambda: [1.0, 2.0, 3.0], [(1, 1.0), (2, 2.0), (1, 1.0)]),
        (lambda: iter([1.0, 2.0, 3.0]), [(1, 1.0), (2, 2.0), (1, 3.0)]),
    ],
    ids=["list-restarts", "iterator-continues"],
)
async def test_user_delays_on_reset(
    autojump_clock: Clock,
    nursery: trio.Nursery,
    make_backoff: Any,
    expected: list[tuple[int, float]],
) -> None:
    """A list of delays restarts after a stable connection; a one-shot iterator continues."""
    factory = FakeFactory(nursery, Up(lasts=40), Fail(REFUSED), Up(lasts=40), Up())
    policy = RetryPolicy(make_backoff(), breaker=None)
    async with retry_scope(factory, policy=policy) as ws:
        events = await read_until(ws, Connected, count=3)
    assert waits(events) == expected


async def test_backoff_resets_only_after_a_stable_connection(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A 40 s connection resets the backoff; a 5 s one does not (stable_after=30)."""
    factory = FakeFactory(nursery, Up(lasts=40), Up(lasts=5), Up(lasts=40), Up())
    async with retry_scope(factory, policy=exact()) as ws:
        events = await read_until(ws, Connected, count=4)
    assert waits(events) == [(1, 0.5), (2, 1.0), (1, 0.5)]
    assert factory.calls == [0, 40.5, 46.5, 87.0]


@pytest.mark.parametrize(
    ("lasts", "expected"), [(10.0, [(1, 0.5), (1, 0.5)]), (9.5, [(1, 0.5), (2, 1.0)])]
)
async def test_stable_after_boundary(
    autojump_clock: Clock, nursery: trio.Nursery, lasts: float, expected: list[tuple[int, float]]
) -> None:
    """Up for exactly stable_after counts as stable; a moment less does not."""
    factory = FakeFactory(nursery, Up(lasts=lasts), Up(lasts=lasts), Up())
    async with retry_scope(factory, policy=exact(stable_after=10.0)) as ws:
        events = await read_until(ws, Connected, count=3)
    assert waits(events) == expected


@pytest.mark.parametrize(
    ("status", "retry_after", "honour", "expected"),
    [
        (429, 120.0, True, 120.0),
        (429, None, True, 30.0),
        (429, 120.0, False, 30.0),
        (503, 45.0, True, 45.0),
        (503, None, True, 10.0),
        (503, 2.0, True, 10.0),
        (418, None, True, 300.0),
        (418, 3600.0, True, 300.0),
        (429, math.inf, True, 300.0),
        (502, None, True, 0.5),
    ],
)
async def test_rejected_handshake_floors_and_retry_after(
    autojump_clock: Clock,
    nursery: trio.Nursery,
    status: int,
    retry_after: float | None,
    honour: bool,
    expected: float,
) -> None:
    """429/503/418 wait at least their floor and at least Retry-After (when honoured)."""
    rejected = HandshakeRejected("rejected", status=status, retry_after=retry_after)
    factory = FakeFactory(nursery, Fail(rejected), Up())
    async with retry_scope(factory, policy=exact(honour_retry_after=honour)) as ws:
        events = await read_until(ws, Connected)
    assert waits(events) == [(1, expected)]
    assert factory.calls == [0, expected]


@pytest.mark.parametrize(
    ("retry_after", "cap", "expected", "shown_cap"),
    [
        (120.0, 300.0, 120.0, None),
        (3600.0, 300.0, 300.0, 300.0),
        (math.inf, 300.0, 300.0, 300.0),
        (3600.0, 7200.0, 3600.0, None),
        (3600.0, 10.0, 30.0, 10.0),
    ],
)
async def test_retry_after_is_capped_and_the_cap_is_shown(
    autojump_clock: Clock,
    nursery: trio.Nursery,
    retry_after: float,
    cap: float,
    expected: float,
    shown_cap: float | None,
) -> None:
    """Retry-After waits at most max_retry_after; Reconnecting shows what was asked and the cap."""
    rejected = HandshakeRejected("rejected", status=429, retry_after=retry_after)
    factory = FakeFactory(nursery, Fail(rejected), Up())
    async with retry_scope(factory, policy=exact(max_retry_after=cap)) as ws:
        events = await read_until(ws, Connected)
    [reconnecting] = [e for e in events if isinstance(e, Reconnecting)]
    assert reconnecting.delay == expected
    assert reconnecting.retry_after == retry_after
    assert reconnecting.retry_after_cap == shown_cap
    assert factory.calls == [0, expected]


@pytest.mark.parametrize(
    ("code", "floors", "expected"),
    [(1013, None, 10.0), (1001, None, 0.5), (1001, {1001: 3.0}, 3.0), (1013, {}, 0.5)],
)
async def test_close_code_floors(
    autojump_clock: Clock,
    nursery: trio.Nursery,
    code: int,
    floors: dict[int, float] | None,
    expected: float,
) -> None:
    """Close 1013 waits at least 10 s by default; floors= changes the table."""
    factory = FakeFactory(nursery, Up(lasts=1, reason=RemoteClosed(code, "bye")), Up())
    policy = exact() if floors is None else exact(floors=floors)
    async with retry_scope(factory, policy=policy) as ws:
        events = await read_until(ws, Connected, count=2)
    assert waits(events) == [(1, expected)]
    assert factory.calls == [0, 1 + expected]


@pytest.mark.parametrize(
    "error",
    [
        TLSFailed("untrusted certificate", ssl_reason="CERTIFICATE_VERIFY_FAILED"),
        HandshakeRejected("unauthorized", status=401),
        HandshakeRejected("forbidden", status=403),
        HandshakeRejected("not found", status=404),
    ],
    ids=["tls", "401", "403", "404"],
)
async def test_non_retryable_connect_error_stops_at_once(
    autojump_clock: Clock, nursery: trio.Nursery, error: Exception
) -> None:
    """TLS verification and 401/403/404 give up after the one attempt, with the cause chained."""
    factory = FakeFactory(nursery, Fail(error), then=Up())
    with pytest.raises(RetriesExhausted) as info:
        async with retry_scope(factory, policy=exact()):
            pytest.fail("the scope never connected, so the body must not run")
    assert type(info.value) is RetriesExhausted
    assert info.value.attempts == 1
    reason = info.value.last_reason
    assert isinstance(reason, ConnectAttemptFailed)
    assert reason.error is error
    assert info.value.__cause__ is error
    assert factory.calls == [0]


@pytest.mark.parametrize(
    "reason",
    [
        AuthenticationFailed("invalid API key"),
        ProtocolError("reserved opcode"),
        RemoteClosed(1008, "policy violation"),
        UserInitiated(),
    ],
    ids=["auth", "protocol", "1008", "closed-elsewhere"],
)
async def test_non_retryable_disconnect_stops_and_cancels_the_body(
    autojump_clock: Clock, nursery: trio.Nursery, reason: DisconnectReason
) -> None:
    """A non-retryable end raises RetriesExhausted at that moment, even from a blocked body."""
    before = task_count()
    factory = FakeFactory(nursery, Up(lasts=100, reason=reason), then=Up())
    with pytest.raises(RetriesExhausted) as info:
        async with retry_scope(factory, policy=exact()):
            await trio.sleep_forever()
    assert type(info.value) is RetriesExhausted
    assert info.value.last_reason == reason
    assert info.value.attempts == 0
    assert trio.current_time() == 100
    assert factory.calls == [0]
    await trio.testing.wait_all_tasks_blocked()
    assert task_count() == before


async def test_should_retry_can_extend_the_default(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """should_retry replaces reason.retryable: here a ProtocolError is retried."""
    factory = FakeFactory(nursery, Up(lasts=1, reason=ProtocolError("bad frame")), Up())
    policy = exact(should_retry=lambda r: isinstance(r, ProtocolError) or r.retryable)
    async with retry_scope(factory, policy=policy) as ws:
        events = await read_until(ws, Connected, count=2)
    assert [e for e in events if isinstance(e, Reconnecting)] == [
        Reconnecting(1, 0.5, ProtocolError("bad frame"))
    ]


async def test_should_retry_can_decline(autojump_clock: Clock, nursery: trio.Nursery) -> None:
    """should_retry returning False stops even on a retryable reason."""
    factory = FakeFactory(nursery, Up(lasts=1), then=Up())
    with pytest.raises(RetriesExhausted, match="should_retry declined") as info:
        async with retry_scope(factory, policy=exact(should_retry=lambda r: False)):
            await trio.sleep_forever()
    assert info.value.last_reason == RESET
    assert trio.current_time() == 1


async def test_breaker_opens_after_fast_connect_failures(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """3 fast failures open the breaker (60 s); it stays half-open until a slow failure."""
    timeout = ConnectTimeout("connect timed out", url="fake://")
    factory = FakeFactory(
        nursery, *[Fail(REFUSED)] * 4, Fail(timeout, after=10), Fail(REFUSED), Up()
    )
    breaker = CircuitBreaker(threshold=3, fast_within=1.0, cool_down=60.0)
    async with retry_scope(factory, policy=exact(breaker=breaker)) as ws:
        events = await read_until(ws, Connected)
    assert waits(events) == [(1, 0.5), (2, 1.0), (3, 60.0), (4, 60.0), (5, 8.0), (6, 16.0)]
    assert factory.calls == [0, 0.5, 1.5, 61.5, 121.5, 139.5, 155.5]


async def test_breaker_counts_connections_that_drop_at_once(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A server that accepts and closes at once trips the breaker like refusals do."""
    factory = FakeFactory(nursery, *[Up(lasts=0.25)] * 3, Up())
    breaker = CircuitBreaker(threshold=3, fast_within=1.0, cool_down=60.0)
    async with retry_scope(factory, policy=exact(breaker=breaker)) as ws:
        events = await read_until(ws, Connected, count=4)
    assert waits(events) == [(1, 0.5), (2, 1.0), (3, 60.0)]


async def test_max_attempts_on_the_first_connection(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """max_attempts=2 when the scope starts: the first attempt and 2 retries."""
    factory = FakeFactory(nursery, then=Fail(REFUSED))
    with pytest.raises(RetriesExhausted, match="max_attempts=2") as info:
        async with retry_scope(factory, policy=exact(max_attempts=2)):
            pytest.fail("the scope never connected, so the body must not run")
    assert info.value.attempts == 3
    assert factory.calls == [0, 0.5, 1.5]


async def test_max_attempts_after_a_stable_connection(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """max_attempts=2 after a stable connection ended: exactly 2 reconnection attempts."""
    factory = FakeFactory(nursery, Up(lasts=100), then=Fail(REFUSED))
    seen: list[Event] = []

    async def strategy() -> None:
        async with retry_scope(factory, policy=exact(max_attempts=2)) as ws:
            seen.extend(await read_until(ws, Reconnecting, count=2))
            await trio.sleep_forever()

    with pytest.raises(RetriesExhausted) as info:
        await strategy()
    assert waits(seen) == [(1, 0.5), (2, 1.0)]
    assert info.value.attempts == 2
    assert isinstance(info.value.last_reason, ConnectAttemptFailed)
    assert factory.calls == [0, 100.5, 101.5]
    assert trio.current_time() == 101.5


async def test_max_attempts_zero_never_reconnects(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """max_attempts=0: the first drop ends the scope with attempts=0."""
    factory = FakeFactory(nursery, Up(lasts=100), then=Up())
    with pytest.raises(RetriesExhausted) as info:
        async with retry_scope(factory, policy=exact(max_attempts=0)):
            await trio.sleep_forever()
    assert (info.value.attempts, info.value.last_reason) == (0, RESET)
    assert factory.calls == [0]


async def test_short_lived_connections_count_as_failed_attempts(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Connections that drop before stable_after use up max_attempts."""
    factory = FakeFactory(nursery, then=Up(lasts=1))
    with pytest.raises(RetriesExhausted) as info:
        async with retry_scope(factory, policy=exact(max_attempts=2)):
            await trio.sleep_forever()
    assert info.value.attempts == 3
    assert factory.calls == [0, 1.5, 3.5]
    assert trio.current_time() == 4.5


async def test_max_elapsed_gives_up_before_an_attempt_that_would_start_too_late(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """max_elapsed=5: after attempts at 0, 0.5, 1.5, 3.5 the next (at 7.5) is too late."""
    factory = FakeFactory(nursery, then=Fail(REFUSED))
    with pytest.raises(RetriesExhausted, match="max_elapsed") as info:
        async with retry_scope(factory, policy=exact(max_elapsed=5.0)):
            pytest.fail("the scope never connected, so the body must not run")
    assert info.value.attempts == 4
    assert factory.calls == [0, 0.5, 1.5, 3.5]
    assert trio.current_time() == 3.5


async def test_connection_limiter_refusals_are_waited_out_and_not_counted(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """RateLimitExceeded from the factory: wait retry_after, emit RateLimited, no attempt used."""
    limited = [
        Fail(RateLimitExceeded("connections", "300 per 5m", 12.5)),
        Fail(RateLimitExceeded("connections", "300 per 5m", 2.0)),
    ]
    factory = FakeFactory(nursery, *limited, Fail(REFUSED), Up())
    async with retry_scope(factory, policy=exact(max_attempts=1)) as ws:
        assert trio.current_time() == 15.0
        events = await read_until(ws, Connected)
    assert events[:2] == [
        RateLimited("connections", "300 per 5m", 12.5, waited=True),
        RateLimited("connections", "300 per 5m", 2.0, waited=True),
    ]
    assert waits(events) == [(1, 0.5)]
    assert events[-1] == Connected("fake://0", at=15.0)
    assert factory.calls == [0, 12.5, 14.5, 15.0]


async def test_connection_limiter_that_will_never_admit_gives_up(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """retry_after=inf (the cost exceeds the limit): give up with the refusal chained."""
    refusal = RateLimitExceeded("connections", "0 per 5m", math.inf)
    factory = FakeFactory(nursery, Fail(refusal), then=Up())
    with pytest.raises(RetriesExhausted) as info:
        async with retry_scope(factory, policy=exact()):
            pytest.fail("the scope never connected, so the body must not run")
    assert info.value.__cause__ is refusal
    assert factory.calls == [0]


async def test_a_bad_delay_from_the_backoff_is_a_config_error(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A negative delay from a user's iterable raises ConfigError out of the scope (bare)."""
    factory = FakeFactory(nursery, Fail(REFUSED), then=Up())
    with pytest.raises(ConfigError, match="delays must be finite"):
        async with retry_scope(factory, policy=RetryPolicy([-1.0], breaker=None)):
            pytest.fail("the scope never connected, so the body must not run")


async def test_full_event_buffer_holds_the_reconnection(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Overflow policy "block": with ws.events full, the scope waits until it is read."""
    factory = FakeFactory(nursery, Up(lasts=1), Up())
    async with retry_scope(factory, policy=exact(), event_buffer=2) as ws:
        await trio.sleep(50)
        assert factory.calls == [0]
        events = await read_until(ws, Connected, count=2)
    assert waits(events) == [(1, 0.5)]
    assert factory.calls == [0, 50.5]


async def test_closing_with_a_full_buffer_is_prompt(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Leaving the block never waits for room in an unread ws.events."""
    before = task_count()
    factory = FakeFactory(nursery, Up(lasts=1), then=Up())
    async with retry_scope(factory, policy=exact(), event_buffer=1):
        await trio.sleep(5)
    assert trio.current_time() == 5
    await trio.testing.wait_all_tasks_blocked()
    assert task_count() == before
