"""The venue-conformance suite, run against every Bybit endpoint's fake (not only spot's).

The registry names one fake per venue (Bybit's spot endpoint), so the shared
suite in ``tests/conformance`` sees spot only. This module runs the same
tests with a ``venue`` fixture made for each Bybit category: the registry
entry with that endpoint's client, fake and book depth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import attrs
import pytest
import trio

from tests.conformance.conftest import Venue
from tests.conformance.test_conformance import (
    test_book_sync_and_forced_gap as test_book_sync_and_forced_gap,
)
from tests.conformance.test_conformance import test_connect as test_connect
from tests.conformance.test_conformance import (
    test_forced_gap_is_reported as test_forced_gap_is_reported,
)
from tests.conformance.test_conformance import test_frame_pings as test_frame_pings
from tests.conformance.test_conformance import (
    test_reconnect_replays_and_reports_the_gap as test_reconnect_replays_and_reports_the_gap,
)
from tests.conformance.test_conformance import test_refused_topic as test_refused_topic
from tests.conformance.test_conformance import (
    test_subscribe_ack_and_data as test_subscribe_ack_and_data,
)
from tests.conformance.test_conformance import test_venue_pings as test_venue_pings
from trio_venues.testing.bybit import bybit_server, fake_credentials
from trio_venues.venues._registry import get_venue
from trio_venues.venues.bybit import BybitBook

#: category -> (data topic, book depth or None when the endpoint has no books)
CATEGORIES: dict[str, tuple[str, int | None]] = {
    "spot": ("publicTrade.BTCUSDT", 50),
    "linear": ("publicTrade.BTCUSDT", 50),
    "inverse": ("publicTrade.BTCUSD", 50),
    "option": ("publicTrade.BTC", 25),
    "spread": ("publicTrade.SOLUSDT_SOL/USDT", 25),
    "private": ("order", None),
}


@pytest.fixture(params=list(CATEGORIES))
async def venue(request: pytest.FixtureRequest, nursery: trio.Nursery) -> AsyncIterator[Venue]:
    """The fake of one Bybit endpoint, with the registry entry adapted to it."""
    category: str = request.param
    data_topic, depth = CATEGORIES[category]
    base = get_venue("bybit")
    assert base.fake is not None
    options: dict[str, Any] = {}
    if category == "private":
        options["credentials"] = fake_credentials()
    fake = attrs.evolve(
        base.fake,
        server=partial(bybit_server, category),
        endpoint=category,
        client_options=options,
        data_topic=data_topic,
        book_symbol=None if depth is None else base.fake.book_symbol,
        force_book_gap=None if depth is None else partial(_force_book_gap, depth),
    )
    entry = attrs.evolve(
        base,
        default_endpoint=category,
        book=None if depth is None else partial(BybitBook, depth),
        fake=fake,
    )
    server = fake.server()
    await nursery.start(server.run)
    yield Venue(entry, server)
    server.stop()


def _force_book_gap(depth: int, server: Any, symbol: str) -> None:
    server.inject_gap(f"orderbook.{depth}.{symbol}", 3)
