"""Observability: structured logs, per-topic counters, the stats hook."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio

from trio_venues import ConnectionStats
from trio_venues.reasons import RemoteClosed
from trio_venues.testing import FakeVenueServer

from ._helpers import connect, drain

Server = FakeVenueServer[Any]


async def test_per_topic_counters_and_staleness(
    server: Server, autojump_clock: trio.abc.Clock
) -> None:
    """ws.stats counts messages and bytes per topic and the time since the last message."""
    async with connect(server, "default") as ws:
        await ws.subscribe("a", "b")
        for i in range(3):
            await server.push("a", {"i": i})
        await server.push("b", {"i": 0})
        seen = 0
        async for event in ws.events:
            if type(event).__name__ == "Message":
                seen += 1
                if seen == 4:
                    break
        await trio.sleep(7)
        stats = ws.stats
    assert stats.topics["a"].messages == 3
    assert stats.topics["b"].messages == 1
    assert stats.topics["a"].bytes > 0
    assert stats.since_last_message == 7
    assert stats.conn_id.startswith("generic-")


async def test_stats_hook_called_periodically_and_at_the_end(
    server: Server, autojump_clock: trio.abc.Clock
) -> None:
    """stats_hook receives a snapshot every stats_interval and a final one at the end."""
    calls: list[tuple[float, ConnectionStats]] = []

    def hook(stats: ConnectionStats) -> None:
        calls.append((trio.current_time(), stats))

    async with connect(server, "default", stats_hook=hook, stats_interval=5.0):
        await trio.sleep(12)
    assert [t for t, _ in calls] == [5.0, 10.0, 12.0]
    assert calls[-1][1].conn_id == calls[0][1].conn_id


async def test_logs_carry_connection_id_and_reason(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """Open and end are logged under trio_venues.session with conn_id and reason as extras."""
    caplog.set_level(logging.INFO, logger="trio_venues")
    async with connect(server, "default") as ws:
        peer = await server.wait_connected()
        await peer.close(1012, "restart")
        await drain(ws)
    records = [r for r in caplog.records if r.name == "trio_venues.session"]
    assert any("open" in r.getMessage() for r in records)
    ending = [r for r in records if getattr(r, "reason", None) is not None]
    assert ending
    assert ending[0].reason == RemoteClosed(1012, "restart")  # type: ignore[attr-defined]
    assert ending[0].conn_id == ws.stats.conn_id  # type: ignore[attr-defined]
    assert ending[0].retryable is True  # type: ignore[attr-defined]


async def test_rates(server: Server, autojump_clock: trio.abc.Clock) -> None:
    """ws.stats reports the connection's and each topic's average message rate."""
    async with connect(server, "default") as ws:
        await ws.subscribe("a")
        for i in range(10):
            await server.push("a", {"i": i})
        seen = 0
        async for event in ws.events:
            if type(event).__name__ == "Message":
                seen += 1
                if seen == 10:
                    break
        await trio.sleep(5)
        stats = ws.stats
    assert stats.topics["a"].messages_per_second == 2.0
    assert stats.messages_per_second == stats.messages_in / 5
