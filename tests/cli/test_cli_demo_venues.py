"""``trio-venues demo --venue NAME``: every venue's scenario, faults reported and survived."""

from __future__ import annotations

import ast
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio

import trio_venues.cli
from trio_venues.cli import ExitCode, run
from trio_venues.cli._app import Output, Stopper
from trio_venues.cli._demo import DemoOptions, demo, demo_scenario, fault_schedule
from trio_venues.venues._registry import get_venue, venue_names
from trio_venues.venues.okx import Candle
from trio_venues.venues.okx._cli import describe

from ._helpers import WatchedText


def _demo_venues() -> list[str]:
    """Every registered venue whose folder gives a demo."""
    names = []
    for name in venue_names():
        entry = get_venue(name)
        if entry.cli is not None and entry.cli().demo is not None:
            names.append(name)
    return names


DEMO_VENUES = _demo_venues()

#: How each venue reports its disconnecting faults (``reason_key`` -> count),
#: and how many extra resyncs its book faults cause beyond one per symbol per connection.
EXPECTED: dict[str, tuple[dict[str, int], Counter[str]]] = {
    "binance": (
        {
            "NetworkError": 1,
            "RemoteClosed 1001 GOING_AWAY": 1,
            "HeartbeatTimeout (pong)": 1,
            "ServerRequested": 1,
        },
        Counter({"BTCUSDT": 1}),
    ),
    "okx": (
        {
            "NetworkError": 1,
            "RemoteClosed 1001 GOING_AWAY": 1,
            "HeartbeatTimeout (pong)": 1,
            "ServerRequested": 1,
        },
        # The seqId gap and the wrong checksum, both on BTC-USDT.
        Counter({"BTC-USDT": 2}),
    ),
    "bybit": (
        {"NetworkError": 1, "RemoteClosed 1001 GOING_AWAY": 1, "HeartbeatTimeout (pong)": 1},
        # The u jump and the u == 1 snapshot, both on BTCUSDT.
        Counter({"BTCUSDT": 2}),
    ),
    "coinbase": (
        {"NetworkError": 1, "RemoteClosed 1001 GOING_AWAY": 1, "HeartbeatTimeout (pong)": 1},
        # One sequence_num for the whole connection: each of the two gaps resyncs every book.
        Counter({"BTC-USD": 2, "ETH-USD": 2, "SOL-USD": 2}),
    ),
}


def test_every_venue_with_a_fake_has_a_demo() -> None:
    """Each registered venue with a fake (the generic test venue aside) has a demo scenario."""
    with_fakes = {n for n in venue_names() if get_venue(n).fake is not None and n != "generic"}
    assert with_fakes == set(DEMO_VENUES) == set(EXPECTED)
    assert {"binance", "okx", "bybit", "coinbase"} <= with_fakes


def _options(venue: str) -> DemoOptions:
    """Long enough for every fault of the venue's scenario, and 5 s after the last one."""
    faults = demo_scenario(venue).faults
    options = DemoOptions.from_args(venue=venue, duration=5.0 * (len(faults) + 1))
    assert [f.name for _, f in fault_schedule(options)] == [f.name for f in faults]
    return options


@pytest.mark.parametrize("venue", DEMO_VENUES)
async def test_each_venue_demo_reports_and_survives_every_fault(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    """In memory, virtual time: each fault is logged, reported as its reason, and recovered from."""
    out = WatchedText()
    options = _options(venue)
    scenario = demo_scenario(venue)
    state = await demo(options, Output(out, out), Stopper(), memory=True)
    text = out.getvalue()
    assert state.failure is None
    assert state.errors == 0
    assert state.faults == [fault.name for fault in scenario.faults]
    for fault in scenario.faults:
        assert f"FAULT: {fault.text}" in text
    reasons, extra_resyncs = EXPECTED[venue]
    assert dict(state.disconnects) == reasons
    assert dict(state.reconnects) == reasons
    disconnecting = [f for f in scenario.faults if f.recovery != "resync"]
    assert sum(reasons.values()) == len(disconnecting)
    assert state.connections == 1 + len(disconnecting)
    # Every reconnect is followed by its replay and a DataGap marker.
    assert text.count("Resubscribed: ") == len(disconnecting)
    assert state.data_gaps == len(disconnecting)
    # Every book syncs on each connection, and once more after each fault that hits it.
    per_connection = Counter({symbol: state.connections for symbol in state.symbols})
    assert state.resyncs == per_connection + extra_resyncs
    # Survived: the last fault is over, and every stream flowed in the last second.
    assert state.connected_since is not None
    for topic in state.topics:
        assert state.counts[topic] > 0, topic
        assert state.rate(topic) > 0, topic


@pytest.mark.parametrize("venue", [v for v in DEMO_VENUES if v != "binance"])
async def test_demo_venue_option_over_tcp(venue: str) -> None:
    """``demo --venue NAME --short`` on 127.0.0.1: the venue's fake, its faults, a summary."""
    out, err = WatchedText(), WatchedText()
    with trio.fail_after(40):
        code = await run(["demo", "--venue", venue, "--short"], stdout=out, stderr=err)
    assert code == ExitCode.OK, err.getvalue()
    text = out.getvalue()
    scenario = demo_scenario(venue)
    assert f"fake {scenario.title} listening on ws://127.0.0.1:" in text
    assert "FAULT: TCP dropped by the server" in text
    assert "Disconnected: NetworkError: " in text
    summary = text[text.index("trio-venues demo: summary after") :]
    match = re.search(r"\n  reconnects: (\d+)\n", summary)
    assert match is not None
    assert int(match.group(1)) >= 1


@pytest.mark.parametrize("venue", DEMO_VENUES)
async def test_stream_prints_each_venue_messages_in_its_own_words(venue: str) -> None:
    """``stream VENUE ... --fake``: the demo's streams and book read as the venue words them."""
    scenario = demo_scenario(venue)
    symbol = scenario.symbols[0]
    topics = [s.topic for s in scenario.streams(symbol)] + [scenario.book().topic(symbol)]
    out, err = WatchedText(), WatchedText()
    with trio.fail_after(30):
        code = await run(
            ["stream", venue, *topics, "--fake", "--count", "12"], stdout=out, stderr=err
        )
    assert code == ExitCode.OK, err.getvalue()
    lines = out.getvalue().splitlines()
    assert len(lines) == 12
    seen = set()
    for line in lines:
        topic, _, text = line.partition("  ")
        seen.add(topic)
        # The venue's words, not the fallback's "TypeName {json}".
        assert "{" not in text, line
        assert text.strip(), line
    assert seen >= set(topics)


async def test_demo_of_a_venue_without_one_is_a_usage_error() -> None:
    """The generic test venue has no demo: exit 2 and say so."""
    out, err = WatchedText(), WatchedText()
    code = await run(["demo", "--venue", "generic"], stdout=out, stderr=err)
    assert code == ExitCode.USAGE
    assert "has no demo" in err.getvalue()


def test_demo_live_view_rows_come_from_the_scenario() -> None:
    """A scenario without side connections shows no "api limiter" row; Binance's does."""
    assert [side.label for side in demo_scenario("binance").sides] == ["api limiter"]
    assert all(not demo_scenario(v).sides for v in DEMO_VENUES if v != "binance")


# -- the shared CLI modules name no venue --------------------------------------------------------

_CLI_DIR = Path(trio_venues.cli.__file__).parent
#: Modules that must not even mention a venue (the rest may in help texts and defaults).
_NEUTRAL = ("_demo.py", "_view.py", "_scenario.py", "_stream.py")


def _imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, relative imports resolved against trio_venues.cli."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ["trio_venues", "cli"][: 2 - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names += [module] + [f"{module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("path", sorted(_CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_shared_cli_modules_import_no_venue(path: Path) -> None:
    """No ``trio_venues.cli`` module imports a venue's package or its testing module."""
    venue_modules = [
        f"trio_venues.{package}.{name}"
        for name in venue_names()
        for package in ("venues", "testing")
    ]
    for module in _imported_modules(path):
        for venue_module in venue_modules:
            assert module != venue_module, f"{path.name} imports {module}"
            assert not module.startswith(venue_module + "."), f"{path.name} imports {module}"


@pytest.mark.parametrize("name", _NEUTRAL)
def test_demo_and_view_modules_name_no_venue(name: str) -> None:
    """The demo, its contract, the view and ``stream`` hold no venue name at all."""
    text = (_CLI_DIR / name).read_text()
    for venue in venue_names():
        entry = get_venue(venue)
        for word in {venue, entry.title.split()[0]}:
            assert re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) is None, (
                f"{name} names {word}"
            )


def test_the_import_check_sees_relative_venue_imports(tmp_path: Path) -> None:
    """The import check resolves ``from ..venues.binance import X`` (it would catch one)."""
    module = tmp_path / "m.py"
    module.write_text("from ..venues.binance import BinanceSpot\nfrom ._view import number\n")
    imported = _imported_modules(module)
    assert "trio_venues.venues.binance.BinanceSpot" in imported
    assert "trio_venues.cli._view.number" in imported


async def test_demo_streams_the_symbols_asked_for(autojump_clock: trio.abc.Clock) -> None:
    """``DemoOptions.symbols`` replaces the scenario's: only that symbol's streams and book run."""
    out = WatchedText()
    options = attrs.evolve(DemoOptions.from_args(venue="okx", short=True), symbols=("ETH-USDT",))
    state = await demo(options, Output(out, out), Stopper(), memory=True)
    assert state.topics == ("trades:ETH-USDT", "tickers:ETH-USDT", "books:ETH-USDT")
    assert state.symbols == ("ETH-USDT",)
    assert all(state.counts[topic] > 0 for topic in state.topics)


def test_okx_candle_line_names_its_instrument_and_bar() -> None:
    """OKX's words for a candle name the instrument and bar the push carried, when known."""
    one, two = Decimal("1.10"), Decimal("2")
    known = Candle(1, one, two, one, two, two, two, two, False, inst_id="BTC-USDT", bar="1m")
    assert describe(known) == "BTC-USDT candle 1m open o=1.1 h=2 l=1.1 c=2 v=2"
    assert (
        describe(Candle(1, one, two, one, two, two, two)) == "candle closed o=1.1 h=2 l=1.1 c=2 v=2"
    )
