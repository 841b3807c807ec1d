"""``trio-venues stream --unified VENUE:TOPIC ...``: unified JSON lines from several venues."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import trio

from trio_venues import unified
from trio_venues.cli import ExitCode, run
from trio_venues.cli._stream import parse_unified_specs, unified_json
from trio_venues.unified import Trade

from ._helpers import WatchedText, run_cli


async def test_one_venue_count_lines_of_unified_trades(tmp_path: Path) -> None:
    """--count N writes N unified trades, each with its wall-clock time, readable back."""
    out = tmp_path / "out.jsonl"
    before = time.time()
    with trio.fail_after(60):
        code, stdout, stderr = await run_cli(
            [
                *("stream", "--unified", "binance:btcusdt@trade"),
                *("--fake", "--count", "25", "--jsonl", str(out)),
            ]
        )
    assert code == ExitCode.OK, stderr
    assert stdout == ""
    assert "binance: connected to" in stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 25
    for line in lines:
        record = json.loads(line)
        assert before - 1 <= record["wall_time"] <= time.time() + 1
        assert (record["kind"], record["venue"], record["symbol"]) == (
            "trade",
            "binance",
            "BTC-USDT",
        )
        assert isinstance(record["price"], str)
        event = unified.decode(line)
        assert isinstance(event, Trade)
    ids = [int(json.loads(line)["trade_id"]) for line in lines]
    assert ids == sorted(ids)


async def test_two_venues_stream_into_one_output() -> None:
    """binance:... and okx:... in one command: JSON lines of both venues on stdout."""
    out, err = WatchedText(), WatchedText()

    def both(text: str) -> bool:
        venues = {json.loads(line)["venue"] for line in text.splitlines()}
        return venues == {"binance", "okx"}

    argv = ["stream", "--unified", "binance:btcusdt@trade", "okx:trades:BTC-USDT", "--fake"]
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: run(argv, stdout=out, stderr=err))
            await out.wait_for(both)
            nursery.cancel_scope.cancel()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["kind"] for r in records} == {"trade"}
    assert all("wall_time" in r for r in records)
    okx = [r for r in records if r["venue"] == "okx"]
    assert {(r["symbol"], r["venue_symbol"]) for r in okx} == {("BTC-USDT", "BTC-USDT")}
    assert "okx: connected to" in err.getvalue()


async def test_a_refused_topic_is_a_usage_error() -> None:
    """A topic the venue refuses: the venue gives up, and with no venue left, exit 2."""
    with trio.fail_after(60):
        code, stdout, stderr = await run_cli(
            ["stream", "--unified", "binance:btcusdt@kline_7x", "--fake"]
        )
    assert code == ExitCode.USAGE
    assert stdout == ""
    assert "binance: gave up" in stderr
    assert "every venue gave up after 0 event(s)" in stderr


async def test_bad_unified_arguments_are_usage_errors() -> None:
    """No colon, unknown venues, venues without a unified form, bad topics, --url: exit 2."""
    cases = [
        (["binance"], "VENUE:TOPIC"),
        (["nowhere:x"], "unknown venue"),
        (["generic:trades"], "no unified form"),
        (["binance:BTC USDT"], "binance: invalid stream name"),
        (["binance:btcusdt@trade", "--url", "ws://127.0.0.1:1/"], "--url is per venue"),
    ]
    for extra, message in cases:
        code, stdout, stderr = await run_cli(["stream", "--unified", *extra])
        assert code == ExitCode.USAGE, extra
        assert message in stderr, (extra, stderr)
        assert stdout == ""


async def test_plain_stream_still_checks_its_venue_and_topics() -> None:
    """Without --unified, VENUE must be a venue and at least one TOPIC is needed (exit 2)."""
    code, _, stderr = await run_cli(["stream", "nowhere", "btcusdt@trade"])
    assert code == ExitCode.USAGE
    assert "invalid choice: 'nowhere'" in stderr
    code, _, stderr = await run_cli(["stream", "binance"])
    assert code == ExitCode.USAGE
    assert "required: TOPIC" in stderr


def test_specs_group_topics_by_venue_in_order() -> None:
    """Topics of one venue go to one feed, in the order given, once each; aliases resolve."""
    assert parse_unified_specs(
        [
            "binance-spot:btcusdt@trade",
            "okx:trades:BTC-USDT",
            "binance:ethusdt@trade",
            "okx:trades:BTC-USDT",
        ]
    ) == {"binance": ["btcusdt@trade", "ethusdt@trade"], "okx": ["trades:BTC-USDT"]}


def test_unified_json_puts_the_wall_time_first() -> None:
    """The line is the event's own JSON with wall_time added: exact strings, decodable."""
    trade = Trade("okx", "BTC-USDT", "BTC-USDT", "buy", Decimal("0.10"), Decimal(1), "9", 5, 1.0)
    line = unified_json(trade, wall_time=1700000000.25)
    assert line.startswith('{"wall_time":1700000000.25,"kind":"trade",')
    assert json.loads(line)["price"] == "0.10"
    assert unified.decode(line) == trade
