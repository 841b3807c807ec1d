"""Binance's stream limits: 5 frames/s (pongs included) on both sides, 1024 streams, keepalive."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import trio

from trio_venues import (
    BinanceSpot,
    ConnectionState,
    ConstantBackoff,
    RawWebSocket,
    RetryPolicy,
    retry_scope,
)
from trio_venues._config import ConnectionConfig
from trio_venues._core import VenueCore
from trio_venues._ratelimit import DEFAULT_MARGIN
from trio_venues.errors import ConnectionLost, RateLimitExceeded
from trio_venues.events import Connected, Disconnected, Event, Message, RateLimited
from trio_venues.reasons import RemoteClosed
from trio_venues.testing import OP_CLOSE
from trio_venues.testing.binance import binance_stream_url
from trio_venues.venues.binance import BinanceSpotCore, Trade
from trio_venues.venues.binance._limits import BINANCE_SPOT_LIMITS

from ._helpers import Fake, drain, messages, spot


async def test_subscribe_burst_waits_at_exactly_five_per_second(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """20 subscribes under 'wait' reach Binance 5 per 1.1 s (0.1 s margin); none is refused."""
    topics = [f"s{i}usdt@trade" for i in range(20)]
    acked: list[float] = []

    async def subscribe(ws: Any, topic: str) -> None:
        await ws.subscribe(topic)
        acked.append(trio.current_time())

    async with spot(fake, kind, rate_limit_policy={"messages": "wait"}) as ws:
        peer = await fake.wait_connected()
        async with trio.open_nursery() as nursery:
            for topic in topics:
                nursery.start_soon(subscribe, ws, topic)
        assert ws.subscriptions == set(topics)
        waited = [e for e in ws.events.items() if isinstance(e, RateLimited)]
    arrivals = [t for t, method in fake.behaviour.peer(peer).requests]
    # Never on the exact 1.000 s boundary: latency jitter cannot make Binance count six.
    assert arrivals == pytest.approx([0.0] * 5 + [1.1] * 5 + [2.2] * 5 + [3.3] * 5)
    assert sorted(acked) == arrivals
    assert len(waited) == 15
    assert all(e.waited and e.kind == "messages" for e in waited)
    assert not fake.behaviour.peer(peer).violated
    await peer.wait_closed()
    assert peer.client_close is not None
    assert peer.client_close[0] == 1000


async def test_sixth_subscribe_in_a_second_raises(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Under the default 'raise' policy the 6th frame in a second raises, and nothing is sent."""
    async with spot(fake, kind) as ws:
        peer = await fake.wait_connected()
        for i in range(5):
            await ws.subscribe_trades(f"s{i}usdt")
        with pytest.raises(RateLimitExceeded) as info:
            await ws.subscribe_trades("s5usdt")
        assert info.value.kind == "messages"
        assert info.value.retry_after == pytest.approx(1.0 + DEFAULT_MARGIN)
        assert trio.current_time() == 0
        assert peer.received_count == 5
        await trio.sleep(info.value.retry_after)
        await ws.subscribe_trades("s5usdt")
        assert peer.received_count == 6
    assert not fake.behaviour.peer(peer).violated


async def test_pongs_count_against_the_budget(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A pong to a server ping uses one of the 5 messages: the 5th subscribe then raises."""
    async with spot(fake, kind) as ws:
        peer = await fake.wait_connected()
        await peer.ping(b"20")
        await peer.wait_until(lambda c: list(c.pongs_received) == [b"20"])
        (window,) = ws.stats.rate_limits.for_kind("messages")
        assert window.used == 1
        for i in range(4):
            await ws.subscribe_trades(f"s{i}usdt")
        with pytest.raises(RateLimitExceeded):
            await ws.subscribe_trades("s4usdt")
        assert ws.stats.pongs_sent == 1
        assert trio.current_time() == 0


@pytest.mark.parametrize(
    ("pong", "requests", "closed"),
    [(False, 5, False), (True, 4, False), (False, 6, True), (True, 5, True)],
)
async def test_fake_closes_1008_on_the_sixth_frame_in_a_second(
    fake: Fake,
    kind: str,
    pong: bool,
    requests: int,
    closed: bool,
    autojump_clock: trio.abc.Clock,
) -> None:
    """Without our limiter the fake counts every frame, pongs included: the 6th gets 1008."""
    async with RawWebSocket.connect(
        binance_stream_url(fake), transport=fake.memory_transport(kind), ping_interval=None
    ) as ws:
        peer = await fake.wait_connected()
        if pong:
            await peer.ping(b"1")
            await peer.wait_until(lambda c: len(c.pongs_received) == 1)
        for i in range(requests):
            await ws.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}).decode())
        got: list[Event] = []
        with trio.move_on_after(2):
            async for event in ws.events:
                got.append(event)
        ended_at = trio.current_time()
    answers = [e for e in got if isinstance(e, Message)]
    if closed:
        assert got[-1] == Disconnected(RemoteClosed(1008, "Too many requests"))
        assert ended_at == 0
        # The frame over the limit is not answered.
        assert len(answers) == requests - 1
        assert fake.behaviour.peer(peer).violated
    else:
        assert len(answers) == requests
        assert ended_at == 2  # still open when we left
        assert not fake.behaviour.peer(peer).violated


class _Unlimited(BinanceSpot):
    """BinanceSpot with the local limits taken away, to show what Binance does then.

    Its ``make_core(config, url)`` is the form written before endpoints and
    credentials existed: ``connect()`` still calls it.
    """

    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str) -> VenueCore:  # type: ignore[override]
        return BinanceSpotCore(url)


async def test_without_our_limiter_binance_closes_1008_retryable(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Six subscribes at once without the limiter: 1008 "Too many requests", retryable."""
    outcomes: list[str] = []

    async def subscribe(ws: Any, topic: str) -> None:
        try:
            await ws.subscribe(topic)
            outcomes.append("acked")
        except ConnectionLost:
            outcomes.append("lost")

    async with _Unlimited.connect(
        binance_stream_url(fake), transport=fake.memory_transport(kind), ping_interval=None
    ) as ws:
        async with trio.open_nursery() as nursery:
            for i in range(6):
                nursery.start_soon(subscribe, ws, f"s{i}usdt@trade")
        events = await drain(ws)
    assert sorted(outcomes) == ["acked"] * 5 + ["lost"]
    reason = events[-1].reason  # type: ignore[attr-defined]
    assert reason == RemoteClosed(1008, "Too many requests", venue_retryable=True)
    assert reason.retryable
    assert trio.current_time() == 0


async def test_pings_answered_while_the_consumer_lags_two_minutes(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """No reads for 120 s of trades: every 20 s ping is answered and the connection survives."""
    async with spot(fake, kind, "btcusdt@trade", event_buffer=16) as ws:
        peer = await fake.wait_connected()
        handle = fake.generate("btcusdt@trade", interval=0.5, count=240)
        await trio.sleep(119)
        assert ws.state is ConnectionState.CONNECTED
        assert peer.is_open
        assert list(peer.pongs_received) == [b"1", b"2", b"3", b"4", b"5"]
        assert ws.stats.queued > 16  # the consumer really lagged
        await handle.wait_done()
        received = await messages(ws, 240)
        assert ws.state is ConnectionState.CONNECTED
    ids = [m.data.trade_id for m in received if isinstance(m.data, Trade)]
    assert ids == list(range(1, 241))
    assert not fake.behaviour.peer(peer).violated


async def test_fake_closes_when_pongs_stop_for_a_minute(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A client that never answers pings is closed by the fake after 60 s (pings every 20 s)."""
    client, conn = await fake.connect_raw("/stream")
    frames = await client.receive_until(OP_CLOSE)
    assert trio.current_time() == 60
    assert conn.pings_sent == 2  # at 20 s and 40 s; at 60 s the fake gave up
    assert frames[-1].opcode == OP_CLOSE
    assert int.from_bytes(frames[-1].payload[:2], "big") == fake.pong_timeout_close[0]


async def test_1024_streams_per_connection(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """A subscribe that would pass 1024 streams is refused locally; nothing is sent."""
    async with spot(fake, "default", rate_limit_policy={"messages": "wait"}) as ws:
        peer = await fake.wait_connected()
        topics = [f"s{i}usdt@trade" for i in range(1024)]
        await ws.subscribe(*topics)
        assert len(peer.subscriptions) == 1024
        sent = peer.received_count
        with pytest.raises(RateLimitExceeded) as info:
            await ws.subscribe("one1more@trade")
        assert info.value.kind == "subscriptions"
        assert math.isinf(info.value.retry_after)
        assert peer.received_count == sent


async def test_connection_attempts_budget_per_host(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """The 300 attempts per 5 minutes are shared per host; the 301st is refused unsent."""
    limiter = BINANCE_SPOT_LIMITS.process_limiter(urlsplit(fake.url).hostname or "")
    async with spot(fake, "default"):
        pass
    (window,) = limiter.stats().for_kind("connections")
    assert window.used == 1
    await limiter.acquire("connections", 299)
    attempts = fake.attempts
    with pytest.raises(RateLimitExceeded) as info:
        async with spot(fake, "default"):
            pytest.fail("the block must not run")
    assert info.value.kind == "connections"
    assert info.value.retry_after == 300.0 + DEFAULT_MARGIN
    assert fake.attempts == attempts
    await trio.sleep(info.value.retry_after)
    async with spot(fake, "default") as ws:
        assert ws.state is ConnectionState.CONNECTED


async def test_connection_attempts_budget_holds_across_retry_scope_reconnects(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """retry_scope waits for the shared attempt budget instead of exceeding it, visibly."""
    limiter = BINANCE_SPOT_LIMITS.process_limiter(urlsplit(fake.url).hostname or "")
    await limiter.acquire("connections", 299)  # one attempt left in this 5-minute window
    url = binance_stream_url(fake)

    def factory() -> Any:
        return BinanceSpot.connect(url, transport=fake.memory_transport(), ping_interval=None)

    policy = RetryPolicy(backoff=ConstantBackoff(1.0))
    async with retry_scope(factory, policy=policy) as ws:
        await fake.wait_connected()
        await fake.connection.drop()
        waits: list[RateLimited] = []
        async for event in ws.events:
            if isinstance(event, RateLimited):
                waits.append(event)
            if isinstance(event, Connected) and waits:
                break
    assert waits[0].kind == "connections"
    assert waits[0].waited
    # The budget frees 300 s (plus the margin) after the first of the 300 attempts.
    assert trio.current_time() == 300.0 + DEFAULT_MARGIN
    assert fake.attempts == 2
