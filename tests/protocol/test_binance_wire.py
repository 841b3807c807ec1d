"""Binance wire models: msgspec Structs from recorded payloads, strict leaves, round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import cattrs
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_venues._codec import DECODE_FAILURES, raise_decode_error, slot_setters
from trio_venues.errors import DecodeError
from trio_venues.events import Message
from trio_venues.venues.binance import (
    AccountPosition,
    AggTrade,
    AvgPrice,
    Balance,
    BalanceUpdate,
    BookTicker,
    DepthUpdate,
    ExecutionReport,
    Kline,
    KlineBar,
    ListStatus,
    ListStatusOrder,
    MiniTicker,
    PartialDepth,
    RollingWindowTicker,
    StreamTerminated,
    Ticker,
    Trade,
    UnknownMessage,
    market_event_from_wire,
    ms_to_datetime,
    partial_depth_from_wire,
    to_datetime,
    to_wire,
    us_to_datetime,
    user_event_from_wire,
    wire_levels,
)

DATA = Path(__file__).parent / "data" / "binance"
D = Decimal


def sample(name: str) -> Any:
    """The decoded JSON of a recorded sample (copied from ../shared/venues/samples/binance)."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


# -- samples decode to exact values ---------------------------------------------------


def test_trade_sample_decodes_to_exact_fields() -> None:
    """The documented trade payload becomes a Trade with every field exact."""
    assert market_event_from_wire(sample("trade")) == Trade(
        symbol="BNBBTC",
        trade_id=12345,
        price=D("0.001"),
        quantity=D("100"),
        trade_time=1672515782136,
        event_time=1672515782136,
        is_buyer_maker=True,
    )


def test_agg_trade_sample_decodes_to_exact_fields() -> None:
    """The documented aggTrade payload becomes an AggTrade."""
    assert market_event_from_wire(sample("agg_trade")) == AggTrade(
        symbol="BNBBTC",
        agg_trade_id=12345,
        price=D("0.001"),
        quantity=D("100"),
        first_trade_id=100,
        last_trade_id=105,
        trade_time=1672515782136,
        event_time=1672515782136,
        is_buyer_maker=True,
    )


def test_depth_update_sample_decodes_to_exact_fields() -> None:
    """The documented depthUpdate payload becomes a DepthUpdate with decimal level tuples."""
    assert market_event_from_wire(sample("depth_update")) == DepthUpdate(
        symbol="BNBBTC",
        first_update_id=157,
        final_update_id=160,
        bids=(("0.0024", "10"),),
        asks=(("0.0026", "100"),),
        event_time=1672515782136,
    )


def test_partial_depth_sample_decodes_without_event_type() -> None:
    """A partial-depth payload has no 'e'; it is recognised by lastUpdateId."""
    assert market_event_from_wire(sample("partial_depth")) == PartialDepth(
        last_update_id=160,
        bids=(("0.0024", "10"),),
        asks=(("0.0026", "100"),),
    )


def test_book_ticker_sample_decodes_without_event_type() -> None:
    """A bookTicker payload has no 'e'/'E'; it is recognised by its keys."""
    assert market_event_from_wire(sample("book_ticker")) == BookTicker(
        symbol="BNBUSDT",
        update_id=400900217,
        bid_price=D("25.35190000"),
        bid_quantity=D("31.21000000"),
        ask_price=D("25.36520000"),
        ask_quantity=D("40.66000000"),
    )


def test_kline_sample_decodes_with_its_bar() -> None:
    """The documented kline payload becomes a Kline whose bar has every field exact."""
    assert market_event_from_wire(sample("kline")) == Kline(
        symbol="BNBBTC",
        event_time=1672515782136,
        bar=KlineBar(
            start_time=1672515780000,
            close_time=1672515839999,
            symbol="BNBBTC",
            interval="1m",
            first_trade_id=100,
            last_trade_id=200,
            open=D("0.0010"),
            close=D("0.0020"),
            high=D("0.0025"),
            low=D("0.0015"),
            volume=D("1000"),
            trade_count=100,
            is_closed=False,
            quote_volume=D("1.0000"),
            taker_buy_volume=D("500"),
            taker_buy_quote_volume=D("0.500"),
        ),
    )


def test_ticker_sample_decodes_to_exact_fields() -> None:
    """The documented 24hrTicker payload becomes a Ticker."""
    assert market_event_from_wire(sample("ticker")) == Ticker(
        symbol="BNBBTC",
        event_time=1672515782136,
        price_change=D("0.0015"),
        price_change_percent=D("250.00"),
        weighted_average_price=D("0.0018"),
        prev_close_price=D("0.0009"),
        last_price=D("0.0025"),
        last_quantity=D("10"),
        best_bid_price=D("0.0024"),
        best_bid_quantity=D("10"),
        best_ask_price=D("0.0026"),
        best_ask_quantity=D("100"),
        open_price=D("0.0010"),
        high_price=D("0.0025"),
        low_price=D("0.0010"),
        base_volume=D("10000"),
        quote_volume=D("18"),
        open_time=0,
        close_time=86400000,
        first_trade_id=0,
        last_trade_id=18150,
        trade_count=18151,
    )


def test_mini_ticker_sample_decodes_to_exact_fields() -> None:
    """The documented 24hrMiniTicker payload becomes a MiniTicker."""
    assert market_event_from_wire(sample("mini_ticker")) == MiniTicker(
        symbol="BNBBTC",
        event_time=1672515782136,
        close_price=D("0.0025"),
        open_price=D("0.0010"),
        high_price=D("0.0025"),
        low_price=D("0.0010"),
        base_volume=D("10000"),
        quote_volume=D("18"),
    )


ROLLING_1H = {
    "e": "1hTicker",
    "E": 1672515782136,
    "s": "BNBBTC",
    "p": "0.0015",
    "P": "250.00",
    "o": "0.0010",
    "h": "0.0025",
    "l": "0.0010",
    "c": "0.0025",
    "w": "0.0018",
    "v": "10000",
    "q": "18",
    "O": 0,
    "C": 1675216573749,
    "F": 0,
    "L": 18150,
    "n": 18151,
}


def test_rolling_window_ticker_takes_its_window_from_the_event_type() -> None:
    """A 1hTicker payload (as documented) becomes RollingWindowTicker(window='1h')."""
    ticker = market_event_from_wire(ROLLING_1H)
    assert isinstance(ticker, RollingWindowTicker)
    assert ticker.window == "1h"
    assert ticker.symbol == "BNBBTC"
    assert ticker.last_price == D("0.0025")
    assert ticker.close_time == 1675216573749
    assert ticker.trade_count == 18151
    assert market_event_from_wire({**ROLLING_1H, "e": "1dTicker"}).window == "1d"  # type: ignore[union-attr]


def test_avg_price_payload_decodes() -> None:
    """The documented avgPrice payload becomes an AvgPrice."""
    payload = {
        "e": "avgPrice",
        "E": 1693907033000,
        "s": "BTCUSDT",
        "i": "5m",
        "w": "25776.86000000",
        "T": 1693907032213,
    }
    assert market_event_from_wire(payload) == AvgPrice(
        symbol="BTCUSDT",
        event_time=1693907033000,
        interval="5m",
        average_price=D("25776.86000000"),
        last_trade_time=1693907032213,
    )


def test_all_market_arrays_become_tuples_of_the_element_class() -> None:
    """'!ticker@arr'-style arrays decode element by element into a tuple."""
    tickers = market_event_from_wire([sample("ticker"), {**sample("ticker"), "s": "ETHBTC"}])
    assert isinstance(tickers, tuple)
    assert [type(t) for t in tickers] == [Ticker, Ticker]
    assert [t.symbol for t in tickers] == ["BNBBTC", "ETHBTC"]
    minis = market_event_from_wire([sample("mini_ticker")])
    assert minis == (market_event_from_wire(sample("mini_ticker")),)
    assert market_event_from_wire([ROLLING_1H]) == (market_event_from_wire(ROLLING_1H),)
    assert market_event_from_wire([]) == ()


def test_unknown_event_types_become_unknown_message_with_the_payload() -> None:
    """A new event type is delivered as UnknownMessage(raw), never dropped or failed."""
    block_trade = {"e": "blockTrade", "E": 1, "s": "BTCUSDT", "p": "1"}
    assert market_event_from_wire(block_trade) == UnknownMessage(block_trade)
    shapeless = {"x": 1}
    assert market_event_from_wire(shapeless) == UnknownMessage(shapeless)
    mixed = [sample("ticker"), block_trade]
    assert market_event_from_wire(mixed) == UnknownMessage(mixed)


# -- user-data events -------------------------------------------------------------------

EXECUTION_REPORT = {
    "e": "executionReport",
    "E": 1499405658658,
    "s": "ETHBTC",
    "c": "mUvoqJxFIILMdfAW5iGSOW",
    "S": "BUY",
    "o": "LIMIT",
    "f": "GTC",
    "q": "1.00000000",
    "p": "0.10264410",
    "P": "0.00000000",
    "F": "0.00000000",
    "g": -1,
    "C": "",
    "x": "NEW",
    "X": "NEW",
    "r": "NONE",
    "i": 4293153,
    "l": "0.00000000",
    "z": "0.00000000",
    "L": "0.00000000",
    "n": "0",
    "N": None,
    "T": 1499405658657,
    "t": -1,
    "I": 8641984,
    "w": True,
    "m": False,
    "M": False,
    "O": 1499405658657,
    "Z": "0.00000000",
    "Y": "0.00000000",
    "Q": "0.00000000",
    "W": 1499405658657,
    "V": "NONE",
}


def test_execution_report_decodes_documented_fields_and_optional_ones() -> None:
    """The documented executionReport decodes; absent conditional fields are None."""
    report = user_event_from_wire(EXECUTION_REPORT)
    assert isinstance(report, ExecutionReport)
    assert report.symbol == "ETHBTC"
    assert report.client_order_id == "mUvoqJxFIILMdfAW5iGSOW"
    assert report.side == "BUY"
    assert report.price == D("0.10264410")
    assert report.quantity == D("1.00000000")
    assert report.order_list_id == -1
    assert report.original_client_order_id == ""
    assert report.execution_type == "NEW"
    assert report.order_id == 4293153
    assert report.commission == D("0")
    assert report.commission_asset is None
    assert report.trade_id == -1
    assert report.is_on_book is True
    assert report.is_maker is False
    assert report.working_time == 1499405658657
    assert report.self_trade_prevention_mode == "NONE"
    assert report.trailing_delta is None
    assert report.strategy_id is None
    with_trailing = user_event_from_wire({**EXECUTION_REPORT, "d": 4, "D": 1668680518494})
    assert isinstance(with_trailing, ExecutionReport)
    assert (with_trailing.trailing_delta, with_trailing.trailing_time) == (4, 1668680518494)


def test_account_position_sample_decodes() -> None:
    """The recorded outboundAccountPosition event decodes with its balances."""
    assert user_event_from_wire(sample("wsapi_user_event_account_position")["event"]) == (
        AccountPosition(
            event_time=1728972148778,
            last_update_time=1728972148778,
            balances=(
                Balance("BTC", D("11818.00000000"), D("182.00000000")),
                Balance("USDT", D("10580.00000000"), D("70.00000000")),
            ),
        )
    )


def test_balance_update_list_status_and_termination_decode() -> None:
    """balanceUpdate, listStatus and eventStreamTerminated decode to their classes."""
    assert user_event_from_wire(
        {
            "e": "balanceUpdate",
            "E": 1573200697110,
            "a": "BTC",
            "d": "100.00000000",
            "T": 1573200697068,
        }
    ) == BalanceUpdate(1573200697110, "BTC", D("100.00000000"), 1573200697068)
    list_status = {
        "e": "listStatus",
        "E": 1564035303637,
        "s": "ETHBTC",
        "g": 2,
        "c": "OCO",
        "l": "EXEC_STARTED",
        "L": "EXECUTING",
        "r": "NONE",
        "C": "F4QN4G8DlFATFlIUQ0cjdD",
        "T": 1564035303625,
        "O": [
            {"s": "ETHBTC", "i": 17, "c": "AJYsMjErWJesZvqlJCTUgL"},
            {"s": "ETHBTC", "i": 18, "c": "bfYPSQdLoqAJeNrOr9adzq"},
        ],
    }
    assert user_event_from_wire(list_status) == ListStatus(
        event_time=1564035303637,
        symbol="ETHBTC",
        order_list_id=2,
        contingency_type="OCO",
        list_status_type="EXEC_STARTED",
        list_order_status="EXECUTING",
        list_reject_reason="NONE",
        list_client_order_id="F4QN4G8DlFATFlIUQ0cjdD",
        transaction_time=1564035303625,
        orders=(
            ListStatusOrder("ETHBTC", 17, "AJYsMjErWJesZvqlJCTUgL"),
            ListStatusOrder("ETHBTC", 18, "bfYPSQdLoqAJeNrOr9adzq"),
        ),
    )
    terminated = sample("wsapi_user_event_stream_terminated")["event"]
    assert user_event_from_wire(terminated) == StreamTerminated(1728973001334)
    assert user_event_from_wire({"e": "externalLockUpdate", "E": 1}) == UnknownMessage(
        {"e": "externalLockUpdate", "E": 1}
    )


# -- strict leaves: wrong shapes fail with the decode failures, never pass ---------------


def _trade(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = sample("trade")
    for key, value in changes.items():
        if value is _MISSING:
            del payload[key]
        else:
            payload[key] = value
    return payload


_MISSING = object()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(_trade(t="12345"), id="int-as-string"),
        pytest.param(_trade(t=1.0), id="int-as-float"),
        pytest.param(_trade(E=True), id="int-as-bool"),
        pytest.param(_trade(p=True), id="price-as-bool"),
        pytest.param(_trade(p="1e9999999999"), id="price-exponent-too-large"),
        pytest.param(_trade(q="1e-9999999999"), id="quantity-exponent-too-small"),
        pytest.param(_trade(p="abc"), id="price-not-a-number"),
        pytest.param(_trade(p="NaN"), id="price-nan"),
        pytest.param(_trade(q="Infinity"), id="quantity-infinite"),
        pytest.param(_trade(m=1), id="bool-as-int"),
        pytest.param(_trade(s=None), id="symbol-null"),
        pytest.param(_trade(p=_MISSING), id="missing-price"),
        pytest.param(_trade(T=_MISSING), id="missing-trade-time"),
        pytest.param({**sample("depth_update"), "b": [["1", "2", "3"]]}, id="level-arity"),
        pytest.param({**sample("depth_update"), "b": ["12"]}, id="level-as-string"),
        pytest.param({**sample("depth_update"), "a": "x"}, id="levels-not-array"),
        pytest.param({**sample("depth_update"), "b": [["0.1", 2.5]]}, id="level-qty-float"),
        pytest.param({**sample("depth_update"), "a": [["1", None]]}, id="level-null"),
        pytest.param({**sample("depth_update"), "b": [[]]}, id="level-empty"),
        pytest.param({**sample("depth_update"), "b": [["1", "2"], ["3"]]}, id="level-short"),
        pytest.param({**sample("partial_depth"), "asks": [{"p": "1"}]}, id="level-object"),
        pytest.param({**sample("depth_update"), "u": "160"}, id="depth-id-string"),
        pytest.param({**sample("partial_depth"), "lastUpdateId": None}, id="partial-id-null"),
        pytest.param({**sample("book_ticker"), "B": "-inf"}, id="book-qty-infinite"),
        pytest.param({**sample("ticker"), "O": "0"}, id="ticker-int-as-string"),
        pytest.param({**sample("kline"), "k": None}, id="kline-bar-null"),
        pytest.param(
            {**sample("kline"), "k": {**sample("kline")["k"], "x": "false"}}, id="kline-x"
        ),
        pytest.param({**ROLLING_1H, "n": None}, id="rolling-count-null"),
        pytest.param([1, 2], id="array-of-scalars"),
        pytest.param("trade", id="scalar"),
    ],
)
def test_wrong_shapes_raise_decode_errors(payload: Any) -> None:
    """Wrong types, missing fields, bad decimals and malformed levels raise DecodeError."""
    with pytest.raises(DecodeError, match="could not decode"):
        market_event_from_wire(payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_trade(t="12345"), "Expected `int`, got `str` - at `$.t`"),
        (_trade(p=_MISSING), "Object missing required field `p`"),
        (_trade(p="NaN"), "Expected a finite decimal, got Decimal('NaN') for `price` - at `$.p`"),
        ({**sample("kline"), "k": {**sample("kline")["k"], "x": "false"}}, "at `$.k.x`"),
        ({**sample("depth_update"), "b": [["1", "2", "3"]]}, "at `$.b[0]`"),
    ],
)
def test_decode_errors_name_the_field(payload: Any, message: str) -> None:
    """The DecodeError message ends with the path of the offending field."""
    with pytest.raises(DecodeError) as caught:
        market_event_from_wire(payload)
    assert message in str(caught.value)


def test_a_json_number_in_a_decimal_field_is_parsed_exactly() -> None:
    """msgspec reads a JSON number in a Decimal field from its text, never via a float."""
    trade = market_event_from_wire(_trade(p=0.1))
    assert isinstance(trade, Trade)
    assert trade.price.as_tuple() == D("0.1").as_tuple()


def test_depth_levels_are_checked_for_shape_and_parsed_strictly() -> None:
    """Levels are two strings each at decode; their syntax is checked where they are parsed."""
    update = market_event_from_wire({**sample("depth_update"), "b": [["NaN", "1"]]})
    assert isinstance(update, DepthUpdate)
    with pytest.raises(ValueError, match="plain decimal string, got 'NaN' for `price`"):
        update.decimal_bids()
    for bad in ("1e5", " 1", "1_0", "inf", "\u0661"):
        level = market_event_from_wire({**sample("depth_update"), "a": [["1", bad]]})
        with pytest.raises(ValueError, match="for `quantity`"):
            level.decimal_asks()  # type: ignore[union-attr]


def test_user_events_reject_wrong_shapes() -> None:
    """User events with wrong leaf types or no event type fail with DecodeError."""
    for bad in (
        {**EXECUTION_REPORT, "i": "4293153"},
        {**EXECUTION_REPORT, "N": 5},
        {**EXECUTION_REPORT, "q": "Infinity"},
        {"e": "outboundAccountPosition", "E": 1, "u": 1, "B": "BTC"},
        {"E": 1},
        ["e"],
    ):
        with pytest.raises(DecodeError):
            user_event_from_wire(bad)


def test_partial_depth_from_wire_reads_the_api_depth_result() -> None:
    """The WS-API depth result has the partial-depth shape and decodes the same way."""
    book = partial_depth_from_wire(sample("wsapi_depth_response")["result"])
    assert book.last_update_id == 2731179239
    assert book.bids[0] == ("0.01379900", "3.43200000")
    assert book.asks[-1] == ("0.01380400", "0.26800000")
    assert book.decimal_asks()[-1] == (D("0.01380400"), D("0.26800000"))
    assert len(book.bids) == len(book.asks) == 5


# -- the codec boundary -------------------------------------------------------------------


def test_detailed_cattrs_errors_become_a_plain_decode_error() -> None:
    """An exception group from detailed validation becomes one DecodeError, not a group."""
    detailed = cattrs.Converter(detailed_validation=True)

    @attrs.frozen
    class Point:
        x: int
        y: int

    try:
        detailed.structure({"x": "a"}, Point)
    except cattrs.BaseValidationError as group:
        with pytest.raises(DecodeError) as info:
            raise_decode_error(group, '{"x":"a"}')
    assert not isinstance(info.value, BaseExceptionGroup)
    assert info.value.__cause__ is None
    assert "$.x" in str(info.value)
    assert "$.y" in str(info.value)
    assert info.value.raw == '{"x":"a"}'


def test_plain_failures_become_decode_errors_with_the_cause_chained() -> None:
    """A KeyError at the boundary becomes a DecodeError naming the field, cause kept."""
    try:
        {"s": "X"}["E"]
    except DECODE_FAILURES as exc:
        with pytest.raises(DecodeError, match="missing field 'E'") as info:
            raise_decode_error(exc, b"raw" * 1000)
    assert isinstance(info.value.__cause__, KeyError)
    assert len(info.value.raw) == 1024


# -- time helpers ---------------------------------------------------------------------------


def test_timestamp_helpers_convert_exactly() -> None:
    """ms and µs venue timestamps convert to aware UTC datetimes without float rounding."""
    assert ms_to_datetime(1672515782136) == datetime(2022, 12, 31, 19, 43, 2, 136000, tzinfo=UTC)
    assert us_to_datetime(1672515782136789) == datetime(2022, 12, 31, 19, 43, 2, 136789, tzinfo=UTC)
    assert to_datetime(1672515782136) == ms_to_datetime(1672515782136)
    assert to_datetime(1672515782136789, "us") == us_to_datetime(1672515782136789)
    with pytest.raises(ValueError, match="time_unit"):
        to_datetime(1, "s")  # type: ignore[arg-type]


# -- round trips: to_wire is the inverse of decoding ------------------------------------------

decimals = st.decimals(
    allow_nan=False, allow_infinity=False, places=8, min_value=-(10**12), max_value=10**12
)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
texts = st.text(min_size=1, max_size=12)
levels = st.lists(st.tuples(decimals, decimals), max_size=5).map(wire_levels)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.builds(Trade, texts, ints, decimals, decimals, ints, ints, st.booleans()),
        st.builds(AggTrade, texts, ints, decimals, decimals, ints, ints, ints, ints, st.booleans()),
        st.builds(DepthUpdate, texts, ints, ints, levels, levels, ints),
        st.builds(PartialDepth, ints, levels, levels),
        st.builds(BookTicker, texts, ints, decimals, decimals, decimals, decimals),
        st.builds(
            Kline,
            texts,
            ints,
            st.builds(
                KlineBar,
                ints,
                ints,
                texts,
                st.sampled_from(["1s", "1m", "1M"]),
                ints,
                ints,
                decimals,
                decimals,
                decimals,
                decimals,
                decimals,
                ints,
                st.booleans(),
                decimals,
                decimals,
                decimals,
            ),
        ),
        st.builds(
            RollingWindowTicker,
            texts,
            st.sampled_from(["1h", "4h", "1d"]),
            *([ints] + [decimals] * 9 + [ints] * 5),
        ),
        st.builds(AvgPrice, texts, ints, texts, decimals, ints),
    )
)
def test_market_events_round_trip_through_the_wire_form(event: Any) -> None:
    """Decoding the wire form of any market event gives the event back."""
    wire = json.loads(json.dumps(to_wire(event)))
    assert market_event_from_wire(wire) == event


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.builds(
            AccountPosition,
            ints,
            ints,
            st.lists(st.builds(Balance, texts, decimals, decimals), max_size=3).map(tuple),
        ),
        st.builds(BalanceUpdate, ints, texts, decimals, ints),
        st.builds(StreamTerminated, ints),
        st.builds(
            ExecutionReport,
            *(
                [ints]
                + [texts] * 5
                + [decimals] * 4
                + [ints]
                + [st.text(max_size=5)]
                + [texts] * 3
                + [ints]
                + [decimals] * 4
                + [st.none() | texts]
                + [ints] * 2
                + [st.booleans()] * 2
                + [ints]
                + [decimals] * 3
            ),
            working_time=st.none() | ints,
            trailing_delta=st.none() | ints,
        ),
    )
)
def test_user_events_round_trip_through_the_wire_form(event: Any) -> None:
    """Decoding the wire form of any user event gives the event back."""
    wire = json.loads(json.dumps(to_wire(event)))
    assert user_event_from_wire(wire) == event


def test_to_wire_reproduces_the_recorded_samples() -> None:
    """The wire form of a decoded sample is the sample minus Binance's 'ignore' fields."""
    for name in ("book_ticker", "ticker", "mini_ticker", "partial_depth", "depth_update"):
        assert to_wire(market_event_from_wire(sample(name))) == sample(name), name
    trade = sample("trade")
    del trade["M"]
    assert to_wire(market_event_from_wire(sample("trade"))) == trade
    kline = sample("kline")
    del kline["k"]["B"]
    assert to_wire(market_event_from_wire(sample("kline"))) == kline
    assert to_wire(UnknownMessage({"e": "new"})) == {"e": "new"}


# -- depth levels: exact strings, Decimal on demand ----------------------------------------


def test_depth_levels_stay_the_exact_strings_binance_sent() -> None:
    """Levels keep their spelling (trailing zeros included) as tuples; the views parse them."""
    payload = {**sample("depth_update"), "b": [["0.00240000", "10.00000000"]], "a": []}
    update = market_event_from_wire(payload)
    assert isinstance(update, DepthUpdate)
    assert update.bids == (("0.00240000", "10.00000000"),)
    assert type(update.bids) is tuple
    assert type(update.bids[0]) is tuple
    assert update.asks == ()
    assert update.decimal_bids() == ((D("0.0024"), D("10")),)
    assert str(update.decimal_bids()[0][0]) == "0.00240000"
    assert update.decimal_asks() == ()
    partial = partial_depth_from_wire(sample("partial_depth"))
    assert partial.bids == (("0.0024", "10"),)
    assert partial.decimal_asks() == ((D("0.0026"), D("100")),)


def test_wire_levels_turn_hand_built_levels_into_their_wire_form() -> None:
    """Decimal levels become positional strings; strings are kept; floats and NaN are refused."""
    bids = wire_levels(((D("1.50"), D("2E+1")),))
    update = DepthUpdate("BTCUSDT", 1, 2, bids, wire_levels((("3.0", D("0")),)), 5)
    assert update.bids == (("1.50", "20"),)
    assert update.asks == (("3.0", "0"),)
    assert wire_levels([[D("0.1"), "2"]]) == (("0.1", "2"),)
    with pytest.raises(TypeError, match="float"):
        wire_levels(((0.1, D(1)),))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        wire_levels(((D("NaN"), D(1)),))
    with pytest.raises(ValueError, match="price, quantity"):
        wire_levels((("1", "2", "3"),))


def test_decimal_views_report_a_level_that_is_not_a_number() -> None:
    """The decoder checks types, not number syntax: the views raise ValueError for a bad one."""
    update = market_event_from_wire({**sample("depth_update"), "b": [["1..2", "1"]]})
    assert isinstance(update, DepthUpdate)
    assert update.bids == (("1..2", "1"),)
    with pytest.raises(ValueError, match="plain decimal string"):
        update.decimal_bids()


# -- Structs: frozen, equal to init-built ones, copied with msgspec.structs.replace ---------


def test_decoded_instances_equal_init_built_ones_and_stay_frozen() -> None:
    """Decoded Structs are ordinary frozen instances: equal, hashable, immutable."""
    decoded: list[Any] = [
        market_event_from_wire(sample("trade")),
        market_event_from_wire(sample("agg_trade")),
        market_event_from_wire(sample("book_ticker")),
        market_event_from_wire(sample("depth_update")),
        market_event_from_wire(sample("partial_depth")),
        market_event_from_wire(sample("kline")),
    ]
    for event in decoded:
        cls = type(event)
        rebuilt = cls(**msgspec.structs.asdict(event))
        assert rebuilt == event
        assert hash(rebuilt) == hash(event)
        assert repr(rebuilt) == repr(event)
        with pytest.raises(AttributeError):
            event.symbol = "X"
        assert cls.__struct_config__.frozen
        assert not cls.__struct_config__.gc


def test_replace_copies_with_a_change_and_checks_it() -> None:
    """msgspec.structs.replace is the evolve of wire models; a bad Decimal is refused."""
    trade = market_event_from_wire(sample("trade"))
    assert isinstance(trade, Trade)
    cheaper = msgspec.structs.replace(trade, price=D("0.001"))
    assert cheaper.price == D("0.001")
    assert cheaper.trade_id == trade.trade_id
    with pytest.raises(ValueError, match="for `price`"):
        msgspec.structs.replace(trade, price=D("NaN"))


def test_slot_setters_refuse_classes_whose_init_does_more() -> None:
    """Only slotted attrs classes without validators, hooks or cached hashes qualify."""

    @attrs.frozen
    class Plain:
        a: int
        b: str

    set_a, set_b = slot_setters(Plain)
    obj = object.__new__(Plain)
    set_a(obj, 1)
    set_b(obj, "x")
    assert obj == Plain(1, "x")
    assert len(slot_setters(Message)) == 3

    @attrs.frozen
    class Validated:
        a: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen(cache_hash=True)
    class CachedHash:
        a: int

    @attrs.frozen
    class PostInit:
        a: int

        def __attrs_post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("a must not be negative")

    @attrs.frozen(slots=False)
    class NoSlots:
        a: int

    class NotAttrs:
        __slots__ = ("a",)

    for cls in (Validated, CachedHash, PostInit, NoSlots, NotAttrs):
        with pytest.raises(TypeError):
            slot_setters(cls)
