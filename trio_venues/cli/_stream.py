"""``trio-venues stream``: a venue's typed events as lines, or as JSON lines.

For any registered venue: its client's ``connect(url)``, ``ws.subscribe(*topics)``
(with the venue's own subscribe frames), then one line per ``Message`` until
``--count`` messages arrived; connection notes (``Connected``, ``Subscribed``,
``Disconnected`` with its typed reason) go to stderr so that stdout stays data
only. :func:`stream_events` is shared with ``replay --stream``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final, Protocol

import attrs
import trio

from .._client import VenueClient
from ..errors import (
    ConnectFailed,
    ConnectionLost,
    NotConnected,
    RateLimitExceeded,
    RequestTimeout,
    SubscriptionError,
)
from ..events import Disconnected, Message
from ..reasons import DisconnectReason
from ._common import (
    DEFAULT_VENUE,
    ExitCode,
    Output,
    Stopper,
    check_topics,
    resolve_venue,
    running_fake,
    venue_describer,
)
from ._view import Describe, format_event, format_message, message_json

__all__ = [
    "LineFile",
    "MessageSink",
    "StreamOptions",
    "make_sink",
    "run_stream",
    "stream_events",
]
# JSON lines are written to files in batches of this many lines (one worker-thread
# hop per batch, not per message), and at the end.
_BATCH: Final = 256


@attrs.frozen
class StreamOptions:
    """The arguments of ``trio-venues stream`` (see ``trio-venues stream --help``)."""

    topics: tuple[str, ...]
    url: str | None = None
    fake: bool = False
    count: int | None = None
    jsonl: str | None = None
    transport: str = "default"
    venue: str = DEFAULT_VENUE


# -- where messages go -------------------------------------------------------------------


class _AsyncText(Protocol):
    async def write(self, data: str) -> int: ...

    async def aclose(self) -> None: ...


class LineFile:
    """Text lines to a file, written in batches through Trio's worker threads.

    At most ``_BATCH`` lines are held before they are written (the buffer's
    bound); :meth:`aclose` writes the rest. A write error propagates.
    """

    def __init__(self, handle: _AsyncText) -> None:
        self._handle = handle
        self._pending: list[str] = []
        self.lines = 0

    @classmethod
    async def create(cls, path: str) -> LineFile:
        """Open ``path`` for writing (truncated).

        Raises:
            OSError: it cannot be created.
        """
        handle = await trio.open_file(path, "w", encoding="utf-8")
        return cls(handle)

    async def write(self, line: str) -> None:
        """Add one line (without its newline)."""
        self._pending.append(line)
        self.lines += 1
        if len(self._pending) >= _BATCH:
            await self.flush()

    async def flush(self) -> None:
        """Write the lines held so far."""
        if self._pending:
            text = "\n".join(self._pending) + "\n"
            self._pending.clear()
            await self._handle.write(text)

    async def aclose(self) -> None:
        """Write the rest and close the file (even when cancelled: the lines are kept)."""
        with trio.CancelScope(shield=True):
            try:
                await self.flush()
            finally:
                await self._handle.aclose()


class MessageSink:
    """Where ``stream`` puts messages: human lines or JSON lines, on stdout or in a file."""

    def __init__(
        self,
        output: Output,
        *,
        json: bool,
        file: LineFile | None = None,
        describe: Describe | None = None,
    ) -> None:
        self._output = output
        self._json = json
        self._file = file
        self._describe = describe

    async def put(self, message: Message) -> None:
        """Write one message (JSON lines carry the wall-clock time it was read)."""
        if self._file is not None or self._json:
            # The wall clock when the frame was read: now, less its time queued.
            wall = time.time() - (trio.current_time() - message.received_at)
            line = message_json(message, wall_time=round(wall, 6))
            if self._file is not None:
                await self._file.write(line)
            else:
                self._output.line(line)
        else:
            self._output.line(format_message(message, self._describe))

    async def aclose(self) -> None:
        """Flush and close the file, if any."""
        if self._file is not None:
            await self._file.aclose()
        else:
            await trio.lowlevel.checkpoint()


async def make_sink(
    output: Output, jsonl: str | None, describe: Describe | None = None
) -> MessageSink:
    """The sink for ``--jsonl FILE`` (``-``: JSON lines on stdout; ``None``: human lines).

    ``describe`` words the venue's typed messages in human lines (its
    ``VenueCli.describe``, see :func:`~._common.venue_describer`).

    Close it with :meth:`MessageSink.aclose`.

    Raises:
        OSError: the file cannot be created.
    """
    file = await LineFile.create(jsonl) if jsonl is not None and jsonl != "-" else None
    return MessageSink(output, json=jsonl is not None, file=file, describe=describe)


# -- streaming ------------------------------------------------------------------------------


def _never(reason: DisconnectReason) -> bool:
    return False


async def stream_events(
    url: str,
    topics: tuple[str, ...],
    *,
    sink: MessageSink,
    output: Output,
    stopper: Stopper,
    count: int | None = None,
    transport: Any = "default",
    ended_ok: Callable[[DisconnectReason], bool] = _never,
    client: type[VenueClient[Any]],
) -> int:
    """Connect ``client`` to ``url``, subscribe to ``topics``, put each message in ``sink``.

    Returns the exit status: OK after ``count`` messages (or when the
    connection ends and ``ended_ok(reason)``), DISCONNECTED when it ends
    otherwise, CONNECT_FAILED, USAGE when the venue refused a topic,
    INTERRUPTED after Ctrl-C.
    """
    got = 0
    connected = False
    try:
        async with client.connect(url, transport=transport) as ws:
            connected = True
            with stopper.scope():
                if topics:
                    await ws.subscribe(*topics)
                async for event in ws.events:
                    if isinstance(event, Message):
                        await sink.put(event)
                        got += 1
                        if count is not None and got >= count:
                            return ExitCode.OK
                        continue
                    line = format_event(event)
                    if line is not None:
                        output.note(line)
                    if isinstance(event, Disconnected):
                        if ended_ok(event.reason):
                            return ExitCode.OK
                        wanted = f" of {count}" if count is not None else ""
                        output.error(f"disconnected after {got}{wanted} message(s)")
                        return ExitCode.DISCONNECTED
    except SubscriptionError as exc:
        output.error(f"the venue refused the subscription: {exc}")
        return ExitCode.USAGE
    except ConnectFailed as exc:
        output.error(f"could not connect to {url}: {exc}")
        return ExitCode.CONNECT_FAILED
    except RateLimitExceeded as exc:
        # Before connecting: the connection-attempt budget; after: a subscription cap.
        if not connected:
            output.error(f"not connecting to {url}: {exc}")
            return ExitCode.CONNECT_FAILED
        output.error(f"the subscription was refused locally: {exc}")
        return ExitCode.USAGE
    except (ConnectionLost, NotConnected) as exc:
        output.error(f"the connection ended while subscribing: {exc}")
        return ExitCode.DISCONNECTED
    except RequestTimeout as exc:
        output.error(f"the venue did not acknowledge the subscription: {exc}")
        return ExitCode.FAILURE
    if stopper.interrupted:
        output.note(f"interrupted after {got} message(s)")
        return ExitCode.INTERRUPTED
    # The events ended without Disconnected: not something a connection does.
    output.error(f"the event stream ended after {got} message(s)")
    return ExitCode.FAILURE


async def run_stream(options: StreamOptions, output: Output, stopper: Stopper) -> int:
    """``trio-venues stream``: returns the exit status."""
    entry = resolve_venue(options.venue)
    client = entry.client()
    problem = check_topics(entry, options.topics)
    if problem is not None:
        output.error(problem)
        return ExitCode.USAGE
    try:
        sink = await make_sink(output, options.jsonl, venue_describer(entry))
    except OSError as exc:
        output.error(f"cannot write {options.jsonl}: {exc}")
        return ExitCode.USAGE
    try:
        if options.fake:
            async with running_fake(entry) as server:
                assert entry.fake is not None
                url = entry.fake.url(server, ())
                output.note(f"fake {entry.title} listening on {url}")
                return await stream_events(
                    url,
                    options.topics,
                    sink=sink,
                    output=output,
                    stopper=stopper,
                    count=options.count,
                    transport=options.transport,
                    client=entry.client(entry.fake.endpoint),
                )
        return await stream_events(
            options.url or client.default_url,
            options.topics,
            sink=sink,
            output=output,
            stopper=stopper,
            count=options.count,
            transport=options.transport,
            client=client,
        )
    finally:
        await sink.aclose()
