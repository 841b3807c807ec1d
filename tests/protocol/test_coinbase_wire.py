"""Coinbase wire models: every sample decodes to exact values; strictness; unknown shapes kept."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_venues.errors import DecodeError
from trio_venues.venues.coinbase import (
    DATA_CHANNELS,
    USER_SNAPSHOT_BATCH,
    Candle,
    CandlesMessage,
    ErrorMessage,
    FuturesBalanceSummaryMessage,
    HeartbeatsMessage,
    L2DataMessage,
    L2Update,
    MarketTrade,
    MarketTradesMessage,
    Order,
    StatusMessage,
    SubscriptionsMessage,
    TickerBatchMessage,
    TickerMessage,
    UnknownMessage,
    UserEvent,
    UserMessage,
    decode_message,
    encode_message,
    rfc3339_to_ns,
)

DATA = Path(__file__).parent / "data" / "coinbase"
D = Decimal


def text(name: str) -> str:
    """A sample's text (copied from the venue research, or written from the docs: see README)."""
    return (DATA / f"{name}.json").read_text(encoding="utf-8")


def decode(name: str) -> Any:
    """Decode one sample file holding one message."""
    return decode_message(text(name))


# -- every sample, exact values -------------------------------------------------------


def test_market_trades_sample() -> None:
    """market_trades: Decimal price and size, maker side, the trade id as a string."""
    msg = decode("market_trades")
    assert isinstance(msg, MarketTradesMessage)
    assert (msg.timestamp, msg.sequence_num, msg.client_id) == (
        "2023-02-09T20:19:35.39625135Z",
        0,
        "",
    )
    assert msg.timestamp_ns == 1675973975_396251350
    (event,) = msg.events
    assert event.kind == "snapshot"
    assert event.trades == (
        MarketTrade(
            trade_id="000000000",
            product_id="ETH-USD",
            price=D("1260.01"),
            size=D("0.3"),
            side="BUY",
            time="2019-08-14T20:42:27.265Z",
        ),
    )
    trade = event.trades[0]
    assert str(trade.price) == "1260.01"
    assert trade.taker_side == "SELL"
    assert trade.time_ns == 1565815347_265000000


def test_l2_snapshot_doc_sample() -> None:
    """l2_data snapshot from the docs: exact level strings, the epoch as event time."""
    msg = decode("l2_data_snapshot")
    assert isinstance(msg, L2DataMessage)
    assert msg.timestamp_ns == 1675974770_714964855
    (event,) = msg.events
    assert (event.kind, event.product_id) == ("snapshot", "BTC-USD")
    assert event.updates == (
        L2Update("bid", "1970-01-01T00:00:00Z", "21921.73", "0.06317902"),
        L2Update("bid", "1970-01-01T00:00:00Z", "21921.3", "0.02"),
    )
    assert event.updates[0].event_time_ns == 0
    assert (event.updates[0].price, event.updates[0].quantity) == (D("21921.73"), D("0.06317902"))


def test_l2_snapshot_live_sample_keeps_interleaved_order() -> None:
    """The live 2026 snapshot: sides "offer"/"bid" interleaved and unsorted, kept in order."""
    msg = decode("l2_data_snapshot_live_2026")
    assert isinstance(msg, L2DataMessage)
    assert msg.client_id == ""
    (event,) = msg.events
    assert event.product_id == "BTC-PERP-INTX"
    assert [(u.side, u.price_level, u.new_quantity) for u in event.updates] == [
        ("offer", "79944.1", "1.2"),
        ("bid", "79943.9", "3.0105"),
        ("bid", "79943.8", "0.5"),
        ("offer", "79944", "0.048"),
    ]
    assert event.updates[0].event_time_ns == 1788746278_894355000


def test_l2_update_sample() -> None:
    """An l2_data update: "0" is kept exactly (it deletes the level), trailing zeros too."""
    msg = decode("doc_l2_data_update")
    assert isinstance(msg, L2DataMessage)
    assert msg.client_id == ""  # absent in 2026 frames
    (event,) = msg.events
    assert event.kind == "update"
    assert [(u.side, u.price_level, u.new_quantity) for u in event.updates] == [
        ("offer", "79944.1", "0"),
        ("bid", "79943.95", "0.25000000"),
    ]
    assert event.updates[1].event_time_ns == 1788746279_011000001


def test_ticker_sample() -> None:
    """ticker: every figure an exact Decimal, including a negative percentage."""
    msg = decode("ticker")
    assert isinstance(msg, TickerMessage)
    (ticker,) = msg.events[0].tickers
    assert ticker.kind == "ticker"
    assert ticker.product_id == "BTC-USD"
    assert ticker.price == D("21932.98")
    assert ticker.volume_24_h == D("16038.28770938")
    assert (ticker.low_24_h, ticker.high_24_h) == (D("21835.29"), D("23011.18"))
    assert (ticker.low_52_w, ticker.high_52_w) == (D("15460"), D("48240"))
    assert str(ticker.price_percent_chg_24_h) == "-4.15775596190603"
    assert (ticker.best_bid, ticker.best_bid_quantity) == (D("21931.98"), D("8000.21"))
    assert (ticker.best_ask, ticker.best_ask_quantity) == (D("21933.98"), D("8038.07770938"))


def test_ticker_batch_has_no_best_bid_ask() -> None:
    """ticker_batch: the same ticker without best bid/ask, which decode as None."""
    msg = decode("doc_ticker_batch")
    assert isinstance(msg, TickerBatchMessage)
    (ticker,) = msg.events[0].tickers
    assert ticker.price == D("21932.98")
    assert (ticker.best_bid, ticker.best_ask, ticker.best_bid_quantity) == (None, None, None)


def test_candles_sample() -> None:
    """candles: OHLCV Decimals and the start kept as the UNIX-seconds string."""
    msg = decode("candles")
    assert isinstance(msg, CandlesMessage)
    assert msg.events[0].candles == (
        Candle(
            start="1688998200",
            high=D("1867.72"),
            low=D("1865.63"),
            open=D("1867.38"),
            close=D("1866.81"),
            volume=D("0.20269406"),
            product_id="ETH-USD",
        ),
    )
    assert msg.events[0].candles[0].start_s == 1688998200


def test_heartbeats_doc_sample_counter_as_string() -> None:
    """heartbeats from the docs: the counter is a string there and still reads as an int."""
    msg = decode("heartbeats")
    assert isinstance(msg, HeartbeatsMessage)
    (event,) = msg.events
    assert event.heartbeat_counter == "3049"
    assert event.counter == 3049
    assert event.current_time == "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105"


def test_status_sample() -> None:
    """status: product facts with Decimal increments."""
    msg = decode("status")
    assert isinstance(msg, StatusMessage)
    (product,) = msg.events[0].products
    assert (product.id, product.product_type, product.display_name) == (
        "BTC-USD",
        "SPOT",
        "BTC/USD",
    )
    assert (product.base_currency, product.quote_currency) == ("BTC", "USD")
    assert product.base_increment == D("0.00000001")
    assert product.quote_increment == D("0.01")
    assert (product.status, product.status_message) == ("online", "")
    assert product.min_market_funds == D("1")


def test_live_capture_acks_and_integer_heartbeat() -> None:
    """The live capture: two cumulative acks (no client_id) then a heartbeat with an int counter."""
    frames = [json.dumps(item) for item in json.loads(text("subscriptions_ack_live_2026"))]
    first, second, heartbeat = (decode_message(frame) for frame in frames)
    assert isinstance(first, SubscriptionsMessage)
    assert isinstance(second, SubscriptionsMessage)
    assert first.sequence_num == 1
    assert first.current() == {"level2": ("BTC-PERP-INTX", "ETH-PERP-INTX")}
    assert second.sequence_num == 2
    assert second.current() == {
        "heartbeats": ("heartbeats",),
        "level2": ("BTC-PERP-INTX", "ETH-PERP-INTX"),
    }
    assert isinstance(heartbeat, HeartbeatsMessage)
    assert heartbeat.sequence_num == 3
    assert heartbeat.events[0].heartbeat_counter == 139651
    assert heartbeat.events[0].counter == 139651
    assert heartbeat.timestamp_ns == 1788824242_675755362


def test_user_snapshot_sample() -> None:
    """user: numeric order fields are Decimals, not-applicable ones stay "" with None views."""
    msg = decode("doc_user_snapshot")
    assert isinstance(msg, UserMessage)
    (event,) = msg.events
    (order,) = event.orders
    assert isinstance(order, Order)
    assert (order.order_id, order.status, order.order_side, order.order_type) == (
        "8a3a6f54-8a4b-4a1e-9c1f-2c0e9c6a7b21",
        "OPEN",
        "BUY",
        "Limit",
    )
    assert order.leaves_quantity == D("0.000994")
    assert (order.cumulative_quantity, order.avg_price, order.total_fees) == (D(0), D(0), D(0))
    assert order.limit_price_decimal == D("21000.01")
    assert order.stop_price == ""
    assert order.stop_price_decimal is None
    assert order.creation_time_ns == 1675974837_609931000
    assert event.positions is not None
    (position,) = event.positions.expiring_futures_positions
    assert (position.product_id, position.side, position.entry_price) == (
        "BIT-28JUL23-CDE",
        "LONG",
        "30520",
    )
    assert event.positions.perpetual_futures_positions == ()


def test_user_backlog_batches_of_fifty() -> None:
    """The open-orders snapshot comes in batches of 50; a batch with fewer ends it."""
    order = decode("doc_user_snapshot").events[0].orders[0]
    full = UserEvent("snapshot", (order,) * USER_SNAPSHOT_BATCH)
    last = UserEvent("snapshot", (order,) * 3)
    empty_last = UserEvent("snapshot", ())
    update = UserEvent("update", (order,))
    assert not full.ends_backlog
    assert last.ends_backlog
    assert empty_last.ends_backlog
    assert not update.ends_backlog


def test_futures_balance_summary_sample() -> None:
    """futures_balance_summary: every amount a Decimal, margin windows included."""
    msg = decode("doc_futures_balance_summary")
    assert isinstance(msg, FuturesBalanceSummaryMessage)
    summary = msg.events[0].fcm_balance_summary
    assert summary.futures_buying_power == D("100.00")
    assert summary.liquidation_buffer_percentage == D("1000")
    assert summary.daily_realized_pnl == D("0")
    assert summary.overnight_margin_window_measure is not None
    assert summary.overnight_margin_window_measure.total_hold == D("-30.00")
    assert summary.intraday_margin_window_measure is not None
    assert summary.intraday_margin_window_measure.margin_window_type == (
        "FCM_MARGIN_WINDOW_TYPE_INTRADAY"
    )


def test_error_message() -> None:
    """{"type": "error"} has no channel and decodes to ErrorMessage."""
    assert decode("doc_error") == ErrorMessage("authentication failure")


def test_subscribe_request_samples_are_not_server_messages() -> None:
    """The request samples carry a channel but no envelope: kept as unknown, never dropped."""
    msg = decode("subscribe_request_level2")
    assert isinstance(msg, UnknownMessage)
    assert msg.channel == "level2"
    assert msg.raw["product_ids"] == ["ETH-USD", "BTC-USD"]


# -- unknown and malformed messages --------------------------------------------------------


def test_unknown_channel_is_kept() -> None:
    """A channel this version does not know arrives as UnknownMessage with its payload."""
    msg = decode_message('{"channel": "auctions", "sequence_num": 9, "events": []}')
    assert msg == UnknownMessage(
        "auctions", {"channel": "auctions", "sequence_num": 9, "events": []}
    )


def test_object_of_no_known_shape_is_kept() -> None:
    """An object with neither channel nor type is kept too."""
    assert decode_message('{"hello": 1}') == UnknownMessage(None, {"hello": 1})


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        ("not json", "malformed JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"channel": "market_trades", "sequence_num": 1}', "timestamp"),
        (
            '{"channel": "market_trades", "timestamp": "t", "sequence_num": 1, "events": '
            '[{"type": "update", "trades": [{"trade_id": "1", "product_id": "A", "price": "NaN",'
            ' "size": "1", "side": "BUY", "time": "t"}]}]}',
            "$.events[0].trades[0]",
        ),
        (
            '{"channel": "ticker", "timestamp": "t", "sequence_num": 1, "events": [{"type": '
            '"update", "tickers": [{"product_id": "A", "price": "Infinity", "volume_24_h": "1",'
            ' "low_24_h": "1", "high_24_h": "1", "price_percent_chg_24_h": "1"}]}]}',
            "finite",
        ),
        (
            '{"channel": "l2_data", "timestamp": "t", "sequence_num": 1, "events": [{"type": '
            '"update", "product_id": "A", "updates": [{"side": "ask", "event_time": "t", '
            '"price_level": "1", "new_quantity": "1"}]}]}',
            "$.events[0].updates[0].side",
        ),
        ('{"channel": "heartbeats", "timestamp": "t", "sequence_num": "1"}', "sequence_num"),
        ('{"type": "error", "message": 5}', "message"),
    ],
)
def test_malformed_known_messages_raise_decode_error(frame: str, fragment: str) -> None:
    """A known channel that does not fit its model is a DecodeError naming the field."""
    with pytest.raises(DecodeError, match="Coinbase") as info:
        decode_message(frame)
    assert fragment in str(info.value)
    assert info.value.raw == frame


def test_models_are_frozen() -> None:
    """Wire models cannot be changed after decoding."""
    trade = decode("market_trades").events[0].trades[0]
    with pytest.raises(AttributeError):
        trade.price = D(1)


def test_encode_round_trips_every_sample() -> None:
    """encode_message gives back Coinbase's keys: decoding it again gives an equal message."""
    names = [
        "market_trades",
        "l2_data_snapshot",
        "l2_data_snapshot_live_2026",
        "doc_l2_data_update",
        "ticker",
        "doc_ticker_batch",
        "candles",
        "heartbeats",
        "status",
        "doc_user_snapshot",
        "doc_futures_balance_summary",
        "doc_error",
    ]
    for name in names:
        msg = decode(name)
        assert not isinstance(msg, UnknownMessage)
        again = encode_message(msg)
        assert decode_message(again) == msg, name
        if not isinstance(msg, ErrorMessage):
            assert json.loads(again)["channel"] == json.loads(text(name))["channel"]


def test_data_channel_of_level2_is_l2_data() -> None:
    """Subscribing level2 delivers channel l2_data; every other channel keeps its name."""
    assert DATA_CHANNELS["level2"] == "l2_data"
    assert all(k == v for k, v in DATA_CHANNELS.items() if k != "level2")


# -- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("2023-02-09T20:32:50.714964855Z", 1675974770_714964855),
        ("2019-08-14T20:42:27.265Z", 1565815347_265000000),
        ("2026-09-07T01:57:58.894355Z", 1788746278_894355000),
        ("2026-09-07T03:57:58.5+02:00", 1788746278_500000000),
        ("1969-12-31T23:59:59.999999999Z", -1),
    ],
)
def test_rfc3339_to_ns_is_exact(stamp: str, ns: int) -> None:
    """RFC 3339 timestamps become integer nanoseconds with no rounding."""
    assert rfc3339_to_ns(stamp) == ns


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        "2023-02-09",
        "2023-02-09T20:32:50",
        "2023-02-09T20:32:50.Z",
        "2023-02-09T20:32:50.1234567891Z",
        "x" * 20,
    ],
)
def test_rfc3339_to_ns_rejects_other_text(stamp: str) -> None:
    """Anything that is not a full RFC 3339 timestamp is a ValueError."""
    with pytest.raises(ValueError, match="RFC 3339"):
        rfc3339_to_ns(stamp)


@given(st.integers(min_value=0, max_value=4_102_444_800 * 10**9 - 1))
def test_rfc3339_round_trip(ns: int) -> None:
    """Any instant written with nine fraction digits reads back to the same nanosecond."""
    from datetime import UTC, datetime

    seconds, fraction = divmod(ns, 10**9)
    head = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert rfc3339_to_ns(f"{head}.{fraction:09d}Z") == ns


def test_msgspec_struct_config() -> None:
    """Every wire model is a frozen msgspec Struct without GC tracking."""
    for cls in (MarketTrade, L2Update, Order, Candle, HeartbeatsMessage, SubscriptionsMessage):
        config = cls.__struct_config__
        assert issubclass(cls, msgspec.Struct)
        assert config.frozen
        assert not config.gc
