"""ConnectionConfig validation and option merging."""

from __future__ import annotations

from typing import Any

import pytest

from trio_venues import ConnectionConfig, RawWebSocket
from trio_venues.errors import ConfigError


def test_defaults_match_the_documented_bar() -> None:
    """Defaults follow RELIABILITY.md 2.6: 10 s open, 5 s close, ping 20 s / pong 20 s."""
    config = ConnectionConfig()
    assert config.connect_timeout == 10.0
    assert config.close_timeout == 5.0
    assert config.ping_interval == 20.0
    assert config.pong_timeout == 20.0
    assert config.overflow_policy == "block"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("connect_timeout", 0),
        ("close_timeout", -1),
        ("event_buffer", 0),
        ("max_message_size", 1.5),
        ("overflow_policy", "drop"),
        ("message_policy", "lenient"),
        ("transport", "tcp"),
        ("backpressure_threshold", 1.5),
        ("topic_overflow", {"t": "keep"}),
        ("rate_limit_policy", {"messages": "queue"}),
    ],
)
def test_invalid_values_raise_config_error(field: str, value: object) -> None:
    """Each invalid value is refused at construction with the field named."""
    options: dict[str, Any] = {field: value}
    with pytest.raises(ConfigError, match=field.split("_")[0]):
        ConnectionConfig(**options)


def test_unknown_option_lists_valid_names() -> None:
    """connect() with an unknown option raises TypeError naming the valid ones."""
    with pytest.raises(TypeError, match="valid options are: url, transport"):
        RawWebSocket.connect("ws://127.0.0.1:1/", ping_intervall=3)


def test_build_merges_config_url_and_options() -> None:
    """Keyword options override the config object, and url overrides config.url."""
    base = ConnectionConfig(url="ws://a/", ping_interval=5.0, headers={"X-A": "1"})
    merged = ConnectionConfig.build(base, "ws://b/", {"pong_timeout": 3.0})
    assert merged.url == "ws://b/"
    assert merged.ping_interval == 5.0
    assert merged.pong_timeout == 3.0
    assert merged.headers == (("X-A", "1"),)
