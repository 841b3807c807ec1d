"""The ``trio-venues`` command itself: help, usage errors, exit statuses, Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import trio

from trio_venues.cli import ExitCode

from ._helpers import run_cli

# The subprocesses run with this package importable whatever the working directory.
_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


async def test_python_m_trio_venues_help_runs_as_a_program() -> None:
    """``python -m trio_venues --help`` exits 0 and lists the commands and exit statuses."""
    result = await trio.run_process(
        [sys.executable, "-m", "trio_venues", "--help"], capture_stdout=True, env=_ENV
    )
    text = result.stdout.decode()
    assert result.returncode == 0
    for command in ("demo", "stream", "record", "replay"):
        assert command in text
    assert "130  interrupted by Ctrl-C" in text


@pytest.mark.parametrize("command", ["demo", "stream", "record", "replay"])
async def test_each_command_documents_its_exit_statuses(command: str) -> None:
    """``trio-venues COMMAND --help`` returns 0 and documents the exit statuses."""
    code, out, _ = await run_cli([command, "--help"])
    assert code == ExitCode.OK
    assert "exit status:" in out
    for status in ("0 ", "2 ", "3 ", "4 ", "130"):
        assert f"\n  {status}" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["stream"],
        ["stream", "kraken", "btcusdt@trade", "--fake"],
        ["stream", "binance-spot", "--fake"],
        ["stream", "binance-spot", "btcusdt@trade", "--fake", "--count", "0"],
        ["stream", "binance-spot", "btcusdt@trade", "--fake", "--count", "ten"],
        ["stream", "binance-spot", "btcusdt@trade", "--fake", "--url", "ws://127.0.0.1:1/"],
        ["stream", "binance-spot", "btcusdt@trade", "--fake", "--transport", "carrier-pigeon"],
        ["record", "binance-spot", "btcusdt@trade", "--fake"],
        [
            "record",
            "binance-spot",
            "btcusdt@trade",
            "--out",
            "x",
            "--count",
            "1",
            "--duration",
            "1",
        ],
        ["replay"],
        ["replay", "x.jsonl", "--speed", "0"],
        ["demo", "--duration", "-1"],
        ["demo", "--duration", "nan"],
        ["demo", "--fault-interval", "-2"],
    ],
)
async def test_bad_arguments_exit_2_with_a_message(argv: list[str]) -> None:
    """Argument errors exit 2 and say what is wrong on stderr, before connecting anywhere."""
    code, _, err = await run_cli(argv)
    assert code == ExitCode.USAGE
    assert "error:" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stream", "binance-spot", "BTCUSDT@trade", "--fake"], "lower-case"),
        (["stream", "binance-spot", "btcusdt-trade", "--fake"], "invalid stream name"),
        (["record", "binance-spot", "btc usdt@trade", "--fake", "--out", "{tmp}/r"], "whitespace"),
        (
            ["record", "binance-spot", "btcusdt@trade", "--url", "ws://h/stream?x=1", "--out", "r"],
            "no query",
        ),
        (["record", "binance-spot", "btcusdt@trade", "--url", "http://h/", "--out", "r"], "ws://"),
        (
            ["record", "binance-spot", "btcusdt@trade", "--fake", "--out", "{tmp}/no/dir/r"],
            "cannot",
        ),
        (
            ["stream", "binance-spot", "btcusdt@trade", "--fake", "--jsonl", "{tmp}/no/dir"],
            "cannot",
        ),
        (["replay", "{tmp}/missing.jsonl"], "cannot replay"),
        (["replay", "{tmp}/bad.jsonl"], "line 2"),
        (["replay", "{tmp}/empty.jsonl"], "no frames"),
        (["replay", "{tmp}/good.jsonl", "--jsonl", "{tmp}/o"], "--jsonl needs --stream"),
    ],
)
async def test_invalid_topics_urls_and_files_exit_2(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    """Topics, URLs and files that cannot work exit 2 with the reason, nothing is created."""
    (tmp_path / "bad.jsonl").write_text('{"t": 0, "frame": "a"}\n{"t": 0}\n', encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    (tmp_path / "good.jsonl").write_text('{"t": 0, "frame": "a"}\n', encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    code, _, err = await run_cli([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == ExitCode.USAGE
    assert message in err
    assert sorted(tmp_path.iterdir()) == before


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("command", ["stream", "record"])
async def test_a_refused_connection_exits_3(command: str, tmp_path: Path) -> None:
    """Nothing listening on the port: exit 3, the connect error on stderr."""
    url = f"ws://127.0.0.1:{_closed_port()}/stream"
    argv = [command, "binance-spot", "btcusdt@trade", "--url", url]
    if command == "record":
        argv += ["--out", str(tmp_path / "r.jsonl")]
    code, out, err = await run_cli(argv)
    assert code == ExitCode.CONNECT_FAILED
    assert f"could not connect to ws://127.0.0.1:{url.split(':')[2].split('/')[0]}" in err
    assert out == ""


async def _wait_for_line(stream: trio.abc.ReceiveStream, needle: bytes) -> bytes:
    """Read ``stream`` until ``needle`` appeared; return what was read."""
    seen = b""
    while needle not in seen:
        chunk = await stream.receive_some()
        assert chunk, f"the process ended before printing {needle!r}: {seen!r}"
        seen += chunk
    return seen


async def _start(nursery: trio.Nursery, argv: list[str]) -> trio.Process:
    """Start ``python -m trio_venues argv`` with its stdout and stderr piped to the test."""
    command = [sys.executable, "-m", "trio_venues", *argv]
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process,
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_ENV,
            check=False,
        )
    )
    return process


async def _read_all(stream: trio.abc.ReceiveStream | None) -> bytes:
    assert stream is not None
    return b"".join([chunk async for chunk in stream])


async def test_ctrl_c_stops_a_stream_with_status_130(nursery: trio.Nursery) -> None:
    """SIGINT while streaming from the fake: the command stops cleanly and exits 130."""
    with trio.fail_after(30):
        process = await _start(nursery, ["stream", "binance-spot", "btcusdt@trade", "--fake"])
        assert process.stdout is not None
        await _wait_for_line(process.stdout, b"BTCUSDT trade #2")
        process.send_signal(signal.SIGINT)
        errors = await _read_all(process.stderr)
        await _read_all(process.stdout)
        await process.wait()
    assert process.returncode == ExitCode.INTERRUPTED
    assert b"interrupted after" in errors
    assert b"Traceback" not in errors


async def test_ctrl_c_stops_the_demo_with_its_summary(nursery: trio.Nursery) -> None:
    """SIGINT during the demo: it prints its summary (marked interrupted) and exits 130."""
    with trio.fail_after(30):
        process = await _start(nursery, ["demo"])
        assert process.stdout is not None
        seen = await _wait_for_line(process.stdout, b"BookResynced: BTCUSDT")
        process.send_signal(signal.SIGINT)
        seen += await _read_all(process.stdout)
        errors = await _read_all(process.stderr)
        await process.wait()
    assert process.returncode == ExitCode.INTERRUPTED
    assert b"(interrupted)" in seen
    assert b"messages per stream:" in seen
    assert b"Traceback" not in errors
