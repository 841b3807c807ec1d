"""Coinbase Advanced Trade on the command line: its messages as text, and its demo.

Reached through the registry (``VenueEntry.cli``) and imported only by the
CLI (see :mod:`trio_venues.cli._scenario`).

The demo streams ``market_trades`` and ``ticker`` for three products on the
market endpoint and keeps their ``level2`` books (snapshots in the stream,
absolute sizes). Coinbase numbers every message of a connection in one
``sequence_num``, so a jump there may have lost any channel's messages and
resyncs every book of the connection (docs/venues/coinbase.md, "Sequence
numbers"). Its faults, besides a dropped TCP connection, a close with 1001
and a stall (the heartbeats channel stops too): a jump in ``sequence_num``,
and book updates lost, which the next update's jump reveals.
"""

from __future__ import annotations

from typing import Any, Final

import trio

from ...cli._scenario import (
    CLOSE_1001,
    DROP,
    STALL,
    DemoScenario,
    DemoStream,
    DemoTarget,
    VenueCli,
    book_fault,
    connection_fault,
    one_connection,
)
from ...cli._view import number
from ...testing import FakeVenueServer, ServerConnection
from ._book import CoinbaseBook
from ._client import Coinbase
from ._fake import FakeCoinbase, coinbase_server, coinbase_url, virtual_wall_clock
from ._wire import (
    CandlesMessage,
    HeartbeatsMessage,
    L2DataMessage,
    MarketTrade,
    MarketTradesMessage,
    Ticker,
    TickerBatchMessage,
    TickerMessage,
)

__all__ = ["CLI", "SCENARIO", "describe", "describe_last"]


def _trades(data: MarketTradesMessage) -> list[MarketTrade]:
    return [trade for event in data.events for trade in event.trades]


def _tickers(data: TickerMessage | TickerBatchMessage) -> list[Ticker]:
    return [ticker for event in data.events for ticker in event.tickers]


def _trade_text(trade: MarketTrade) -> str:
    # Coinbase's side is the maker's: the taker did the opposite.
    return f"{trade.taker_side.lower():<4} {number(trade.size)} @ {number(trade.price)}"


def describe(data: Any) -> str | None:
    """A short human line for one of Coinbase's typed messages (``None``: not one)."""
    match data:
        case MarketTradesMessage():
            trades = _trades(data)
            if not trades:
                return f"#{data.sequence_num} market_trades (none)"
            last = trades[-1]
            more = f" (+{len(trades) - 1} more)" if len(trades) > 1 else ""
            return (
                f"#{data.sequence_num} {last.product_id} trade #{last.trade_id} "
                f"{_trade_text(last)}{more}"
            )
        case TickerMessage() | TickerBatchMessage():
            parts = [
                f"{t.product_id} price={number(t.price)} "
                f"bid={'-' if t.best_bid is None else number(t.best_bid)} "
                f"ask={'-' if t.best_ask is None else number(t.best_ask)}"
                for t in _tickers(data)
            ]
            return f"#{data.sequence_num} ticker " + ("; ".join(parts) or "(none)")
        case L2DataMessage():
            parts = [f"{e.product_id} {e.kind} {len(e.updates)} level(s)" for e in data.events]
            return f"#{data.sequence_num} level2 " + ("; ".join(parts) or "(none)")
        case CandlesMessage():
            candles = [c for event in data.events for c in event.candles]
            parts = [
                f"{c.product_id} o={number(c.open)} h={number(c.high)} l={number(c.low)} "
                f"c={number(c.close)} v={number(c.volume)}"
                for c in candles
            ]
            return f"#{data.sequence_num} candles " + ("; ".join(parts) or "(none)")
        case HeartbeatsMessage():
            counters = ", ".join(str(e.counter) for e in data.events)
            return f"#{data.sequence_num} heartbeat {counters}"
    return None


def describe_last(data: Any) -> str | None:
    """The demo table's "last" text of a trade or a ticker."""
    if isinstance(data, MarketTradesMessage):
        trades = _trades(data)
        if trades:
            last = trades[-1]
            return f"{last.taker_side.lower()} {number(last.size)} @ {number(last.price)}"
    elif isinstance(data, TickerMessage):
        tickers = _tickers(data)
        if tickers:
            return f"price {number(tickers[-1].price)}"
    return None


# -- the demo ---------------------------------------------------------------------------------


def _streams(product: str) -> tuple[DemoStream, ...]:
    return (
        DemoStream(topic=f"market_trades:{product}", every=0.1),
        DemoStream(topic=f"ticker:{product}", every=0.5),
    )


def _server(seed: int, virtual_time: bool) -> FakeVenueServer[FakeCoinbase]:
    clock = virtual_wall_clock() if virtual_time else None
    return coinbase_server(FakeCoinbase(seed=seed, clock=clock))


def _url(server: FakeVenueServer[Any]) -> str:
    return coinbase_url(server, "market")


async def _sequence_jump(connection: ServerConnection) -> None:
    fake: FakeCoinbase = connection.server.behaviour
    fake.skip_sequence(3, connection)
    await trio.lowlevel.checkpoint()


def _lose_book_updates(target: DemoTarget) -> None:
    fake: FakeCoinbase = target.server.behaviour
    fake.lose_book_updates(target.symbol, 3)


SCENARIO: Final = DemoScenario(
    title="Coinbase",
    symbols=("BTC-USD", "ETH-USD", "SOL-USD"),
    streams=_streams,
    book=CoinbaseBook,
    book_every=0.1,
    faults=(
        DROP,
        CLOSE_1001,
        connection_fault(
            "sequence gap",
            "sequence_num skips 3 numbers (every book of the connection resyncs)",
            "resync",
            _sequence_jump,
        ),
        STALL,
        book_fault(
            "lost updates", "3 level2 updates are lost (the next one jumps)", _lose_book_updates
        ),
    ),
    server=_server,
    session=one_connection(Coinbase, _url),
    last=describe_last,
)

CLI: Final = VenueCli(describe=describe, demo=SCENARIO)
