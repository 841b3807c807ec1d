"""The small interface the session shell talks to: :class:`Transport` and what it carries.

A :class:`Transport` is one open WebSocket connection. The session never
touches sockets, TLS or frames: it calls ``receive_batch()`` in its reader
task and ``send_*``/``ping``/``pong`` from its writer and heartbeat tasks.

Contract every implementation keeps:

- ``receive_batch()`` returns one or more items decoded from the stream, in
  order: ``str`` (a text message), ``bytes`` (a binary message), :class:`Ping`
  or :class:`Pong`. Pings are **not** answered by the transport: the session
  answers them (so a venue's message-rate limit can count pongs).
- When the connection ends, ``receive_batch()`` raises :class:`TransportClosed`
  carrying the :class:`~trio_venues.reasons.DisconnectReason`: ``RemoteClosed``
  after the peer's close frame (the transport has already echoed it),
  ``ProtocolError`` after a violation (the transport has already sent its own
  close frame with 1002/1007/1009), ``NetworkError`` for EOF without a close
  frame, a reset or a broken TLS stream. Later calls raise it again.
- ``send_*``, ``ping`` and ``pong`` raise :class:`TransportClosed` once the
  connection is closing or closed.
- ``aclose(code, reason)`` runs the closing handshake (sends our close frame
  unless one was sent, waits for the peer's close frame and then EOF). It is
  not bounded: the session bounds it with ``close_timeout`` and then calls
  ``abort()``, which must close the stream at once (``trio.aclose_forcefully``).
- No exception other than :class:`TransportClosed` (and ``trio.Cancelled``)
  escapes a transport after the handshake; ``open`` raises only
  :class:`~trio_venues.errors.ConnectFailed` subclasses. The mapping of
  library and OS exceptions lives in :mod:`trio_venues._errmap`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

import attrs
import trio

from .reasons import DisconnectReason

if TYPE_CHECKING:
    from ._config import ConnectionConfig

__all__ = [
    "Ping",
    "Pong",
    "Transport",
    "TransportClosed",
    "TransportFactory",
    "TransportItem",
]


@attrs.frozen
class Ping:
    """A ping frame from the peer."""

    payload: bytes


@attrs.frozen
class Pong:
    """A pong frame from the peer."""

    payload: bytes


TransportItem: TypeAlias = str | bytes | Ping | Pong


class TransportClosed(Exception):
    """Raised by a transport once its connection has ended; carries the reason."""

    def __init__(self, reason: DisconnectReason) -> None:
        super().__init__(repr(reason))
        self.reason = reason


@runtime_checkable
class Transport(Protocol):
    """One open WebSocket connection (see the module docstring for the contract)."""

    @property
    def subprotocol(self) -> str | None:
        """The negotiated subprotocol."""
        ...

    @property
    def extensions(self) -> tuple[str, ...]:
        """The negotiated extensions, by name."""
        ...

    async def receive_batch(self) -> list[TransportItem]:
        """Wait for and return at least one item."""
        ...

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        ...

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        ...

    async def ping(self, payload: bytes) -> None:
        """Send a ping frame (payload at most 125 bytes)."""
        ...

    async def pong(self, payload: bytes) -> None:
        """Send a pong frame (payload at most 125 bytes)."""
        ...

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Run the closing handshake (unbounded: the caller bounds it)."""
        ...

    async def abort(self) -> None:
        """Close the underlying stream at once, without a handshake."""
        ...


#: ``await factory(nursery, url, config)`` opens a transport. The nursery is the
#: connection's own; a transport may start helper tasks in it (trio-websocket does).
TransportFactory: TypeAlias = Callable[
    [trio.Nursery, str, "ConnectionConfig"], Awaitable[Transport]
]
