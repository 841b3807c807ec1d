"""The JSON-lines sink: records to a file or stdout, the collector's embedded default.

One line per record: ``{"subject": ..., "msg_id": ..., "event": <the event>}``
with the event exactly as JetStream would carry it (msgspec JSON, Decimals as
strings). Writes go through Trio's async file wrapper in batches (one thread
hop per batch, never per record), from the same bounded
:class:`~trio_venues.collect.RecordBuffer` as the JetStream sink, so a stalled
disk or pipe fills the buffer and then drops visibly like a slow broker.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import msgspec
import trio

from ..errors import TrioVenuesError
from ._jetstream import SinkStats
from ._records import Record, RecordBuffer, SinkEvent

__all__ = ["JsonLinesSink", "SinkClosed", "record_line"]


class SinkClosed(TrioVenuesError):
    """The JSON-lines sink's file or pipe cannot be written any more (e.g. ``| head``)."""


_ENCODE = msgspec.json.encode


def record_line(record: Record) -> bytes:
    """One record as one JSON line (bytes, with the newline)."""
    return b"".join(
        (
            b'{"subject":',
            _ENCODE(record.subject),
            b',"msg_id":',
            _ENCODE(record.msg_id),
            b',"event":',
            record.payload,
            b"}\n",
        )
    )


class JsonLinesSink:
    """Writes the buffer's records as JSON lines to ``path`` (``"-"``: standard output).

    Args:
        path: the file to append to, or ``"-"``.
        on_event: receives the buffer's :class:`SinkDropping`/:class:`SinkRecovered`.
        buffer_records, buffer_bytes: the buffer's bounds.
        batch_size: the most records written per batch.
    """

    def __init__(
        self,
        path: str,
        on_event: Callable[[SinkEvent], None],
        buffer_records: int = 100_000,
        buffer_bytes: int = 64 * 1024 * 1024,
        batch_size: int = 1024,
    ) -> None:
        self.path = path
        self.name = "jsonl"
        self.batch_size = batch_size
        self.buffer = RecordBuffer(self.name, buffer_records, buffer_bytes, on_event)
        self.stats = SinkStats()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Write until cancelled; ``started`` once the file is open."""
        target: Any
        if self.path == "-":
            target = trio.wrap_file(sys.stdout.buffer)
        else:
            target = await trio.open_file(self.path, "ab")
        try:
            task_status.started()
            buffer = self.buffer
            while True:
                await buffer.wait_nonempty()
                batch = buffer.peek_batch(self.batch_size)
                try:
                    await target.write(b"".join(record_line(r) for r in batch))
                    await target.flush()
                except BrokenPipeError:
                    raise SinkClosed(f"{self.path}: the reader went away (broken pipe)") from None
                except OSError as exc:
                    raise SinkClosed(f"{self.path}: {exc.strerror or exc}") from None
                buffer.commit(len(batch))
                self.stats.batches += 1
                self.stats.published += len(batch)
                self.stats.acked += len(batch)
        finally:
            if self.path != "-":
                with trio.CancelScope(shield=True):
                    await target.aclose()
