"""Binance Spot on the command line: its messages as text, and its demo scenario.

Reached through the registry (``VenueEntry.cli``) and imported only by the
CLI (see :mod:`trio_venues.cli._scenario`).

The demo streams trades and 1 s candles for three symbols, keeps their books
from ``<symbol>@depth@100ms`` with snapshots fetched over a WS-API connection
to the same fake, and cycles through five faults: a dropped TCP connection,
a close with 1001, a gap in a depth stream's update ids (the book resyncs
from a new snapshot), a stall the heartbeat notices and Binance's
``serverShutdown`` notice (docs/venues/binance.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final

import trio

from ...cli._scenario import (
    CLOSE_1001,
    DROP,
    STALL,
    DemoFault,
    DemoLink,
    DemoScenario,
    DemoSession,
    DemoSide,
    DemoStream,
    DemoTarget,
    VenueCli,
    book_fault,
)
from ...cli._view import describe_reason, levels_text, number
from ...events import Disconnected
from ...testing import FakeVenueServer, ServerConnection, virtual_clock_ms
from ._book import BinanceBook, binance_depth_snapshots
from ._client import BinanceApiConnection, BinanceSpot, BinanceSpotApi, BinanceSpotConnection
from ._fake import FakeBinance, binance_api_url, binance_server, binance_stream_url
from ._wire import (
    AggTrade,
    BookTicker,
    DepthUpdate,
    Kline,
    MiniTicker,
    PartialDepth,
    Ticker,
    Trade,
)

__all__ = ["CLI", "SCENARIO", "describe", "describe_last"]


def _side(is_buyer_maker: bool) -> str:
    # The buyer was the maker: the taker sold.
    return "sell" if is_buyer_maker else "buy "


def describe(data: Any) -> str | None:
    """A short human line for one of Binance's typed messages (``None``: not one)."""
    match data:
        case Trade():
            return (
                f"{data.symbol} trade #{data.trade_id} {_side(data.is_buyer_maker)} "
                f"{number(data.quantity)} @ {number(data.price)}"
            )
        case AggTrade():
            return (
                f"{data.symbol} aggTrade #{data.agg_trade_id} {_side(data.is_buyer_maker)} "
                f"{number(data.quantity)} @ {number(data.price)}"
            )
        case Kline(bar=bar):
            state = "closed" if bar.is_closed else "open"
            return (
                f"{data.symbol} kline {bar.interval} {state} o={number(bar.open)} "
                f"h={number(bar.high)} l={number(bar.low)} c={number(bar.close)} "
                f"v={number(bar.volume)} trades={bar.trade_count}"
            )
        case DepthUpdate():
            return (
                f"{data.symbol} depth U={data.first_update_id} u={data.final_update_id} "
                f"bids[{len(data.bids)}] {levels_text(data.bids)} | "
                f"asks[{len(data.asks)}] {levels_text(data.asks)}"
            )
        case PartialDepth():
            return (
                f"depth lastUpdateId={data.last_update_id} bids {levels_text(data.bids)} | "
                f"asks {levels_text(data.asks)}"
            )
        case BookTicker():
            return (
                f"{data.symbol} bookTicker {number(data.bid_quantity)}@{number(data.bid_price)} "
                f"| {number(data.ask_quantity)}@{number(data.ask_price)}"
            )
        case Ticker():
            return (
                f"{data.symbol} ticker last={number(data.last_price)} "
                f"change={number(data.price_change_percent)}% volume={number(data.base_volume)}"
            )
        case MiniTicker():
            return (
                f"{data.symbol} miniTicker close={number(data.close_price)} "
                f"volume={number(data.base_volume)}"
            )
    return None


def describe_last(data: Any) -> str | None:
    """The demo table's "last" text of a trade or a candle."""
    if isinstance(data, Trade):
        side = "sell" if data.is_buyer_maker else "buy"
        return f"{side} {number(data.quantity)} @ {number(data.price)}"
    if isinstance(data, Kline):
        bar = data.bar
        state = "closed" if bar.is_closed else "open"
        return f"{state} o={number(bar.open)} c={number(bar.close)} trades={bar.trade_count}"
    return None


# -- the demo ---------------------------------------------------------------------------------

# The market driver's pace per stream kind (seconds between messages).
_TRADE_EVERY: Final = 0.1
_KLINE_EVERY: Final = 0.5
_DEPTH_EVERY: Final = 0.1  # as @depth@100ms


def _streams(symbol: str) -> tuple[DemoStream, ...]:
    lower = symbol.lower()
    return (
        DemoStream(topic=f"{lower}@trade", every=_TRADE_EVERY),
        DemoStream(topic=f"{lower}@kline_1s", every=_KLINE_EVERY),
    )


def _server(seed: int, virtual_time: bool) -> FakeVenueServer[FakeBinance]:
    return binance_server(
        FakeBinance(seed=seed, clock=virtual_clock_ms() if virtual_time else None)
    )


def _market_connection(conn: ServerConnection) -> bool:
    """A market-stream connection, not the WS API's."""
    return not conn.request.path.rstrip("/").endswith("/ws-api/v3")


def _book_gap(target: DemoTarget) -> None:
    fake: FakeBinance = target.server.behaviour
    fake.market(target.symbol).inject_gap(5)


async def _server_shutdown(target: DemoTarget) -> bool:
    if target.connection is None:
        return False
    fake: FakeBinance = target.server.behaviour
    await fake.notify_shutdown(target.connection)
    return True


_BOOK_GAP: Final = book_fault("book gap", "a depth stream skips 5 update ids", _book_gap)
_SERVER_SHUTDOWN: Final = DemoFault(
    name="serverShutdown",
    text="server sent Binance's serverShutdown notice",
    recovery="reconnect",
    inject=_server_shutdown,
)


async def _drain_api(api: BinanceApiConnection, link: DemoLink) -> None:
    """Read the WS-API connection's events (a connection whose events nobody reads stalls)."""
    async for event in api.events:
        if isinstance(event, Disconnected):
            link.note(f"WS-API connection ended: {describe_reason(event.reason)}")


@asynccontextmanager
async def _session(link: DemoLink) -> AsyncIterator[DemoSession]:
    """A WS-API connection to the fake for the books' snapshots, kept open by the demo."""
    stream_url = binance_stream_url(link.server)

    def connect() -> AbstractAsyncContextManager[BinanceSpotConnection]:
        return BinanceSpot.connect(stream_url, **link.options)

    async with (
        BinanceSpotApi.connect(binance_api_url(link.server), **link.options) as api,
        trio.open_nursery() as background,
    ):
        background.start_soon(_drain_api, api, link)
        yield DemoSession(
            connect=connect,
            snapshots=binance_depth_snapshots(api, limit=100),
            side_stats=(lambda: api.stats,),
        )
        background.cancel_scope.cancel(reason="the demo is over")


SCENARIO: Final = DemoScenario(
    title="Binance",
    symbols=("BTCUSDT", "ETHUSDT", "BNBBTC"),
    streams=_streams,
    book=BinanceBook,
    book_every=_DEPTH_EVERY,
    faults=(DROP, CLOSE_1001, _BOOK_GAP, STALL, _SERVER_SHUTDOWN),
    server=_server,
    session=_session,
    sides=(DemoSide(label="api limiter", limits=("weight",)),),
    market_connection=_market_connection,
    last=describe_last,
)

CLI: Final = VenueCli(describe=describe, demo=SCENARIO)
