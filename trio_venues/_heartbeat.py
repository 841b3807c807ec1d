"""Heartbeat rules as a pure state machine: ``next_deadline()`` and ``on_timer(now)``.

Three independent liveness checks, all driven by the caller's clock:

- **WebSocket pings**: every ``ping_interval`` we send a ping; if its pong
  has not arrived ``pong_timeout`` later, the peer is dead (a half-open TCP
  connection looks exactly like this).
- **Data staleness**: with ``data_timeout`` set, no message at all for that
  long ends the connection (venues that go quiet while keeping TCP open).
- **Venue-level pings** (OKX's text ``ping``, Bybit's ``{"op":"ping"}``): sent
  every ``venue_interval``; the venue's pong must arrive within ``pong_timeout``.

Any pong (frame or venue level) counts only for its own check; any received
data counts for staleness. Two more things keep a live peer from looking dead:

- **A message still arriving** (:meth:`Heartbeat.on_progress`): the peer's
  pong queues behind the frame it is sending, so while the bytes of an
  incomplete message keep coming the pong deadline runs from the latest of
  them. Complete messages do not count: a peer that sends data but never
  answers a ping is still dead to the pong check.
- **Our reader paused for a slow consumer** (:meth:`Heartbeat.resume`): pongs
  wait unread in the socket, so every deadline restarts when reading resumes.
"""

from __future__ import annotations

import math

import attrs

from .reasons import HeartbeatTimeout

__all__ = ["Heartbeat", "SendPing", "SendVenuePing"]


@attrs.frozen
class SendPing:
    """Send a WebSocket ping frame with this payload."""

    payload: bytes


@attrs.frozen
class SendVenuePing:
    """Send the venue's application-level ping."""


HeartbeatAction = SendPing | SendVenuePing | HeartbeatTimeout


class Heartbeat:
    """Liveness bookkeeping for one connection (all times are the caller's clock)."""

    def __init__(
        self,
        now: float,
        *,
        ping_interval: float | None,
        pong_timeout: float,
        data_timeout: float | None = None,
        venue_interval: float | None = None,
    ) -> None:
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.data_timeout = data_timeout
        self.venue_interval = venue_interval
        self.last_received = now
        self._next_ping = now + ping_interval if ping_interval else math.inf
        self._ping_payload: bytes | None = None
        self._ping_sent_at = 0.0
        self._ping_count = 0
        self._next_venue_ping = now + venue_interval if venue_interval else math.inf
        self._venue_ping_sent_at: float | None = None
        self.last_rtt: float | None = None
        # The last time part of a message arrived (see on_progress).
        self._progress_at = -math.inf

    def next_deadline(self) -> float:
        """The earliest time :meth:`on_timer` has something to do (``inf``: never)."""
        deadlines = [self._next_ping, self._next_venue_ping]
        if self._ping_payload is not None:
            deadlines.append(max(self._ping_sent_at, self._progress_at) + self.pong_timeout)
        if self._venue_ping_sent_at is not None:
            deadlines.append(self._venue_ping_sent_at + self.pong_timeout)
        if self.data_timeout is not None:
            deadlines.append(self.last_received + self.data_timeout)
        return min(deadlines)

    def on_timer(self, now: float) -> list[HeartbeatAction]:
        """Everything due at ``now``; a ``HeartbeatTimeout`` means the peer is dead."""
        if self._ping_payload is not None and now >= (
            max(self._ping_sent_at, self._progress_at) + self.pong_timeout
        ):
            return [HeartbeatTimeout(now - self._ping_sent_at, "pong")]
        if (
            self._venue_ping_sent_at is not None
            and now >= self._venue_ping_sent_at + self.pong_timeout
        ):
            return [HeartbeatTimeout(now - self._venue_ping_sent_at, "venue")]
        if self.data_timeout is not None and now >= self.last_received + self.data_timeout:
            return [HeartbeatTimeout(now - self.last_received, "data")]
        actions: list[HeartbeatAction] = []
        if now >= self._next_ping and self.ping_interval is not None:
            self._ping_count += 1
            payload = self._ping_count.to_bytes(8, "big")
            # A ping still unanswered keeps its deadline: a new ping must not
            # extend the time a dead peer gets.
            if self._ping_payload is None:
                self._ping_payload = payload
                self._ping_sent_at = now
                actions.append(SendPing(payload))
            self._next_ping = now + self.ping_interval
        if now >= self._next_venue_ping and self.venue_interval is not None:
            if self._venue_ping_sent_at is None:
                self._venue_ping_sent_at = now
                actions.append(SendVenuePing())
            self._next_venue_ping = now + self.venue_interval
        return actions

    def on_data(self, now: float) -> None:
        """Any message arrived."""
        self.last_received = now

    def on_progress(self, now: float) -> None:
        """Bytes of a message still incomplete arrived: the peer is sending (see the module doc)."""
        self._progress_at = now

    def resume(self, now: float) -> None:
        """Reading resumes after a pause for the consumer: restart every deadline at ``now``.

        A ping or venue ping still unanswered gets a full ``pong_timeout``
        from now, and staleness counts from now.
        """
        if self._ping_payload is not None:
            self._ping_sent_at = max(self._ping_sent_at, now)
        if self._venue_ping_sent_at is not None:
            self._venue_ping_sent_at = max(self._venue_ping_sent_at, now)
        self.last_received = max(self.last_received, now)

    def on_pong(self, payload: bytes, now: float) -> float | None:
        """A pong frame arrived; returns the round trip if it answered our ping."""
        if self._ping_payload is not None and payload == self._ping_payload:
            self._ping_payload = None
            self.last_rtt = now - self._ping_sent_at
            return self.last_rtt
        return None

    def on_venue_pong(self, now: float) -> float | None:
        """A venue-level pong arrived; returns the round trip if one was outstanding."""
        if self._venue_ping_sent_at is None:
            return None
        rtt = now - self._venue_ping_sent_at
        self._venue_ping_sent_at = None
        self.last_rtt = rtt
        return rtt
