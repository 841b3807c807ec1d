"""Bybit topic names, endpoint URLs and request splitting under the category limits."""

from __future__ import annotations

import pytest

from trio_venues.venues.bybit import (
    ENDPOINTS,
    MAX_ARGS_CHARS,
    TESTNET_ENDPOINTS,
    all_liquidation_topic,
    endpoint_url,
    kline_topic,
    liquidation_topic,
    orderbook_topic,
    split_args,
    ticker_topic,
    trade_topic,
    validate_topic,
)


def test_topic_builders_spell_bybit_topics() -> None:
    """Each helper builds Bybit's own topic string."""
    assert trade_topic("BTCUSDT") == "publicTrade.BTCUSDT"
    assert orderbook_topic("BTCUSDT", 50) == "orderbook.50.BTCUSDT"
    assert (
        orderbook_topic("BTC-6JAN23-18000-C", 100, "option") == "orderbook.100.BTC-6JAN23-18000-C"
    )
    assert ticker_topic("SOLUSDT_SOL/USDT") == "tickers.SOLUSDT_SOL/USDT"
    assert kline_topic("BTCUSDT", 5) == "kline.5.BTCUSDT"
    assert kline_topic("BTCUSDT", "D") == "kline.D.BTCUSDT"
    assert liquidation_topic("BTCUSDT") == "liquidation.BTCUSDT"
    assert all_liquidation_topic("BTCUSDT") == "allLiquidation.BTCUSDT"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: orderbook_topic("BTCUSDT", 25, "spot"), "depth 25 on spot"),
        (lambda: orderbook_topic("BTCUSDT", 7), "depth 7"),
        (lambda: orderbook_topic("BTCUSDT", 1, "private"), "no order books"),
        (lambda: kline_topic("BTCUSDT", "1m"), "interval"),
        (lambda: trade_topic("btcusdt"), "upper case"),
        (lambda: trade_topic("BTC.USDT"), "invalid symbol"),
        (lambda: trade_topic(""), "invalid symbol"),
    ],
)
def test_topic_builders_refuse_what_bybit_does_not_offer(call: object, match: str) -> None:
    """Depths, intervals and symbols Bybit does not accept are refused with the valid ones."""
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("topic", ["", "a b", 'a"b', "x" * 201, "tickers.BTC\u00e9"])
def test_validate_topic_refuses_unsendable_names(topic: str) -> None:
    """Empty, spaced, quoted, over-long or non-ASCII topics are refused."""
    with pytest.raises(ValueError, match="invalid Bybit topic"):
        validate_topic(topic)


def test_endpoints_and_hosts() -> None:
    """Endpoints by name, on mainnet, testnet or a regional host."""
    assert ENDPOINTS["spot"] == "wss://stream.bybit.com/v5/public/spot"
    assert TESTNET_ENDPOINTS["trade"] == "wss://stream-testnet.bybit.com/v5/trade"
    assert endpoint_url("private", "stream.bybit.tr") == "wss://stream.bybit.tr/v5/private"
    assert endpoint_url("status") == "wss://stream.bybit.com/v5/public/misc/status"
    with pytest.raises(ValueError, match="unknown Bybit endpoint"):
        endpoint_url("futures")


def test_spot_requests_carry_at_most_ten_topics() -> None:
    """Spot splits 25 topics into 10 + 10 + 5, in order; linear sends them in one request."""
    topics = [trade_topic(f"S{i}USDT") for i in range(25)]
    batches = split_args("spot", topics)
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [t for b in batches for t in b] == topics
    assert split_args("linear", topics) == [tuple(topics)]


def test_requests_stay_under_the_character_budget() -> None:
    """Topics are split so one request's args never exceed 21,000 characters."""
    topics = [f"orderbook.50.{'X' * 180}{i:04d}" for i in range(300)]
    batches = split_args("linear", topics)
    assert len(batches) > 1
    for batch in batches:
        assert sum(len(t) + 3 for t in batch) <= MAX_ARGS_CHARS
    assert [t for b in batches for t in b] == topics


def test_split_drops_duplicates_and_refuses_a_bare_string() -> None:
    """Repeated topics are sent once; a single str is not taken as a list of letters."""
    assert split_args("spot", ["a.B", "a.B", "c.D"]) == [("a.B", "c.D")]
    assert split_args("option", ["a.B"], max_args=1) == [("a.B",)]
    with pytest.raises(TypeError, match="not one str"):
        split_args("spot", "publicTrade.BTCUSDT")
