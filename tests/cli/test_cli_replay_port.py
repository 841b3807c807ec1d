"""``trio-venues replay --port N``: serve the recording on a chosen port, or say it is taken."""

from __future__ import annotations

import errno
import json
import os
import socket
from pathlib import Path

import pytest
import trio

from trio_venues import BinanceSpot
from trio_venues.cli import ExitCode, run
from trio_venues.cli._record import END_OF_RECORDING
from trio_venues.events import Disconnected, Message
from trio_venues.reasons import RemoteClosed
from trio_venues.testing import RecordedFrame

from ._helpers import WatchedText, run_cli


def free_port() -> int:
    """A port that was free a moment ago: bind 127.0.0.1:0, read the port, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def write_recording(path: Path) -> Path:
    """Two aggTrade frames, 0.1 s and 0.2 s into the recording."""
    frames = [
        RecordedFrame(t, json.dumps({"stream": "btcusdt@aggTrade", "data": data}))
        for t, data in [
            (0.1, {"e": "aggTrade", "E": 1, "s": "BTCUSDT", "a": 1, "p": "1.5", "q": "2",
                   "f": 1, "l": 1, "T": 1, "m": True}),
            (0.2, {"e": "aggTrade", "E": 2, "s": "BTCUSDT", "a": 2, "p": "1.6", "q": "3",
                   "f": 2, "l": 3, "T": 2, "m": False}),
        ]
    ]  # fmt: skip
    path.write_text("".join(f.to_json_line() + "\n" for f in frames), encoding="utf-8")
    return path


async def test_replay_serves_on_the_port_given(tmp_path: Path) -> None:
    """``replay --port N`` prints ws://127.0.0.1:N/stream and replays the recording there."""
    recording = write_recording(tmp_path / "two.jsonl")
    port = free_port()
    out, err = WatchedText(), WatchedText()
    # Real time: the fake serves real TCP, which a virtual clock would skip past.
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            argv = ["replay", str(recording), "--port", str(port), "--speed", "10"]
            nursery.start_soon(lambda: run(argv, stdout=out, stderr=err))
            url = (await out.wait_for(lambda text: text.endswith("\n"))).strip()
            assert url == f"ws://127.0.0.1:{port}/stream"
            async with BinanceSpot.connect(f"ws://127.0.0.1:{port}", ping_interval=None) as ws:
                events = [event async for event in ws.events]
            nursery.cancel_scope.cancel(reason="the test is done")
    assert [e.data.agg_trade_id for e in events if isinstance(e, Message)] == [1, 2]
    last = events[-1]
    assert isinstance(last, Disconnected)
    assert isinstance(last.reason, RemoteClosed)
    assert (last.reason.code, last.reason.reason) == (1000, END_OF_RECORDING)
    assert "to each client of the URL below" in err.getvalue()


async def test_replay_on_a_taken_port_exits_5_with_a_clear_message(tmp_path: Path) -> None:
    """A port another socket listens on: exit status 5, one error line, no URL, no traceback."""
    recording = write_recording(tmp_path / "two.jsonl")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, stdout, stderr = await run_cli(["replay", str(recording), "--port", str(port)])
    assert code == ExitCode.LISTEN_FAILED
    assert stdout == ""
    assert stderr == (
        f"trio-venues: error: the fake venue cannot listen on 127.0.0.1:{port}: "
        f"{os.strerror(errno.EADDRINUSE)}; "
        "choose another --port, or 0 for a free one\n"
    )


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("70000", "must be a port in 0-65535, got 70000"), ("http", "expected a port number")],
)
async def test_replay_refuses_a_bad_port(tmp_path: Path, value: str, complaint: str) -> None:
    """``--port`` outside 0-65535 or not a number is a usage error (exit status 2)."""
    recording = write_recording(tmp_path / "two.jsonl")
    code, stdout, stderr = await run_cli(["replay", str(recording), "--port", value])
    assert code == ExitCode.USAGE
    assert stdout == ""
    assert complaint in stderr


async def test_replay_help_documents_port_and_exit_status_5() -> None:
    """``replay --help`` shows --port and what exit status 5 means."""
    code, out, _ = await run_cli(["replay", "--help"])
    assert code == ExitCode.OK
    assert "--port N" in out
    assert "5    replay --port N: 127.0.0.1:N cannot be listened on" in out
