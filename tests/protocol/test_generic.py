"""Synchronous tests of the generic JSON test venue's client core."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from trio_venues._core import PlannedShutdown, Response, VenuePing, VenuePong
from trio_venues.errors import ConfigError, DecodeError, VenueError
from trio_venues.events import ErrorEvent, GapDetected, Message
from trio_venues.reasons import ServerRequested
from trio_venues.testing import BAD_JSON
from trio_venues.venues.generic import GenericJsonCore


def data(topic: str, seq: int, payload: Any = None) -> str:
    """A server data frame."""
    return orjson.dumps({"topic": topic, "seq": seq, "data": payload}).decode()


def test_data_message_is_decoded_with_topic_data_and_time() -> None:
    """A data frame becomes Message(topic, data, received_at)."""
    core = GenericJsonCore()
    out = core.decode(data("a", 1, {"p": "1.5"}), 12.5)
    assert out == [Message("a", {"p": "1.5"}, 12.5)]


def test_consecutive_sequence_numbers_emit_no_gap() -> None:
    """seq 1, 2, 3 on one topic and 7, 8 on another are gap-free."""
    core = GenericJsonCore()
    outs = [
        core.decode(data(t, s), 0.0) for t, s in [("a", 1), ("a", 2), ("b", 7), ("a", 3), ("b", 8)]
    ]
    assert all(len(o) == 1 and isinstance(o[0], Message) for o in outs)


def test_jump_emits_gap_before_the_message() -> None:
    """A jump from 2 to 5 yields GapDetected(topic, 3, 5), then the message."""
    core = GenericJsonCore()
    core.decode(data("a", 1), 0.0)
    core.decode(data("a", 2), 0.0)
    out = core.decode(data("a", 5, "x"), 1.0)
    assert out == [GapDetected("a", 3, 5), Message("a", "x", 1.0)]
    assert core.decode(data("a", 6), 0.0) == [Message("a", None, 0.0)]


def test_duplicate_emits_gap_and_still_delivers() -> None:
    """A repeated seq is reported (received < expected) and delivered."""
    core = GenericJsonCore()
    core.decode(data("a", 1), 0.0)
    core.decode(data("a", 2), 0.0)
    out = core.decode(data("a", 2, "dup"), 0.0)
    assert out == [GapDetected("a", 3, 2), Message("a", "dup", 0.0)]
    assert core.decode(data("a", 3), 0.0) == [Message("a", None, 0.0)]


def test_regression_emits_gap_then_tracks_from_the_new_number() -> None:
    """A seq going back is reported once; counting continues from it."""
    core = GenericJsonCore()
    for seq in (1, 2, 3, 4):
        core.decode(data("a", seq), 0.0)
    assert core.decode(data("a", 0), 0.0)[0] == GapDetected("a", 5, 0)
    assert core.decode(data("a", 1), 0.0) == [Message("a", None, 0.0)]


def test_first_message_of_a_topic_sets_the_baseline() -> None:
    """A topic's first seq (even 1000) is not a gap."""
    core = GenericJsonCore()
    assert core.decode(data("late", 1000), 0.0) == [Message("late", None, 0.0)]


def test_result_response() -> None:
    """{"id", "result"} becomes Response(id, result)."""
    out = GenericJsonCore().decode('{"id":7,"result":{"ok":true}}', 0.0)
    assert out == (Response(7, result={"ok": True}),)


def test_null_result_response() -> None:
    """A subscription ack (result null) is a Response with result None."""
    out = GenericJsonCore().decode('{"id":1,"result":null}', 0.0)
    assert out == (Response(1, result=None),)


def test_error_response_carries_a_venue_error() -> None:
    """{"id", "error": {code, msg}} becomes Response(id, error=VenueError(code, msg))."""
    (response,) = GenericJsonCore().decode(
        '{"id":3,"error":{"code":400,"msg":"unknown topic bad1"}}', 0.0
    )
    assert isinstance(response, Response)
    assert response.request_id == 3
    assert isinstance(response.error, VenueError)
    assert (response.error.code, response.error.message) == (400, "unknown topic bad1")


def test_pong_answers_our_venue_ping() -> None:
    """{"op": "pong", "id": 4} becomes VenuePong(b"4")."""
    assert GenericJsonCore().decode('{"op":"pong","id":4}', 0.0) == [VenuePong(b"4")]


def test_server_ping_needs_a_pong_reply() -> None:
    """{"op": "ping", "ts": 17} becomes VenuePing whose reply is the pong frame."""
    (ping,) = GenericJsonCore().decode('{"op":"ping","ts":17}', 0.0)
    assert isinstance(ping, VenuePing)
    assert ping.payload == b"17"
    assert isinstance(ping.reply, str)
    assert orjson.loads(ping.reply) == {"op": "pong", "ts": 17}


def test_shutdown_notice_is_a_planned_end() -> None:
    """{"op": "shutdown"} becomes PlannedShutdown(ServerRequested(msg)) without a deadline."""
    out = GenericJsonCore().decode('{"op":"shutdown","msg":"restart in 5s"}', 0.0)
    assert out == [PlannedShutdown(ServerRequested("restart in 5s"))]


def test_shutdown_notice_lead_and_scope() -> None:
    """ "in" sets the deadline from the receive time; "scope": "venue" names the service."""
    frame = '{"op":"shutdown","msg":"upgrade","in":60,"scope":"venue"}'
    out = GenericJsonCore().decode(frame, 12.5)
    assert out == [PlannedShutdown(ServerRequested("upgrade"), 72.5, this_connection=False)]


@pytest.mark.parametrize(
    "frame",
    [
        '{"op":"shutdown","in":"60"}',
        '{"op":"shutdown","in":-1}',
        '{"op":"shutdown","in":true}',
        '{"op":"shutdown","scope":"world"}',
    ],
)
def test_malformed_shutdown_notice_is_a_decode_error(frame: str) -> None:
    """A shutdown notice with a bad lead or scope raises DecodeError."""
    with pytest.raises(DecodeError):
        GenericJsonCore().decode(frame, 0.0)


def test_unsolicited_error_is_an_error_event() -> None:
    """{"op": "error"} becomes ErrorEvent(VenueError(code, msg))."""
    (event,) = GenericJsonCore().decode('{"op":"error","code":429,"msg":"slow down"}', 0.0)
    assert isinstance(event, ErrorEvent)
    assert isinstance(event.error, VenueError)
    assert (event.error.code, event.error.message) == (429, "slow down")


@pytest.mark.parametrize(
    "frame",
    [
        b'{"topic":"a","seq":1,"data":1}',
        '{"op":"teleport"}',
        '{"topic":"a","seq":true,"data":1}',
        '{"topic":7,"seq":1,"data":1}',
        '{"id":1}',
        '{"id":[1],"result":1}',
        '{"id":1,"error":"nope"}',
        '{"id":1,"error":{"code":"x","msg":"m"}}',
        '{"op":"error","code":1}',
    ],
)
def test_malformed_shapes_raise_decode_error(frame: str | bytes) -> None:
    """Binary frames, unknown ops and wrong field types raise DecodeError."""
    with pytest.raises(DecodeError):
        GenericJsonCore().decode(frame, 0.0)


@pytest.mark.parametrize("name", sorted(BAD_JSON))
def test_every_bad_json_sample_raises_decode_error(name: str) -> None:
    """Every hostile sample of testing.BAD_JSON is refused with DecodeError, never crashes."""
    with pytest.raises(DecodeError) as info:
        GenericJsonCore().decode(BAD_JSON[name], 0.0)
    assert len(info.value.raw) <= 1024


def test_subscribe_frame() -> None:
    """encode_subscribe builds {"op": "subscribe", "id", "args"}."""
    frame = GenericJsonCore().encode_subscribe(["a", "b"], 5)
    assert orjson.loads(frame) == {"op": "subscribe", "id": 5, "args": ["a", "b"]}


def test_unsubscribe_frame() -> None:
    """encode_unsubscribe builds {"op": "unsubscribe", "id", "args"}."""
    frame = GenericJsonCore().encode_unsubscribe(("a",), 6)
    assert orjson.loads(frame) == {"op": "unsubscribe", "id": 6, "args": ["a"]}


def test_request_frame() -> None:
    """encode_request builds {"op": "request", "id", "method", "params"}."""
    frame = GenericJsonCore().encode_request("echo", {"x": [1]}, 9)
    assert orjson.loads(frame) == {"op": "request", "id": 9, "method": "echo", "params": {"x": [1]}}


def test_venue_pings_count_ids_from_one() -> None:
    """venue_ping(now) builds {"op": "ping", "id": N}, N = 1, 2, ..."""
    core = GenericJsonCore(venue_ping_interval=5.0)
    frames = [core.venue_ping(float(t)) for t in range(3)]
    assert [orjson.loads(f) for f in frames] == [{"op": "ping", "id": n} for n in (1, 2, 3)]


def test_defaults_and_settings() -> None:
    """No venue ping by default, 50 topics per request; both are settable."""
    core = GenericJsonCore()
    assert core.limits is not None
    assert (core.name, core.venue_ping_interval, core.limits.max_topics_per_request) == (
        "generic",
        None,
        50,
    )
    core = GenericJsonCore(venue_ping_interval=2.5, max_topics_per_request=3)
    assert core.limits is not None
    assert (core.venue_ping_interval, core.limits.max_topics_per_request) == (2.5, 3)


@pytest.mark.parametrize("kwargs", [{"venue_ping_interval": 0}, {"max_topics_per_request": 0}])
def test_invalid_settings_raise_config_error(kwargs: dict[str, Any]) -> None:
    """A non-positive ping interval or topic limit is refused."""
    with pytest.raises(ConfigError):
        GenericJsonCore(**kwargs)


def test_request_ids_are_unique_per_core() -> None:
    """next_request_id counts from 1 on each core."""
    core = GenericJsonCore()
    assert [core.next_request_id() for _ in range(3)] == [1, 2, 3]


def test_initial_topics_come_from_the_query() -> None:
    """?topics=a,b (repeated or not) names the topics subscribed by the URL."""
    core = GenericJsonCore()
    assert core.initial_topics("ws://h/?topics=a,b&topics=c,a") == ("a", "b", "c")
    assert core.initial_topics("ws://h/") == ()


def test_a_snapshot_frame_restarts_its_topic_sequence() -> None:
    """A snapshot frame sets the topic's position without a gap; numbering goes on from it."""
    core = GenericJsonCore()
    core.decode(data("book.X", 4), 0.0)
    snapshot = orjson.dumps({"topic": "book.X", "seq": 9, "snapshot": True, "data": {}}).decode()
    assert [type(o) for o in core.decode(snapshot, 0.0)] == [Message]
    assert [type(o) for o in core.decode(data("book.X", 10), 0.0)] == [Message]


def test_connection_wide_sequence_spans_topics() -> None:
    """sequence="connection": one counter over every topic; a jump names the revealing topic."""
    core = GenericJsonCore(sequence="connection")
    outs = [core.decode(data(t, s), 0.0) for t, s in [("a", 1), ("b", 2), ("a", 3)]]
    assert all(len(o) == 1 for o in outs)
    assert core.decode(data("b", 6), 0.0)[0] == GapDetected("b", 4, 6)
    assert core.decode(data("a", 4), 0.0)[0] == GapDetected("a", 7, 4)


def test_the_url_picks_the_sequence_scope() -> None:
    """?sequence=connection selects one counter per connection; anything else per topic."""
    assert GenericJsonCore.sequence_of("ws://x/?topics=a&sequence=connection") == "connection"
    assert GenericJsonCore.sequence_of("ws://x/?topics=a") == "topic"
    with pytest.raises(ConfigError, match="sequence must be"):
        GenericJsonCore(sequence="venue")  # type: ignore[arg-type]
