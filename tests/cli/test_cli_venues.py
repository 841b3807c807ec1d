"""The commands work for every registered venue: the generic venue's own frames here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from trio_venues.cli._common import ExitCode, resolve_venue, venue_choices
from trio_venues.errors import ConfigError
from trio_venues.testing import RecordedFrame
from trio_venues.venues._registry import venue_names

from ._helpers import run_cli


def test_every_registered_venue_is_a_choice() -> None:
    """VENUE accepts every registry name, and binance-spot stays an alias of binance."""
    assert set(venue_names()) <= set(venue_choices())
    assert resolve_venue("binance-spot") is resolve_venue("binance")
    with pytest.raises(ConfigError, match="unknown venue"):
        resolve_venue("nowhere")


async def test_stream_subscribes_with_the_venues_own_frames(tmp_path: Path) -> None:
    """``stream generic trades prices --fake``: the generic subscribe frame, its data as JSON."""
    out = tmp_path / "out.jsonl"
    with trio.fail_after(30):
        code, _, stderr = await run_cli(
            ["stream", "generic", "trades", "prices", "--fake", "--count", "6", "--jsonl", str(out)]
        )
    assert code == ExitCode.OK, stderr
    assert "fake Generic JSON test venue listening on ws://127.0.0.1:" in stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 6
    assert {r["topic"] for r in records} == {"trades", "prices"}


async def test_stream_checks_topics_with_the_venues_grammar() -> None:
    """A topic outside the venue's spelling is a usage error naming the spelling."""
    code, _, stderr = await run_cli(["stream", "generic", "two words", "--fake"])
    assert code == ExitCode.USAGE
    assert "invalid topic 'two words'" in stderr


async def test_stream_reports_a_refused_topic_as_usage() -> None:
    """The venue's refusal (the generic fake refuses 'bad...' topics) exits 2."""
    with trio.fail_after(30):
        code, _, stderr = await run_cli(["stream", "generic", "bad-topic", "--fake"])
    assert code == ExitCode.USAGE
    assert "refused" in stderr


async def test_record_sends_the_subscribe_frame_and_keeps_only_data(tmp_path: Path) -> None:
    """``record generic trades --fake``: the ack is left out; every frame is data."""
    out = tmp_path / "rec.jsonl"
    with trio.fail_after(30):
        code, _, stderr = await run_cli(
            ["record", "generic", "trades", "--fake", "--count", "4", "--out", str(out)]
        )
    assert code == ExitCode.OK, stderr
    frames = [RecordedFrame.from_json_line(line) for line in out.read_text().splitlines()]
    assert [json.loads(f.frame)["topic"] for f in frames] == ["trades"] * 4
    assert [json.loads(f.frame)["seq"] for f in frames] == [1, 2, 3, 4]


async def test_replay_through_the_generic_fake(tmp_path: Path) -> None:
    """``replay --venue generic --stream``: the generic client reads the recording back."""
    path = tmp_path / "rec.jsonl"
    frames = [
        RecordedFrame(0.01 * n, json.dumps({"topic": "trades", "seq": n, "data": {"n": n}}))
        for n in (1, 2, 3)
    ]
    path.write_text("".join(f.to_json_line() + "\n" for f in frames), encoding="utf-8")
    with trio.fail_after(30):
        code, stdout, stderr = await run_cli(
            ["replay", str(path), "--venue", "generic", "--stream", "--jsonl", "-"]
        )
    assert code == ExitCode.OK, stderr
    assert [json.loads(line)["data"] for line in stdout.splitlines()] == [
        {"n": 1},
        {"n": 2},
        {"n": 3},
    ]
