"""Typed events delivered by ``ws.events``: frozen attrs classes, dispatched with ``match``.

``Connected`` is the first event of every connection and ``Disconnected``
always the last. No event carries a Trio object or an I/O handle.
"""

from __future__ import annotations

from typing import Any

import attrs

from .reasons import DisconnectReason

__all__ = [
    "Authenticated",
    "Backpressure",
    "Connected",
    "DataGap",
    "Disconnected",
    "ErrorEvent",
    "Event",
    "GapDetected",
    "Message",
    "PingReceived",
    "PongReceived",
    "RateLimited",
    "Reconnecting",
    "Resubscribed",
    "Subscribed",
    "Unsubscribed",
]


@attrs.frozen
class Event:
    """Base class of every event."""


@attrs.frozen
class Connected(Event):
    """The handshake completed; the first event of every connection.

    Attributes:
        url: the URL connected to.
        subprotocol: the negotiated subprotocol, if any.
        extensions: the negotiated extensions (e.g. ``("permessage-deflate",)``).
        at: ``trio.current_time()`` when the handshake completed.
    """

    url: str
    subprotocol: str | None = None
    extensions: tuple[str, ...] = ()
    at: float = 0.0


@attrs.frozen
class Message(Event):
    """A venue message, decoded into its typed class.

    Attributes:
        topic: the stream or channel as the venue spells it (``"btcusdt@trade"``),
            or ``None`` when the message has none (raw connections).
        data: the typed payload (``RawWebSocket``: the raw ``str | bytes``).
        received_at: ``trio.current_time()`` when the frame was read.
    """

    topic: str | None
    data: Any
    received_at: float = 0.0


@attrs.frozen
class Subscribed(Event):
    """The venue acknowledged a subscription to ``topics``."""

    topics: tuple[str, ...]


@attrs.frozen
class Unsubscribed(Event):
    """The venue acknowledged the removal of ``topics``."""

    topics: tuple[str, ...]


@attrs.frozen
class Authenticated(Event):
    """A private connection logged in. ``details`` never contains secrets."""

    details: dict[str, Any] = attrs.field(factory=dict, eq=False)


@attrs.frozen
class PingReceived(Event):
    """The peer pinged us (``level`` is ``"frame"`` or ``"venue"``); we answered."""

    payload: bytes
    level: str = "frame"


@attrs.frozen
class PongReceived(Event):
    """A pong arrived; ``rtt`` is the round trip in seconds when it answered our ping."""

    payload: bytes
    rtt: float | None
    level: str = "frame"


@attrs.frozen
class ErrorEvent(Event):
    """A non-fatal problem: a venue error not tied to a request, an undecodable message.

    The connection stays open; ``error`` is a :class:`~trio_venues.errors.TrioVenuesError`.
    """

    error: Exception = attrs.field(eq=False)


@attrs.frozen
class RateLimited(Event):
    """A local limit refused (``waited=False``) or delayed (``waited=True``) an operation."""

    kind: str
    limit: str
    retry_after: float
    waited: bool = False


@attrs.frozen
class Backpressure(Event):
    """The event buffer is nearly full: the consumer is slower than the feed."""

    queued: int
    capacity: int


@attrs.frozen
class GapDetected(Event):
    """A sequence number jumped (or data was dropped by policy): the data has a hole.

    ``expected``/``received`` are sequence numbers when the venue has them,
    or message counts for ``drop_oldest`` overflow.
    """

    topic: str | None
    expected: int | None
    received: int | None


@attrs.frozen
class Reconnecting(Event):
    """``retry_scope``: waiting ``delay`` seconds before ``attempt`` because of ``reason``."""

    attempt: int
    delay: float
    reason: DisconnectReason


@attrs.frozen
class Resubscribed(Event):
    """``retry_scope``: the replayed subscriptions were acknowledged."""

    topics: tuple[str, ...]


@attrs.frozen
class DataGap(Event):
    """``retry_scope``: ``topics`` may have missed data between ``since`` and ``until``.

    Times are ``trio.current_time()`` values: ``since`` is when the old
    connection ended, ``until`` when the new one was resubscribed.
    """

    topics: tuple[str, ...]
    since: float
    until: float


@attrs.frozen
class Disconnected(Event):
    """The connection ended; always the last event of a connection."""

    reason: DisconnectReason
