"""``trio-venues demo``: the whole library at work against a fake Binance, faults included.

What runs, all in one Trio run and on 127.0.0.1 only:

- a fake Binance venue (:func:`~trio_venues.testing.binance.binance_server`), fed by
  a market driver that pushes trades, 1 s candles and depth diffs for a few
  symbols at a steady pace;
- one market-stream connection kept alive by :func:`~trio_venues.retry_scope`
  (short heartbeat settings, so a stalled server is noticed in seconds),
  subscribed to trades and candles, with local order books kept in sync by
  :func:`~trio_venues.book_feed` from the depth streams and snapshots fetched
  over a :class:`~trio_venues.BinanceSpotApi` connection to the same fake;
- a fault injector that, on a timer, drops the TCP connection, closes it with
  1001, stalls the server (the client's heartbeat fires), skips update ids in
  a depth stream (the book resyncs) and sends ``serverShutdown``;
- a view: a live table on a terminal, plain periodic lines otherwise.

The user sees each fault become a typed ``Disconnected`` reason, then
``Reconnecting`` with its backoff, ``Resubscribed`` and a ``DataGap``
marker, and the books resync. A summary ends the run.

The CLI here is deliberately thin: every figure shown comes from the public
events and ``ws.stats``; the demo's own code only counts and formats.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Final

import attrs
import trio

from .. import (
    BinanceSpot,
    BinanceSpotApi,
    BookFeed,
    BookResynced,
    ConnectionStats,
    ExponentialBackoff,
    RetryingConnection,
    RetryPolicy,
    book_feed,
    retry_scope,
)
from ..book import DepthDiff, DepthSnapshot, Level
from ..errors import ConnectFailed, RetriesExhausted
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
from ..testing import FakeVenueServer, ServerConnection, virtual_clock_ms
from ..testing.binance import FakeBinance, binance_api_url, binance_server, binance_stream_url
from ..venues.binance import (
    BinanceApiConnection,
    BinanceBook,
    BinanceSpotConnection,
    Kline,
    Trade,
    binance_depth_snapshots,
    depth_topic,
    klines_topic,
    trades_topic,
)
from ._app import ExitCode, Output, Stopper
from ._view import (
    DemoView,
    describe_reason,
    format_event,
    level_text,
    number,
    reason_key,
    summary_lines,
)

__all__ = ["FAULTS", "DemoOptions", "DemoState", "demo", "fault_schedule", "run_demo"]

#: The faults, in the order the injector cycles through them.
FAULTS: Final = ("drop", "close 1001", "book gap", "stall", "serverShutdown")

_FAULT_TEXT: Final = {
    "drop": "TCP dropped by the server (FIN, no close frame)",
    "close 1001": "server closed with 1001 'going away'",
    "stall": "server stalled: it sends nothing and answers no pings",
    "book gap": "a depth stream skips 5 update ids",
    "serverShutdown": "server sent Binance's serverShutdown notice",
}

# The market driver's pace per stream kind (seconds between messages).
_TRADE_EVERY: Final = 0.1
_KLINE_EVERY: Final = 0.5
_DEPTH_EVERY: Final = 0.1  # as @depth@100ms
# The settle time a fault needs to show its whole story before the demo ends.
_SETTLE: Final = 0.3
_LOG_LINES: Final = 10
_RATE_WINDOW: Final = 1.0


@attrs.frozen
class DemoOptions:
    """The demo's settings; :meth:`from_args` picks the defaults of the two modes.

    Attributes:
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
        symbols: the symbols streamed, as Binance spells them (``"BTCUSDT"``).
        transport: the WebSocket transport.
        seed: seeds the fake market and the backoff jitter (a reproducible show).
    """

    duration: float = 30.0
    fault_interval: float = 5.0
    ping_interval: float = 1.0
    pong_timeout: float = 2.0
    close_timeout: float = 1.0
    backoff_initial: float = 0.5
    stable_after: float = 3.0
    max_attempts: int | None = None
    refresh: float = 0.25
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "BNBBTC")
    transport: str = "default"
    seed: int = 7

    @classmethod
    def from_args(
        cls,
        *,
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
        changes: dict[str, Any] = {"transport": transport}
        if duration is not None:
            changes["duration"] = duration
        if fault_interval is not None:
            changes["fault_interval"] = fault_interval
        return attrs.evolve(base, **changes)

    @property
    def stream_topics(self) -> tuple[str, ...]:
        """The trade and candle streams (the depth streams belong to ``book_feed``)."""
        out: list[str] = []
        for symbol in self.symbols:
            out += [trades_topic(symbol), klines_topic(symbol, "1s")]
        return tuple(out)

    @property
    def depth_topics(self) -> tuple[str, ...]:
        """The diff-depth streams ``book_feed`` subscribes to."""
        return tuple(depth_topic(symbol) for symbol in self.symbols)

    def settle(self, fault: str) -> float:
        """About how long ``fault`` takes to be noticed and recovered from."""
        if fault == "book gap":
            return _SETTLE  # the next diff shows the gap; a snapshot follows at once
        # Reconnecting takes the first backoff delay (plus its jitter).
        recovery = self.backoff_initial * 1.2 + _SETTLE
        if fault == "stall":
            # Our next ping, its pong timeout, then the bounded closing handshake.
            return self.ping_interval + self.pong_timeout + self.close_timeout + recovery
        return recovery


def fault_schedule(options: DemoOptions) -> list[tuple[float, str]]:
    """``(seconds after the start, fault)``: one every ``fault_interval``, cycling :data:`FAULTS`.

    A fault waits until the previous one has been recovered from (a stall
    takes a few heartbeat periods); the schedule stops at the first fault
    that could not be recovered from before the demo ends.
    """
    if options.fault_interval <= 0:
        return []
    schedule: list[tuple[float, str]] = []
    at = options.fault_interval
    # Bounded: each step moves on by at least fault_interval (> 0).
    for k in range(math.floor(options.duration / options.fault_interval)):
        fault = FAULTS[k % len(FAULTS)]
        settle = options.settle(fault)
        if at + settle > options.duration:
            break
        schedule.append((round(at, 6), fault))
        at += max(options.fault_interval, settle)
    return schedule


class DemoState:
    """What the demo counted and shows (pure bookkeeping: no I/O, times passed in).

    Attributes:
        counts: messages per stream (depth diffs counted as they arrive).
        disconnects / reconnects: by :func:`~._view.reason_key`.
        resyncs: ``BookResynced`` per symbol.
        log: the last few notable events, timestamped.
    """

    def __init__(
        self,
        *,
        url: str,
        options: DemoOptions,
        clock: Callable[[], float],
    ) -> None:
        self.url = url
        self.duration = options.duration
        self.symbols = options.symbols
        self.topics = tuple(
            t
            for symbol in options.symbols
            for t in (trades_topic(symbol), klines_topic(symbol, "1s"), depth_topic(symbol))
        )
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
        self.api_stats: ConnectionStats | None = None
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
        if topic in self.depth_topics():
            best = self.best_levels(topic.partition("@")[0].upper())
            if best is None:
                return "book syncing"
            bid, ask = best
            return f"bid {level_text(bid)}  ask {level_text(ask)}"
        return self._last.get(topic, "-")

    def depth_topics(self) -> tuple[str, ...]:
        """The depth streams among :attr:`topics`."""
        return tuple(t for t in self.topics if "@depth" in t)

    def best_levels(self, symbol: str) -> tuple[Level | None, Level | None] | None:
        """The synced book's best bid and ask (each ``None`` when that side is empty).

        ``None`` while the book is (re)syncing.
        """
        book = self.feed.book(symbol) if self.feed is not None else None
        if book is None:
            return None
        return book.best_bid, book.best_ask

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

    def sample(self, stream: ConnectionStats | None, api: ConnectionStats | None) -> None:
        """Take the connections' ``ws.stats`` and, once per second, the per-stream rates."""
        self.stream_stats = stream
        self.api_stats = api
        now = self._clock()
        if now - self._rate_at >= _RATE_WINDOW:
            span = now - self._rate_at
            self._rates = {t: (self.counts[t] - self._rate_base[t]) / span for t in self.topics}
            self._rate_base = Counter(self.counts)
            self._rate_at = now

    def count_depth(self, message: Message) -> None:
        """Count one depth message (``book_feed`` consumes them before :meth:`on_event`)."""
        if message.topic is not None:
            self.counts[message.topic] += 1

    def on_event(self, event: Event) -> None:
        """Count one event from the feed and log the notable ones."""
        match event:
            case Message(topic=topic, data=data):
                if topic is not None:
                    self.counts[topic] += 1
                    self._remember(topic, data)
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

    def _remember(self, topic: str, data: Any) -> None:
        if isinstance(data, Trade):
            side = "sell" if data.is_buyer_maker else "buy"
            self._last[topic] = f"{side} {number(data.quantity)} @ {number(data.price)}"
        elif isinstance(data, Kline):
            bar = data.bar
            state = "closed" if bar.is_closed else "open"
            self._last[topic] = (
                f"{state} o={number(bar.open)} c={number(bar.close)} trades={bar.trade_count}"
            )


# -- the moving parts -------------------------------------------------------------------------


async def _drive_market(
    server: FakeVenueServer[FakeBinance], options: DemoOptions, start: float
) -> None:
    """Push every stream's data at its pace until the demo's end (bounded by the duration)."""

    async def drive(topic: str, every: float) -> None:
        for tick in range(1, math.ceil(options.duration / every) + 1):
            await trio.sleep_until(start + tick * every)
            # Data is generated even while the client is away: the market moves
            # on, and the depth streams then really have a hole to resync over.
            await server.push(topic)

    async with trio.open_nursery() as nursery:
        for symbol in options.symbols:
            nursery.start_soon(drive, trades_topic(symbol), _TRADE_EVERY)
            nursery.start_soon(drive, klines_topic(symbol, "1s"), _KLINE_EVERY)
            nursery.start_soon(drive, depth_topic(symbol), _DEPTH_EVERY)


def _stream_connection(server: FakeVenueServer[FakeBinance]) -> ServerConnection | None:
    """The server side of the newest open market-stream connection (not the WS API)."""
    for conn in reversed(server.active):
        if not conn.request.path.rstrip("/").endswith("/ws-api/v3"):
            return conn
    return None


async def _inject(server: FakeVenueServer[FakeBinance], fault: str, symbol: str) -> bool:
    """Inflict ``fault``; ``False`` when there was no connection to inflict it on."""
    if fault == "book gap":
        server.behaviour.market(symbol).inject_gap(5)
        return True
    conn = _stream_connection(server)
    if conn is None:
        return False
    if fault == "drop":
        await conn.drop()
    elif fault == "close 1001":
        await conn.close(1001, "going away")
    elif fault == "stall":
        conn.stall()
    else:
        await server.behaviour.notify_shutdown(conn)
    return True


async def _inject_faults(
    server: FakeVenueServer[FakeBinance], state: DemoState, options: DemoOptions
) -> None:
    for at, fault in fault_schedule(options):
        await trio.sleep_until(state.started_at + at)
        if await _inject(server, fault, options.symbols[0]):
            state.faults.append(fault)
            target = f" ({options.symbols[0]})" if fault == "book gap" else ""
            state.note(f"FAULT: {_FAULT_TEXT[fault]}{target}")
        else:
            state.note(f"fault {fault!r} skipped: the client is between connections")


async def _refresh(
    view: DemoView,
    state: DemoState,
    ws: RetryingConnection[BinanceSpotConnection],
    api: BinanceApiConnection,
    every: float,
) -> None:
    """Sample the connections' stats and redraw, a few times per second, until cancelled."""
    ticks = math.ceil(state.duration / every) + 1
    for _ in range(ticks):
        current = ws.connection
        state.sample(current.stats if current is not None else None, api.stats)
        view.refresh()
        await trio.sleep(every)


async def _drain_api(api: BinanceApiConnection, state: DemoState) -> None:
    """Read the WS-API connection's events (a connection whose events nobody reads stalls)."""
    async for event in api.events:
        if isinstance(event, Disconnected):
            state.note(f"WS-API connection ended: {describe_reason(event.reason)}")


async def _session(
    server: FakeVenueServer[FakeBinance],
    state: DemoState,
    view: DemoView,
    options: DemoOptions,
    transport: Any,
    stopper: Stopper,
) -> None:
    connect_options: dict[str, Any] = {
        "transport": transport,
        "ping_interval": options.ping_interval,
        "pong_timeout": options.pong_timeout,
        "close_timeout": options.close_timeout,
        "connect_timeout": 5.0,
        # Binance allows 5 frames/s from a client, pings included: wait for
        # room rather than fail a resubscription that lands next to a ping.
        "rate_limit_policy": {"messages": "wait"},
    }
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
    stream_url = binance_stream_url(server)

    def connect() -> AbstractAsyncContextManager[BinanceSpotConnection]:
        return BinanceSpot.connect(stream_url, **connect_options)

    deadline = state.started_at + options.duration
    try:
        async with (
            BinanceSpotApi.connect(binance_api_url(server), **connect_options) as api,
            trio.open_nursery() as background,
        ):
            background.start_soon(_drain_api, api, state)
            try:
                async with retry_scope(connect, policy=policy) as ws:
                    with stopper.scope(), trio.move_on_at(deadline):
                        await _watch(server, state, view, options, ws, api)
            except RetriesExhausted as exc:
                # Raised bare by retry_scope (never in a group): caught here, inside
                # the nursery, so that it does not come out wrapped in one.
                state.failure = (ExitCode.DISCONNECTED, f"retry_scope gave up: {exc}")
            background.cancel_scope.cancel(reason="the demo is over")
    except ConnectFailed as exc:
        # Only entering BinanceSpotApi.connect raises this bare.
        state.failure = (ExitCode.CONNECT_FAILED, f"could not connect to the fake venue: {exc}")


class _CountingBook(BinanceBook):
    """Binance's book adapter, counting each depth message for the demo's rates."""

    def __init__(self, state: DemoState) -> None:
        super().__init__()
        self._state = state

    def parse(self, message: Message) -> Sequence[DepthDiff | DepthSnapshot]:
        """Count the message, then parse it as Binance's adapter does."""
        self._state.count_depth(message)
        return super().parse(message)


async def _watch(
    server: FakeVenueServer[FakeBinance],
    state: DemoState,
    view: DemoView,
    options: DemoOptions,
    ws: RetryingConnection[BinanceSpotConnection],
    api: BinanceApiConnection,
) -> None:
    """Subscribe, keep the books, inject the faults and redraw until cancelled."""
    await ws.subscribe(*options.stream_topics)
    snapshots = binance_depth_snapshots(api, limit=100)
    async with (
        book_feed(ws, _CountingBook(state), options.symbols, snapshots=snapshots) as feed,
        trio.open_nursery() as work,
    ):
        state.feed = feed
        work.start_soon(_inject_faults, server, state, options)
        work.start_soon(_refresh, view, state, ws, api, options.refresh)
        async for event in feed:
            state.on_event(event)
        # The feed ends only when retry_scope gave up; its error follows.
        work.cancel_scope.cancel(reason="the feed ended")


async def demo(
    options: DemoOptions, output: Output, stopper: Stopper, *, memory: bool = False
) -> DemoState:
    """Run the demo and return what it counted (the summary is printed by :func:`run_demo`).

    Args:
        options: the settings.
        output: where the view goes (a live view when stdout is a terminal).
        stopper: Ctrl-C ends the demo early (``DemoState.interrupted``).
        memory: connect over in-memory streams instead of 127.0.0.1 (tests run
            the whole demo under a virtual clock this way).

    A failure (the WS-API connection could not be opened, ``retry_scope``
    gave up) ends the demo early; it is in ``DemoState.failure``.
    """
    fake = FakeBinance(seed=options.seed, clock=virtual_clock_ms() if memory else None)
    server = binance_server(fake)
    async with trio.open_nursery() as nursery:
        if memory:
            await nursery.start(server.run)
            transport: Any = server.memory_transport(options.transport)
        else:
            await nursery.start(server.serve_tcp)
            transport = options.transport
        state = DemoState(url=server.url, options=options, clock=trio.current_time)
        nursery.start_soon(_drive_market, server, options, state.started_at)
        try:
            with DemoView(state, output, live=output.is_terminal, clock=trio.current_time) as view:
                state.on_log = view.event
                state.note(
                    f"fake Binance listening on {server.url}; {len(fault_schedule(options))} "
                    f"faults scheduled, every {options.fault_interval:g} s"
                )
                await _session(server, state, view, options, transport, stopper)
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
    state = await demo(options, output, stopper, memory=memory)
    for line in summary_lines(state):
        output.line(line)
    if state.failure is not None:
        code, message = state.failure
        output.error(message)
        return code
    return ExitCode.INTERRUPTED if state.interrupted else ExitCode.OK
