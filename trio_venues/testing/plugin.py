"""The trio_venues pytest plugin: fake venues and fault tools as pytest-trio fixtures.

Loaded through the ``pytest11`` entry point whenever trio_venues is installed
(no ``conftest.py`` needed). Async fixtures run under pytest-trio: use
``trio_mode = true`` or mark tests with ``@pytest.mark.trio``. Every server
runs in the test's ``nursery`` and stops with it.

Fixtures:
    fake_venue: a generic JSON fake venue on 127.0.0.1 (``fake_venue.url``).
    fake_venue_memory: the same venue for in-memory connections
        (``transport=fake_venue_memory.memory_transport()``).
    fault_proxy: ``await fault_proxy(target)`` starts a :class:`FaultProxy` to
        a URL or a port; connect to ``proxy.rewrite(url)``.
    tls_certs: a :class:`TLSCerts` (a CA, good and bad server contexts),
        made once per session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import pytest
import trio

from ..venues.binance._fake import FakeBinance, binance_server
from ._generic import GenericVenue
from ._proxy import FaultProxy
from ._server import FakeVenueServer
from ._tls import TLSCerts, make_tls_certs

__all__ = [
    "fake_binance",
    "fake_binance_memory",
    "fake_venue",
    "fake_venue_memory",
    "fault_proxy",
    "tls_certs",
]

FaultProxyFactory = Callable[[str | int], Awaitable[FaultProxy]]


@pytest.fixture
async def fake_venue(nursery: trio.Nursery) -> FakeVenueServer[GenericVenue]:
    """A generic JSON fake venue listening on 127.0.0.1, running in the test's nursery."""
    server = FakeVenueServer()
    await nursery.start(server.serve_tcp)
    return server


@pytest.fixture
async def fake_venue_memory(nursery: trio.Nursery) -> FakeVenueServer[GenericVenue]:
    """A generic JSON fake venue for in-memory connections (``server.memory_transport()``)."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    return server


@pytest.fixture
async def fake_binance(nursery: trio.Nursery) -> FakeVenueServer[FakeBinance]:
    """A fake Binance (streams and WS API) on 127.0.0.1; see ``binance_stream_url``."""
    server = binance_server()
    await nursery.start(server.serve_tcp)
    return server


@pytest.fixture
async def fake_binance_memory(nursery: trio.Nursery) -> FakeVenueServer[FakeBinance]:
    """A fake Binance for in-memory connections (``server.memory_transport()``)."""
    server = binance_server()
    await nursery.start(server.run)
    return server


@pytest.fixture
def fault_proxy(nursery: trio.Nursery) -> FaultProxyFactory:
    """A factory: ``proxy = await fault_proxy(server.url)`` (or a port) starts a FaultProxy."""

    async def start(target: str | int) -> FaultProxy:
        if isinstance(target, int):
            host, port = "127.0.0.1", target
        else:
            parts = urlsplit(target)
            if parts.port is None:
                raise ValueError(f"the proxy target needs an explicit port: {target!r}")
            host, port = parts.hostname or "127.0.0.1", parts.port
        proxy = FaultProxy(port, host)
        await nursery.start(proxy.serve)
        return proxy

    return start


@pytest.fixture(scope="session")
def tls_certs() -> TLSCerts:
    """A test CA with good and bad server contexts and a trusting client context."""
    return make_tls_certs()
