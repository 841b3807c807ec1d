"""retry_scope over the real session: a venue client against the in-memory fake venue."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import trio

from trio_venues import Connection
from trio_venues._retry import ExponentialBackoff, RetryPolicy, retry_scope
from trio_venues.errors import HandshakeRejected
from trio_venues.events import (
    Connected,
    DataGap,
    Disconnected,
    Event,
    Message,
    Reconnecting,
    Resubscribed,
)
from trio_venues.reasons import ConnectAttemptFailed, RemoteClosed
from trio_venues.testing import FakeVenueServer
from trio_venues.venues.generic import GenericJson


def client_of(server: FakeVenueServer[Any]) -> AbstractAsyncContextManager[Connection]:
    """One connection attempt of the generic venue client to ``server``, in memory."""
    return GenericJson.connect(
        server.url, transport=server.memory_transport("default"), ping_interval=None
    )


async def test_venue_client_retry_after_restart_and_replay(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """A 503 with Retry-After is waited out; a 1012 close reconnects and replays the topics."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    server.reject(503, headers=[("Retry-After", "12")])
    policy = RetryPolicy(ExponentialBackoff(jitter=0), breaker=None)
    seen: list[Event] = []
    async with retry_scope(lambda: client_of(server), policy=policy) as ws:
        assert trio.current_time() == 12
        await ws.subscribe("a@trade", "b@trade")
        first = server.connection
        await first.close(1012, "restart")
        async for event in ws.events:
            seen.append(event)
            if isinstance(event, DataGap):
                break
        second = server.connection
        assert second is not first
        await second.wait_subscribed("a@trade", "b@trade")
        await server.push("a@trade")
        async for event in ws.events:
            if isinstance(event, Message):
                assert event.topic == "a@trade"
                break
    rejected = seen[0]
    assert isinstance(rejected, Reconnecting)
    assert (rejected.attempt, rejected.delay) == (1, 12.0)
    assert isinstance(rejected.reason, ConnectAttemptFailed)
    assert isinstance(rejected.reason.error, HandshakeRejected)
    assert rejected.reason.error.status == 503
    ended = [e for e in seen if isinstance(e, Disconnected)]
    assert len(ended) == 1
    assert isinstance(ended[0].reason, RemoteClosed)
    assert ended[0].reason.code == 1012
    # It was up for less than stable_after: still the run that began with the 503.
    again = [e for e in seen if isinstance(e, Reconnecting)][-1]
    assert (again.attempt, again.delay) == (2, 1.0)
    assert sum(isinstance(e, Connected) for e in seen) == 2
    assert Resubscribed(("a@trade", "b@trade")) in seen
    gap = seen[-1]
    assert isinstance(gap, DataGap)
    assert gap.topics == ("a@trade", "b@trade")
    assert gap.until - gap.since == 1.0


async def test_data_gap_starts_at_the_last_message_of_a_stalled_connection(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """After a stall, DataGap.since is the last message's time, not the heartbeat timeout."""
    server = FakeVenueServer()
    await nursery.start(server.run)

    def client() -> AbstractAsyncContextManager[Connection]:
        return GenericJson.connect(
            server.url,
            transport=server.memory_transport("default"),
            ping_interval=10.0,
            pong_timeout=5.0,
        )

    policy = RetryPolicy(ExponentialBackoff(initial=1.0, jitter=0), breaker=None)
    async with retry_scope(client, policy=policy) as ws:
        await ws.subscribe("a@trade")
        await trio.sleep(3)
        await server.push("a@trade")
        async for event in ws.events:
            if isinstance(event, Message):
                break
        last_message_at = trio.current_time()
        server.connection.stall()
        async for event in ws.events:
            if isinstance(event, DataGap):
                gap = event
                break
    assert gap.since == last_message_at == 3.0
    # The heartbeat found the stall at 10 + 5 = 15 s, the reconnect waited 1 s.
    assert gap.until == 16.0


async def test_reconnects_are_counted_by_reason(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """RetryingConnection.reconnects counts reconnections by reason label."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    policy = RetryPolicy(ExponentialBackoff(initial=0.5, jitter=0), breaker=None)
    async with retry_scope(lambda: client_of(server), policy=policy) as ws:
        first = await ws.events.receive()
        assert isinstance(first, Connected)
        for code in (1012, 1012, 1001):
            await server.connection.close(code, "bye")
            async for event in ws.events:
                if isinstance(event, Connected):
                    break
        await server.connection.drop()
        async for event in ws.events:
            if isinstance(event, Connected):
                break
    assert dict(ws.reconnects) == {
        "RemoteClosed 1012": 2,
        "RemoteClosed 1001": 1,
        "NetworkError": 1,
    }
