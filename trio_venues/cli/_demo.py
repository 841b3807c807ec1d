"""``trio-venues demo``: the whole library at work against a fake venue, faults included.

What runs, all in one Trio run and on 127.0.0.1 only (``--venue`` picks the
venue; its scenario comes from its folder through the registry, see
:mod:`._scenario`):

- the venue's fake, fed by a market driver that pushes the scenario's
  streams (trades, candles or tickers, book updates) for a few symbols at a
  steady pace;
- one market-data connection kept alive by :func:`~trio_venues.retry_scope`
  (short heartbeat settings, so a stalled server is noticed in seconds),
  subscribed to the data streams, with local order books kept in sync by
  :func:`~trio_venues.book_feed` (from the venue's book stream, with
  snapshots fetched or sent in the stream as the venue does);
- a fault injector that, on a timer, inflicts the scenario's faults: the
  ones every venue has (a dropped TCP connection, a close with 1001, a stalled
  server the client's heartbeat notices) and the venue's own (a book gap, a
  shutdown notice, a snapshot reset, a sequence gap ...);
- a view: a live table on a terminal, plain periodic lines otherwise.

The user sees each fault become a typed ``Disconnected`` reason, then
``Reconnecting`` with its backoff, ``Resubscribed`` and a ``DataGap``
marker, or a ``GapDetected`` and the books resync. A summary ends the run.

The CLI here is deliberately thin: every figure shown comes from the public
events and ``ws.stats``; the demo's own code only counts and formats.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs
import trio

from .. import (
    BookFeed,
    BookResynced,
    ConnectionStats,
    ExponentialBackoff,
    RetryingConnection,
    RetryPolicy,
    book_feed,
    retry_scope,
)
from ..book import Level
from ..errors import ConfigError, ConnectFailed, RetriesExhausted
from ..events import (
    Connected,
    DataGap,
    Disconnected,
    ErrorEvent,
    Event,
    GapDetected,
    Message,
    PongReceived,
    RateLimited,
    Reconnecting,
    Resubscribed,
    Subscribed,
)
from ..testing import FakeVenueServer, ServerConnection
from ._app import ExitCode, Output, Stopper
from ._common import DEFAULT_VENUE, resolve_venue
from ._scenario import DemoFault, DemoLink, DemoScenario, DemoSession, DemoSide, DemoTarget
from ._view import (
    DemoView,
    describe_reason,
    format_event,
    level_text,
    reason_key,
    summary_lines,
)

__all__ = [
    "DemoOptions",
    "DemoState",
    "demo",
    "demo_scenario",
    "fault_schedule",
    "run_demo",
]

# The settle time a fault needs to show its whole story before the demo ends.
_SETTLE: Final = 0.3
_LOG_LINES: Final = 10
_RATE_WINDOW: Final = 1.0


def demo_scenario(venue: str) -> DemoScenario:
    """The demo scenario of ``venue`` (a registered name or an alias), from its folder.

    Raises:
        ConfigError: no such venue, or the venue has no demo.
    """
    entry = resolve_venue(venue)
    scenario = entry.cli().demo if entry.cli is not None else None
    if scenario is None:
        raise ConfigError(f"{entry.title} has no demo")
    return scenario


@attrs.frozen
class DemoOptions:
    """The demo's settings; :meth:`from_args` picks the defaults of the two modes.

    Attributes:
        venue: the venue whose fake and scenario run (a registry name).
        duration: seconds the demo runs.
        fault_interval: seconds between injected faults (0: none).
        ping_interval: the client's WebSocket ping period.
        pong_timeout: an unanswered ping ends the connection after this long.
        close_timeout: bound on each closing handshake (a stalled server never answers).
        backoff_initial: the first reconnect delay (then doubling, capped at 10x).
        stable_after: a connection that stayed up this long resets the backoff.
        max_attempts: ``RetryPolicy.max_attempts``: give up after this many
            failed attempts in a row (``None``: never).
        refresh: seconds between redraws of the view.
        symbols: the symbols streamed, as the venue's book spells them
            (empty: the scenario's).
        transport: the WebSocket transport.
        seed: seeds the fake market and the backoff jitter (a reproducible show).
    """

    venue: str = DEFAULT_VENUE
    duration: float = 30.0
    fault_interval: float = 5.0
    ping_interval: float = 1.0
    pong_timeout: float = 2.0
    close_timeout: float = 1.0
    backoff_initial: float = 0.5
    stable_after: float = 3.0
    max_attempts: int | None = None
    refresh: float = 0.25
    symbols: tuple[str, ...] = ()
    transport: str = "default"
    seed: int = 7

    @classmethod
    def from_args(
        cls,
        *,
        venue: str = DEFAULT_VENUE,
        short: bool = False,
        duration: float | None = None,
        fault_interval: float | None = None,
        transport: str = "default",
    ) -> DemoOptions:
        """The full demo (~30 s, a fault every 5 s) or ``short`` (5 s, one every 0.8 s)."""
        if short:
            base = cls(
                duration=5.0,
                fault_interval=0.8,
                ping_interval=0.4,
                pong_timeout=0.6,
                close_timeout=0.3,
                backoff_initial=0.1,
                stable_after=0.5,
            )
        else:
            base = cls()
        changes: dict[str, Any] = {"venue": venue, "transport": transport}
        if duration is not None:
            changes["duration"] = duration
        if fault_interval is not None:
            changes["fault_interval"] = fault_interval
        return attrs.evolve(base, **changes)

    def settle(self, fault: DemoFault) -> float:
        """About how long ``fault`` takes to be noticed and recovered from."""
        if fault.recovery == "resync":
            return _SETTLE  # the next book message shows the gap; a snapshot follows at once
        # Reconnecting takes the first backoff delay (plus its jitter).
        recovery = self.backoff_initial * 1.2 + _SETTLE
        if fault.recovery == "heartbeat":
            # Our next ping, its pong timeout, then the bounded closing handshake.
            return self.ping_interval + self.pong_timeout + self.close_timeout + recovery
        return recovery


def fault_schedule(
    options: DemoOptions, faults: Sequence[DemoFault] | None = None
) -> list[tuple[float, DemoFault]]:
    """``(seconds after the start, fault)``: one every ``fault_interval``, cycling ``faults``.

    ``faults`` defaults to the venue's scenario's. A fault waits until the
    previous one has been recovered from (a stall takes a few heartbeat
    periods); the schedule stops at the first fault that could not be
    recovered from before the demo ends.
    """
    if faults is None:
        faults = demo_scenario(options.venue).faults
    if options.fault_interval <= 0 or not faults:
        return []
    schedule: list[tuple[float, DemoFault]] = []
    at = options.fault_interval
    # Bounded: each step moves on by at least fault_interval (> 0).
    for k in range(math.floor(options.duration / options.fault_interval)):
        fault = faults[k % len(faults)]
        settle = options.settle(fault)
        if at + settle > options.duration:
            break
        schedule.append((round(at, 6), fault))
        at += max(options.fault_interval, settle)
    return schedule


class DemoState:
    """What the demo counted and shows (pure bookkeeping: no I/O, times passed in).

    Attributes:
        title: the venue, as the view names it.
        symbols: the books' symbols.
        topics: every stream, in the table's order (each symbol's data streams,
            then its book stream).
        book_topics: book stream -> its symbol.
        counts: messages per stream (book messages counted as they arrive).
        disconnects / reconnects: by :func:`~._view.reason_key`.
        resyncs: ``BookResynced`` per symbol.
        sides: the session's other connections, as the view shows them.
        log: the last few notable events, timestamped.
    """

    def __init__(
        self,
        *,
        url: str,
        options: DemoOptions,
        clock: Callable[[], float],
        title: str,
        streams: Mapping[str, Sequence[str]],
        book_topics: Mapping[str, str],
        last: Callable[[Any], str | None],
        sides: Sequence[DemoSide] = (),
    ) -> None:
        self.url = url
        self.title = title
        self.duration = options.duration
        self.symbols = tuple(book_topics.values())
        self.book_topics = dict(book_topics)
        self.topics = tuple(
            t for topic, symbol in book_topics.items() for t in (*streams[symbol], topic)
        )
        self._describe_last = last
        self._clock = clock
        self.started_at = clock()
        self.ended_at: float | None = None
        self.counts: Counter[str] = Counter()
        self._rates: dict[str, float] = {}
        self._rate_base: Counter[str] = Counter()
        self._rate_at = self.started_at
        self._last: dict[str, str] = {}
        self.last_rtt: float | None = None
        self.connections = 0
        self.connected_since: float | None = None
        self.waiting: Reconnecting | None = None
        self.disconnects: Counter[str] = Counter()
        self.reconnects: Counter[str] = Counter()
        self.data_gaps = 0
        self.gap_seconds = 0.0
        self.sequence_gaps = 0
        self.resyncs: Counter[str] = Counter()
        self.errors = 0
        self.faults: list[str] = []
        self.log: deque[str] = deque(maxlen=_LOG_LINES)
        self.stream_stats: ConnectionStats | None = None
        self.sides = tuple(sides)
        self.side_stats: tuple[ConnectionStats | None, ...] = ()
        self.feed: BookFeed | None = None
        self.interrupted = False
        #: why the demo ended early: (exit status, message), or None
        self.failure: tuple[ExitCode, str] | None = None
        self.on_log: Callable[[str], None] = lambda line: None

    # -- figures the view reads ----------------------------------------------------

    def elapsed(self) -> float:
        """Seconds since the demo started (until it ended)."""
        end = self.ended_at if self.ended_at is not None else self._clock()
        return end - self.started_at

    def total_messages(self) -> int:
        """Messages of every stream."""
        return sum(self.counts.values())

    def rate(self, topic: str) -> float:
        """Messages per second of ``topic`` over the last sampling window."""
        return self._rates.get(topic, 0.0)

    def total_rate(self) -> float:
        """Messages per second of every stream over the last sampling window."""
        return sum(self._rates.values())

    def last(self, topic: str) -> str:
        """The last value seen on ``topic`` (a price, a candle, the book's best levels)."""
        symbol = self.book_topics.get(topic)
        if symbol is not None:
            best = self.best_levels(symbol)
            if best is None:
                return "book syncing"
            bid, ask = best
            return f"bid {level_text(bid)}  ask {level_text(ask)}"
        return self._last.get(topic, "-")

    def best_levels(self, symbol: str) -> tuple[Level | None, Level | None] | None:
        """The synced book's best bid and ask (each ``None`` when that side is empty).

        ``None`` while the book is (re)syncing.
        """
        book = self.feed.book(symbol) if self.feed is not None else None
        if book is None:
            return None
        return book.best_bid, book.best_ask

    def side_stats_of(self, index: int) -> ConnectionStats | None:
        """The last sampled ``ws.stats`` of the session's side connection ``index``."""
        return self.side_stats[index] if index < len(self.side_stats) else None

    def reconnect_count(self) -> int:
        """``Reconnecting`` events seen."""
        return sum(self.reconnects.values())

    def connection_label(self) -> str:
        """Where the market-stream connection is: up (since when) or waiting to reconnect."""
        if self.connected_since is not None:
            up = self._clock() - self.connected_since
            return f"connected (connection #{self.connections}, up {up:.1f} s)"
        if self.waiting is not None:
            return (
                f"reconnecting: attempt {self.waiting.attempt} after "
                f"{self.waiting.delay:.2f} s ({reason_key(self.waiting.reason)})"
            )
        return "connecting"

    # -- updates ---------------------------------------------------------------------

    def note(self, text: str) -> None:
        """Log a notable event with its time."""
        line = f"[{self.elapsed():6.2f}s] {text}"
        self.log.append(line)
        self.on_log(line)

    def sample(
        self, stream: ConnectionStats | None, sides: Sequence[ConnectionStats | None] = ()
    ) -> None:
        """Take the connections' ``ws.stats`` and, once per second, the per-stream rates."""
        self.stream_stats = stream
        self.side_stats = tuple(sides)
        now = self._clock()
        if now - self._rate_at >= _RATE_WINDOW:
            span = now - self._rate_at
            self._rates = {t: (self.counts[t] - self._rate_base[t]) / span for t in self.topics}
            self._rate_base = Counter(self.counts)
            self._rate_at = now

    def count_book(self, message: Message) -> None:
        """Count one book message (``book_feed`` consumes them before :meth:`on_event`)."""
        if message.topic in self.book_topics:
            self.counts[message.topic] += 1

    def on_event(self, event: Event) -> None:
        """Count one event from the feed and log the notable ones."""
        match event:
            case Message(topic=topic, data=data):
                if topic is not None:
                    self.counts[topic] += 1
                    text = self._describe_last(data)
                    if text is not None:
                        self._last[topic] = text
            case PongReceived(rtt=rtt) if rtt is not None:
                self.last_rtt = rtt
            case Connected():
                self.connections += 1
                self.connected_since = self._clock()
                self.waiting = None
                self.note(f"connection #{self.connections}: {format_event(event)}")
            case Disconnected(reason=reason):
                self.connected_since = None
                self.disconnects[reason_key(reason)] += 1
                self.note(f"Disconnected: {describe_reason(reason)}")
            case Reconnecting(reason=reason):
                self.waiting = event
                self.reconnects[reason_key(reason)] += 1
                self.note(f"Reconnecting: attempt {event.attempt}, backoff {event.delay:.2f} s")
            case Resubscribed(topics=topics):
                self.note(f"Resubscribed: {len(topics)} streams replayed and acknowledged")
            case DataGap(topics=topics, since=since, until=until):
                self.data_gaps += 1
                self.gap_seconds += until - since
                start, end = since - self.started_at, until - self.started_at
                self.note(
                    f"DataGap: {len(topics)} streams may have missed data "
                    f"from {start:.2f} s to {end:.2f} s"
                )
            case GapDetected():
                self.sequence_gaps += 1
                self.note(f"GapDetected: {format_event(event)}")
            case BookResynced(symbol=symbol, last_update_id=update_id):
                self.resyncs[symbol] += 1
                self.note(f"BookResynced: {symbol} from a snapshot at update id {update_id}")
            case Subscribed():
                # Later connections' acks are the replay: Resubscribed says it.
                if self.connections <= 1:
                    self.note(f"Subscribed: {' '.join(event.topics)}")
            case ErrorEvent(error=error):
                self.errors += 1
                self.note(f"ErrorEvent: {type(error).__name__}: {error}")
            case RateLimited():
                self.note(f"RateLimited: {format_event(event)}")


# -- the moving parts -------------------------------------------------------------------------


@attrs.frozen
class _Plan:
    """The scenario applied to the options: symbols, streams and book topics."""

    scenario: DemoScenario
    symbols: tuple[str, ...]
    # symbol -> its data streams (topic, seconds between messages), in the table's order
    streams: Mapping[str, tuple[tuple[str, float], ...]]
    # book topic -> symbol
    book_topics: Mapping[str, str]

    @classmethod
    def make(cls, scenario: DemoScenario, options: DemoOptions) -> _Plan:
        adapter = scenario.book()
        symbols = tuple(adapter.symbol(s) for s in options.symbols or scenario.symbols)
        streams = {
            s: tuple((stream.topic, stream.every) for stream in scenario.streams(s))
            for s in symbols
        }
        return cls(scenario, symbols, streams, {adapter.topic(s): s for s in symbols})

    @property
    def stream_topics(self) -> tuple[str, ...]:
        """The data streams the demo subscribes to (the book streams belong to ``book_feed``)."""
        return tuple(topic for streams in self.streams.values() for topic, _ in streams)

    def topic_of_book(self, symbol: str) -> str:
        return next(t for t, s in self.book_topics.items() if s == symbol)


async def _drive_market(
    server: FakeVenueServer[Any], plan: _Plan, options: DemoOptions, start: float
) -> None:
    """Push every stream's data at its pace until the demo's end (bounded by the duration)."""

    async def drive(topic: str, every: float) -> None:
        for tick in range(1, math.ceil(options.duration / every) + 1):
            await trio.sleep_until(start + tick * every)
            # Data is generated even while the client is away: the market moves
            # on, and the book streams then really have a hole to resync over.
            await server.push(topic)

    async with trio.open_nursery() as nursery:
        for symbol in plan.symbols:
            for topic, every in plan.streams[symbol]:
                nursery.start_soon(drive, topic, every)
            nursery.start_soon(drive, plan.topic_of_book(symbol), plan.scenario.book_every)


def _market_connection(server: FakeVenueServer[Any], plan: _Plan) -> ServerConnection | None:
    """The server side of the newest open market-data connection (not a request one)."""
    for conn in reversed(server.active):
        if plan.scenario.market_connection(conn):
            return conn
    return None


async def _inject_faults(
    server: FakeVenueServer[Any], state: DemoState, options: DemoOptions, plan: _Plan
) -> None:
    symbol = plan.symbols[0]
    for at, fault in fault_schedule(options, plan.scenario.faults):
        await trio.sleep_until(state.started_at + at)
        target = DemoTarget(
            server=server,
            connection=_market_connection(server, plan),
            symbol=symbol,
            book_topic=plan.topic_of_book(symbol),
        )
        if await fault.inject(target):
            state.faults.append(fault.name)
            named = f" ({symbol})" if fault.names_symbol else ""
            state.note(f"FAULT: {fault.text}{named}")
        else:
            state.note(f"fault {fault.name!r} skipped: the client is between connections")


async def _refresh(
    view: DemoView,
    state: DemoState,
    ws: RetryingConnection[Any],
    session: DemoSession,
    every: float,
) -> None:
    """Sample the connections' stats and redraw, a few times per second, until cancelled."""
    ticks = math.ceil(state.duration / every) + 1
    for _ in range(ticks):
        current = ws.connection
        state.sample(
            current.stats if current is not None else None,
            [stats() for stats in session.side_stats],
        )
        view.refresh()
        await trio.sleep(every)


async def _session(
    server: FakeVenueServer[Any],
    plan: _Plan,
    state: DemoState,
    view: DemoView,
    options: DemoOptions,
    link: DemoLink,
    stopper: Stopper,
) -> None:
    policy = RetryPolicy(
        backoff=ExponentialBackoff(
            initial=options.backoff_initial, maximum=options.backoff_initial * 10, jitter=0.2
        ),
        stable_after=options.stable_after,
        max_attempts=options.max_attempts,
        # The faults are deliberate and come on a timer: a circuit breaker
        # would only pause the show. Production code should keep the default.
        breaker=None,
        rng=random.Random(options.seed),
    )
    deadline = state.started_at + options.duration
    try:
        async with plan.scenario.session(link) as session:
            try:
                async with retry_scope(session.connect, policy=policy) as ws:
                    with stopper.scope(), trio.move_on_at(deadline):
                        await _watch(server, plan, state, view, options, ws, session)
            except RetriesExhausted as exc:
                # Raised bare by retry_scope (never in a group): caught here, inside
                # the session (which may hold a nursery), so that it does not come
                # out wrapped in a group.
                state.failure = (ExitCode.DISCONNECTED, f"retry_scope gave up: {exc}")
    except ConnectFailed as exc:
        # Only entering the scenario's session raises this bare (its request connection).
        state.failure = (ExitCode.CONNECT_FAILED, f"could not connect to the fake venue: {exc}")


class _CountedEvents(trio.abc.ReceiveChannel[Event]):
    """A connection's events, each book message counted on its way to ``book_feed``."""

    def __init__(self, events: trio.abc.ReceiveChannel[Event], state: DemoState) -> None:
        self._events = events
        self._state = state

    async def receive(self) -> Event:
        event = await self._events.receive()
        if isinstance(event, Message):
            self._state.count_book(event)
        return event

    async def aclose(self) -> None:
        await self._events.aclose()


class _Counted:
    """``ws`` as ``book_feed`` sees it: its events counted for the demo's rates."""

    def __init__(self, ws: RetryingConnection[Any], state: DemoState) -> None:
        self._ws = ws
        self.events = _CountedEvents(ws.events, state)

    async def subscribe(self, *topics: str) -> None:
        await self._ws.subscribe(*topics)

    async def unsubscribe(self, *topics: str) -> None:
        await self._ws.unsubscribe(*topics)


async def _watch(
    server: FakeVenueServer[Any],
    plan: _Plan,
    state: DemoState,
    view: DemoView,
    options: DemoOptions,
    ws: RetryingConnection[Any],
    session: DemoSession,
) -> None:
    """Subscribe, keep the books, inject the faults and redraw until cancelled."""
    await ws.subscribe(*plan.stream_topics)
    async with (
        book_feed(
            _Counted(ws, state), plan.scenario.book(), plan.symbols, snapshots=session.snapshots
        ) as feed,
        trio.open_nursery() as work,
    ):
        state.feed = feed
        work.start_soon(_inject_faults, server, state, options, plan)
        work.start_soon(_refresh, view, state, ws, session, options.refresh)
        async for event in feed:
            state.on_event(event)
        # The feed ends only when retry_scope gave up; its error follows.
        work.cancel_scope.cancel(reason="the feed ended")


async def demo(
    options: DemoOptions, output: Output, stopper: Stopper, *, memory: bool = False
) -> DemoState:
    """Run the demo and return what it counted (the summary is printed by :func:`run_demo`).

    Args:
        options: the settings (``options.venue`` picks the venue's scenario).
        output: where the view goes (a live view when stdout is a terminal).
        stopper: Ctrl-C ends the demo early (``DemoState.interrupted``).
        memory: connect over in-memory streams instead of 127.0.0.1 (tests run
            the whole demo under a virtual clock this way).

    A failure (the scenario's request connection could not be opened,
    ``retry_scope`` gave up) ends the demo early; it is in ``DemoState.failure``.

    Raises:
        ConfigError: no such venue, or it has no demo.
    """
    scenario = demo_scenario(options.venue)
    plan = _Plan.make(scenario, options)
    server = scenario.server(options.seed, memory)
    async with trio.open_nursery() as nursery:
        if memory:
            await nursery.start(server.run)
            transport: Any = server.memory_transport(options.transport)
        else:
            await nursery.start(server.serve_tcp)
            transport = options.transport
        state = DemoState(
            url=server.url,
            options=options,
            clock=trio.current_time,
            title=scenario.title,
            streams={s: [t for t, _ in plan.streams[s]] for s in plan.symbols},
            book_topics=plan.book_topics,
            last=scenario.last,
            sides=scenario.sides,
        )
        nursery.start_soon(_drive_market, server, plan, options, state.started_at)
        link = DemoLink(
            server=server,
            transport=transport,
            options={
                "transport": transport,
                "ping_interval": options.ping_interval,
                "pong_timeout": options.pong_timeout,
                "close_timeout": options.close_timeout,
                "connect_timeout": 5.0,
                # A venue may count pings among a client's frames: wait for
                # room rather than fail a resubscription that lands next to one.
                "rate_limit_policy": {"messages": "wait"},
            },
            virtual_time=memory,
            note=state.note,
        )
        try:
            with DemoView(state, output, live=output.is_terminal, clock=trio.current_time) as view:
                state.on_log = view.event
                state.note(
                    f"fake {scenario.title} listening on {server.url}; "
                    f"{len(fault_schedule(options, scenario.faults))} "
                    f"faults scheduled, every {options.fault_interval:g} s"
                )
                await _session(server, plan, state, view, options, link, stopper)
        finally:
            state.ended_at = trio.current_time()
            state.interrupted = stopper.interrupted
            server.stop()
            nursery.cancel_scope.cancel(reason="the demo is over")
    return state


async def run_demo(
    options: DemoOptions, output: Output, stopper: Stopper, *, memory: bool = False
) -> int:
    """``trio-venues demo``: run, print the summary, return the exit status."""
    try:
        demo_scenario(options.venue)
    except ConfigError as exc:
        output.error(str(exc))
        await trio.lowlevel.checkpoint()
        return ExitCode.USAGE
    state = await demo(options, output, stopper, memory=memory)
    for line in summary_lines(state):
        output.line(line)
    if state.failure is not None:
        code, message = state.failure
        output.error(message)
        return code
    return ExitCode.INTERRUPTED if state.interrupted else ExitCode.OK
