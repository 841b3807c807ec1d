"""trio-venues collect: a config file, the fake venues, a JSON-lines file, a summary."""

from __future__ import annotations

from pathlib import Path

import msgspec

from ._helpers import run_cli


def _write_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "collector.toml"
    config.write_text(
        f'name = "cli"\n{extra}[sink]\nkind = "jsonl"\npath = "{tmp_path / "out.jsonl"}"\n'
        '[[feeds]]\nvenue = "binance"\ntopics = ["btcusdt@trade", "btcusdt@bookTicker"]\n'
    )
    return config


async def test_collect_against_the_fakes_writes_unified_lines(tmp_path: Path) -> None:
    """--fake --duration runs the feeds in-process and ends with a summary, exit 0."""
    config = _write_config(tmp_path)
    code, _, err = await run_cli(["collect", str(config), "--fake", "--duration", "1"])
    assert code == 0, err
    assert "summary: binance:" in err
    lines = [msgspec.json.decode(x) for x in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    kinds = {line["event"]["kind"] for line in lines}
    assert kinds == {"trade", "bbo"}
    assert {line["event"]["symbol"] for line in lines} == {"BTC-USDT"}


async def test_collect_serves_metrics_when_asked(tmp_path: Path) -> None:
    """--metrics-port 0 serves Prometheus metrics on a free port and says where."""
    config = _write_config(tmp_path)
    code, _, err = await run_cli(
        ["collect", str(config), "--fake", "--duration", "0.5", "--metrics-port", "0"]
    )
    assert code == 0, err
    assert "metrics: http://127.0.0.1:" in err


async def test_a_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    """A bad file exits 2 with every problem named, never a traceback."""
    config = tmp_path / "bad.toml"
    config.write_text('name = "x"\nfeeds = []\n[sink]\nkind = "carrier-pigeon"\n')
    code, _, err = await run_cli(["collect", str(config)])
    assert code == 2
    assert "config.sink.kind" in err
    assert "Traceback" not in err
    code, _, err = await run_cli(["collect", str(tmp_path / "missing.toml")])
    assert code == 2
    assert "cannot read" in err


def test_the_shipped_example_config_is_valid() -> None:
    """examples/collect.toml (the README's quick start) parses into one Binance feed."""
    from trio_venues.collect import load_config

    config = load_config(Path(__file__).parents[2] / "examples" / "collect.toml")
    assert [f.venue for f in config.feeds] == ["binance"]
    assert config.sink.kind == "jsonl"
