"""The pure heartbeat state machine: deadlines and actions for given times."""

from __future__ import annotations

import math

from trio_venues._heartbeat import Heartbeat, SendPing, SendVenuePing
from trio_venues.reasons import HeartbeatTimeout


def test_ping_then_timeout_at_interval_plus_pong_timeout() -> None:
    """An unanswered ping ends the connection exactly pong_timeout after it was sent."""
    hb = Heartbeat(0.0, ping_interval=20.0, pong_timeout=20.0)
    assert hb.next_deadline() == 20.0
    [action] = hb.on_timer(20.0)
    assert isinstance(action, SendPing)
    assert hb.next_deadline() == 40.0
    assert hb.on_timer(40.0) == [HeartbeatTimeout(20.0, "pong")]


def test_pong_clears_deadline_and_reports_rtt() -> None:
    """A matching pong gives the round trip and schedules the next ping only."""
    hb = Heartbeat(0.0, ping_interval=20.0, pong_timeout=20.0)
    [ping] = hb.on_timer(20.0)
    assert isinstance(ping, SendPing)
    assert hb.on_pong(b"other", 20.5) is None
    assert hb.on_pong(ping.payload, 20.25) == 0.25
    assert hb.last_rtt == 0.25
    assert hb.next_deadline() == 40.0
    assert isinstance(hb.on_timer(40.0)[0], SendPing)


def test_second_ping_does_not_extend_dead_peer() -> None:
    """While a ping is unanswered, a later interval sends no new ping and keeps the deadline."""
    hb = Heartbeat(0.0, ping_interval=5.0, pong_timeout=20.0)
    assert isinstance(hb.on_timer(5.0)[0], SendPing)
    assert hb.on_timer(10.0) == []
    assert hb.on_timer(25.0) == [HeartbeatTimeout(20.0, "pong")]


def test_data_staleness() -> None:
    """With data_timeout, silence ends the connection; any data pushes the deadline."""
    hb = Heartbeat(0.0, ping_interval=None, pong_timeout=20.0, data_timeout=30.0)
    assert hb.next_deadline() == 30.0
    hb.on_data(10.0)
    assert hb.next_deadline() == 40.0
    assert hb.on_timer(40.0) == [HeartbeatTimeout(30.0, "data")]


def test_venue_ping_and_pong() -> None:
    """Venue-level pings go out every interval; their pong must come within pong_timeout."""
    hb = Heartbeat(0.0, ping_interval=None, pong_timeout=10.0, venue_interval=25.0)
    assert hb.on_timer(25.0) == [SendVenuePing()]
    assert hb.on_venue_pong(25.5) == 0.5
    assert hb.on_venue_pong(26.0) is None
    assert hb.on_timer(50.0) == [SendVenuePing()]
    assert hb.on_timer(60.0) == [HeartbeatTimeout(10.0, "venue")]


def test_disabled_heartbeat_never_wakes() -> None:
    """With every check disabled the deadline is infinite."""
    hb = Heartbeat(0.0, ping_interval=None, pong_timeout=20.0)
    assert hb.next_deadline() == math.inf
