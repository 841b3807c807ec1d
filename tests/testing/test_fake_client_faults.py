"""A real trio_venues client driven through fake-venue and proxy faults: one line per fault."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trio.testing

from trio_venues import Connection
from trio_venues.errors import ConnectionRefused, ConnectTimeout, TLSFailed
from trio_venues.events import (
    Disconnected,
    ErrorEvent,
    Event,
    GapDetected,
    Message,
    PingReceived,
)
from trio_venues.reasons import HeartbeatTimeout, NetworkError, ServerRequested
from trio_venues.testing import FakeVenueServer, FaultProxy, GenericVenue, TLSCerts
from trio_venues.venues.generic import GenericJson

TRANSPORTS = ["default", "trio-websocket"]
Server = FakeVenueServer[GenericVenue]
ProxyFactory = Callable[[str | int], Awaitable[FaultProxy]]


def memory(server: Server, kind: str, **options: Any) -> Any:
    """A GenericJson connection to ``server`` in memory over transport ``kind``."""
    options.setdefault("ping_interval", None)
    return GenericJson.connect(server.url, transport=server.memory_transport(kind), **options)


async def until_end(ws: Connection) -> list[Event]:
    """Every event up to and including Disconnected."""
    events = [event async for event in ws.events]
    assert isinstance(events[-1], Disconnected)
    return events


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_tcp_reset_is_a_network_error(fake_venue: Server, kind: str) -> None:
    """conn.reset() over TCP ends the client with NetworkError."""
    async with GenericJson.connect(fake_venue.url, transport=kind, ping_interval=None) as ws:
        await (await fake_venue.wait_connected()).reset(mid_message=True)
        events = await until_end(ws)
    reason = events[-1].reason  # type: ignore[attr-defined]
    assert isinstance(reason, NetworkError)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_memory_reset_is_a_network_error(fake_venue_memory: Server, kind: str) -> None:
    """conn.reset() in memory ends the client with NetworkError too."""
    async with memory(fake_venue_memory, kind) as ws:
        await (await fake_venue_memory.wait_connected()).reset()
        events = await until_end(ws)
    assert isinstance(events[-1].reason, NetworkError)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_shutdown_notice_is_server_requested(fake_venue_memory: Server, kind: str) -> None:
    """conn.notify_shutdown(msg) ends the client with ServerRequested(msg)."""
    async with memory(fake_venue_memory, kind) as ws:
        await (await fake_venue_memory.wait_connected()).notify_shutdown("maintenance")
        events = await until_end(ws)
    assert events[-1] == Disconnected(ServerRequested("maintenance"))


async def test_sequence_faults_become_gap_events(fake_venue_memory: Server) -> None:
    """inject_gap and inject_duplicate reach the client as GapDetected before the message."""
    async with memory(fake_venue_memory, "default") as ws:
        await ws.subscribe("t")
        for fault in (None, "gap", None, "dup"):
            if fault == "gap":
                fake_venue_memory.inject_gap("t", 2)
            elif fault == "dup":
                fake_venue_memory.inject_duplicate("t")
            await fake_venue_memory.push("t", fault)
        seen: list[Event] = []
        async for event in ws.events:
            if isinstance(event, Message | GapDetected):
                seen.append(event)
            if len(seen) == 6:
                break
    assert [(type(e).__name__, getattr(e, "expected", None)) for e in seen] == [
        ("Message", None),
        ("GapDetected", 2),
        ("Message", None),
        ("Message", None),
        ("GapDetected", 6),
        ("Message", None),
    ]


async def test_venue_ping_is_answered_by_the_client(fake_venue_memory: Server) -> None:
    """conn.venue_ping(reply_within=...) gets the client's pong; the link stays up."""
    async with memory(fake_venue_memory, "default") as ws:
        conn = await fake_venue_memory.wait_connected()
        ts = await conn.venue_ping(reply_within=5.0)
        await conn.wait_venue_pong(ts)
        async for event in ws.events:
            if isinstance(event, PingReceived):
                assert event == PingReceived(str(ts).encode(), level="venue")
                break
        assert conn.is_open


async def test_unsolicited_error_is_an_error_event(fake_venue_memory: Server) -> None:
    """An {"op":"error"} notice becomes an ErrorEvent; the connection carries on."""
    async with memory(fake_venue_memory, "default") as ws:
        conn = await fake_venue_memory.wait_connected()
        await conn.send_text(GenericVenue.error_frame(503, "overloaded"))
        async for event in ws.events:
            if isinstance(event, ErrorEvent):
                assert event.error.args == ("venue error 503: overloaded",)
                break
        assert await ws.request("echo", 1) == 1


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_ping_storm_is_survived(
    fake_venue_memory: Server, kind: str, autojump_clock: trio.testing.MockClock
) -> None:
    """conn.ping_storm(100): the client stays up and answers the latest ping.

    RFC 6455 5.5.3 lets a client answer only the most recent of several
    pending pings, so the count of pongs is not asserted.
    """
    async with memory(fake_venue_memory, kind) as ws:
        conn = await fake_venue_memory.wait_connected()
        await conn.ping_storm(100, payload=b"s")
        await conn.ping(b"last")
        await conn.wait_until(lambda c: b"last" in c.pongs_received)
        assert ws.stats.pings_received == 101
        assert ws.state.name == "CONNECTED"


async def test_muted_data_trips_the_data_timeout(
    fake_venue_memory: Server, autojump_clock: trio.testing.MockClock
) -> None:
    """conn.data_muted with data_timeout=5: HeartbeatTimeout(kind="data") at exactly 5 s."""
    async with memory(fake_venue_memory, "default", data_timeout=5.0) as ws:
        conn = await fake_venue_memory.wait_connected()
        conn.data_muted = True
        t0 = trio.current_time()
        events = await until_end(ws)
    reason = events[-1].reason  # type: ignore[attr-defined]
    assert isinstance(reason, HeartbeatTimeout)
    assert (reason.kind, trio.current_time() - t0) == ("data", 5.0)


async def test_paused_proxy_trips_the_pong_timeout(
    fake_venue: Server, fault_proxy: ProxyFactory
) -> None:
    """proxy.server_to_client.pause(): a half-open link ends in HeartbeatTimeout."""
    proxy = await fault_proxy(fake_venue.url)
    url = proxy.rewrite(fake_venue.url)
    async with GenericJson.connect(url, ping_interval=0.05, pong_timeout=0.1) as ws:
        await fake_venue.wait_connected()
        proxy.server_to_client.pause()
        events = await until_end(ws)
    reason = events[-1].reason  # type: ignore[attr-defined]
    assert isinstance(reason, HeartbeatTimeout)
    assert reason.kind == "pong"


async def test_proxy_cut_mid_frame_is_a_network_error(
    fake_venue: Server, fault_proxy: ProxyFactory
) -> None:
    """proxy.server_to_client.drop_after(5) mid-message: NetworkError."""
    proxy = await fault_proxy(fake_venue.url)
    async with GenericJson.connect(proxy.rewrite(fake_venue.url), ping_interval=None) as ws:
        await ws.subscribe("t")
        proxy.server_to_client.drop_after(5)
        await fake_venue.push("t", "x" * 100)
        events = await until_end(ws)
    assert isinstance(events[-1].reason, NetworkError)  # type: ignore[attr-defined]


async def test_proxy_rst_is_a_network_error(fake_venue: Server, fault_proxy: ProxyFactory) -> None:
    """proxy.server_to_client.rst(): NetworkError."""
    proxy = await fault_proxy(fake_venue.url)
    async with GenericJson.connect(proxy.rewrite(fake_venue.url), ping_interval=None) as ws:
        await fake_venue.wait_connected()
        await proxy.server_to_client.rst()
        events = await until_end(ws)
    assert isinstance(events[-1].reason, NetworkError)  # type: ignore[attr-defined]


async def test_refused_and_blackholed_connects(
    fake_venue: Server, fault_proxy: ProxyFactory
) -> None:
    """refuse_new() gives ConnectionRefused; blackhole_new() gives ConnectTimeout."""
    proxy = await fault_proxy(fake_venue.url)
    url = proxy.rewrite(fake_venue.url)
    await proxy.refuse_new()
    with pytest.raises(ConnectionRefused):
        async with GenericJson.connect(url):
            pytest.fail("connected")
    await proxy.accept_new()
    proxy.blackhole_new()
    with pytest.raises(ConnectTimeout):
        async with GenericJson.connect(url, connect_timeout=0.1):
            pytest.fail("connected")
    assert (proxy.blackholed, fake_venue.attempts) == (1, 0)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_wss_good_and_expired(nursery: trio.Nursery, tls_certs: TLSCerts, kind: str) -> None:
    """wss:// with the good certificate connects; the expired one raises TLSFailed."""
    good = FakeVenueServer(ssl_context=tls_certs.server)
    await nursery.start(good.serve_tcp)
    async with GenericJson.connect(good.url, transport=kind, ssl_context=tls_certs.client) as ws:
        assert await ws.request("echo", "tls") == "tls"
    expired = FakeVenueServer(ssl_context=tls_certs.expired_server)
    await nursery.start(expired.serve_tcp)
    with pytest.raises(TLSFailed):
        async with GenericJson.connect(expired.url, transport=kind, ssl_context=tls_certs.client):
            pytest.fail("connected")
