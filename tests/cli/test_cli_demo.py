"""``trio-venues demo``: faults become typed reasons, reconnects, gaps, resyncs, a summary."""

from __future__ import annotations

import re
import socket

import attrs
import pytest
import trio

from trio_venues.cli import ExitCode, run
from trio_venues.cli._app import Output, Stopper
from trio_venues.cli._demo import DemoOptions, demo, demo_scenario, fault_schedule, run_demo
from trio_venues.venues.binance import _cli as binance_cli

from ._helpers import WatchedText


def _section(summary: str, title: str) -> dict[str, int]:
    """The ``key  count`` lines under ``title:`` in the summary."""
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {title}:"))
    out: dict[str, int] = {}
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        # "    NetworkError  1" or "    btcusdt@trade   38  (7.6/s)"
        match = re.fullmatch(r"\s+(.+?)\s+(\d+)(?:\s+\(.*\))?", line)
        assert match is not None, line
        out[match.group(1)] = int(match.group(2))
    return out


async def test_short_demo_over_tcp_shows_reconnects_with_their_reasons() -> None:
    """``trio-venues demo --short`` on 127.0.0.1: faults, typed reasons, reconnects, a summary."""
    out, err = WatchedText(), WatchedText()
    with trio.fail_after(40):
        code = await run(["demo", "--short"], stdout=out, stderr=err)
    text = out.getvalue()
    assert code == ExitCode.OK, err.getvalue()
    summary = text[text.index("trio-venues demo: summary after") :]
    reconnects = int(re.search(r"\n  reconnects: (\d+)\n", summary).group(1))  # type: ignore[union-attr]
    by_reason = _section(summary, "reconnects")
    assert reconnects >= 1
    assert sum(by_reason.values()) == reconnects
    # The drop comes first, 0.8 s in: its typed reason is always among them.
    assert "NetworkError" in by_reason
    assert "FAULT: TCP dropped by the server" in text
    assert "Disconnected: NetworkError: " in text
    assert "Reconnecting: attempt 1, backoff " in text
    assert "Resubscribed: 9 streams replayed and acknowledged" in text
    assert "DataGap: 9 streams may have missed data" in text
    messages = _section(summary, "messages per stream")
    assert set(messages) >= {"btcusdt@trade", "ethusdt@kline_1s", "bnbbtc@depth@100ms"}
    assert all(count > 0 for count in messages.values())


async def test_full_demo_reports_every_fault_as_its_typed_reason(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The 30 s demo (in memory, virtual time): each fault's reason, gaps, resyncs, on time."""
    out = WatchedText()
    options = DemoOptions.from_args()
    state = await demo(options, Output(out, out), Stopper(), memory=True)
    assert state.elapsed() == pytest.approx(30.0)
    assert state.faults == [fault.name for fault in demo_scenario("binance").faults]
    expected = {
        "NetworkError": 1,
        "RemoteClosed 1001 GOING_AWAY": 1,
        "HeartbeatTimeout (pong)": 1,
        "ServerRequested": 1,
    }
    assert dict(state.disconnects) == expected
    assert dict(state.reconnects) == expected
    assert state.connections == 5
    assert state.data_gaps == 4
    # The book gap on BTCUSDT: detected in the stream, resynced from a snapshot.
    assert state.sequence_gaps == 1
    # Each book syncs at the start and after each of the 4 reconnects; BTCUSDT once more.
    assert dict(state.resyncs) == {"BTCUSDT": 6, "ETHUSDT": 5, "BNBBTC": 5}
    assert state.errors == 0
    assert not state.interrupted
    # Every stream flowed: 10 trades and diffs per second, 2 candles, minus the outages.
    assert len(state.topics) == 9
    for topic in state.topics:
        assert state.counts[topic] > 0
    assert state.counts["btcusdt@trade"] > 200
    text = out.getvalue()
    assert "[  5.00s] FAULT: TCP dropped by the server (FIN, no close frame)" in text
    assert "[ 10.00s] FAULT: server closed with 1001 'going away'" in text
    assert "[ 25.00s] FAULT: server sent Binance's serverShutdown notice" in text
    # The stall at 20 s: our next ping (within 1 s) is never answered, and
    # pong_timeout (2 s) later the heartbeat ends the connection.
    stall = re.search(
        r"\[ *([\d.]+)s\] Disconnected: HeartbeatTimeout \(pong\): no pong for 2.00 s", text
    )
    assert stall is not None
    assert 22.0 <= float(stall.group(1)) <= 23.0


async def test_demo_live_view_on_a_terminal(autojump_clock: trio.abc.Clock) -> None:
    """On a terminal: a live table (streams, books, RTT, limiter), then the summary."""
    tty = WatchedText(tty=True)
    options = DemoOptions.from_args(short=True)
    code = await run_demo(options, Output(tty, tty), Stopper(), memory=True)
    assert code == ExitCode.OK
    text = tty.getvalue()
    assert "\x1b[" in text  # drawn with terminal control sequences
    labels = ("stream", "pong rtt", "queue", "events (peak", "limiter", "/5 per 1s", "weight ")
    for label in labels:
        assert label in text
    assert "bid " in text
    assert "recent events" in text
    assert "trio-venues demo: summary after 5.0 s" in text


async def test_ctrl_c_ends_the_demo_early_with_its_summary(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Interrupted at 7 s: the demo stops at once, says so, and exits 130."""
    out = WatchedText()
    stopper = Stopper()
    codes: list[int] = []

    async def interrupt_at(seconds: float) -> None:
        await trio.sleep(seconds)
        stopper.interrupt()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(interrupt_at, 7.0)
        codes.append(await run_demo(DemoOptions(), Output(out, out), stopper, memory=True))
    assert codes == [ExitCode.INTERRUPTED]
    assert "trio-venues demo: summary after 7.0 s (interrupted)" in out.getvalue()
    assert "faults injected: 1 (drop)" in out.getvalue()


async def test_demo_ends_with_exit_4_when_retry_scope_gives_up(
    autojump_clock: trio.abc.Clock,
) -> None:
    """``max_attempts=0``: the first fault ends the demo: summary, the reason, exit 4."""
    out = WatchedText()
    options = attrs.evolve(DemoOptions.from_args(short=True), max_attempts=0)
    code = await run_demo(options, Output(out, out), Stopper(), memory=True)
    assert code == ExitCode.DISCONNECTED
    text = out.getvalue()
    assert "trio-venues demo: summary after 0.8 s" in text
    assert "retry_scope gave up" in text
    assert "max_attempts=0" in text
    assert "reconnects: 0" in text


async def test_demo_ends_with_exit_3_when_it_cannot_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The WS-API connection is refused: the demo stops at once, says why, exits 3."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(binance_cli, "binance_api_url", lambda server: f"ws://127.0.0.1:{port}/")
    out = WatchedText()
    with trio.fail_after(20):
        code = await run_demo(DemoOptions.from_args(short=True), Output(out, out), Stopper())
    assert code == ExitCode.CONNECT_FAILED
    assert "could not connect to the fake venue" in out.getvalue()
    assert "connections: 0" in out.getvalue()


def _schedule(options: DemoOptions) -> list[tuple[float, str]]:
    return [(at, fault.name) for at, fault in fault_schedule(options)]


def test_fault_schedule_leaves_time_to_recover() -> None:
    """Faults cycle in order, a stall gets time for its heartbeat, none is cut off by the end."""
    assert _schedule(DemoOptions.from_args()) == [
        (5.0, "drop"),
        (10.0, "close 1001"),
        (15.0, "book gap"),
        (20.0, "stall"),
        (25.0, "serverShutdown"),
    ]
    # Short mode: after the stall at 3.2 s there is no time left for another fault.
    assert _schedule(DemoOptions.from_args(short=True)) == [
        (0.8, "drop"),
        (1.6, "close 1001"),
        (2.4, "book gap"),
        (3.2, "stall"),
    ]
    # Faults every second would overlap a stall: the next one waits for its recovery.
    schedule = _schedule(DemoOptions.from_args(duration=12, fault_interval=1))
    assert schedule[:5] == [
        (1.0, "drop"),
        (2.0, "close 1001"),
        (3.0, "book gap"),
        (4.0, "stall"),
        (8.9, "serverShutdown"),
    ]
    assert fault_schedule(DemoOptions.from_args(fault_interval=0)) == []
    assert fault_schedule(DemoOptions.from_args(duration=4)) == []
