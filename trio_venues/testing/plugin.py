"""The trio_venues pytest plugin: fake venues and fault tools as pytest-trio fixtures.

Loaded through the ``pytest11`` entry point whenever trio_venues is installed
(no ``conftest.py`` needed). Async fixtures run under pytest-trio: use
``trio_mode = true`` or mark tests with ``@pytest.mark.trio``. Every server
runs in the test's ``nursery`` and stops with it.

Every venue in the registry (:mod:`trio_venues.venues._registry`) gets two
fixtures, made here from its entry (a new venue adds no fixture code):

    fake_<venue>: the venue's fake server on 127.0.0.1 (``server.url``).
    fake_<venue>_memory: the same fake for in-memory connections
        (``transport=server.memory_transport()``).

So ``fake_binance``/``fake_binance_memory``, ``fake_generic``/``fake_generic_memory``
and one pair per venue added since. Also:

    fake_venue, fake_venue_memory: the generic JSON fake venue (the same as
        ``fake_generic``/``fake_generic_memory``).
    fault_proxy: ``await fault_proxy(target)`` starts a :class:`FaultProxy` to
        a URL or a port; connect to ``proxy.rewrite(url)``.
    tls_certs: a :class:`TLSCerts` (a CA, good and bad server contexts),
        made once per session.

A venue's fake is imported only when a test uses its fixture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import trio

from ..venues._registry import get_venue, venue_names
from ._generic import GenericVenue
from ._proxy import FaultProxy
from ._server import FakeVenueServer
from ._tls import TLSCerts, make_tls_certs

__all__ = [
    "fake_venue",
    "fake_venue_memory",
    "fault_proxy",
    "tls_certs",
]

FaultProxyFactory = Callable[[str | int], Awaitable[FaultProxy]]


def _venue_fixtures(name: str) -> None:
    """Define ``fake_<name>`` and ``fake_<name>_memory`` in this module."""

    def new_server() -> FakeVenueServer[Any]:
        fake = get_venue(name).fake
        if fake is None:
            raise pytest.UsageError(f"venue {name!r} has no fake server yet")
        return fake.server()

    async def tcp(nursery: trio.Nursery) -> FakeVenueServer[Any]:
        server = new_server()
        await nursery.start(server.serve_tcp)
        return server

    async def memory(nursery: trio.Nursery) -> FakeVenueServer[Any]:
        server = new_server()
        await nursery.start(server.run)
        return server

    tcp.__doc__ = f"The fake {name} venue on 127.0.0.1, running in the test's nursery."
    memory.__doc__ = f"The fake {name} venue for in-memory connections."
    for suffix, function in (("", tcp), ("_memory", memory)):
        fixture_name = f"fake_{name}{suffix}"
        function.__name__ = function.__qualname__ = fixture_name
        globals()[fixture_name] = pytest.fixture(name=fixture_name)(function)
        __all__.append(fixture_name)


for _name in venue_names():
    _venue_fixtures(_name)


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


def pytest_configure(config: pytest.Config) -> None:
    """Say what to do when pytest-trio's trio mode is off (our fixtures need it).

    Without ``trio_mode = true`` every test using ``fake_binance`` & co. fails
    with pytest-trio's "Trio fixtures can only be used by Trio tests" and then
    pytest-internal errors; this names the fix up front, in the test header.
    """
    try:
        trio_mode = config.getini("trio_mode")
    except ValueError:
        trio_mode = None  # pytest-trio is not installed: its own import fails first
    if trio_mode is not None and not trio_mode:
        config.issue_config_time_warning(pytest.PytestConfigWarning(_TRIO_MODE_HINT), stacklevel=2)


_TRIO_MODE_HINT = (
    "trio_venues' fixtures (fake_binance, fake_venue, fault_proxy ...) are Trio fixtures: "
    "turn on pytest-trio's trio mode with 'trio_mode = true' under [tool.pytest.ini_options] "
    "(or [pytest] in pytest.ini), or mark each test with @pytest.mark.trio; install the "
    "test dependencies with pip install 'trio_venues[testing]'"
)
