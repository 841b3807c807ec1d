"""The async gate, RateLimiter, under a virtual clock: exact times, FIFO, cancellation, sharing."""

from __future__ import annotations

import math

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_venues.errors import ConfigError, RateLimitExceeded
from trio_venues.events import RateLimited
from trio_venues.ratelimit import LimitRule, RateLimiter, VenueLimits
from trio_venues.venues.binance import _limits

# These tests pin the gate's exact arithmetic, so they use Binance's rules without
# the safety margin (test_margin_* below show what the margin changes).
BINANCE_SPOT_LIMITS = attrs.evolve(_limits.BINANCE_SPOT_LIMITS, margin=0.0)
BINANCE_API_LIMITS = attrs.evolve(_limits.BINANCE_API_LIMITS, margin=0.0)
ONE_PER_SECOND = VenueLimits(
    "test-one", (LimitRule("messages", 1, 1.0),), max_waiters=3, margin=0.0
)


async def test_binance_burst_of_20_goes_out_at_exactly_5_per_second(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Twenty 'messages' with policy='wait' leave at t=0, 1, 2 and 3, five each."""
    conn = BINANCE_SPOT_LIMITS.connection_limiter()
    times = []
    for _ in range(20):
        await conn.acquire("messages", policy="wait")
        times.append(trio.current_time())
    assert times == [0.0] * 5 + [1.0] * 5 + [2.0] * 5 + [3.0] * 5


async def test_concurrent_burst_is_admitted_in_fifo_order_at_5_per_second(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Twenty tasks queueing at once are admitted in the order they asked, five per second."""
    conn = BINANCE_SPOT_LIMITS.connection_limiter()
    asked: list[int] = []
    admitted: list[tuple[int, float]] = []

    async def send(i: int) -> None:
        asked.append(i)
        await conn.acquire("messages", policy="wait")
        admitted.append((i, trio.current_time()))

    async with trio.open_nursery() as nursery:
        for i in range(20):
            nursery.start_soon(send, i)
    assert [i for i, _ in admitted] == asked
    assert [t for _, t in admitted] == [0.0] * 5 + [1.0] * 5 + [2.0] * 5 + [3.0] * 5


async def test_binance_sixth_message_raises_before_sending(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With policy='raise' the 6th message in a second raises, reports, and takes nothing."""
    conn = BINANCE_SPOT_LIMITS.connection_limiter()
    events: list[RateLimited] = []
    for _ in range(5):
        await conn.acquire("messages", on_event=events.append)
    with pytest.raises(RateLimitExceeded) as info:
        await conn.acquire("messages", on_event=events.append)
    assert (info.value.kind, info.value.limit, info.value.retry_after) == (
        "messages",
        "5 per 1s",
        1.0,
    )
    assert "wait" in str(info.value)
    assert events == [RateLimited("messages", "5 per 1s", 1.0, waited=False)]
    await trio.sleep(info.value.retry_after)
    for _ in range(5):  # the refused attempt took no capacity
        await conn.acquire("messages")
    assert conn.stats().for_kind("messages")[0].refusals == 1


async def test_waiting_reports_once_with_the_expected_delay(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A waiter reports RateLimited(waited=True) once, as it starts waiting."""
    conn = ONE_PER_SECOND.connection_limiter()
    events: list[RateLimited] = []
    await conn.acquire("messages", policy="wait", on_event=events.append)
    assert events == []
    await conn.acquire("messages", policy="wait", on_event=events.append)
    assert trio.current_time() == 1.0
    assert events == [RateLimited("messages", "1 per 1s", 1.0, waited=True)]
    assert conn.stats().for_kind("messages")[0].waits == 1


async def test_cancelled_waiter_leaves_the_queue_and_takes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling the first of two waiters lets the second go at t=1, as if it never queued."""
    conn = ONE_PER_SECOND.connection_limiter()
    await conn.acquire("messages")  # t=0, the window is now full until t=1
    admitted: dict[str, float] = {}

    async def waiter(name: str, scope: trio.CancelScope) -> None:
        with scope:
            await conn.acquire("messages", policy="wait")
            admitted[name] = trio.current_time()

    first, second = trio.CancelScope(), trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter, "first", first)
        await trio.sleep(0.1)
        nursery.start_soon(waiter, "second", second)
        await trio.sleep(0.4)
        assert conn.stats().for_kind("messages")[0].queued == 2
        first.cancel(reason="test: give up waiting")
    assert admitted == {"second": 1.0}
    stats = conn.stats().for_kind("messages")[0]
    assert stats.queued == 0
    assert stats.used == 1.0  # only the second one counted in the window [1, 2)
    await conn.acquire("messages", policy="wait")
    assert trio.current_time() == 2.0


async def test_cancelled_caller_does_not_take_free_capacity(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An already-cancelled caller raises Cancelled before counting anything."""
    conn = ONE_PER_SECOND.connection_limiter()
    with trio.CancelScope() as scope:
        scope.cancel(reason="test: cancelled before acquiring")
        await conn.acquire("messages")
    assert conn.stats().for_kind("messages")[0].used == 0.0


async def test_queue_is_bounded(autojump_clock: trio.testing.MockClock) -> None:
    """Past max_waiters, a 'wait' acquisition raises instead of queueing."""
    conn = ONE_PER_SECOND.connection_limiter()  # max_waiters=3
    await conn.acquire("messages")
    done: list[float] = []

    async def wait_one() -> None:
        await conn.acquire("messages", policy="wait")
        done.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(wait_one)
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(RateLimitExceeded, match="3 operations already queued"):
            await conn.acquire("messages", policy="wait")
    assert done == [1.0, 2.0, 3.0]


async def test_new_callers_do_not_jump_the_queue(autojump_clock: trio.testing.MockClock) -> None:
    """While others wait, acquire() refuses or queues even if capacity just freed up."""
    conn = ONE_PER_SECOND.connection_limiter()
    await conn.acquire("messages")
    order: list[str] = []

    async def wait_one(name: str) -> None:
        await conn.acquire("messages", policy="wait")
        order.append(name)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait_one, "a")
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(wait_one, "b")
        await trio.sleep(1.0)  # 'a' is admitted at t=1; 'b' now waits for t=2
        with pytest.raises(RateLimitExceeded):
            await conn.acquire("messages")
        nursery.start_soon(wait_one, "c")
    assert order == ["a", "b", "c"]
    assert trio.current_time() == 3.0


async def test_try_acquire_now_never_waits(autojump_clock: trio.testing.MockClock) -> None:
    """The sync path admits while there is room, then returns the delay and counts a refusal."""
    conn = BINANCE_SPOT_LIMITS.connection_limiter()
    assert [conn.try_acquire_now("messages") for _ in range(5)] == [0.0] * 5
    assert conn.try_acquire_now("messages") == 1.0
    assert conn.stats().for_kind("messages")[0].refusals == 1
    assert conn.try_acquire_now("no-such-kind", 1e9) == 0.0


async def test_kind_without_rule_is_always_admitted(autojump_clock: trio.testing.MockClock) -> None:
    """A kind no rule names passes at once, whatever the cost."""
    conn = BINANCE_SPOT_LIMITS.connection_limiter()
    for _ in range(100):
        await conn.acquire("unknown", 1e9)
    assert trio.current_time() == 0.0


async def test_cost_that_can_never_fit_raises_even_when_waiting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A cost over the limit raises with retry_after=inf and says why, never waiting forever."""
    conn = BINANCE_API_LIMITS.connection_limiter("ws-api.binance.com")
    with pytest.raises(RateLimitExceeded, match="can never admit") as info:
        await conn.acquire("weight", 7000, policy="wait")
    assert info.value.retry_after == math.inf
    assert "exceeds" in info.value.limit


async def test_process_limiter_is_shared_across_connections_and_reconnects(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Connection attempts are counted per process and host, across connection limiters."""
    host = "stream.binance.com"
    proc = BINANCE_SPOT_LIMITS.process_limiter(host)
    assert BINANCE_SPOT_LIMITS.process_limiter(host) is proc
    assert BINANCE_SPOT_LIMITS.process_limiter("STREAM.binance.com") is proc
    first = BINANCE_SPOT_LIMITS.connection_limiter(host)
    for _ in range(150):
        await first.acquire("connections")
    await trio.sleep(10.0)
    # a reconnect: a new connection limiter, the old one dropped
    second = BINANCE_SPOT_LIMITS.connection_limiter(host)
    del first
    for _ in range(150):
        await second.acquire("connections")
    with pytest.raises(RateLimitExceeded) as info:
        await proc.acquire("connections")
    assert info.value.retry_after == 290.0  # the first 150 leave the 5-minute window at t=300
    assert info.value.limit == "300 per 5min"
    # the per-connection 'messages' are not shared
    third = BINANCE_SPOT_LIMITS.connection_limiter(host)
    for _ in range(5):
        await third.acquire("messages")
    await second.acquire("messages")
    # another host has its own count
    await BINANCE_SPOT_LIMITS.process_limiter("data-stream.binance.vision").acquire("connections")


async def test_connection_waits_in_fifo_for_the_shared_connection_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two reconnect loops on one host queue in one FIFO for the 3-per-second limit."""
    limits = VenueLimits(
        "test-okx",
        (LimitRule("connections", 3, 1.0, scope="process"),),
        connect_cost=(),
        margin=0.0,
    )
    order: list[tuple[str, float]] = []

    async def reconnect_loop(name: str) -> None:
        for _ in range(3):
            await limits.process_limiter("ws.okx.com").acquire("connections", policy="wait")
            order.append((name, trio.current_time()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reconnect_loop, "a")
        nursery.start_soon(reconnect_loop, "b")
    assert [t for _, t in order] == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert sorted(name for name, _ in order) == ["a"] * 3 + ["b"] * 3


def test_process_limiters_start_fresh_in_each_trio_run() -> None:
    """A new trio.run has its own registry: counts from another run's clock never leak in."""

    async def use_up() -> tuple[RateLimiter, float]:
        proc = BINANCE_SPOT_LIMITS.process_limiter("h")
        for _ in range(300):
            await proc.acquire("connections")
        return proc, proc.try_acquire_now("connections")

    proc1, delay1 = trio.run(use_up, clock=trio.testing.MockClock(autojump_threshold=0))
    proc2, delay2 = trio.run(use_up, clock=trio.testing.MockClock(autojump_threshold=0))
    assert proc1 is not proc2
    assert delay1 == delay2 == 300.0
    with pytest.raises(RuntimeError, match=r"inside trio\.run"):
        BINANCE_SPOT_LIMITS.process_limiter("h")


async def test_same_name_with_other_rules_is_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two different rule sets may not share a registry name on one host."""
    other = VenueLimits("binance-spot", (LimitRule("connections", 1, 1.0, scope="process"),))
    BINANCE_SPOT_LIMITS.process_limiter("h")
    with pytest.raises(ConfigError, match="different per-process rules"):
        other.process_limiter("h")


async def test_weight_is_charged_through_the_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A WS-API connection limiter charges 'weight' to the limiter shared per host."""
    host = "ws-api.binance.com"
    a = BINANCE_API_LIMITS.connection_limiter(host)
    b = BINANCE_API_LIMITS.connection_limiter(host)
    for kind, cost in BINANCE_API_LIMITS.connect_cost:
        await a.acquire(kind, cost)
    await a.acquire("weight", 3000)
    await b.acquire("weight", 2998)
    with pytest.raises(RateLimitExceeded) as info:
        await b.acquire("weight", 1)
    assert info.value.retry_after == 60.0
    assert BINANCE_API_LIMITS.process_limiter(host).stats().for_kind("weight")[0].used == 6000


async def test_venue_usage_report_tightens_but_never_loosens(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """update_usage raises our count to the venue's, adopts a lower limit, ignores a looser one."""
    conn = BINANCE_API_LIMITS.connection_limiter("ws-api.binance.com")
    await conn.acquire("weight", 10)
    conn.update_usage("weight", 5990, 6000, 60.0)
    await conn.acquire("weight", 10)
    with pytest.raises(RateLimitExceeded):
        await conn.acquire("weight", 1)
    conn.update_usage("weight", 0, 100_000, 60.0)  # looser: changes nothing
    assert conn.stats().for_kind("weight")[0].limit == 6000
    conn.update_usage("weight", 6000, 5000, 60.0)  # lower limit: adopted
    assert conn.stats().for_kind("weight")[0].limit == 5000


async def test_usage_report_for_an_unknown_window_adds_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A window the rules do not name is added from the venue's report and enforced."""
    conn = BINANCE_API_LIMITS.connection_limiter("ws-api.binance.com")
    conn.update_usage("raw_requests", 99, 100, 10.0)
    await conn.acquire("raw_requests")
    with pytest.raises(RateLimitExceeded, match="100 per 10s"):
        await conn.acquire("raw_requests")
    with pytest.raises(ValueError, match="window"):
        conn.update_usage("raw_requests", 1, 100, 0.0)


async def test_orders_need_both_windows(autojump_clock: trio.testing.MockClock) -> None:
    """ORDERS is 50 per 10s and 160000 per day: both windows count, both are reported."""
    conn = BINANCE_API_LIMITS.connection_limiter("ws-api.binance.com")
    for _ in range(50):
        await conn.acquire("orders")
    with pytest.raises(RateLimitExceeded, match="50 per 10s and 160000 per 1d"):
        await conn.acquire("orders")
    windows = {w.window: w for w in conn.stats().for_kind("orders")}
    assert windows[10.0].used == windows[86_400.0].used == 50
    conn.update_usage("orders", 159_990, 160_000, 86_400.0)
    await trio.sleep(10.0)
    for _ in range(10):
        await conn.acquire("orders", policy="wait")
    with pytest.raises(RateLimitExceeded) as info:
        await conn.acquire("orders")
    assert info.value.retry_after > 80_000  # the day window is the one that binds now


async def test_penalty_blocks_the_kind_until_retry_after(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After penalise (a 429), 'raise' refuses with the block's time and 'wait' waits it out."""
    conn = BINANCE_API_LIMITS.connection_limiter("ws-api.binance.com")
    conn.penalise("weight", 2.5)
    conn.penalise("weight", 1.0)  # a shorter block does not shorten the longer one
    with pytest.raises(RateLimitExceeded, match="blocked by the venue") as info:
        await conn.acquire("weight")
    assert info.value.retry_after == 2.5
    await conn.acquire("weight", policy="wait")
    assert trio.current_time() == 2.5
    conn.penalise("session", 1.0)  # a kind without rules can be blocked too
    assert conn.try_acquire_now("session") == 1.0
    with pytest.raises(ValueError, match="retry_after"):
        conn.penalise("weight", -1.0)


async def test_stats_report_every_window(autojump_clock: trio.testing.MockClock) -> None:
    """stats() lists used, limit, window and time until capacity for own and shared kinds."""
    conn = BINANCE_SPOT_LIMITS.connection_limiter("stream.binance.com")
    for _ in range(5):
        await conn.acquire("messages")
    await conn.acquire("connections")
    await trio.sleep(0.25)
    stats = conn.stats()
    (messages,) = stats.for_kind("messages")
    assert (messages.scope, messages.limit, messages.window, messages.used) == (
        "connection",
        5.0,
        1.0,
        5.0,
    )
    assert messages.time_until_capacity == 0.75
    (connections,) = stats.for_kind("connections")
    assert (connections.scope, connections.used, connections.time_until_capacity) == (
        "process",
        1.0,
        0.0,
    )
    assert stats.for_kind("nothing") == ()


async def test_bad_policy_is_a_config_error(autojump_clock: trio.testing.MockClock) -> None:
    """An unknown policy is reported when it matters, not silently treated as 'raise'."""
    conn = ONE_PER_SECOND.connection_limiter()
    await conn.acquire("messages")
    with pytest.raises(ConfigError, match="policy"):
        await conn.acquire("messages", policy="later")  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=2.0), st.integers(min_value=1, max_value=3)),
        min_size=1,
        max_size=12,
    )
)
def test_wait_policy_admits_in_fifo_order_within_the_limit(
    requests: list[tuple[float, int]],
) -> None:
    """For any arrivals and costs, waiters are admitted in arrival order and within 3 per 1s."""
    limiter = RateLimiter([LimitRule("messages", 3, 1.0)])
    asked: list[int] = []
    admitted: list[tuple[int, float, int]] = []

    async def one(i: int, at: float, cost: int) -> None:
        await trio.sleep_until(at)
        asked.append(i)
        await limiter.acquire("messages", cost, policy="wait")
        admitted.append((i, trio.current_time(), cost))

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for i, (at, cost) in enumerate(requests):
                nursery.start_soon(one, i, at, cost)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert [i for i, _, _ in admitted] == asked
    for _, t, _ in admitted:
        assert sum(c for _, u, c in admitted if t <= u < t + 1.0) <= 3


async def test_margin_moves_the_sixth_message_off_the_boundary(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With Binance's default 0.1 s margin the sixth message leaves at 1.1 s, not 1.0 s."""
    conn = _limits.BINANCE_SPOT_LIMITS.connection_limiter()
    times = []
    for _ in range(11):
        await conn.acquire("messages", policy="wait")
        times.append(trio.current_time())
    assert times == pytest.approx([0.0] * 5 + [1.1] * 5 + [2.2])
    # Any 50 ms of jitter on each message still puts at most 5 arrivals in any second.
    for jitter in ([0.05] * 5 + [0.0] * 6, [0.0] * 5 + [-0.05] * 6):
        arrivals = sorted(t + j for t, j in zip(times, jitter, strict=True))
        assert max(sum(1 for a in arrivals if s <= a < s + 1.0) for s in arrivals) == 5


async def test_margin_is_configurable_per_limits_and_per_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """VenueLimits.margin sets the default; connection_limiter(margin=) overrides it."""
    wide = attrs.evolve(ONE_PER_SECOND, margin=0.25).connection_limiter()
    exact = attrs.evolve(ONE_PER_SECOND, margin=0.25).connection_limiter(margin=0.0)
    for conn, second in ((wide, 1.25), (exact, 1.0)):
        start = trio.current_time()
        await conn.acquire("messages", policy="wait")
        await conn.acquire("messages", policy="wait")
        assert trio.current_time() - start == pytest.approx(second)
    with pytest.raises(ConfigError, match="margin"):
        attrs.evolve(ONE_PER_SECOND, margin=-0.1)
    with pytest.raises(ConfigError, match="margin"):
        ONE_PER_SECOND.connection_limiter(margin=math.inf)
