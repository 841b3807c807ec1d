"""CLI edge cases a shell user hits: a non-WebSocket --url, a closed pipe, wall-clock JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import trio

from trio_venues.cli import ExitCode

from ._helpers import run_cli


async def test_non_websocket_url_is_a_one_line_usage_error() -> None:
    """stream --url http://... exits 2 with argparse's one usage line, no traceback."""
    code, stdout, err = await run_cli(
        ["stream", "binance-spot", "btcusdt@trade", "--url", "http://127.0.0.1:9/stream"]
    )
    assert code == ExitCode.USAGE
    assert stdout == ""
    assert "expected a ws:// or wss:// URL, got 'http://127.0.0.1:9/stream'" in err
    assert "Traceback" not in err


async def test_jsonl_lines_carry_wall_clock_time(tmp_path: Path) -> None:
    """--jsonl writes wall_time (seconds since the epoch) beside the monotonic received_at."""
    out = tmp_path / "trades.jsonl"
    before = time.time()
    with trio.fail_after(30):
        code, _, _ = await run_cli(
            [
                "stream",
                "binance-spot",
                "btcusdt@trade",
                "--fake",
                "--count",
                "2",
                "--jsonl",
                str(out),
            ]
        )
    after = time.time()
    assert code == ExitCode.OK
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2
    assert all(before - 1 <= r["wall_time"] <= after + 1 for r in records)


def test_closed_pipe_exits_quietly() -> None:
    """trio-venues stream ... | head -1: one line, no traceback on stderr, status 141."""
    command = [sys.executable, "-m", "trio_venues", "stream", "binance-spot", "btcusdt@trade"]
    with subprocess.Popen(
        [*command, "--fake"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # what head does after its line
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert first.strip()
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    assert code == 141
    assert ExitCode.BROKEN_PIPE.value == 141
