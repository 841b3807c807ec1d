"""The sans-I/O venue core: what each venue implements, and what the shell does with it.

A venue core never imports trio and never does I/O. It turns received
text/bytes into outputs, builds the frames the shell sends, and may keep
timers of its own. Time is always an argument, never read from a clock.
A core instance belongs to one connection (it may keep per-connection state:
request ids, sequence numbers, pending acks).

**What the shell calls, and when** (``open_connection`` in ``_session.py``):

1. ``initial_topics(url)`` when the connection object is made: topics the
   URL itself subscribes to (they start in ``ws.subscriptions``).
2. After the WebSocket handshake, ``encode_login(request_id, ctx)``. A frame
   means "log on first": the shell sends it (charged as the ``"login"``
   operation) and waits for its :class:`Response` before anything else is
   sent and before ``connect()`` yields. An error response, or no response
   within ``request_timeout``, raises
   :class:`~trio_venues.errors.AuthenticationError` out of ``connect()``
   (the connection is closed). On success the shell emits
   :class:`~trio_venues.events.Authenticated` with
   ``login_details(result)`` (by default the result when it is a mapping; a
   core must never put a secret in it). ``None`` (the default): no log-on.
   The shell takes a request id for the call either way, so ids may start
   at 2. Each new connection logs on again, so ``retry_scope`` replays the
   log-on by reconnecting.
3. ``on_open(ctx)`` once, right after the log-on (or the handshake): its
   outputs are handled like ``decode``'s (e.g. a :class:`SendFrame` that
   subscribes the channel a venue insists on within seconds of connecting),
   and its frames are sent before ``connect()`` yields. ``SendFrame``s that
   ``decode`` returns before this point wait, and the core's timer starts
   only now: nothing but the log-on goes out before the log-on's ack, keepalive
   aside (pongs, replies to venue pings, and ``venue_ping`` frames when
   their interval comes round).
4. ``decode(data, received_at)`` for every received message, in order.
5. ``split_topics(op, topics)`` then ``encode_subscribe``/``encode_unsubscribe``
   per batch for ``ws.subscribe``/``ws.unsubscribe``; ``encode_request`` for
   ``ws.request``. Every ``encode_*`` gets a fresh :class:`SendContext`.
6. ``next_timer()`` after ``on_open``, after each ``on_timer`` and after any
   ``decode`` whose outputs were more than events; when that time comes (on
   the shell's clock, ``trio.current_time()``) the shell calls
   ``on_timer(ctx)`` and handles its outputs. ``None``: no timer.
7. ``venue_ping(now)`` every ``venue_ping_interval`` seconds.
8. ``classify_close(code, reason)`` when the server closes.

**Outputs** of ``decode``, ``on_open`` and ``on_timer`` (any mix, in order):

- an :class:`~trio_venues.events.Event` (``Message``, ``ErrorEvent``,
  ``GapDetected``, ``Authenticated`` ...): delivered to ``ws.events`` as is;
- :class:`Response`: the outcome of one request the shell sent (subscriptions
  and the log-on are requests too), routed to the waiting caller by
  ``request_id``. For a subscribe/unsubscribe it says which topics the venue
  accepted and which it refused (see :class:`Response`). A core may merge
  several venue acks into one ``Response`` (OKX acks each argument: keep
  them until the request is complete), or match acks that carry no id by
  order or content and fill in ``request_id`` itself (Coinbase);
- :class:`SendFrame`: send this frame now, unprompted; it passes the rate
  limiter like any other frame (charged as its ``operation``);
- :class:`VenuePing`: the venue pinged at application level; the shell sends
  ``reply`` (through the rate limiter) and emits ``PingReceived(level="venue")``;
- :class:`VenuePong`: the answer to our application-level ping;
- :class:`EndConnection`: this connection cannot go on (a revoked session,
  a venue that stopped answering); the shell closes with 1000 and
  ``Disconnected(reason)``;
- :class:`PlannedShutdown`: the venue announced a planned end (Binance
  ``serverShutdown``, OKX notice 64008, Bybit ``system.status``
  maintenance). Under the connect option ``shutdown_notice="disconnect"``
  (the default) the shell ends the connection as for ``EndConnection`` when
  the notice is about this connection, and does nothing more for a
  venue-wide one; under ``"event"`` it queues a
  :class:`~trio_venues.events.ShutdownNotice` and the connection stays open
  until the venue closes it (a helper can open the replacement first);
- :class:`UsageReport`: the venue reported limit usage; the shell updates
  the rate limiter.

A message the core cannot decode raises :class:`~trio_venues.errors.DecodeError`;
under the default ``message_policy="report"`` the shell turns it into an
``ErrorEvent`` and carries on. An ``encode_*`` that raises (a bad topic name,
missing credentials) fails the caller's operation with that exception;
nothing is sent.

**Feeds across connections** (for helpers that keep several connections:
make-before-break rotation, redundant copies, sharding): ``topic_ids(topic)``
says how to read the venue's ids of a topic's messages (see
:mod:`trio_venues._identity`), ``max_connection_age`` when the venue cuts
every connection, and ``connection_fits(topics)`` whether one connection
may carry a set of topics.

**Limits.** ``limits`` (a :class:`~trio_venues.ratelimit.VenueLimits`) is the
one source of the venue's limits and per-operation costs: the shell charges
every frame before sending it, and the default :meth:`VenueCore.split_topics`
batches under its ``topics_per_request`` cap and ``max_request_bytes``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from ._identity import TopicIds
from .errors import ConfigError, VenueError
from .events import Event, Message
from .reasons import DisconnectReason, RemoteClosed

if TYPE_CHECKING:
    from ._ratelimit import VenueLimits
    from .credentials import Credentials

__all__ = [
    "EndConnection",
    "Output",
    "PlannedShutdown",
    "RawCore",
    "RequestId",
    "Response",
    "SendContext",
    "SendFrame",
    "TopicsEnded",
    "UsageReport",
    "VenueCore",
    "VenuePing",
    "VenuePong",
    "batch_topics",
    "credentials_of",
    "topic_bytes",
]

RequestId: TypeAlias = int | str


def _topics(topics: Iterable[str]) -> tuple[str, ...]:
    if isinstance(topics, str):
        raise TypeError("topics must be a sequence of topic names, not one str")
    return tuple(topics)


def _optional_topics(topics: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if topics is None else _topics(topics)


def _refusals(
    refused: Iterable[tuple[str, VenueError]],
) -> tuple[tuple[str, VenueError], ...]:
    return tuple((topic, error) for topic, error in refused)


@attrs.frozen
class SendContext:
    """What a core may need to build a frame: the time and the connection's credentials.

    Attributes:
        now: ``trio.current_time()`` (the shell's monotonic clock, seconds);
            compare it with ``received_at`` and with ``next_timer()``.
        wall_time: seconds since the epoch (a float): for signatures, JWT
            ``nbf``/``exp``, Bybit's ``expires``. Tests may pass a virtual one.
        credentials: the :class:`~trio_venues.credentials.Credentials` given to
            ``connect()``, or ``None``.
    """

    now: float
    wall_time: float
    credentials: Credentials | None = None


@attrs.frozen
class Response:
    """The outcome of one of our requests.

    Attributes:
        request_id: the id the shell sent the request with.
        result: the venue's result on success.
        error: the venue's error. With neither ``accepted`` nor ``refused``
            given it refuses the whole request (every topic of a subscribe).
        accepted: for a subscribe/unsubscribe, the topics (spelled as in the
            request) the venue acknowledged; ``None`` means all of the
            request's topics when ``error`` is ``None``, none otherwise.
            Topics that were not in the request are ignored.
        refused: ``((topic, VenueError), ...)``: topics the venue refused,
            each with its own error. Topics of the request in neither list
            count as refused with ``error`` (or a generic error).
    """

    request_id: RequestId
    result: Any = None
    error: VenueError | None = None
    accepted: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_topics)
    refused: tuple[tuple[str, VenueError], ...] = attrs.field(default=(), converter=_refusals)


@attrs.frozen
class SendFrame:
    """Send ``payload`` now (text for ``str``, binary for ``bytes``), through the rate limiter.

    Attributes:
        payload: the frame.
        operation: what the frame is, for the venue's per-operation costs
            (``"message"``, ``"subscribe"``, ``"unsubscribe"``, ``"login"``,
            ``"request"``, ``"ping"``); see ``VenueLimits.costs``.
        request_id: when the frame is a request whose :class:`Response` the
            shell should track (a core subscribing on its own), its id;
            ``None``: fire and forget.
        topics: the topics of a subscribe/unsubscribe sent this way, so its
            ``Response`` updates ``ws.subscriptions`` exactly as
            ``ws.subscribe`` would (with ``Subscribed``/``Unsubscribed``).

    The frame waits for the limiter (it is never refused); it goes out after
    frames already queued.
    """

    payload: str | bytes
    operation: str = "message"
    request_id: RequestId | None = None
    topics: tuple[str, ...] = attrs.field(default=(), converter=_topics)


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
class PlannedShutdown:
    """The venue announced a planned end: a restart, an upgrade, a maintenance.

    Attributes:
        reason: what the connection ends with when the shell ends it (a
            :class:`~trio_venues.reasons.ServerRequested`), also the reason of
            the :class:`~trio_venues.events.ShutdownNotice`.
        deadline: when the venue said it will close (``received_at`` units,
            ``trio.current_time()``), or ``None`` when it gave no time
            (Binance ``serverShutdown``).
        this_connection: ``True`` when the notice is about this connection;
            ``False`` for a notice about the venue's service (Bybit
            ``system.status`` maintenance, read on a connection of its own),
            which never ends the connection it arrived on.
    """

    reason: DisconnectReason
    deadline: float | None = None
    this_connection: bool = True


@attrs.frozen
class TopicsEnded:
    """The venue ended subscriptions by itself (Binance ``eventStreamTerminated``).

    The shell removes ``topics`` from ``ws.subscriptions`` (when there) and
    delivers ``Unsubscribed``, so ``retry_scope`` does not replay them: a
    subscription the venue ended is subscribed again only when asked.
    """

    topics: tuple[str, ...] = attrs.field(converter=_topics)


@attrs.frozen
class UsageReport:
    """The venue reported its view of a limit: ``used`` of ``limit`` per ``window`` seconds."""

    kind: str
    used: float
    limit: float
    window: float


Output: TypeAlias = (
    Event
    | Response
    | SendFrame
    | VenuePing
    | VenuePong
    | EndConnection
    | PlannedShutdown
    | TopicsEnded
    | UsageReport
)


def topic_bytes(topic: str) -> int:
    """What one topic adds to a request's size: its UTF-8 length plus 3 (quotes and a comma)."""
    return len(topic.encode()) + 3


def batch_topics(
    topics: Sequence[str], max_count: int | None, max_bytes: int | None
) -> list[tuple[str, ...]]:
    """Split ``topics`` into batches (order kept) under a count and a size limit.

    A batch holds at most ``max_count`` topics and at most ``max_bytes`` of
    :func:`topic_bytes`; ``None`` means no limit. A topic that alone exceeds
    ``max_bytes`` gets a batch of its own (the venue then refuses it, which
    says more than a local error could).
    """
    batches: list[tuple[str, ...]] = []
    current: list[str] = []
    size = 0
    for topic in topics:
        cost = topic_bytes(topic)
        full = max_count is not None and len(current) >= max_count
        too_big = max_bytes is not None and current and size + cost > max_bytes
        if full or too_big:
            batches.append(tuple(current))
            current, size = [], 0
        current.append(topic)
        size += cost
    if current:
        batches.append(tuple(current))
    return batches


class VenueCore:
    """Base class of the sans-I/O venue cores, with the generic behaviour as defaults.

    Subclasses override what their venue does differently (see the module
    docstring for when the shell calls each method).
    """

    #: short venue name used in logs and limiter keys
    name: str = "raw"
    #: seconds between application-level pings (``None``: the venue has none)
    venue_ping_interval: float | None = None
    #: the venue's published limits and per-operation costs; the session
    #: enforces them and ``split_topics`` batches under them (``None``: none)
    limits: VenueLimits | None = None
    #: seconds after which the venue ends every connection (Binance: 24 h), or
    #: ``None`` when it documents no such cut; a helper that rotates
    #: connections opens the replacement before this age
    max_connection_age: float | None = None

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

    def split_topics(self, op: str, topics: Sequence[str]) -> list[tuple[str, ...]]:
        """Split one ``ws.subscribe``/``ws.unsubscribe`` into requests (order kept).

        ``op`` is ``"subscribe"`` or ``"unsubscribe"``. The default batches under
        ``limits``' ``topics_per_request`` cap and ``max_request_bytes`` (see
        :func:`batch_topics`); a venue with other rules (Coinbase: one channel
        per message) overrides it. Every batch must be non-empty.
        """
        limits = self.limits
        if limits is None:
            return batch_topics(topics, None, None)
        return batch_topics(topics, limits.max_topics_per_request, limits.max_request_bytes)

    def encode_subscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str | bytes:
        """The frame that subscribes to ``topics`` (one batch of :meth:`split_topics`)."""
        raise VenueError(None, f"venue {self.name!r} has no subscriptions")

    def encode_unsubscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext
    ) -> str | bytes:
        """The frame that unsubscribes from ``topics``."""
        raise VenueError(None, f"venue {self.name!r} has no subscriptions")

    def encode_request(
        self, method: str, params: Any, request_id: RequestId, ctx: SendContext
    ) -> str | bytes:
        """The frame for a generic request."""
        raise VenueError(None, f"venue {self.name!r} has no request/response API")

    def encode_login(self, request_id: RequestId, ctx: SendContext) -> str | bytes | None:
        """The log-on frame sent first on every connection, or ``None`` (the default): none.

        The venue's :class:`Response` to it decides whether ``connect()``
        succeeds (see the module docstring). Raise
        :class:`~trio_venues.errors.AuthenticationError` (or ``ConfigError``)
        when the credentials cannot log on at all (missing, wrong kind).
        """
        return None

    def login_details(self, result: Any) -> Mapping[str, Any]:
        """The ``Authenticated.details`` for the log-on's result (never a secret).

        The default: the result itself when it is a mapping, else nothing.
        """
        return result if isinstance(result, Mapping) else {}

    def venue_ping(self, now: float) -> str | bytes | None:
        """The application-level ping frame to send now, if the venue uses one."""
        return None

    # -- acting unprompted --------------------------------------------------------

    def on_open(self, ctx: SendContext) -> Sequence[Output]:
        """Outputs to handle once the connection is open (after the log-on, if any)."""
        return ()

    def next_timer(self) -> float | None:
        """When :meth:`on_timer` should run next (``SendContext.now`` units), or ``None``.

        Pure: it only reads the core's state. A time in the past runs the
        timer at once.
        """
        return None

    def on_timer(self, ctx: SendContext) -> Sequence[Output]:
        """The core's timer is due (``ctx.now >= next_timer()``): outputs to handle."""
        return ()

    # -- feeds across connections -------------------------------------------------

    def topic_ids(self, topic: str) -> TopicIds | None:
        """How to read the venue's ids of ``topic``'s messages, or ``None`` when it has none.

        See :mod:`trio_venues._identity` for what the ids promise. ``None``
        (the default) means no id names the same data on every connection: a
        helper switching connections cannot de-duplicate this topic and falls
        back to ``DataGap`` semantics. Pure: it depends on the topic name
        only, never on the connection's state.
        """
        return None

    def connection_fits(self, topics: Sequence[str]) -> bool:
        """Whether one connection may carry all of ``topics`` under the venue's per-connection caps.

        The default checks the ``"subscriptions"`` cap of :attr:`limits`
        (Binance: 1,024 streams); venues with other rules (OKX's recommended
        30 depth channels, Bybit's 21,000 characters of arguments) override
        it. Per-request rules (Bybit spot's 10 arguments per subscribe) are
        :meth:`split_topics`' business, not this. Pure; topics are counted
        once however often they are named.
        """
        limits = self.limits
        cap = limits.max_subscriptions if limits is not None else None
        return cap is None or len(set(topics)) <= cap

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


def credentials_of(ctx: SendContext) -> Credentials:
    """``ctx.credentials``, or a ``ConfigError`` saying that ``connect()`` needs them."""
    if ctx.credentials is None:
        raise ConfigError("this needs credentials: connect(..., credentials=Credentials(...))")
    return ctx.credentials
