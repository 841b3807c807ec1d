"""Recordings: text frames as received, with their arrival times, as JSON lines.

The format, one object per frame::

    {"t": 0.0, "frame": "{\\"stream\\":\\"btcusdt@trade\\",\\"data\\":{...}}"}
    {"t": 0.137, "frame": "..."}

``t`` is the seconds since the recording started (a number >= 0, not
decreasing), ``frame`` the text frame exactly as received. Blank lines are
skipped; nothing else is allowed. :class:`RecordedFrame` reads and writes one
line; :func:`read_recording` reads a file; :func:`replay_recording` sends a
recording to one fake-server connection at its recorded pace. Recordings are
venue-neutral: ``trio-venues record`` writes them for any venue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

import attrs
import orjson
import trio

from ._server import ServerConnection

__all__ = ["RecordedFrame", "RecordingSource", "read_recording", "replay_recording"]


@attrs.frozen
class RecordedFrame:
    """One line of a recording: a text frame and when it arrived.

    Attributes:
        t: seconds since the recording started (>= 0).
        frame: the text frame exactly as received.
    """

    t: float
    frame: str

    def to_json_line(self) -> str:
        """``{"t": ..., "frame": "..."}`` without the newline."""
        return orjson.dumps({"t": self.t, "frame": self.frame}).decode()

    @classmethod
    def from_json_line(cls, line: str) -> RecordedFrame:
        """Parse one line.

        Raises:
            ValueError: not an object with a finite number ``t >= 0`` and a string ``frame``.
        """
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise ValueError("a recorded frame is a JSON object")
        t, frame = obj.get("t"), obj.get("frame")
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
            raise ValueError(f"'t' must be a number of seconds >= 0, not {t!r}")
        if not isinstance(frame, str):
            raise ValueError("'frame' must be the text frame as a string")
        return cls(float(t), frame)


#: What :func:`replay_recording` takes: a path, lines, or frames already read.
RecordingSource = str | Path | Iterable[str] | Sequence[RecordedFrame]


def read_recording(
    source: str | Path | Iterable[str], *, max_frames: int = 1_000_000
) -> list[RecordedFrame]:
    """Read a recording (a path, or an iterable of lines) into frames, in order.

    Raises:
        ValueError: a malformed line (with its number), ``t`` going backwards,
            or more than ``max_frames`` frames.
    """

    def parse(lines: Iterable[str]) -> list[RecordedFrame]:
        frames: list[RecordedFrame] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if len(frames) >= max_frames:
                raise ValueError(f"more than max_frames={max_frames} frames")
            try:
                frame = RecordedFrame.from_json_line(line)
            except ValueError as exc:
                raise ValueError(f"recording line {number}: {exc}") from None
            if frames and frame.t < frames[-1].t:
                raise ValueError(f"recording line {number}: t goes backwards ({frame.t})")
            frames.append(frame)
        return frames

    if isinstance(source, str | Path):
        with open(source, encoding="utf-8") as handle:
            return parse(handle)
    return parse(source)


async def replay_recording(
    conn: ServerConnection, source: RecordingSource, *, speed: float = 1.0
) -> int:
    """Send a recording's frames to ``conn`` at their recorded times (``t / speed``).

    ``source`` is a path, lines, or frames already read. Frames go out as
    recorded, whatever ``conn`` subscribed to. Returns how many were sent.

    Raises:
        ValueError: ``speed`` is not > 0, or the recording is malformed.
    """
    if not speed > 0:
        raise ValueError(f"speed must be > 0, not {speed!r}")
    frames: Sequence[RecordedFrame]
    if isinstance(source, str | Path):
        frames = read_recording(source)
    else:
        items = list(source)
        if all(isinstance(item, RecordedFrame) for item in items):
            frames = cast(list[RecordedFrame], items)
        else:
            frames = read_recording(cast(list[str], items))
    start = trio.current_time()
    sent = 0
    for frame in frames:
        await trio.sleep_until(start + frame.t / speed)
        sent += await conn.send_text(frame.frame)
    return sent
