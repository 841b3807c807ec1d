"""Connecting the Binance clients to the fake in memory."""

from __future__ import annotations

from typing import Any

from trio_venues import BinanceSpot, BinanceSpotApi
from trio_venues.events import Disconnected, Event, Message
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import (
    FakeBinance,
    binance_api_url,
    binance_raw_url,
    binance_stream_url,
)

Fake = FakeVenueServer[FakeBinance]


def spot(fake: Fake, kind: str, *streams: str, raw: str | None = None, **options: Any) -> Any:
    """``BinanceSpot.connect`` to the fake (combined, or raw ``/ws/<raw>``), our pings off."""
    options.setdefault("ping_interval", None)
    url = binance_raw_url(fake, raw) if raw is not None else binance_stream_url(fake, *streams)
    return BinanceSpot.connect(url, transport=fake.memory_transport(kind), **options)


def api(fake: Fake, kind: str = "default", *, query: str = "", **options: Any) -> Any:
    """``BinanceSpotApi.connect`` to the fake (``query`` appended), with its virtual clock."""
    options.setdefault("ping_interval", None)
    options.setdefault("clock", virtual_clock_ms())
    return BinanceSpotApi.connect(
        binance_api_url(fake) + query, transport=fake.memory_transport(kind), **options
    )


async def messages(ws: Any, count: int) -> list[Message]:
    """The next ``count`` ``Message`` events (other events skipped)."""
    out: list[Message] = []
    async for event in ws.events:
        if isinstance(event, Message):
            out.append(event)
            if len(out) == count:
                break
    return out


async def drain(ws: Any) -> list[Event]:
    """Every remaining event, up to and including ``Disconnected``."""
    out = [event async for event in ws.events]
    assert isinstance(out[-1], Disconnected)
    return out
