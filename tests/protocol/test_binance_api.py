"""BinanceApiCore: WebSocket-API responses, usage reports, error classes, user data, requests."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from trio_venues._core import (
    EndConnection,
    PlannedShutdown,
    Response,
    SendContext,
    TopicsEnded,
    UsageReport,
)
from trio_venues.errors import AuthenticationError, DecodeError, VenueError
from trio_venues.events import ErrorEvent, Message
from trio_venues.reasons import AuthenticationFailed, RemoteClosed, ServerRequested
from trio_venues.venues.binance import (
    USER_DATA_TOPIC,
    AccountPosition,
    Balance,
    BinanceApiCore,
    ExecutionReport,
    StreamTerminated,
    UnknownMessage,
    UserDataEvent,
    partial_depth_from_wire,
    to_wire,
)
from trio_venues.venues.binance._protocol import (
    ApiRequest,
    decode_api_request,
    encode_api_error,
    encode_api_response,
    encode_api_server_shutdown,
    encode_user_event,
)

DATA = Path(__file__).parent / "data" / "binance"
D = Decimal


def text(name: str) -> str:
    """The raw text of a recorded sample, as it would arrive in a text frame."""
    return (DATA / f"{name}.json").read_text(encoding="utf-8")


def sample(name: str) -> Any:
    """The decoded JSON of a recorded sample."""
    return json.loads(text(name))


def decode(frame: str) -> list[Any]:
    """Decode one frame with a fresh API core."""
    return list(BinanceApiCore().decode(frame, 4.0))


WEIGHT_2 = UsageReport(kind="weight", used=2, limit=6000, window=60)


# -- responses and usage -------------------------------------------------------------------


def test_depth_response_gives_usage_then_the_response() -> None:
    """A success with rateLimits yields a UsageReport per entry, then the Response."""
    usage, response = decode(text("wsapi_depth_response"))
    assert usage == WEIGHT_2
    assert isinstance(response, Response)
    assert response.request_id == "51e2affb-0aba-4821-ba75-f2625006eb43"
    assert response.error is None
    book = partial_depth_from_wire(response.result)
    assert book.last_update_id == 2731179239
    assert book.bids[0] == ("0.01379900", "3.43200000")
    assert book.decimal_bids()[0] == (D("0.01379900"), D("3.43200000"))


def test_order_response_reports_orders_and_weight_windows_in_seconds() -> None:
    """ORDERS and REQUEST_WEIGHT entries become 'orders'/'weight' reports with windows in s."""
    *usage, response = decode(text("wsapi_response_success"))
    assert usage == [
        UsageReport("orders", 12, 50, 10),
        UsageReport("orders", 4043, 160000, 86400),
        UsageReport("weight", 321, 6000, 60),
    ]
    assert response == Response(
        "e2a85d9f-07a5-4f94-8d5f-789dc3deb097", sample("wsapi_response_success")["result"]
    )


def test_responses_without_rate_limits_and_empty_results() -> None:
    """Logon (no rateLimits), ping ({} result) and userDataStream.subscribe decode."""
    assert decode(text("wsapi_session_logon_response")) == [
        Response(
            "c174a2b1-3f51-4580-b200-8528bd237cb7",
            sample("wsapi_session_logon_response")["result"],
        )
    ]
    assert decode(text("wsapi_ping_response")) == [
        UsageReport("weight", 1, 6000, 60),
        Response("922bcc6e-9de8-440d-9e84-7c80933a8d0d", {}),
    ]
    assert decode(text("wsapi_user_data_subscribe_response")) == [
        Response("d3df8a21-98ea-4fe0-8f4e-0fcea5d418b7", {"subscriptionId": 0})
    ]


def test_an_unrecognised_rate_limit_entry_is_reported_without_losing_the_response() -> None:
    """A rateLimits entry with an unknown interval gives an ErrorEvent; the Response still comes."""
    frame = encode_api_response(
        "x",
        {},
        rate_limits=[
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 61000,
                "count": 3,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "FORTNIGHT",
                "intervalNum": 1,
                "limit": 1,
                "count": 1,
            },
        ],
    )
    raw, odd, response = decode(frame)
    assert raw == UsageReport("raw_requests", 3, 61000, 300)
    assert isinstance(odd, ErrorEvent)
    assert isinstance(odd.error, DecodeError)
    assert response == Response("x", {})


# -- errors ----------------------------------------------------------------------------------


def test_plain_errors_are_non_retryable_venue_errors_with_status() -> None:
    """A 400 error is a VenueError with code, message and status; not retryable."""
    *usage, response = decode(text("wsapi_error"))
    assert len(usage) == 3
    assert response.request_id == "e2a85d9f-07a5-4f94-8d5f-789dc3deb097"
    error = response.error
    assert type(error) is VenueError
    assert (error.code, error.message, error.status, error.retryable, error.retry_after) == (
        -2010,
        "Account has insufficient balance for requested action.",
        400,
        False,
        None,
    )


def test_ip_ban_418_is_retryable_after_the_ban() -> None:
    """418 carries retry_after = (retryAfter - serverTime) in seconds, and is retryable."""
    usage, response = decode(text("wsapi_error_ip_banned_418"))
    assert usage == UsageReport("weight", 2411, 6000, 60)
    error = response.error
    assert isinstance(error, VenueError)
    assert (error.code, error.status, error.retryable) == (-1003, 418, True)
    assert error.retry_after == pytest.approx((1659146400000 - 1659142907531) / 1000)
    assert error.data == {"serverTime": 1659142907531, "retryAfter": 1659146400000}


def test_rate_limited_429_is_retryable_with_or_without_a_retry_time() -> None:
    """429 is retryable; retry_after comes from error.data when both times are given."""
    with_data = encode_api_error(
        "a",
        429,
        -1003,
        "Too much request weight used",
        data={"serverTime": 1000, "retryAfter": 2500},
    )
    error = decode(with_data)[0].error
    assert (error.status, error.retryable, error.retry_after) == (429, True, 1.5)
    bare = decode(encode_api_error("a", 429, -1003, "Too much request weight used"))[0].error
    assert (bare.retryable, bare.retry_after) == (True, None)
    stale = encode_api_error("a", 429, -1003, "x", data={"serverTime": 3000, "retryAfter": 2500})
    assert decode(stale)[0].error.retry_after == 0.0


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, -2015), (400, -2014), (400, -1022), (401, -1002), (401, -2015)],
)
def test_credential_errors_are_authentication_errors(status: int, code: int) -> None:
    """-2015/-2014/-1022 and any 401 are AuthenticationError, never retryable."""
    error = decode(encode_api_error("id1", status, code, "Invalid API-key"))[0].error
    assert type(error) is AuthenticationError
    assert (error.code, error.status, error.retryable) == (code, status, False)


def test_timestamp_errors_are_retryable_and_unknown_outcomes_are_not() -> None:
    """-1021 (clock skew) is retryable; 5xx/-1007 (unknown outcome) and 403 are not."""
    assert decode(encode_api_error("a", 400, -1021, "Timestamp outside recvWindow"))[
        0
    ].error.retryable
    for status, code in ((500, -1007), (503, -1001), (403, -1000), (409, -2021)):
        error = decode(encode_api_error("a", status, code, "x"))[0].error
        assert type(error) is VenueError
        assert error.retryable is False


def test_a_revoked_session_ends_the_connection() -> None:
    """A 401 with id null (key revoked mid-session) is EndConnection(AuthenticationFailed)."""
    (output,) = decode(text("wsapi_error_session_revoked_401"))
    assert isinstance(output, EndConnection)
    assert isinstance(output.reason, AuthenticationFailed)
    assert not output.reason.retryable
    assert "-2015" in output.reason.details


def test_other_errors_without_an_id_are_error_events() -> None:
    """An error not tied to a request (id null, not 401) is an ErrorEvent."""
    (event,) = decode(encode_api_error(None, 400, -1100, "Illegal characters"))
    assert isinstance(event, ErrorEvent)
    assert isinstance(event.error, VenueError)
    assert event.error.code == -1100


def test_server_shutdown_is_a_planned_end() -> None:
    """{"event": {"e": "serverShutdown"}} is a planned end of the connection (ServerRequested)."""
    (output,) = decode(text("wsapi_server_shutdown"))
    assert output == PlannedShutdown(
        ServerRequested("Binance serverShutdown (E=1770123456789): reconnect now")
    )
    assert decode(encode_api_server_shutdown(1770123456789)) == [output]


# -- user data ----------------------------------------------------------------------------------


def test_user_events_arrive_as_messages_on_the_user_data_topic() -> None:
    """{"subscriptionId", "event"} becomes Message('userData', UserDataEvent(id, typed))."""
    (message,) = decode(text("wsapi_user_event_account_position"))
    assert message == Message(
        USER_DATA_TOPIC,
        UserDataEvent(
            0,
            AccountPosition(
                1728972148778,
                1728972148778,
                (
                    Balance("BTC", D("11818.00000000"), D("182.00000000")),
                    Balance("USDT", D("10580.00000000"), D("70.00000000")),
                ),
            ),
        ),
        4.0,
    )
    assert message.topic == "userData"


def test_stream_terminated_is_a_user_event_not_the_end_of_the_connection() -> None:
    """eventStreamTerminated is delivered as a user event, then ends the "userData"
    subscription (TopicsEnded: not replayed); the connection stays up."""
    assert decode(text("wsapi_user_event_stream_terminated")) == [
        Message(USER_DATA_TOPIC, UserDataEvent(0, StreamTerminated(1728973001334)), 4.0),
        TopicsEnded((USER_DATA_TOPIC,)),
    ]


def test_user_events_without_a_subscription_id_and_unknown_events() -> None:
    """An event without subscriptionId has subscription_id None; unknown types stay raw."""
    message, ended = decode('{"event":{"e":"eventStreamTerminated","E":5}}')
    assert message.data == UserDataEvent(None, StreamTerminated(5))
    assert ended == TopicsEnded((USER_DATA_TOPIC,))
    (unknown,) = decode('{"subscriptionId":3,"event":{"e":"externalLockUpdate","E":1}}')
    assert unknown.data == UserDataEvent(3, UnknownMessage({"e": "externalLockUpdate", "E": 1}))


def test_user_event_frames_from_typed_events_decode_back() -> None:
    """encode_user_event(to_wire(event)) is what the core decodes back into the event."""
    report = ExecutionReport(
        event_time=1,
        symbol="BTCUSDT",
        client_order_id="c1",
        side="SELL",
        order_type="LIMIT",
        time_in_force="GTC",
        quantity=D("0.5"),
        price=D("64000.01"),
        stop_price=D("0"),
        iceberg_quantity=D("0"),
        order_list_id=-1,
        original_client_order_id="",
        execution_type="TRADE",
        order_status="FILLED",
        reject_reason="NONE",
        order_id=77,
        last_executed_quantity=D("0.5"),
        cumulative_filled_quantity=D("0.5"),
        last_executed_price=D("64000.01"),
        commission=D("0.01"),
        commission_asset="USDT",
        transaction_time=2,
        trade_id=9,
        is_on_book=False,
        is_maker=True,
        order_creation_time=1,
        cumulative_quote_quantity=D("32000.005"),
        last_quote_quantity=D("32000.005"),
        quote_order_quantity=D("0"),
    )
    (message,) = decode(encode_user_event(7, to_wire(report)))
    assert message.data == UserDataEvent(7, report)


def test_unknown_top_level_objects_are_delivered_not_dropped() -> None:
    """A JSON object of no known shape is Message(None, UnknownMessage(obj))."""
    assert decode('{"notice":"hello"}') == [Message(None, UnknownMessage({"notice": "hello"}), 4.0)]


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b'{"id":"a","status":200,"result":{}}', id="binary-frame"),
        pytest.param("", id="empty"),
        pytest.param('{"id":"a","status":200,', id="truncated"),
        pytest.param("[]", id="array"),
        pytest.param("null", id="null"),
        pytest.param('{"id":"a","status":"200","result":{}}', id="status-as-string"),
        pytest.param('{"id":"a","status":200}', id="no-result"),
        pytest.param('{"id":null,"status":200,"result":{}}', id="result-null-id"),
        pytest.param('{"id":1.5,"status":200,"result":{}}', id="float-id"),
        pytest.param('{"id":"a","status":400,"error":{"code":-1}}', id="error-without-msg"),
        pytest.param('{"id":"a","status":400,"error":[]}', id="error-not-object"),
        pytest.param(
            '{"id":"a","status":200,"result":{},"rateLimits":{}}', id="rate-limits-object"
        ),
        pytest.param('{"status":200,"result":{}}', id="no-id"),
        pytest.param('{"subscriptionId":"0","event":{"e":"x"}}', id="subscription-id-string"),
        pytest.param('{"subscriptionId":0,"event":[]}', id="event-array"),
        pytest.param('{"subscriptionId":0,"event":{"E":1}}', id="event-without-type"),
        pytest.param(
            '{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1,"a":"BTC","d":"NaN","T":1}}',
            id="nan-delta",
        ),
        pytest.param(
            '{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1,"a":"BTC","d":"1e999","T":1}}',
            id="huge-delta",
        ),
        pytest.param('{"id":"a","id":"b","status":200,"result":{}}', id="duplicate-id"),
    ],
)
def test_bad_frames_raise_decode_error_only(frame: str | bytes) -> None:
    """Malformed, mistyped and binary frames raise DecodeError and nothing else."""
    with pytest.raises(DecodeError):
        BinanceApiCore().decode(frame, 0.0)


# -- requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "wsapi_depth_request",
        "wsapi_ping_request",
        "wsapi_request_order_place",
        "wsapi_session_logon_request",
        "wsapi_user_data_subscribe_request",
    ],
)
def test_request_frames_match_the_samples(name: str) -> None:
    """encode_request builds each recorded request exactly (id, method, params order)."""
    recorded = sample(name)
    frame = BinanceApiCore().encode_request(
        recorded["method"], recorded.get("params"), recorded["id"]
    )
    assert orjson.loads(frame) == recorded
    assert list(orjson.loads(frame)) == list(recorded)
    assert decode_api_request(frame) == ApiRequest(
        recorded["method"], recorded.get("params", {}), recorded["id"]
    )


def test_decimal_params_are_sent_as_plain_strings() -> None:
    """Decimal parameters go out as positional-notation strings, never floats."""
    frame = BinanceApiCore().encode_request(
        "order.test", {"price": D("1E-8"), "quantity": D("10.50")}, "x"
    )
    assert orjson.loads(frame)["params"] == {"price": "0.00000001", "quantity": "10.50"}


def test_request_misuse_raises_immediately() -> None:
    """Bad ids, non-mapping params, empty methods and unsendable values raise at encode time."""
    core = BinanceApiCore()
    with pytest.raises(ValueError, match="36"):
        core.encode_request("ping", None, "a" * 37)
    with pytest.raises(TypeError, match="mapping"):
        core.encode_request("ping", ["x"], "a")
    with pytest.raises(ValueError, match="method"):
        core.encode_request("", None, "a")
    with pytest.raises(TypeError, match="float"):
        core.encode_request("order.test", {"price": 0.1}, "a")
    with pytest.raises(TypeError, match="float"):
        core.encode_request("ticker", {"levels": [1, 2.5]}, "a")
    with pytest.raises(TypeError, match="complex"):
        core.encode_request("order.test", {"price": 0.1j}, "a")
    with pytest.raises(TypeError):
        core.encode_request("ping", None, None)  # type: ignore[arg-type]
    for junk in ("{", '{"method":"ping"}', '{"id":1,"method":"x","params":[]}'):
        with pytest.raises(DecodeError):
            decode_api_request(junk)


def test_request_ids_are_unique_hex_strings() -> None:
    """next_request_id gives 32-character hex strings, all different."""
    core = BinanceApiCore()
    ids = {core.next_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_api_core_identity_and_close_classification() -> None:
    """The API core is 'binance-api', has no subscriptions, and reads 1008 as a rate signal."""
    core = BinanceApiCore()
    assert core.name == "binance-api"
    assert core.initial_topics("wss://ws-api.binance.com:443/ws-api/v3") == ()
    assert core.classify_close(1008, "Too many requests") == RemoteClosed(
        1008, "Too many requests", venue_retryable=True
    )
    assert core.classify_close(1002, "").retryable is False
    with pytest.raises(VenueError):
        core.encode_subscribe(["btcusdt@trade"], "a", SendContext(0.0, 0.0))
