"""``trio-venues record`` and ``replay``: raw frames to a file, and back through the fake.

A recording is the fake Binance venue's replay format
(:class:`~trio_venues.testing.RecordedFrame`, read by
:func:`~trio_venues.testing.read_recording`): JSON lines
``{"t": seconds since the connection opened, "frame": "<text frame as received>"}``.

``record`` connects a :class:`~trio_venues.RawWebSocket` to the combined-stream
URL with the topics in its query (``.../stream?streams=a/b``), so the venue
starts sending at once and every frame written is a data frame exactly as it
arrived. ``replay`` serves a recording with
:meth:`FakeBinance.replay() <trio_venues.testing.binance.FakeBinance.replay>` to every
client that connects to 127.0.0.1 (a free port, or ``--port``), then closes
with 1000; this is how a user turns a production capture into a regression
test.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Final
from urllib.parse import urlsplit

import attrs
import trio

from .. import BinanceSpot, RawWebSocket
from ..errors import ConnectFailed, RateLimitExceeded
from ..events import Connected, Disconnected, Message
from ..reasons import DisconnectReason, RemoteClosed
from ..testing import FakeVenueServer, RecordedFrame, ServerConnection, read_recording
from ..testing.binance import FakeBinance, binance_server
from ._app import ExitCode, Output, Stopper
from ._stream import LineFile, check_topics, make_sink, running_fake, stream_events
from ._view import describe_reason

__all__ = [
    "END_OF_RECORDING",
    "RecordOptions",
    "ReplayOptions",
    "record_frames",
    "run_record",
    "run_replay",
]

#: The close reason a replay connection ends with (code 1000) once every frame went out.
END_OF_RECORDING: Final = "end of recording"
# ``replay`` serves at most this many connections (one replay each), then stops accepting.
_MAX_REPLAY_CONNECTIONS: Final = 10_000
# Recorded times are kept to the microsecond.
_T_DIGITS: Final = 6


@attrs.frozen
class RecordOptions:
    """The arguments of ``trio-venues record`` (see ``trio-venues record --help``)."""

    topics: tuple[str, ...]
    out: str
    url: str | None = None
    fake: bool = False
    count: int | None = None
    duration: float | None = None
    transport: str = "default"


@attrs.frozen
class ReplayOptions:
    """The arguments of ``trio-venues replay`` (see ``trio-venues replay --help``)."""

    file: str
    speed: float = 1.0
    port: int = 0
    stream: bool = False
    jsonl: str | None = None
    transport: str = "default"


# -- record ---------------------------------------------------------------------------------


async def record_frames(
    url: str,
    file: LineFile,
    *,
    output: Output,
    stopper: Stopper,
    count: int | None = None,
    duration: float | None = None,
    transport: str = "default",
) -> int:
    """Write every text frame from ``url`` to ``file`` as a :class:`RecordedFrame` line.

    Returns the exit status: OK after ``count`` frames or ``duration``
    seconds, DISCONNECTED when the connection ends first, CONNECT_FAILED,
    INTERRUPTED after Ctrl-C (the frames so far are kept).
    """
    frames = 0
    try:
        async with RawWebSocket.connect(url, transport=transport) as ws:
            started = trio.current_time()
            deadline = started + duration if duration is not None else math.inf
            with stopper.scope(), trio.move_on_at(deadline):
                async for event in ws.events:
                    if isinstance(event, Connected):
                        started = event.at
                        output.note(f"recording {url}")
                    elif isinstance(event, Message):
                        if not isinstance(event.data, str):
                            output.note("skipped a binary frame (recordings hold text frames)")
                            continue
                        t = round(max(event.received_at - started, 0.0), _T_DIGITS)
                        await file.write(RecordedFrame(t, event.data).to_json_line())
                        frames += 1
                        if count is not None and frames >= count:
                            output.note(f"recorded {frames} frame(s)")
                            return ExitCode.OK
                    elif isinstance(event, Disconnected):
                        output.error(
                            f"disconnected after {frames} frame(s): {describe_reason(event.reason)}"
                        )
                        return ExitCode.DISCONNECTED
    except ConnectFailed as exc:
        output.error(f"could not connect to {url}: {exc}")
        return ExitCode.CONNECT_FAILED
    except RateLimitExceeded as exc:
        output.error(f"not connecting to {url}: {exc}")
        return ExitCode.CONNECT_FAILED
    output.note(f"recorded {frames} frame(s)")
    if stopper.interrupted:
        return ExitCode.INTERRUPTED
    if duration is not None:
        return ExitCode.OK
    output.error("the event stream ended without Disconnected")
    return ExitCode.FAILURE


def _combined_base(url: str | None) -> str | None:
    """Why ``url`` cannot take ``?streams=``, or ``None`` when it can."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        return f"--url must be a ws:// or wss:// URL, got {url!r}"
    if parts.query:
        return f"--url must have no query: the topics are added as ?streams=... ({url!r})"
    return None


async def run_record(options: RecordOptions, output: Output, stopper: Stopper) -> int:
    """``trio-venues record``: returns the exit status."""
    problem = check_topics(options.topics) or _combined_base(options.url)
    if problem is not None:
        output.error(problem)
        return ExitCode.USAGE
    try:
        file = await LineFile.create(options.out)
    except OSError as exc:
        output.error(f"cannot write {options.out}: {exc}")
        return ExitCode.USAGE

    async def record(base: str) -> int:
        return await record_frames(
            BinanceSpot.combined_url(*options.topics, base=base),
            file,
            output=output,
            stopper=stopper,
            count=options.count,
            duration=options.duration,
            transport=options.transport,
        )

    try:
        if options.fake:
            async with running_fake() as server:
                return await record(server.url)
        return await record(options.url or BinanceSpot.default_url)
    finally:
        await file.aclose()


# -- replay -----------------------------------------------------------------------------


async def _replay_to(
    server: FakeVenueServer[FakeBinance],
    conn: ServerConnection,
    frames: list[RecordedFrame],
    speed: float,
    output: Output,
) -> None:
    """Replay ``frames`` to one client, then close with 1000 (stops early if it leaves)."""
    sent = 0

    async def replay(cancel_scope: trio.CancelScope) -> None:
        nonlocal sent
        sent = await server.behaviour.replay(conn, frames, speed=speed)
        cancel_scope.cancel(reason="replay finished")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(replay, nursery.cancel_scope)
        await conn.wait_closed()
        nursery.cancel_scope.cancel(reason="the client left")
    if conn.is_open:
        await conn.close(1000, END_OF_RECORDING)
        output.note(f"connection #{conn.number}: replayed {sent} frame(s), closed with 1000")
    else:
        output.note(f"connection #{conn.number}: the client left during the replay")


async def _serve_replays(
    server: FakeVenueServer[FakeBinance],
    frames: list[RecordedFrame],
    speed: float,
    output: Output,
) -> None:
    async with trio.open_nursery() as nursery:
        for number in range(1, _MAX_REPLAY_CONNECTIONS + 1):
            await server.wait_connected(number)
            conn = next(c for c in server.connections if c.number == number)
            nursery.start_soon(_replay_to, server, conn, frames, speed, output)


def _end_of_recording(reason: DisconnectReason) -> bool:
    return isinstance(reason, RemoteClosed) and reason.code == 1000


async def run_replay(options: ReplayOptions, output: Output, stopper: Stopper) -> int:
    """``trio-venues replay``: returns the exit status."""
    try:
        frames = read_recording(options.file)
    except (OSError, ValueError) as exc:
        output.error(f"cannot replay {options.file}: {exc}")
        return ExitCode.USAGE
    if not frames:
        output.error(f"{options.file} holds no frames")
        return ExitCode.USAGE
    try:
        sink = await make_sink(output, options.jsonl) if options.stream else None
    except OSError as exc:
        output.error(f"cannot write {options.jsonl}: {exc}")
        return ExitCode.USAGE
    # The fake's own keepalive stays on (a ping every 20 s): a replayed client
    # must answer pings as it would with the venue.
    server = binance_server(FakeBinance())
    code: int = ExitCode.INTERRUPTED
    try:
        async with trio.open_nursery() as nursery:
            try:
                await nursery.start(partial(server.serve_tcp, port=options.port))
            except OSError as exc:
                # serve_tcp raises before it started (a taken --port): nothing runs yet.
                output.error(f"{exc.strerror or exc}; choose another --port, or 0 for a free one")
                code = ExitCode.LISTEN_FAILED
            else:
                nursery.start_soon(_serve_replays, server, frames, options.speed, output)
                span = frames[-1].t / options.speed
                note = f"replaying {len(frames)} frame(s) ({span:.1f} s) to each client of"
                if sink is None:
                    output.note(f"{note} the URL below; Ctrl-C to stop")
                    output.line(server.url)
                    with stopper.scope():
                        await trio.sleep_forever()
                else:
                    output.note(f"{note} {server.url}")
                    code = await stream_events(
                        server.url,
                        (),
                        sink=sink,
                        output=output,
                        stopper=stopper,
                        transport=options.transport,
                        ended_ok=_end_of_recording,
                    )
            nursery.cancel_scope.cancel(reason="replay done")
    finally:
        if sink is not None:
            await sink.aclose()
    return code
