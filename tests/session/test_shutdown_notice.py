"""Planned-shutdown notices: ended connections by default, a ShutdownNotice event on request."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_venues import ConnectionConfig, ExponentialBackoff, RetryPolicy, retry_scope
from trio_venues.errors import ConfigError
from trio_venues.events import Disconnected, Message, Resubscribed, ShutdownNotice
from trio_venues.reasons import RemoteClosed, ServerRequested
from trio_venues.testing import FakeVenueServer, GenericVenue

from ._helpers import connect, drain


async def test_by_default_a_notice_ends_the_connection(
    server: FakeVenueServer[GenericVenue], kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """shutdown_notice="disconnect" (the default): Disconnected(ServerRequested) at the notice."""
    async with connect(server, kind) as ws:
        assert ws.config.shutdown_notice == "disconnect"
        await ws.subscribe("a")
        conn = server.connection
        await trio.sleep(2)
        await conn.send_json({"op": "shutdown", "msg": "upgrade", "in": 60})
        events = await drain(ws)
    assert not any(isinstance(e, ShutdownNotice) for e in events)
    assert events[-1] == Disconnected(ServerRequested("upgrade"))
    assert trio.current_time() == 2


async def test_event_mode_queues_a_notice_and_keeps_the_connection(
    server: FakeVenueServer[GenericVenue], kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """shutdown_notice="event": a ShutdownNotice with the deadline; data flows until the close."""
    async with connect(server, kind, shutdown_notice="event") as ws:
        await ws.subscribe("a")
        conn = server.connection
        await trio.sleep(2)
        await conn.send_json({"op": "shutdown", "msg": "upgrade", "in": 60})
        await server.push("a", {"n": 1})
        await trio.sleep(60)
        await server.push("a", {"n": 2})
        await conn.close(1001, "going away")
        events = await drain(ws)
    notices = [e for e in events if isinstance(e, ShutdownNotice)]
    assert notices == [ShutdownNotice(ServerRequested("upgrade"), 62.0)]
    data = [e.data for e in events if isinstance(e, Message)]
    assert data == [{"n": 1}, {"n": 2}]
    assert events.index(notices[0]) < next(
        i for i, e in enumerate(events) if isinstance(e, Message)
    )
    assert events[-1] == Disconnected(RemoteClosed(1001, "going away"))


async def test_a_notice_about_the_service_never_ends_the_connection(
    server: FakeVenueServer[GenericVenue], kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """A venue-wide notice (Bybit maintenance): nothing by default, an event in "event" mode."""
    frame = {"op": "shutdown", "msg": "maintenance", "scope": "venue"}
    async with connect(server, kind) as ws:
        await ws.subscribe("a")
        await server.connection.send_json(frame)
        await server.push("a", {"n": 1})
        async for event in ws.events:
            assert not isinstance(event, ShutdownNotice | Disconnected)
            if isinstance(event, Message):
                break
    async with connect(server, kind, shutdown_notice="event") as ws:
        await ws.subscribe("a")
        await server.connection.send_json(frame)
        async for event in ws.events:
            if isinstance(event, ShutdownNotice):
                break
    assert event == ShutdownNotice(ServerRequested("maintenance"), None, this_connection=False)


def test_shutdown_notice_option_is_checked() -> None:
    """An unknown shutdown_notice value is a ConfigError."""
    assert ConnectionConfig().shutdown_notice == "disconnect"
    with pytest.raises(ConfigError):
        ConnectionConfig(shutdown_notice="ignore")  # type: ignore[arg-type]


async def test_retry_scope_passes_the_notice_on_and_reconnects_at_the_close(
    server: FakeVenueServer[GenericVenue], autojump_clock: trio.abc.Clock
) -> None:
    """Under retry_scope the ShutdownNotice passes through; the venue's close later reconnects."""
    policy = RetryPolicy(ExponentialBackoff(jitter=0), breaker=None)

    def factory() -> Any:
        return connect(server, "default", shutdown_notice="event")

    seen: list[Any] = []
    async with retry_scope(factory, policy=policy) as ws:
        await ws.subscribe("a")
        first = await server.wait_connected(1)
        await first.send_json({"op": "shutdown", "msg": "restart", "in": 30})
        async for event in ws.events:
            seen.append(event)
            if isinstance(event, ShutdownNotice):
                await server.push("a", {"n": 1})
                await trio.sleep(30)
                await first.close(1001, "restart")
            if isinstance(event, Resubscribed):
                break
    kinds = [type(e) for e in seen if isinstance(e, ShutdownNotice | Message | Disconnected)]
    assert kinds == [ShutdownNotice, Message, Disconnected]
    notice = next(e for e in seen if isinstance(e, ShutdownNotice))
    assert notice.deadline == 30.0
    ended = next(e for e in seen if isinstance(e, Disconnected))
    assert ended.reason == RemoteClosed(1001, "restart")
    assert server.connected_count == 2
