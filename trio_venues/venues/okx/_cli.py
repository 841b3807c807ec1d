"""OKX on the command line: its messages as text, and its demo scenario.

Reached through the registry (``VenueEntry.cli``) and imported only by the
CLI (see :mod:`trio_venues.cli._scenario`).

The demo streams ``trades`` and ``tickers`` for three instruments on the
public endpoint and keeps their ``books`` (snapshots in the stream, updates
chained by ``seqId``/``prevSeqId``). Its faults, besides a dropped TCP
connection, a close with 1001 and a stall: a ``seqId`` skipped in a book
stream and a wrong book checksum (each resyncs that book by resubscribing
it), and the 64008 service-upgrade notice, which ends the connection
(docs/venues/okx.md, "Notices" and "Order books").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from ...cli._scenario import (
    CLOSE_1001,
    DROP,
    STALL,
    DemoFault,
    DemoScenario,
    DemoStream,
    DemoTarget,
    VenueCli,
    book_fault,
    one_connection,
)
from ...cli._view import levels_text, number
from ...testing import FakeVenueServer, virtual_clock_ms
from ._book import OkxBook
from ._client import Okx
from ._fake import FakeOkx, fake_okx_server
from ._protocol import ENDPOINT_PATHS
from ._wire import BookMessage, Candle, Notice, Ticker, Trade

__all__ = ["CLI", "SCENARIO", "describe", "describe_last"]


def _named(inst_id: str | None) -> str:
    return "" if inst_id is None else f"{inst_id} "


def _maybe(value: Any) -> str:
    return "-" if value is None else number(value)


def describe(data: Any) -> str | None:
    """A short human line for one of OKX's typed messages (``None``: not one)."""
    match data:
        case Trade():
            return (
                f"{data.inst_id} trade #{data.trade_id} {data.side:<4} "
                f"{number(data.size)} @ {number(data.price)}"
            )
        case Ticker():
            return (
                f"{data.inst_id} ticker last={_maybe(data.last)} "
                f"bid={_maybe(data.bid_price)} ask={_maybe(data.ask_price)} "
                f"volume={_maybe(data.volume_24h)}"
            )
        case Candle():
            state = "open" if data.confirmed is False else "closed"
            bar = f" {data.bar}" if data.bar else ""
            return (
                f"{_named(data.inst_id)}candle{bar} {state} o={number(data.open)} "
                f"h={number(data.high)} l={number(data.low)} c={number(data.close)} "
                f"v={number(data.volume)}"
            )
        case BookMessage():
            return (
                f"{_named(data.inst_id)}book {data.action} seqId={data.seq_id} "
                f"prevSeqId={data.prev_seq_id} "
                f"bids[{len(data.bids)}] {levels_text(data.bids)} | "
                f"asks[{len(data.asks)}] {levels_text(data.asks)}"
            )
        case Notice():
            return f"notice {data.code}: {data.message}"
    return None


def describe_last(data: Any) -> str | None:
    """The demo table's "last" text of a trade or a ticker."""
    if isinstance(data, Trade):
        return f"{data.side} {number(data.size)} @ {number(data.price)}"
    if isinstance(data, Ticker):
        return (
            f"last {_maybe(data.last)}  bid {_maybe(data.bid_price)}  ask {_maybe(data.ask_price)}"
        )
    return None


# -- the demo ---------------------------------------------------------------------------------


def _streams(symbol: str) -> tuple[DemoStream, ...]:
    return (
        DemoStream(topic=f"trades:{symbol}", every=0.1),
        DemoStream(topic=f"tickers:{symbol}", every=0.5),
    )


def _wall_clock(virtual_time: bool) -> Callable[[], float]:
    if not virtual_time:
        return time.time
    clock_ms = virtual_clock_ms()
    return lambda: clock_ms() / 1000


def _server(seed: int, virtual_time: bool) -> FakeVenueServer[FakeOkx]:
    # The fake's market is a fixed pattern: there is nothing to seed.
    return fake_okx_server(FakeOkx(wall_clock=_wall_clock(virtual_time)))


def _public_url(server: FakeVenueServer[Any]) -> str:
    host = "okx.fake" if server.port is None else f"127.0.0.1:{server.port}"
    return f"ws://{host}{ENDPOINT_PATHS['public']}"


def _seq_gap(target: DemoTarget) -> None:
    target.server.inject_gap(target.book_topic, 3)


def _bad_checksum(target: DemoTarget) -> None:
    fake: FakeOkx = target.server.behaviour
    fake.corrupt_checksum(target.book_topic)


async def _notice(target: DemoTarget) -> bool:
    if target.connection is None:
        return False
    fake: FakeOkx = target.server.behaviour
    await fake.send_notice(target.connection, "64008")
    return True


SCENARIO: Final = DemoScenario(
    title="OKX",
    symbols=("BTC-USDT", "ETH-USDT", "SOL-USDT"),
    streams=_streams,
    book=OkxBook,
    book_every=0.1,
    faults=(
        DROP,
        CLOSE_1001,
        book_fault(
            "seqId gap", "a books stream skips 3 updates (prevSeqId breaks the chain)", _seq_gap
        ),
        STALL,
        DemoFault(
            name="notice 64008",
            text="server sent OKX's 64008 service-upgrade notice",
            recovery="reconnect",
            inject=_notice,
        ),
        book_fault("bad checksum", "a books update carries a wrong checksum", _bad_checksum),
    ),
    server=_server,
    session=one_connection(Okx, _public_url),
    last=describe_last,
)

CLI: Final = VenueCli(describe=describe, demo=SCENARIO)
