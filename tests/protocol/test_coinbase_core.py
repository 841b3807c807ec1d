"""CoinbaseCore, sans-I/O: topics, a message per channel, JWTs, id-less acks, errors, sequences."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from trio_venues import Credentials
from trio_venues._core import EndConnection, Output, Response, SendContext, SendFrame
from trio_venues.errors import AuthenticationError, ConfigError, SubscriptionError
from trio_venues.events import ErrorEvent, GapDetected, Message
from trio_venues.reasons import HeartbeatTimeout
from trio_venues.venues.coinbase import (
    COINBASE_LIMITS,
    CoinbaseCore,
    HeartbeatsMessage,
    L2DataMessage,
    MarketTradesMessage,
    UnknownMessage,
    decode_client_request,
    parse_topic,
    topic,
    verify_jwt,
)

KEY_NAME = "organizations/org/apiKeys/key"
WALL = 1_788_746_278.0


def make_key() -> tuple[ec.EllipticCurvePrivateKey, Credentials]:
    """A fresh EC P-256 key and credentials holding its PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return key, Credentials(KEY_NAME, pem)


def ctx(now: float = 0.0, credentials: Credentials | None = None) -> SendContext:
    """A send context at monotonic ``now`` (wall clock WALL + now)."""
    return SendContext(now=now, wall_time=WALL + now, credentials=credentials)


def ack(seq: int, subscriptions: dict[str, list[str]]) -> str:
    """A cumulative ``subscriptions`` ack as Coinbase sends it (no client_id, no id)."""
    return json.dumps(
        {
            "channel": "subscriptions",
            "timestamp": "2026-09-07T23:37:22.278662782Z",
            "sequence_num": seq,
            "events": [{"subscriptions": subscriptions}],
        }
    )


def heartbeat(seq: int, counter: int) -> str:
    """A heartbeat message."""
    return json.dumps(
        {
            "channel": "heartbeats",
            "timestamp": "2026-09-07T23:37:22.675755362Z",
            "sequence_num": seq,
            "events": [
                {"current_time": "2026-09-07 23:37:22 +0000 UTC", "heartbeat_counter": counter}
            ],
        }
    )


def trades(seq: int, *products: str) -> str:
    """A market_trades update with one trade per product."""
    return json.dumps(
        {
            "channel": "market_trades",
            "timestamp": "2026-09-07T23:37:22.675755362Z",
            "sequence_num": seq,
            "events": [
                {
                    "type": "update",
                    "trades": [
                        {
                            "trade_id": str(i),
                            "product_id": product,
                            "price": "100.5",
                            "size": "1",
                            "side": "SELL",
                            "time": "2026-09-07T23:37:22.5Z",
                        }
                        for i, product in enumerate(products)
                    ],
                }
            ],
        }
    )


def l2(seq: int, *products: str) -> str:
    """An l2_data update with one event per product."""
    return json.dumps(
        {
            "channel": "l2_data",
            "timestamp": "2026-09-07T23:37:22.675755362Z",
            "sequence_num": seq,
            "events": [
                {
                    "type": "update",
                    "product_id": product,
                    "updates": [
                        {
                            "side": "bid",
                            "event_time": "2026-09-07T23:37:22.5Z",
                            "price_level": "10",
                            "new_quantity": "1",
                        }
                    ],
                }
                for product in products
            ],
        }
    )


def responses(outputs: Sequence[Output]) -> list[Response]:
    """The Responses among ``outputs``."""
    return [o for o in outputs if isinstance(o, Response)]


def opened(**options: Any) -> CoinbaseCore:
    """A core past on_open whose keepalive heartbeats subscription is acked."""
    core = CoinbaseCore(**options)
    core.on_open(ctx())
    core.decode(ack(0, {"heartbeats": ["heartbeats"]}), 0.0)
    return core


# -- topics ----------------------------------------------------------------------------


def test_topic_spelling() -> None:
    """Topics are "<channel>:<product_id>", or the bare channel for product-less channels."""
    assert topic("market_trades", "BTC-USD") == "market_trades:BTC-USD"
    assert topic("heartbeats") == "heartbeats"
    assert parse_topic("level2:ETH-USD") == ("level2", "ETH-USD")
    assert parse_topic("status") == ("status", None)
    assert parse_topic("user") == ("user", None)


@pytest.mark.parametrize(
    "bad", ["", ":BTC-USD", "level2:", "level2:a:b", "level 2:BTC-USD", "heartbeats:BTC-USD"]
)
def test_bad_topics_are_refused(bad: str) -> None:
    """Malformed topics and products on product-less channels are a ValueError."""
    with pytest.raises(ValueError, match=r"invalid|takes no product"):
        parse_topic(bad)


def test_split_topics_one_channel_per_message() -> None:
    """A request's topics go out as one subscribe per channel, in order of first appearance."""
    core = CoinbaseCore()
    batches = core.split_topics(
        "subscribe",
        ["level2:BTC-USD", "market_trades:BTC-USD", "level2:ETH-USD", "status", "level2:BTC-USD"],
    )
    assert batches == [
        ("level2:BTC-USD", "level2:ETH-USD"),
        ("market_trades:BTC-USD",),
        ("status",),
    ]


def test_subscribe_frame_matches_the_documented_request() -> None:
    """Without credentials the frame is the documented request minus the jwt."""
    core = CoinbaseCore()
    frame = core.encode_subscribe(["level2:ETH-USD", "level2:BTC-USD"], 1, ctx())
    assert json.loads(frame) == {
        "type": "subscribe",
        "product_ids": ["ETH-USD", "BTC-USD"],
        "channel": "level2",
    }
    assert json.loads(core.encode_unsubscribe(["status"], 2, ctx())) == {
        "type": "unsubscribe",
        "channel": "status",
    }


def test_encode_refuses_several_channels() -> None:
    """encode_subscribe takes one channel's topics (split_topics makes them so)."""
    with pytest.raises(ValueError, match="one channel"):
        CoinbaseCore().encode_subscribe(["level2:BTC-USD", "status"], 1, ctx())


def test_private_channel_needs_credentials() -> None:
    """user without credentials fails locally with AuthenticationError; nothing is sent."""
    with pytest.raises(AuthenticationError, match="needs a JWT"):
        CoinbaseCore(endpoint="user").encode_subscribe(["user"], 1, ctx())


# -- JWTs --------------------------------------------------------------------------------


def test_fresh_jwt_per_subscribe_from_the_context_wall_clock() -> None:
    """Each subscribe carries its own JWT, signed now; two minutes later another valid one."""
    key, credentials = make_key()
    core = CoinbaseCore()
    first = decode_client_request(core.encode_subscribe(["user"], 1, ctx(0.0, credentials)))
    second = decode_client_request(core.encode_subscribe(["user"], 2, ctx(120.0, credentials)))
    assert first.jwt is not None
    assert second.jwt is not None
    assert first.jwt != second.jwt
    _, claims1 = verify_jwt(first.jwt, key.public_key(), now=WALL)
    _, claims2 = verify_jwt(second.jwt, key.public_key(), now=WALL + 120)
    assert claims1["nbf"] == int(WALL)
    assert claims2["nbf"] == int(WALL) + 120
    assert claims1["sub"] == KEY_NAME


def test_keepalive_subscribe_carries_a_jwt_with_credentials() -> None:
    """on_open subscribes heartbeats at once, with a JWT when the connection has a key."""
    key, credentials = make_key()
    (frame,) = CoinbaseCore().on_open(ctx(0.0, credentials))
    assert isinstance(frame, SendFrame)
    assert frame.operation == "subscribe"
    assert frame.request_id is None
    assert frame.topics == ()
    request = decode_client_request(frame.payload)
    assert (request.type, request.channel, request.product_ids) == ("subscribe", "heartbeats", ())
    assert request.jwt is not None
    verify_jwt(request.jwt, key.public_key(), now=WALL)


# -- acks --------------------------------------------------------------------------------


def test_cumulative_ack_completes_the_request_it_shows_done() -> None:
    """An id-less ack completes a pending subscribe once every product is listed."""
    core = opened()
    core.encode_subscribe(["level2:BTC-USD", "level2:ETH-USD"], 7, ctx(1.0))
    assert responses(core.decode(ack(1, {"heartbeats": ["heartbeats"]}), 1.1)) == []
    (done,) = responses(
        core.decode(ack(2, {"heartbeats": ["heartbeats"], "level2": ["BTC-USD", "ETH-USD"]}), 1.2)
    )
    assert done.request_id == 7
    assert done.error is None


def test_two_overlapping_subscribes_in_flight() -> None:
    """Two subscribes of one channel in flight: each ack completes exactly the request it covers."""
    core = opened()
    core.encode_subscribe(["market_trades:BTC-USD", "market_trades:ETH-USD"], 1, ctx(1.0))
    core.encode_subscribe(["market_trades:ETH-USD", "market_trades:SOL-USD"], 2, ctx(1.0))
    first = responses(core.decode(ack(1, {"market_trades": ["BTC-USD", "ETH-USD"]}), 1.1))
    assert [r.request_id for r in first] == [1]
    second = responses(
        core.decode(ack(2, {"market_trades": ["BTC-USD", "ETH-USD", "SOL-USD"]}), 1.2)
    )
    assert [r.request_id for r in second] == [2]


def test_acks_arriving_out_of_order_of_requests() -> None:
    """If the venue answers the second request first, that one completes first."""
    core = opened()
    core.encode_subscribe(["ticker:BTC-USD"], 1, ctx(1.0))
    core.encode_subscribe(["candles:ETH-USD"], 2, ctx(1.0))
    assert [
        r.request_id for r in responses(core.decode(ack(1, {"candles": ["ETH-USD"]}), 1.1))
    ] == [2]
    both = {"candles": ["ETH-USD"], "ticker": ["BTC-USD"]}
    assert [r.request_id for r in responses(core.decode(ack(2, both), 1.2))] == [1]


def test_unsubscribe_is_done_when_the_products_are_gone() -> None:
    """An unsubscribe completes with the first ack that no longer lists its products."""
    core = opened()
    core.encode_unsubscribe(["level2:BTC-USD"], 3, ctx(1.0))
    assert responses(core.decode(ack(1, {"level2": ["BTC-USD", "ETH-USD"]}), 1.1)) == []
    (done,) = responses(core.decode(ack(2, {"level2": ["ETH-USD"]}), 1.2))
    assert done.request_id == 3


def test_request_whose_topics_never_appear_is_forgotten_after_the_ack_timeout() -> None:
    """A request never acked gets no Response; the core forgets it after ack_timeout."""
    core = opened(ack_timeout=10.0, heartbeat_timeout=None)
    core.encode_subscribe(["level2:NOPE-USD"], 5, ctx(1.0))
    assert core.next_timer() == pytest.approx(11.0)
    assert responses(core.decode(ack(1, {"level2": []}), 2.0)) == []
    assert core.on_timer(ctx(11.0)) == []
    # A later ack that lists the product answers nobody now.
    assert responses(core.decode(ack(2, {"level2": ["NOPE-USD"]}), 12.0)) == []


# -- errors --------------------------------------------------------------------------------


def test_error_fails_the_oldest_pending_request() -> None:
    """{"type":"error"} fails the oldest pending request when it names none."""
    core = opened()
    core.encode_subscribe(["level2:BTC-USD"], 1, ctx(1.0))
    core.encode_subscribe(["ticker:BTC-USD"], 2, ctx(1.0))
    (failed,) = responses(core.decode('{"type":"error","message":"failure"}', 1.1))
    assert failed.request_id == 1
    assert isinstance(failed.error, SubscriptionError)
    assert failed.error.topics == ("level2:BTC-USD",)


def test_error_naming_a_channel_fails_that_request() -> None:
    """An error that names a pending request's channel or product fails that one."""
    core = opened()
    core.encode_subscribe(["level2:BTC-USD"], 1, ctx(1.0))
    core.encode_subscribe(["candles:DOGE-USD"], 2, ctx(1.0))
    (failed,) = responses(core.decode('{"type":"error","message":"bad product DOGE-USD"}', 1.1))
    assert failed.request_id == 2


def test_authentication_failure_on_a_misspelt_channel() -> None:
    """An "authentication failure" for an unknown channel says it is probably misspelt."""
    core = opened()
    core.encode_subscribe(["heartbeat"], 4, ctx(1.0))
    (failed,) = responses(core.decode('{"type":"error","message":"authentication failure"}', 1.1))
    assert isinstance(failed.error, SubscriptionError)
    assert not isinstance(failed.error, AuthenticationError)
    assert "not a Coinbase channel" in failed.error.message
    assert "misspelt" in failed.error.message


def test_authentication_failure_on_a_public_channel_is_not_a_credentials_error() -> None:
    """On a public channel it is a SubscriptionError pointing at the channel name."""
    core = opened()
    core.encode_subscribe(["level2:BTC-USD"], 4, ctx(1.0))
    (failed,) = responses(core.decode('{"type":"error","message":"authentication failure"}', 1.1))
    assert isinstance(failed.error, SubscriptionError)
    assert not isinstance(failed.error, AuthenticationError)
    assert "not the credentials" in failed.error.message


def test_authentication_failure_on_a_public_channel_with_a_jwt_is_the_key() -> None:
    """With a JWT attached, the same answer on a public channel means the key was refused."""
    _, credentials = make_key()
    core = opened()
    core.encode_subscribe(["level2:BTC-USD"], 4, ctx(1.0, credentials))
    (failed,) = responses(core.decode('{"type":"error","message":"authentication failure"}', 1.1))
    assert isinstance(failed.error, AuthenticationError)


def test_authentication_failure_on_the_user_channel() -> None:
    """On user it is an AuthenticationError."""
    _, credentials = make_key()
    core = opened()
    core.encode_subscribe(["user"], 9, ctx(1.0, credentials))
    (failed,) = responses(core.decode('{"type":"error","message":"authentication failure"}', 1.1))
    assert isinstance(failed.error, AuthenticationError)


def test_error_with_nothing_pending_is_an_error_event() -> None:
    """An error that no request can own is reported as an ErrorEvent."""
    (event,) = opened().decode('{"type":"error","message":"something"}', 1.0)
    assert isinstance(event, ErrorEvent)


# -- sequence numbers -------------------------------------------------------------------------


def test_sequence_gap_on_the_connection() -> None:
    """A sequence_num jump on any channel: GapDetected naming the revealing message's topic."""
    core = opened()
    core.decode(trades(1, "BTC-USD"), 1.0)
    out = core.decode(l2(4, "ETH-USD"), 1.1)
    assert out[0] == GapDetected("level2:ETH-USD", 2, 4)
    assert isinstance(out[1], Message)
    assert out[1].topic == "level2:ETH-USD"
    assert core.decode(trades(5, "BTC-USD"), 1.2)[0].topic == "market_trades:BTC-USD"  # type: ignore[union-attr]


def test_lower_sequence_number_is_ignored() -> None:
    """A number at or below the last is ignored by the check; the message is still delivered."""
    core = opened()
    core.decode(trades(5, "BTC-USD"), 1.0)
    (message,) = core.decode(trades(3, "BTC-USD"), 1.1)
    assert isinstance(message, Message)
    (message,) = core.decode(trades(6, "BTC-USD"), 1.2)
    assert isinstance(message, Message)


def test_first_message_sets_the_sequence() -> None:
    """The first message of a connection starts the count wherever it is."""
    core = CoinbaseCore()
    assert not any(isinstance(o, GapDetected) for o in core.decode(trades(41, "BTC-USD"), 0.0))


# -- messages and topics ----------------------------------------------------------------------


def test_trades_of_several_products_are_split_per_topic() -> None:
    """A message with trades of two products becomes one Message per product topic."""
    core = opened()
    out = core.decode(trades(1, "BTC-USD", "ETH-USD", "BTC-USD"), 1.0)
    assert [m.topic for m in out if isinstance(m, Message)] == [
        "market_trades:BTC-USD",
        "market_trades:ETH-USD",
    ]
    btc = out[0]
    assert isinstance(btc, Message)
    assert isinstance(btc.data, MarketTradesMessage)
    assert [t.trade_id for t in btc.data.events[0].trades] == ["0", "2"]
    assert btc.data.sequence_num == 1


def test_l2_events_of_several_products_are_split() -> None:
    """l2_data with events of two products becomes one Message per level2 topic."""
    out = opened().decode(l2(1, "BTC-USD", "ETH-USD"), 1.0)
    assert [m.topic for m in out if isinstance(m, Message)] == ["level2:BTC-USD", "level2:ETH-USD"]
    assert all(isinstance(m, Message) and isinstance(m.data, L2DataMessage) for m in out)


def test_unknown_message_is_delivered() -> None:
    """A message of an unknown channel arrives as UnknownMessage."""
    (message,) = opened().decode('{"channel": "auctions", "events": []}', 1.0)
    assert isinstance(message, Message)
    assert isinstance(message.data, UnknownMessage)
    assert message.topic == "auctions"


# -- heartbeats ----------------------------------------------------------------------------


def test_keepalive_heartbeats_are_not_delivered() -> None:
    """The core's own heartbeats stay inside; the user's subscription makes them visible."""
    core = opened()
    assert core.decode(heartbeat(1, 100), 1.0) == []
    core.encode_subscribe(["heartbeats"], 3, ctx(1.5))
    core.decode(ack(2, {"heartbeats": ["heartbeats"]}), 1.6)
    (message,) = core.decode(heartbeat(3, 101), 2.0)
    assert isinstance(message, Message)
    assert message.topic == "heartbeats"
    assert isinstance(message.data, HeartbeatsMessage)


def test_heartbeat_counter_jump_is_a_gap() -> None:
    """A heartbeat counter that skips is GapDetected on the heartbeats topic."""
    core = opened()
    core.decode(heartbeat(1, 100), 1.0)
    out = core.decode(heartbeat(2, 103), 2.0)
    assert out == [GapDetected("heartbeats", 101, 103)]


def test_silent_heartbeats_end_the_connection() -> None:
    """No heartbeat for heartbeat_timeout seconds ends with HeartbeatTimeout(kind="data")."""
    core = opened(heartbeat_timeout=5.0)
    core.decode(heartbeat(1, 100), 1.0)
    assert core.next_timer() == pytest.approx(6.0)
    assert core.on_timer(ctx(5.9)) == []
    (end,) = core.on_timer(ctx(6.0))
    assert isinstance(end, EndConnection)
    assert end.reason == HeartbeatTimeout(5.0, "data")


def test_without_heartbeats_the_five_second_rule_is_still_kept() -> None:
    """heartbeats=False: nothing at open; heartbeats subscribed 3 s in if nothing else was."""
    core = CoinbaseCore(heartbeats=False)
    assert core.on_open(ctx(0.0)) == ()
    assert core.next_timer() == pytest.approx(3.0)
    (frame,) = core.on_timer(ctx(3.0))
    assert isinstance(frame, SendFrame)
    assert decode_client_request(frame.payload).channel == "heartbeats"


def test_without_heartbeats_a_user_subscribe_in_time_is_enough() -> None:
    """heartbeats=False and a subscribe within 3 s: the core sends nothing of its own."""
    core = CoinbaseCore(heartbeats=False)
    core.on_open(ctx(0.0))
    core.encode_subscribe(["market_trades:BTC-USD"], 1, ctx(1.0))
    assert core.on_timer(ctx(3.0)) == []


# -- configuration and limits ----------------------------------------------------------------


def test_bad_options() -> None:
    """Invalid core options are ConfigErrors."""
    with pytest.raises(ConfigError):
        CoinbaseCore(endpoint="private")
    with pytest.raises(ConfigError):
        CoinbaseCore(heartbeat_timeout=0)


def test_limits_are_coinbases() -> None:
    """8 connections/s and 8 messages/s per IP, shared by the process."""
    rules = {(r.kind, r.limit, r.window, r.scope) for r in COINBASE_LIMITS.rules}
    assert ("connections", 8.0, 1.0, "process") in rules
    assert ("messages", 8.0, 1.0, "process") in rules
    assert CoinbaseCore().limits is COINBASE_LIMITS
