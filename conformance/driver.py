"""Autobahn|Testsuite client driver for trio_venues' ``RawWebSocket``.

Follows the Autobahn "fuzzingserver" client protocol:

    GET /getCaseCount                      -> one text message: N
    GET /getCaseInfo?case=i                -> one JSON text message {"id": "1.1.1", ...}
    GET /runCase?case=i&agent=AGENT        -> echo every message back until closed
    GET /updateReports?agent=AGENT         -> server writes index.json/html + per-case reports

Only :func:`echo_case` uses the code under test: ``RawWebSocket.connect`` over
the transport named by ``--transport`` (``default`` or ``trio-websocket``).
The control-plane calls (case count, case info, report update) stay on plain
trio-websocket, so a broken transport cannot break the bookkeeping.

Every loop is bounded: a per-case timeout (default 60 s) and a whole-run
timeout (default 1500 s). Loopback only: the default server is 127.0.0.1:9001.

    .venv/bin/python conformance/driver.py --transport default [--cases 1-100,250]

``conformance/run.sh`` starts the server and runs this for both transports.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from trio_venues import RawWebSocket
from trio_venues.events import Disconnected, Message
from trio_venues.reasons import DisconnectReason, ProtocolError, RemoteClosed

DEFAULT_SERVER = "ws://127.0.0.1:9001"
TRANSPORTS = ("default", "trio-websocket")
# Autobahn 9.x sends single messages of up to 16 MiB.
MAX_MESSAGE_SIZE = 16 * 1024 * 1024
# 9.3.1 / 9.4.1 send 4 MiB in 64-byte fragments: 65,536 frames for one message.
MAX_FRAGMENTS = 1 << 17


@dataclass
class CaseOutcome:
    """What the client saw during one case (the server's verdict is in its reports)."""

    messages: int = 0
    close_code: int | None = None
    close_reason: str | None = None
    disconnect_reason: str | None = None
    error: str | None = None
    timed_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


EchoCase = Callable[[str], Awaitable[CaseOutcome]]


def _record(out: CaseOutcome, reason: DisconnectReason) -> None:
    """Keep the close code of the reason: the peer's (RemoteClosed) or the one we sent."""
    out.disconnect_reason = repr(reason)
    if isinstance(reason, RemoteClosed):
        out.close_code, out.close_reason = reason.code, reason.reason
    elif isinstance(reason, ProtocolError):
        out.close_code, out.close_reason = reason.close_code, reason.details


async def echo_case(url: str, transport: str = "default") -> CaseOutcome:
    """Connect to ``url`` and echo every message (same type) until ``Disconnected``.

    Text stays text and binary stays binary: ``Message.data`` is the raw
    ``str | bytes`` and ``send`` keeps its type. It returns (never raises)
    whichever side ends the connection.
    """
    out = CaseOutcome()
    try:
        async with RawWebSocket.connect(
            url,
            transport=transport,
            max_message_size=MAX_MESSAGE_SIZE,
            max_fragments=MAX_FRAGMENTS,
            ping_interval=None,
            compression=True,
        ) as ws:
            async for event in ws.events:
                if isinstance(event, Message):
                    try:
                        await ws.send(event.data)
                    except Exception as exc:
                        # The connection ended while we echoed (e.g. NotConnected):
                        # Disconnected follows in the channel; keep draining it.
                        out.extra["send_error"] = f"{type(exc).__name__}: {exc}"
                        continue
                    out.messages += 1
                elif isinstance(event, Disconnected):
                    _record(out, event.reason)
    except Exception as exc:  # record, never kill the suite
        out.error = f"{type(exc).__name__}: {exc}"
    return out


async def _one_text_message(url: str) -> str:
    async with open_websocket_url(url, connect_timeout=10, disconnect_timeout=10) as ws:
        msg = await ws.get_message()
    return msg if isinstance(msg, str) else msg.decode()


async def get_case_count(server: str) -> int:
    """Ask the fuzzing server how many cases it has."""
    return int(await _one_text_message(f"{server}/getCaseCount"))


async def get_case_info(server: str, index: int) -> dict[str, Any]:
    """Ask the fuzzing server for case ``index`` (1-based): its id and description."""
    info: dict[str, Any] = json.loads(await _one_text_message(f"{server}/getCaseInfo?case={index}"))
    return info


async def update_reports(server: str, agent: str) -> None:
    """Make the server write its reports (it does so as soon as this connection opens)."""
    async with open_websocket_url(
        f"{server}/updateReports?agent={agent}", connect_timeout=10, disconnect_timeout=60
    ) as ws:
        try:
            with trio.move_on_after(60):
                await ws.get_message()
        except ConnectionClosed:
            pass


def parse_case_selection(text: str, count: int) -> list[int]:
    """Turn ``'1-10,17,300-'`` into 1-based indices within ``1..count``."""
    if not text:
        return list(range(1, count + 1))
    picked: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            a = int(lo) if lo else 1
            b = int(hi) if hi else count
            picked.extend(range(max(1, a), min(count, b) + 1))
        elif part:
            picked.append(int(part))
    return [i for i in picked if 1 <= i <= count]


async def run_suite(
    server: str,
    agent: str,
    echo: EchoCase,
    selection: str = "",
    case_timeout: float = 60.0,
    total_timeout: float = 1500.0,
    log_path: str | None = None,
    verbose: bool = False,
) -> int:
    """Run the selected cases with ``echo``, then have the server write its reports."""
    started = trio.current_time()
    count = await get_case_count(server)
    indices = parse_case_selection(selection, count)
    print(f"[client] server reports {count} cases; running {len(indices)} as agent={agent!r}")
    log: list[dict[str, Any]] = []
    with trio.move_on_after(total_timeout) as total_scope:
        for n, index in enumerate(indices, 1):
            info = await get_case_info(server, index)
            case_id = str(info.get("id", index))
            t0 = trio.current_time()
            with trio.move_on_after(case_timeout) as case_scope:
                outcome = await echo(f"{server}/runCase?case={index}&agent={agent}")
            if case_scope.cancelled_caught:
                outcome = CaseOutcome(timed_out=True, error=f"client gave up after {case_timeout}s")
            dt = trio.current_time() - t0
            log.append({"index": index, "id": case_id, "seconds": round(dt, 3), **asdict(outcome)})
            if verbose or outcome.error or outcome.timed_out or dt > 5:
                print(
                    f"[client] {n:3d}/{len(indices)} case {case_id:<8} {dt:6.2f}s "
                    f"msgs={outcome.messages} close={outcome.close_code} err={outcome.error}",
                    flush=True,
                )
    if total_scope.cancelled_caught:
        print(f"[client] total time-box of {total_timeout}s hit after {len(log)} cases")
    await update_reports(server, agent)
    if log_path:
        with open(log_path, "w") as fh:  # noqa: ASYNC230 - once, after the run
            json.dump(log, fh, indent=1)
    print(f"[client] done: {len(log)} cases in {trio.current_time() - started:.1f}s")
    return 2 if total_scope.cancelled_caught else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the suite; the exit status is 2 on the total time-box."""
    p = argparse.ArgumentParser(description="Autobahn client driver for trio_venues.RawWebSocket")
    p.add_argument("--server", default=DEFAULT_SERVER, help="fuzzingserver base URL (loopback)")
    p.add_argument("--transport", choices=TRANSPORTS, default="default")
    p.add_argument("--agent", default=None, help="default: trio-venues-<transport>")
    p.add_argument("--cases", default="", help="1-based indices, e.g. '1-200,250' (default all)")
    p.add_argument("--case-timeout", type=float, default=60.0)
    p.add_argument("--total-timeout", type=float, default=1500.0)
    p.add_argument("--log", default=None, help="write the per-case client-side outcomes here")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    if not a.server.startswith(("ws://127.", "ws://localhost")):
        p.error("loopback servers only")
    agent = a.agent or f"trio-venues-{a.transport}"
    echo = partial(echo_case, transport=a.transport)
    return trio.run(
        run_suite,
        a.server,
        agent,
        echo,
        a.cases,
        a.case_timeout,
        a.total_timeout,
        a.log,
        a.verbose,
    )


if __name__ == "__main__":
    sys.exit(main())
