"""The collector end to end: fake Binance -> collectors -> JetStream (or JSON lines) -> consumer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h11
import msgspec
import pytest
import trio

from trio_venues.collect._collector import Collector
from trio_venues.collect._config import load_config, parse_config
from trio_venues.collect._jetstream import jetstream_events
from trio_venues.collect._metrics import CollectorMetrics, serve_metrics
from trio_venues.collect._records import CollectorEvent
from trio_venues.errors import ConfigError
from trio_venues.testing import FakeVenueServer
from trio_venues.testing._nats import nats_server
from trio_venues.testing.binance import (
    FakeBinance,
    binance_api_url,
    binance_server,
    binance_stream_url,
)
from trio_venues.unified import Trade

Fake = FakeVenueServer[FakeBinance]


def _config(name: str, fake: Fake, sink: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "sink": sink,
        "feeds": [
            {
                "venue": "binance",
                "topics": ["btcusdt@trade"],
                "url": binance_stream_url(fake),
                "catalogue_url": binance_api_url(fake),
            }
        ],
    }


def _options(fake: Fake) -> dict[str, dict[str, Any]]:
    return {"binance": {"transport": fake.memory_transport(), "ping_interval": None}}


async def _wait_drained(collector: Collector) -> None:
    with trio.fail_after(20):
        while len(collector.buffer):
            await trio.sleep(0.02)


async def test_two_collectors_one_killed_every_trade_exactly_once_in_order() -> None:
    """Two collectors publish the same feed; killing one mid-stream loses and repeats nothing."""
    async with nats_server() as node, trio.open_nursery() as nursery:
        fake: Fake = binance_server(FakeBinance())
        await nursery.start(fake.run)
        sink = {"kind": "jetstream", "servers": [node.url], "stream": "HA"}
        a = Collector(parse_config(_config("a", fake, sink)), connect_options=_options(fake))
        b = Collector(parse_config(_config("b", fake, sink)), connect_options=_options(fake))
        scope_a = trio.CancelScope()

        async def run_a(task_status: trio.TaskStatus[None]) -> None:
            with scope_a:
                await a.run(task_status=task_status)

        await nursery.start(run_a)
        await nursery.start(b.run)
        with trio.fail_after(10):
            while len(fake.active) < 2:
                await trio.sleep(0.01)
        generator = fake.generate("btcusdt@trade", interval=0.002, count=400)
        with trio.fail_after(20):
            while generator.sent < 150:
                await trio.sleep(0.01)
        scope_a.cancel(reason="collector a's host dies")
        with trio.fail_after(30):
            await generator.wait_done()
        await _wait_drained(b)
        ids: list[int] = []
        async with jetstream_events((node.url,), stream="HA", subject="md.binance.trade.>") as st:
            with trio.move_on_after(2):
                async for item in st:
                    assert isinstance(item.event, Trade)
                    ids.append(int(item.event.trade_id))
        nursery.cancel_scope.cancel(reason="test done")
    assert len(ids) == 400
    assert ids == list(range(ids[0], ids[0] + 400))
    assert a.sink.stats.acked > 0  # a really published before it died
    assert b.sink.stats.duplicates > 0  # and b's copies of those were dropped


async def test_jsonl_sink_writes_unified_lines_and_lifecycle(tmp_path: Path) -> None:
    """The default sink writes one JSON line per unified trade, exact, with its subject and id."""
    out = tmp_path / "out.jsonl"
    async with trio.open_nursery() as nursery:
        fake: Fake = binance_server(FakeBinance())
        await nursery.start(fake.run)
        collector = Collector(
            parse_config(_config("c", fake, {"kind": "jsonl", "path": str(out)})),
            connect_options=_options(fake),
        )
        await nursery.start(collector.run)
        for _ in range(5):
            await fake.push("btcusdt@trade")
        with trio.fail_after(10):
            while collector.sink.stats.published < 5:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel(reason="test done")
    lines = [msgspec.json.decode(line) for line in out.read_bytes().splitlines()]
    assert len(lines) == 5
    assert {line["subject"] for line in lines} == {"md.binance.trade.BTC-USDT"}
    assert [line["event"]["kind"] for line in lines] == ["trade"] * 5
    assert all(line["msg_id"].startswith("binance:BTCUSDT:trade:") for line in lines)
    assert isinstance(lines[0]["event"]["price"], str)


async def test_metrics_endpoint_counts_move(tmp_path: Path) -> None:
    """Scraping /metrics during a run finds the message and sink counters moving."""
    async with trio.open_nursery() as nursery:
        fake: Fake = binance_server(FakeBinance())
        await nursery.start(fake.run)
        metrics = CollectorMetrics()
        collector = Collector(
            parse_config(_config("m", fake, {"kind": "jsonl", "path": str(tmp_path / "m.jsonl")})),
            connect_options=_options(fake),
            metrics=metrics,
        )
        port = await nursery.start(serve_metrics, metrics, 0)
        await nursery.start(collector.run)

        async def scrape() -> str:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
                data = b""
                while chunk := await stream.receive_some(65536):
                    data += chunk
            return data.decode()

        def value(text: str, name: str) -> float:
            for line in text.splitlines():
                if line.startswith(name):
                    return float(line.rsplit(" ", 1)[1])
            return 0.0

        before = await scrape()
        for _ in range(7):
            await fake.push("btcusdt@trade")
        with trio.fail_after(10):
            while collector.sink.stats.published < 7:
                await trio.sleep(0.01)
        await trio.sleep(0.6)  # one sync of the sink counters
        after = await scrape()
        nursery.cancel_scope.cancel(reason="test done")
    key = 'trio_venues_messages_total{topic="btcusdt@trade",venue="binance"}'
    assert value(after, key) - value(before, key) == 7
    assert value(after, 'trio_venues_sink_published_total{sink="jsonl"}') >= 7
    assert "HTTP/1.1 200" in after
    assert h11  # the server speaks HTTP/1.1 through h11


def test_bad_config_lists_every_problem(tmp_path: Path) -> None:
    """Every problem of a bad file is named with its path and what is allowed."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "a.b"\nbogus = 1\n[sink]\nkind = "kafka"\n'
        '[[feeds]]\nvenue = "nowhere"\ntopics = ["x"]\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    text = str(info.value)
    assert "'kafka' is not allowed (allowed: 'jsonl', 'jetstream') @ config.sink.kind" in text
    assert "bogus" in text
    with pytest.raises(ConfigError, match="one NATS subject token"):
        parse_config({"name": "a.b", "feeds": [{"venue": "binance", "topics": ["btcusdt@trade"]}]})
    good = tmp_path / "good.toml"
    good.write_text(
        'name = "a"\n[[feeds]]\nvenue = "nowhere"\ntopics = ["btcusdt@trade"]\n'
        '[[feeds]]\nvenue = "binance"\ntopics = ["BTC trade"]\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(good)
    text = str(info.value)
    assert "config.feeds[0].venue/endpoint: unknown venue 'nowhere'" in text
    assert "config.feeds[1].topics: 'BTC trade' is not a binance topic" in text
    (tmp_path / "x.toml").write_text("name = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "x.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_collector_events_are_consumable() -> None:
    """A lifecycle record decodes back to the same CollectorEvent."""
    event = CollectorEvent("binance", "a", "DataGap", "x", ("t",), 1, 2, 3)
    assert msgspec.json.decode(msgspec.json.encode(event), type=CollectorEvent) == event
