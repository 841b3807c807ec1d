"""Coinbase's endpoints and connect options, without connecting."""

from __future__ import annotations

import pytest

from trio_venues.errors import ConfigError
from trio_venues.venues.coinbase import MARKET_URL, USER_URL, Coinbase


def test_endpoints_and_default() -> None:
    """market is the default; user is the user-order-data endpoint; url= wins as the address."""
    assert Coinbase.resolve_endpoint(None, None) == ("market", MARKET_URL)
    assert Coinbase.resolve_endpoint(None, "user") == ("user", USER_URL)
    assert MARKET_URL == "wss://advanced-trade-ws.coinbase.com"
    assert USER_URL == "wss://advanced-trade-ws-user.coinbase.com"
    assert Coinbase.resolve_endpoint("ws://127.0.0.1:1/user", "user") == (
        "user",
        "ws://127.0.0.1:1/user",
    )


def test_unknown_endpoint_is_a_config_error() -> None:
    """An endpoint Coinbase does not have is refused before anything is opened."""
    with pytest.raises(ConfigError, match="no endpoint 'private'"):
        Coinbase.connect(endpoint="private")


def test_bad_keepalive_options() -> None:
    """heartbeat_timeout must be positive (checked when the core is made)."""
    with pytest.raises(ConfigError, match="heartbeat_timeout"):
        Coinbase.connect("ws://127.0.0.1:1/", heartbeat_timeout=0)
