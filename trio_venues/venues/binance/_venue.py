"""Binance Spot's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ...testing._server import FakeVenueServer
from ...unified import UnifiedSupport
from .._registry import FakeVenue, TopicGrammar, VenueEntry
from ._book import BinanceBook, binance_depth_snapshots
from ._client import BinanceSpot, BinanceSpotApi
from ._fake import _STREAM_RE, binance_api_url, binance_server, binance_stream_url
from ._unify import load_catalogue, unifier

if TYPE_CHECKING:
    from ...cli._scenario import VenueCli

__all__ = ["VENUE"]


def _cli() -> VenueCli:
    # Imported only by the CLI: the venue's demo and text need the CLI's modules.
    from ._cli import CLI

    return CLI


def _stream_url(server: FakeVenueServer[Any], topics: Sequence[str]) -> str:
    return binance_stream_url(server, *topics)


@asynccontextmanager
async def _snapshots(server: FakeVenueServer[Any]) -> AsyncIterator[Any]:
    """A WS-API connection to the fake, as ``book_feed``'s snapshot source."""
    async with BinanceSpotApi.connect(
        binance_api_url(server), transport=server.memory_transport()
    ) as api:
        yield binance_depth_snapshots(api)


def _check(topics: Sequence[str]) -> str | None:
    try:
        BinanceSpot.combined_url(*topics)
    except ValueError as exc:
        return str(exc)
    return None


def _topics_url(base: str, topics: Sequence[str]) -> str:
    return BinanceSpot.combined_url(*topics, base=base)


def _force_book_gap(server: FakeVenueServer[Any], symbol: str) -> None:
    server.behaviour.market(symbol).inject_gap(3)


VENUE = VenueEntry(
    name="binance",
    title="Binance Spot",
    clients={"streams": BinanceSpot, "api": BinanceSpotApi},
    default_endpoint="streams",
    topics=TopicGrammar(
        examples=("btcusdt@trade", "btcusdt@aggTrade", "btcusdt@depth@100ms", "btcusdt@kline_1m"),
        pattern=_STREAM_RE,
        help="<symbol>@<stream>, symbol in lower case: btcusdt@trade, btcusdt@depth@100ms",
        check=_check,
    ),
    topics_url=_topics_url,
    book=BinanceBook,
    fake=FakeVenue(
        server=binance_server,
        url=_stream_url,
        endpoint="streams",
        data_topic="btcusdt@trade",
        refused_topic="btcusdt@nonsense",
        # Binance documents no close codes; 1000 (the 24 h cut) and 1008 ("Too many
        # requests") are retryable there (docs/venues/binance.md section 9).
        close_codes={1000: True, 1001: True, 1008: True, 1011: True, 1002: False},
        book_symbol="BTCUSDT",
        book_snapshots=_snapshots,
        force_book_gap=_force_book_gap,
    ),
    unified=UnifiedSupport(
        load_catalogue=load_catalogue,
        unifier=unifier,
        fake_catalogue_url=binance_api_url,
    ),
    cli=_cli,
)
