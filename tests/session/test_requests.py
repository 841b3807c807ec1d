"""Request/response correlation and the subscription registry (issue 4)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import trio

from trio_venues.errors import (
    ConnectionLost,
    RateLimitExceeded,
    RequestTimeout,
    SubscriptionError,
    UnexpectedResponse,
    VenueError,
)
from trio_venues.events import ErrorEvent, Subscribed, Unsubscribed
from trio_venues.reasons import RemoteClosed
from trio_venues.testing import FakeVenueServer
from trio_venues.venues.generic._protocol import generic_limits

from ._helpers import connect, drain

Server = FakeVenueServer[Any]


async def test_concurrent_requests_get_their_own_responses(server: Server, kind: str) -> None:
    """Many tasks requesting at once each get the response to their own request."""
    results: dict[int, Any] = {}

    async with connect(server, kind) as ws:

        async def ask(i: int) -> None:
            results[i] = await ws.request("echo", {"n": i})

        async with trio.open_nursery() as nursery:
            for i in range(40):
                nursery.start_soon(ask, i)
    assert results == {i: {"n": i} for i in range(40)}


async def test_timeout_at_exact_virtual_time(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A request with no answer times out at request_timeout, or at the per-call timeout."""
    async with connect(server, kind, request_timeout=10.0) as ws:
        start = trio.current_time()
        with pytest.raises(RequestTimeout, match=r"within 10\.0s"):
            await ws.request("silent")
        assert trio.current_time() - start == 10.0
        with pytest.raises(RequestTimeout):
            await ws.request("silent", timeout=2.5)
        assert trio.current_time() - start == 12.5
        assert ws.stats.pending_requests == 0


async def test_late_response_never_reaches_another_caller(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A response after its caller timed out becomes an ErrorEvent; the next caller gets its own."""

    async def slow(conn: Any, params: Any) -> Any:
        await trio.sleep(15)
        return {"slow": True}

    server.behaviour.register("slow", slow)
    async with connect(server, kind, request_timeout=10.0) as ws:
        with pytest.raises(RequestTimeout):
            await ws.request("slow")
        assert await ws.request("echo", "mine") == "mine"
        late = None
        async for event in ws.events:
            if isinstance(event, ErrorEvent):
                late = event.error
                break
    assert isinstance(late, UnexpectedResponse)
    assert late.late
    assert late.result == {"slow": True}


async def test_disconnect_fails_every_request_in_flight(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """With 50 requests in flight, a close fails all 50 with ConnectionLost carrying the reason."""
    failures: list[BaseException] = []

    async with connect(server, kind) as ws:
        peer = server.connection

        async def ask() -> None:
            try:
                await ws.request("silent")
            except ConnectionLost as exc:
                failures.append(exc)

        async with trio.open_nursery() as nursery:
            for _ in range(50):
                nursery.start_soon(ask)
            await peer.wait_received(50)
            await peer.close(1001, "restart")
    assert len(failures) == 50
    assert all(isinstance(f, ConnectionLost) for f in failures)
    assert {f.reason for f in failures if isinstance(f, ConnectionLost)} == {
        RemoteClosed(1001, "restart")
    }
    assert trio.current_time() == 0


async def test_venue_error(server: Server, kind: str) -> None:
    """An error response raises VenueError with the venue's own code and message."""
    async with connect(server, kind) as ws:
        with pytest.raises(VenueError) as info:
            await ws.request("fail")
    assert info.value.code == 500
    assert info.value.message == "request failed"


async def test_cancelled_caller_removes_its_entry(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Cancelling a waiting caller removes its entry; its late response is reported."""

    async def slow(conn: Any, params: Any) -> Any:
        await trio.sleep(5)
        return 1

    server.behaviour.register("slow", slow)
    async with connect(server, kind) as ws:
        with trio.move_on_after(1):
            await ws.request("slow")
        assert ws.stats.pending_requests == 0
        event = await ws.events.receive()
        while not isinstance(event, ErrorEvent):
            event = await ws.events.receive()
    assert isinstance(event.error, UnexpectedResponse)
    assert event.error.late


async def test_max_pending_raise_and_wait(
    server: Server, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Over max_pending, 'raise' refuses at once and 'wait' waits for a free slot."""
    async with (
        connect(server, kind, max_pending=2, request_timeout=3.0) as ws,
        trio.open_nursery() as nursery,
    ):
        for _ in range(2):
            nursery.start_soon(_ignore_timeout, ws.request("silent"))
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(RateLimitExceeded, match="pending_requests"):
            await ws.request("echo", 1)
    async with connect(server, kind, max_pending=1, pending_policy="wait") as ws:
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_ignore_timeout, ws.request("silent", timeout=4.0))
            await trio.testing.wait_all_tasks_blocked()
            assert await ws.request("echo", 2) == 2
        assert trio.current_time() - start == 4.0


async def _ignore_timeout(awaitable: Any) -> None:
    with contextlib.suppress(RequestTimeout):
        await awaitable


async def test_subscribe_acks_and_is_idempotent(server: Server, kind: str) -> None:
    """subscribe waits for the ack, emits Subscribed, and subscribing again sends nothing."""
    async with connect(server, kind) as ws:
        await ws.subscribe("a", "b")
        assert ws.subscriptions == {"a", "b"}
        peer = server.connection
        sent = peer.received_count
        await ws.subscribe("a", "b")
        assert peer.received_count == sent
        await ws.unsubscribe("a", "zzz")
        assert ws.subscriptions == {"b"}
        assert peer.subscriptions == {"b"}
        await peer.close(1000)
        events = await drain(ws)
    assert Subscribed(("a", "b")) in events
    assert Unsubscribed(("a",)) in events


async def test_partial_subscription_failure_keeps_accepted_topics(
    server: Server, kind: str
) -> None:
    """Refused topics raise SubscriptionError; the accepted ones stay in ws.subscriptions."""
    async with connect(server, kind) as ws:
        ws.core.limits = generic_limits(2)
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe("a", "b", "bad1", "c", "d")
        assert ws.subscriptions == {"a", "b", "d"}
        assert server.connection.subscriptions == {"a", "b", "d"}
    assert info.value.topics == ("bad1", "c")
    assert info.value.code == 400
    assert "unknown topic bad1" in info.value.message


async def test_subscriptions_go_out_in_venue_sized_batches(server: Server, kind: str) -> None:
    """120 topics with a 50-topic limit go out as three acknowledged requests."""
    topics = [f"t{i}" for i in range(120)]
    async with connect(server, kind) as ws:
        peer = server.connection
        before = peer.received_count
        await ws.subscribe(*topics)
        assert peer.received_count - before == 3
        assert ws.subscriptions == set(topics)
