"""Replaying a recording of Binance frames through the fake, at the recorded times."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import trio

from trio_venues.testing import RecordedFrame, read_recording
from trio_venues.venues.binance import Trade
from trio_venues.venues.binance._protocol import encode_combined

from ._helpers import Fake, messages, spot


def _trade_frame(trade_id: int) -> str:
    payload = {
        "e": "trade",
        "E": 1_700_000_000_000 + trade_id,
        "s": "BTCUSDT",
        "t": trade_id,
        "p": "65000.10000000",
        "q": "0.01000000",
        "T": 1_700_000_000_000 + trade_id,
        "m": trade_id % 2 == 0,
    }
    return encode_combined("btcusdt@trade", payload)


async def test_replay_sends_frames_at_recorded_times(
    fake: Fake, kind: str, tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    """A JSON-lines recording replays in order; with speed=2 the gaps halve."""
    path = tmp_path / "trades.jsonl"
    lines = [
        RecordedFrame(t, _trade_frame(i + 1)).to_json_line() for i, t in enumerate([0.5, 1.0, 3.0])
    ]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    times: list[float] = []
    async with spot(fake, kind) as ws:
        conn = await fake.wait_connected()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(fake.behaviour.replay, conn, path, speed=2.0))
            for message in await messages(ws, 3):
                times.append(message.received_at)
                assert isinstance(message.data, Trade)
                assert message.topic == "btcusdt@trade"
    assert times == [0.25, 0.5, 1.5]


def test_recording_lines_round_trip_and_reject_bad_input() -> None:
    """to_json_line/from_json_line round-trip; malformed lines name their line number."""
    frame = RecordedFrame(1.25, '{"stream":"a@trade","data":{}}')
    assert RecordedFrame.from_json_line(frame.to_json_line()) == frame
    assert read_recording([frame.to_json_line(), "", frame.to_json_line()]) == [frame, frame]
    with pytest.raises(ValueError, match="line 2"):
        read_recording([frame.to_json_line(), '{"t": -1, "frame": "x"}'])
    with pytest.raises(ValueError, match="backwards"):
        read_recording(['{"t": 2, "frame": "x"}', '{"t": 1, "frame": "y"}'])
    with pytest.raises(ValueError, match="frame"):
        read_recording(['{"t": 2, "frame": 5}'])
    with pytest.raises(ValueError, match="max_frames"):
        read_recording([frame.to_json_line()] * 3, max_frames=2)
