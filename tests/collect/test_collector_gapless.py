"""The collector with gapless feeds: sharding and copies from the config, a rotations metric."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio

from trio_venues.collect._collector import Collector
from trio_venues.collect._config import parse_config
from trio_venues.collect._metrics import CollectorMetrics
from trio_venues.errors import ConfigError
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.binance import (
    FakeBinance,
    binance_api_url,
    binance_server,
    binance_stream_url,
)

Fake = FakeVenueServer[FakeBinance]


def _config(fake: Fake, out: Path, **feed: Any) -> dict[str, Any]:
    return {
        "name": "g",
        "sink": {"kind": "jsonl", "path": str(out)},
        "feeds": [
            {
                "venue": "binance",
                "topics": ["btcusdt@trade", "ethusdt@trade"],
                "catalogue_url": binance_api_url(fake),
                **feed,
            }
        ],
    }


def test_gapless_settings_are_checked() -> None:
    """copies below 1 and a negative rotate_margin are refused, each with its path."""
    feed: dict[str, Any] = {"venue": "binance", "topics": ["btcusdt@trade"], "copies": 0}
    doc: dict[str, Any] = {"name": "g", "feeds": [feed]}
    with pytest.raises(ConfigError, match=r"copies must be >= 1, got 0 @ config\.feeds\[0\]"):
        parse_config(doc)
    doc["feeds"][0] = {"venue": "binance", "topics": ["btcusdt@trade"], "rotate_margin": -1}
    with pytest.raises(ConfigError, match="rotate_margin must be >= 0"):
        parse_config(doc)
    config = parse_config({"name": "g", "feeds": [{"venue": "binance", "topics": ["a@trade"]}]})
    assert not config.feeds[0].uses_gapless
    config = parse_config(
        {"name": "g", "feeds": [{"venue": "binance", "topics": ["a@trade"], "copies": 2}]}
    )
    assert config.feeds[0].uses_gapless


async def test_copies_and_rotation_publish_each_trade_once(
    tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    """copies=2 on two URLs, serverShutdown mid-stream: one record per trade, a rotation counted."""
    out = tmp_path / "g.jsonl"
    async with trio.open_nursery() as nursery:
        fake: Fake = binance_server(FakeBinance())
        await nursery.start(fake.run)
        url = binance_stream_url(fake)
        metrics = CollectorMetrics()
        collector = Collector(
            parse_config(_config(fake, out, copies=2, urls=[url, url.replace("127", "localhost")])),
            connect_options={
                "binance": {"transport": fake.memory_transport(), "ping_interval": None}
            },
            metrics=metrics,
        )
        await nursery.start(collector.run)
        assert len(fake.active) == 2
        for round_ in range(40):
            await fake.push("btcusdt@trade")
            await fake.push("ethusdt@trade")
            if round_ == 20:
                await fake.behaviour.notify_shutdown(fake.active[0])
            await trio.sleep(0.05)
        # virtual seconds: the JSON-lines sink writes in a worker thread, and the
        # autojump clock runs on while one is busy, more so on a loaded machine
        with trio.fail_after(600):
            while collector.feeds[0].rotations < 1 or collector.sink.stats.published < 80:
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel(reason="test done")
    lines = [msgspec.json.decode(line) for line in out.read_bytes().splitlines()]
    trades = [line for line in lines if line["event"].get("kind") == "trade"]
    assert len(trades) == 80
    assert len({t["msg_id"] for t in trades}) == 80
    rotated = [line for line in lines if line["event"].get("event") == "Rotated"]
    assert len(rotated) == 1
    assert collector.feeds[0].data_gaps == 0
    text = metrics.render().decode()
    assert 'trio_venues_rotations_total{cause="notice",venue="binance"} 1.0' in text
