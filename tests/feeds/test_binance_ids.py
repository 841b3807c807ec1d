"""Binance's side of gapless feeds: stream ids, the 24 h cut, the 1,024-stream cap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trio_venues.events import Message
from trio_venues.venues.binance import BinanceApiCore, BinanceSpotCore
from trio_venues.venues.binance._protocol import encode_combined

DATA = Path(__file__).resolve().parents[1] / "protocol" / "data" / "binance"


def _message(stream: str, sample: str, **changes: Any) -> Message:
    payload = json.loads((DATA / f"{sample}.json").read_text(encoding="utf-8"))
    payload.update(changes)
    (out,) = BinanceSpotCore().decode(encode_combined(stream, payload), 0.0)
    assert isinstance(out, Message)
    return out


@pytest.mark.parametrize(
    ("stream", "sample", "span"),
    [
        ("bnbbtc@trade", "trade", (12345, 12345)),
        ("bnbbtc@aggTrade", "agg_trade", (12345, 12345)),
        ("bnbbtc@depth", "depth_update", (157, 160)),
        ("bnbbtc@depth@100ms", "depth_update", (157, 160)),
    ],
)
def test_streams_with_ids_span_the_venue_ids(
    stream: str, sample: str, span: tuple[int, int]
) -> None:
    """trade t, aggTrade a and diff depth U..u are read from the decoded sample messages."""
    message = _message(stream, sample)
    ids = BinanceSpotCore().topic_ids(stream)
    assert ids is not None
    assert ids.span(message.data) == span
    assert ids.trim is None


def test_a_depth_diff_is_delivered_whole() -> None:
    """A diff depth message is never trimmed (its levels are absolute)."""
    ids = BinanceSpotCore().topic_ids("btcusdt@depth@100ms")
    assert ids is not None
    assert ids.trim is None


def test_a_message_of_another_type_on_an_id_stream_carries_no_id() -> None:
    """A payload that is not the stream's type (an unknown event) spans None, not an error."""
    message = _message("bnbbtc@trade", "trade", e="somethingNew")
    ids = BinanceSpotCore().topic_ids("bnbbtc@trade")
    assert ids is not None
    assert ids.span(message.data) is None


@pytest.mark.parametrize(
    "stream",
    [
        "btcusdt@bookTicker",
        "btcusdt@depth5@100ms",
        "btcusdt@depth20",
        "btcusdt@kline_1m",
        "btcusdt@ticker",
        "btcusdt@miniTicker",
        "!ticker@arr",
        "!bookTicker",
        "btcusdt@avgPrice",
        "btcusdt@tradeX",
        "@trade",
    ],
)
def test_streams_without_cross_connection_ids_have_none(stream: str) -> None:
    """Tickers, klines, book tickers and partial depth have no usable id."""
    assert BinanceSpotCore().topic_ids(stream) is None


def test_both_endpoints_are_cut_at_24_hours() -> None:
    """Market streams and the WebSocket API end every connection at 24 h."""
    assert BinanceSpotCore().max_connection_age == 24 * 3600
    assert BinanceApiCore().max_connection_age == 24 * 3600


def test_a_connection_carries_at_most_1024_streams() -> None:
    """1,024 distinct streams fit on one connection, 1,025 do not; repeats count once."""
    core = BinanceSpotCore()
    streams = [f"s{i}usdt@trade" for i in range(1024)]
    assert core.connection_fits(streams)
    assert core.connection_fits([*streams, streams[0]])
    assert not core.connection_fits([*streams, "extra@trade"])
