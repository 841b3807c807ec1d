"""OKX's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ...testing._server import FakeVenueServer
from ...unified import UnifiedSupport
from .._registry import FakeVenue, TopicGrammar, VenueEntry
from ._book import OkxBook
from ._client import Okx, OkxBusiness, OkxPrivate
from ._fake import FakeOkx, fake_okx_server
from ._protocol import ENDPOINT_PATHS
from ._unify import load_catalogue, unifier

__all__ = ["VENUE"]

# "<channel>[:<instType or instId>][:key=value ...]" (docs/venues/okx.md, "Topics").
_TOPIC_RE = re.compile(
    r"[A-Za-z0-9_-]+(?::[A-Za-z0-9_.-]+)?(?::(?:instFamily|instId|ccy)=[A-Za-z0-9_.-]+)*"
)


def _server(**options: Any) -> FakeVenueServer[FakeOkx]:
    return fake_okx_server(**options)


def _url(server: FakeVenueServer[Any], topics: Sequence[str]) -> str:
    # OKX subscribes by request only: the topics are the caller's to subscribe.
    path = ENDPOINT_PATHS["public"]
    if server.port is None:
        return f"ws://okx.fake{path}"
    return f"ws://127.0.0.1:{server.port}{path}"


def _catalogue_url(server: FakeVenueServer[Any]) -> str:
    """The fake's public endpoint, where ``instruments`` is served."""
    return _url(server, ())


def _force_book_gap(server: FakeVenueServer[Any], symbol: str) -> None:
    server.inject_gap(f"books:{symbol}", 3)


# Close codes OKX reports as RemoteClosed, and whether each is retryable
# (docs/venues/okx.md, "Close codes"). 4001/4007 (AuthenticationFailed), 4004
# (HeartbeatTimeout) and 4005 (SlowConsumer) end with their own reasons instead;
# tests/okx checks those.
_CLOSE_RETRYABLE = {4002: False, 4003: False, 4006: True, 4008: False, 4009: False}

VENUE = VenueEntry(
    name="okx",
    title="OKX v5",
    clients={"public": Okx, "business": OkxBusiness, "private": OkxPrivate},
    default_endpoint="public",
    topics=TopicGrammar(
        examples=("trades:BTC-USDT", "tickers:BTC-USDT", "books:BTC-USDT", "candle1m:BTC-USDT"),
        pattern=_TOPIC_RE,
        help="<channel>:<instId> (trades:BTC-USDT), <channel>:<instType> (orders:SPOT); "
        "candles and trades-all on the business endpoint",
    ),
    book=OkxBook,
    fake=FakeVenue(
        server=_server,
        url=_url,
        endpoint="public",
        data_topic="trades:BTC-USDT",
        refused_topic="trades:NOPE-USDT",
        # Trades carry no sequence the client checks: only books reveal gaps.
        force_gap=None,
        venue_pings=False,
        close_codes={1000: True, 1001: True, 1011: True, **_CLOSE_RETRYABLE},
        book_symbol="BTC-USDT",
        force_book_gap=_force_book_gap,
    ),
    unified=UnifiedSupport(
        load_catalogue=load_catalogue,
        unifier=unifier,
        fake_catalogue_url=_catalogue_url,
    ),
)
