"""The pytest plugin: loaded through its entry point, its fixtures ready to use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points

import pytest

from trio_venues.testing import FakeVenueServer, FaultProxy, GenericVenue, TLSCerts, plugin


def test_plugin_is_registered_through_its_entry_point(request: pytest.FixtureRequest) -> None:
    """The pytest11 entry point names the plugin module, and pytest loaded it."""
    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names["trio_venues"] == "trio_venues.testing.plugin"
    assert request.config.pluginmanager.get_plugin("trio_venues") is plugin


async def test_fake_venue_listens_on_loopback(fake_venue: FakeVenueServer[GenericVenue]) -> None:
    """fake_venue is a running generic venue on 127.0.0.1."""
    assert fake_venue.running
    assert fake_venue.url == f"ws://127.0.0.1:{fake_venue.port}/"
    client, conn = await fake_venue.connect_raw(tcp=True)
    assert conn.number == 1
    assert client.stream is not None


async def test_fake_venue_memory_has_no_port(
    fake_venue_memory: FakeVenueServer[GenericVenue],
) -> None:
    """fake_venue_memory serves in-memory connections only."""
    assert fake_venue_memory.port is None
    assert fake_venue_memory.url == "ws://fake-venue.invalid/"
    await fake_venue_memory.connect_raw()
    assert fake_venue_memory.connected_count == 1


async def test_fault_proxy_factory_takes_a_url_or_a_port(
    fake_venue: FakeVenueServer[GenericVenue],
    fault_proxy: Callable[[str | int], Awaitable[FaultProxy]],
) -> None:
    """fault_proxy(url) and fault_proxy(port) both target the server."""
    assert fake_venue.port is not None
    by_url = await fault_proxy(fake_venue.url)
    by_port = await fault_proxy(fake_venue.port)
    assert (by_url.target_host, by_url.target_port) == ("127.0.0.1", fake_venue.port)
    assert by_port.target_port == fake_venue.port
    assert by_url.port != by_port.port
    with pytest.raises(ValueError, match="explicit port"):
        await fault_proxy("ws://127.0.0.1/")


def test_tls_certs_fixture(tls_certs: TLSCerts) -> None:
    """tls_certs provides a CA and ready contexts."""
    assert tls_certs.ca.cert_pem.bytes().startswith(b"-----BEGIN CERTIFICATE-----")
