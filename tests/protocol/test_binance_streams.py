"""BinanceSpotCore: market-stream frames in, typed outputs out; request frames; URLs; closes."""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_venues._core import PlannedShutdown, Response
from trio_venues.errors import DecodeError, VenueError
from trio_venues.events import ErrorEvent, Message
from trio_venues.reasons import RemoteClosed, ServerRequested
from trio_venues.venues.binance import (
    STREAM_URL,
    BinanceSpotCore,
    DepthUpdate,
    Kline,
    MiniTicker,
    PartialDepth,
    RollingWindowTicker,
    Ticker,
    Trade,
    UnknownMessage,
    agg_trades_topic,
    all_mini_tickers_topic,
    all_tickers_topic,
    avg_price_topic,
    book_ticker_topic,
    depth_topic,
    klines_topic,
    market_event_from_wire,
    mini_ticker_topic,
    parse_stream_url,
    ticker_topic,
    trades_topic,
)
from trio_venues.venues.binance._protocol import (
    MAX_TOPICS_PER_REQUEST,
    StreamRequest,
    decode_stream_request,
    encode_combined,
    encode_server_shutdown,
    encode_stream_error,
    encode_stream_result,
    validate_stream_name,
)

DATA = Path(__file__).parent / "data" / "binance"
# The shared originals live beside the repository (../shared), absent in a fresh clone.
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "venues" / "samples" / "binance"


def text(name: str) -> str:
    """The raw text of a recorded sample, as it would arrive in a text frame."""
    return (DATA / f"{name}.json").read_text(encoding="utf-8")


def sample(name: str) -> Any:
    """The decoded JSON of a recorded sample."""
    return json.loads(text(name))


def only(outputs: Any) -> Any:
    """The single output of a decode call."""
    assert len(outputs) == 1, outputs
    return outputs[0]


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/venues/samples/binance is not present")
def test_the_test_copies_of_the_samples_match_the_shared_originals() -> None:
    """tests/protocol/data/binance holds exact copies of the shared Binance samples."""
    originals = sorted(p.name for p in SHARED.glob("*.json"))
    assert originals == sorted(p.name for p in DATA.glob("*.json"))
    for name in originals:
        assert (DATA / name).read_bytes() == (SHARED / name).read_bytes(), name


# -- market payloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stream"),
    [
        ("trade", "bnbbtc@trade"),
        ("agg_trade", "bnbbtc@aggTrade"),
        ("depth_update", "bnbbtc@depth@100ms"),
        ("partial_depth", "bnbbtc@depth5@100ms"),
        ("book_ticker", "bnbusdt@bookTicker"),
        ("kline", "bnbbtc@kline_1m"),
        ("ticker", "bnbbtc@ticker"),
        ("mini_ticker", "bnbbtc@miniTicker"),
    ],
)
def test_every_market_sample_decodes_from_a_combined_frame(name: str, stream: str) -> None:
    """A combined frame becomes Message(stream, typed payload, received_at)."""
    frame = f'{{"stream":"{stream}","data":{text(name)}}}'
    message = only(BinanceSpotCore().decode(frame, 12.5))
    assert message == Message(stream, market_event_from_wire(sample(name)), 12.5)
    assert not isinstance(message.data, UnknownMessage)


def test_trade_frame_gives_the_exact_trade() -> None:
    """The trade sample in a combined frame carries the exact Trade fields."""
    frame = encode_combined("bnbbtc@trade", sample("trade"))
    assert only(BinanceSpotCore().decode(frame, 1.0)) == Message(
        "bnbbtc@trade",
        Trade(
            "BNBBTC", 12345, Decimal("0.001"), Decimal("100"), 1672515782136, 1672515782136, True
        ),
        1.0,
    )


def test_kline_streams_with_a_timezone_and_one_second_bars_decode() -> None:
    """'@kline_1m@+08:00' keeps its full name as topic; '1s' bars decode too."""
    core = BinanceSpotCore()
    tz_frame = encode_combined("bnbbtc@kline_1m@+08:00", sample("kline"))
    message = only(core.decode(tz_frame, 0.0))
    assert message.topic == "bnbbtc@kline_1m@+08:00"
    assert isinstance(message.data, Kline)
    one_second = sample("kline")
    one_second["k"]["i"] = "1s"
    message = only(core.decode(encode_combined("bnbbtc@kline_1s", one_second), 0.0))
    assert message.data.bar.interval == "1s"


def test_all_market_arrays_decode_to_tuples() -> None:
    """'!ticker@arr', '!miniTicker@arr' and '!ticker_1h@arr' frames carry tuples."""
    core = BinanceSpotCore()
    tickers = only(core.decode(encode_combined("!ticker@arr", [sample("ticker")] * 2), 0.0))
    assert tickers.topic == "!ticker@arr"
    assert [type(t) for t in tickers.data] == [Ticker, Ticker]
    minis = only(core.decode(encode_combined("!miniTicker@arr", [sample("mini_ticker")]), 0.0))
    assert [type(t) for t in minis.data] == [MiniTicker]
    rolling = {**sample("ticker"), "e": "1hTicker"}
    windows = only(core.decode(encode_combined("!ticker_1h@arr", [rolling]), 0.0))
    assert isinstance(windows.data[0], RollingWindowTicker)
    assert windows.data[0].window == "1h"
    empty = only(core.decode('{"stream":"!miniTicker@arr","data":[]}', 0.0))
    assert empty == Message("!miniTicker@arr", (), 0.0)


def test_unknown_streams_are_delivered_as_unknown_messages() -> None:
    """A stream type this version does not know arrives as UnknownMessage, not an error."""
    payload = {"e": "referencePrice", "E": 1, "s": "BTCUSDT", "r": "1.0"}
    message = only(
        BinanceSpotCore().decode(encode_combined("btcusdt@referencePrice", payload), 3.0)
    )
    assert message == Message("btcusdt@referencePrice", UnknownMessage(payload), 3.0)


def test_raw_stream_payloads_take_the_url_stream_as_topic() -> None:
    """On /ws/<stream>, payloads have no stream name: the URL's stream is the topic."""
    core = BinanceSpotCore("wss://stream.binance.com:9443/ws/bnbbtc@depth@100ms")
    depth = only(core.decode(text("depth_update"), 2.0))
    assert depth.topic == "bnbbtc@depth@100ms"
    assert isinstance(depth.data, DepthUpdate)
    partial = BinanceSpotCore("wss://stream.binance.com:9443/ws/bnbbtc@depth10")
    assert only(partial.decode(text("partial_depth"), 0.0)).topic == "bnbbtc@depth10"
    trades = BinanceSpotCore("wss://stream.binance.com/ws/bnbbtc@trade")
    assert only(trades.decode(text("trade"), 0.0)).topic == "bnbbtc@trade"


def test_raw_payloads_of_other_streams_get_a_derived_topic() -> None:
    """A raw payload not from the URL's stream is named from its own fields."""
    core = BinanceSpotCore("wss://stream.binance.com:9443/ws/ethbtc@trade")
    assert only(core.decode(text("trade"), 0.0)).topic == "bnbbtc@trade"
    assert only(core.decode(text("agg_trade"), 0.0)).topic == "bnbbtc@aggTrade"
    assert only(core.decode(text("book_ticker"), 0.0)).topic == "bnbusdt@bookTicker"
    assert only(core.decode(text("kline"), 0.0)).topic == "bnbbtc@kline_1m"
    assert only(core.decode(text("ticker"), 0.0)).topic == "bnbbtc@ticker"
    assert only(core.decode(text("mini_ticker"), 0.0)).topic == "bnbbtc@miniTicker"
    assert only(core.decode(json.dumps([sample("ticker")]), 0.0)).topic == "!ticker@arr"
    assert only(core.decode(text("partial_depth"), 0.0)).topic == "ethbtc@trade"
    unknown_url = BinanceSpotCore(STREAM_URL)
    message = only(unknown_url.decode(text("partial_depth"), 0.0))
    assert message.topic is None
    assert isinstance(message.data, PartialDepth)


# -- responses, errors, notices ------------------------------------------------------------


def test_acks_and_list_results_become_responses() -> None:
    """{"result": null, "id"} and {"result": [...], "id"} become Response outputs."""
    core = BinanceSpotCore()
    assert only(core.decode(text("subscribe_ack"), 0.0)) == Response(1, None)
    assert only(core.decode(text("unsubscribe_ack"), 0.0)) == Response(312, None)
    assert only(core.decode(text("list_subscriptions_ack"), 0.0)) == Response(
        3, ["btcusdt@aggTrade"]
    )
    assert only(core.decode('{"result":true,"id":"abc"}', 0.0)) == Response("abc", True)


def test_stream_errors_become_non_retryable_venue_errors() -> None:
    """{"error": {"code", "msg"}, "id"} is a Response whose error is a non-retryable VenueError."""
    response = only(BinanceSpotCore().decode(text("error_stream_invalid_stream"), 0.0))
    assert isinstance(response, Response)
    assert response.request_id == 2
    assert response.result is None
    error = response.error
    assert type(error) is VenueError
    assert (error.code, error.message, error.retryable) == (
        2,
        "Invalid request: invalid stream",
        False,
    )


def test_bare_error_objects_and_null_ids_are_handled() -> None:
    """The docs' bare {"code","msg","id"} form is an error too; a null id gives an ErrorEvent."""
    core = BinanceSpotCore()
    bare = only(core.decode('{"code":0,"msg":"Unknown property","id":5}', 0.0))
    assert isinstance(bare, Response)
    assert bare.request_id == 5
    assert bare.error is not None
    assert (bare.error.code, bare.error.message) == (0, "Unknown property")
    event = only(core.decode('{"error":{"code":3,"msg":"Invalid JSON"},"id":null}', 0.0))
    assert isinstance(event, ErrorEvent)
    assert isinstance(event.error, VenueError)
    assert event.error.code == 3


@pytest.mark.parametrize("name", ["server_shutdown_raw", "server_shutdown_combined"])
def test_server_shutdown_is_a_planned_end_without_deadline(name: str) -> None:
    """serverShutdown, raw or combined, is a planned end of this connection, with no lead time."""
    output = only(BinanceSpotCore().decode(text(name), 0.0))
    assert isinstance(output, PlannedShutdown)
    assert output.this_connection
    assert output.deadline is None
    assert isinstance(output.reason, ServerRequested)
    assert output.reason.retryable
    assert "1770123456789" in output.reason.details


def test_server_frame_builders_produce_what_the_core_decodes() -> None:
    """The frames a fake server builds decode to the matching outputs."""
    core = BinanceSpotCore()
    assert orjson.loads(encode_stream_result(1)) == sample("subscribe_ack")
    assert orjson.loads(encode_stream_result(3, ["btcusdt@aggTrade"])) == sample(
        "list_subscriptions_ack"
    )
    assert orjson.loads(encode_stream_error(2, 2, "Invalid request: invalid stream")) == sample(
        "error_stream_invalid_stream"
    )
    assert orjson.loads(encode_server_shutdown(1770123456789)) == sample("server_shutdown_combined")
    assert orjson.loads(encode_server_shutdown(1770123456789, combined=False)) == sample(
        "server_shutdown_raw"
    )
    assert isinstance(only(core.decode(encode_server_shutdown(5), 0.0)), PlannedShutdown)


# -- never another exception than DecodeError ----------------------------------------------

TRADE = text("trade")
BAD_FRAMES = [
    pytest.param(b'{"e":"trade"}', id="binary-frame"),
    pytest.param(TRADE.encode(), id="binary-valid-json"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="whitespace"),
    pytest.param(TRADE[:40], id="truncated"),
    pytest.param(TRADE + "}", id="trailing-garbage"),
    pytest.param("\ufeff" + TRADE, id="bom"),
    pytest.param('{"stream":"x@trade","data":[NaN]}', id="nan"),
    pytest.param('{"stream":"x@trade","data":{"p":Infinity}}', id="infinity"),
    pytest.param('{"stream":"x@trade","data":{"p":1e400}}', id="huge-number"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="deep-nesting"),
    pytest.param("\ud800", id="lone-surrogate"),
    pytest.param("null", id="null"),
    pytest.param("42", id="number"),
    pytest.param('"text"', id="string"),
    pytest.param('{"stream":"x@trade","data":null}', id="data-null"),
    pytest.param('{"stream":"x@trade","data":7}', id="data-number"),
    pytest.param('{"stream":"x@trade"}', id="data-missing"),
    pytest.param('{"stream":5,"data":{}}', id="stream-not-a-string"),
    pytest.param(TRADE.replace('"t": 12345', '"t": "12345"'), id="number-as-string"),
    pytest.param(TRADE.replace('"p": "0.001"', '"p": "1e9999999999"'), id="price-exponent"),
    pytest.param(TRADE.replace('"q": "100"', '"q": "-Infinity"'), id="quantity-infinite"),
    pytest.param('{"stream":"x@foo","data":{"x":1e400}}', id="unknown-huge-number"),
    pytest.param(TRADE.replace('"m": true', '"m": null'), id="null-for-bool"),
    pytest.param(TRADE.replace('"p": "0.001",', ""), id="missing-field"),
    pytest.param(text("depth_update").replace('"10"\n', '"10", "1"\n'), id="level-arity"),
    pytest.param('{"result":null,"id":null}', id="result-without-id"),
    pytest.param('{"result":null,"id":true}', id="bool-id"),
    pytest.param('{"id":1}', id="response-without-result"),
    pytest.param('{"error":{"code":1},"id":1}', id="error-without-msg"),
    pytest.param('{"error":"bad","id":1}', id="error-not-an-object"),
    pytest.param("[1,2,3]", id="array-of-numbers"),
    pytest.param('[{"e":["unhashable"]}]', id="unhashable-event-type"),
]


@pytest.mark.parametrize("frame", BAD_FRAMES)
def test_bad_frames_raise_decode_error_only(frame: str | bytes) -> None:
    """Malformed, mistyped and binary frames raise DecodeError carrying the raw frame."""
    with pytest.raises(DecodeError) as info:
        BinanceSpotCore().decode(frame, 0.0)
    assert info.value.raw == frame[:1024]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(list("eEstpqTmMUubaBAfklLxnvwoOhcCiFPQVYz")) | st.text(max_size=3),
            children,
            max_size=8,
        )
    ),
    max_leaves=20,
)
event_types = st.sampled_from(
    [
        "trade",
        "aggTrade",
        "depthUpdate",
        "kline",
        "24hrTicker",
        "24hrMiniTicker",
        "1hTicker",
        "avgPrice",
        "serverShutdown",
        "other",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        json_values.map(lambda v: json.dumps(v)),
        st.tuples(st.text(max_size=10), event_types, json_values).map(
            lambda t: json.dumps(
                {"stream": t[0], "data": {"e": t[1], **(t[2] if isinstance(t[2], dict) else {})}}
            )
        ),
    )
)
def test_arbitrary_input_gives_outputs_or_a_decode_error(frame: str) -> None:
    """Whatever arrives, decode returns outputs or raises DecodeError, nothing else."""
    try:
        outputs = BinanceSpotCore().decode(frame, 0.0)
    except DecodeError:
        return
    assert len(outputs) == 1


# -- strict prices and routing -----------------------------------------------------------


def _compact_trade(price: str, stream: str = "bnbbtc@trade") -> str:
    """A combined trade frame written the way Binance writes it (compact, "stream" first)."""
    payload = {**sample("trade"), "p": price}
    return json.dumps({"stream": stream, "data": payload}, separators=(",", ":"))


_PRICE_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("0123456789.+-eE_ nNaIifty\u0661")), max_size=14),
    st.text(max_size=16),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-999, 999), st.integers(-(10**12), 10**12)),
)


@settings(max_examples=300, deadline=None)
@given(_PRICE_TEXT)
def test_hostile_prices_decode_exactly_or_fail_naming_the_field(price: str) -> None:
    """A trade's price is the exact Decimal its text spells, or a DecodeError at $.data.p."""
    try:
        expected: Decimal | None = Decimal(price)
    except ArithmeticError:
        expected = None
    if expected is not None and not (expected.is_finite() and abs(expected.adjusted()) <= 100):
        expected = None
    frame = _compact_trade(price)
    try:
        message = only(BinanceSpotCore().decode(frame, 0.0))
    except DecodeError as exc:
        failure = str(exc)
    else:
        failure = ""
        assert expected is not None, f"{price!r} decoded to {message.data.price!r}"
        assert message.data.price.as_tuple() == expected.as_tuple()
    if failure:
        assert expected is None, failure
        assert failure.endswith("- at `$.data.p`"), failure


def test_a_duplicated_stream_key_cannot_move_a_message_to_another_topic() -> None:
    """A second "stream" key is a DecodeError, not a re-route (and so is a second "e")."""
    frame = _compact_trade("0.001")
    moved = frame[:-1] + ',"stream":"ethusdt@trade"}'
    with pytest.raises(DecodeError, match="duplicate key 'stream'"):
        BinanceSpotCore().decode(moved, 0.0)
    first = frame.replace('{"stream"', '{"stream":"ethusdt@trade","stream"', 1)
    with pytest.raises(DecodeError, match="duplicate key 'stream'"):
        BinanceSpotCore().decode(first, 0.0)
    retagged = frame.replace('"e":"trade"', '"e":"trade","e":"aggTrade"')
    with pytest.raises(DecodeError, match="duplicate key 'e'"):
        BinanceSpotCore().decode(retagged, 0.0)
    same = frame[:-1] + ',"stream":"bnbbtc@trade"}'
    with pytest.raises(DecodeError, match="duplicate key 'stream'"):
        BinanceSpotCore().decode(same.replace('"stream":"bnbbtc', '"stream":"bnb\\u0062tc', 1), 0.0)


def test_frames_not_in_binance_order_take_the_checked_slow_path() -> None:
    """A frame with "data" before "stream" decodes the same, through the slow path."""
    frame = json.dumps({"data": sample("trade"), "stream": "bnbbtc@trade"})
    assert only(BinanceSpotCore().decode(frame, 1.0)) == only(
        BinanceSpotCore().decode(_compact_trade("0.001"), 1.0)
    )


@pytest.mark.parametrize(
    ("stream", "sample_name", "cls"),
    [
        ("bnbbtc@bookTicker", "book_ticker", "BookTicker"),
        ("bnbbtc@depth5@100ms", "partial_depth", "PartialDepth"),
        ("bnbbtc@depth@100ms", "depth_update", "DepthUpdate"),
        ("bnbbtc@kline_1m", "kline", "Kline"),
        ("bnbbtc@aggTrade", "agg_trade", "AggTrade"),
        ("!miniTicker@arr", None, "tuple"),
    ],
)
def test_the_hot_path_routes_by_stream_name(stream: str, sample_name: str | None, cls: str) -> None:
    """Untagged payloads are routed by stream name, tagged ones by their event type."""
    payload = [sample("mini_ticker")] if sample_name is None else sample(sample_name)
    frame = json.dumps({"stream": stream, "data": payload}, separators=(",", ":"))
    message = only(BinanceSpotCore().decode(frame, 0.0))
    assert type(message.data).__name__ == cls
    assert message == Message(stream, market_event_from_wire(payload, stream), 0.0)


# -- outgoing frames ---------------------------------------------------------------------


def test_subscribe_unsubscribe_and_list_frames_match_the_samples() -> None:
    """The request frames have the documented shapes, keys in the documented order."""
    core = BinanceSpotCore()
    subscribe = core.encode_subscribe(["btcusdt@aggTrade", "btcusdt@depth"], 1)
    assert orjson.loads(subscribe) == sample("subscribe_request")
    assert list(orjson.loads(subscribe)) == ["method", "params", "id"]
    assert orjson.loads(core.encode_unsubscribe(("btcusdt@depth",), 312)) == sample(
        "unsubscribe_request"
    )
    assert orjson.loads(core.encode_list_subscriptions(3)) == sample("list_subscriptions_request")
    assert orjson.loads(core.encode_request("LIST_SUBSCRIPTIONS", None, 3)) == sample(
        "list_subscriptions_request"
    )


def test_property_requests_and_generic_requests() -> None:
    """SET_PROPERTY/GET_PROPERTY and SUBSCRIBE via encode_request build the documented frames."""
    core = BinanceSpotCore()
    assert orjson.loads(core.encode_request("SET_PROPERTY", ["combined", True], 5)) == {
        "method": "SET_PROPERTY",
        "params": ["combined", True],
        "id": 5,
    }
    assert orjson.loads(core.encode_request("GET_PROPERTY", ("combined",), 2)) == {
        "method": "GET_PROPERTY",
        "params": ["combined"],
        "id": 2,
    }
    assert core.encode_request("SUBSCRIBE", ["btcusdt@trade"], 9) == core.encode_subscribe(
        ["btcusdt@trade"], 9
    )


def test_the_fake_server_parses_our_requests() -> None:
    """decode_stream_request reads back what the core encodes, and rejects junk."""
    core = BinanceSpotCore()
    assert decode_stream_request(core.encode_subscribe(["a@trade"], 7)) == StreamRequest(
        "SUBSCRIBE", ("a@trade",), 7
    )
    assert decode_stream_request(text("list_subscriptions_request")) == StreamRequest(
        "LIST_SUBSCRIPTIONS", (), 3
    )
    for junk in ("{", "[]", '{"method":1,"id":1}', '{"method":"X","params":{},"id":1}'):
        with pytest.raises(DecodeError):
            decode_stream_request(junk)


def test_request_ids_are_increasing_signed_64_bit_integers() -> None:
    """The streams core numbers requests 1, 2, 3 ... and refuses ids Binance would refuse."""
    core = BinanceSpotCore()
    assert [core.next_request_id() for _ in range(3)] == [1, 2, 3]
    assert orjson.loads(core.encode_subscribe(["a@trade"], 2**63 - 1))["id"] == 2**63 - 1
    assert orjson.loads(core.encode_subscribe(["a@trade"], "abc123"))["id"] == "abc123"
    with pytest.raises(ValueError, match="64-bit"):
        core.encode_subscribe(["a@trade"], 2**63)
    with pytest.raises(ValueError, match="letters and digits"):
        core.encode_subscribe(["a@trade"], "a-b")
    with pytest.raises(ValueError, match="36"):
        core.encode_subscribe(["a@trade"], "a" * 37)
    with pytest.raises(TypeError):
        core.encode_subscribe(["a@trade"], True)


def test_subscribe_batches_are_bounded_and_validated() -> None:
    """At most 200 valid stream names per request; bad names and misuse raise at once."""
    core = BinanceSpotCore()
    assert MAX_TOPICS_PER_REQUEST == 200
    names = [f"s{i}usdt@trade" for i in range(200)]
    assert len(orjson.loads(core.encode_subscribe(names, 1))["params"]) == 200
    with pytest.raises(ValueError, match="at most 200"):
        core.encode_subscribe([*names, "x@trade"], 1)
    with pytest.raises(ValueError, match="at least one"):
        core.encode_subscribe([], 1)
    with pytest.raises(TypeError, match="not one str"):
        core.encode_subscribe("btcusdt@trade", 1)
    for bad in ("BTCUSDT@trade", "btcusdt", "a@trade/b@trade", "btc usdt@trade", ""):
        with pytest.raises(ValueError, match="invalid stream name"):
            core.encode_subscribe([bad], 1)
    with pytest.raises(ValueError, match="unknown market-stream method"):
        core.encode_request("subscribe", ["a@trade"], 1)
    with pytest.raises(TypeError, match="must be a list"):
        core.encode_request("SET_PROPERTY", {"combined": True}, 1)


def test_stream_name_validation_accepts_new_and_all_market_streams() -> None:
    """Unknown stream kinds and '!' all-market names pass the syntax check unchanged."""
    for name in ("btcusdt@blockTrade", "!ticker_1h@arr", "!miniTicker@arr", "btcusdt@kline_1M"):
        assert validate_stream_name(name) == name


# -- stream-name helpers ---------------------------------------------------------------------


def test_stream_name_helpers_build_the_documented_names() -> None:
    """The helpers lower-case symbols and spell each stream as Binance documents it."""
    assert trades_topic("BTCUSDT") == "btcusdt@trade"
    assert agg_trades_topic("btcusdt") == "btcusdt@aggTrade"
    assert klines_topic("BNBBTC", "1s") == "bnbbtc@kline_1s"
    assert klines_topic("bnbbtc", "1M") == "bnbbtc@kline_1M"
    assert klines_topic("bnbbtc", "1m", tz="+08:00") == "bnbbtc@kline_1m@+08:00"
    assert depth_topic("bnbbtc") == "bnbbtc@depth@100ms"
    assert depth_topic("bnbbtc", speed="1000ms") == "bnbbtc@depth"
    assert depth_topic("bnbbtc", 5) == "bnbbtc@depth5@100ms"
    assert depth_topic("bnbbtc", 20, speed="1000ms") == "bnbbtc@depth20"
    assert book_ticker_topic("BNBUSDT") == "bnbusdt@bookTicker"
    assert ticker_topic("bnbbtc") == "bnbbtc@ticker"
    assert ticker_topic("bnbbtc", "4h") == "bnbbtc@ticker_4h"
    assert mini_ticker_topic("bnbbtc") == "bnbbtc@miniTicker"
    assert avg_price_topic("bnbbtc") == "bnbbtc@avgPrice"
    assert all_tickers_topic() == "!ticker@arr"
    assert all_tickers_topic("1d") == "!ticker_1d@arr"
    assert all_mini_tickers_topic() == "!miniTicker@arr"


@pytest.mark.parametrize(
    "call",
    [
        lambda: klines_topic("btcusdt", "2m"),
        lambda: klines_topic("btcusdt", "1H"),
        lambda: klines_topic("btcusdt", "1m", tz="+09:00"),
        lambda: depth_topic("btcusdt", 15),
        lambda: depth_topic("btcusdt", speed="250ms"),
        lambda: ticker_topic("btcusdt", "2h"),
        lambda: all_tickers_topic("1w"),
        lambda: trades_topic(""),
        lambda: trades_topic("btc@usdt"),
        lambda: trades_topic("btc/usdt"),
        lambda: trades_topic("btc usdt"),
    ],
)
def test_stream_name_helpers_reject_invalid_arguments(call: Any) -> None:
    """Invalid intervals, levels, speeds, windows, timezones and symbols raise ValueError."""
    with pytest.raises(ValueError, match="invalid"):
        call()


# -- URLs, lifecycle --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "topics", "combined"),
    [
        (STREAM_URL, (), True),
        (
            "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@depth@100ms",
            ("btcusdt@trade", "ethusdt@depth@100ms"),
            True,
        ),
        ("wss://stream.binance.com:9443/ws/btcusdt@trade", ("btcusdt@trade",), False),
        ("wss://stream.binance.com:9443/ws", (), False),
        ("wss://stream.binance.com:9443/ws/", (), False),
        ("ws://127.0.0.1:8000/stream?streams=btcusdt%40trade", ("btcusdt@trade",), True),
        (
            "wss://x/stream?streams=bnbbtc@kline_1m@+08:00/!miniTicker@arr&timeUnit=MICROSECOND",
            ("bnbbtc@kline_1m@+08:00", "!miniTicker@arr"),
            True,
        ),
        (
            "wss://x/ws/bnbbtc@kline_1m@%2B08:00?timeUnit=microsecond",
            ("bnbbtc@kline_1m@+08:00",),
            False,
        ),
    ],
)
def test_initial_topics_come_from_the_url(
    url: str, topics: tuple[str, ...], combined: bool
) -> None:
    """?streams=a/b (combined) and /ws/<stream> (raw) subscribe without a SUBSCRIBE."""
    assert BinanceSpotCore().initial_topics(url) == topics
    assert parse_stream_url(url).combined is combined


def test_time_unit_follows_the_url() -> None:
    """timeUnit=MICROSECOND (any case) switches the core's time unit to µs."""
    assert BinanceSpotCore().time_unit == "ms"
    assert BinanceSpotCore(STREAM_URL + "?timeUnit=MICROSECOND").time_unit == "us"
    assert BinanceSpotCore("wss://x/ws/a@trade?timeUnit=microsecond").time_unit == "us"
    assert BinanceSpotCore("wss://x/ws/a@trade?timeUnit=MILLISECOND").time_unit == "ms"


@pytest.mark.parametrize(
    ("code", "retryable", "venue_retryable"),
    [
        (1008, True, True),
        (1000, True, True),
        (1001, True, None),
        (1002, False, None),
        (1003, False, None),
        (1011, True, None),
        (1013, True, None),
        (4000, True, None),
        (2000, False, None),
        (5000, False, None),
    ],
)
def test_close_codes_are_classified_for_binance(
    code: int, retryable: bool, venue_retryable: bool | None
) -> None:
    """1008 is Binance's rate signal and 1000 its 24 h cut: both retryable; the rest generic."""
    reason = BinanceSpotCore().classify_close(code, "Too many requests")
    assert reason == RemoteClosed(code, "Too many requests", venue_retryable=venue_retryable)
    assert reason.retryable is retryable


def test_events_that_carry_an_id_field_are_still_events() -> None:
    """A payload with an event type and an 'id' key is a market event, not a response."""
    payload = {"e": "newKind", "E": 1, "id": 7}
    message = only(BinanceSpotCore().decode(json.dumps(payload), 0.0))
    assert message == Message(None, UnknownMessage(payload), 0.0)


def test_the_core_modules_do_not_import_trio() -> None:
    """The sans-I/O modules import no trio (the package root may; these files must not)."""
    import trio_venues._codec as codec
    import trio_venues.venues.binance._protocol as protocol
    import trio_venues.venues.binance._signing as signing
    import trio_venues.venues.binance._wire as wire

    for module in (codec, protocol, signing, wire):
        tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        top_level = {name.split(".")[0] for name in imported}
        assert not top_level & {"trio", "trio_websocket"}, module.__name__


def test_core_identity_for_the_shell() -> None:
    """The core names itself 'binance', has no venue-level ping, and defaults to combined."""
    core = BinanceSpotCore()
    assert core.name == "binance"
    assert core.venue_ping_interval is None
    assert core.venue_ping(0.0) is None
    assert core.url == STREAM_URL
