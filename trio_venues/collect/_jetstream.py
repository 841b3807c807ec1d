"""NATS JetStream: the publishing sink and the consuming iterator, over the asyncio bridge.

The sink owns one NATS connection (nats-py, on the bridge's asyncio loop). It
makes sure the stream exists (subjects ``<prefix>.>``, a duplicate window, the
configured replicas), then publishes the buffer's records in batches: every
record of a batch is sent with ``publish_async`` (a ``Nats-Msg-Id`` header per
record) and the batch's acknowledgements are awaited together, bounded by
``ack_timeout``. Only acknowledged records leave the buffer; a batch that
failed is published again after a backoff, and JetStream's duplicate window
drops whatever of it had already been stored. While the broker is slow or
down the buffer fills, then drops new records visibly
(:class:`~trio_venues.collect.SinkDropping`); when the broker answers again,
publishing resumes by itself.

The consumer (:func:`jetstream_events`) reads a stream through an ephemeral
pull consumer, from the start, a stream sequence or a wall-clock time, and
yields the same unified event classes the collector published, plus the
collectors' :class:`~trio_venues.collect.CollectorEvent` lifecycle records.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

import attrs
import msgspec
import trio

from ..errors import TrioVenuesError
from ..unified import UnifiedEvent
from ._bridge import AsyncioBridge, open_asyncio_bridge
from ._records import CollectorEvent, Record, RecordBuffer, SinkEvent, SinkUnavailable

__all__ = [
    "ConsumedEvent",
    "ConsumerFailed",
    "JetStreamConfig",
    "JetStreamSink",
    "SinkFailed",
    "StoredEvent",
    "jetstream_events",
]

logger = logging.getLogger("trio_venues.collect")

#: what a consumer yields: a unified market-data event or a collector's lifecycle event
ConsumedEvent = UnifiedEvent | CollectorEvent
_DECODER: Final = msgspec.json.Decoder(ConsumedEvent)


class SinkFailed(TrioVenuesError):
    """The broker refused the sink's configuration (not retried: fix the configuration)."""


class ConsumerFailed(TrioVenuesError):
    """Reading a stream failed once its consumer was open (broker gone, consumer deleted)."""


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen
class JetStreamConfig:
    """Where and how a collector publishes to JetStream.

    Attributes:
        servers: NATS URLs (``nats://127.0.0.1:4222``); several for a cluster.
        stream: the JetStream stream's name (created when missing).
        prefix: the subjects' first token; the stream holds ``<prefix>.>``.
        replicas: the stream's replica count (3 on a three-node cluster).
        duplicate_window: seconds JetStream remembers message ids: two
            collectors' copies of one venue message published within it are
            stored once.
        max_age: seconds the stream keeps messages (``None``: no limit).
        batch_size: the most records in one published batch.
        ack_timeout: seconds to wait for a batch's acknowledgements.
        connect_timeout: seconds for each connection attempt to the broker.
        retry_initial, retry_maximum: the backoff between failed attempts.
        buffer_records, buffer_bytes: the buffer between feeds and the sink.
    """

    servers: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    stream: str = "MARKET"
    prefix: str = "md"
    replicas: int = 1
    duplicate_window: float = attrs.field(default=120.0, validator=_positive)
    max_age: float | None = None
    batch_size: int = 256
    ack_timeout: float = attrs.field(default=5.0, validator=_positive)
    connect_timeout: float = attrs.field(default=2.0, validator=_positive)
    retry_initial: float = attrs.field(default=0.2, validator=_positive)
    retry_maximum: float = attrs.field(default=5.0, validator=_positive)
    buffer_records: int = 100_000
    buffer_bytes: int = 64 * 1024 * 1024


def _quiet_callbacks() -> dict[str, Any]:
    """nats-py's callbacks routed to our logger (its defaults print tracebacks to stderr)."""

    # nats-py requires coroutine functions for its callbacks.
    async def error_cb(exc: Exception) -> None:  # noqa: ASYNC124
        logger.debug("nats: %s: %s", type(exc).__name__, exc)

    async def disconnected_cb() -> None:  # noqa: ASYNC124
        logger.info("nats: disconnected; reconnecting")

    async def reconnected_cb() -> None:  # noqa: ASYNC124
        logger.info("nats: reconnected")

    return {
        "error_cb": error_cb,
        "disconnected_cb": disconnected_cb,
        "reconnected_cb": reconnected_cb,
    }


class _Publisher:
    """The asyncio half of the sink: every method runs on the bridge's loop."""

    def __init__(self, config: JetStreamConfig) -> None:
        self.config = config
        self.nc: Any = None
        self.js: Any = None

    async def connect(self) -> None:
        import nats  # an optional extra: imported where used

        cfg = self.config
        self.nc = await nats.connect(
            servers=list(cfg.servers),
            connect_timeout=cfg.connect_timeout,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=cfg.retry_initial,
            **_quiet_callbacks(),
        )
        self.js = self.nc.jetstream()
        await self.ensure_stream()

    async def ensure_stream(self) -> None:
        from nats.js import api
        from nats.js.errors import BadRequestError, NotFoundError

        cfg = self.config
        try:
            await self.js.stream_info(cfg.stream)
            return
        except NotFoundError:
            pass
        try:
            await self.js.add_stream(
                api.StreamConfig(
                    name=cfg.stream,
                    subjects=[f"{cfg.prefix}.>"],
                    num_replicas=cfg.replicas,
                    duplicate_window=cfg.duplicate_window,
                    max_age=cfg.max_age,
                    storage=api.StorageType.FILE,
                )
            )
        except BadRequestError as exc:
            # A configuration the broker refuses (overlapping subjects, more
            # replicas than nodes): retrying cannot help.
            raise SinkFailed(
                f"JetStream refused stream {cfg.stream!r} with subjects '{cfg.prefix}.>': "
                f"{exc.description or exc}"
            ) from None

    async def publish_batch(self, records: Sequence[Record]) -> tuple[int, int]:
        """Publish ``records``; returns (stored, duplicates) once all are acknowledged."""
        futures = []
        for record in records:
            futures.append(
                await self.js.publish_async(
                    record.subject,
                    record.payload,
                    headers={"Nats-Msg-Id": record.msg_id},
                )
            )
        acks = await asyncio.wait_for(asyncio.gather(*futures), self.config.ack_timeout)
        duplicates = sum(1 for ack in acks if ack.duplicate)
        return len(acks) - duplicates, duplicates

    async def close(self) -> None:
        if self.nc is not None:
            # Nothing in flight matters: records leave the buffer only once
            # acknowledged, so a plain close (no drain) loses nothing.
            nc, self.nc = self.nc, None
            await nc.close()


@attrs.define
class SinkStats:
    """Counters of one sink (a snapshot is read by the live view and the metrics)."""

    published: int = 0
    acked: int = 0
    duplicates: int = 0
    failures: int = 0
    batches: int = 0


class JetStreamSink:
    """Publishes a :class:`RecordBuffer` to JetStream (see the module docstring).

    Args:
        config: where and how to publish.
        on_event: called with :class:`SinkUnavailable` (and the buffer's events).
        name: the sink's name in events and metrics.
    """

    def __init__(
        self,
        config: JetStreamConfig,
        on_event: Callable[[SinkEvent], None],
        name: str = "jetstream",
    ) -> None:
        self.config = config
        self.name = name
        self._on_event = on_event
        self.buffer = RecordBuffer(name, config.buffer_records, config.buffer_bytes, on_event)
        self.stats = SinkStats()
        self._unavailable_since: float | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Publish until cancelled; ``task_status.started()`` once the first connect worked."""
        async with open_asyncio_bridge() as bridge:
            publisher = _Publisher(self.config)
            try:
                await self._with_retry(bridge, publisher.connect)
                task_status.started()
                await self._publish_forever(bridge, publisher)
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(3):
                    await bridge.run(publisher.close)

    async def _with_retry(self, bridge: AsyncioBridge, step: Callable[..., Any]) -> Any:
        delay = self.config.retry_initial
        while True:
            try:
                result = await bridge.run(step)
            except SinkFailed:
                raise
            except Exception as exc:  # every other broker-side failure is retried visibly
                self._failed(exc)
                await trio.sleep(delay)
                delay = min(delay * 2, self.config.retry_maximum)
                continue
            self._recovered()
            return result

    def _failed(self, exc: BaseException) -> None:
        self.stats.failures += 1
        if self._unavailable_since is None:
            self._unavailable_since = trio.current_time()
            text = f"{type(exc).__name__}: {exc}"[:300]
            logger.warning("sink %s: publishing failed (%s); retrying", self.name, text)
            self._on_event(SinkUnavailable(self.name, text, self._unavailable_since))

    def _recovered(self) -> None:
        if self._unavailable_since is not None:
            logger.info("sink %s: publishing again", self.name)
            self._unavailable_since = None

    async def _publish_forever(self, bridge: AsyncioBridge, publisher: _Publisher) -> None:
        buffer = self.buffer
        batch_size = self.config.batch_size
        while True:
            await buffer.wait_nonempty()
            batch = buffer.peek_batch(batch_size)
            stored, duplicates = await self._with_retry(
                bridge, lambda b=batch: publisher.publish_batch(b)
            )
            buffer.commit(len(batch))
            self.stats.batches += 1
            self.stats.published += len(batch)
            self.stats.acked += stored
            self.stats.duplicates += duplicates


# -- consuming ---------------------------------------------------------------------------


@attrs.frozen
class StoredEvent:
    """One consumed event with its place in the stream.

    Attributes:
        event: the unified event or collector lifecycle event.
        subject: the subject it was published on.
        sequence: its stream sequence number (resume from ``sequence + 1``).
        msg_id: the de-duplication id it was published with.
    """

    event: ConsumedEvent
    subject: str
    sequence: int
    msg_id: str | None


class _Reader:
    """The asyncio half of the consumer."""

    def __init__(self, servers: Sequence[str], connect_timeout: float, open_timeout: float) -> None:
        self.servers = list(servers)
        self.connect_timeout = connect_timeout
        self.open_timeout = open_timeout
        self.nc: Any = None
        self.sub: Any = None

    async def open(
        self, stream: str, subject: str, start_sequence: int | None, start_time: float | None
    ) -> None:
        import nats
        import nats.errors
        import nats.js.errors
        from nats.js import api

        self.nc = await nats.connect(
            servers=self.servers, connect_timeout=self.connect_timeout, **_quiet_callbacks()
        )
        js = self.nc.jetstream()
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.ALL,
            inactive_threshold=60.0,
            max_ack_pending=10_000,
        )
        if start_sequence is not None:
            config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = start_sequence
        elif start_time is not None:
            config.deliver_policy = api.DeliverPolicy.BY_START_TIME
            config.opt_start_time = datetime.datetime.fromtimestamp(start_time, datetime.UTC)
        # Creating a consumer fails with a timeout while the cluster elects a
        # new leader (a node just died): retry until open_timeout.
        deadline = asyncio.get_running_loop().time() + self.open_timeout
        while True:
            try:
                self.sub = await js.pull_subscribe(subject, stream=stream, config=config)
                return
            except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
                if asyncio.get_running_loop().time() >= deadline:
                    raise
                await asyncio.sleep(0.25)

    async def fetch(self, batch: int, wait: float) -> list[tuple[bytes, str, int, str | None]]:
        import nats.errors

        try:
            msgs = await self.sub.fetch(batch, timeout=wait)
        except (nats.errors.TimeoutError, TimeoutError):
            # Nothing arrived within the timeout (nats-py raises either class).
            return []
        out = []
        for msg in msgs:
            headers = msg.headers or {}
            out.append(
                (msg.data, msg.subject, msg.metadata.sequence.stream, headers.get("Nats-Msg-Id"))
            )
        if msgs:
            await msgs[-1].ack()
        return out

    async def close(self) -> None:
        if self.nc is not None:
            nc, self.nc = self.nc, None
            await nc.close()


@asynccontextmanager
async def jetstream_events(
    servers: Sequence[str] = ("nats://127.0.0.1:4222",),
    *,
    stream: str = "MARKET",
    subject: str = "md.>",
    start_sequence: int | None = None,
    start_time: float | None = None,
    batch: int = 256,
    connect_timeout: float = 2.0,
    open_timeout: float = 20.0,
) -> AsyncIterator[trio.MemoryReceiveChannel[StoredEvent]]:
    """Read a collector's stream in Trio: ``async with jetstream_events(...) as events``.

    Args:
        servers: NATS URLs.
        stream: the stream's name.
        subject: a subject filter (``md.binance.trade.>``, ``md.*.bbo.BTC-USDT``).
        start_sequence: replay from this stream sequence (default: the start).
        start_time: replay from this wall-clock time (seconds since the epoch).
        batch: the most messages fetched per request (and the channel's size).
        connect_timeout: seconds for the connection to the broker.
        open_timeout: seconds to keep retrying the consumer's creation while a
            cluster elects a new leader.

    Yields:
        A channel of :class:`StoredEvent` in stream order. A payload that does
        not decode ends the block with ``DecodeError``.

    Raises:
        trio_venues.errors.ConnectFailed: the broker could not be reached.
    """
    from ..errors import ConnectFailed, DecodeError

    send, receive = trio.open_memory_channel[StoredEvent](batch)
    async with open_asyncio_bridge() as bridge:
        reader = _Reader(servers, connect_timeout, open_timeout)
        try:
            await bridge.run(reader.open, stream, subject, start_sequence, start_time)
        except Exception as exc:
            with trio.CancelScope(shield=True):
                await bridge.run(reader.close)
            raise ConnectFailed(
                f"could not open a JetStream consumer on {stream!r} at {list(servers)}: "
                f"{type(exc).__name__}: {exc}",
                url=",".join(servers),
            ) from None

        async def pump() -> None:
            async with send:
                while True:
                    try:
                        rows = await bridge.run(reader.fetch, batch, 1.0)
                    except Exception as exc:  # nats-py's errors become ours
                        raise ConsumerFailed(
                            f"reading stream {stream!r} failed: {type(exc).__name__}: {exc}"
                        ) from None
                    for data, subj, seq, msg_id in rows:
                        try:
                            event = _DECODER.decode(data)
                        except msgspec.DecodeError as exc:
                            raise DecodeError(
                                f"stream {stream!r} seq {seq}: not a trio_venues event: {exc}",
                                data,
                            ) from None
                        await send.send(StoredEvent(event, subj, seq, msg_id))

        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pump)
                try:
                    yield receive
                finally:
                    nursery.cancel_scope.cancel(reason="consumer block left")
        except BaseExceptionGroup as group:
            from .._session import unwrap_group

            unwrap_group(group)
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(3):
                await bridge.run(reader.close)
