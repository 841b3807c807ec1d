"""Linear/inverse ticker deltas merged into whole tickers (pure), the raw delta kept."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from trio_venues.venues.bybit import LinearTicker, MissingTickerSnapshot, TickerMerger

DATA = Path(__file__).parent / "data" / "bybit"
D = Decimal


def snapshot() -> dict[str, Any]:
    """The recorded linear ticker snapshot."""
    return json.loads((DATA / "ticker_linear.json").read_text())  # type: ignore[no-any-return]


def delta(**fields: str) -> dict[str, Any]:
    """A delta for BTCUSDT carrying only ``fields`` (Bybit's keys)."""
    return {
        "topic": "tickers.BTCUSDT",
        "type": "delta",
        "cs": 9532239430,
        "ts": 1760325052730,
        "data": {"symbol": "BTCUSDT", **fields},
    }


def test_snapshot_gives_the_whole_ticker_and_no_delta() -> None:
    """A snapshot is delivered whole, with delta None."""
    merged = TickerMerger().apply(snapshot())
    assert merged.type == "snapshot"
    assert merged.delta is None
    assert merged.ticker.last_price == D("66666.60")
    assert merged.ticker.funding_rate == D("-0.005")
    assert merged.cs == 9532239429


def test_delta_updates_only_the_fields_it_carries() -> None:
    """Missing fields keep their last value; carried fields change; the raw delta is kept."""
    merger = TickerMerger()
    merger.apply(snapshot())
    merged = merger.apply(delta(lastPrice="66700.10", bid1Price="66700.00"))
    assert merged.type == "delta"
    assert merged.cs == 9532239430
    assert merged.ts == 1760325052730
    assert merged.ticker.last_price == D("66700.10")
    assert merged.ticker.bid1_price == D("66700.00")
    assert merged.ticker.ask1_price == D("66666.70")
    assert merged.ticker.open_interest == D("492373.72")
    assert merged.delta == LinearTicker(
        symbol="BTCUSDT", last_price=D("66700.10"), bid1_price=D("66700.00")
    )
    # A second delta builds on the first.
    again = merger.apply(delta(ask1Price="66700.20"))
    assert (again.ticker.last_price, again.ticker.ask1_price) == (D("66700.10"), D("66700.20"))


def test_empty_string_in_a_delta_clears_the_field() -> None:
    """A field sent as "" (no value) is a change, not "unchanged": it becomes None."""
    merger = TickerMerger()
    merger.apply({**snapshot(), "data": {**snapshot()["data"], "preOpenPrice": "1.5"}})
    merged = merger.apply(delta(preOpenPrice=""))
    assert merged.ticker.pre_open_price is None
    assert merged.ticker.last_price == D("66666.60")


def test_new_snapshot_replaces_everything() -> None:
    """A later snapshot replaces the stored ticker, dropping fields it lacks."""
    merger = TickerMerger()
    merger.apply(snapshot())
    merged = merger.apply(
        {
            "topic": "tickers.BTCUSDT",
            "type": "snapshot",
            "ts": 2,
            "data": {"symbol": "BTCUSDT", "lastPrice": "1"},
        }
    )
    assert merged.ticker == LinearTicker(symbol="BTCUSDT", last_price=D("1"))


def test_delta_before_snapshot_is_refused() -> None:
    """A delta with no snapshot for its topic cannot be made whole: MissingTickerSnapshot."""
    merger = TickerMerger()
    with pytest.raises(MissingTickerSnapshot, match="before any snapshot") as info:
        merger.apply(delta(lastPrice="1"))
    assert info.value.topic == "tickers.BTCUSDT"
    assert "tickers.BTCUSDT" not in merger


def test_topics_are_merged_independently_and_can_be_forgotten() -> None:
    """Each topic has its own state; forget() and clear() drop it."""
    merger = TickerMerger()
    merger.apply(snapshot())
    eth = {
        **snapshot(),
        "topic": "tickers.ETHUSDT",
        "data": {"symbol": "ETHUSDT", "lastPrice": "2500"},
    }
    merger.apply(eth)
    merged = merger.apply(
        {**delta(lastPrice="2501"), "topic": "tickers.ETHUSDT", "data": {"lastPrice": "2501"}}
    )
    assert merged.ticker == LinearTicker(symbol="ETHUSDT", last_price=D("2501"))
    merger.forget("tickers.ETHUSDT")
    assert "tickers.ETHUSDT" not in merger
    assert "tickers.BTCUSDT" in merger
    merger.clear()
    with pytest.raises(MissingTickerSnapshot):
        merger.apply(delta(lastPrice="1"))


def test_malformed_delta_leaves_the_state_unchanged() -> None:
    """A delta with a bad value is refused and the stored ticker stays as it was."""
    merger = TickerMerger()
    merger.apply(snapshot())
    with pytest.raises(ValueError, match="lastPrice"):
        merger.apply(delta(lastPrice="not-a-number"))
    assert merger.apply(delta()).ticker.last_price == D("66666.60")
