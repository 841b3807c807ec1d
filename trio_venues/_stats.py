"""Connection statistics: what ``ws.stats`` returns (:class:`ConnectionStats`, :class:`TopicStats`).

The session keeps raw counters on the hot path; these frozen snapshots are
built from them only when someone asks (``ws.stats``, ``stats_hook``).
"""

from __future__ import annotations

from typing import Any

import attrs

from .events import Message

__all__ = ["ConnectionStats", "TopicStats"]


@attrs.frozen
class TopicStats:
    """Counters of one topic (subscription) on one connection.

    Attributes:
        messages: data messages received.
        bytes: their size on the wire (after decompression).
        last_received_at: ``trio.current_time()`` of the last one.
        last_event_time: the venue's event time of the last one (venue units,
            e.g. Binance ms), when the message carries one.
        event_lag_ms: how far behind the venue's clock the last message was
            when it arrived (wall clock minus event time, in ms), when known.
        messages_per_second: the topic's average rate since the connection opened.
    """

    messages: int
    bytes: int
    last_received_at: float | None
    last_event_time: int | None
    event_lag_ms: float | None
    messages_per_second: float | None = None


@attrs.frozen
class ConnectionStats:
    """A snapshot of one connection's counters (``ws.stats``).

    Times are ``trio.current_time()`` values; ``None`` when it has not happened.
    ``rate_limits`` is the venue limiter's
    :class:`~trio_venues.ratelimit.LimiterStats` (usage per limit and window,
    time until capacity, waits and refusals), ``None`` for venues without limits.
    """

    conn_id: str
    messages_in: int
    messages_out: int
    bytes_in: int
    bytes_out: int
    queued: int
    peak_queued: int
    capacity: int
    last_message_at: float | None
    last_rtt: float | None
    pings_received: int
    pongs_sent: int
    pings_sent: int
    dropped: int
    conflated: int
    decode_errors: int
    pending_requests: int
    subscriptions: int
    connected_at: float | None
    since_last_message: float | None
    messages_per_second: float | None
    topics: dict[str, TopicStats] = attrs.field(factory=dict, eq=False)
    rate_limits: Any = None


def _topic_stats(
    messages: int, size: int, last: Message | None, now: float, wall_ms: float, span: float | None
) -> TopicStats:
    """One topic's ``TopicStats`` from the reader's counters and its last message."""
    received_at = last.received_at if last is not None else None
    # Integer event times only (milliseconds or microseconds, as the venue sends them).
    event_time = getattr(last.data, "event_time", None) if last is not None else None
    if type(event_time) is not int:
        event_time = None
    return TopicStats(
        messages=messages,
        bytes=size,
        last_received_at=received_at,
        last_event_time=event_time,
        event_lag_ms=(
            wall_ms - (now - received_at) * 1000 - event_time
            if event_time is not None and received_at is not None
            else None
        ),
        messages_per_second=messages / span if span else None,
    )
