"""The Bybit row of ``make bench`` runs every slice over all its messages and reports."""

from __future__ import annotations

import orjson

from benchmarks import bench_bybit


def test_bench_bybit_counts_every_message_in_every_row() -> None:
    """bench_bybit.run() passes every message through each row (it raises on a miscount)."""
    us = bench_bybit.run(count=300, rounds=1)
    assert set(us) == {"minimal", "typed decode", "session"}
    assert all(value > 0 for value in us.values())
    text = bench_bybit.report(us, 300, 1)
    assert "x the Trio limit" in text


def test_bench_payloads_are_bybit_trades() -> None:
    """The payloads are deterministic publicTrade messages with the topic first."""
    first = bench_bybit.bybit_trade_payloads(3)
    assert first == bench_bybit.bybit_trade_payloads(3)
    message = orjson.loads(first[0])
    assert next(iter(message)) == "topic"
    assert message["data"][0]["p"].count(".") == 1
