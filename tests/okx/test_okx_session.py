"""Okx against the fake OKX: subscriptions, login, order entry, keepalive, notices, limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from trio_venues import retry_scope
from trio_venues.credentials import Credentials
from trio_venues.errors import (
    AuthenticationError,
    ConnectionLost,
    HandshakeRejected,
    RateLimitExceeded,
    SubscriptionError,
    VenueError,
)
from trio_venues.events import (
    Authenticated,
    DataGap,
    Disconnected,
    ErrorEvent,
    Message,
    PongReceived,
)
from trio_venues.reasons import (
    AuthenticationFailed,
    HeartbeatTimeout,
    RemoteClosed,
    ServerRequested,
    SlowConsumer,
)
from trio_venues.venues.okx import (
    OKX_LIMITS,
    BookMessage,
    Candle,
    ChannelConnCount,
    Order,
    Ticker,
    Trade,
)

from ._helpers import API_KEY, CREDENTIALS, Fake, drain, messages, okx


async def test_subscribe_trades_of_several_instruments_in_one_request(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """subscribe_trades sends one request for all instruments; typed trades follow."""
    async with okx(fake, kind=kind) as ws:
        peer = await fake.wait_connected()
        topics = await ws.subscribe_trades("BTC-USDT", "ETH-USDT")
        assert topics == ["trades:BTC-USDT", "trades:ETH-USDT"]
        assert ws.subscriptions == {"trades:BTC-USDT", "trades:ETH-USDT"}
        requests = [m for m in peer.received_json() if m != "ping"]
        assert len(requests) == 1
        assert requests[0]["args"] == [
            {"channel": "trades", "instId": "BTC-USDT"},
            {"channel": "trades", "instId": "ETH-USDT"},
        ]
        await fake.push("trades:ETH-USDT")
        (message,) = await messages(ws, 1)
        assert message.topic == "trades:ETH-USDT"
        assert isinstance(message.data, Trade)
        assert message.data.inst_id == "ETH-USDT"
        assert isinstance(message.data.price, Decimal)


async def test_refused_argument_is_a_subscription_error_naming_it(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """One unknown instrument is refused; the other argument stays subscribed."""
    async with okx(fake) as ws:
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe_tickers("BTC-USDT", "NOPE-USDT")
        assert info.value.topics == ("tickers:NOPE-USDT",)
        assert info.value.code == "60018"
        assert ws.subscriptions == {"tickers:BTC-USDT"}
        await fake.push("tickers:BTC-USDT")
        (message,) = await messages(ws, 1)
        assert isinstance(message.data, Ticker)


async def test_candles_on_the_business_endpoint(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """Candles are served on business; the helper refuses them on public."""
    async with okx(fake, "business") as ws:
        assert await ws.subscribe_candles("1m", "BTC-USDT") == ["candle1m:BTC-USDT"]
        await fake.push("candle1m:BTC-USDT")
        (message,) = await messages(ws, 1)
        assert isinstance(message.data, Candle)
        assert message.data.confirmed is False
    async with okx(fake) as ws:
        with pytest.raises(ValueError, match="business"):
            await ws.subscribe_candles("1m", "BTC-USDT")


async def test_unsubscribe(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """unsubscribe removes the topic on both sides after OKX's ack."""
    async with okx(fake) as ws:
        peer = await fake.wait_connected()
        await ws.subscribe_trades("BTC-USDT", "ETH-USDT")
        await ws.unsubscribe("trades:BTC-USDT")
        assert ws.subscriptions == {"trades:ETH-USDT"}
        assert peer.subscriptions == {"trades:ETH-USDT"}


async def test_book_snapshot_then_updates(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """A book subscriber gets a snapshot (prevSeqId -1), then chained updates."""
    async with okx(fake) as ws:
        await ws.subscribe_books("BTC-USDT")
        await fake.push("books:BTC-USDT")
        snapshot, update = await messages(ws, 2)
        assert isinstance(snapshot.data, BookMessage)
        assert isinstance(update.data, BookMessage)
        assert (snapshot.data.action, snapshot.data.prev_seq_id) == ("snapshot", -1)
        assert update.data.action == "update"
        assert update.data.prev_seq_id == snapshot.data.seq_id


# -- login -----------------------------------------------------------------------------


async def test_login_before_anything_else(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """The private endpoint logs in before connect() yields; private channels then work."""
    async with okx(fake, "private") as ws:
        peer = await fake.wait_connected()
        assert fake.behaviour.logged_in(peer)
        first = peer.received_json()[0]
        assert first["op"] == "login"
        assert first["args"][0]["apiKey"] == API_KEY
        assert await ws.subscribe_orders("SPOT") == ["orders:SPOT"]
        events = []
        async for event in ws.events:
            events.append(event)
            if isinstance(event, Message) and isinstance(event.data, ChannelConnCount):
                break
        assert any(isinstance(e, Authenticated) for e in events)


@pytest.mark.parametrize("code", ["60009", "60024", "60005", "60007", "60006", "60032"])
async def test_login_failure_codes(fake: Fake, code: str, autojump_clock: trio.abc.Clock) -> None:
    """A refused login is an AuthenticationError out of connect() with OKX's code."""
    fake.behaviour.login_error = code
    with pytest.raises(AuthenticationError) as info:
        async with okx(fake, "private"):
            pytest.fail("connect() must not yield after a refused login")
    assert info.value.code == code


async def test_wrong_secret_is_refused(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """A wrong secret fails the fake's signature check (60007)."""
    bad = Credentials(API_KEY, "not-the-secret", "test-passphrase")
    with pytest.raises(AuthenticationError) as info:
        async with okx(fake, "private", credentials=bad):
            pytest.fail("connect() must not yield")
    assert info.value.code == "60007"


async def test_secrets_never_reach_the_logs(
    fake: Fake, caplog: pytest.LogCaptureFixture, autojump_clock: trio.abc.Clock
) -> None:
    """Neither the secret nor the passphrase appears in DEBUG logs."""
    caplog.set_level("DEBUG")
    async with okx(fake, "private") as ws:
        await ws.subscribe_orders()
    assert CREDENTIALS.secret.reveal() not in caplog.text
    assert CREDENTIALS.passphrase is not None
    assert CREDENTIALS.passphrase.reveal() not in caplog.text


# -- order entry -----------------------------------------------------------------------


async def test_place_amend_cancel(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """Orders placed, amended and cancelled over the private endpoint, with order pushes."""
    async with okx(fake, "private") as ws:
        await ws.subscribe_orders("SPOT")
        placed = await ws.place_order(
            "BTC-USDT", "buy", "limit", Decimal("0.01"), price=Decimal("100.5"), cl_ord_id="a1"
        )
        assert placed.s_code == "0"
        assert placed.ord_id is not None
        amended = await ws.amend_order("BTC-USDT", ord_id=placed.ord_id, new_price="101")
        assert amended.s_code == "0"
        cancelled = await ws.cancel_order("BTC-USDT", ord_id=placed.ord_id)
        assert cancelled.s_code == "0"
        orders = [m.data for m in await messages(ws, 4) if isinstance(m.data, Order)]
        assert [o.state for o in orders] == ["live", "live", "canceled"]
        assert orders[0].price == Decimal("100.5")
        assert orders[1].price == Decimal(101)


async def test_refused_order_and_batch(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """An unknown instrument refuses the order; a mixed batch reports each outcome."""
    async with okx(fake, "private") as ws:
        with pytest.raises(VenueError) as info:
            await ws.place_order("NOPE-USDT", "buy", "market", "1")
        assert info.value.code == "51001"
        results = await ws.batch_orders(
            [
                {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market",
                 "sz": "1"},
                {"instId": "NOPE-USDT", "tdMode": "cash", "side": "buy", "ordType": "market",
                 "sz": "1"},
            ]
        )  # fmt: skip
        assert [r.s_code for r in results] == ["0", "51001"]


async def test_request_in_flight_when_the_connection_ends(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """An order waiting for its reply when the connection ends raises ConnectionLost."""
    async with okx(fake, "private") as ws:
        peer = await fake.wait_connected()
        peer.stall()
        async with trio.open_nursery() as nursery:

            async def kill() -> None:
                await peer.wait_received(2)
                await peer.reset()

            nursery.start_soon(kill)
            with pytest.raises(ConnectionLost):
                await ws.place_order("BTC-USDT", "buy", "market", "1", timeout=60)


# -- keepalive, notices, close codes ---------------------------------------------------


async def test_ping_pong_keeps_the_connection(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """After 20 s of silence the client sends "ping"; the fake's "pong" is a PongReceived."""
    async with okx(fake) as ws:
        peer = await fake.wait_connected()
        async for event in ws.events:
            if isinstance(event, PongReceived):
                break
        assert "ping" in peer.received
        assert trio.current_time() >= 20


async def test_stalled_server_ends_with_heartbeat_timeout(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """No pong within the timeout ends the connection: HeartbeatTimeout(kind="venue")."""
    async with okx(fake) as ws:
        peer = await fake.wait_connected()
        peer.answer_venue_pings = False
        events = await drain(ws)
        reason = events[-1].reason  # type: ignore[attr-defined]
        assert isinstance(reason, HeartbeatTimeout)
        assert reason.kind == "venue"
        assert reason.retryable


async def test_notice_64008_ends_as_server_requested(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """The service-upgrade notice ends the connection as ServerRequested."""
    async with okx(fake) as ws:
        peer = await fake.wait_connected()
        await fake.behaviour.send_notice(peer)
        events = await drain(ws)
        final = events[-1]
        assert isinstance(final, Disconnected)
        assert isinstance(final.reason, ServerRequested)


@pytest.mark.parametrize(
    ("code", "reason_type", "retryable"),
    [
        (4001, AuthenticationFailed, False),
        (4004, HeartbeatTimeout, True),
        (4005, SlowConsumer, True),
        (4007, AuthenticationFailed, False),
        (4008, RemoteClosed, False),
        (4006, RemoteClosed, True),
    ],
)
async def test_close_codes_reach_the_user_as_reasons(
    fake: Fake, code: int, reason_type: type, retryable: bool, autojump_clock: trio.abc.Clock
) -> None:
    """OKX close codes end the connection with their mapped reason."""
    async with okx(fake) as ws:
        peer = await fake.wait_connected()
        await fake.behaviour.close_with(peer, code)
        final = (await drain(ws))[-1]
        assert isinstance(final, Disconnected)
        assert isinstance(final.reason, reason_type)
        assert final.reason.retryable is retryable


async def test_channel_conn_count_error_is_an_error_event(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """channel-conn-count-error arrives as an ErrorEvent naming the refused topics."""
    async with okx(fake, "private") as ws:
        peer = await fake.wait_connected()
        await ws.subscribe_orders("SPOT")
        await peer.send_json(
            {"event": "channel-conn-count-error", "channel": "orders", "connCount": "30",
             "connId": "x"}
        )  # fmt: skip
        async for event in ws.events:
            if isinstance(event, ErrorEvent):
                assert isinstance(event.error, SubscriptionError)
                assert event.error.topics == ("orders:SPOT",)
                break


# -- limits ----------------------------------------------------------------------------


async def test_480_operations_per_hour(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """The 481st subscribe/unsubscribe in an hour is refused locally; an hour later it passes."""
    async with okx(fake, ping_interval=None) as ws:
        for index in range(240):
            await ws.subscribe("tickers:BTC-USDT")
            await ws.unsubscribe("tickers:BTC-USDT")
            assert index < 240
        with pytest.raises(RateLimitExceeded) as info:
            await ws.subscribe("tickers:BTC-USDT")
        assert info.value.kind == "operations"
        assert 0 < info.value.retry_after <= 3600 + OKX_LIMITS.margin
        await trio.sleep(info.value.retry_after)
        await ws.subscribe("tickers:BTC-USDT")
        assert ws.subscriptions == {"tickers:BTC-USDT"}


async def test_retry_scope_logs_in_again_and_replays(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """After a retryable close, retry_scope reconnects, logs in first, and replays orders."""
    async with retry_scope(lambda: okx(fake, "private")) as ws:
        await ws.subscribe("orders:SPOT")
        first = await fake.wait_connected()
        await fake.behaviour.close_with(first, 4006)
        async for event in ws.events:
            if isinstance(event, DataGap):
                assert event.topics == ("orders:SPOT",)
                break
        second = fake.connections[-1]
        assert second is not first
        assert fake.behaviour.logged_in(second)
        ops = [m["op"] for m in second.received_json() if isinstance(m, dict)]
        assert ops[:2] == ["login", "subscribe"]
        assert second.subscriptions == {"orders:SPOT"}


async def test_stalled_connection_ends_with_heartbeat_timeout(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A server that stops answering anything is found dead by the ping/pong keepalive."""
    async with okx(fake) as ws:
        peer = await fake.wait_connected()
        peer.stall()
        final = (await drain(ws))[-1]
        assert isinstance(final, Disconnected)
        assert final.reason == HeartbeatTimeout(28.0, "venue")


async def test_rejected_handshake(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """A rejected handshake is HandshakeRejected out of connect(), with the status."""
    fake.reject(503, headers=[("Retry-After", "7")])
    with pytest.raises(HandshakeRejected) as info:
        async with okx(fake):
            pytest.fail("connect() must not yield")
    assert info.value.status == 503
    assert info.value.retry_after == 7


async def test_three_connections_per_second(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """The 4th connection attempt within a second is refused before anything is sent."""
    limiter = OKX_LIMITS.process_limiter("okx.fake")
    for _ in range(3):
        async with okx(fake):
            pass
    (window,) = limiter.stats().for_kind("connections")
    assert window.used == 3
    attempts = fake.attempts
    with pytest.raises(RateLimitExceeded) as info:
        async with okx(fake):
            pytest.fail("the block must not run")
    assert info.value.kind == "connections"
    assert 0 < info.value.retry_after <= 1.0 + OKX_LIMITS.margin
    assert fake.attempts == attempts
    await trio.sleep(info.value.retry_after)
    async with okx(fake):
        pass
