"""Run the benchmark suite and print its tables: ``python -m benchmarks.run [--quick]``.

Method (``../shared/PERFORMANCE.md``): a fresh local server per run
(``benchmarks.server``: plain sockets, pre-built frames, 127.0.0.1 only,
bounded lifetime), one client process per run, server pinned to CPU 0 and
client to CPU 1 (``--no-pin`` to disable), clients interleaved A B C ... C B A
over several rounds, medians reported, ratios taken median / median.

Scenarios: ``trade`` and ``depth`` (throughput, msgs/s), ``latency`` (one-way,
at a fixed rate), ``venues`` (each venue's typed trades against the Trio
limit on that venue's own frames: one row per entry of
``benchmarks.venues.VENUES``), ``idle`` (RSS per idle connection) and
``scale`` (many connections with ten subscriptions each: CPU and memory as it
grows).
Results are printed, never asserted: this machine is noisy (see README.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .payloads import close_frame, payloads, sentinel_payload, server_frame, streams_path
from .venues import VENUES

ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT = ("trade", "depth")
SCENARIOS = ("trade", "depth", "latency", "venues", "idle", "scale")
Result = dict[str, Any]


@dataclass(frozen=True)
class Client:
    """One row of the tables: a client module run with fixed arguments."""

    name: str
    module: str
    what: str
    modes: frozenset[str]
    args: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    ours: bool = False
    in_process: bool = False


_ALL = frozenset(("trade", "depth", "latency"))
CLIENTS: tuple[Client, ...] = (
    Client(
        "tv_typed_default",
        "tv_typed",
        "trio_venues BinanceSpot typed events, async for (default transport)",
        _ALL,
        ("--transport", "default"),
        ours=True,
    ),
    Client(
        "tv_typed_tws",
        "tv_typed",
        "trio_venues BinanceSpot typed events, async for (trio-websocket transport)",
        _ALL,
        ("--transport", "trio-websocket"),
        ours=True,
    ),
    Client(
        "tv_typed_batches",
        "tv_typed",
        "trio_venues BinanceSpot typed events, ws.events.batches() (default transport)",
        frozenset(THROUGHPUT),
        ("--transport", "default", "--delivery", "batches"),
        ours=True,
    ),
    Client(
        "tv_raw_orjson",
        "tv_raw",
        "trio_venues RawWebSocket + orjson (default transport)",
        _ALL | {"idle"},
        ("--transport", "default"),
        ours=True,
    ),
    Client(
        "tv_raw_tws_orjson",
        "tv_raw",
        "trio_venues RawWebSocket + orjson (trio-websocket transport)",
        _ALL | {"idle"},
        ("--transport", "trio-websocket"),
        ours=True,
    ),
    Client(
        "trio_ws_orjson",
        "trio_ws_orjson",
        "raw trio-websocket loop + orjson",
        _ALL | {"idle"},
        needs=("trio_websocket",),
    ),
    Client(
        "websockets_orjson",
        "websockets_orjson",
        "websockets (asyncio) + orjson raw-dict loop",
        _ALL | {"idle"},
        needs=("websockets",),
    ),
    Client(
        "picows_orjson",
        "picows_orjson",
        "picows + orjson",
        _ALL | {"idle"},
        needs=("picows",),
    ),
    Client(
        "aiohttp_orjson",
        "aiohttp_orjson",
        "aiohttp ws_connect + orjson",
        _ALL | {"idle"},
        needs=("aiohttp",),
    ),
    Client(
        "trio_rawsock_orjson",
        "trio_rawsock_orjson",
        "Trio minimal-framing limit: trio socket + frame splitter + orjson",
        _ALL,
    ),
    Client(
        "decode_only_orjson",
        "decode_only_orjson",
        "in-process: orjson decode only, no socket",
        frozenset(THROUGHPUT),
        in_process=True,
    ),
)
ASYNCIO_PEERS = {"websockets_orjson", "picows_orjson", "aiohttp_orjson"}


@dataclass
class Settings:
    """Everything one run of the suite uses (filled from the command line)."""

    rounds: int
    counts: dict[str, int]
    latency_rate: float
    idle_conns: int
    scale_steps: str
    scale_subs: int
    scale_rate: float
    scale_window: float
    pin: bool
    loop: str
    scenarios: list[str]
    clients: list[Client]
    timeout: float
    skipped: dict[str, str] = field(default_factory=dict)


# --- processes -------------------------------------------------------------------------


def _pinned(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child to ``cpu`` (None: no pinning)."""
    if cpu is None:
        return None

    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


def _cpus(settings: Settings) -> tuple[int | None, int | None]:
    """CPUs for (server, client): 0 and 1 when pinning on a machine with at least two."""
    if settings.pin and len(os.sched_getaffinity(0)) >= 2:
        return 0, 1
    return None, None


def start_server(args: Sequence[str], cpu: int | None, wait: float = 30.0) -> tuple[Any, int]:
    """Start ``benchmarks.server`` and wait (bounded) for its ``READY <port>`` line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_pinned(cpu),
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], wait)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("READY "):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise RuntimeError(f"server did not start: {line!r} {err[-500:]}")
    return proc, int(line.split()[1])


def stop_server(proc: Any, terminate: bool = False) -> str:
    """Let a server finish (or SIGTERM it); kill it if it does not; return its stderr."""
    if terminate:
        proc.terminate()
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    return str(err or "")


def run_client(module: str, args: Sequence[str], cpu: int | None, timeout: float) -> Result:
    """Run one client process; return its RESULT, or ``{"error": ...}``."""
    cmd = [sys.executable, "-m", f"benchmarks.clients.{module}", *args]
    try:
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_pinned(cpu),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"client timed out after {timeout:.0f}s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: Result = json.loads(line[7:])
            return result
    tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"error": f"exit {done.returncode}: {tail[:300]}"}


def machine_busy(seconds: float = 0.5) -> float:
    """Percent of all CPUs busy over ``seconds`` (other engineers' load included)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    spent = max(total1 - total0, 1)
    return 100.0 * (1 - (idle1 - idle0) / spent)


# --- one measurement per scenario --------------------------------------------------------


def measure(client: Client, scenario: str, settings: Settings, frames: dict[str, str]) -> Result:
    """Run ``client`` once in ``scenario`` against a fresh server."""
    server_cpu, client_cpu = _cpus(settings)
    count = settings.counts.get(scenario, 0)
    extra = [*client.args]
    if client.name in ASYNCIO_PEERS:
        extra += ["--loop", settings.loop]
    if client.in_process:
        args = ["--mode", scenario, "--count", str(count), *extra]
        return run_client(client.module, args, client_cpu, settings.timeout)
    lifetime = str(int(settings.timeout) + 30)
    if scenario in THROUGHPUT:
        server_args = ["stream", "--frames-file", frames[scenario], "--lifetime", lifetime]
        path = streams_path(scenario)
    elif scenario == "latency":
        rate = str(settings.latency_rate)
        server_args = ["latency", "--count", str(count), "--rate", rate, "--lifetime", lifetime]
        path = streams_path("trade")
    else:  # idle
        server_args = ["multi", "--lifetime", lifetime]
        path = "/stream"
    server, port = start_server(server_args, server_cpu)
    try:
        args = ["--mode", scenario, "--url", f"ws://127.0.0.1:{port}{path}"]
        args += ["--count", str(count), "--conns", str(settings.idle_conns), *extra]
        result = run_client(client.module, args, client_cpu, settings.timeout)
    finally:
        stop_server(server, terminate=scenario == "idle")
    return result


def measure_venue(venue: str, typed: bool, settings: Settings, frames_file: str) -> Result:
    """One run of ``venue``'s typed client (or the Trio limit) on that venue's trade frames."""
    server_cpu, client_cpu = _cpus(settings)
    lifetime = str(int(settings.timeout) + 30)
    server_args = ["stream", "--frames-file", frames_file, "--lifetime", lifetime]
    server, port = start_server(server_args, server_cpu)
    try:
        args = ["--mode", "trade", "--url", f"ws://127.0.0.1:{port}{VENUES[venue].path}"]
        args += ["--count", str(settings.counts["venues"]), "--venue", venue]
        module = "tv_venue" if typed else "trio_rawsock_orjson"
        result = run_client(module, args, client_cpu, settings.timeout)
    finally:
        stop_server(server)
    return result


def measure_scale(settings: Settings) -> Result:
    """One scale run of trio_venues over the default transport (RawWebSocket: no venue limits)."""
    server_cpu, client_cpu = _cpus(settings)
    lifetime = str(int(settings.timeout) + 60)
    server_args = ["multi", "--per-stream-rate", str(settings.scale_rate), "--lifetime", lifetime]
    server, port = start_server(server_args, server_cpu)
    try:
        args = ["--url", f"ws://127.0.0.1:{port}/stream", "--steps", settings.scale_steps]
        args += ["--subs", str(settings.scale_subs), "--window", str(settings.scale_window)]
        args += ["--settle", str(min(1.0, settings.scale_window))]
        result = run_client("tv_scale", args, client_cpu, settings.timeout + 30)
    finally:
        err = stop_server(server, terminate=True)
    counters = [line for line in err.splitlines() if line.startswith("{")]
    if counters:
        result["server"] = json.loads(counters[-1])
    return result


# --- the tables --------------------------------------------------------------------------


def _fmt_rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def _mark(runs: list[Result]) -> str:
    """`` *`` when a typed row fell back to RawWebSocket + orjson."""
    return " *" if any("fallback" in r for r in runs) else ""


def _ok_runs(runs: list[Result]) -> list[Result]:
    return [r for r in runs if "error" not in r]


def throughput_table(scenario: str, settings: Settings, results: dict[str, list[Result]]) -> None:
    """Print msgs/s medians, ranges, MB/s and the ratio to websockets_orjson."""
    count = settings.counts[scenario]
    print(f"\n== Throughput: {count:,} {scenario} messages, {settings.rounds} round(s) ==")
    print(
        f"{'client':<22}{'median msgs/s':>15}{'min-max':>16}{'MB/s':>8}{'vs websockets':>15}  what"
    )
    base = median_rate(results.get("websockets_orjson", []))
    rows = []
    for client in settings.clients:
        runs = results.get(client.name)
        if runs is None:
            continue
        ok = _ok_runs(runs)
        if not ok:
            rows.append((0.0, f"{client.name:<22}{'failed':>15}  {runs[0].get('error', '')}"))
            continue
        rates = [r["msgs"] / r["seconds"] for r in ok]
        med = statistics.median(rates)
        mbs = [r["bytes"] / r["seconds"] / 1e6 for r in ok if "bytes" in r]
        mb = f"{statistics.median(mbs):.0f}" if mbs else "-"
        ratio = f"{med / base:.2f}x" if base else "-"
        span = f"{_fmt_rate(min(rates))}-{_fmt_rate(max(rates))}"
        short = [r for r in ok if r["msgs"] != count]
        note = f" (got {short[0]['msgs']} of {count} msgs!)" if short else ""
        name = client.name + _mark(runs)
        rows.append(
            (
                med,
                f"{name:<22}{med:>15,.0f}{span:>16}{mb:>8}{ratio:>15}  {client.what}{note}",
            )
        )
    for _, text in sorted(rows, key=lambda row: -row[0]):
        print(text)


def median_rate(runs: list[Result]) -> float:
    """Median msgs/s of the successful runs (0 when there are none)."""
    ok = _ok_runs(runs)
    return statistics.median(r["msgs"] / r["seconds"] for r in ok) if ok else 0.0


def median_of(runs: list[Result], key: str) -> float:
    """Median of ``key`` over the successful runs that have it (0 when none)."""
    values = [r[key] for r in _ok_runs(runs) if key in r]
    return float(statistics.median(values)) if values else 0.0


def latency_table(settings: Settings, results: dict[str, list[Result]]) -> None:
    """Print the median p50/p90/p99/p99.9 of each client."""
    count = settings.counts["latency"]
    rate = settings.latency_rate
    print(
        f"\n== One-way latency: {count:,} trade messages at {rate:,.0f}/s, "
        f"{settings.rounds} round(s), first 1% skipped =="
    )
    print(f"{'client':<22}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}{'p99.9 us':>10}{'p50 range':>12}")
    rows = []
    for client in settings.clients:
        runs = results.get(client.name)
        if runs is None:
            continue
        ok = [r for r in _ok_runs(runs) if r.get("samples")]
        if not ok:
            rows.append((1e12, f"{client.name:<22}{'failed':>9}  {runs[0].get('error', '')}"))
            continue
        p50s = [r["p50_us"] for r in ok]
        cells = [median_of(ok, k) for k in ("p50_us", "p90_us", "p99_us", "p999_us")]
        name = client.name + _mark(runs)
        rows.append(
            (
                cells[0],
                f"{name:<22}{cells[0]:>9.0f}{cells[1]:>9.0f}{cells[2]:>9.0f}{cells[3]:>10.0f}"
                f"{f'{min(p50s)}-{max(p50s)}':>12}",
            )
        )
    for _, text in sorted(rows):
        print(text)


def idle_table(settings: Settings, results: dict[str, list[Result]]) -> None:
    """Print RSS growth per idle connection."""
    print(f"\n== Memory per idle connection: {settings.idle_conns} connections in one process ==")
    print(f"{'client':<22}{'RSS growth MB':>15}{'per conn KB':>13}")
    for client in settings.clients:
        runs = results.get(client.name)
        if runs is None:
            continue
        ok = _ok_runs(runs)
        if not ok:
            print(f"{client.name:<22}{'failed':>15}  {runs[0].get('error', '')}")
            continue
        growth = statistics.median(r["rss_after"] - r["rss_before"] for r in ok)
        per = growth / ok[0]["conns"] / 1024
        print(f"{client.name:<22}{growth / 2**20:>15.1f}{per:>13.1f}")


def scale_table(settings: Settings, result: Result) -> None:
    """Print CPU and memory at each step of the scale run."""
    print(
        f"\n== Scale: trio_venues {result.get('client', '')}, default transport, "
        f"{settings.scale_subs} subscriptions per "
        f"connection, {settings.scale_rate:g} msgs/s per stream, {settings.scale_window:g} s "
        "windows =="
    )
    if "error" in result:
        print(f"failed: {result['error']}")
        return
    if "fallback" in result:
        print(f"(* {result['fallback']})")
    print(
        f"{'connections':>12}{'msgs/s':>10}{'CPU %':>8}{'RSS MB':>9}{'KB per conn':>13}"
        f"{'KB per added conn':>19}"
    )
    prev_conns, prev_rss = 0, result["base_rss"]
    for row in result["steps"]:
        # Growth per connection since the start, and per connection added since the last step.
        added = (row["rss"] - prev_rss) / max(row["conns"] - prev_conns, 1) / 1024
        prev_conns, prev_rss = row["conns"], row["rss"]
        print(
            f"{row['conns']:>12}{row['msgs_per_s']:>10,.0f}{row['cpu_pct']:>8.1f}"
            f"{row['rss'] / 2**20:>9.1f}{row['rss_growth_per_conn'] / 1024:>13.1f}{added:>19.1f}"
        )
    if "server" in result:
        print(f"server counters: {result['server']}")


#: Issue 17's target for each venue's typed trades against the Trio limit on its frames.
VENUE_TARGET = 0.45


def venue_table(settings: Settings, results: dict[str, list[Result]]) -> None:
    """Print each venue's typed trades against the Trio limit on the same frames."""
    count = settings.counts["venues"]
    print(
        f"\n== Typed trades per venue: {count:,} of each venue's own trade frames, "
        f"{settings.rounds} round(s) =="
    )
    print(f"{'venue':<12}{'typed msgs/s':>14}{'limit msgs/s':>14}{'typed/limit':>13}  target  met")
    for venue in VENUES:
        typed = median_rate(results.get(f"{venue}:typed", []))
        limit = median_rate(results.get(f"{venue}:limit", []))
        if not typed or not limit:
            errors = [
                r.get("error", "") for k in ("typed", "limit") for r in results[f"{venue}:{k}"]
            ]
            print(f"{venue:<12}{'failed':>14}  {next((e for e in errors if e), '')}")
            continue
        ratio = typed / limit
        met = "yes" if ratio >= VENUE_TARGET else "no"
        target = f">={VENUE_TARGET:.2f}x"
        print(f"{venue:<12}{typed:>14,.0f}{limit:>14,.0f}{ratio:>12.2f}x  {target}  {met}")


def ratio_table(results: dict[str, dict[str, list[Result]]], settings: Settings) -> None:
    """Print the ratios issue 17 sets targets for (printed, never asserted)."""
    print("\n== Issue 17 targets (medians of one run; printed, never asserted) ==")
    print(f"{'ratio':<62}{'value':>10}{'target':>10}  met")

    def line(label: str, num: float, den: float, target: float, higher: bool = True) -> None:
        if not num or not den:
            print(f"{label:<62}{'n/a':>10}{'':>10}  (a row is missing)")
            return
        value = num / den
        met = value >= target if higher else value <= target
        sign = ">=" if higher else "<="
        print(f"{label:<62}{value:>9.2f}x{sign:>4}{target:>5.2f}x  {'yes' if met else 'no'}")

    trade = results.get("trade", {})
    typed_trades = median_rate(trade.get("tv_typed_default", []))
    line(
        "trade: typed async for / Trio minimal-framing limit",
        typed_trades,
        median_rate(trade.get("trio_rawsock_orjson", [])),
        0.5,
    )
    line(
        "trade: typed async for / websockets + orjson raw dicts",
        typed_trades,
        median_rate(trade.get("websockets_orjson", [])),
        1.5,
    )
    depth = results.get("depth", {})
    line(
        "depth (20+ levels a side): typed / websockets + orjson raw dicts",
        median_rate(depth.get("tv_typed_default", [])),
        median_rate(depth.get("websockets_orjson", [])),
        1.0,
    )
    lat = results.get("latency", {})
    line(
        f"latency p50 at {settings.latency_rate:,.0f} msg/s: typed / websockets (lower is better)",
        median_of(lat.get("tv_typed_default", []), "p50_us"),
        median_of(lat.get("websockets_orjson", []), "p50_us"),
        1.05,
        higher=False,
    )
    venues = results.get("venues", {})
    for venue in VENUES:
        line(
            f"{venue}: typed trades / Trio limit on its own frames",
            median_rate(venues.get(f"{venue}:typed", [])),
            median_rate(venues.get(f"{venue}:limit", [])),
            VENUE_TARGET,
        )
    idle = _ok_runs(results.get("idle", {}).get("tv_raw_orjson", []))
    if idle:
        kb = statistics.median(r["rss_after"] - r["rss_before"] for r in idle)
        kb = kb / idle[0]["conns"] / 1024
        met = "yes" if kb <= IDLE_TARGET_KB else "no"
        print(
            f"{'memory per idle connection, KB (lower is better)':<62}{kb:>10.1f}"
            f"{'<=':>4}{IDLE_TARGET_KB:>6.1f}  {met}"
        )
    print("\nAlso measured (earlier targets):")
    for kind in THROUGHPUT:
        r = results.get(kind, {})
        line(
            f"{kind}: typed batches() default / websockets+orjson",
            median_rate(r.get("tv_typed_batches", [])),
            median_rate(r.get("websockets_orjson", [])),
            1.0,
        )
        # "Within 1.2x" of the raw trio-websocket loop: at least 1/1.2 of its rate.
        line(
            f"{kind}: typed trio-websocket transport / raw trio-websocket",
            median_rate(r.get("tv_typed_tws", [])),
            median_rate(r.get("trio_ws_orjson", [])),
            1 / 1.2,
        )
    marked = any(
        "fallback" in run for runs in results.values() for rs in runs.values() for run in rs
    )
    if marked:
        print("* typed rows fell back to RawWebSocket + orjson: BinanceSpot is not available yet")


#: Memory per idle connection must stay at or below the figure of the last release.
IDLE_TARGET_KB = 29.0


# --- the run -----------------------------------------------------------------------------


def build_frames(kind: str, count: int, directory: str) -> str:
    """Write the pre-built byte stream of ``kind`` (payloads, sentinel, close) to a file."""
    frames = b"".join(server_frame(p) for p in payloads(kind, count))
    frames += server_frame(sentinel_payload(kind)) + close_frame()
    path = os.path.join(directory, f"{kind}.frames")
    with open(path, "wb") as fh:
        fh.write(frames)
    return path


def available(settings: Settings) -> list[Client]:
    """The clients whose packages are importable; the others are noted and skipped."""
    chosen = []
    for client in settings.clients:
        missing = [pkg for pkg in client.needs if importlib.util.find_spec(pkg) is None]
        if client.ours:
            try:
                from trio_venues import RawWebSocket  # noqa: F401
            except ImportError as exc:
                missing.append(f"trio_venues.RawWebSocket ({exc})")
        if missing:
            settings.skipped[client.name] = f"missing {', '.join(missing)}"
            continue
        chosen.append(client)
    return chosen


def build_venue_frames(venue: str, count: int, directory: str) -> str:
    """Write ``venue``'s trade stream (``count`` frames, its sentinel, a close) to a file."""
    entry = VENUES[venue]
    frames = b"".join(server_frame(p) for p in entry.frames(count))
    frames += server_frame(entry.sentinel(count)) + close_frame()
    path = os.path.join(directory, f"venue-{venue}.frames")
    with open(path, "wb") as fh:
        fh.write(frames)
    return path


def run_venues(settings: Settings, directory: str) -> dict[str, list[Result]]:
    """Each venue's typed client and the Trio limit on its frames, interleaved round by round."""
    files = {v: build_venue_frames(v, settings.counts["venues"], directory) for v in VENUES}
    pairs = [(venue, typed) for venue in VENUES for typed in (True, False)]
    results: dict[str, list[Result]] = {
        f"{venue}:{'typed' if typed else 'limit'}": [] for venue, typed in pairs
    }
    for rnd in range(settings.rounds):
        print(f"[bench] venues round {rnd + 1}/{settings.rounds}", flush=True)
        for venue, typed in pairs if rnd % 2 == 0 else pairs[::-1]:
            result = measure_venue(venue, typed, settings, files[venue])
            key = f"{venue}:{'typed' if typed else 'limit'}"
            if "error" in result:
                print(f"[bench]   {key}: {result['error']}", flush=True)
            results[key].append(result)
    return results


def run_suite(settings: Settings) -> dict[str, Any]:
    """Run every scenario, interleaving clients round by round; print tables as they finish."""
    settings.clients = available(settings)
    for name, why in settings.skipped.items():
        print(f"[bench] skipping {name}: {why}")
    busy = machine_busy()
    print(f"[bench] machine busy before the run: {busy:.0f}% of all CPUs", flush=True)
    if busy >= 10:
        print("[bench] warning: other load on this machine; figures will be noisy")
    started = time.perf_counter()
    everything: dict[str, dict[str, list[Result]]] = {}
    scale_result: Result | None = None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        frames = {
            kind: build_frames(kind, settings.counts[kind], tmp)
            for kind in THROUGHPUT
            if kind in settings.scenarios
        }
        for scenario in settings.scenarios:
            if scenario == "scale":
                print("[bench] scale run", flush=True)
                scale_result = measure_scale(settings)
                continue
            if scenario == "venues":
                everything[scenario] = run_venues(settings, tmp)
                continue
            clients = [c for c in settings.clients if scenario in c.modes]
            rounds = 1 if scenario == "idle" else settings.rounds
            results: dict[str, list[Result]] = {c.name: [] for c in clients}
            for rnd in range(rounds):
                order = clients if rnd % 2 == 0 else clients[::-1]
                print(f"[bench] {scenario} round {rnd + 1}/{rounds}", flush=True)
                for client in order:
                    result = measure(client, scenario, settings, frames)
                    if "error" in result:
                        print(f"[bench]   {client.name}: {result['error']}", flush=True)
                    results[client.name].append(result)
            everything[scenario] = results
    elapsed = time.perf_counter() - started
    busy_after = machine_busy()

    for scenario in settings.scenarios:
        if scenario in THROUGHPUT:
            throughput_table(scenario, settings, everything[scenario])
        elif scenario == "latency":
            latency_table(settings, everything[scenario])
        elif scenario == "venues":
            venue_table(settings, everything[scenario])
        elif scenario == "idle":
            idle_table(settings, everything[scenario])
        elif scenario == "scale" and scale_result is not None:
            scale_table(settings, scale_result)
    if set(settings.scenarios) & {"trade", "depth", "latency", "venues", "idle"}:
        ratio_table(everything, settings)
    print(
        f"\n[bench] {elapsed:.0f} s; machine busy before/after: {busy:.0f}% / {busy_after:.0f}%;"
        f" pinned: {_cpus(settings) != (None, None)}; asyncio loop: {settings.loop}"
    )
    return {"results": everything, "scale": scale_result, "elapsed_s": elapsed}


def parse(argv: Sequence[str] | None = None) -> tuple[Settings, argparse.Namespace]:
    """Read the command line into :class:`Settings`."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer messages and rounds (~2 min)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="a few hundred messages, one round, trio_venues clients only (tests)",
    )
    p.add_argument("--rounds", type=int)
    p.add_argument("--scenarios", help=f"comma list of {','.join(SCENARIOS)}")
    p.add_argument("--clients", help="comma list of client names (default: all)")
    p.add_argument("--trade-count", type=int)
    p.add_argument("--depth-count", type=int)
    p.add_argument("--latency-count", type=int)
    p.add_argument("--venue-count", type=int, help="trade frames per venue (venues scenario)")
    p.add_argument("--latency-rate", type=float, default=2000.0)
    p.add_argument("--idle-conns", type=int)
    p.add_argument("--scale-steps", help="connection counts, e.g. 250,500,1000")
    p.add_argument("--scale-subs", type=int, default=10)
    p.add_argument("--scale-rate", type=float, default=0.5, help="msgs/s per subscribed stream")
    p.add_argument("--scale-window", type=float)
    p.add_argument("--no-pin", action="store_true", help="do not pin server/client to CPUs 0/1")
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    p.add_argument("--json", help="also write every raw result to this file")
    a = p.parse_args(argv)

    # (full, quick, smoke) defaults
    def pick(value: Any, full: Any, quick: Any, smoke: Any) -> Any:
        if value is not None:
            return value
        return smoke if a.smoke else quick if a.quick else full

    counts = {
        "trade": pick(a.trade_count, 100_000, 30_000, 300),
        "depth": pick(a.depth_count, 20_000, 6_000, 300),
        "latency": pick(a.latency_count, 3_000, 2_000, 200),
        "venues": pick(a.venue_count, 50_000, 20_000, 300),
    }
    clients = list(CLIENTS)
    if a.clients:
        names = {n.strip() for n in a.clients.split(",")}
        unknown = names - {c.name for c in CLIENTS}
        if unknown:
            p.error(f"unknown client(s) {sorted(unknown)}; known: {[c.name for c in CLIENTS]}")
        clients = [c for c in CLIENTS if c.name in names]
    elif a.smoke:
        clients = [c for c in CLIENTS if c.ours]
    scenarios = list(SCENARIOS)
    if a.scenarios:
        scenarios = [s.strip() for s in a.scenarios.split(",")]
        if set(scenarios) - set(SCENARIOS):
            p.error(f"scenarios are {SCENARIOS}")
    elif a.smoke:
        scenarios = ["trade", "latency", "venues", "idle", "scale"]
    settings = Settings(
        rounds=pick(a.rounds, 5, 3, 1),
        counts=counts,
        latency_rate=a.latency_rate,
        idle_conns=pick(a.idle_conns, 200, 100, 5),
        scale_steps=pick(a.scale_steps, "250,500,1000", "100,300", "10"),
        scale_subs=a.scale_subs,
        scale_rate=a.scale_rate,
        scale_window=pick(a.scale_window, 3.0, 2.0, 0.5),
        pin=not (a.no_pin or a.smoke),
        loop=a.loop,
        scenarios=scenarios,
        clients=clients,
        timeout=pick(None, 180.0, 120.0, 60.0),
    )
    return settings, a


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; exit 0 when every run produced a result, 1 otherwise."""
    settings, a = parse(argv)
    report = run_suite(settings)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(report, fh, indent=1)
    failed = any(
        "error" in run for runs in report["results"].values() for rs in runs.values() for run in rs
    )
    scale = report["scale"]
    return 1 if failed or (scale is not None and "error" in scale) else 0


if __name__ == "__main__":
    sys.exit(main())
