"""retry_scope's behaviour: events across connections, replay, user calls, closing, cancelling."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_venues._retry import (
    ExponentialBackoff,
    RetryingConnection,
    RetryPolicy,
    SendPolicy,
    retry_scope,
)
from trio_venues.errors import (
    ConfigError,
    ConnectionLost,
    ConnectionRefused,
    NotConnected,
    RequestTimeout,
    RetriesExhausted,
    SubscriptionError,
)
from trio_venues.events import (
    Connected,
    DataGap,
    Disconnected,
    ErrorEvent,
    Event,
    RateLimited,
    Reconnecting,
    Resubscribed,
    Subscribed,
)
from trio_venues.reasons import ResubscribeTimeout, UserInitiated

from ._fakes import RESET, Fail, FakeConnection, FakeFactory, Up, task_count

Clock = trio.abc.Clock
WS = RetryingConnection[FakeConnection]

REFUSED = ConnectionRefused("connection refused", url="fake://")


def exact(**options: Any) -> RetryPolicy:
    """Delays 0.5, 1, 2, 4, ... exactly; breaker off."""
    options.setdefault("breaker", None)
    return RetryPolicy(ExponentialBackoff(jitter=0), **options)


async def read_until(ws: WS, kind: type[Event], count: int = 1) -> list[tuple[float, Event]]:
    """(time read, event) up to and including the ``count``-th event of class ``kind``."""
    out: list[tuple[float, Event]] = []
    async for event in ws.events:
        out.append((trio.current_time(), event))
        if isinstance(event, kind):
            count -= 1
            if count == 0:
                break
    return out


def without_subscribed(seen: list[tuple[float, Event]]) -> list[tuple[float, Event]]:
    # The connection's own Subscribed acks travel through the forwarder task,
    # the scope's Resubscribed through another: their relative order is free.
    return [(t, e) for t, e in seen if not isinstance(e, Subscribed)]


# -- events across connections -------------------------------------------------------------


async def test_reconnect_forwards_every_event_and_reports_the_outage(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A drop gives Disconnected, Reconnecting, Connected, Resubscribed, DataGap, in order."""
    factory = FakeFactory(nursery, Up(lasts=10), Up(after=0.25))
    async with retry_scope(factory, policy=exact()) as ws:
        assert trio.current_time() == 0
        await ws.subscribe("a", "b")
        seen = await read_until(ws, DataGap)
    assert without_subscribed(seen) == [
        (0, Connected("fake://0", at=0)),
        (10, Disconnected(RESET)),
        (10, Reconnecting(1, 0.5, RESET)),
        (10.75, Connected("fake://1", at=10.75)),
        (10.75, Resubscribed(("a", "b"))),
        (10.75, DataGap(("a", "b"), 10.0, 10.75)),
    ]
    assert [e for _, e in seen if isinstance(e, Subscribed)] == [Subscribed(("a", "b"))] * 2
    assert factory.calls == [0, 10.5]
    assert factory.connections[1].subscribe_calls == [(10.75, ("a", "b"))]


async def test_nothing_of_the_scope_precedes_the_new_connected_event(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """The replay starts only after the new connection's Connected was forwarded."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(connected_event_after=1.0))
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a")
        seen = without_subscribed(await read_until(ws, DataGap))
    assert seen[-3:] == [
        (6.5, Connected("fake://1", at=5.5)),
        (6.5, Resubscribed(("a",))),
        (6.5, DataGap(("a",), 5.0, 6.5)),
    ]
    assert factory.connections[1].subscribe_calls == [(6.5, ("a",))]


async def test_connected_turns_false_when_the_end_is_seen_even_if_unread(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """ws.connected drops as soon as the scope reads Disconnected, before delivering it."""
    factory = FakeFactory(nursery, Up(lasts=5), Up())
    async with retry_scope(factory, policy=exact(), event_buffer=1) as ws:
        assert ws.connected
        await trio.sleep(6)  # ws.events is full (Connected): Disconnected waits for room
        assert ws.connection is None
        assert factory.calls == [0]


async def test_resubscription_waits_for_the_acks(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Resubscribed and DataGap come when the venue acked; a call made meanwhile waits for it."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(ack_delay=3))
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a")
        seen = await read_until(ws, Connected, count=2)
        assert seen[-1] == (5.5, Connected("fake://1", at=5.5))
        assert not ws.connected
        assert ws.connection is factory.connections[1]
        await ws.send("during replay")  # Connected means usable: it waits for the replay
        assert trio.current_time() == 8.5
        seen = await read_until(ws, DataGap)
        assert ws.connection is factory.connections[1]
    assert without_subscribed(seen) == [
        (8.5, Resubscribed(("a",))),
        (8.5, DataGap(("a",), 5.0, 8.5)),
    ]
    assert factory.connections[1].sent == [(8.5, "during replay")]


async def test_topics_refused_on_replay_are_dropped_and_reported(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A refusal on replay: ErrorEvent(SubscriptionError), the topic leaves the set and the gap."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(refuse=frozenset({"b"})))
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a", "b", "c")
        seen = [e for _, e in await read_until(ws, DataGap)]
        assert ws.subscriptions == {"a", "c"}
    errors = [e.error for e in seen if isinstance(e, ErrorEvent)]
    assert len(errors) == 1
    assert isinstance(errors[0], SubscriptionError)
    assert errors[0].topics == ("b",)
    assert Resubscribed(("a", "c")) in seen
    assert seen[-1] == DataGap(("a", "c"), 5.0, 5.5)


async def test_data_gap_spans_failed_attempts_and_includes_the_urls_own_topics(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """``since`` is when the last ready connection ended; URL topics are in the gap too."""
    factory = FakeFactory(
        nursery,
        Up(lasts=5, base_topics=("u",)),
        Fail(REFUSED),
        Up(lasts=2, ack_delay=10, base_topics=("u",)),  # drops during the replay
        Up(base_topics=("u",)),
    )
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a")
        seen = [e for _, e in without_subscribed(await read_until(ws, DataGap))]
    assert factory.calls == [0, 5.5, 6.5, 10.5]
    assert seen[-2:] == [Resubscribed(("a",)), DataGap(("a", "u"), 5.0, 10.5)]
    assert sum(isinstance(e, Resubscribed) for e in seen) == 1


async def test_no_resubscribed_event_when_nothing_was_subscribed(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """With an empty set a reconnect replays nothing: no Resubscribed, no DataGap."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(lasts=5), Up())
    async with retry_scope(factory, policy=exact()) as ws:
        seen = [e for _, e in await read_until(ws, Connected, count=3)]
        await ws.wait_connected()
        assert trio.current_time() == 11.5
    assert not any(isinstance(e, Resubscribed | DataGap) for e in seen)
    assert all(c.subscribe_calls == [] for c in factory.connections)


async def test_unsubscribed_topics_are_not_replayed(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """unsubscribe() removes the topic from the replayed set."""
    factory = FakeFactory(nursery, Up(lasts=5), Up())
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a", "b")
        await ws.unsubscribe("a")
        assert ws.subscriptions == {"b"}
        await read_until(ws, DataGap)
    assert factory.connections[1].subscribe_calls == [(5.5, ("b",))]


async def test_live_subscription_refusal_keeps_the_accepted_topics(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """SubscriptionError from subscribe(): accepted topics join the set, refused ones do not."""
    factory = FakeFactory(nursery, Up(refuse=frozenset({"x"})))
    async with retry_scope(factory, policy=exact()) as ws:
        with pytest.raises(SubscriptionError):
            await ws.subscribe("a", "x")
        assert ws.subscriptions == {"a"}


async def test_subscribe_lost_with_its_connection_is_not_replayed(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A subscribe whose connection ends before the ack raises ConnectionLost; set unchanged."""
    factory = FakeFactory(nursery, Up(lasts=5, ack_delay=10), Up())
    async with retry_scope(factory, policy=exact()) as ws:
        with pytest.raises(ConnectionLost):
            await ws.subscribe("a")
        assert trio.current_time() == 5
        assert ws.subscriptions == frozenset()
        await read_until(ws, Connected, count=2)
        await ws.wait_connected()
    assert factory.connections[1].subscribe_calls == []


async def test_replay_timeout_closes_the_connection_and_reconnects(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """An unacknowledged replay: ErrorEvent(RequestTimeout), ResubscribeTimeout, a reconnect."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(ack_timeout=10), Up())
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a")
        seen = [e for _, e in await read_until(ws, DataGap)]
    errors = [e.error for e in seen if isinstance(e, ErrorEvent)]
    assert len(errors) == 1
    assert isinstance(errors[0], RequestTimeout)
    assert Disconnected(UserInitiated()) in seen
    retry = [e for e in seen if isinstance(e, Reconnecting)][-1]
    assert (retry.attempt, retry.delay) == (2, 1.0)
    assert retry.reason == ResubscribeTimeout(("a",), 10.0)
    assert factory.calls == [0, 5.5, 16.5]
    assert seen[-1] == DataGap(("a",), 5.0, 16.5)


async def test_replay_rate_limited_waits_and_retries(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A local message-limit refusal on replay is waited out and reported as RateLimited."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(limited_for=0.75))
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a")
        seen = without_subscribed(await read_until(ws, DataGap))
    assert seen[-3:] == [
        (5.5, RateLimited("messages", "5 per 1s", 0.75, waited=True)),
        (6.25, Resubscribed(("a",))),
        (6.25, DataGap(("a",), 5.0, 6.25)),
    ]


# -- on_connect ----------------------------------------------------------------------------


async def test_on_connect_runs_on_every_connection_before_the_replay(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """on_connect(conn) runs first on each new connection; the replay follows it."""
    factory = FakeFactory(nursery, Up(lasts=5), Up())
    calls: list[tuple[float, int, int]] = []

    async def logon(conn: FakeConnection) -> None:
        await trio.sleep(0.25)
        calls.append((trio.current_time(), conn.index, len(conn.subscribe_calls)))

    async with retry_scope(factory, policy=exact(), on_connect=logon) as ws:
        assert trio.current_time() == 0.25
        await ws.subscribe("a")
        await read_until(ws, DataGap)
    assert calls == [(0.25, 0, 0), (5.75, 1, 0)]
    assert factory.connections[1].subscribe_calls == [(5.75, ("a",))]


async def test_on_connect_error_propagates_as_itself(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """An exception from the hook ends the scope and comes out bare."""
    factory = FakeFactory(nursery, then=Up())

    async def broken(conn: FakeConnection) -> None:
        await trio.lowlevel.checkpoint()
        raise KeyError("no credentials")

    with pytest.raises(KeyError):
        async with retry_scope(factory, policy=exact(), on_connect=broken):
            pytest.fail("the hook failed, so the body must not run")
    assert factory.connections[0].reason == UserInitiated()


async def test_connection_lost_in_on_connect_is_a_reconnect(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A hook that fails because the connection ended just leads to the next attempt."""
    factory = FakeFactory(nursery, Up(lasts=1, request_delay=10), Up())

    async def logon(conn: FakeConnection) -> None:
        await conn.request("logon", {"key": "k"})

    async with retry_scope(factory, policy=exact(), on_connect=logon) as ws:
        assert trio.current_time() == 1.5
        assert ws.connection is factory.connections[1]
    assert [c.requests for c in factory.connections] == [[("logon", {"key": "k"})]] * 2


# -- user calls between connections -------------------------------------------------------------


async def test_send_between_connections_raises_under_the_raise_policy(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """send_policy="raise": NotConnected between connections, and nothing is sent later."""
    factory = FakeFactory(nursery, Up(lasts=5), Up())
    async with retry_scope(factory, policy=exact()) as ws:
        await read_until(ws, Reconnecting)
        with pytest.raises(NotConnected, match="between connections"):
            await ws.send("x")
        with pytest.raises(NotConnected):
            await ws.request("ping")
        with pytest.raises(NotConnected):
            await ws.subscribe("a")
        await ws.wait_connected()
        assert trio.current_time() == 5.5
    assert all(c.sent == [] and c.requests == [] for c in factory.connections)


async def test_calls_wait_for_the_next_connection_under_the_wait_policy(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """send_policy="wait": calls made while disconnected go out on the next connection."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(after=2))
    async with retry_scope(factory, policy=exact(), send_policy="wait") as ws:
        await read_until(ws, Reconnecting)
        await ws.send("x")
        assert trio.current_time() == 7.5
        assert await ws.request("ping", {"n": 1}) == {
            "method": "ping",
            "params": {"n": 1},
            "connection": 1,
        }
    assert factory.connections[0].sent == []
    assert factory.connections[1].sent == [(7.5, "x")]


@pytest.mark.parametrize("send_policy", ["raise", "wait"])
async def test_a_call_on_a_connection_that_just_ended(
    autojump_clock: Clock, nursery: trio.Nursery, send_policy: SendPolicy
) -> None:
    """Ended but not yet noticed (events unread): "raise" raises, "wait" sends on the next one."""
    factory = FakeFactory(nursery, Up(lasts=5), Up())

    async def read_later() -> None:
        await trio.sleep_until(10)
        await read_until(ws, DataGap)

    async with retry_scope(factory, policy=exact(), send_policy=send_policy, event_buffer=1) as ws:
        await ws.subscribe("a")  # its Subscribed ack waits for room behind Connected
        await trio.sleep(6)
        assert ws.connection is factory.connections[0]  # the end is still queued
        if send_policy == "raise":
            with pytest.raises(NotConnected):
                await ws.send("x")
        else:
            nursery.start_soon(read_later)
            await ws.send("x")
            assert trio.current_time() == 10.5
    assert factory.connections[0].sent == []
    assert [c.sent for c in factory.connections[1:]] == (
        [[(10.5, "x")]] if send_policy == "wait" else []
    )


async def test_request_in_flight_fails_with_connection_lost_and_is_not_resent(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A request pending when the connection ends raises ConnectionLost; never re-sent."""
    factory = FakeFactory(nursery, Up(lasts=5, request_delay=10), Up())
    async with retry_scope(factory, policy=exact(), send_policy="wait") as ws:
        with pytest.raises(ConnectionLost):
            await ws.request("order", {"qty": "1.5"})
        assert trio.current_time() == 5
        await read_until(ws, Connected, count=2)
        await ws.wait_connected()
    assert factory.connections[0].requests == [("order", {"qty": "1.5"})]
    assert factory.connections[1].requests == []


async def test_waiting_caller_gets_not_connected_when_the_scope_gives_up(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A caller in another task waiting for a connection is told when the scope gives up."""
    factory = FakeFactory(nursery, Up(lasts=100), then=Fail(REFUSED))
    outcome: list[BaseException] = []

    async def caller(ws: WS) -> None:
        try:
            await ws.send("x")
        except NotConnected as exc:
            outcome.append(exc)

    async def strategy() -> None:
        async with retry_scope(factory, policy=exact(max_attempts=1), send_policy="wait") as ws:
            await read_until(ws, Reconnecting)
            nursery.start_soon(caller, ws)
            await trio.sleep_forever()

    with pytest.raises(RetriesExhausted):
        await strategy()
    await trio.testing.wait_all_tasks_blocked()
    assert len(outcome) == 1
    assert "gave up" in str(outcome[0])


# -- leaving, closing, cancelling -------------------------------------------------------------


async def test_leaving_the_block_closes_the_connection_and_ends_events(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Normal exit: the connection ends with UserInitiated, events end, calls raise."""
    before = task_count()
    factory = FakeFactory(nursery, Up())
    async with retry_scope(factory, policy=exact()) as ws:
        await trio.sleep(3)
    conn = factory.connections[0]
    assert (conn.reason, conn.ended_at) == (UserInitiated(), 3)
    assert [e async for e in ws.events] == [
        Connected("fake://0", at=0),
        Disconnected(UserInitiated()),
    ]
    with pytest.raises(NotConnected, match="ended"):
        await ws.send("late")
    assert trio.current_time() == 3
    await trio.testing.wait_all_tasks_blocked()
    assert task_count() == before


async def test_aclose_inside_the_block_stops_reconnecting(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """ws.aclose(): the connection closes, events end, no further attempt is made."""
    factory = FakeFactory(nursery, Up(lasts=10), then=Up())
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.aclose()
        events = [e async for e in ws.events]
        await trio.sleep(20)
        assert not ws.connected
    assert events[-1] == Disconnected(UserInitiated())
    assert factory.calls == [0]


async def test_body_exception_propagates_as_itself(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """An error raised in the body comes out unwrapped and the connection is closed."""
    factory = FakeFactory(nursery, Up())
    with pytest.raises(ValueError, match="strategy bug"):
        async with retry_scope(factory, policy=exact()):
            raise ValueError("strategy bug")
    assert factory.connections[0].reason == UserInitiated()


async def test_closed_events_channel_is_discarded_and_the_scope_keeps_going(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """After ws.events.aclose() events are discarded; reconnection still works."""
    factory = FakeFactory(nursery, Up(lasts=5), Up())
    async with retry_scope(factory, policy=exact()) as ws:
        await ws.subscribe("a")
        await ws.events.aclose()
        await trio.sleep(10)
        assert ws.connection is factory.connections[1]
    assert factory.connections[1].subscribe_calls == [(5.5, ("a",))]


@pytest.mark.parametrize(
    ("script", "cancel_at"),
    [
        ([Up(lasts=10)], 20.0),  # refused at 15, then in the 100 s backoff sleep
        ([Up(lasts=10), Up(after=100)], 20.0),  # in the connect that started at 15
        ([Up(lasts=10), Up(ack_delay=100)], 20.0),  # in the replay that started at 15
    ],
    ids=["sleep", "connect", "resubscribe"],
)
async def test_cancellation_is_prompt_and_leaves_nothing_running(
    autojump_clock: Clock, nursery: trio.Nursery, script: list[Up], cancel_at: float
) -> None:
    """Cancelling the scope in a sleep, a connect or a replay ends it at once, cleanly."""
    before = task_count()
    factory = FakeFactory(nursery, *script, then=Fail(REFUSED))
    policy = RetryPolicy([5.0, 100.0], breaker=None)
    with trio.move_on_after(cancel_at) as scope:
        async with retry_scope(factory, policy=policy) as ws:
            await ws.subscribe("a")
            await trio.sleep_forever()
    assert scope.cancelled_caught
    assert trio.current_time() == cancel_at
    assert all(c.reason is not None for c in factory.connections)
    await trio.testing.wait_all_tasks_blocked()
    assert task_count() == before


async def test_cancellation_during_the_first_connect(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Cancelled while entering (first attempts failing): out at once, nothing left."""
    before = task_count()
    factory = FakeFactory(nursery, Fail(REFUSED), Up(after=100))
    with trio.move_on_after(5) as scope:
        async with retry_scope(factory, policy=exact()):
            pytest.fail("never connected before the cancellation")
    assert scope.cancelled_caught
    assert trio.current_time() == 5
    assert factory.calls == [0, 0.5]
    await trio.testing.wait_all_tasks_blocked()
    assert task_count() == before


async def test_invalid_arguments(nursery: trio.Nursery) -> None:
    """A bad send_policy or event_buffer raises ConfigError on entry."""
    factory = FakeFactory(nursery, then=Up())
    with pytest.raises(ConfigError, match="send_policy"):
        async with retry_scope(factory, send_policy="queue"):  # type: ignore[arg-type]
            pytest.fail("invalid arguments")
    with pytest.raises(ConfigError, match="event_buffer"):
        async with retry_scope(factory, event_buffer=0):
            pytest.fail("invalid arguments")
    assert factory.calls == []
