"""Per-topic stats on typed Binance streams: last arrival, event time and event-time lag."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
import trio

from trio_venues import _session
from trio_venues.venues.binance import BookTicker, Trade
from trio_venues.venues.binance._wire import to_wire

from ._helpers import Fake, messages, spot


async def test_topic_stats_follow_the_last_message_of_each_topic(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each topic reports its last message's arrival and event time; lag uses the wall clock."""
    async with spot(fake, kind, "btcusdt@trade", "btcusdt@bookTicker") as ws:
        await fake.wait_connected()
        await fake.push("btcusdt@trade")
        await trio.sleep(1)
        # Event time and trade time differ, so the stats must read the event time.
        stamped = Trade(
            "BTCUSDT", 7, Decimal("1.5"), Decimal("2"), 1_700_000_000_000, 1_700_000_000_009, False
        )
        await fake.push("btcusdt@trade", to_wire(stamped))
        await fake.push("btcusdt@bookTicker")
        first, second, ticker = await messages(ws, 3)
        await trio.sleep(2)
        assert isinstance(second.data, Trade)
        assert isinstance(ticker.data, BookTicker)
        # The wall clock 250 ms after the venue stamped the last trade, read 2 s after it
        # arrived: the lag is what it was on arrival, 2 s less.
        wall_ms = second.data.event_time + 2250
        monkeypatch.setattr(_session, "time", SimpleNamespace(time=lambda: wall_ms / 1000))
        stats = ws.stats
    trades = stats.topics["btcusdt@trade"]
    assert trades.messages == 2
    assert first.received_at + 1 == second.received_at
    assert trades.last_received_at == second.received_at
    assert second.data == stamped
    assert trades.last_event_time == 1_700_000_000_009
    assert trades.event_lag_ms == pytest.approx(250)
    # Book tickers carry no event time: the topic is counted, its lag is unknown.
    tickers = stats.topics["btcusdt@bookTicker"]
    assert tickers.messages == 1
    assert tickers.last_received_at == ticker.received_at
    assert tickers.last_event_time is None
    assert tickers.event_lag_ms is None
