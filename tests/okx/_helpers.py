"""Connecting the OKX client to the fake in memory."""

from __future__ import annotations

from typing import Any

from trio_venues.credentials import Credentials
from trio_venues.events import Disconnected, Event, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import FakeOkx
from trio_venues.venues.okx import ENDPOINT_PATHS, Okx

Fake = FakeVenueServer[FakeOkx]

API_KEY = "test-key"
SECRET = "test-secret-0123456789"
PASSPHRASE = "test-passphrase"
CREDENTIALS = Credentials(API_KEY, SECRET, PASSPHRASE)


def okx(fake: Fake, endpoint: str = "public", kind: str = "default", **options: Any) -> Any:
    """``Okx.connect`` to the fake's ``endpoint`` in memory, frame pings off."""
    options.setdefault("ping_interval", None)
    if endpoint == "private":
        options.setdefault("credentials", CREDENTIALS)
    url = f"ws://okx.fake{ENDPOINT_PATHS[endpoint]}"
    return Okx.connect(url, endpoint=endpoint, transport=fake.memory_transport(kind), **options)


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
