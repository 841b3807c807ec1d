"""Coinbase against the fake: id-less acks, JWT per message, the 5-second rule, heartbeats, gaps."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from trio_venues import Credentials
from trio_venues.errors import AuthenticationError, SubscriptionError
from trio_venues.events import Disconnected, GapDetected, Message
from trio_venues.reasons import HeartbeatTimeout, RemoteClosed
from trio_venues.venues.coinbase import (
    FuturesBalanceSummaryMessage,
    HeartbeatsMessage,
    L2DataMessage,
    MarketTradesMessage,
    UserMessage,
    verify_jwt,
)
from trio_venues.venues.coinbase._fake import coinbase_test_key

from ._helpers import Fake, connect, messages, until


async def test_trades_flow_typed_with_their_topic(fake: Fake) -> None:
    """subscribe_market_trades returns the topics and typed trades arrive on them."""
    async with connect(fake) as ws:
        topics = await ws.subscribe_market_trades("BTC-USD", "ETH-USD")
        assert topics == ("market_trades:BTC-USD", "market_trades:ETH-USD")
        assert ws.subscriptions == frozenset(topics)
        await fake.push("market_trades:ETH-USD")
        (message,) = await messages(ws, 1)
        assert message.topic == "market_trades:ETH-USD"
        assert isinstance(message.data, MarketTradesMessage)
        trade = message.data.events[0].trades[0]
        assert trade.product_id == "ETH-USD"
        assert trade.price > 0


async def test_two_overlapping_subscribes_in_flight(fake: Fake) -> None:
    """Two concurrent subscribes of one channel each complete on the ack that covers them."""
    async with connect(fake) as ws:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ws.subscribe, "market_trades:BTC-USD", "market_trades:ETH-USD")
            nursery.start_soon(ws.subscribe, "market_trades:ETH-USD", "market_trades:SOL-USD")
        assert ws.subscriptions == frozenset(
            {"market_trades:BTC-USD", "market_trades:ETH-USD", "market_trades:SOL-USD"}
        )
        # heartbeats is the connection's own keepalive, not a user topic
        assert "heartbeats" not in ws.subscriptions


async def test_a_jwt_per_message_two_minutes_apart(fake: Fake, autojump_clock: object) -> None:
    """Two subscribes 120 s apart carry different tokens, each valid when it was sent."""
    key = coinbase_test_key()
    async with connect(fake, credentials=key.credentials()) as ws:
        await ws.subscribe_market_trades("BTC-USD")
        first_at = fake.behaviour.clock()
        await trio.sleep(120)
        await ws.subscribe_user()
        second_at = fake.behaviour.clock()
        conn = fake.connections[-1]
        jwts = list(fake.behaviour.peer(conn).jwts)
        # the keepalive heartbeats subscribe, then ours
        assert len(jwts) == 3
        assert len(set(jwts)) == 3
        _, first = verify_jwt(jwts[1], key.public_key, now=first_at)
        _, second = verify_jwt(jwts[2], key.public_key, now=second_at)
        assert second["nbf"] - first["nbf"] == 120
        with pytest.raises(ValueError, match="expired"):
            verify_jwt(jwts[1], key.public_key, now=second_at)


async def test_ed25519_key_subscribes_user(fake: Fake) -> None:
    """An Ed25519 CDP key signs EdDSA JWTs the fake accepts; the user snapshot arrives."""
    key = coinbase_test_key("ed", "ed25519")
    async with connect(fake, "user", credentials=key.credentials()) as ws:
        assert await ws.subscribe_user() == ("user",)
        (message,) = await messages(ws, 1, "user")
        assert isinstance(message.data, UserMessage)
        event = message.data.events[0]
        assert event.kind == "snapshot"
        assert event.ends_backlog
        assert len(event.orders) == fake.behaviour.open_orders


async def test_user_backlog_in_batches_of_fifty(fake: Fake) -> None:
    """120 open orders arrive as snapshots of 50, 50 and 20; the last ends the backlog."""
    fake.behaviour.open_orders = 120
    async with connect(fake, "user", credentials=coinbase_test_key().credentials()) as ws:
        await ws.subscribe_user()
        batches = await messages(ws, 3, "user")
        sizes = [len(m.data.events[0].orders) for m in batches]
        assert sizes == [50, 50, 20]
        assert [m.data.events[0].ends_backlog for m in batches] == [False, False, True]


async def test_authentication_failure_on_the_user_channel(fake: Fake) -> None:
    """An unknown key: subscribe_user raises AuthenticationError; the connection lives on."""
    stranger = Credentials(
        "organizations/x/apiKeys/unknown", coinbase_test_key("other").private_key_text()
    )
    async with connect(fake, "user", credentials=stranger) as ws:
        with pytest.raises(AuthenticationError, match="authentication failure"):
            await ws.subscribe_user()
        assert "user" not in ws.subscriptions
        # ws.subscribe reports it as a refused topic whose own error is the AuthenticationError
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe("user")
        assert isinstance(info.value.errors["user"], AuthenticationError)
        assert ws.state.name == "CONNECTED"


async def test_user_channel_without_credentials_fails_locally(fake: Fake) -> None:
    """Without credentials the user subscribe never leaves: AuthenticationError at once."""
    async with connect(fake, "user") as ws:
        with pytest.raises(AuthenticationError, match="needs a JWT"):
            await ws.subscribe_user()
        conn = fake.connections[-1]
        assert "user" not in [r.channel for r in fake.behaviour.peer(conn).requests]


async def test_misspelt_channel_is_reported_as_such(fake: Fake) -> None:
    """Coinbase's "authentication failure" for a misspelt public channel says so."""
    async with connect(fake) as ws:
        with pytest.raises(SubscriptionError, match="not a Coinbase channel") as info:
            await ws.subscribe("heartbeat")
        assert not isinstance(info.value, AuthenticationError)
        assert info.value.topics == ("heartbeat",)


async def test_five_second_rule_kept_without_user_subscribes(
    fake: Fake, autojump_clock: object
) -> None:
    """Connected and idle for a minute: the keepalive subscribe kept the connection open."""
    async with connect(fake) as ws:
        await trio.sleep(60)
        assert ws.state.name == "CONNECTED"
        conn = fake.connections[-1]
        assert fake.behaviour.peer(conn).requests[0].channel == "heartbeats"


async def test_without_heartbeats_the_core_still_subscribes_in_time(
    fake: Fake, autojump_clock: object
) -> None:
    """heartbeats=False and no subscribe: the core subscribes 3 s in and the fake keeps us."""
    async with connect(fake, heartbeats=False) as ws:
        await trio.sleep(10)
        assert ws.state.name == "CONNECTED"
        conn = fake.connections[-1]
        assert [r.channel for r in fake.behaviour.peer(conn).requests] == ["heartbeats"]


async def test_fake_closes_after_five_seconds_without_a_subscribe(
    fake: Fake, autojump_clock: object
) -> None:
    """The fake enforces the 5-second rule on a client that never subscribes."""
    fake.behaviour.idle_close_after = None
    async with connect(fake, heartbeats=False, heartbeat_timeout=None) as ws:
        # Hold the core's own guard off by subscribing nothing and pretending we did.
        ws.core._sent_subscribe = True
        event = await until(ws, Disconnected)
        assert isinstance(event, Disconnected)
        assert isinstance(event.reason, RemoteClosed)
        assert "5 seconds" in event.reason.reason
        assert trio.current_time() == pytest.approx(5.0, abs=1.01)


async def test_idle_close_without_heartbeats(fake: Fake, autojump_clock: object) -> None:
    """A connection without heartbeats and without data is closed by the fake after 75 s."""
    async with connect(fake, heartbeats=False, heartbeat_timeout=None) as ws:
        await ws.subscribe_market_trades("BTC-USD")
        event = await until(ws, Disconnected)
        assert isinstance(event, Disconnected)
        assert isinstance(event.reason, RemoteClosed)
        assert "idle" in event.reason.reason


async def test_heartbeats_visible_when_asked_and_counter_jump_is_a_gap(
    fake: Fake, autojump_clock: object
) -> None:
    """subscribe_heartbeats delivers them; a counter jump is GapDetected("heartbeats")."""
    async with connect(fake) as ws:
        assert await ws.subscribe_heartbeats() == "heartbeats"
        (first,) = await messages(ws, 1, "heartbeats")
        assert isinstance(first.data, HeartbeatsMessage)
        fake.behaviour.skip_heartbeats(4)
        gap = await until(ws, GapDetected)
        assert isinstance(gap, GapDetected)
        assert gap.topic == "heartbeats"
        assert gap.received - gap.expected == 4  # type: ignore[operator]


async def test_stalled_heartbeats_end_with_heartbeat_timeout(
    fake: Fake, autojump_clock: object
) -> None:
    """When heartbeats stop (a stalled server) the connection ends with HeartbeatTimeout."""
    async with connect(fake, heartbeat_timeout=5.0) as ws:
        await trio.sleep(3)
        fake.connections[-1].stall()
        event = await until(ws, Disconnected)
        assert isinstance(event, Disconnected)
        assert isinstance(event.reason, HeartbeatTimeout)
        assert event.reason.kind == "data"


async def test_sequence_gap_is_reported_for_the_connection(fake: Fake) -> None:
    """A jump in sequence_num is GapDetected, before the message that revealed it."""
    async with connect(fake) as ws:
        await ws.subscribe_market_trades("BTC-USD")
        await fake.push("market_trades:BTC-USD")
        await messages(ws, 1)
        fake.behaviour.skip_sequence(2)
        await fake.push("market_trades:BTC-USD")
        gap = await until(ws, GapDetected)
        assert isinstance(gap, GapDetected)
        assert gap.topic == "market_trades:BTC-USD"
        assert gap.received - gap.expected == 2  # type: ignore[operator]
        (after,) = await messages(ws, 1)
        assert after.topic == "market_trades:BTC-USD"


async def test_level2_snapshot_arrives_in_stream(fake: Fake) -> None:
    """subscribe_level2: an unsorted snapshot (bids and offers interleaved), then updates."""
    async with connect(fake) as ws:
        await ws.subscribe_level2("BTC-USD")
        (snapshot,) = await messages(ws, 1, "level2:BTC-USD")
        assert isinstance(snapshot.data, L2DataMessage)
        event = snapshot.data.events[0]
        assert event.kind == "snapshot"
        sides = {u.side for u in event.updates}
        assert sides == {"bid", "offer"}
        await fake.push("level2:BTC-USD")
        (update,) = await messages(ws, 1, "level2:BTC-USD")
        assert update.data.events[0].kind == "update"


async def test_unsubscribe_helper(fake: Fake) -> None:
    """unsubscribe_market_trades completes on the ack that no longer lists the product."""
    async with connect(fake) as ws:
        await ws.subscribe_market_trades("BTC-USD", "ETH-USD")
        assert await ws.unsubscribe_market_trades("BTC-USD") == ("market_trades:BTC-USD",)
        assert ws.subscriptions == frozenset({"market_trades:ETH-USD"})


async def test_message_topics_are_exact(fake: Fake) -> None:
    """Every delivered Message's topic is one the user subscribed to."""
    async with connect(fake) as ws:
        await ws.subscribe_ticker("BTC-USD")
        await ws.subscribe_candles("ETH-USD")
        await fake.push("ticker:BTC-USD")
        await fake.push("candles:ETH-USD")
        got = await messages(ws, 2)
        assert [m.topic for m in got] == ["ticker:BTC-USD", "candles:ETH-USD"]
        assert all(isinstance(m, Message) for m in got)


async def test_many_channels_wait_for_the_message_limit(fake: Fake, autojump_clock: object) -> None:
    """Five channels on each of two connections: 8 messages/s per IP, the rest wait their turn."""
    channels = ["market_trades", "ticker", "ticker_batch", "candles", "level2"]
    topics = [f"{c}:{p}" for c in channels for p in ("BTC-USD",)]
    async with connect(fake) as one, connect(fake) as two:
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(one.subscribe, *topics)
            nursery.start_soon(two.subscribe, *topics)
        # 2 keepalives + 10 subscribes from one process: more than a second's worth.
        assert trio.current_time() - start >= 1.0
        assert one.subscriptions == two.subscriptions == frozenset(topics)


async def test_futures_balance_summary_on_the_user_endpoint(fake: Fake) -> None:
    """The futures balance snapshot arrives typed, on its product-less topic."""
    async with connect(fake, "user", credentials=coinbase_test_key().credentials()) as ws:
        assert await ws.subscribe_futures_balance_summary() == "futures_balance_summary"
        (message,) = await messages(ws, 1, "futures_balance_summary")
        assert isinstance(message.data, FuturesBalanceSummaryMessage)
        summary = message.data.events[0].fcm_balance_summary
        assert summary.futures_buying_power == Decimal("1000.00")


async def test_user_orders_of_one_product(fake: Fake) -> None:
    """subscribe_user("ETH-USD"): the snapshot's orders are that product's, on "user:ETH-USD"."""
    async with connect(fake, "user", credentials=coinbase_test_key().credentials()) as ws:
        assert await ws.subscribe_user("ETH-USD") == ("user:ETH-USD",)
        (message,) = await messages(ws, 1)
        assert message.topic == "user:ETH-USD"
        assert {o.product_id for o in message.data.events[0].orders} == {"ETH-USD"}
