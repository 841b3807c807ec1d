"""The collector: venue feeds under ``retry_scope``, unified, into one sink.

:class:`Collector` runs every feed of a :class:`CollectorConfig` in its own
``retry_scope`` (backoff, replayed subscriptions, ``DataGap`` on each
reconnect; a feed never gives up: a collector is a long-running service), turns
each message into a record (a unified event, or the venue's own message with
``unified = false``), and offers it to the sink's bounded buffer. Lifecycle
events that tell a consumer about possible loss (``DataGap``,
``GapDetected``, ``Reconnecting``, ``Disconnected``, and the sink's own
``SinkDropping``/``SinkRecovered``/``SinkUnavailable``) are published too, as
:class:`CollectorEvent` records, so consumers anywhere see them.

Backpressure: a slow or absent broker never slows a feed down (a feed that
stopped reading would miss its venue's pings and be cut); the buffer between
feeds and sink takes the strain and, when full, drops visibly.

Wall-clock time (lag metrics, the lifecycle events' ``wall_ns``) comes from
the ``wall_clock_ns`` argument, so tests pin it.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import msgspec
import trio

from .._retry import RetryPolicy, retry_scope
from .._session import unwrap_group
from ..events import (
    ConnectionDown,
    ConnectionRetrying,
    DataGap,
    Disconnected,
    Event,
    GapDetected,
    Message,
    Reconnecting,
    Rotated,
)
from ..gapless import gapless_feed
from ..unified import Unifier, unified_each
from ..venues._registry import get_venue
from ._config import CollectorConfig, FeedConfig
from ._jetstream import JetStreamSink
from ._jsonl import JsonLinesSink
from ._metrics import CollectorMetrics
from ._records import (
    CollectorEvent,
    Record,
    RecordBuffer,
    SinkDropping,
    SinkEvent,
    SinkRecovered,
    SinkUnavailable,
    lifecycle_record,
    record_for,
    subject_token,
)

__all__ = ["Collector", "FeedStats"]

logger = logging.getLogger("trio_venues.collect")

_NATIVE: msgspec.json.Encoder = msgspec.json.Encoder(decimal_format="string")


@attrs.define
class FeedStats:
    """Counters of one feed, read by the live view and the summary."""

    venue: str
    messages: int = 0
    published: int = 0
    unifiable: int = 0
    reconnects: int = 0
    data_gaps: int = 0
    sequence_gaps: int = 0
    rotations: int = 0
    last_message_at: float | None = None


class Collector:
    """Runs a :class:`CollectorConfig` (see the module docstring).

    Args:
        config: the feeds and the sink.
        connect_options: per venue name, extra ``connect()`` options (tests pass
            a fake's ``transport=`` here); also used to fetch catalogues.
        policy: the feeds' retry policy (default: never give up, 0.5 s to 30 s).
        wall_clock_ns: the wall clock, nanoseconds since the epoch.
        on_event: called with every lifecycle event (the CLI's live view).
        metrics: the Prometheus counters to update (``None``: none kept).
    """

    def __init__(
        self,
        config: CollectorConfig,
        *,
        connect_options: Mapping[str, Mapping[str, Any]] | None = None,
        policy: RetryPolicy | None = None,
        wall_clock_ns: Callable[[], int] = time.time_ns,
        on_event: Callable[[CollectorEvent], None] | None = None,
        metrics: CollectorMetrics | None = None,
    ) -> None:
        self.config = config
        self._options = dict(connect_options or {})
        self._policy = policy if policy is not None else RetryPolicy(max_attempts=None)
        self._wall_ns = wall_clock_ns
        self._on_event = on_event
        self.metrics = metrics
        self._lifecycle_ids = itertools.count(1)
        self._fallback_ids = itertools.count(1)
        self.sink: JetStreamSink | JsonLinesSink
        sink = config.sink
        if sink.kind == "jetstream":
            self.sink = JetStreamSink(sink.jetstream(), self._on_sink_event, name="jetstream")
        else:
            self.sink = JsonLinesSink(
                sink.path, self._on_sink_event, sink.buffer_records, sink.buffer_bytes
            )
        self.buffer: RecordBuffer = self.sink.buffer
        self.feeds = [FeedStats(f.venue) for f in config.feeds]
        self.lifecycle: list[CollectorEvent] = []

    # -- running ------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the sink and every feed until cancelled; ``started`` once all are subscribed."""
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(self.sink.run)
                for feed, stats in zip(self.config.feeds, self.feeds, strict=True):
                    await nursery.start(self._run_feed, feed, stats)
                if self.metrics is not None:
                    nursery.start_soon(self._sync_sink_metrics)
                task_status.started()
        except BaseExceptionGroup as group:
            unwrap_group(group)

    async def _run_feed(
        self, feed: FeedConfig, stats: FeedStats, *, task_status: trio.TaskStatus[None]
    ) -> None:
        entry = get_venue(feed.venue)
        client = entry.client(feed.endpoint)
        options = dict(self._options.get(feed.venue, {}))
        url = feed.url or client.default_url
        unify: Unifier | None = None
        if feed.unified:
            support = entry.unified
            assert support is not None  # parse_config checked it
            catalogue = await support.load_catalogue(feed.catalogue_url, **options)
            unify = support.unifier(catalogue, url)
        prefix = self.config.sink.prefix
        metrics = self.metrics
        started = False
        if feed.uses_gapless:
            urls = feed.urls or ((feed.url,) if feed.url else ())
            async with gapless_feed(
                client,
                feed.topics,
                copies=feed.copies,
                urls=urls or None,
                endpoint=feed.endpoint,
                rotate_margin=feed.rotate_margin,
                policy=self._policy,
                **options,
            ) as gf:
                await gf.wait_ready()
                task_status.started()
                async for event in gf.events:
                    if type(event) is Message:
                        self._on_message(event, feed, stats, unify, prefix, metrics)
                    else:
                        self._on_lifecycle(event, feed, stats)
            return
        async with retry_scope(
            lambda: client.connect(feed.url, **options), policy=self._policy
        ) as ws:
            await ws.subscribe(*feed.topics)
            task_status.started()
            started = True
            async for event in ws.events:
                if type(event) is Message:
                    self._on_message(event, feed, stats, unify, prefix, metrics)
                else:
                    self._on_lifecycle(event, feed, stats)
        if not started:  # pragma: no cover - retry_scope raises instead
            task_status.started()

    def _on_message(
        self,
        event: Message,
        feed: FeedConfig,
        stats: FeedStats,
        unify: Unifier | None,
        prefix: str,
        metrics: CollectorMetrics | None,
    ) -> None:
        stats.messages += 1
        stats.last_message_at = event.received_at
        topic = event.topic or ""
        if metrics is not None:
            metrics.messages.labels(feed.venue, topic).inc()
        if unify is not None:
            for unified in unified_each(unify(event.data, event.received_at)):
                stats.unifiable += 1
                record = record_for(unified, prefix, self._fallback_id)
                exchange_ns = getattr(unified, "exchange_ns", None)
                if metrics is not None and exchange_ns is not None:
                    metrics.lag.labels(feed.venue).observe((self._wall_ns() - exchange_ns) / 1e9)
                if self.buffer.offer(record):
                    stats.published += 1
            return
        else:
            payload = _NATIVE.encode(event.data)
            digest = hashlib.blake2b(payload, digest_size=12).hexdigest()
            record = Record(
                f"{prefix}.{feed.venue}.native.{subject_token(topic)}",
                f"{feed.venue}:{topic}:{digest}",
                payload,
            )
        if self.buffer.offer(record):
            stats.published += 1

    def _fallback_id(self) -> str:
        return f"collector:{self.config.name}:local:{next(self._fallback_ids)}"

    def _wall_of(self, trio_time: float) -> int:
        return self._wall_ns() - int((trio.current_time() - trio_time) * 1e9)

    def _on_lifecycle(self, event: Event, feed: FeedConfig, stats: FeedStats) -> None:
        metrics = self.metrics
        if isinstance(event, DataGap):
            stats.data_gaps += 1
            if metrics is not None:
                metrics.data_gaps.labels(feed.venue).inc()
            self._publish_lifecycle(
                feed.venue,
                "DataGap",
                f"{len(event.topics)} topic(s) may have missed data across a reconnect",
                tuple(event.topics),
                self._wall_of(event.since),
                self._wall_of(event.until),
            )
        elif isinstance(event, GapDetected):
            stats.sequence_gaps += 1
            if metrics is not None:
                metrics.sequence_gaps.labels(feed.venue).inc()
            self._publish_lifecycle(
                feed.venue,
                "GapDetected",
                f"expected {event.expected}, received {event.received}",
                (event.topic,) if event.topic else (),
            )
        elif isinstance(event, Reconnecting):
            stats.reconnects += 1
            if metrics is not None:
                metrics.reconnects.labels(feed.venue, type(event.reason).__name__).inc()
            self._publish_lifecycle(
                feed.venue,
                "Reconnecting",
                f"attempt {event.attempt} in {event.delay:.2f}s after {event.reason!r}",
            )
        elif isinstance(event, Disconnected):
            self._publish_lifecycle(feed.venue, "Disconnected", repr(event.reason))
        elif isinstance(event, Rotated):
            stats.rotations += 1
            if metrics is not None:
                metrics.rotations.labels(feed.venue, event.cause).inc()
            self._publish_lifecycle(
                feed.venue,
                "Rotated",
                f"connection {event.old} replaced by {event.new} ({event.cause}): "
                f"{event.overlap:.3f}s overlap, {event.duplicates} duplicate(s) dropped",
                tuple(event.gaps),
            )
        elif isinstance(event, ConnectionDown):
            self._publish_lifecycle(
                feed.venue,
                "ConnectionDown",
                f"connection {event.connection}: {event.reason!r}; "
                f"{len(event.covered)} topic(s) still covered by other copies",
                tuple(event.uncovered),
            )
        elif isinstance(event, ConnectionRetrying):
            stats.reconnects += 1
            if metrics is not None:
                metrics.reconnects.labels(feed.venue, type(event.reason).__name__).inc()

    def _on_sink_event(self, event: SinkEvent) -> None:
        if isinstance(event, SinkDropping):
            detail = f"buffer full ({event.buffered} records): dropping new records"
            self._publish_lifecycle("", "SinkDropping", detail, since=self._wall_of(event.since))
        elif isinstance(event, SinkRecovered):
            self._publish_lifecycle(
                "",
                "SinkRecovered",
                f"{event.dropped} record(s) dropped",
                since=self._wall_of(event.since),
                until=self._wall_of(event.until),
            )
        elif isinstance(event, SinkUnavailable):
            self._publish_lifecycle("", "SinkUnavailable", event.error)

    def _publish_lifecycle(
        self,
        venue: str,
        name: str,
        detail: str,
        topics: tuple[str, ...] = (),
        since: int | None = None,
        until: int | None = None,
    ) -> None:
        event = CollectorEvent(
            venue, self.config.name, name, detail, topics, since, until, self._wall_ns()
        )
        logger.info("%s %s %s", venue or "sink", name, detail)
        self.lifecycle.append(event)
        del self.lifecycle[:-1000]  # the summary keeps the last 1,000
        if self._on_event is not None:
            self._on_event(event)
        # Lifecycle records go through the same bounded buffer: when it is
        # full, the drop itself is what SinkDropping reports.
        self.buffer.offer(
            lifecycle_record(event, self.config.sink.prefix, next(self._lifecycle_ids))
        )

    async def _sync_sink_metrics(self) -> None:
        metrics = self.metrics
        assert metrics is not None
        name = self.sink.name
        seen = {"published": 0, "acked": 0, "duplicates": 0, "dropped": 0}
        while True:
            stats = self.sink.stats
            now = {
                "published": stats.published,
                "acked": stats.acked,
                "duplicates": stats.duplicates,
                "dropped": self.buffer.dropped,
            }
            metrics.published.labels(name).inc(now["published"] - seen["published"])
            metrics.acked.labels(name).inc(now["acked"] - seen["acked"])
            metrics.duplicates.labels(name).inc(now["duplicates"] - seen["duplicates"])
            metrics.dropped.labels(name).inc(now["dropped"] - seen["dropped"])
            metrics.buffered.labels(name).set(len(self.buffer))
            seen = now
            await trio.sleep(0.5)
