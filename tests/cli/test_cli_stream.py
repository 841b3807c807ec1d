"""``trio-venues stream``: typed events as lines or JSON lines, and its exit statuses."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from trio_venues.cli import ExitCode, run
from trio_venues.cli._common import resolve_venue, venue_describer
from trio_venues.cli._view import (
    decimal_text,
    describe_reason,
    format_message,
    message_json,
    number,
)
from trio_venues.events import Message
from trio_venues.reasons import RemoteClosed, ResubscribeTimeout
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.binance import FakeBinance, binance_server
from trio_venues.venues.binance import DepthUpdate, Kline, KlineBar, Trade

from ._helpers import WatchedText, run_cli


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeVenueServer[FakeBinance]:
    """A fake Binance on 127.0.0.1 that sends only what the test pushes."""
    server = binance_server(FakeBinance())
    await nursery.start(server.serve_tcp)
    return server


async def test_fake_stream_writes_100_valid_json_lines(tmp_path: Path) -> None:
    """``stream binance-spot btcusdt@trade --fake --count 100 --jsonl out.jsonl``: 100 trades."""
    out = tmp_path / "out.jsonl"
    with trio.fail_after(30):
        code, stdout, stderr = await run_cli(
            [
                "stream",
                "binance-spot",
                "btcusdt@trade",
                "--fake",
                "--count",
                "100",
                "--jsonl",
                str(out),
            ]
        )
    assert code == ExitCode.OK
    assert stdout == ""
    assert "subscribed: btcusdt@trade" in stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 100
    records = [json.loads(line) for line in lines]
    assert {r["topic"] for r in records} == {"btcusdt@trade"}
    assert {r["type"] for r in records} == {"Trade"}
    # The fake numbers trades from 1: none lost, none repeated.
    assert [r["data"]["trade_id"] for r in records] == list(range(1, 101))
    for record in records:
        data = record["data"]
        assert data["symbol"] == "BTCUSDT"
        # Exact decimal strings, never JSON numbers.
        assert isinstance(data["price"], str)
        assert isinstance(data["quantity"], str)
        assert Decimal(data["price"]) > 0
        assert isinstance(data["is_buyer_maker"], bool)
        assert isinstance(record["received_at"], float)
    times = [r["received_at"] for r in records]
    assert times == sorted(times)


async def test_lines_go_to_stdout_and_notes_to_stderr(fake: FakeVenueServer[FakeBinance]) -> None:
    """Without --jsonl: one human line per message on stdout; connection notes on stderr."""
    out, err = WatchedText(), WatchedText()
    argv = ["stream", "binance-spot", "btcusdt@trade", "ethusdt@depth@100ms", "--url", fake.url]
    async with trio.open_nursery() as nursery:
        codes: list[int] = []

        async def stream() -> None:
            codes.append(await run([*argv, "--count", "4"], stdout=out, stderr=err))

        nursery.start_soon(stream)
        conn = await fake.wait_connected()
        await conn.wait_subscribed("btcusdt@trade", "ethusdt@depth@100ms")
        for _ in range(2):
            await fake.push("btcusdt@trade")
            await fake.push("ethusdt@depth@100ms")
    assert codes == [ExitCode.OK]
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("btcusdt@trade  BTCUSDT trade #1 ")
    assert lines[1].startswith("ethusdt@depth@100ms  ETHUSDT depth U=")
    assert lines[2].startswith("btcusdt@trade  BTCUSDT trade #2 ")
    assert f"connected to {fake.url}" in err.getvalue()
    assert "subscribed: btcusdt@trade ethusdt@depth@100ms" in err.getvalue()


async def test_jsonl_dash_writes_json_to_stdout(fake: FakeVenueServer[FakeBinance]) -> None:
    """``--jsonl -`` puts the JSON lines on stdout."""
    out, err = WatchedText(), WatchedText()
    argv = ["stream", "binance-spot", "bnbbtc@kline_1m", "--url", fake.url, "--count", "2"]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: run([*argv, "--jsonl", "-"], stdout=out, stderr=err))
        conn = await fake.wait_connected()
        await conn.wait_subscribed("bnbbtc@kline_1m")
        await fake.push("bnbbtc@kline_1m")
        await fake.push("bnbbtc@kline_1m")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["type"] for r in records] == ["Kline", "Kline"]
    assert records[0]["data"]["bar"]["interval"] == "1m"
    assert isinstance(records[0]["data"]["bar"]["open"], str)


async def test_a_disconnect_before_count_exits_4_with_the_reason(
    fake: FakeVenueServer[FakeBinance],
) -> None:
    """The venue closes after 3 of 50 messages: exit 4, the typed reason on stderr."""
    out, err = WatchedText(), WatchedText()
    codes: list[int] = []
    argv = ["stream", "binance-spot", "btcusdt@trade", "--url", fake.url, "--count", "50"]

    async def stream() -> None:
        codes.append(await run(argv, stdout=out, stderr=err))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(stream)
        conn = await fake.wait_connected()
        await conn.wait_subscribed("btcusdt@trade")
        for _ in range(3):
            await fake.push("btcusdt@trade")
        await out.wait_for(lambda text: text.count("\n") == 3)
        await conn.close(1001, "going away")
    assert codes == [ExitCode.DISCONNECTED]
    assert "disconnected: RemoteClosed 1001 GOING_AWAY 'going away' (retryable)" in err.getvalue()
    assert "disconnected after 3 of 50 message(s)" in err.getvalue()


async def test_a_topic_the_venue_refuses_exits_2(fake: FakeVenueServer[FakeBinance]) -> None:
    """A well-formed name the venue does not know: Binance's refusal, exit 2."""
    code, out, err = await run_cli(
        ["stream", "binance-spot", "btcusdt@nonsense", "--url", fake.url, "--count", "1"]
    )
    assert code == ExitCode.USAGE
    assert "the venue refused the subscription" in err
    assert "invalid stream" in err
    assert out == ""


async def test_trio_websocket_transport_streams_too(tmp_path: Path) -> None:
    """``--transport trio-websocket`` streams the same typed messages."""
    out = tmp_path / "tws.jsonl"
    argv = ["stream", "binance-spot", "ethusdt@trade", "--fake", "--count", "5"]
    with trio.fail_after(30):
        code, _, _ = await run_cli([*argv, "--transport", "trio-websocket", "--jsonl", str(out)])
    assert code == ExitCode.OK
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["data"]["trade_id"] for r in records] == [1, 2, 3, 4, 5]


def test_message_json_keeps_decimals_exact() -> None:
    """Prices stay exact strings (levels too); field names are the readable ones."""
    update = DepthUpdate(
        "BTCUSDT",
        10,
        12,
        (("65000.10", "0.00000001"),),
        (("65000.2", "0"),),
        1_700_000_000_000,
    )
    record = json.loads(message_json(Message("btcusdt@depth@100ms", update, 1.5)))
    assert record == {
        "topic": "btcusdt@depth@100ms",
        "type": "DepthUpdate",
        "data": {
            "symbol": "BTCUSDT",
            "first_update_id": 10,
            "final_update_id": 12,
            "bids": [["65000.10", "0.00000001"]],
            "asks": [["65000.2", "0"]],
            "event_time": 1_700_000_000_000,
        },
        "received_at": 1.5,
    }


@pytest.mark.parametrize(
    "wire",
    ["1e999999999", "-1e-999999999", "15e9", "1.5E+30", "0.00000001", "97012.35000000", "1e-8"],
)
def test_numbers_never_print_longer_than_their_wire_text(wire: str) -> None:
    """A Decimal prints exactly and no longer than max(its wire text, 20 characters)."""
    value = Decimal(wire)
    for text in (decimal_text(value), number(value)):
        assert len(text) <= max(len(wire), 20)
    assert Decimal(decimal_text(value)) == value
    assert decimal_text(value).startswith("-") == value.is_signed()
    record = json.loads(message_json(Message("x", {"p": value})))
    assert len(record["data"]["p"]) <= max(len(wire), 20)


def test_human_lines_trim_trailing_zeros_but_stay_exact() -> None:
    """Lines for people drop trailing zeros only: 65000.10000000 -> 65000.1, 1E-8 stays."""
    assert number(Decimal("65000.10000000")) == "65000.1"
    assert number(Decimal("65000.00000000")) == "65000"
    assert number(Decimal("0.00000001")) == "0.00000001"
    assert number(Decimal("100")) == "100"
    trade = Trade("BTCUSDT", 7, Decimal("65000.10"), Decimal("0.50000000"), 1, 1, True)
    describe = venue_describer(resolve_venue("binance"))
    assert format_message(Message("btcusdt@trade", trade), describe) == (
        "btcusdt@trade  BTCUSDT trade #7 sell 0.5 @ 65000.1"
    )
    bar = KlineBar(
        start_time=0,
        close_time=59_999,
        symbol="BTCUSDT",
        interval="1m",
        first_trade_id=1,
        last_trade_id=2,
        open=Decimal("1.10"),
        close=Decimal("1.20"),
        high=Decimal("1.30"),
        low=Decimal("1.00"),
        volume=Decimal("2.50"),
        trade_count=2,
        is_closed=True,
        quote_volume=Decimal("3"),
        taker_buy_volume=Decimal("1"),
        taker_buy_quote_volume=Decimal("1.2"),
    )
    assert format_message(Message("btcusdt@kline_1m", Kline("BTCUSDT", 1, bar)), describe) == (
        "btcusdt@kline_1m  BTCUSDT kline 1m closed o=1.1 h=1.3 l=1 c=1.2 v=2.5 trades=2"
    )


def test_reason_lines_carry_the_details_of_each_typed_reason() -> None:
    """The one-line reason names the class, the reason's details and whether a retry may help."""
    timeout = ResubscribeTimeout(("btcusdt@trade",), 10.0)
    assert describe_reason(timeout) == f"ResubscribeTimeout: {timeout.details} (retryable)"
    assert "btcusdt@trade" in timeout.details
    assert describe_reason(RemoteClosed(1008, "Too many requests")) == (
        "RemoteClosed 1008 POLICY_VIOLATION 'Too many requests' (not retryable)"
    )
