"""Coinbase's side of gapless feeds: market_trades trade ids, batches trimmed trade by trade."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from trio_venues.events import Message
from trio_venues.venues.coinbase import CoinbaseCore, MarketTradesMessage

DATA = Path(__file__).resolve().parents[1] / "protocol" / "data" / "coinbase"
SAMPLE: dict[str, Any] = json.loads((DATA / "market_trades.json").read_text(encoding="utf-8"))


def _trade(trade_id: str, product: str = "ETH-USD") -> dict[str, Any]:
    trade: dict[str, Any] = copy.deepcopy(SAMPLE["events"][0]["trades"][0])
    trade.update(trade_id=trade_id, product_id=product)
    return trade


def _message(*events: tuple[str, list[dict[str, Any]]]) -> Message:
    frame = copy.deepcopy(SAMPLE)
    frame["events"] = [{"type": kind, "trades": trades} for kind, trades in events]
    out = [o for o in CoinbaseCore().decode(json.dumps(frame), 0.0) if isinstance(o, Message)]
    assert len(out) == 1
    return out[0]


def _ids(message: MarketTradesMessage) -> list[str]:
    return [t.trade_id for e in message.events for t in e.trades]


def test_the_sample_spans_its_one_trade() -> None:
    """The recorded market_trades message spans its trade id."""
    (message,) = [
        o for o in CoinbaseCore().decode(json.dumps(SAMPLE), 0.0) if isinstance(o, Message)
    ]
    ids = CoinbaseCore().topic_ids("market_trades:ETH-USD")
    assert message.topic == "market_trades:ETH-USD"
    assert ids is not None
    assert ids.span(message.data) == (0, 0)


def test_a_batch_spans_its_lowest_and_highest_trade_id_newest_first() -> None:
    """A snapshot sent newest first spans (min, max) of its trade ids."""
    message = _message(("snapshot", [_trade("105"), _trade("104"), _trade("101")]))
    ids = CoinbaseCore().topic_ids("market_trades:ETH-USD")
    assert ids is not None
    assert ids.span(message.data) == (101, 105)


def test_trim_keeps_later_trades_and_drops_emptied_events() -> None:
    """trim keeps trades above ``after`` in their order; an event left empty is removed."""
    message = _message(
        ("snapshot", [_trade("103"), _trade("102")]),
        ("update", [_trade("106"), _trade("104"), _trade("105")]),
    )
    ids = CoinbaseCore().topic_ids("market_trades:ETH-USD")
    assert ids is not None
    assert ids.trim is not None
    trimmed = ids.trim(message.data, 104)
    assert isinstance(trimmed, MarketTradesMessage)
    assert _ids(trimmed) == ["106", "105"]
    assert [e.kind for e in trimmed.events] == ["update"]
    assert trimmed.sequence_num == message.data.sequence_num
    assert _ids(ids.trim(message.data, 102)) == ["103", "106", "104", "105"]


def test_non_numeric_trade_ids_carry_none() -> None:
    """A batch with a trade id that is not a plain number spans None."""
    message = _message(("update", [_trade("7"), _trade("x-8")]))
    ids = CoinbaseCore().topic_ids("market_trades:ETH-USD")
    assert ids is not None
    assert ids.span(message.data) is None
    assert ids.span({"trade_id": "1"}) is None


@pytest.mark.parametrize(
    "topic",
    [
        "level2:BTC-USD",
        "ticker:BTC-USD",
        "ticker_batch:BTC-USD",
        "candles:BTC-USD",
        "user",
        "heartbeats",
        "status",
        "market_trades",
    ],
)
def test_other_channels_have_no_cross_connection_id(topic: str) -> None:
    """level2 (only a per-connection sequence_num), tickers, candles and user: no id."""
    assert CoinbaseCore().topic_ids(topic) is None


def test_coinbase_documents_no_age_and_no_cap() -> None:
    """No documented connection age or per-connection topic cap."""
    core = CoinbaseCore()
    assert core.max_connection_age is None
    assert core.connection_fits([f"market_trades:C{i}-USD" for i in range(5000)])
