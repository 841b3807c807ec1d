"""OkxCore, synchronously: acks merged per request, login, keepalive timers, gaps, close codes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from trio_venues._core import (
    EndConnection,
    PlannedShutdown,
    Response,
    SendContext,
    SendFrame,
    VenuePong,
)
from trio_venues.credentials import Credentials
from trio_venues.errors import (
    AuthenticationError,
    ConfigError,
    DecodeError,
    SubscriptionError,
    UnexpectedResponse,
    VenueError,
)
from trio_venues.events import ErrorEvent, GapDetected, Message
from trio_venues.reasons import (
    AuthenticationFailed,
    HeartbeatTimeout,
    RemoteClosed,
    ServerRequested,
    SlowConsumer,
)
from trio_venues.venues.okx import (
    ChannelConnCount,
    ChannelConnCountError,
    Notice,
    OkxCore,
    OrderResult,
    Trade,
    classify_okx_close,
    decode_request,
    login_signature,
    okx_url,
)

DATA = Path(__file__).parent / "data" / "okx"
VECTOR = json.loads((DATA / "login_signature_vector_computed.json").read_text())
CREDS = Credentials("my-key", VECTOR["secretKey"], "my-phrase")


def ctx(now: float = 0.0, wall_time: float = 1538054050.0, credentials: Any = None) -> SendContext:
    return SendContext(now=now, wall_time=wall_time, credentials=credentials)


def sample(name: str) -> str:
    return (DATA / name).read_text()


def frame(obj: dict[str, Any]) -> str:
    return json.dumps(obj)


def ack(op: str, arg: dict[str, str], rid: str | None) -> str:
    obj: dict[str, Any] = {"event": op, "arg": arg, "connId": "c1"}
    if rid is not None:
        obj["id"] = rid
    return frame(obj)


# -- subscribe and acks ----------------------------------------------------------------


def test_subscribe_frame_matches_the_sample() -> None:
    """encode_subscribe writes the sample request (id, op, one object per topic)."""
    core = OkxCore()
    sent = core.encode_subscribe(["tickers:BTC-USDT"], "1512", ctx())
    assert json.loads(sent) == json.loads(sample("subscribe_request.json"))


def test_per_argument_acks_merge_into_one_response() -> None:
    """Two args, two acks: one Response after the second, listing both topics."""
    core = OkxCore()
    core.encode_subscribe(["trades:BTC-USDT", "trades:ETH-USDT"], "7", ctx())
    assert core.decode(ack("subscribe", {"channel": "trades", "instId": "ETH-USDT"}, "7"), 1) == ()
    (response,) = core.decode(ack("subscribe", {"channel": "trades", "instId": "BTC-USDT"}, "7"), 2)
    assert response == Response("7", accepted=("trades:ETH-USDT", "trades:BTC-USDT"))


def test_acks_without_id_match_by_argument() -> None:
    """The older id-less acks complete the request that asked for the argument."""
    core = OkxCore()
    core.encode_subscribe(["tickers:BTC-USDT"], "3", ctx())
    (response,) = core.decode(sample("unsubscribe_ack.json").replace("unsubscribe", "subscribe"), 1)
    assert response == Response("3", accepted=("tickers:BTC-USDT",))


def test_unsubscribe_ack_sample_completes_the_unsubscribe() -> None:
    """The unsubscribe ack sample answers an unsubscribe of tickers:BTC-USDT."""
    core = OkxCore()
    sent = core.encode_unsubscribe(["tickers:BTC-USDT"], "9", ctx())
    request = json.loads(sample("unsubscribe_request.json"))
    assert json.loads(sent) == {**request, "id": "9"}
    assert core.decode(sample("unsubscribe_ack.json"), 1) == (
        Response("9", accepted=("tickers:BTC-USDT",)),
    )


def test_error_naming_one_argument_refuses_only_that_topic() -> None:
    """An error whose message names one argument refuses it; the other is still awaited."""
    core = OkxCore()
    core.encode_subscribe(["trades:BTC-USDT", "trades:NOPE-USDT"], "4", ctx())
    error = {
        "event": "error",
        "id": "4",
        "code": "60018",
        "msg": "Wrong URL or channel:trades,instId:NOPE-USDT doesn't exist.",
    }
    assert core.decode(frame(error), 1) == ()
    (response,) = core.decode(ack("subscribe", {"channel": "trades", "instId": "BTC-USDT"}, "4"), 2)
    assert isinstance(response, Response)
    assert response.accepted == ("trades:BTC-USDT",)
    ((topic, refusal),) = response.refused
    assert topic == "trades:NOPE-USDT"
    assert isinstance(refusal, SubscriptionError)
    assert refusal.code == "60018"


def test_error_naming_no_argument_refuses_every_unanswered_topic() -> None:
    """The sample error (60012, invalid request) refuses the whole request."""
    core = OkxCore()
    core.encode_subscribe(["books:BTC-USDT", "books:ETH-USDT"], "1512", ctx())
    (response,) = core.decode(sample("error.json"), 1)
    assert isinstance(response, Response)
    assert response.accepted == ()
    assert [t for t, _ in response.refused] == ["books:BTC-USDT", "books:ETH-USDT"]
    assert response.error is not None
    assert response.error.code == "60012"


def test_late_ack_is_reported_not_lost() -> None:
    """An ack for an answered request becomes a Response the shell reports as late."""
    core = OkxCore()
    out = core.decode(ack("subscribe", {"channel": "trades", "instId": "X-Y"}, "99"), 1)
    assert out == (Response("99", accepted=("trades:X-Y",)),)
    (event,) = core.decode(ack("subscribe", {"channel": "trades", "instId": "X-Y"}, None), 2)
    assert isinstance(event, ErrorEvent)
    assert isinstance(event.error, UnexpectedResponse)


def test_split_topics_keeps_requests_under_64_kb() -> None:
    """Thousands of topics are split so each request's args stay within 64 KB."""
    core = OkxCore()
    topics = [f"books:INST{i:05d}-USDT-SWAP" for i in range(3000)]
    batches = core.split_topics("subscribe", topics)
    assert len(batches) > 1
    assert [t for batch in batches for t in batch] == topics
    for index, batch in enumerate(batches):
        sent = core.encode_subscribe(batch, str(index + 1), ctx())
        assert len(sent.encode()) <= 64 * 1024


def test_bad_topic_and_bad_id_are_refused_locally() -> None:
    """A misspelt topic or an id OKX would refuse raises before anything is sent."""
    core = OkxCore()
    with pytest.raises(ValueError, match="spelt"):
        core.encode_subscribe(["trades:instId=BTC-USDT"], "1", ctx())
    with pytest.raises(ValueError, match="32 letters"):
        core.encode_subscribe(["trades:BTC-USDT"], "not-alnum", ctx())
    with pytest.raises(ValueError, match="login"):
        core.encode_subscribe(["orders:SPOT"], "1", ctx())


# -- data --------------------------------------------------------------------------------


def test_trade_push_becomes_a_message_with_the_topic() -> None:
    """A trade push is Message("trades:BTC-USDT", Trade, received_at)."""
    (message,) = OkxCore().decode(sample("trade.json"), 5.0)
    assert isinstance(message, Message)
    assert message.topic == "trades:BTC-USDT"
    assert message.received_at == 5.0
    assert isinstance(message.data, Trade)
    assert message.data.price == Decimal("42219.9")


def test_private_push_topic_leaves_uid_out() -> None:
    """orders pushes carry uid; their topic is still orders:SPOT."""
    push = {
        "arg": {"channel": "orders", "instType": "SPOT", "uid": "1"},
        "data": [],
    }
    assert OkxCore("private").decode(frame(push), 1) == []


def _book(action: str, seq: int, prev: int, bids: Any = ()) -> str:
    return frame(
        {
            "arg": {"channel": "books", "instId": "BTC-USDT"},
            "action": action,
            "data": [
                {
                    "asks": [],
                    "bids": [list(b) for b in bids],
                    "ts": "1",
                    "checksum": 0,
                    "seqId": seq,
                    "prevSeqId": prev,
                }
            ],
        }
    )


def test_book_chain_without_gap() -> None:
    """Snapshot, update, keep-alive (prev == seq) and a reset (seq < prev) are all in order."""
    core = OkxCore()
    frames = [
        _book("snapshot", 10, -1),
        _book("update", 15, 10),
        _book("update", 15, 15),
        _book("update", 3, 15),
        _book("update", 4, 3),
    ]
    for text in frames:
        out = core.decode(text, 1)
        assert [type(o) for o in out] == [Message]


def test_book_gap_is_reported_before_the_message() -> None:
    """An update whose prevSeqId is not the last seqId is preceded by GapDetected."""
    core = OkxCore()
    core.decode(_book("snapshot", 10, -1), 1)
    gap, message = core.decode(_book("update", 30, 20), 2)
    assert gap == GapDetected("books:BTC-USDT", 10, 20)
    assert isinstance(message, Message)
    # A new snapshot starts a new chain.
    assert [type(o) for o in core.decode(_book("snapshot", 40, -1), 3)] == [Message]


def test_unknown_channel_push_keeps_its_topic() -> None:
    """A push of an unknown channel is a Message of UnknownMessage under its topic."""
    (message,) = OkxCore().decode(
        frame({"arg": {"channel": "new-thing", "instId": "A-B"}, "data": [{}]}), 1
    )
    assert isinstance(message, Message)
    assert message.topic == "new-thing:A-B"


def test_binary_frame_is_a_decode_error() -> None:
    """OKX sends text; a binary frame is a DecodeError."""
    with pytest.raises(DecodeError):
        OkxCore().decode(b"{}", 1)


# -- notices and counts --------------------------------------------------------------------


def test_64008_is_a_planned_end_60_seconds_ahead() -> None:
    """The upgrade notice is delivered, then a planned end of this connection 60 s later."""
    core = OkxCore()
    core.on_open(SendContext(0.0, 0.0))
    message, end = core.decode(sample("notice_64008.json"), 1)
    assert isinstance(message, Message)
    assert isinstance(message.data, Notice)
    assert isinstance(end, PlannedShutdown)
    assert end.deadline == 61
    assert end.this_connection
    assert isinstance(end.reason, ServerRequested)
    assert end.reason.retryable
    # The keepalive goes on, for a connection kept open until OKX closes it.
    assert core.next_timer() == 1 + core.ping_after


def test_channel_conn_count_events() -> None:
    """channel-conn-count is a Message; its error a Message and an ErrorEvent naming topics."""
    core = OkxCore("private")
    core.encode_subscribe(["orders:SPOT"], "1", ctx())
    core.decode(ack("subscribe", {"channel": "orders", "instType": "SPOT"}, "1"), 1)
    (count,) = core.decode(sample("channel_conn_count.json"), 2)
    assert isinstance(count, Message)
    assert count.data == ChannelConnCount("orders", 2, "abcd1234")
    message, event = core.decode(sample("channel_conn_count_error.json"), 3)
    assert isinstance(message, Message)
    assert isinstance(message.data, ChannelConnCountError)
    assert isinstance(event, ErrorEvent)
    assert isinstance(event.error, SubscriptionError)
    assert event.error.topics == ("orders:SPOT",)


def test_error_without_pending_request_is_an_error_event() -> None:
    """An error nobody waits for is an ErrorEvent with the string code."""
    (event,) = OkxCore().decode(frame({"event": "error", "code": "64007", "msg": "x"}), 1)
    assert isinstance(event, ErrorEvent)
    assert isinstance(event.error, VenueError)
    assert event.error.code == "64007"
    assert event.error.retryable


# -- login -----------------------------------------------------------------------------------


def test_login_frame_is_signed_with_the_documented_rule() -> None:
    """The private endpoint logs in with a signature that reproduces the vector."""
    core = OkxCore("private")
    sent = json.loads(core.encode_login("1", ctx(credentials=CREDS)) or "")
    (args,) = sent["args"]
    assert sent["op"] == "login"
    assert args == {
        "apiKey": "my-key",
        "passphrase": "my-phrase",
        "timestamp": VECTOR["timestamp"],
        "sign": VECTOR["sign"],
    }
    assert login_signature(VECTOR["secretKey"], VECTOR["timestamp"]) == VECTOR["sign"]


def test_login_only_where_needed() -> None:
    """Public never logs in; business only with credentials; private needs them."""
    assert OkxCore("public").encode_login("1", ctx(credentials=CREDS)) is None
    assert OkxCore("business").encode_login("1", ctx()) is None
    assert OkxCore("business").encode_login("1", ctx(credentials=CREDS)) is not None
    with pytest.raises(ConfigError):
        OkxCore("private").encode_login("1", ctx())
    with pytest.raises(AuthenticationError, match="passphrase"):
        OkxCore("private").encode_login("1", ctx(credentials=Credentials("k", "s")))


def test_login_ack_answers_the_login() -> None:
    """The login ack sample is the log-on's successful Response."""
    core = OkxCore("private")
    core.encode_login("L", ctx(credentials=CREDS))
    assert core.decode(sample("login_ack.json"), 1) == (
        Response("L", result={"connId": "a4d3ae55"}),
    )


@pytest.mark.parametrize(
    "code", ["60004", "60005", "60006", "60007", "60009", "60024", "60031", "60032"]
)
def test_login_failure_codes_are_authentication_errors(code: str) -> None:
    """Each documented login failure code answers the login with AuthenticationError."""
    core = OkxCore("private")
    core.encode_login("L", ctx(credentials=CREDS))
    error = json.loads(sample("login_error.json")) | {"code": code}
    (response,) = core.decode(frame(error), 1)
    assert isinstance(response, Response)
    assert isinstance(response.error, AuthenticationError)
    assert response.error.code == code


def test_secrets_never_in_core_repr() -> None:
    """Neither the core nor the Credentials show the secret or passphrase."""
    core = OkxCore("private")
    core.encode_login("L", ctx(credentials=CREDS))
    for text in (repr(core), repr(CREDS), str(CREDS)):
        assert VECTOR["secretKey"] not in text
        assert "my-phrase" not in text


# -- order entry -------------------------------------------------------------------------------


def test_order_request_and_reply() -> None:
    """An order goes out with the id; its reply with that id answers it."""
    core = OkxCore("private")
    sent = json.loads(
        core.encode_request(
            "order",
            {
                "instId": "BTC-USDT",
                "side": "buy",
                "ordType": "limit",
                "px": Decimal("1.50"),
                "sz": "2",
                "tdMode": "cash",
            },
            "12",
            ctx(),
        )
    )
    assert sent == {
        "id": "12",
        "op": "order",
        "args": [
            {
                "instId": "BTC-USDT",
                "side": "buy",
                "ordType": "limit",
                "px": "1.50",
                "sz": "2",
                "tdMode": "cash",
            }
        ],
    }
    reply = {
        "id": "12",
        "op": "order",
        "code": "0",
        "msg": "",
        "data": [{"ordId": "5", "clOrdId": "", "tag": "", "ts": "1", "sCode": "0", "sMsg": ""}],
    }
    assert core.decode(frame(reply), 1) == (
        Response("12", result=(OrderResult("0", ord_id="5", ts=1),)),
    )


def test_failed_order_is_a_venue_error_with_s_code() -> None:
    """code "1" with one failed order answers with VenueError(sCode, sMsg)."""
    core = OkxCore("private")
    core.encode_request("cancel-order", {"instId": "A-B", "ordId": "1"}, "3", ctx())
    reply = {
        "id": "3",
        "op": "cancel-order",
        "code": "1",
        "msg": "",
        "data": [{"ordId": "1", "sCode": "51400", "sMsg": "Cancellation failed"}],
    }
    (response,) = core.decode(frame(reply), 1)
    assert isinstance(response, Response)
    assert isinstance(response.error, VenueError)
    assert (response.error.code, response.error.message) == ("51400", "Cancellation failed")


def test_order_entry_refuses_floats_and_public_endpoint() -> None:
    """Floats never go out as prices; order entry is on the private endpoint only."""
    with pytest.raises(TypeError, match="float"):
        OkxCore("private").encode_request("order", {"px": 1.5}, "1", ctx())
    with pytest.raises(ValueError, match="private"):
        OkxCore("public").encode_request("order", {"px": "1"}, "1", ctx())
    with pytest.raises(ValueError, match="unknown OKX operation"):
        OkxCore("private").encode_request("withdraw", {}, "1", ctx())


# -- keepalive ---------------------------------------------------------------------------------


def test_ping_after_silence_then_heartbeat_timeout() -> None:
    """Silence for ping_after sends "ping"; no pong within pong_timeout ends the connection."""
    core = OkxCore(ping_after=20.0, pong_timeout=8.0)
    core.on_open(ctx(now=100.0))
    assert core.next_timer() == 120.0
    core.decode(sample("trade.json"), 110.0)
    assert core.on_timer(ctx(now=120.0)) == ()
    assert core.next_timer() == 130.0
    assert core.on_timer(ctx(now=130.0)) == (SendFrame("ping", operation="ping"),)
    assert core.next_timer() == 138.0
    (end,) = core.on_timer(ctx(now=138.0))
    assert isinstance(end, EndConnection)
    assert end.reason == HeartbeatTimeout(28.0, "venue")


def test_pong_clears_the_ping() -> None:
    """The text pong answers the ping: VenuePong, and the next ping waits for silence again."""
    core = OkxCore(ping_after=20.0, pong_timeout=8.0)
    core.on_open(ctx(now=0.0))
    core.on_timer(ctx(now=20.0))
    assert core.decode("pong", 21.0) == (VenuePong(b"pong"),)
    assert core.next_timer() == 41.0


@pytest.mark.parametrize("bad", [0, 30, 31])
def test_ping_after_must_be_below_30s(bad: float) -> None:
    """OKX closes after 30 s of silence, so ping_after must be shorter."""
    with pytest.raises(ValueError, match="ping_after"):
        OkxCore(ping_after=bad)


# -- close codes and urls ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        (4001, AuthenticationFailed, False),
        (4002, RemoteClosed, False),
        (4003, RemoteClosed, False),
        (4004, HeartbeatTimeout, True),
        (4005, SlowConsumer, True),
        (4006, RemoteClosed, True),
        (4007, AuthenticationFailed, False),
        (4008, RemoteClosed, False),
        (4009, RemoteClosed, False),
        (1000, RemoteClosed, True),
    ],
)
def test_close_codes(code: int, kind: type, retryable: bool) -> None:
    """Each OKX close code maps to its reason and retry classification."""
    reason = classify_okx_close(code, "x")
    assert isinstance(reason, kind)
    assert reason.retryable is retryable


def test_okx_url_host_and_port() -> None:
    """okx_url builds the endpoints with a configurable host and port."""
    assert okx_url() == "wss://ws.okx.com:8443/ws/v5/public"
    assert okx_url("business", port=443) == "wss://ws.okx.com:443/ws/v5/business"
    assert okx_url("private", port=None) == "wss://ws.okx.com/ws/v5/private"
    assert okx_url("public", demo=True) == "wss://wspap.okx.com:8443/ws/v5/public"
    with pytest.raises(ValueError, match="endpoint"):
        okx_url("spot")


def test_decode_request_parses_client_frames() -> None:
    """The fake's request parser reads the sample requests."""
    request = decode_request(sample("subscribe_request.json"))
    assert (request.op, request.request_id) == ("subscribe", "1512")
    assert request.args == ({"channel": "tickers", "instId": "BTC-USDT"},)
    login = decode_request(sample("login_request.json"))
    assert login.op == "login"
    assert login.request_id is None
    with pytest.raises(DecodeError):
        decode_request('{"op": 1}')
