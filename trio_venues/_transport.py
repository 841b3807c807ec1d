"""The transport dispatcher: a ``transport=`` setting to the code that opens it.

The interface itself (:class:`Transport`, :class:`Ping`, :class:`Pong`,
:class:`TransportClosed`) lives in :mod:`trio_venues._transport_types`, which
the transports import; this module imports the transports, so nothing here
is circular. The names of the interface are re-exported for existing imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from ._fastws import open_fast_transport, open_fast_transport_over_stream
from ._transport_types import Ping as Ping
from ._transport_types import Pong as Pong
from ._transport_types import Transport as Transport
from ._transport_types import TransportClosed as TransportClosed
from ._transport_types import TransportFactory as TransportFactory
from ._transport_types import TransportItem as TransportItem
from ._tws import open_trio_websocket_transport, wrap_trio_websocket

if TYPE_CHECKING:
    from ._config import ConnectionConfig

__all__ = [
    "Ping",
    "Pong",
    "Transport",
    "TransportClosed",
    "TransportFactory",
    "TransportItem",
    "open_transport_over_stream",
    "resolve_transport",
]


def resolve_transport(spec: str | TransportFactory) -> TransportFactory:
    """Turn a ``transport=`` config value into a factory."""
    if not isinstance(spec, str):
        return spec
    if spec in ("default", "fast"):
        fast: TransportFactory = open_fast_transport
        return fast
    if spec == "trio-websocket":
        return open_trio_websocket_transport
    raise ValueError(f"unknown transport {spec!r}; use 'default', 'fast' or 'trio-websocket'")


async def open_transport_over_stream(
    kind: str,
    nursery: trio.Nursery,
    stream: trio.abc.Stream,
    url: str,
    config: ConnectionConfig,
) -> Transport:
    """Run the client handshake of transport ``kind`` over an already open ``stream``.

    This is how in-memory tests (``trio.testing.memory_stream_pair``) and
    the fake venues connect a real client without a socket.
    """
    if kind in ("default", "fast"):
        transport: Transport = await open_fast_transport_over_stream(stream, url, config)
        return transport
    if kind == "trio-websocket":
        return await wrap_trio_websocket(nursery, stream, url, config)
    raise ValueError(f"unknown transport {kind!r}; use 'default', 'fast' or 'trio-websocket'")
