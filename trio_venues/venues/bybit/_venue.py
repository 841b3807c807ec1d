"""Bybit's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...testing._server import FakeVenueServer
from ...unified import (
    BestBidAsk,
    Candle,
    FakeMessage,
    Ticker,
    Trade,
    UnifiedEvent,
    UnifiedSupport,
)
from .._registry import FakeVenue, TopicGrammar, VenueEntry
from ._book import BybitBook
from ._client import (
    Bybit,
    BybitInverse,
    BybitLinear,
    BybitOption,
    BybitPrivate,
    BybitSpread,
    BybitStatus,
    BybitTrade,
)
from ._fake import bybit_server
from ._unify import KLINE_INTERVALS, load_catalogue, unifier

if TYPE_CHECKING:
    from ...cli._scenario import VenueCli

__all__ = ["TOPIC_PATTERN", "VENUE"]


def _cli() -> VenueCli:
    # Imported only by the CLI: the venue's demo and text need the CLI's modules.
    from ._cli import CLI

    return CLI


#: Bybit's topics: a family, then dot-separated parts (depth, interval, symbol):
#: ``publicTrade.BTCUSDT``, ``orderbook.50.BTCUSDT``, ``tickers.SOLUSDT_SOL/USDT``, ``order``.
TOPIC_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9_/\-]+)*")


def _url(server: FakeVenueServer[Any], topics: Sequence[str]) -> str:
    # Bybit subscribes nothing through its URL: the caller subscribes.
    return server.url


def _catalogue_url(server: FakeVenueServer[Any]) -> str:
    # Every fake Bybit serves /v5/market/instruments-info on its own port.
    return server.http_url


_INTERVALS = {unified: bybit for bybit, unified in KLINE_INTERVALS.items()}


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _ms(ns: int | None) -> int:
    return 0 if ns is None else ns // 1_000_000


def _fake_message(server: FakeVenueServer[Any], event: UnifiedEvent) -> FakeMessage | None:
    """The whole Bybit message with which the fake sends ``event``'s values (spot endpoint)."""
    symbol = event.venue_symbol
    if isinstance(event, Trade):
        trade = {
            "T": _ms(event.exchange_ns), "s": symbol, "S": "Buy" if event.side == "buy" else "Sell",
            "v": _text(event.quantity), "p": _text(event.price), "i": event.trade_id,
            "BT": False, "seq": 1,
        }  # fmt: skip
        topic = f"publicTrade.{symbol}"
        return FakeMessage(
            topic, {"topic": topic, "type": "snapshot", "ts": trade["T"], "data": [trade]}
        )
    if isinstance(event, BestBidAsk):
        topic = f"orderbook.1.{symbol}"
        ms = _ms(event.exchange_ns)
        book = {
            "s": symbol,
            "b": [[_text(event.bid_price), _text(event.bid_quantity)]],
            "a": [[_text(event.ask_price), _text(event.ask_quantity)]],
            "u": int(event.update_id or 1),
            "seq": 1,
        }
        message = {"topic": topic, "ts": ms, "type": "snapshot", "data": book, "cts": ms}
        return FakeMessage(topic, message)
    if isinstance(event, Ticker):
        topic = f"tickers.{symbol}"
        ticker = {
            "symbol": symbol, "lastPrice": _text(event.last_price),
            "highPrice24h": _text(event.high_24h), "lowPrice24h": _text(event.low_24h),
            "prevPrice24h": _text(event.open_24h), "volume24h": _text(event.volume_24h),
            "turnover24h": _text(event.quote_volume_24h), "price24hPcnt": "0",
        }  # fmt: skip
        message = {"topic": topic, "ts": _ms(event.exchange_ns), "type": "snapshot", "cs": 1}
        return FakeMessage(topic, {**message, "data": ticker})
    if isinstance(event, Candle) and event.interval in _INTERVALS:
        interval = _INTERVALS[event.interval]
        topic = f"kline.{interval}.{symbol}"
        start = _ms(event.open_ns)
        bar = {
            "start": start, "end": start + 59_999, "interval": interval,
            "open": _text(event.open), "close": _text(event.close), "high": _text(event.high),
            "low": _text(event.low), "volume": _text(event.volume), "turnover": "0",
            "confirm": event.closed, "timestamp": _ms(event.exchange_ns),
        }  # fmt: skip
        message = {"topic": topic, "ts": _ms(event.exchange_ns), "type": "snapshot"}
        return FakeMessage(topic, {**message, "data": [bar]})
    return None


def _force_book_gap(server: FakeVenueServer[Any], symbol: str) -> None:
    server.inject_gap(f"orderbook.50.{symbol}", 3)


VENUE = VenueEntry(
    name="bybit",
    title="Bybit v5",
    clients={
        "spot": Bybit,
        "linear": BybitLinear,
        "inverse": BybitInverse,
        "option": BybitOption,
        "spread": BybitSpread,
        "status": BybitStatus,
        "private": BybitPrivate,
        "trade": BybitTrade,
    },
    default_endpoint="spot",
    topics=TopicGrammar(
        examples=(
            "publicTrade.BTCUSDT",
            "orderbook.50.BTCUSDT",
            "tickers.BTCUSDT",
            "kline.1.BTCUSDT",
        ),
        pattern=TOPIC_PATTERN,
        help="Bybit's own topics: publicTrade.BTCUSDT, orderbook.50.BTCUSDT, tickers.BTCUSDT",
    ),
    book=BybitBook,
    fake=FakeVenue(
        server=bybit_server,
        url=_url,
        endpoint="spot",
        data_topic="publicTrade.BTCUSDT",
        refused_topic="nonsense.BTCUSDT",
        # Bybit's trades and tickers carry no per-topic sequence to reveal a loss.
        force_gap=None,
        venue_pings=False,
        # Bybit documents no close codes: the generic table applies
        # (docs/venues/bybit.md, "Errors and their classification").
        close_codes={1000: True, 1001: True, 1002: False, 1008: False, 1011: True},
        book_symbol="BTCUSDT",
        force_book_gap=_force_book_gap,
    ),
    unified=UnifiedSupport(
        load_catalogue=load_catalogue,
        unifier=unifier,
        fake_catalogue_url=_catalogue_url,
        fake_message=_fake_message,
    ),
    cli=_cli,
)
