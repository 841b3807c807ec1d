"""What a collector publishes: records with a subject, a de-duplication id and a payload.

A :class:`Record` is one message for a sink. Its ``subject`` is
``<prefix>.<venue>.<kind>.<symbol>`` (NATS subject tokens: the canonical
symbol ``BTC-USDT`` is one token), its ``msg_id`` is built from the venue's own
ids so that two collectors on two hosts that receive the same venue message
build the same id (JetStream's duplicate window then keeps one copy), and its
``payload`` is the event encoded by msgspec.

Ids per kind (the venue's own fields, so both collectors agree):

====================  ==================================================
kind                  ``msg_id``
====================  ==================================================
trade                 ``venue:symbol:trade:<trade_id>``
bbo                   ``venue:symbol:bbo:<update_id>`` or ``:<exchange_ns>``
ticker, funding,      ``venue:symbol:<kind>:<exchange_ns>``
open_interest
candle                ``venue:symbol:candle:<interval>:<open_ns>:<exchange_ns>``
liquidation           ``venue:symbol:liquidation:<exchange_ns>:<side>:<price>:<qty>``
lifecycle             ``collector:<name>:<counter>`` (unique per collector:
                      every collector's gaps and reconnects are kept)
====================  ==================================================

A BBO without an update id or a time (none of our venues) would get no
de-duplication: :func:`record_for` then uses the receiving collector's own
counter, and the README says so.

:class:`RecordBuffer` is the bounded buffer between the feeds and a sink:
``max_records`` records and ``max_bytes`` payload bytes. When it is full, new
records are dropped (the buffer keeps a contiguous run, so what was lost is one
interval per episode) and the drop is an event: :class:`SinkDropping` when
dropping starts (with the time it started), :class:`SinkRecovered` when a
record fits again (with how many were dropped and the interval). Nothing is
lost silently.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Final

import attrs
import msgspec
import trio

from ..unified import (
    BestBidAsk,
    Candle,
    Liquidation,
    Trade,
    UnifiedEvent,
)

__all__ = [
    "CollectorEvent",
    "Record",
    "RecordBuffer",
    "SinkDropping",
    "SinkEvent",
    "SinkRecovered",
    "SinkUnavailable",
    "lifecycle_record",
    "record_for",
]

_ENCODER: Final = msgspec.json.Encoder(decimal_format="string")


@attrs.frozen
class Record:
    """One message for a sink: where it goes, its de-duplication id, its bytes."""

    subject: str
    msg_id: str
    payload: bytes


class CollectorEvent(msgspec.Struct, frozen=True, gc=False, tag_field="kind", tag="lifecycle"):
    """A collector's lifecycle event, published beside the data so consumers see gaps.

    Attributes:
        venue: the feed's venue (``""`` for the collector or a sink itself).
        collector: the publishing collector's name.
        event: what happened (``"DataGap"``, ``"Reconnecting"``, ``"Disconnected"``,
            ``"SinkDropping"``, ``"SinkRecovered"`` ...).
        detail: a human-readable description.
        topics: the topics concerned, when the event names any.
        since_ns, until_ns: the interval concerned (wall clock, ns), when known.
        wall_ns: when the collector saw it (wall clock, ns).
    """

    venue: str
    collector: str
    event: str
    detail: str
    topics: tuple[str, ...] = ()
    since_ns: int | None = None
    until_ns: int | None = None
    wall_ns: int = 0


def _msg_id(event: UnifiedEvent) -> str | None:
    head = f"{event.venue}:{event.venue_symbol}:"
    if type(event) is Trade:
        return f"{head}trade:{event.trade_id}"
    if isinstance(event, BestBidAsk):
        if event.update_id is not None:
            return f"{head}bbo:{event.update_id}"
        if event.exchange_ns is not None:
            return f"{head}bbo:t{event.exchange_ns}"
        return None
    if isinstance(event, Candle):
        return f"{head}candle:{event.interval}:{event.open_ns}:{event.exchange_ns}"
    if isinstance(event, Liquidation):
        return f"{head}liquidation:{event.exchange_ns}:{event.side}:{event.price}:{event.quantity}"
    kind = type(event).__struct_config__.tag
    return f"{head}{kind}:{event.exchange_ns}"


def subject_token(text: str) -> str:
    """``text`` made safe as one NATS subject token (no ``.``, ``*``, ``>`` or spaces)."""
    return text.replace(".", "_").replace("*", "_").replace(">", "_").replace(" ", "_") or "_"


def record_for(event: UnifiedEvent, prefix: str, fallback_id: Callable[[], str]) -> Record:
    """The record of one unified event (see the module docstring for subjects and ids)."""
    kind = type(event).__struct_config__.tag
    subject = f"{prefix}.{event.venue}.{kind}.{subject_token(event.symbol)}"
    msg_id = _msg_id(event)
    return Record(subject, msg_id if msg_id is not None else fallback_id(), _ENCODER.encode(event))


def lifecycle_record(event: CollectorEvent, prefix: str, counter: int) -> Record:
    """The record of a collector's lifecycle event (unique per collector)."""
    venue = subject_token(event.venue or "_collector")
    return Record(
        f"{prefix}.{venue}.lifecycle.{subject_token(event.collector)}",
        f"collector:{event.collector}:{counter}",
        _ENCODER.encode(event),
    )


# -- the buffer between feeds and a sink ---------------------------------------------


@attrs.frozen
class SinkEvent:
    """Base of the events a sink's buffer or connection reports."""

    sink: str


@attrs.frozen
class SinkDropping(SinkEvent):
    """The sink's buffer is full: records are being dropped since ``since`` (Trio clock)."""

    since: float
    buffered: int


@attrs.frozen
class SinkRecovered(SinkEvent):
    """Records fit again: ``dropped`` records were lost between ``since`` and ``until``."""

    dropped: int
    since: float
    until: float


@attrs.frozen
class SinkUnavailable(SinkEvent):
    """Publishing failed (``error``); the sink retries while its buffer holds records."""

    error: str
    since: float


class RecordBuffer:
    """A bounded FIFO of records between the feeds and one sink (see the module docstring).

    Args:
        name: the sink's name, used in its events.
        max_records: the most records held.
        max_bytes: the most payload bytes held.
        on_event: called with each :class:`SinkDropping`/:class:`SinkRecovered`.
    """

    def __init__(
        self,
        name: str,
        max_records: int,
        max_bytes: int,
        on_event: Callable[[SinkEvent], None],
    ) -> None:
        if max_records < 1 or max_bytes < 1:
            raise ValueError("a record buffer needs max_records >= 1 and max_bytes >= 1")
        self.name = name
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._on_event = on_event
        self._items: deque[Record] = deque()
        self._bytes = 0
        self._lot = trio.lowlevel.ParkingLot()
        self._dropping_since: float | None = None
        self._dropped_now = 0
        #: records offered, accepted, dropped over the buffer's life
        self.offered = 0
        self.dropped = 0
        self.peak = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def buffered_bytes(self) -> int:
        """Payload bytes held now."""
        return self._bytes

    def offer(self, record: Record) -> bool:
        """Add ``record`` unless the buffer is full; never blocks.

        Returns:
            Whether the record was kept (a dropped one is counted and reported).
        """
        self.offered += 1
        size = len(record.payload)
        if len(self._items) >= self.max_records or self._bytes + size > self.max_bytes:
            self.dropped += 1
            self._dropped_now += 1
            if self._dropping_since is None:
                self._dropping_since = trio.current_time()
                self._on_event(SinkDropping(self.name, self._dropping_since, len(self._items)))
            return False
        if self._dropping_since is not None:
            self._on_event(
                SinkRecovered(
                    self.name, self._dropped_now, self._dropping_since, trio.current_time()
                )
            )
            self._dropping_since = None
            self._dropped_now = 0
        self._items.append(record)
        self._bytes += size
        if len(self._items) > self.peak:
            self.peak = len(self._items)
        self._lot.unpark()
        return True

    async def wait_nonempty(self) -> None:
        """Return once at least one record is buffered."""
        while not self._items:
            await self._lot.park()

    def peek_batch(self, max_records: int) -> list[Record]:
        """Up to ``max_records`` of the oldest records, left in place until :meth:`commit`."""
        return list(itertools.islice(self._items, 0, max_records))

    def commit(self, count: int) -> None:
        """Remove the ``count`` oldest records (they were published)."""
        for _ in range(min(count, len(self._items))):
            self._bytes -= len(self._items.popleft().payload)
