"""trio_venues: Trio-native, structured-concurrency WebSocket clients for crypto venues.

``async with BinanceSpot.connect() as ws:`` opens one connection in one
nursery; ``ws.events`` yields typed events and ends with ``Disconnected``.
Nothing reconnects by itself: compose :func:`retry_scope` when you want it.
"""

import warnings
from typing import Any

from . import errors as errors
from . import events as events
from . import reasons as reasons
from . import unified as unified
from ._bookfeed import BookFeed as BookFeed
from ._bookfeed import BookResynced as BookResynced
from ._bookfeed import BookUpdate as BookUpdate
from ._bookfeed import FetchSnapshots as FetchSnapshots
from ._bookfeed import SnapshotRequested as SnapshotRequested
from ._bookfeed import book_feed as book_feed
from ._client import RawWebSocket as RawWebSocket
from ._client import VenueClient as VenueClient
from ._config import ConnectionConfig as ConnectionConfig
from ._retry import CircuitBreaker as CircuitBreaker
from ._retry import ConstantBackoff as ConstantBackoff
from ._retry import DecorrelatedJitterBackoff as DecorrelatedJitterBackoff
from ._retry import ExponentialBackoff as ExponentialBackoff
from ._retry import RetryingConnection as RetryingConnection
from ._retry import RetryPolicy as RetryPolicy
from ._retry import retry_scope as retry_scope
from ._session import Connection as Connection
from ._session import ConnectionState as ConnectionState
from ._stats import ConnectionStats as ConnectionStats
from ._stats import TopicStats as TopicStats
from .credentials import Credentials as Credentials
from .venues.binance import BinanceSpot as BinanceSpot
from .venues.binance import BinanceSpotApi as BinanceSpotApi
from .venues.coinbase import Coinbase as Coinbase
from .venues.okx import Okx as Okx

__all__ = [
    "BinanceSpot",
    "BinanceSpotApi",
    "Coinbase",
    "BookFeed",
    "CircuitBreaker",
    "Connection",
    "ConnectionConfig",
    "ConnectionState",
    "ConnectionStats",
    "ConstantBackoff",
    "Credentials",
    "DecorrelatedJitterBackoff",
    "ExponentialBackoff",
    "FetchSnapshots",
    "Okx",
    "RawWebSocket",
    "RetryPolicy",
    "RetryingConnection",
    "SnapshotRequested",
    "TopicStats",
    "VenueClient",
    "book_feed",
    "errors",
    "events",
    "reasons",
    "retry_scope",
    "unified",
]


def __getattr__(name: str) -> Any:
    # binance_depth_snapshots moved to the Binance folder; the old name works for one release.
    if name == "binance_depth_snapshots":
        warnings.warn(
            "trio_venues.binance_depth_snapshots moved to "
            "trio_venues.venues.binance.binance_depth_snapshots; "
            "the old name will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        from .venues.binance import binance_depth_snapshots

        return binance_depth_snapshots
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
