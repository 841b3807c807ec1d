"""What the commands show: one-line events and reasons, JSON lines, the demo's live view.

Everything here turns library values (events, reasons, typed messages,
``ws.stats``) into text; nothing here does I/O on a connection. A venue's
typed messages read as the venue's ``_cli.py`` words them (its
``VenueCli.describe``, passed in); anything else prints as its type and JSON.
The demo's live view uses ``rich`` when stdout is a terminal and falls back
to plain periodic lines otherwise (a pipe, a CI log, a test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs
import msgspec
import orjson
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .._codec import make_converter
from ..events import (
    Authenticated,
    Backpressure,
    Connected,
    DataGap,
    Disconnected,
    ErrorEvent,
    Event,
    GapDetected,
    Message,
    RateLimited,
    Reconnecting,
    Resubscribed,
    Subscribed,
    Unsubscribed,
)
from ..reasons import (
    ConnectAttemptFailed,
    DisconnectReason,
    HeartbeatTimeout,
    NetworkError,
    ProtocolError,
    RemoteClosed,
    ResubscribeTimeout,
    ServerRequested,
)

#: A venue's words for its typed messages: a line, or None for a value it does not know.
Describe: TypeAlias = Callable[[Any], str | None]

if TYPE_CHECKING:
    from .. import ConnectionStats
    from ..ratelimit import LimiterStats
    from ._app import Output
    from ._demo import DemoState

__all__ = [
    "Describe",
    "DemoView",
    "decimal_text",
    "describe_reason",
    "format_data",
    "format_event",
    "format_message",
    "level_text",
    "levels_text",
    "message_json",
    "number",
    "reason_key",
    "summary_lines",
]


# -- reasons ------------------------------------------------------------------------------


def reason_key(reason: DisconnectReason) -> str:
    """A short label that groups reasons in a summary: ``"RemoteClosed 1001 GOING_AWAY"``."""
    name = type(reason).__name__
    if isinstance(reason, RemoteClosed):
        return f"{name} {reason.code} {reason.code_name}"
    if isinstance(reason, HeartbeatTimeout):
        return f"{name} ({reason.kind})"
    if isinstance(reason, ProtocolError):
        return f"{name} {reason.close_code}"
    if isinstance(reason, ConnectAttemptFailed):
        return f"{name} ({type(reason.error).__name__})"
    return name


def describe_reason(reason: DisconnectReason) -> str:
    """One line: the typed reason, its details and whether a retry may help."""
    details = ""
    if isinstance(reason, RemoteClosed):
        details = f" {reason.reason!r}" if reason.reason else ""
    elif isinstance(reason, HeartbeatTimeout):
        details = f": no {reason.kind} for {reason.silence:.2f} s"
    elif isinstance(reason, NetworkError | ServerRequested | ProtocolError | ResubscribeTimeout):
        details = f": {reason.details}"
    elif isinstance(reason, ConnectAttemptFailed):
        details = f": {reason.description or reason.error}"
    retry = "retryable" if reason.retryable else "not retryable"
    return f"{reason_key(reason)}{details} ({retry})"


# -- typed messages -----------------------------------------------------------------------


#: Positional notation is used up to this many characters (the prices and
#: quantities venues send, 18 decimals included) even when an exponent is shorter.
_POSITIONAL_WIDTH: Final = 20


def decimal_text(value: Decimal) -> str:
    """An exact spelling of ``value`` that stays short whatever its exponent.

    Positional notation (``"97012.35000000"``, ``"0.00000001"``) when it takes
    at most 20 characters or is no longer than the coefficient-and-exponent
    form (``"1e-30"``, ``"15e9"``), which is used otherwise. So a number never
    prints longer than its wire text or 20 characters, whichever is more: a
    hostile ``"1e999999999"`` prints as 11 characters instead of a billion,
    and nothing large is allocated on the way.
    """
    if not value.is_finite():
        return str(value)
    sign, digits, raw_exponent = value.as_tuple()
    exponent = int(raw_exponent)  # an int for every finite value
    count = len(digits)
    if exponent > 0:
        width = count + exponent
    elif -exponent >= count:
        width = 2 - exponent  # "0." and the leading zeros
    else:
        width = count + 1
    compact = f"{''.join(map(str, digits))}e{exponent}"
    if width <= _POSITIONAL_WIDTH or width <= len(compact):
        return format(value, "f")
    return f"-{compact}" if sign else compact


# Un-builds typed messages with their readable field names (not the wire
# names): Decimals become exact strings, tuples become arrays.
_CONVERTER = make_converter()
_CONVERTER.register_unstructure_hook(Decimal, decimal_text)


def _plain(data: Any) -> Any:
    if isinstance(data, str | bytes | int | float | bool) or data is None:
        return data
    return _CONVERTER.unstructure(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def message_json(message: Message, *, wall_time: float | None = None) -> str:
    """One JSON line (no newline): ``{"topic", "type", "data", "received_at"[, "wall_time"]}``.

    ``data`` is the typed message as an object with its readable field names;
    prices and quantities are exact decimal strings, never JSON numbers.
    ``received_at`` is the ``trio.current_time()`` at which the frame was read
    (monotonic: only differences mean something); ``wall_time``, when given,
    is when it was read in seconds since the epoch (UTC), meaningful in a file.
    """
    record = {
        "topic": message.topic,
        "type": type(message.data).__name__,
        "data": _plain(message.data),
        "received_at": message.received_at,
    }
    if wall_time is not None:
        record["wall_time"] = wall_time
    return orjson.dumps(record, default=_json_default).decode()


def number(value: Decimal | str) -> str:
    """A price or quantity for people: exact, without trailing zeros (``"65000.1"``).

    Takes a ``Decimal`` (spelled by :func:`decimal_text`) or the exact decimal
    string a venue sent (depth levels). Never longer than the wire text.
    """
    text = value if isinstance(value, str) else decimal_text(value)
    if "." in text and "e" not in text and "E" not in text:
        return text.rstrip("0").rstrip(".")
    return text


def level_text(level: tuple[Decimal | str, Decimal | str] | None) -> str:
    """One book level as ``"qty@price"`` (``"-"`` for none)."""
    if level is None:
        return "-"
    price, quantity = level
    return f"{number(quantity)}@{number(price)}"


def levels_text(levels: Iterable[Sequence[Decimal | str]], limit: int = 3) -> str:
    """The first ``limit`` book levels as ``"qty@price qty@price ..."`` (``"-"`` for none).

    A level is ``(price, quantity, ...)``: anything after the quantity is not shown.
    """
    shown = [f"{number(level[1])}@{number(level[0])}" for level in list(levels)[:limit]]
    return " ".join(shown) if shown else "-"


def format_data(data: Any, describe: Describe | None = None) -> str:
    """A short human line for a typed message: the venue's words, else its type and JSON.

    ``describe`` is the venue's ``VenueCli.describe`` (``None`` for a value it
    does not know); any other value prints as its repr.
    """
    text = describe(data) if describe is not None else None
    if text is not None:
        return text
    if attrs.has(type(data)) or isinstance(data, msgspec.Struct):
        return f"{type(data).__name__} {orjson.dumps(_plain(data), default=_json_default).decode()}"
    return repr(data)


def format_message(message: Message, describe: Describe | None = None) -> str:
    """``topic  <the data as one line>`` (``describe``: see :func:`format_data`)."""
    return f"{message.topic or '-'}  {format_data(message.data, describe)}"


def format_event(event: Event) -> str | None:
    """A line for a lifecycle event, or ``None`` for routine traffic (pings, pongs, data)."""
    match event:
        case Connected():
            extensions = f" extensions={','.join(event.extensions)}" if event.extensions else ""
            return f"connected to {event.url}{extensions}"
        case Subscribed():
            return f"subscribed: {' '.join(event.topics)}"
        case Unsubscribed():
            return f"unsubscribed: {' '.join(event.topics)}"
        case Authenticated():
            return "authenticated"
        case Disconnected():
            return f"disconnected: {describe_reason(event.reason)}"
        case Reconnecting():
            return (
                f"reconnecting: attempt {event.attempt} in {event.delay:.2f} s "
                f"after {reason_key(event.reason)}"
            )
        case Resubscribed():
            return f"resubscribed {len(event.topics)} topic(s)"
        case DataGap():
            return (
                f"data gap: {len(event.topics)} topic(s) may have missed "
                f"{event.until - event.since:.2f} s of data"
            )
        case GapDetected():
            return f"sequence gap on {event.topic}: expected {event.expected}, got {event.received}"
        case ErrorEvent():
            return f"error: {type(event.error).__name__}: {event.error}"
        case RateLimited():
            verb = "delayed" if event.waited else "refused"
            return (
                f"rate limit {event.kind} ({event.limit}) {verb}: "
                f"retry in {event.retry_after:.2f} s"
            )
        case Backpressure():
            return f"backpressure: {event.queued}/{event.capacity} events queued"
    return None


# -- the demo's view ------------------------------------------------------------------------


def _limiter_usage(stats: ConnectionStats | None, kinds: Iterable[str]) -> str:
    limits: LimiterStats | None = stats.rate_limits if stats is not None else None
    if limits is None:
        return "-"
    parts = []
    for kind in kinds:
        for window in limits.for_kind(kind):
            limit = "inf" if window.limit == float("inf") else f"{window.limit:g}"
            parts.append(f"{kind} {window.used:g}/{limit} per {window.window:g}s")
    return ", ".join(parts) if parts else "-"


def _queue(stats: ConnectionStats | None) -> str:
    if stats is None:
        return "-"
    return (
        f"{stats.queued}/{stats.capacity} events (peak {stats.peak_queued}), "
        f"dropped {stats.dropped}"
    )


def _price(level: tuple[Decimal, Decimal] | None) -> str:
    return number(level[0]) if level is not None else "-"


def _rtt(rtt: float | None) -> str:
    return "-" if rtt is None else f"{rtt * 1000:.1f} ms"


def _reason_counts(counts: Mapping[str, int]) -> list[str]:
    width = max((len(k) for k in counts), default=0)
    return [f"    {key:<{width}}  {n}" for key, n in sorted(counts.items())]


def status_line(state: DemoState) -> str:
    """The plain view's periodic line: time, rates, books, RTT, reconnects."""
    books = []
    for symbol in state.symbols:
        best = state.best_levels(symbol)
        if best is None:
            books.append(f"{symbol} syncing")
            continue
        bid, ask = best
        books.append(f"{symbol} {_price(bid)}/{_price(ask)}")
    return (
        f"[{state.elapsed():6.2f}s] {state.total_messages()} msgs "
        f"({state.total_rate():.0f}/s) "
        f"| {' | '.join(books)} | rtt {_rtt(state.last_rtt)} "
        f"| reconnects {state.reconnect_count()}"
    )


def render_demo(state: DemoState) -> Group:
    """The live view: a table of streams, the connection's figures, the recent events."""
    header = Text.assemble(
        ("trio-venues demo", "bold"),
        f"  fake {state.title} on {state.url}  ",
        (f"{state.elapsed():.1f} s / {state.duration:g} s", "cyan"),
        "  (Ctrl-C to stop)",
    )
    streams = Table(expand=False, box=None, pad_edge=False)
    streams.add_column("stream")
    streams.add_column("messages", justify="right")
    streams.add_column("per s", justify="right")
    streams.add_column("last")
    # Cells are Text, not str: rich would read "[...]" in a str as markup.
    for topic in state.topics:
        streams.add_row(
            Text(topic),
            Text(str(state.counts.get(topic, 0))),
            Text(f"{state.rate(topic):.1f}"),
            Text(state.last(topic)),
        )
    link = Table.grid(padding=(0, 2))
    link.add_column(style="bold")
    link.add_column()
    rows = [
        ("connection", state.connection_label()),
        ("pong rtt", _rtt(state.last_rtt)),
        ("queue", _queue(state.stream_stats)),
        ("limiter", _limiter_usage(state.stream_stats, ("messages", "connections"))),
        *(
            (side.label, _limiter_usage(state.side_stats_of(k), side.limits))
            for k, side in enumerate(state.sides)
        ),
        (
            "reconnects",
            f"{state.reconnect_count()}   data gaps {state.data_gaps}   "
            f"sequence gaps {state.sequence_gaps}   book resyncs {sum(state.resyncs.values())}",
        ),
    ]
    for label, value in rows:
        link.add_row(Text(label), Text(value))
    log = Text("\n".join(state.log) if state.log else "(no events yet)", style="dim")
    return Group(
        header,
        Text(""),
        streams,
        Text(""),
        link,
        Text(""),
        Text("recent events", style="bold"),
        log,
    )


def summary_lines(state: DemoState) -> list[str]:
    """The demo's closing summary: messages per stream, reconnects by reason, gaps, resyncs."""
    lines = [f"trio-venues demo: summary after {state.elapsed():.1f} s"]
    if state.interrupted:
        lines[0] += " (interrupted)"
    lines.append("  messages per stream:")
    width = max((len(t) for t in state.topics), default=0)
    for topic in state.topics:
        count = state.counts.get(topic, 0)
        lines.append(
            f"    {topic:<{width}}  {count:>7}  ({count / max(state.elapsed(), 1e-9):.1f}/s)"
        )
    lines.append(
        f"  connections: {state.connections}   faults injected: {len(state.faults)}"
        + (f" ({', '.join(state.faults)})" if state.faults else "")
    )
    lines.append(f"  disconnects: {sum(state.disconnects.values())}")
    lines += _reason_counts(state.disconnects)
    lines.append(f"  reconnects: {state.reconnect_count()}")
    lines += _reason_counts(state.reconnects)
    lines.append(f"  data gaps (DataGap): {state.data_gaps}, {state.gap_seconds:.2f} s in all")
    lines.append(f"  sequence gaps (GapDetected): {state.sequence_gaps}")
    resyncs = ", ".join(f"{s} {state.resyncs.get(s, 0)}" for s in state.symbols)
    lines.append(f"  book resyncs: {sum(state.resyncs.values())} ({resyncs})")
    lines.append(f"  errors: {state.errors}")
    return lines


class DemoView:
    """The demo's screen: a rich live view on a terminal, plain lines anywhere else.

    ``event(line)`` reports something that happened (plain mode prints it at
    once; the live view shows the last few); ``refresh()`` redraws (live) or
    prints a status line once per ``status_every`` seconds (plain).
    """

    def __init__(
        self,
        state: DemoState,
        output: Output,
        *,
        live: bool,
        status_every: float = 1.0,
        clock: Callable[[], float],
    ) -> None:
        self._state = state
        self._output = output
        self._clock = clock
        self._status_every = status_every
        self._next_status = clock() + status_every
        self._live: Live | None = None
        if live:
            console = Console(file=output.stdout)
            # No auto-refresh: rich would redraw from a thread of its own. The
            # demo's refresher task calls refresh() a few times per second.
            self._live = Live(
                render_demo(state),
                console=console,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )

    def __enter__(self) -> DemoView:
        if self._live is not None:
            self._live.start(refresh=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.update(render_demo(self._state), refresh=True)
            self._live.stop()

    def event(self, line: str) -> None:
        """Something happened: print it now (plain mode; the live view shows the log)."""
        if self._live is None:
            self._output.line(line)

    def refresh(self) -> None:
        """Redraw the live view, or print a status line when one is due."""
        if self._live is not None:
            self._live.update(render_demo(self._state), refresh=True)
            return
        now = self._clock()
        if now >= self._next_status:
            self._next_status = now + self._status_every
            self._output.line(status_line(self._state))
