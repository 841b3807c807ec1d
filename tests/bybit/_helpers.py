"""Connecting the Bybit client to the fake Bybit in memory."""

from __future__ import annotations

from typing import Any

from trio_venues import Credentials
from trio_venues.events import Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.bybit import FAKE_API_KEY, FAKE_SECRET, BybitVenue
from trio_venues.venues.bybit import Bybit

Fake = FakeVenueServer[BybitVenue]

#: Credentials the fake accepts.
CREDENTIALS = Credentials(FAKE_API_KEY, FAKE_SECRET)


def bybit(fake: Fake, endpoint: str = "spot", kind: str = "default", **options: Any) -> Any:
    """``Bybit.connect`` to the fake's ``endpoint`` in memory, frame pings off."""
    options.setdefault("ping_interval", None)
    if endpoint in ("private", "trade"):
        options.setdefault("credentials", CREDENTIALS)
    return Bybit.connect(
        fake.url, endpoint=endpoint, transport=fake.memory_transport(kind), **options
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
