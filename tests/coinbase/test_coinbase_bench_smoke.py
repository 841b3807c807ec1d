"""The Coinbase path benchmark runs on a few messages and prints its rows (never timings)."""

from __future__ import annotations

import orjson

from benchmarks import bench_coinbase
from trio_venues.venues.coinbase import MarketTradesMessage, decode_message


def test_payloads_are_coinbase_market_trades() -> None:
    """The benchmark's frames are market_trades messages the client decodes, numbered 0.."""
    payloads = bench_coinbase.trade_payloads(5)
    assert payloads == bench_coinbase.trade_payloads(5)
    decoded = [decode_message(p) for p in payloads]
    assert all(isinstance(m, MarketTradesMessage) for m in decoded)
    assert [orjson.loads(p)["sequence_num"] for p in payloads] == [0, 1, 2, 3, 4, 5]
    last = decoded[-1]
    assert isinstance(last, MarketTradesMessage)
    assert last.events[0].trades[0].product_id == bench_coinbase.SENTINEL_PRODUCT


def test_every_row_counts_every_message(capsys: object) -> None:
    """minimal, typed decode and session each count the same messages; the table prints."""
    chunks = bench_coinbase._chunks(300)
    for name, row in bench_coinbase.ROWS.items():
        assert row(chunks) == 300, name
    bench_coinbase.main(["--count", "200", "--rounds", "1"])
