"""``trio-venues stream``: a venue's typed events as lines, or as JSON lines; or unified events.

For any registered venue: its client's ``connect(url)``, ``ws.subscribe(*topics)``
(with the venue's own subscribe frames), then one line per ``Message`` until
``--count`` messages arrived; connection notes (``Connected``, ``Subscribed``,
``Disconnected`` with its typed reason) go to stderr so that stdout stays data
only. :func:`stream_events` is shared with ``replay --stream``.

``stream --unified VENUE:TOPIC ...`` streams one or several venues at once in
the unified vocabulary (:func:`run_unified_stream`): one JSON line per unified
event with its wall-clock time, lifecycle notes on stderr.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

import attrs
import trio

from .._client import VenueClient
from .._retry import RetryPolicy
from ..errors import (
    ConfigError,
    ConnectFailed,
    ConnectionLost,
    NotConnected,
    RateLimitExceeded,
    RequestTimeout,
    RetriesExhausted,
    SubscriptionError,
)
from ..events import Disconnected, Message
from ..reasons import DisconnectReason
from ..unified import (
    BookUpdate,
    FeedFailed,
    FeedSpec,
    UnifiedEvent,
    VenueEvent,
    encode,
    unified_feeds,
)
from ..venues._registry import venue_names
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

if TYPE_CHECKING:
    from ..testing import FakeVenueServer
    from ..venues._registry import VenueEntry

__all__ = [
    "LineFile",
    "MessageSink",
    "StreamOptions",
    "UnifiedStreamOptions",
    "make_sink",
    "parse_unified_specs",
    "run_stream",
    "run_unified_stream",
    "stream_events",
    "unified_json",
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


# -- stream --unified ------------------------------------------------------------------------


@attrs.frozen
class UnifiedStreamOptions:
    """The arguments of ``trio-venues stream --unified VENUE:TOPIC ...``."""

    specs: tuple[str, ...]
    fake: bool = False
    count: int | None = None
    jsonl: str | None = None
    transport: str = "default"


#: A CLI feed gives up after this many failed attempts in a row (a note says so; the
#: other venues go on).
_CLI_RETRY: Final = RetryPolicy(max_attempts=5)


def _unified_examples() -> list[str]:
    """``VENUE:TOPIC`` examples of the registered venues with a unified form."""
    out = []
    for name in venue_names():
        entry = resolve_venue(name)
        if entry.unified is not None and entry.topics.examples:
            out.append(f"{name}:{entry.topics.examples[0]}")
    return out


def parse_unified_specs(specs: Sequence[str]) -> dict[str, list[str]] | str:
    """``["VENUE:TOPIC", ...]`` -> each venue's topics, in order (once each).

    Returns why the specs are unusable instead, as a message for the user.
    """
    by_venue: dict[str, list[str]] = {}
    for text in specs:
        venue_name, colon, topic = text.partition(":")
        if not colon or not venue_name or not topic:
            examples = " ".join(_unified_examples())
            return f"--unified takes VENUE:TOPIC arguments ({examples}), got {text!r}"
        try:
            entry = resolve_venue(venue_name)
        except ConfigError as exc:
            return str(exc)
        if entry.unified is None:
            return f"{entry.title} has no unified form yet (--unified)"
        topics = by_venue.setdefault(entry.name, [])
        if topic not in topics:
            topics.append(topic)
    for name, topics in by_venue.items():
        problem = check_topics(resolve_venue(name), topics)
        if problem is not None:
            return f"{name}: {problem}"
    return by_venue


def unified_json(item: UnifiedEvent | BookUpdate, *, wall_time: float) -> str:
    """One JSON line (no newline): ``{"wall_time", "kind", ...the unified event's fields}``.

    ``wall_time`` is when the message was read, in seconds since the epoch
    (UTC); prices and quantities are exact decimal strings. The rest is
    :func:`trio_venues.unified.encode`'s JSON, which ``unified.decode`` reads back.
    """
    encoded = encode(item).decode()
    return f'{{"wall_time":{wall_time!r},{encoded[1:]}'


def _failure_code(error: Exception) -> int:
    if isinstance(error, SubscriptionError | ConfigError):
        return ExitCode.USAGE
    if isinstance(error, ConnectFailed) or (
        isinstance(error, RetriesExhausted) and isinstance(error.__cause__, ConnectFailed)
    ):
        return ExitCode.CONNECT_FAILED
    return ExitCode.DISCONNECTED


async def _unified_lines(
    specs: Sequence[FeedSpec],
    *,
    output: Output,
    stopper: Stopper,
    file: LineFile | None,
    count: int | None,
) -> int:
    got = 0
    failures: list[Exception] = []
    async with unified_feeds(specs) as feeds:
        with stopper.scope():
            async for item in feeds:
                if type(item) is VenueEvent:
                    event = item.event
                    if isinstance(event, FeedFailed):
                        failures.append(event.error)
                        output.error(f"{item.feed}: gave up: {event.error}")
                        continue
                    line = format_event(event)
                    if line is not None:
                        output.note(f"{item.feed}: {line}")
                    continue
                data = cast("UnifiedEvent | BookUpdate", item)
                wall = time.time() - (trio.current_time() - data.received_at)
                text = unified_json(data, wall_time=round(wall, 6))
                if file is not None:
                    await file.write(text)
                else:
                    output.line(text)
                got += 1
                if count is not None and got >= count:
                    return ExitCode.OK
    if stopper.interrupted:
        output.note(f"interrupted after {got} event(s)")
        return ExitCode.INTERRUPTED
    wanted = f" of {count}" if count is not None else ""
    output.error(f"every venue gave up after {got}{wanted} event(s)")
    return _failure_code(failures[0]) if failures else ExitCode.FAILURE


async def run_unified_stream(
    options: UnifiedStreamOptions, output: Output, stopper: Stopper
) -> int:
    """``trio-venues stream --unified VENUE:TOPIC ...``: returns the exit status.

    One feed per venue (its topics grouped), all in one nursery under
    ``unified_feeds``; each unified event is a JSON line on stdout (or in
    ``--jsonl FILE``), lifecycle notes go to stderr prefixed with the venue.
    A venue giving up is a note; the others go on.
    """
    parsed = parse_unified_specs(options.specs)
    if isinstance(parsed, str):
        output.error(parsed)
        return ExitCode.USAGE
    file: LineFile | None = None
    if options.jsonl is not None and options.jsonl != "-":
        try:
            file = await LineFile.create(options.jsonl)
        except OSError as exc:
            output.error(f"cannot write {options.jsonl}: {exc}")
            return ExitCode.USAGE
    try:
        async with AsyncExitStack() as stack:
            specs = []
            for name, topics in parsed.items():
                entry = resolve_venue(name)
                spec = FeedSpec(
                    venue=name,
                    topics=topics,
                    options={"transport": options.transport},
                    catalogue_options={},
                    policy=_CLI_RETRY,
                )
                if options.fake:
                    server = await stack.enter_async_context(running_fake(entry))
                    spec = _fake_spec(spec, entry, server, options.transport)
                    output.note(f"fake {entry.title} listening on {spec.url}")
                specs.append(spec)
            return await _unified_lines(
                specs, output=output, stopper=stopper, file=file, count=options.count
            )
    finally:
        if file is not None:
            await file.aclose()


def _fake_spec(
    spec: FeedSpec, entry: VenueEntry, server: FakeVenueServer[Any], transport: str
) -> FeedSpec:
    fake, support = entry.fake, entry.unified
    assert fake is not None
    assert support is not None
    if support.fake_catalogue_url is None:
        raise ConfigError(f"{entry.title}'s fake serves no instrument catalogue")
    return attrs.evolve(
        spec,
        url=fake.url(server, ()),
        endpoint=fake.endpoint,
        options={"transport": transport, **fake.client_options},
        catalogue_url=support.fake_catalogue_url(server),
    )
