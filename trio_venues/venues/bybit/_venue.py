"""Bybit's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...testing._server import FakeVenueServer
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
    cli=_cli,
)
