"""retry_scope as a whole connection: readiness, the venue's API, tracking, first connection."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import trio

from trio_venues import BinanceSpot, BinanceSpotApi, Connection, ConnectionState
from trio_venues._retry import ExponentialBackoff, RetryPolicy, retry_scope
from trio_venues.errors import ConnectionRefused, NotConnected, RetriesExhausted, SubscriptionError
from trio_venues.events import Connected, DataGap, Disconnected, Message, Resubscribed
from trio_venues.reasons import ConnectAttemptFailed
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import (
    FakeBinance,
    binance_api_url,
    binance_server,
    binance_stream_url,
    ed25519_test_key,
)
from trio_venues.venues.generic import GenericJson

from ._fakes import Fail, FakeFactory, Up

Clock = trio.abc.Clock
POLICY = RetryPolicy(ExponentialBackoff(initial=1.0, jitter=0), breaker=None)
REFUSED = ConnectionRefused("connection refused", url="ws://127.0.0.1:9")


def generic(server: FakeVenueServer[Any]) -> AbstractAsyncContextManager[Connection]:
    """One attempt of the generic venue client to ``server``, in memory."""
    return GenericJson.connect(
        server.url, transport=server.memory_transport("default"), ping_interval=None
    )


async def binance(nursery: trio.Nursery) -> FakeVenueServer[FakeBinance]:
    """A running fake Binance."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()))
    await nursery.start(server.run)
    return server


def spot(server: FakeVenueServer[FakeBinance], *streams: str) -> Any:
    """A factory of ``BinanceSpot`` connections to the fake (streams in the URL)."""
    url = binance_stream_url(server, *streams)
    return lambda: BinanceSpot.connect(
        url, transport=server.memory_transport("default"), ping_interval=None
    )


async def next_of(ws: Any, kind: type[Any]) -> Any:
    """The next event of class ``kind`` (others skipped)."""
    async for event in ws.events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__}")


# -- 1. Connected means usable ------------------------------------------------------------


async def test_send_right_after_connected_goes_out_with_nothing_to_replay(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """With nothing to replay, send() at the scope's Connected reaches the new connection."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    async with retry_scope(lambda: generic(server), policy=POLICY) as ws:
        await next_of(ws, Connected)
        await server.connection.close(1012, "restart")
        await next_of(ws, Disconnected)
        await next_of(ws, Connected)
        assert ws.connection is not None
        assert ws.state is ConnectionState.CONNECTED
        await ws.send({"hello": 1})
        second = server.connection
        await second.wait_received(1)
        assert second.received_json() == [{"hello": 1}]


async def test_calls_after_connected_wait_for_the_replay_then_go_out(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """subscribe() and request() made at Connected run once the replay was acknowledged."""
    factory = FakeFactory(nursery, Up(lasts=5), Up(ack_delay=2))
    async with retry_scope(factory, policy=POLICY) as ws:
        await ws.subscribe("a")
        await next_of(ws, Disconnected)
        await next_of(ws, Connected)
        assert trio.current_time() == 6
        answer = await ws.request("echo")
        assert trio.current_time() == 8
        assert answer["connection"] == 1
        await ws.subscribe("b")
        assert ws.subscriptions == {"a", "b"}
    assert factory.connections[1].subscribe_calls == [(6, ("a",)), (8, ("b",))]


async def test_between_connections_not_connected_names_what_to_wait_for(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Between Disconnected and the next Connected a call raises NotConnected saying so."""
    factory = FakeFactory(nursery, Up(lasts=5), Up())
    async with retry_scope(factory, policy=POLICY) as ws:
        await next_of(ws, Disconnected)
        assert ws.connection is None
        with pytest.raises(NotConnected, match="next Connected event"):
            await ws.send("x")


async def test_on_connect_calling_the_scope_is_refused_not_deadlocked(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """on_connect that calls the scope (not its connection) gets NotConnected at once."""
    errors: list[BaseException] = []
    holder: list[Any] = []

    async def hook(conn: Any) -> None:
        if holder:
            try:
                await holder[0].send("from the hook")
            except NotConnected as exc:
                errors.append(exc)

    factory = FakeFactory(nursery, Up(lasts=5), Up())
    async with retry_scope(factory, policy=POLICY, on_connect=hook) as ws:
        holder.append(ws)
        await ws.wait_connected()
        await next_of(ws, Disconnected)
        await next_of(ws, Connected)
        await ws.wait_connected()
    assert len(errors) == 1
    assert "the connection it is given" in str(errors[0])


# -- 2. the venue's whole API, tracked ------------------------------------------------------


async def test_venue_helpers_and_direct_subscriptions_are_replayed(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A helper called on the scope and a subscribe on ws.connection are both replayed."""
    server = await binance(nursery)
    async with retry_scope(spot(server), policy=POLICY) as ws:
        assert await ws.subscribe_trades("btcusdt") == ("btcusdt@trade",)
        assert ws.connection is not None
        await ws.connection.subscribe_agg_trades("ethusdt")
        assert ws.subscriptions == {"btcusdt@trade", "ethusdt@aggTrade"}
        assert sorted(await ws.list_subscriptions()) == ["btcusdt@trade", "ethusdt@aggTrade"]
        assert ws.stats.subscriptions == 2
        await server.connection.close(1001, "going away")
        resubscribed = await next_of(ws, Resubscribed)
        gap = await next_of(ws, DataGap)
        assert ws.subscriptions == {"btcusdt@trade", "ethusdt@aggTrade"}
        await server.connection.wait_subscribed("btcusdt@trade", "ethusdt@aggTrade")
    assert resubscribed.topics == ("btcusdt@trade", "ethusdt@aggTrade")
    assert gap.topics == ("btcusdt@trade", "ethusdt@aggTrade")


async def test_url_streams_are_in_the_scopes_subscriptions(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Streams named in the URL are in ws.subscriptions, and unsubscribing them sticks."""
    server = await binance(nursery)
    async with retry_scope(spot(server, "btcusdt@trade"), policy=POLICY) as ws:
        assert ws.subscriptions == {"btcusdt@trade"}
        await ws.subscribe("ethusdt@trade")
        await server.connection.drop()
        await next_of(ws, DataGap)
        assert ws.subscriptions == {"btcusdt@trade", "ethusdt@trade"}


async def test_unknown_attribute_names_the_connection_class(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A name neither the scope nor the venue's connection has is an AttributeError."""
    server = await binance(nursery)
    async with retry_scope(spot(server), policy=POLICY) as ws:
        with pytest.raises(AttributeError, match="BinanceSpotConnection"):
            ws.subscribe_nothing  # noqa: B018 - the access is the test
        assert "subscribe_trades" in dir(ws)


async def test_stream_channel_spans_reconnects(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """ws.stream(topic) keeps delivering that topic's messages after a reconnect."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    async with retry_scope(lambda: generic(server), policy=POLICY) as ws:
        await ws.subscribe("a@trade")
        async with ws.stream("a@trade", buffer=4) as trades:
            await server.push("a@trade")
            first = await trades.receive()
            await server.connection.drop()
            await next_of(ws, DataGap)
            await server.push("a@trade")
            second = await trades.receive()
    assert isinstance(first, Message)
    assert isinstance(second, Message)
    assert second.received_at > first.received_at


# -- 13. the first connection -----------------------------------------------------------------


async def test_first_connect_timeout_bounds_a_venue_that_never_answers(
    autojump_clock: Clock, nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    """A URL that never connects: one WARNING per attempt, RetriesExhausted at the timeout."""
    factory = FakeFactory(nursery, then=Fail(REFUSED))
    caplog.set_level(logging.WARNING, logger="trio_venues.retry")
    with pytest.raises(RetriesExhausted, match="first_connect_timeout=10") as info:
        async with retry_scope(factory, policy=POLICY, first_connect_timeout=10):
            raise AssertionError("never entered")
    assert trio.current_time() == 10
    assert isinstance(info.value.last_reason, ConnectAttemptFailed)
    assert info.value.last_reason.error is REFUSED
    # Attempts at 0, 1, 3, 7 (delays 1, 2, 4); the next would be at 15.
    assert factory.calls == [0, 1, 3, 7]
    logged = [r for r in caplog.records if r.name == "trio_venues.retry"]
    assert [r.levelname for r in logged] == ["WARNING"] * 4 + ["ERROR"]
    assert all("ConnectionRefused" in r.getMessage() for r in logged)
    assert "retry 4 in 8s" in logged[3].getMessage()


async def test_failed_first_attempts_are_readable_after_entry(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Reconnecting events of the first connection are on ws.events, newest kept when full."""
    factory = FakeFactory(nursery, *[Fail(REFUSED)] * 5, Up())
    policy = RetryPolicy([0.5] * 10, breaker=None)
    async with retry_scope(factory, policy=policy, event_buffer=2) as ws:
        first = ws.events.receive_nowait()
        second = ws.events.receive_nowait()
    # The newest pre-entry events survive: the fifth Reconnecting, then Connected.
    assert type(first).__name__ == "Reconnecting"
    assert first.attempt == 5  # type: ignore[attr-defined]
    assert isinstance(second, Connected)


# -- 3. WS-API user data and log-on resumed ----------------------------------------------------


async def test_user_data_and_logon_are_resumed_after_a_reconnect(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A log-on and a user-data subscription made on the scope come back on the next connection."""
    server = await binance(nursery)
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
        first_id = await ws.subscribe_user_data(timeout=5)
        assert ws.subscriptions == {"userData"}
        first = server.connection
        await first.close(1001, "going away")
        resubscribed = await next_of(ws, Resubscribed)
        gap = await next_of(ws, DataGap)
        assert ws.logged_on
        second = server.connection
        assert second is not first
        peer = server.behaviour.peer(second)
        assert list(peer.user_subscriptions.values()) == [(key.api_key, True)]
        await server.behaviour.send_user_event(server.behaviour.account_position())
        message = await next_of(ws, Message)
    assert first_id == 0
    assert resubscribed.topics == ("userData",)
    assert gap.topics == ("userData",)
    assert message.topic == "userData"
    assert [m for _, m in peer.requests] == ["session.logon", "userDataStream.subscribe"]


async def test_ws_api_subscriptions_are_user_data_only(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """On the WS API subscribe('userData') subscribes; a market stream is refused, unsent."""
    server = await binance(nursery)
    async with BinanceSpotApi.connect(
        binance_api_url(server),
        transport=server.memory_transport("default"),
        ping_interval=None,
        signer=ed25519_test_key().signer(),
        clock=virtual_clock_ms(),
    ) as api:
        with pytest.raises(SubscriptionError, match="one subscription") as info:
            await api.subscribe("btcusdt@trade")
        assert info.value.topics == ("btcusdt@trade",)
        assert server.connection.received_count == 0
        await api.subscribe("userData")
        await api.subscribe("userData")  # twice sends nothing
        assert api.subscriptions == {"userData"}
        await api.unsubscribe("userData")
        assert api.subscriptions == frozenset()
        methods = [m["method"] for m in server.connection.received_json()]
    assert methods == ["userDataStream.subscribe.signature", "userDataStream.unsubscribe"]
