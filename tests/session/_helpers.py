"""Small helpers shared by the session tests."""

from __future__ import annotations

from typing import Any

import trio

from trio_venues import Connection, ConnectionConfig
from trio_venues.events import Disconnected, Event
from trio_venues.testing import FakeVenueServer
from trio_venues.venues.generic import GenericJson


def connect(server: FakeVenueServer[Any], kind: str, **options: Any) -> Any:
    """Connect a generic client to ``server`` in memory over transport ``kind``."""
    options.setdefault("ping_interval", None)
    return GenericJson.connect(server.url, transport=server.memory_transport(kind), **options)


async def drain(ws: Connection) -> list[Event]:
    """Every remaining event, up to and including ``Disconnected``."""
    out: list[Event] = []
    async for event in ws.events:
        out.append(event)
    assert isinstance(out[-1], Disconnected)
    return out


async def until_disconnected(ws: Connection) -> tuple[Disconnected, float]:
    """Wait for ``Disconnected``; return it and the virtual time it was received."""
    events = await drain(ws)
    last = events[-1]
    assert isinstance(last, Disconnected)
    return last, trio.current_time()


def config(**options: Any) -> ConnectionConfig:
    """A config with pings off unless asked for."""
    options.setdefault("ping_interval", None)
    return ConnectionConfig(**options)
