"""BybitCore, synchronously: frames out, outputs in, for every endpoint's shapes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_venues import Credentials
from trio_venues._core import EndConnection, Response, SendContext, UsageReport, VenuePong
from trio_venues.errors import (
    AuthenticationError,
    ConfigError,
    DecodeError,
    RateLimitExceeded,
    SubscriptionError,
    VenueError,
)
from trio_venues.events import ErrorEvent, GapDetected, Message
from trio_venues.reasons import ServerRequested
from trio_venues.venues.bybit import (
    BybitCore,
    BybitRateLimited,
    BybitServiceRestarting,
    OrderbookMessage,
    TickerMessage,
    TradeMessage,
    TradeResponse,
    UnknownMessage,
    auth_signature,
)

DATA = Path(__file__).parent / "data" / "bybit"
CREDS = Credentials("api_key", "test_api_secret")
CTX = SendContext(now=10.0, wall_time=1662350395.0, credentials=CREDS)


def sample(name: str) -> str:
    """A sample as the compact text Bybit sends."""
    return json.dumps(json.loads((DATA / f"{name}.json").read_text()), separators=(",", ":"))


def sent(frame: str | bytes | None) -> Any:
    """The JSON of a frame the core built."""
    assert isinstance(frame, str)
    return json.loads(frame)


# -- configuration --


def test_unknown_category_and_bad_options_are_config_errors() -> None:
    """An unknown endpoint, a non-positive headroom or receive window fail at construction."""
    with pytest.raises(ConfigError, match="unknown Bybit category"):
        BybitCore("futures")
    with pytest.raises(ConfigError, match="auth_headroom"):
        BybitCore("private", auth_headroom=0)
    with pytest.raises(ConfigError, match="recv_window"):
        BybitCore("trade", recv_window=0)


def test_core_pings_every_20_seconds_with_a_req_id() -> None:
    """venue_ping_interval is 20 s; the ping carries a fresh req_id; trade sends a bare op."""
    core = BybitCore("spot")
    assert core.venue_ping_interval == 20.0
    first, second = sent(core.venue_ping(0.0)), sent(core.venue_ping(20.0))
    assert first["op"] == second["op"] == "ping"
    assert first["req_id"] != second["req_id"]
    assert sent(BybitCore("trade").venue_ping(0.0)) == {"op": "ping"}


# -- data --


def test_hot_messages_become_messages_with_their_topic() -> None:
    """Trades and books decode into typed payloads, topic from the message."""
    core = BybitCore("linear")
    (trade,) = core.decode(sample("trade"), 1.5)
    assert isinstance(trade, Message)
    assert trade.topic == "publicTrade.BTCUSDT"
    assert isinstance(trade.data, TradeMessage)
    assert trade.data.trades[0].price == Decimal("16578.50")
    assert trade.received_at == 1.5
    (book,) = core.decode(sample("orderbook_delta"), 2.0)
    assert isinstance(book, Message)
    assert isinstance(book.data, OrderbookMessage)
    assert book.data.update_id == 177400507


def test_linear_tickers_are_merged_and_keep_the_delta() -> None:
    """On linear, a delta is delivered as the whole ticker with the raw delta beside it."""
    core = BybitCore("linear")
    core.decode(sample("ticker_linear"), 0.0)
    delta = {
        "topic": "tickers.BTCUSDT",
        "type": "delta",
        "ts": 2,
        "cs": 3,
        "data": {"symbol": "BTCUSDT", "lastPrice": "70000.5"},
    }
    (out,) = core.decode(json.dumps(delta), 1.0)
    assert isinstance(out, Message)
    assert isinstance(out.data, TickerMessage)
    assert out.data.ticker.last_price == Decimal("70000.5")
    assert out.data.ticker.mark_price == Decimal("66666.60")
    assert out.data.delta is not None
    assert out.data.delta.mark_price is None


def test_ticker_delta_before_snapshot_is_a_gap() -> None:
    """A linear delta with no snapshot cannot be made whole: GapDetected for its topic."""
    core = BybitCore("inverse")
    delta = {"topic": "tickers.BTCUSD", "type": "delta", "ts": 2, "data": {"symbol": "BTCUSD"}}
    assert list(core.decode(json.dumps(delta), 1.0)) == [GapDetected("tickers.BTCUSD", None, None)]


def test_merging_can_be_turned_off() -> None:
    """merge_tickers=False delivers linear deltas as sent."""
    core = BybitCore("linear", merge_tickers=False)
    delta = {
        "topic": "tickers.BTCUSDT",
        "type": "delta",
        "ts": 2,
        "data": {"symbol": "BTCUSDT", "lastPrice": "1"},
    }
    (out,) = core.decode(json.dumps(delta), 1.0)
    assert isinstance(out, Message)
    assert out.data.ticker.last_price == Decimal("1")
    assert out.data.ticker.mark_price is None


def test_unknown_messages_are_delivered_whole() -> None:
    """A shape the core does not know becomes Message(None, UnknownMessage)."""
    (out,) = BybitCore("spot").decode('{"something":"new"}', 0.0)
    assert out == Message(None, UnknownMessage({"something": "new"}), 0.0)


@pytest.mark.parametrize("data", ["nope", b"\x00\x01", "[]", '{"topic":"publicTrade.X","ts":"1"}'])
def test_undecodable_frames_raise_decode_error(data: str | bytes) -> None:
    """Garbage, arrays and malformed known messages raise DecodeError."""
    with pytest.raises(DecodeError):
        BybitCore("spot").decode(data, 0.0)


# -- pongs --


@pytest.mark.parametrize(
    ("category", "name"),
    [
        ("spot", "pong_public_spot"),
        ("linear", "pong_public_linear"),
        ("option", "pong_option_spread"),
        ("spread", "pong_option_spread"),
        ("private", "pong_private"),
        ("trade", "trade_ws_pong"),
    ],
)
def test_every_pong_shape_is_a_venue_pong(category: str, name: str) -> None:
    """Each endpoint's pong shape becomes VenuePong."""
    (out,) = BybitCore(category).decode(sample(name), 0.0)
    assert isinstance(out, VenuePong)


# -- subscribe and acks --


def test_subscribe_frame_and_spot_ack_by_req_id() -> None:
    """Subscribe sends req_id/op/args; the spot ack echoing req_id answers that request."""
    core = BybitCore("spot")
    frame = sent(
        core.encode_subscribe(["publicTrade.BTCUSDT", "orderbook.1.BTCUSDT"], "10001", CTX)
    )
    assert frame == {
        "req_id": "10001",
        "op": "subscribe",
        "args": ["publicTrade.BTCUSDT", "orderbook.1.BTCUSDT"],
    }
    assert list(core.decode(sample("subscribe_ack_public_spot"), 0.0)) == [Response("10001")]


def test_acks_match_the_echoed_id_even_out_of_order() -> None:
    """With two requests in flight, each echoed req_id answers its own request."""
    core = BybitCore("linear")
    core.encode_subscribe(["a.X"], "r1", CTX)
    core.encode_subscribe(["b.X"], "r2", CTX)
    ack = {"success": True, "ret_msg": "", "conn_id": "c", "req_id": "r2", "op": "subscribe"}
    assert list(core.decode(json.dumps(ack), 0.0)) == [Response("r2")]
    ack["req_id"] = "r1"
    assert list(core.decode(json.dumps(ack), 0.0)) == [Response("r1")]


def test_private_acks_without_id_answer_requests_in_order() -> None:
    """Private acks carry no req_id: they answer the oldest request of their op."""
    core = BybitCore("private")
    core.encode_subscribe(["order"], "a", CTX)
    core.encode_subscribe(["wallet"], "b", CTX)
    ack = sample("subscribe_ack_private")
    assert list(core.decode(ack, 0.0)) == [Response("a")]
    assert list(core.decode(ack, 0.0)) == [Response("b")]


def test_refused_subscribe_refuses_the_request_topics() -> None:
    """success:false refuses the request with a SubscriptionError naming its topics."""
    core = BybitCore("linear")
    core.encode_subscribe(["dcp.future"], "dcp.future", CTX)
    (out,) = core.decode(sample("error_subscribe_handler_not_found"), 0.0)
    assert isinstance(out, Response)
    assert out.request_id == "dcp.future"
    assert isinstance(out.error, SubscriptionError)
    assert out.error.topics == ("dcp.future",)
    assert "handler not found" in str(out.error)


def test_option_command_ack_lists_accepted_and_refused_topics() -> None:
    """An option COMMAND_RESP maps successTopics to accepted and failTopics to refused."""
    core = BybitCore("option")
    core.encode_subscribe(["orderbook.100.BTC-6JAN23-18000-C", "tickers.NOPE"], "7", CTX)
    ack = {
        "success": True,
        "conn_id": "c",
        "type": "COMMAND_RESP",
        "data": {
            "successTopics": ["orderbook.100.BTC-6JAN23-18000-C"],
            "failTopics": ["tickers.NOPE"],
        },
    }
    (out,) = core.decode(json.dumps(ack), 0.0)
    assert isinstance(out, Response)
    assert out.request_id == "7"
    assert out.accepted == ("orderbook.100.BTC-6JAN23-18000-C",)
    assert [topic for topic, _ in out.refused] == ["tickers.NOPE"]
    assert isinstance(out.refused[0][1], SubscriptionError)


def test_option_sample_ack_answers_its_request() -> None:
    """The recorded option ack answers the request that named its topic."""
    core = BybitCore("option")
    core.encode_subscribe(["tickers.OTHER"], "1", CTX)
    core.encode_subscribe(["orderbook.100.BTC-6JAN23-18000-C"], "2", CTX)
    (out,) = core.decode(sample("subscribe_ack_option_spread"), 0.0)
    assert out == Response("2", accepted=("orderbook.100.BTC-6JAN23-18000-C",))


def test_an_ack_nobody_waits_for_is_harmless_or_reported() -> None:
    """A stray success ack is ignored; a stray refusal becomes an ErrorEvent."""
    core = BybitCore("private")
    assert list(core.decode(sample("subscribe_ack_private"), 0.0)) == []
    (out,) = core.decode(sample("error_subscribe_handler_not_found"), 0.0)
    assert isinstance(out, ErrorEvent)


def test_unsubscribe_frame_and_ack() -> None:
    """Unsubscribe has the subscribe shape and its ack answers it."""
    core = BybitCore("spot")
    frame = sent(core.encode_unsubscribe(["publicTrade.ETHUSD"], "customised_id", CTX))
    assert frame == json.loads(sample("unsubscribe_request"))
    ack = {
        "success": True,
        "ret_msg": "",
        "conn_id": "c",
        "req_id": "customised_id",
        "op": "unsubscribe",
    }
    assert list(core.decode(json.dumps(ack), 0.0)) == [Response("customised_id")]


def test_spot_splits_ten_per_request() -> None:
    """split_topics gives spot batches of at most 10."""
    topics = [f"publicTrade.S{i}USDT" for i in range(23)]
    assert [len(b) for b in BybitCore("spot").split_topics("subscribe", topics)] == [10, 10, 3]
    assert len(BybitCore("linear").split_topics("subscribe", topics)) == 1


def test_connection_argument_budgets_are_enforced_before_sending() -> None:
    """21,000 characters per public connection and 2,000 option topics are refused locally."""
    core = BybitCore("linear")
    # 105 topics of 197 characters: 21,000 with quotes and commas, exactly the budget.
    long_topics = [f"orderbook.50.{'X' * 180}{i:04d}" for i in range(105)]
    core.encode_subscribe(long_topics, "1", CTX)
    with pytest.raises(RateLimitExceeded, match="21000 characters"):
        core.encode_subscribe([f"orderbook.50.{'Y' * 180}"], "2", CTX)
    option = BybitCore("option")
    option.encode_subscribe([f"t.{i}" for i in range(2000)], "1", CTX)
    with pytest.raises(RateLimitExceeded, match="2000 topics"):
        option.encode_subscribe(["t.more"], "2", CTX)


def test_trade_endpoint_has_no_subscriptions() -> None:
    """Subscribing on the order-entry endpoint is refused."""
    with pytest.raises(VenueError, match="no subscriptions"):
        BybitCore("trade").encode_subscribe(["order"], "1", CTX)


# -- auth --


def test_public_endpoints_do_not_log_on() -> None:
    """encode_login is None on public endpoints."""
    for category in ("spot", "linear", "inverse", "option", "spread", "status"):
        assert BybitCore(category).encode_login("1", CTX) is None


def test_private_auth_frame_signs_expires_ahead_of_the_wall_clock() -> None:
    """auth sends [key, wall time + headroom in ms, signature] and the ack answers it."""
    core = BybitCore("private")
    frame = sent(core.encode_login("10001", CTX))
    assert frame == {
        "req_id": "10001",
        "op": "auth",
        "args": [
            "api_key",
            1662350400000,
            "9fdcbff517a9fd5229146395268c07e17122696b9d48c6a81225b15d98b2b335",
        ],
    }
    (out,) = core.decode(sample("auth_ack"), 0.0)
    assert out == Response("10001", result={"conn_id": "cejreaspqfh3sjdnldmg-p"})


def test_auth_headroom_is_configurable() -> None:
    """A 30 s headroom moves expires 30 s past the wall clock."""
    frame = sent(BybitCore("private", auth_headroom=30).encode_login("1", CTX))
    assert frame["args"][1] == 1662350425000
    assert frame["args"][2] == auth_signature("test_api_secret", 1662350425000)


def test_trade_auth_uses_the_camel_case_envelope() -> None:
    """The order-entry auth sends reqId, and its retCode-0 ack answers it."""
    core = BybitCore("trade")
    frame = sent(core.encode_login("r", CTX))
    assert frame["reqId"] == "r"
    assert frame["op"] == "auth"
    (out,) = core.decode(sample("trade_ws_auth_ack"), 0.0)
    assert out == Response("r", result={"conn_id": "cnt5leec0hvan15eukcg-2t"})


def test_login_without_credentials_is_a_config_error() -> None:
    """A private connection without credentials cannot log on."""
    with pytest.raises(ConfigError, match="credentials"):
        BybitCore("private").encode_login("1", SendContext(0.0, 0.0, None))


def test_refused_auth_is_an_authentication_error() -> None:
    """ "Params Error" refuses the log-on with an AuthenticationError that names the clock too."""
    core = BybitCore("private")
    core.encode_login("1", CTX)
    (out,) = core.decode(sample("error_auth_params"), 0.0)
    assert isinstance(out, Response)
    assert isinstance(out.error, AuthenticationError)
    assert "Params Error" in str(out.error)
    assert "clock" in str(out.error)
    assert not out.error.retryable


def test_expired_auth_says_it_is_clock_skew() -> None:
    """An expired 'expires' gets a distinct, retryable message about the clock."""
    core = BybitCore("private", auth_headroom=5)
    core.encode_login("1", CTX)
    reply = {"success": False, "ret_msg": "Request expired", "op": "auth", "conn_id": "c"}
    (out,) = core.decode(json.dumps(reply), 0.0)
    assert isinstance(out, Response)
    assert isinstance(out.error, AuthenticationError)
    assert "clock" in str(out.error)
    assert "5 s headroom" in str(out.error)
    assert out.error.retryable


@pytest.mark.parametrize(("code", "retryable"), [(10004, False), (10003, False), (10002, True)])
def test_trade_auth_failures_by_code(code: int, retryable: bool) -> None:
    """Order-entry auth failures are AuthenticationErrors; only 10002 (expired) is retryable."""
    core = BybitCore("trade")
    core.encode_login("r", CTX)
    reply = {"retCode": code, "retMsg": "error", "op": "auth", "connId": "c"}
    (out,) = core.decode(json.dumps(reply), 0.0)
    assert isinstance(out, Response)
    assert isinstance(out.error, AuthenticationError)
    assert out.error.retryable is retryable


def test_secret_never_appears_in_frames() -> None:
    """The auth frame carries the signature, never the secret."""
    frame = BybitCore("private").encode_login("1", CTX)
    assert isinstance(frame, str)
    assert "test_api_secret" not in frame


# -- order entry --


def test_order_create_frame_has_header_and_one_order() -> None:
    """order.create sends reqId, the timestamp header, op and one order; Decimals as text."""
    core = BybitCore("trade", recv_window=8000)
    frame = sent(
        core.encode_request(
            "order.create",
            {
                "category": "linear",
                "symbol": "ETHUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": Decimal("0.2"),
                "price": "2800",
                "timeInForce": "PostOnly",
            },
            "test-005",
            CTX,
        )
    )
    assert frame == {
        "reqId": "test-005",
        "header": {"X-BAPI-TIMESTAMP": "1662350395000", "X-BAPI-RECV-WINDOW": "8000"},
        "op": "order.create",
        "args": [
            {
                "category": "linear",
                "symbol": "ETHUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.2",
                "price": "2800",
                "timeInForce": "PostOnly",
            }
        ],
    }


@pytest.mark.parametrize(
    ("category", "method", "params", "error"),
    [
        ("spot", "order.create", {}, VenueError),
        ("trade", "order.replace", {}, ValueError),
        ("trade", "order.create", [1], TypeError),
        ("trade", "order.create", {"qty": 0.1}, TypeError),
    ],
)
def test_bad_order_requests_are_refused(
    category: str, method: str, params: Any, error: type[Exception]
) -> None:
    """Requests off the trade endpoint, unknown ops, non-mappings and floats are refused."""
    with pytest.raises(error):
        BybitCore(category).encode_request(method, params, "1", CTX)


def test_order_reply_is_a_response_with_usage() -> None:
    """A successful reply answers its reqId and reports the orders budget from its headers."""
    core = BybitCore("trade")
    reply = {
        "reqId": "r1",
        "retCode": 0,
        "retMsg": "OK",
        "op": "order.create",
        "data": {"orderId": "o1", "orderLinkId": ""},
        "header": {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"},
        "connId": "c",
    }
    usage, response = core.decode(json.dumps(reply), 0.0)
    assert usage == UsageReport("orders", 1, 10, 1.0)
    assert isinstance(response, Response)
    assert response.request_id == "r1"
    assert isinstance(response.result, TradeResponse)
    assert response.result.data == {"orderId": "o1", "orderLinkId": ""}


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (10403, BybitRateLimited),
        (10429, BybitRateLimited),
        (20003, BybitRateLimited),
        (10016, BybitServiceRestarting),
        (10019, BybitServiceRestarting),
        (110007, VenueError),
    ],
)
def test_order_errors_are_typed(code: int, error: type[VenueError]) -> None:
    """Rate-limit and restart codes get their own error classes; 10019 ends the connection."""
    core = BybitCore("trade")
    reply = {"reqId": "r1", "retCode": code, "retMsg": "nope", "op": "order.create", "connId": "c"}
    outputs = list(core.decode(json.dumps(reply), 0.0))
    response = outputs[0]
    assert isinstance(response, Response)
    assert type(response.error) is error
    assert response.error.code == code
    if code == 10019:
        assert isinstance(outputs[1], EndConnection)
        assert isinstance(outputs[1].reason, ServerRequested)
    else:
        assert len(outputs) == 1


# -- bad input never escapes as anything but DecodeError --

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    [
        "topic",
        "type",
        "ts",
        "data",
        "op",
        "success",
        "ret_msg",
        "req_id",
        "retCode",
        "reqId",
        "args",
    ]
)
_VALUES = (
    st.sampled_from(
        [
            "publicTrade.X",
            "orderbook.1.X",
            "tickers.X",
            "kline.1.X",
            "order",
            "wallet",
            "system.status",
            "snapshot",
            "delta",
            "pong",
            "ping",
            "auth",
            "subscribe",
            "COMMAND_RESP",
            "order.create",
        ]
    )
    | _JSON
)


@settings(max_examples=300, deadline=None)
@given(
    category=st.sampled_from(["spot", "linear", "option", "private", "trade"]),
    obj=st.dictionaries(_KEYS, _VALUES, max_size=6),
)
def test_any_object_decodes_or_raises_decode_error(category: str, obj: dict[str, Any]) -> None:
    """Whatever object arrives, the core returns outputs or raises DecodeError, nothing else."""
    core = BybitCore(category)
    if category in ("private", "trade"):
        core.encode_login("1", CTX)
    text = json.dumps(obj)
    try:
        outputs = core.decode(text, 0.0)
    except DecodeError:
        return
    assert isinstance(outputs, tuple | list)
