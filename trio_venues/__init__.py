"""trio_venues: Trio-native, structured-concurrency WebSocket clients for crypto venues.

``async with BinanceSpot.connect() as ws:`` opens one connection in one
nursery; ``ws.events`` yields typed events and ends with ``Disconnected``.
Nothing reconnects by itself: compose :func:`retry_scope` when you want it.
"""

from . import errors as errors
from . import events as events
from . import reasons as reasons
from ._bookfeed import BookFeed as BookFeed
from ._bookfeed import BookResynced as BookResynced
from ._bookfeed import BookUpdate as BookUpdate
from ._bookfeed import SnapshotRequested as SnapshotRequested
from ._bookfeed import binance_depth_snapshots as binance_depth_snapshots
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
from ._session import ConnectionStats as ConnectionStats
from ._session import TopicStats as TopicStats
from .credentials import Credentials as Credentials
from .venues.binance import BinanceSpot as BinanceSpot
from .venues.binance import BinanceSpotApi as BinanceSpotApi

__all__ = [
    "BinanceSpot",
    "BinanceSpotApi",
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
    "RawWebSocket",
    "RetryPolicy",
    "RetryingConnection",
    "SnapshotRequested",
    "TopicStats",
    "VenueClient",
    "binance_depth_snapshots",
    "book_feed",
    "errors",
    "events",
    "reasons",
    "retry_scope",
]
