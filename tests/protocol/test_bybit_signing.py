"""Bybit auth: the signature reproduces the computed vector; expires is ms in the future."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trio_venues.venues.bybit import (
    DEFAULT_AUTH_HEADROOM,
    auth_args,
    auth_expires,
    auth_payload,
    auth_signature,
)

DATA = Path(__file__).parent / "data" / "bybit"


def test_signature_reproduces_the_computed_vector() -> None:
    """HMAC-SHA256 over "GET/realtime" + expires gives the sample's hex signature."""
    vector = json.loads((DATA / "auth_signature_vector_computed.json").read_text())
    assert auth_payload(vector["expires"]) == vector["payload"].encode()
    assert auth_signature(vector["api_secret"], vector["expires"]) == vector["signature"]
    assert auth_signature(vector["api_secret"].encode(), vector["expires"]) == vector["signature"]


def test_auth_args_are_key_expires_signature_with_expires_a_number() -> None:
    """args are [api_key, expires (an int, sent as a JSON number), signature]."""
    args = auth_args("api_key", "test_api_secret", 1662350400000)
    assert args == [
        "api_key",
        1662350400000,
        "9fdcbff517a9fd5229146395268c07e17122696b9d48c6a81225b15d98b2b335",
    ]
    sample = json.loads((DATA / "auth_request.json").read_text())
    assert isinstance(sample["args"][1], int)
    assert json.dumps(args).split(",")[1].strip() == "1662350400000"


def test_expires_is_wall_time_plus_headroom_in_milliseconds() -> None:
    """expires = (wall time + headroom) in integer ms; the default headroom is 5 s."""
    assert DEFAULT_AUTH_HEADROOM == 5.0
    assert auth_expires(1662350395.0) == 1662350400000
    assert auth_expires(1662350399.25, headroom=0.75) == 1662350400000
    assert auth_expires(1_000.0, headroom=10) == 1_010_000


@pytest.mark.parametrize("headroom", [0, -1.0, float("nan")])
def test_headroom_must_be_positive(headroom: float) -> None:
    """A zero, negative or NaN headroom is refused (the stamp would already be due)."""
    with pytest.raises(ValueError, match="headroom"):
        auth_expires(1.0, headroom)


@pytest.mark.parametrize("expires", [0, -5, True, "1662350400000"])
def test_expires_must_be_positive_integer_ms(expires: object) -> None:
    """expires must be a positive int; strings and bools are refused."""
    with pytest.raises(ValueError, match="expires"):
        auth_payload(expires)  # type: ignore[arg-type]


def test_api_key_must_be_given() -> None:
    """An empty api_key is refused before anything is signed."""
    with pytest.raises(ValueError, match="api_key"):
        auth_args("", "secret", 1)
