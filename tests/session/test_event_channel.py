"""ws.events on its own: order, batches, cancellation, yields and the reader's hand-off wait."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from trio_venues._channel import _YIELD_EVERY, EventChannel
from trio_venues.events import Connected, Disconnected, Event, Message
from trio_venues.reasons import UserInitiated


def msg(i: int) -> Message:
    return Message("t", i)


def filled(n: int, *, finished: bool = False) -> EventChannel:
    channel = EventChannel()
    for i in range(n):
        channel.put(msg(i))
    if finished:
        channel.put(Disconnected(UserInitiated()))
        channel.finish()
    return channel


async def test_async_for_yields_every_event_in_order_then_ends() -> None:
    """`async for` hands out every queued event in order and stops after finish()."""
    channel = filled(200, finished=True)
    got: list[Event] = [event async for event in channel]
    assert got[:-1] == [msg(i) for i in range(200)]
    assert isinstance(got[-1], Disconnected)


async def test_receive_batch_takes_everything_queued_up_to_its_limit() -> None:
    """receive_batch returns the queue in order, at most max_events at a time."""
    channel = filled(10)
    assert await channel.receive_batch(4) == [msg(i) for i in range(4)]
    assert await channel.receive_batch() == [msg(i) for i in range(4, 10)]
    assert len(channel) == 0


async def test_receive_batch_waits_for_the_first_event(autojump_clock: trio.abc.Clock) -> None:
    """An empty channel makes receive_batch wait; one put is enough to return."""
    channel = EventChannel()
    got: list[list[Event]] = []

    async def consumer() -> None:
        got.append(await channel.receive_batch())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        channel.put(Connected("ws://x"))
    assert got == [[Connected("ws://x")]]


async def test_batches_end_after_the_batch_holding_disconnected() -> None:
    """batches() yields lists whose concatenation is the whole stream, then stops."""
    channel = filled(7, finished=True)
    batches = [batch async for batch in channel.batches(3)]
    assert [len(b) for b in batches] == [3, 3, 2]
    flat = [event for batch in batches for event in batch]
    assert flat[:-1] == [msg(i) for i in range(7)]
    assert isinstance(flat[-1], Disconnected)


async def test_batch_sizes_below_one_are_refused() -> None:
    """max_events must be at least 1."""
    channel = filled(1)
    with pytest.raises(ValueError, match="max_events"):
        await channel.receive_batch(0)
    with pytest.raises(ValueError, match="max_events"):
        channel.batches(0)


async def test_receive_batch_after_aclose_is_a_closed_resource() -> None:
    """A closed receive side refuses batches as receive() does."""
    channel = filled(3)
    await channel.aclose()
    with pytest.raises(trio.ClosedResourceError):
        await channel.receive_batch()
    with pytest.raises(trio.ClosedResourceError):
        await channel.__anext__()


async def test_a_cancelled_consumer_gets_cancelled_even_with_events_queued() -> None:
    """Every receive checks for cancellation, even when it need not wait."""
    channel = filled(100)
    got = 0
    with trio.CancelScope() as scope:
        async for _ in channel:
            got += 1
            if got == 5:
                scope.cancel()
    assert scope.cancelled_caught
    assert got == 5
    assert len(channel) == 95


async def test_without_trios_cancel_status_the_public_check_still_cancels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If trio's internal cancel status is missing, async for falls back to the public check."""
    import trio_venues._channel as channel_module

    monkeypatch.setattr(channel_module, "_RUN", None)
    channel = filled(10)
    got = 0
    with trio.CancelScope() as scope:
        async for _ in channel:
            got += 1
            if got == 3:
                scope.cancel()
    assert scope.cancelled_caught
    assert got == 3


async def test_a_busy_consumer_lets_other_tasks_run_every_few_events() -> None:
    """A consumer that never waits still yields to the scheduler every _YIELD_EVERY events."""
    rounds = 20
    channel = filled(_YIELD_EVERY * rounds, finished=True)
    seen_at: list[int] = []
    got = 0

    async def other() -> None:
        while True:
            seen_at.append(got)
            await trio.sleep(0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(other)
        async for _ in channel:
            got += 1
        nursery.cancel_scope.cancel()
    # At each yield the other task runs once, before or after the consumer's next
    # stretch (Trio picks the order): so at least every 2 * _YIELD_EVERY events.
    gaps = [b - a for a, b in zip([0, *seen_at], seen_at, strict=False)]
    assert max(gaps) <= 2 * _YIELD_EVERY
    assert len(seen_at) >= rounds // 2


async def test_wait_for_consumer_returns_at_once_when_the_consumer_is_elsewhere(
    autojump_clock: trio.abc.Clock,
) -> None:
    """With no consumer inside the channel, the producer never waits (it may be lagging)."""
    channel = filled(50)
    with trio.fail_after(1):
        await channel.wait_for_consumer(1)
    assert trio.current_time() == 0
    assert len(channel) == 50


async def test_a_waiting_producer_wakes_after_the_consumer_took_its_turn(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A consumer woken by put() is waited for; the producer runs again after its turn."""
    channel = EventChannel()
    got: list[Event] = []

    async def consumer() -> None:
        async for event in channel:
            got.append(event)
            if len(got) == 3:
                return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        await trio.testing.wait_all_tasks_blocked()
        for i in range(3):
            channel.put(msg(i))
        with trio.fail_after(1):
            await channel.wait_for_consumer(1)
        # The consumer ran (and took everything) before the producer continued.
        assert got == [msg(0), msg(1), msg(2)]


async def test_a_consumer_leaving_the_loop_releases_the_producer(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A consumer that resumes and leaves with events queued wakes the producer for good."""
    channel = EventChannel()
    got: list[Event] = []

    async def consumer() -> None:
        async for event in channel:
            got.append(event)
            return  # one event, then elsewhere

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        await trio.testing.wait_all_tasks_blocked()
        for i in range(5):
            channel.put(msg(i))
        with trio.fail_after(1):
            await channel.wait_for_consumer(1)
        assert got == [msg(0)]
        assert len(channel) == 4
        # Nobody is inside the channel now: the producer does not wait again.
        before = trio.current_time()
        with trio.fail_after(1):
            await channel.wait_for_consumer(1)
        assert trio.current_time() == before


async def test_a_consumer_cancelled_while_waiting_is_not_waited_for(
    autojump_clock: trio.abc.Clock,
) -> None:
    """After a consumer was cancelled while parked, a put does not make the producer wait."""
    channel = EventChannel()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(channel.receive)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    channel.put(msg(1))
    before = trio.current_time()
    with trio.fail_after(1):
        await channel.wait_for_consumer(1)
    assert trio.current_time() == before
    assert len(channel) == 1


async def test_trio_internals_the_channel_reads_are_still_there() -> None:
    """Pins trio's run context: its task is the current task and carries the cancel status."""
    import trio_venues._channel as channel_module

    run = channel_module._RUN
    assert run is not None, "trio moved GLOBAL_RUN_CONTEXT: _channel.py takes the slow path"
    assert run.task is trio.lowlevel.current_task()
    assert run.task._cancel_status.effectively_cancelled is False
    with trio.CancelScope() as scope:
        scope.cancel()
        assert run.task._cancel_status.effectively_cancelled is True
