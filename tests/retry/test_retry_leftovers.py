"""retry_scope leftovers of issue 15: stream(overflow="drop_oldest") with bounded gap
markers, and a user-data subscription Binance ends (eventStreamTerminated) not replayed."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from trio_venues import BinanceSpotApi
from trio_venues._retry import ExponentialBackoff, RetryPolicy, retry_scope
from trio_venues.events import Authenticated, Connected, GapDetected, Message, Unsubscribed
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import (
    FakeBinance,
    binance_api_url,
    binance_server,
    ed25519_test_key,
)
from trio_venues.venues.binance import StreamTerminated, UserDataEvent
from trio_venues.venues.generic import GenericJson

Clock = trio.abc.Clock
POLICY = RetryPolicy(ExponentialBackoff(initial=1.0, jitter=0), breaker=None)


def _queued(ws: Any) -> list[Any]:
    """Every event queued on ws.events now."""
    out = []
    while True:
        try:
            out.append(ws.events.receive_nowait())
        except trio.WouldBlock:
            return out


async def test_scope_stream_drop_oldest_reports_bounded_gaps(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A full drop_oldest scope stream keeps the newest messages; 996 drops leave two
    GapDetected markers on ws.events (the first drop, then the merged rest), which cover
    exactly the dropped message numbers."""
    server = FakeVenueServer()
    await nursery.start(server.run)

    def factory() -> Any:
        return GenericJson.connect(
            server.url, transport=server.memory_transport("default"), ping_interval=None
        )

    async with retry_scope(factory, policy=POLICY) as ws:
        await ws.subscribe("a@trade")
        async with ws.stream("a@trade", buffer=4, overflow="drop_oldest") as trades:
            await trio.testing.wait_all_tasks_blocked()
            _queued(ws)
            for _ in range(1000):
                await server.push("a@trade")
            await trio.testing.wait_all_tasks_blocked()
            queued = _queued(ws)
            assert queued == [GapDetected("a@trade", 1, 2)]
            kept = [(await trades.receive()).data["n"] for _ in range(4)]
            await server.push("a@trade")
            await trio.testing.wait_all_tasks_blocked()
            (merged,) = _queued(ws)
            newest = (await trades.receive()).data["n"]
    first_n = kept[0] - 996  # the fake's own numbering of the stream's first message
    assert kept == [first_n + 996, first_n + 997, first_n + 998, first_n + 999]
    assert newest == first_n + 1000
    # Dropped: stream messages 1..996; reported as [1, 2) then [2, 997).
    assert merged == GapDetected("a@trade", 2, 997)


async def test_scope_stream_refuses_an_unknown_overflow(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """ws.stream(overflow=...) names the three policies when given another."""
    server = FakeVenueServer()
    await nursery.start(server.run)

    def factory() -> Any:
        return GenericJson.connect(
            server.url, transport=server.memory_transport("default"), ping_interval=None
        )

    async with retry_scope(factory, policy=POLICY) as ws:
        with pytest.raises(ValueError, match="'block', 'drop_oldest' or 'conflate'"):
            async with ws.stream("a@trade", overflow="drop_newest"):
                raise AssertionError("never entered")


async def test_terminated_user_data_is_not_replayed(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """eventStreamTerminated from Binance: the message is delivered, then Unsubscribed;
    "userData" leaves ws.subscriptions, and the next connection logs on but does not
    subscribe again."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()))
    await nursery.start(server.run)
    key = ed25519_test_key()

    def factory() -> Any:
        return BinanceSpotApi.connect(
            binance_api_url(server),
            transport=server.memory_transport("default"),
            ping_interval=None,
            signer=key.signer(),
            clock=virtual_clock_ms(),
        )

    async with retry_scope(factory, policy=POLICY) as ws:
        await ws.logon(timeout=5)
        await ws.subscribe_user_data(timeout=5)
        assert await server.behaviour.terminate_user_data() == 1
        message = await _next(ws, Message)
        unsubscribed = await _next(ws, Unsubscribed)
        assert ws.subscriptions == frozenset()
        await server.connection.close(1001, "going away")
        await _next(ws, Connected)
        await _next(ws, Authenticated)  # the log-on is restored
        await trio.testing.wait_all_tasks_blocked()
        second = server.connection
        assert ws.logged_on
        assert ws.subscriptions == frozenset()
    assert isinstance(message.data, UserDataEvent)
    assert isinstance(message.data.event, StreamTerminated)
    assert unsubscribed.topics == ("userData",)
    assert [m for _, m in server.behaviour.peer(second).requests] == ["session.logon"]


async def test_terminated_user_data_can_be_subscribed_again(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """On a plain connection a terminated subscription leaves ws.subscriptions, and
    subscribe_user_data() then asks Binance for a new one."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()))
    await nursery.start(server.run)
    async with BinanceSpotApi.connect(
        binance_api_url(server),
        transport=server.memory_transport("default"),
        ping_interval=None,
        signer=ed25519_test_key().signer(),
        logon=True,
        clock=virtual_clock_ms(),
    ) as ws:
        assert await ws.subscribe_user_data() == 0
        await server.behaviour.terminate_user_data()
        await _next(ws, Unsubscribed)
        assert ws.subscriptions == frozenset()
        assert await ws.subscribe_user_data() == 1
        assert ws.subscriptions == {"userData"}


async def _next(ws: Any, kind: type[Any]) -> Any:
    """The next event of class ``kind`` (others skipped)."""
    async for event in ws.events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__}")
