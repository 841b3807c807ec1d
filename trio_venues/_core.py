"""The sans-I/O venue core: what each venue implements, and what the shell expects of it.

A venue core never imports trio and never does I/O. It turns received
text/bytes into outputs and builds the frames the shell sends. Time, when a
core needs it, is an argument (``now``), never read from a clock.

Outputs of :meth:`VenueCore.decode` (any mix, in order):

- an :class:`~trio_venues.events.Event` (``Message``, ``ErrorEvent``,
  ``GapDetected``, ``Authenticated`` ...): delivered to ``ws.events`` as is;
- :class:`Response`: the reply to a request the shell sent (subscriptions are
  requests too); the shell routes it to the waiting caller by ``request_id``;
- :class:`VenuePing`: the venue pinged at application level; the shell sends
  ``reply`` (through the rate limiter) and emits ``PingReceived(level="venue")``;
- :class:`VenuePong`: the answer to our application-level ping;
- :class:`EndConnection`: the venue announced the end (e.g. Binance
  ``serverShutdown``); the shell closes with 1000 and ``Disconnected(reason)``;
- :class:`UsageReport`: the venue reported limit usage; the shell updates
  the rate limiter.

A message the core cannot decode raises :class:`~trio_venues.errors.DecodeError`;
under the default ``message_policy="report"`` the shell turns it into an
``ErrorEvent`` and carries on.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from .errors import VenueError
from .events import Event, Message
from .reasons import DisconnectReason, RemoteClosed

if TYPE_CHECKING:
    from ._ratelimit import VenueLimits

__all__ = [
    "EndConnection",
    "Output",
    "RawCore",
    "RequestId",
    "Response",
    "UsageReport",
    "VenueCore",
    "VenuePing",
    "VenuePong",
]

RequestId: TypeAlias = int | str


@attrs.frozen
class Response:
    """A reply to one of our requests: ``result`` on success, ``error`` otherwise."""

    request_id: RequestId
    result: Any = None
    error: VenueError | None = None


@attrs.frozen
class VenuePing:
    """An application-level ping from the venue; ``reply`` is what to send back."""

    payload: bytes
    reply: str | bytes | None


@attrs.frozen
class VenuePong:
    """An application-level pong, answering our venue-level ping."""

    payload: bytes


@attrs.frozen
class EndConnection:
    """The venue announced that this connection ends (restart, shutdown, revoked session)."""

    reason: DisconnectReason


@attrs.frozen
class UsageReport:
    """The venue reported its view of a limit: ``used`` of ``limit`` per ``window`` seconds."""

    kind: str
    used: float
    limit: float
    window: float


Output: TypeAlias = Event | Response | VenuePing | VenuePong | EndConnection | UsageReport


class VenueCore:
    """Base class of the sans-I/O venue cores, with the generic behaviour as defaults.

    Subclasses override what their venue does differently. A core instance
    belongs to one connection (it may keep per-connection state, such as
    request ids or sequence numbers).
    """

    #: short venue name used in logs and limiter keys
    name: str = "raw"
    #: the most topics one subscribe/unsubscribe request may carry
    max_topics_per_request: int = 1024
    #: seconds between application-level pings (``None``: the venue has none)
    venue_ping_interval: float | None = None
    #: the venue's published limits; the session enforces them (``None``: none)
    limits: VenueLimits | None = None

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    # -- incoming -------------------------------------------------------------

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        """Turn one received message into outputs (see the module docstring)."""
        return (Message(None, data, received_at),)

    # -- outgoing ---------------------------------------------------------------

    def next_request_id(self) -> RequestId:
        """A new id, unique on this connection, in the venue's format."""
        return next(self._ids)

    def encode_subscribe(self, topics: Sequence[str], request_id: RequestId) -> str | bytes:
        """The frame that subscribes to ``topics``."""
        raise VenueError(None, f"venue {self.name!r} has no subscriptions")

    def encode_unsubscribe(self, topics: Sequence[str], request_id: RequestId) -> str | bytes:
        """The frame that unsubscribes from ``topics``."""
        raise VenueError(None, f"venue {self.name!r} has no subscriptions")

    def encode_request(self, method: str, params: Any, request_id: RequestId) -> str | bytes:
        """The frame for a generic request."""
        raise VenueError(None, f"venue {self.name!r} has no request/response API")

    def venue_ping(self, now: float) -> str | bytes | None:
        """The application-level ping frame to send now, if the venue uses one."""
        return None

    # -- lifecycle --------------------------------------------------------------

    def initial_topics(self, url: str) -> tuple[str, ...]:
        """Topics already subscribed by the URL itself (e.g. Binance's ``?streams=``)."""
        return ()

    def classify_close(self, code: int, reason: str) -> DisconnectReason:
        """The reason for a close frame from the server; venues override per code."""
        return RemoteClosed(code, reason)


class RawCore(VenueCore):
    """The venue-less core of :class:`~trio_venues.RawWebSocket`: messages pass through."""

    name = "raw"
