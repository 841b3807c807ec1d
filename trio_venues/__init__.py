"""trio_venues: Trio-native, structured-concurrency WebSocket clients for crypto venues.

``async with BinanceSpot.connect() as ws:`` opens one connection in one
nursery; ``ws.events`` yields typed events and ends with ``Disconnected``.
Nothing reconnects by itself: compose :func:`retry_scope` when you want it.
"""

from . import errors as errors
from . import events as events
from . import reasons as reasons
from ._client import RawWebSocket as RawWebSocket
from ._client import VenueClient as VenueClient
from ._config import ConnectionConfig as ConnectionConfig
from ._session import Connection as Connection
from ._session import ConnectionState as ConnectionState
from ._session import ConnectionStats as ConnectionStats

__all__ = [
    "Connection",
    "ConnectionConfig",
    "ConnectionState",
    "ConnectionStats",
    "RawWebSocket",
    "VenueClient",
    "errors",
    "events",
    "reasons",
]
