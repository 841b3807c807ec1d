"""permessage-deflate (RFC 7692), client side, sans-I/O: negotiation and inflation.

What we offer: ``permessage-deflate; client_max_window_bits`` (RFC 7692 7.1.2.2:
"the client supports limiting its LZ77 window"). What we accept back from the
server: ``server_no_context_takeover``, ``client_no_context_takeover``,
``server_max_window_bits=8..15`` and ``client_max_window_bits=8..15``, each at
most once. Anything else fails the handshake (7.1: a client MUST fail the
connection on a response it cannot accept).

**We inflate; we never deflate.** RFC 7692 section 6 lets an endpoint send
any message uncompressed (RSV1 clear), and a market-data client sends a few
small requests, so compressing them would cost CPU and a 256 KiB zlib state
per connection for nothing. It also makes ``client_no_context_takeover`` and
``client_max_window_bits`` trivially honoured (we keep no compression
context at all) and sidesteps zlib's missing support for an 8-bit
compression window.

Inflation uses a 15-bit window whatever ``server_max_window_bits`` says: a
decoder with a larger window decodes anything a smaller-window encoder
produced. With ``server_no_context_takeover`` (or after a final block), each
message starts from a fresh decompressor.

The decompressed size of a message is capped by the caller (``limit``) so a
decompression bomb fails with 1009 after producing at most ``limit + 1``
bytes, never after inflating the whole thing.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import attrs

__all__ = [
    "EXTENSION_NAME",
    "DeflateFailure",
    "DeflateParams",
    "Inflater",
    "NegotiationError",
    "accept_response",
    "client_offer",
]

#: The extension token (RFC 7692 section 7).
EXTENSION_NAME = "permessage-deflate"

# RFC 7692 7.2.2: the sender strips these four bytes (an empty stored block)
# from the end of each compressed message; the receiver appends them again.
_TAIL = b"\x00\x00\xff\xff"

# RFC 7692 7.1.2: window bits are 8..15.
_MIN_WINDOW_BITS = 8
_MAX_WINDOW_BITS = 15


class NegotiationError(ValueError):
    """The server's permessage-deflate response is not one we can accept."""


class DeflateFailure(Exception):
    """A compressed message could not be inflated; ``close_code`` is what to send.

    1009 when the message inflates beyond its limit (a decompression bomb),
    1007 when the compressed data is invalid. The frame decoder catches this
    and turns it into its protocol-failure outcome; it never reaches a user.
    """

    def __init__(self, close_code: int, details: str) -> None:
        super().__init__(details)
        self.close_code = close_code
        self.details = details


@attrs.frozen
class DeflateParams:
    """The parameters the server accepted (RFC 7692 section 7.1)."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None


def client_offer() -> str:
    """Return our ``Sec-WebSocket-Extensions`` offer."""
    return f"{EXTENSION_NAME}; client_max_window_bits"


def _window_bits(name: str, value: str | None) -> int:
    # RFC 7692 7.1.2.1/7.1.2.2: 1*DIGIT, 8..15, no leading zeros; in a response
    # both window-bits parameters must carry a value.
    # At most two ASCII digits: int() of a 5,000-digit (or Unicode-digit) value
    # would raise its own ValueError, and 8..15 never needs more.
    if value is None:
        raise NegotiationError(f"{name} in the server's response has no value")
    if (
        not 0 < len(value) <= 2
        or not value.isascii()
        or not value.isdigit()
        or (len(value) > 1 and value.startswith("0"))
    ):
        raise NegotiationError(f"{name}={_excerpt(value)} is not a number in 8..15")
    bits = int(value)
    if not _MIN_WINDOW_BITS <= bits <= _MAX_WINDOW_BITS:
        raise NegotiationError(f"{name}={bits} is outside 8..15")
    return bits


def _excerpt(value: str, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters: a hostile header can be megabytes."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def accept_response(params: Sequence[tuple[str, str | None]]) -> DeflateParams:
    """Validate the server's permessage-deflate parameters.

    Args:
        params: the (name, value or None) pairs of the one ``permessage-deflate``
            element in the response's ``Sec-WebSocket-Extensions``.

    Returns:
        The accepted parameters.

    Raises:
        NegotiationError: an unknown, duplicated or out-of-range parameter.
    """
    seen: set[str] = set()
    server_nct = client_nct = False
    server_bits: int | None = None
    client_bits: int | None = None
    for raw_name, value in params:
        name = raw_name.lower()
        if name in seen:
            raise NegotiationError(f"parameter {name} appears twice")
        seen.add(name)
        if name == "server_no_context_takeover":
            if value is not None:
                raise NegotiationError("server_no_context_takeover must not have a value")
            server_nct = True
        elif name == "client_no_context_takeover":
            if value is not None:
                raise NegotiationError("client_no_context_takeover must not have a value")
            client_nct = True
        elif name == "server_max_window_bits":
            server_bits = _window_bits(name, value)
        elif name == "client_max_window_bits":
            client_bits = _window_bits(name, value)
        else:
            raise NegotiationError(f"unknown parameter {_excerpt(raw_name)}")
    return DeflateParams(
        server_no_context_takeover=server_nct,
        client_no_context_takeover=client_nct,
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
    )


class Inflater:
    """Inflates the compressed messages of one connection, with a size cap per message."""

    def __init__(self, params: DeflateParams) -> None:
        self._reset_each_message = params.server_no_context_takeover
        self._inflate = zlib.decompressobj(wbits=-_MAX_WINDOW_BITS)

    def decompress(self, data: bytes, limit: int, final: bool) -> bytes:
        """Inflate the next piece of a compressed message.

        Args:
            data: compressed payload bytes, in order (a whole frame or a part).
            limit: how many more decompressed bytes this message may produce.
            final: ``data`` ends the message (the RFC 7692 tail is appended here).

        Returns:
            The decompressed bytes (at most ``limit``).

        Raises:
            DeflateFailure: 1009 over ``limit``, 1007 for invalid data.
        """
        inflate = self._inflate
        try:
            # Ask for one byte more than allowed: getting it proves the bomb.
            out = inflate.decompress(data, limit + 1)
            if len(out) > limit or inflate.unconsumed_tail:
                raise DeflateFailure(1009, f"a compressed message inflates beyond {limit} bytes")
            if not final:
                if inflate.eof and len(inflate.unused_data) > len(_TAIL):
                    raise DeflateFailure(1007, "compressed data continues after its final block")
                return out
            room = limit - len(out)
            rest = inflate.decompress(_TAIL, room + 1)
            if len(rest) > room or inflate.unconsumed_tail:
                raise DeflateFailure(1009, f"a compressed message inflates beyond {limit} bytes")
        except zlib.error as exc:
            raise DeflateFailure(1007, f"invalid compressed data: {exc}") from None
        if inflate.eof:
            # A final block ended the stream; only our own tail may follow it.
            if inflate.unused_data not in (b"", _TAIL):
                raise DeflateFailure(1007, "compressed data continues after its final block")
            self._inflate = zlib.decompressobj(wbits=-_MAX_WINDOW_BITS)
        elif self._reset_each_message:
            self._inflate = zlib.decompressobj(wbits=-_MAX_WINDOW_BITS)
        return out + rest if rest else out
