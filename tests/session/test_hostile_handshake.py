"""Hostile handshake headers: only typed errors come out of connect(), never ValueError."""

from __future__ import annotations

import math
from typing import Any

import pytest

from trio_venues.errors import HandshakeRejected
from trio_venues.testing import AcceptWith, FakeVenueServer

from ._helpers import connect

Server = FakeVenueServer[Any]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9" * 400, math.inf),  # float(int(...)) overflowed: OverflowError
        ("9" * 5000, math.inf),  # int() refuses over 4,300 digits: ValueError
        ("1" * 15, 111_111_111_111_111.0),
        ("\u00b9\u00b2", None),  # superscript digits: isdigit(), yet int() refuses them
        ("Sun, 06 Nov 99999 08:49:37 GMT", None),
    ],
    ids=["400-digits", "5000-digits", "15-digits", "superscript-digits", "year-99999"],
)
async def test_absurd_retry_after_is_a_typed_rejection(
    server: Server, kind: str, value: str, expected: float | None
) -> None:
    """A Retry-After of 400 or 5,000 digits (or not ASCII) still gives HandshakeRejected."""
    server.reject(429, headers=[("Retry-After", value)])
    with pytest.raises(HandshakeRejected) as info:
        async with connect(server, kind):
            pytest.fail("connected")
    assert info.value.status == 429
    assert info.value.retry_after == expected
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    "extension",
    [
        "permessage-deflate; server_max_window_bits=" + "9" * 5000,
        "permessage-deflate; client_max_window_bits=" + "1" * 5000,
        "permessage-deflate; server_max_window_bits=\u00b9\u00b2",
        "permessage-deflate; " + "x" * 5000 + "=1",
    ],
    ids=["5000-digit-server-bits", "5000-digit-client-bits", "superscript-digits", "long-name"],
)
async def test_absurd_extension_parameter_is_a_typed_rejection(
    server: Server, extension: str
) -> None:
    """A Sec-WebSocket-Extensions parameter of 5,000 digits fails the handshake as 101."""
    server.fail_handshakes(AcceptWith([("Sec-WebSocket-Extensions", extension)]))
    with pytest.raises(HandshakeRejected) as info:
        async with connect(server, "default"):
            pytest.fail("connected")
    assert info.value.status == 101
    # The message names the problem without repeating 5,000 characters.
    assert "permessage-deflate" in str(info.value)
    assert len(str(info.value)) < 1000
