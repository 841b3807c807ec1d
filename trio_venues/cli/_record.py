"""``trio-venues record`` and ``replay``: raw frames to a file, and back through a fake.

A recording is the venue-neutral replay format
(:class:`~trio_venues.testing.RecordedFrame`, read by
:func:`~trio_venues.testing.read_recording`): JSON lines
``{"t": seconds since the connection opened, "frame": "<text frame as received>"}``.

``record`` connects a :class:`~trio_venues.RawWebSocket`. On a venue whose URL
can carry the topics (Binance's combined streams, ``.../stream?streams=a/b``)
it connects to that URL; on any other it sends the venue's own subscribe frame
(made by the venue's core) and leaves the venue's acknowledgement out of the
recording, so every frame written is a data frame exactly as it arrived.
``replay`` serves a recording (:func:`~trio_venues.testing.replay_recording`)
through the venue's fake to every client that connects to 127.0.0.1 (a free
port, or ``--port``), then closes with 1000; this is how a user turns a
production capture into a regression test.
"""

from __future__ import annotations

import math
import time
from functools import partial
from typing import Any, Final
from urllib.parse import urlsplit

import attrs
import trio

from .. import ConnectionConfig, RawWebSocket
from .._core import Response, SendContext, VenueCore
from ..errors import ConnectFailed, DecodeError, RateLimitExceeded
from ..events import Connected, Disconnected, Message
from ..reasons import DisconnectReason, RemoteClosed
from ..testing import (
    FakeVenueServer,
    RecordedFrame,
    ServerConnection,
    read_recording,
    replay_recording,
)
from ..venues._registry import VenueEntry
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
from ._stream import LineFile, make_sink, stream_events
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
    venue: str = DEFAULT_VENUE


@attrs.frozen
class ReplayOptions:
    """The arguments of ``trio-venues replay`` (see ``trio-venues replay --help``)."""

    file: str
    speed: float = 1.0
    port: int = 0
    stream: bool = False
    jsonl: str | None = None
    transport: str = "default"
    venue: str = DEFAULT_VENUE


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
    subscribe: tuple[VenueCore, tuple[str, ...]] | None = None,
) -> int:
    """Write every text frame from ``url`` to ``file`` as a :class:`RecordedFrame` line.

    With ``subscribe=(core, topics)``, send ``core``'s subscribe frame for
    ``topics`` once connected, and leave the frames ``core`` reads as
    responses (the acknowledgement) out of the recording.

    Returns the exit status: OK after ``count`` frames or ``duration``
    seconds, DISCONNECTED when the connection ends first, CONNECT_FAILED,
    INTERRUPTED after Ctrl-C (the frames so far are kept).
    """
    frames = 0
    try:
        async with RawWebSocket.connect(url, transport=transport) as ws:
            started = trio.current_time()
            deadline = started + duration if duration is not None else math.inf
            with stopper.scope(), trio.move_on_at(deadline) as window:
                async for event in ws.events:
                    if isinstance(event, Connected):
                        # Frame times count from the handshake: so does the duration
                        # (else a slow start lets frames past --duration in).
                        started = event.at
                        if duration is not None:
                            window.deadline = started + duration
                        output.note(f"recording {url}")
                        if subscribe is not None:
                            core, topics = subscribe
                            context = SendContext(trio.current_time(), time.time())
                            frame = core.encode_subscribe(topics, core.next_request_id(), context)
                            await ws.send(frame)
                    elif isinstance(event, Message):
                        if not isinstance(event.data, str):
                            output.note("skipped a binary frame (recordings hold text frames)")
                            continue
                        if subscribe is not None and _is_response(subscribe[0], event.data):
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


def _is_response(core: VenueCore, frame: str) -> bool:
    """Whether ``core`` reads ``frame`` as a response (an ack to leave out)."""
    try:
        return any(isinstance(out, Response) for out in core.decode(frame, 0.0))
    except DecodeError:
        return False


def _url_problem(entry: VenueEntry, url: str | None) -> str | None:
    """Why ``url`` cannot be recorded from, or ``None`` when it can."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        return f"--url must be a ws:// or wss:// URL, got {url!r}"
    if parts.query and entry.topics_url is not None:
        return f"--url must have no query: the topics are added to it ({url!r})"
    return None


async def run_record(options: RecordOptions, output: Output, stopper: Stopper) -> int:
    """``trio-venues record``: returns the exit status."""
    entry = resolve_venue(options.venue)
    problem = check_topics(entry, options.topics) or _url_problem(entry, options.url)
    if problem is not None:
        output.error(problem)
        return ExitCode.USAGE
    try:
        file = await LineFile.create(options.out)
    except OSError as exc:
        output.error(f"cannot write {options.out}: {exc}")
        return ExitCode.USAGE

    async def record(base: str, endpoint: str | None) -> int:
        subscribe = None
        if entry.topics_url is not None:
            url = entry.topics_url(base, options.topics)
        else:
            url = base
            core = entry.client(endpoint).make_core(ConnectionConfig(), base)
            subscribe = (core, options.topics)
        return await record_frames(
            url,
            file,
            output=output,
            stopper=stopper,
            count=options.count,
            duration=options.duration,
            transport=options.transport,
            subscribe=subscribe,
        )

    try:
        if options.fake:
            async with running_fake(entry) as server:
                assert entry.fake is not None
                return await record(entry.fake.url(server, ()), entry.fake.endpoint)
        return await record(options.url or entry.client().default_url, None)
    finally:
        await file.aclose()


# -- replay -----------------------------------------------------------------------------


async def _replay_to(
    conn: ServerConnection,
    frames: list[RecordedFrame],
    speed: float,
    output: Output,
) -> None:
    """Replay ``frames`` to one client, then close with 1000 (stops early if it leaves)."""
    sent = 0

    async def replay(cancel_scope: trio.CancelScope) -> None:
        nonlocal sent
        sent = await replay_recording(conn, frames, speed=speed)
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
    server: FakeVenueServer[Any],
    frames: list[RecordedFrame],
    speed: float,
    output: Output,
) -> None:
    async with trio.open_nursery() as nursery:
        for number in range(1, _MAX_REPLAY_CONNECTIONS + 1):
            await server.wait_connected(number)
            conn = next(c for c in server.connections if c.number == number)
            nursery.start_soon(_replay_to, conn, frames, speed, output)


def _end_of_recording(reason: DisconnectReason) -> bool:
    return isinstance(reason, RemoteClosed) and reason.code == 1000


async def run_replay(options: ReplayOptions, output: Output, stopper: Stopper) -> int:
    """``trio-venues replay``: returns the exit status."""
    entry = resolve_venue(options.venue)
    if entry.fake is None:
        output.error(f"{entry.title} has no fake venue to replay through")
        return ExitCode.USAGE
    try:
        frames = read_recording(options.file)
    except (OSError, ValueError) as exc:
        output.error(f"cannot replay {options.file}: {exc}")
        return ExitCode.USAGE
    if not frames:
        output.error(f"{options.file} holds no frames")
        return ExitCode.USAGE
    try:
        sink = (
            await make_sink(output, options.jsonl, venue_describer(entry))
            if options.stream
            else None
        )
    except OSError as exc:
        output.error(f"cannot write {options.jsonl}: {exc}")
        return ExitCode.USAGE
    # The fake's own keepalive stays on (a ping every 20 s): a replayed client
    # must answer pings as it would with the venue.
    server = entry.fake.server()
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
                url = entry.fake.url(server, ())
                span = frames[-1].t / options.speed
                note = f"replaying {len(frames)} frame(s) ({span:.1f} s) to each client of"
                if sink is None:
                    output.note(f"{note} the URL below; Ctrl-C to stop")
                    output.line(url)
                    with stopper.scope():
                        await trio.sleep_forever()
                else:
                    output.note(f"{note} {url}")
                    code = await stream_events(
                        url,
                        (),
                        sink=sink,
                        output=output,
                        stopper=stopper,
                        transport=options.transport,
                        ended_ok=_end_of_recording,
                        client=entry.client(entry.fake.endpoint),
                    )
            nursery.cancel_scope.cancel(reason="replay done")
    finally:
        if sink is not None:
            await sink.aclose()
    return code
