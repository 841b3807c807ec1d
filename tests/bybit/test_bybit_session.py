"""Bybit against the fake Bybit: pongs, auth, subscriptions, tickers, order entry, failures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
import trio

from trio_venues import Credentials
from trio_venues.errors import (
    AuthenticationError,
    ConfigError,
    ConnectionLost,
    RequestTimeout,
    SubscriptionError,
)
from trio_venues.events import (
    Authenticated,
    Disconnected,
    GapDetected,
    Message,
    PongReceived,
)
from trio_venues.reasons import HeartbeatTimeout, ServerRequested
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.bybit import BybitVenue
from trio_venues.venues.bybit import (
    BybitRateLimited,
    BybitServiceRestarting,
    ExecutionMessage,
    TickerMessage,
    TradeMessage,
)

from ._helpers import CREDENTIALS, Fake, bybit, messages


def serve(category: str, **options: Any) -> Fake:
    """A fake Bybit endpoint (not started)."""
    return FakeVenueServer(BybitVenue(category, **options))


@pytest.fixture
def started(nursery: trio.Nursery) -> Any:
    """Start fakes in the test's nursery: ``fake = await started(serve("spot"))``."""

    async def start(server: Fake) -> Fake:
        await nursery.start(server.run)
        return server

    return start


def sent_ops(peer: Any) -> list[Any]:
    """The ``op`` of every JSON frame the fake received from the client, in order."""
    return [frame.get("op") for frame in peer.received_json() if isinstance(frame, dict)]


# -- keepalive ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "category", ["spot", "linear", "inverse", "option", "spread", "private", "trade"]
)
async def test_every_pong_shape_is_timed_as_a_venue_pong(
    started: Any, category: str, autojump_clock: trio.abc.Clock
) -> None:
    """Each endpoint's pong arrives as PongReceived(level="venue") 20 s after connecting."""
    fake = await started(serve(category))
    async with bybit(fake, category) as ws:
        peer = await fake.wait_connected()
        async for event in ws.events:
            if isinstance(event, PongReceived):
                assert event.level == "venue"
                assert event.rtt is not None
                break
        assert trio.current_time() == pytest.approx(20.0, abs=0.01)
        ping = next(f for f in peer.received_json() if f.get("op") == "ping")
        assert category == "trade" or ping["req_id"]


async def test_no_pong_ends_with_heartbeat_timeout(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """When the venue stops answering pings, the connection ends with HeartbeatTimeout."""
    fake = await started(
        serve(
            "linear",
        )
    )
    async with bybit(fake, "linear") as ws:
        peer = await fake.wait_connected()
        peer.answer_venue_pings = False
        events = [event async for event in ws.events]
    assert isinstance(events[-1], Disconnected)
    assert isinstance(events[-1].reason, HeartbeatTimeout)
    assert events[-1].reason.kind == "venue"


# -- auth ----------------------------------------------------------------------------------


async def test_auth_is_acknowledged_before_any_subscription(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """The private endpoint sends auth first; connect() yields after its ack; then subscribes."""
    fake = await started(serve("private"))
    async with bybit(fake, "private") as ws:
        peer = await fake.wait_connected()
        assert await ws.subscribe_private("order", "wallet") == ["order", "wallet"]
        assert ws.subscriptions == {"order", "wallet"}
        assert sent_ops(peer)[:2] == ["auth", "subscribe"]
        auth = peer.received_json()[0]
        assert auth["args"][0] == CREDENTIALS.api_key
        assert auth["args"][1] > 0
        events = []
        async for event in ws.events:
            events.append(event)
            if isinstance(event, Authenticated):
                break
        assert events[-1].details["conn_id"].startswith("fake-private")


async def test_retry_scope_logs_on_again_and_replays(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """After a drop, retry_scope reconnects: auth first again, then the replayed subscriptions."""
    from trio_venues import retry_scope
    from trio_venues.events import DataGap, Resubscribed

    fake = await started(serve("private"))
    async with retry_scope(lambda: bybit(fake, "private")) as ws:
        await ws.subscribe("order", "wallet")
        first = await fake.wait_connected()
        await first.drop()
        async for event in ws.events:
            if isinstance(event, Resubscribed):
                assert set(event.topics) == {"order", "wallet"}
                break
        async for event in ws.events:
            if isinstance(event, DataGap):
                break
        second = next(c for c in fake.connections if c.number == 2)
        assert sent_ops(second)[:2] == ["auth", "subscribe"]
        assert second.subscriptions == {"order", "wallet"}


async def test_private_updates_arrive_typed(started: Any, autojump_clock: trio.abc.Clock) -> None:
    """Executions pushed on the private stream arrive as ExecutionMessage with Decimals."""
    fake = await started(serve("private"))
    async with bybit(fake, "private") as ws:
        await ws.subscribe_private("execution")
        fill = {
            "category": "linear",
            "symbol": "XRPUSDT",
            "execId": "e1",
            "execPrice": "0.3374",
            "execQty": "25",
            "isMaker": False,
            "tradeIv": "",
            "execTime": "1672364174443",
        }
        await fake.push("execution", [fill])
        (message,) = await messages(ws, 1)
    assert message.topic == "execution"
    assert isinstance(message.data, ExecutionMessage)
    (execution,) = message.data.executions
    assert execution.exec_price == Decimal("0.3374")
    assert execution.trade_iv is None
    assert execution.exec_time == 1672364174443


async def test_secret_never_reaches_logs_or_errors(
    started: Any, caplog: pytest.LogCaptureFixture, autojump_clock: trio.abc.Clock
) -> None:
    """With DEBUG logs on, neither a good nor a refused log-on shows the secret anywhere."""
    import logging

    caplog.set_level(logging.DEBUG)
    fake = await started(serve("private"))
    async with bybit(fake, "private") as ws:
        await ws.subscribe_private("order")
    bad = Credentials(CREDENTIALS.api_key, "wrong-secret-value")
    with pytest.raises(AuthenticationError) as info:
        async with bybit(fake, "private", credentials=bad):
            pytest.fail("connect() must not yield")  # pragma: no cover
    text = caplog.text + repr(info.value) + str(info.value) + repr(CREDENTIALS)
    assert CREDENTIALS.secret.reveal() not in text
    assert "wrong-secret-value" not in text
    assert all(
        CREDENTIALS.secret.reveal() not in str(f)
        for c in fake.connections
        for f in c.received_json()
    )


async def test_wrong_secret_raises_authentication_error(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """An invalid signature fails connect() with a non-retryable AuthenticationError."""
    fake = await started(serve("private"))
    bad = Credentials(CREDENTIALS.api_key, "not-the-secret")
    with pytest.raises(AuthenticationError) as info:
        async with bybit(fake, "private", credentials=bad):
            pytest.fail("connect() must not yield")  # pragma: no cover
    assert not info.value.retryable
    assert "Invalid sign" in str(info.value)


async def test_unknown_key_raises_authentication_error(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """An unknown API key fails the order-entry log-on too."""
    fake = await started(serve("trade"))
    with pytest.raises(AuthenticationError, match="Invalid apikey"):
        async with bybit(fake, "trade", credentials=Credentials("nobody", "x")):
            pytest.fail("connect() must not yield")  # pragma: no cover


async def test_expired_stamp_says_the_clock_is_off(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """A venue clock ahead by more than the headroom refuses auth with a clock-skew message."""
    fake = await started(serve("private", clock_skew=30.0))
    with pytest.raises(AuthenticationError) as info:
        async with bybit(fake, "private", auth_headroom=5):
            pytest.fail("connect() must not yield")  # pragma: no cover
    assert "clock" in str(info.value)
    assert info.value.retryable


async def test_larger_headroom_survives_the_skew(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """The same skew passes with a headroom larger than it."""
    fake = await started(serve("private", clock_skew=30.0))
    async with bybit(fake, "private", auth_headroom=60) as ws:
        assert await ws.subscribe_private("position") == ["position"]


def test_private_endpoints_need_credentials() -> None:
    """Connecting privately without credentials, or max_active_time on public, is a ConfigError."""
    from trio_venues.venues.bybit import Bybit

    with pytest.raises(ConfigError, match="needs credentials"):
        Bybit.connect(endpoint="private")
    with pytest.raises(ConfigError, match="max_active_time applies"):
        Bybit.connect(endpoint="spot", max_active_time="1m")
    with pytest.raises(ConfigError, match="30 s to 600 s"):
        Bybit.connect(endpoint="trade", credentials=CREDENTIALS, max_active_time="20s")
    with pytest.raises(ConfigError, match="no endpoint"):
        Bybit.connect(endpoint="futures")


async def test_max_active_time_goes_into_the_url(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """max_active_time="2m" reaches the venue as ?max_active_time=2m."""
    fake = await started(serve("private"))
    async with bybit(fake, "private", max_active_time="2m"):
        await fake.wait_connected()
    assert fake.requests[-1].query == "max_active_time=2m"


# -- subscriptions ----------------------------------------------------------------------


async def test_spot_helper_splits_into_requests_of_ten(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """25 spot symbols go out as 10 + 10 + 5 topics, all acknowledged."""
    fake = await started(serve("spot"))
    symbols = [f"S{i}USDT" for i in range(25)]
    async with bybit(fake, "spot") as ws:
        peer = await fake.wait_connected()
        topics = await ws.subscribe_trades(*symbols)
        assert topics == [f"publicTrade.{s}" for s in symbols]
        assert ws.subscriptions == set(topics)
        sizes = [len(f["args"]) for f in peer.received_json() if f.get("op") == "subscribe"]
        assert sizes == [10, 10, 5]


@pytest.mark.parametrize(
    ("category", "topic", "invalid"),
    [
        ("spot", "orderbook.50.BTCUSDT", 25),
        ("option", "orderbook.25.BTCUSDT", 200),
        ("spread", "orderbook.25.BTCUSDT", 50),
    ],
)
async def test_orderbook_helper_picks_the_category_depth(
    started: Any, category: str, topic: str, invalid: int, autojump_clock: trio.abc.Clock
) -> None:
    """Without depth=, books subscribe at 50 levels, or 25 where the category has no 50."""
    fake = await started(serve(category))
    async with bybit(fake, category) as ws:
        assert await ws.subscribe_orderbook("BTCUSDT") == [topic]
        with pytest.raises(ValueError, match=f"depth {invalid} on {category}"):
            await ws.subscribe_orderbook("BTCUSDT", depth=invalid)


async def test_refused_topic_raises_subscription_error(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """A topic Bybit does not know refuses its request with SubscriptionError."""
    fake = await started(serve("linear"))
    async with bybit(fake, "linear") as ws:
        with pytest.raises(SubscriptionError, match="handler not found") as info:
            await ws.subscribe("dcp.future")
        assert info.value.topics == ("dcp.future",)
        assert "dcp.future" not in ws.subscriptions


async def test_option_ack_refuses_only_the_bad_topic(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """On options, one bad topic is refused and the others stay subscribed."""
    fake = await started(serve("option"))
    async with bybit(fake, "option") as ws:
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe("tickers.BTC-6JAN23-17500-C", "bogus.topic")
        assert info.value.topics == ("bogus.topic",)
        assert ws.subscriptions == {"tickers.BTC-6JAN23-17500-C"}


async def test_trades_arrive_typed(started: Any, autojump_clock: trio.abc.Clock) -> None:
    """Pushed trades arrive as TradeMessage with exact prices, topic as Bybit spells it."""
    fake = await started(serve("linear"))
    async with bybit(fake, "linear") as ws:
        await ws.subscribe_trades("BTCUSDT")
        await fake.push("publicTrade.BTCUSDT")
        (message,) = await messages(ws, 1)
    assert message.topic == "publicTrade.BTCUSDT"
    assert isinstance(message.data, TradeMessage)
    assert isinstance(message.data.trades[0].price, Decimal)
    assert message.data.trades[0].tick_direction in ("PlusTick", "MinusTick")


# -- tickers ------------------------------------------------------------------------------


async def test_linear_ticker_deltas_arrive_merged(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """A snapshot then a delta: the delta's message carries the whole ticker and the raw delta."""
    fake = await started(serve("linear"))
    async with bybit(fake, "linear") as ws:
        await ws.subscribe_tickers("BTCUSDT")
        await fake.push(
            "tickers.BTCUSDT", {"symbol": "BTCUSDT", "lastPrice": "100.5", "markPrice": "100.4"}
        )
        await fake.push("tickers.BTCUSDT", {"symbol": "BTCUSDT", "lastPrice": "101"})
        first, second = await messages(ws, 2)
    assert isinstance(first.data, TickerMessage)
    assert first.data.type == "snapshot"
    assert second.data.type == "delta"
    assert second.data.ticker.last_price == Decimal("101")
    assert second.data.ticker.mark_price == Decimal("100.4")
    assert second.data.delta.last_price == Decimal("101")
    assert second.data.delta.mark_price is None


async def test_ticker_delta_without_snapshot_is_a_gap(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """A delta before any snapshot arrives as GapDetected for its topic, not as a partial ticker."""
    fake = await started(serve("linear"))
    async with bybit(fake, "linear") as ws:
        await ws.subscribe_tickers("BTCUSDT")
        peer = await fake.wait_connected()
        delta = {
            "topic": "tickers.BTCUSDT",
            "type": "delta",
            "ts": 1,
            "data": {"symbol": "BTCUSDT", "lastPrice": "1"},
        }
        await peer.send_text(orjson.dumps(delta).decode())
        async for event in ws.events:
            if isinstance(event, GapDetected):
                assert event.topic == "tickers.BTCUSDT"
                break
            assert not isinstance(event, Message)


# -- order entry --------------------------------------------------------------------------


async def test_orders_round_trip_through_the_trade_endpoint(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """create, amend and cancel answer by reqId with Bybit's data; the fake book follows."""
    fake = await started(serve("trade"))
    order = {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": Decimal("0.01"),
        "price": "60000",
        "orderLinkId": "mine-1",
    }
    async with bybit(fake, "trade") as ws:
        placed = await ws.place_order(order)
        order_id = placed.order_id
        assert placed.order_link_id == "mine-1"
        assert fake.behaviour.orders[order_id]["qty"] == "0.01"
        amended = await ws.amend_order(
            {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id, "qty": "0.02"}
        )
        assert amended.order_id == order_id
        assert fake.behaviour.orders[order_id]["qty"] == "0.02"
        await ws.cancel_order({"category": "linear", "symbol": "BTCUSDT", "orderId": order_id})
        assert fake.behaviour.orders == {}
        peer = await fake.wait_connected()
        ids = [f["reqId"] for f in peer.received_json() if f.get("op", "").startswith("order.")]
        assert len(set(ids)) == 3


async def test_batch_reports_each_order(started: Any, autojump_clock: trio.abc.Clock) -> None:
    """A batch create answers each order in data.list and retExtInfo.list."""
    fake = await started(serve("trade"))
    async with bybit(fake, "trade") as ws:
        reply = await ws.batch(
            "create",
            "linear",
            [
                {
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "1",
                    "price": "1",
                },
                {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"},
            ],
        )
    assert [item["code"] for item in reply.ret_ext_info["list"]] == [0, 10001]
    assert reply.data["list"][0]["orderId"] in fake.behaviour.orders


@pytest.mark.parametrize(
    ("code", "error"), [(10429, BybitRateLimited), (10016, BybitServiceRestarting)]
)
async def test_order_errors_are_typed(
    started: Any, code: int, error: type[Exception], autojump_clock: trio.abc.Clock
) -> None:
    """Rate limits and restarts raise their own VenueError subclasses."""
    fake = await started(serve("trade"))
    fake.behaviour.fail_next(code)
    async with bybit(fake, "trade") as ws:
        with pytest.raises(error):
            await ws.place_order(
                {
                    "category": "spot",
                    "symbol": "X",
                    "side": "Buy",
                    "orderType": "Market",
                    "qty": "1",
                }
            )


async def test_10019_ends_the_connection(started: Any, autojump_clock: trio.abc.Clock) -> None:
    """10019 (trade service restarting) fails the request and ends the connection, retryable."""
    fake = await started(serve("trade"))
    fake.behaviour.fail_next(10019, "restarting")
    async with bybit(fake, "trade") as ws:
        with pytest.raises(BybitServiceRestarting):
            await ws.place_order(
                {
                    "category": "spot",
                    "symbol": "X",
                    "side": "Buy",
                    "orderType": "Market",
                    "qty": "1",
                }
            )
        events = [event async for event in ws.events]
    assert isinstance(events[-1], Disconnected)
    assert isinstance(events[-1].reason, ServerRequested)
    assert events[-1].reason.retryable


async def test_order_request_times_out(started: Any, autojump_clock: trio.abc.Clock) -> None:
    """An order the venue never answers raises RequestTimeout after the per-request timeout."""
    fake = await started(serve("trade"))
    fake.behaviour.silent_ops.add("order.create")
    async with bybit(fake, "trade") as ws:
        start = trio.current_time()
        with pytest.raises(RequestTimeout):
            await ws.place_order(
                {
                    "category": "spot",
                    "symbol": "X",
                    "side": "Buy",
                    "orderType": "Market",
                    "qty": "1",
                },
                timeout=3.0,
            )
        assert trio.current_time() - start == pytest.approx(3.0)


async def test_order_request_fails_with_connection_lost(
    started: Any, autojump_clock: trio.abc.Clock
) -> None:
    """The connection dropping while an order waits raises ConnectionLost."""
    fake = await started(serve("trade"))
    fake.behaviour.silent_ops.add("order.create")
    async with bybit(fake, "trade") as ws:
        peer = await fake.wait_connected()

        async def drop_soon() -> None:
            await peer.wait_received(2)
            await peer.drop()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(drop_soon)
            with pytest.raises(ConnectionLost):
                await ws.place_order(
                    {
                        "category": "spot",
                        "symbol": "X",
                        "side": "Buy",
                        "orderType": "Market",
                        "qty": "1",
                    }
                )


async def test_orders_need_the_trade_endpoint(started: Any, autojump_clock: trio.abc.Clock) -> None:
    """place_order on a market-data connection says where orders go."""
    from trio_venues.errors import VenueError

    fake = await started(serve("spot"))
    async with bybit(fake, "spot") as ws:
        with pytest.raises(VenueError, match="endpoint='trade'"):
            await ws.place_order({"symbol": "X"})
