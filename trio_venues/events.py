"""Typed events delivered by ``ws.events``: frozen attrs classes, dispatched with ``match``.

``Connected`` is the first event of every connection and ``Disconnected``
always the last. No event carries a Trio object or an I/O handle.

**Storms coalesce.** A server can send pings, pongs or broken messages far
faster than any consumer reads events. So a :class:`PingReceived`,
:class:`PongReceived` or :class:`ErrorEvent` that arrives while an event of
the same kind (same ``level``; for errors, the same error type) is the last
one queued merges into it instead of queuing behind it: its ``count`` says
how many it stands for. Order is kept (only adjacent events merge) and
nothing is lost silently: ``count`` adds up to what arrived, and
``ws.stats`` counts each ping. A consumer that keeps up sees ``count == 1``.
"""

from __future__ import annotations

from typing import Any

import attrs

from .reasons import DisconnectReason

__all__ = [
    "Authenticated",
    "Backpressure",
    "Connected",
    "ConnectionClosed",
    "ConnectionDown",
    "ConnectionOpened",
    "ConnectionRetrying",
    "ConnectionUp",
    "DataGap",
    "Disconnected",
    "ErrorEvent",
    "Event",
    "GapDetected",
    "Message",
    "PingReceived",
    "PlacementChanged",
    "PongReceived",
    "RateLimited",
    "Reconnecting",
    "Resubscribed",
    "Rotated",
    "ShutdownNotice",
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
    """The peer pinged us (``level`` is ``"frame"`` or ``"venue"``); we answered.

    Coalesced (see the module docstring): ``count`` pings arrived in a row
    while this event waited at the end of ``ws.events``; ``payload`` is the
    newest one's.
    """

    payload: bytes
    level: str = "frame"
    count: int = attrs.field(default=1, kw_only=True)


@attrs.frozen
class PongReceived(Event):
    """A pong arrived; ``rtt`` is the round trip in seconds when it answered our ping.

    Coalesced: ``count`` pongs in a row; ``payload`` is the newest one's and
    ``rtt`` the newest round trip among them.
    """

    payload: bytes
    rtt: float | None
    level: str = "frame"
    count: int = attrs.field(default=1, kw_only=True)


@attrs.frozen
class ErrorEvent(Event):
    """A non-fatal problem: a venue error not tied to a request, an undecodable message.

    The connection stays open; ``error`` is a :class:`~trio_venues.errors.TrioVenuesError`.
    Coalesced: ``count`` errors of the same type came in a row while this
    event waited at the end of ``ws.events``; ``error`` is the first of them.
    """

    error: Exception = attrs.field(eq=False)
    count: int = attrs.field(default=1, kw_only=True)


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
    """``retry_scope``: waiting ``delay`` seconds before ``attempt`` because of ``reason``.

    Attributes:
        retry_after: the delay the server asked for (a rejected handshake's
            ``Retry-After``), ``None`` when it asked for none; ``inf`` for a
            value too long to mean anything.
        retry_after_cap: set when ``retry_after`` exceeded the policy's
            ``max_retry_after``: the cap that was waited instead.
    """

    attempt: int
    delay: float
    reason: DisconnectReason
    retry_after: float | None = attrs.field(default=None, kw_only=True)
    retry_after_cap: float | None = attrs.field(default=None, kw_only=True)


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
class ShutdownNotice(Event):
    """The venue announced a planned end; the connection stays open until the venue closes it.

    Delivered only under the connect option ``shutdown_notice="event"``
    (the default, ``"disconnect"``, ends the connection at the notice with
    ``Disconnected(reason)`` instead). Sent for Binance ``serverShutdown``,
    OKX notice 64008 and Bybit ``system.status`` maintenance (see
    ``docs/reliability.md``, "Planned shutdowns").

    Attributes:
        reason: the :class:`~trio_venues.reasons.ServerRequested` the
            connection would have ended with, naming the notice.
        deadline: when the venue said it will close, in
            ``trio.current_time()`` units, or ``None`` when it gave no time
            (Binance: "reconnect as soon as possible").
        this_connection: ``False`` for a notice about the venue's service
            rather than this connection (Bybit ``system.status`` maintenance,
            read on the status endpoint).
    """

    reason: DisconnectReason
    deadline: float | None = None
    this_connection: bool = attrs.field(default=True, kw_only=True)


@attrs.frozen
class Disconnected(Event):
    """The connection ended; always the last event of a connection."""

    reason: DisconnectReason


# -- the gapless feed (trio_venues.gapless): one feed, several connections ----------------
#
# ``connection`` in these events is the feed's own number for one of its
# connections (1, 2, ...; never reused within a feed), ``shard`` the number of
# the set of topics it carries (``copies`` connections carry one shard).


@attrs.frozen
class ConnectionOpened(Event):
    """A gapless feed opened a connection and the venue acknowledged its topics.

    Attributes:
        connection: the feed's number for it.
        shard: the shard it carries.
        copy: which copy of the shard (0 .. copies - 1).
        url: where it is connected.
        topics: what it carries.
        why: ``"shard"`` (topics needed room), ``"copy"`` (redundancy),
            ``"rotation"`` (it replaces a connection) or ``"replacement"``.
    """

    connection: int
    shard: int
    copy: int
    url: str
    topics: tuple[str, ...]
    why: str


@attrs.frozen
class ConnectionClosed(Event):
    """A gapless feed closed one of its connections on purpose.

    Attributes:
        connection: the feed's number for it.
        shard: the shard it carried (``0`` once moved away).
        topics: what it carried at the end.
        why: ``"rotated"`` (replaced), ``"empty"`` (its topics were
            unsubscribed), ``"rebalanced"`` (its topics moved to other
            connections, saving one) or ``"closed"`` (the feed ended).
    """

    connection: int
    shard: int
    topics: tuple[str, ...]
    why: str


@attrs.frozen
class PlacementChanged(Event):
    """The topics one connection of a gapless feed carries changed (acknowledged)."""

    connection: int
    added: tuple[str, ...]
    removed: tuple[str, ...]


@attrs.frozen
class ConnectionDown(Event):
    """A connection of a gapless feed dropped unexpectedly; it reconnects in the background.

    Attributes:
        connection: the feed's number for it.
        reason: why it ended.
        covered: its topics another connection still delivers (no data lost).
        uncovered: its topics nothing delivers until a connection is back
            (a ``DataGap`` follows when one is).
    """

    connection: int
    reason: DisconnectReason
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]


@attrs.frozen
class ConnectionRetrying(Event):
    """A dropped connection of a gapless feed waits ``delay`` seconds before ``attempt``."""

    connection: int
    attempt: int
    delay: float
    reason: DisconnectReason


@attrs.frozen
class ConnectionUp(Event):
    """A dropped connection of a gapless feed is back, its topics resubscribed."""

    connection: int
    topics: tuple[str, ...]


@attrs.frozen
class Rotated(Event):
    """A gapless feed replaced a connection make-before-break.

    Attributes:
        old: the connection replaced (closed now).
        new: the connection that replaced it.
        cause: ``"age"`` (before the venue's planned cut), ``"notice"`` (the
            venue announced a shutdown), ``"manual"`` (``feed.rotate``).
        topics: the topics switched.
        overlap: seconds both connections carried the topics.
        duplicates: messages dropped as already delivered during the overlap.
        gaps: topics that could not be switched without a possible hole (they
            got a ``DataGap``; normally empty, see the gapless docs).
    """

    old: int
    new: int
    cause: str
    topics: tuple[str, ...]
    overlap: float
    duplicates: int
    gaps: tuple[str, ...] = ()
