"""Connecting the Coinbase client to the fake Coinbase in memory."""

from __future__ import annotations

from typing import Any

from trio_venues.events import Event, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.venues.coinbase import Coinbase
from trio_venues.venues.coinbase._fake import FakeCoinbase, coinbase_url

Fake = FakeVenueServer[FakeCoinbase]


def connect(fake: Fake, endpoint: str = "market", **options: Any) -> Any:
    """``Coinbase.connect`` to the fake in memory, on the fake's virtual wall clock."""
    options.setdefault("ping_interval", None)
    options.setdefault("wall_clock", fake.behaviour.clock)
    return Coinbase.connect(
        coinbase_url(fake, endpoint),
        endpoint=endpoint,
        transport=fake.memory_transport(options.pop("kind", "default")),
        **options,
    )


async def messages(ws: Any, count: int, topic: str | None = None) -> list[Message]:
    """The next ``count`` Messages (of ``topic`` when given; other events skipped)."""
    out: list[Message] = []
    async for event in ws.events:
        if isinstance(event, Message) and (topic is None or event.topic == topic):
            out.append(event)
            if len(out) == count:
                break
    return out


async def until(ws: Any, kind: type[Event]) -> Event:
    """The next event of ``kind`` (others skipped)."""
    async for event in ws.events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"the connection ended before a {kind.__name__}")
