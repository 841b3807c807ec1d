"""The generic JSON test venue's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ...testing._generic import GenericVenue
from ...testing._server import FakeVenueServer
from .._registry import FakeVenue, TopicGrammar, VenueEntry
from ._book import GenericBook
from ._client import GenericJson

__all__ = ["VENUE"]


def _server(**options: Any) -> FakeVenueServer[GenericVenue]:
    return FakeVenueServer(GenericVenue(), **options)


def _url(server: FakeVenueServer[Any], topics: Sequence[str]) -> str:
    if not topics:
        return server.url
    return f"{server.url}?topics={quote(','.join(topics), safe=',')}"


def _force_gap(server: FakeVenueServer[Any], topic: str) -> None:
    server.inject_gap(topic, 3)


def _force_book_gap(server: FakeVenueServer[Any], symbol: str) -> None:
    server.behaviour.market(symbol).inject_gap(3)


VENUE = VenueEntry(
    name="generic",
    title="Generic JSON test venue",
    clients={"default": GenericJson},
    default_endpoint="default",
    topics=TopicGrammar(
        examples=("trades", "prices", "book.BTC"),
        pattern=re.compile(r"[^,\s]+"),
        help="any name without commas or spaces; names starting with 'bad' are refused",
    ),
    book=GenericBook,
    fake=FakeVenue(
        server=_server,
        url=_url,
        endpoint="default",
        data_topic="trades",
        refused_topic="bad-topic",
        force_gap=_force_gap,
        venue_pings=True,
        close_codes={1000: True, 1001: True, 1002: False, 1008: False, 1011: True, 4000: True},
        book_symbol="BTC",
        force_book_gap=_force_book_gap,
    ),
)
