"""Bybit on the command line: its messages as text, and its demo scenario.

Reached through the registry (``VenueEntry.cli``) and imported only by the
CLI (see :mod:`trio_venues.cli._scenario`).

The demo streams ``publicTrade`` and ``tickers`` for three symbols on the spot
endpoint and keeps their ``orderbook.50`` books (snapshots in the stream,
deltas numbered by ``u``). Its faults, besides a dropped TCP connection, a
close with 1001 and a stall: a jump in a book's ``u`` (the book resyncs by
resubscribing) and a fresh snapshot mid-stream with ``u == 1``, what Bybit
sends after a service restart, which replaces the book
(docs/venues/bybit.md, "Order books").
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
from ._book import BybitBook
from ._client import Bybit
from ._fake import BybitVenue, bybit_server
from ._wire import (
    KlineMessage,
    OrderbookMessage,
    SystemStatusMessage,
    TickerMessage,
    Trade,
    TradeMessage,
)

__all__ = ["CLI", "SCENARIO", "describe", "describe_last"]


def _trade_text(trade: Trade) -> str:
    return f"{trade.side.lower():<4} {number(trade.size)} @ {number(trade.price)}"


def _last_price(ticker: Any) -> str:
    # Every category's ticker but spreads has a last price.
    price = getattr(ticker, "last_price", None)
    return "-" if price is None else number(price)


def describe(data: Any) -> str | None:
    """A short human line for one of Bybit's typed messages (``None``: not one)."""
    match data:
        case TradeMessage(trades=trades) if trades:
            last = trades[-1]
            more = f" (+{len(trades) - 1} more)" if len(trades) > 1 else ""
            return f"{last.symbol} trade #{last.trade_id} {_trade_text(last)}{more}"
        case OrderbookMessage():
            return (
                f"{data.symbol} book {data.type} u={data.update_id} "
                f"bids[{len(data.bids)}] {levels_text(data.bids)} | "
                f"asks[{len(data.asks)}] {levels_text(data.asks)}"
            )
        case TickerMessage():
            symbol = getattr(data.ticker, "symbol", data.topic)
            return f"{symbol} ticker {data.type} last={_last_price(data.ticker)}"
        case KlineMessage(klines=klines) if klines:
            bar = klines[-1]
            state = "closed" if bar.confirm else "open"
            return (
                f"{data.topic} {state} o={number(bar.open)} h={number(bar.high)} "
                f"l={number(bar.low)} c={number(bar.close)} v={number(bar.volume)}"
            )
        case SystemStatusMessage(notices=notices):
            return "system.status " + (
                "; ".join(f"{n.state} {n.title!r}" for n in notices) or "no maintenance"
            )
    return None


def describe_last(data: Any) -> str | None:
    """The demo table's "last" text of a trade batch or a ticker."""
    if isinstance(data, TradeMessage) and data.trades:
        last = data.trades[-1]
        return f"{last.side.lower()} {number(last.size)} @ {number(last.price)}"
    if isinstance(data, TickerMessage):
        return f"last {_last_price(data.ticker)}"
    return None


# -- the demo ---------------------------------------------------------------------------------


def _streams(symbol: str) -> tuple[DemoStream, ...]:
    return (
        DemoStream(topic=f"publicTrade.{symbol}", every=0.1),
        DemoStream(topic=f"tickers.{symbol}", every=0.5),
    )


def _wall_clock(virtual_time: bool) -> Callable[[], float]:
    if not virtual_time:
        return time.time
    clock_ms = virtual_clock_ms()
    return lambda: clock_ms() / 1000


def _server(seed: int, virtual_time: bool) -> FakeVenueServer[BybitVenue]:
    # The fake's market is a fixed pattern: there is nothing to seed.
    return bybit_server("spot", wall_clock=_wall_clock(virtual_time))


def _url(server: FakeVenueServer[Any]) -> str:
    return server.url


def _update_id_jump(target: DemoTarget) -> None:
    target.server.inject_gap(target.book_topic, 3)


async def _restart_book(target: DemoTarget) -> bool:
    if target.connection is None:
        return False
    fake: BybitVenue = target.server.behaviour
    await fake.restart_book(target.connection, target.book_topic)
    return True


SCENARIO: Final = DemoScenario(
    title="Bybit",
    symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"),
    streams=_streams,
    book=BybitBook,
    book_every=0.1,
    faults=(
        DROP,
        CLOSE_1001,
        book_fault("u jump", "an orderbook stream skips 3 update ids", _update_id_jump),
        STALL,
        DemoFault(
            name="snapshot reset",
            text="server sent a u=1 snapshot mid-stream (Bybit's restart signal)",
            recovery="resync",
            inject=_restart_book,
            names_symbol=True,
        ),
    ),
    server=_server,
    session=one_connection(Bybit, _url),
    last=describe_last,
)

CLI: Final = VenueCli(describe=describe, demo=SCENARIO)
