"""The venue registry, and the pytest fixtures the plugin makes from it."""

from __future__ import annotations

from typing import Any

import pytest

from trio_venues.errors import ConfigError
from trio_venues.testing import FakeVenueServer, plugin
from trio_venues.venues import _registry
from trio_venues.venues._registry import VenueEntry, get_venue, register_venue, venue_names


def test_builtin_venues_are_registered() -> None:
    """Binance and the generic venue are registered, sorted by name."""
    names = venue_names()
    assert {"binance", "generic"} <= set(names)
    assert list(names) == sorted(names)


@pytest.mark.parametrize("name", venue_names())
def test_every_entry_is_complete(name: str) -> None:
    """Each entry loads under its own name, with its default endpoint and valid examples."""
    entry = get_venue(name)
    assert isinstance(entry, VenueEntry)
    assert entry.name == name
    assert entry.client() is entry.clients[entry.default_endpoint]
    assert entry.topics.examples
    assert all(entry.topics.is_valid(t) for t in entry.topics.examples)
    if entry.fake is not None:
        assert entry.fake.endpoint in entry.clients
        assert entry.topics.is_valid(entry.fake.data_topic)


def test_unknown_venue_and_endpoint_are_config_errors() -> None:
    """An unknown venue or endpoint names what is known."""
    with pytest.raises(ConfigError, match=r"unknown venue 'nowhere' \(known: binance"):
        get_venue("nowhere")
    with pytest.raises(
        ConfigError, match=r"binance has no endpoint 'nope' \(known: api, streams\)"
    ):
        get_venue("binance").client("nope")


def test_register_venue_refuses_a_taken_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party venue registers by module; a name taken by another module is refused."""
    monkeypatch.setattr(_registry, "_modules", dict(_registry._modules))
    register_venue("binance", "trio_venues.venues.binance._venue")  # the same: fine
    with pytest.raises(ConfigError, match="already registered"):
        register_venue("binance", "elsewhere")
    register_venue("elsewhere", "tests.testing.test_registry")
    with pytest.raises(ConfigError, match="is not the VenueEntry of 'elsewhere'"):
        get_venue("elsewhere")


VENUE = "not an entry"  # what test_register_venue_refuses_a_taken_name loads


@pytest.mark.parametrize("name", venue_names())
def test_plugin_defines_two_fixtures_per_venue(name: str) -> None:
    """fake_<venue> and fake_<venue>_memory exist for every registered venue."""
    assert f"fake_{name}" in plugin.__all__
    assert f"fake_{name}_memory" in plugin.__all__


async def test_registry_fixtures_serve(
    fake_generic: FakeVenueServer[Any],
    fake_generic_memory: FakeVenueServer[Any],
    fake_binance_memory: FakeVenueServer[Any],
) -> None:
    """The generated fixtures are running fakes: TCP on 127.0.0.1, or memory only."""
    assert fake_generic.port is not None
    assert fake_generic.url.startswith("ws://127.0.0.1:")
    assert fake_generic_memory.port is None
    assert fake_binance_memory.running
    assert fake_binance_memory.behaviour.name == "binance"
