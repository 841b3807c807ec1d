"""Coinbase's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...testing._server import FakeVenueServer
from .._registry import FakeVenue, TopicGrammar, VenueEntry
from ._book import CoinbaseBook
from ._client import Coinbase
from ._fake import FakeCoinbase, coinbase_server, coinbase_url

if TYPE_CHECKING:
    from ...cli._scenario import VenueCli

__all__ = ["VENUE"]


def _cli() -> VenueCli:
    # Imported only by the CLI: the venue's demo and text need the CLI's modules.
    from ._cli import CLI

    return CLI


def _url(server: FakeVenueServer[Any], topics: Sequence[str]) -> str:
    # Coinbase URLs subscribe nothing: the caller subscribes the topics.
    return coinbase_url(server, "market")


def _force_gap(server: FakeVenueServer[Any], topic: str) -> None:
    fake: FakeCoinbase = server.behaviour
    fake.skip_sequence(3)


def _force_book_gap(server: FakeVenueServer[Any], symbol: str) -> None:
    fake: FakeCoinbase = server.behaviour
    fake.lose_book_updates(symbol, 3)


VENUE = VenueEntry(
    name="coinbase",
    title="Coinbase Advanced Trade",
    clients={"market": Coinbase, "user": Coinbase},
    default_endpoint="market",
    topics=TopicGrammar(
        examples=("market_trades:BTC-USD", "level2:BTC-USD", "ticker:BTC-USD", "heartbeats"),
        pattern=re.compile(r"[a-z0-9_]+(:[A-Za-z0-9][A-Za-z0-9._-]*)?"),
        help="<channel>:<product_id>, or the channel alone: market_trades:BTC-USD, status",
    ),
    book=CoinbaseBook,
    fake=FakeVenue(
        server=coinbase_server,
        url=_url,
        endpoint="market",
        data_topic="market_trades:BTC-USD",
        # Coinbase answers an unknown channel with "authentication failure".
        refused_topic="market_trade:BTC-USD",
        force_gap=_force_gap,
        # Coinbase documents no close codes: the generic table applies
        # (docs/venues/coinbase.md, "Limits").
        close_codes={1000: True, 1001: True, 1002: False, 1008: False, 1011: True},
        book_symbol="BTC-USD",
        force_book_gap=_force_book_gap,
    ),
    cli=_cli,
)
