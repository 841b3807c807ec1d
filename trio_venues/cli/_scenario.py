"""What a venue gives the command line: its typed messages as text, and its demo.

Each venue's folder has a ``_cli.py`` defining a :class:`VenueCli`, and its
registry entry reaches it through :attr:`VenueEntry.cli
<trio_venues.venues._registry.VenueEntry.cli>` (imported only when a command
needs it). ``trio-venues stream`` prints a venue's typed messages with
:attr:`VenueCli.describe`; ``trio-venues demo --venue NAME`` runs
:attr:`VenueCli.demo`, a :class:`DemoScenario`: the venue's fake, the streams
it pushes, the venue's book, the faults it injects and how the venue's own
messages read in the demo's table. The shared modules (``_demo.py``,
``_view.py``, ``_stream.py``) name no venue: adding a venue adds no CLI code.

The faults every fake can inflict through its
:class:`~trio_venues.testing.ServerConnection` (a dropped TCP connection, a
close with 1001, a stall) are here, ready for a scenario to list; a venue
adds its own (a book gap, a shutdown notice, a snapshot reset ...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs
import trio

if TYPE_CHECKING:
    from .._bookfeed import SnapshotSource
    from .._client import VenueClient
    from .._stats import ConnectionStats
    from ..book import BookAdapter
    from ..testing import FakeVenueServer, ServerConnection

__all__ = [
    "CLOSE_1001",
    "DROP",
    "STALL",
    "DemoFault",
    "DemoLink",
    "DemoRecovery",
    "DemoScenario",
    "DemoSession",
    "DemoSide",
    "DemoStream",
    "DemoTarget",
    "VenueCli",
    "book_fault",
    "connection_fault",
    "one_connection",
]

DemoRecovery: TypeAlias = Literal["reconnect", "heartbeat", "resync"]
"""How the client gets over a fault, which says how long the demo waits after it:
``"reconnect"``: a disconnect, then ``retry_scope``'s first backoff;
``"heartbeat"``: nothing arrives until the client's ping goes unanswered, then a
reconnect; ``"resync"``: the connection stays up and a book resyncs."""


@attrs.frozen(kw_only=True)
class DemoStream:
    """A stream the demo subscribes to, and how often the fake's market driver pushes it.

    Attributes:
        topic: the topic, in the venue's spelling.
        every: seconds between two messages.
    """

    topic: str
    every: float


@attrs.frozen(kw_only=True)
class DemoTarget:
    """What a fault is inflicted on.

    Attributes:
        server: the running fake venue.
        connection: the server side of the newest open market-data connection
            (``None`` while the client is between connections).
        symbol: the first symbol of the demo, as the venue's book spells it.
        book_topic: that symbol's book topic.
    """

    server: FakeVenueServer[Any]
    connection: ServerConnection | None
    symbol: str
    book_topic: str


@attrs.frozen(kw_only=True)
class DemoFault:
    """One fault the demo injects.

    Attributes:
        name: a short name (``"drop"``, ``"close 1001"``), shown in the summary.
        text: what happened, for the log (``"server closed with 1001 'going away'"``).
        recovery: how the client gets over it (see :data:`DemoRecovery`).
        inject: ``await inject(target)`` inflicts it; ``False``: it could not
            (no connection to inflict it on).
        names_symbol: the log names the symbol whose book it hits.
    """

    name: str
    text: str
    recovery: DemoRecovery
    inject: Callable[[DemoTarget], Awaitable[bool]]
    names_symbol: bool = False


def book_fault(name: str, text: str, act: Callable[[DemoTarget], object]) -> DemoFault:
    """A fault in the first symbol's book stream, set up by ``act(target)`` on the fake.

    The connection stays up; the book notices at its next message and resyncs.
    """

    async def inject(target: DemoTarget) -> bool:
        act(target)
        await trio.lowlevel.checkpoint()
        return True

    return DemoFault(name=name, text=text, recovery="resync", inject=inject, names_symbol=True)


def connection_fault(
    name: str,
    text: str,
    recovery: DemoRecovery,
    act: Callable[[ServerConnection], Awaitable[object]],
) -> DemoFault:
    """A fault inflicted on the market-data connection by ``await act(connection)``."""

    async def inject(target: DemoTarget) -> bool:
        if target.connection is None:
            return False
        await act(target.connection)
        return True

    return DemoFault(name=name, text=text, recovery=recovery, inject=inject)


async def _stall(connection: ServerConnection) -> None:
    connection.stall()
    await trio.lowlevel.checkpoint()


async def _close_1001(connection: ServerConnection) -> None:
    await connection.close(1001, "going away")


async def _drop(connection: ServerConnection) -> None:
    await connection.drop()


#: The server drops the TCP connection without a close frame.
DROP = connection_fault(
    "drop", "TCP dropped by the server (FIN, no close frame)", "reconnect", _drop
)
#: The server closes the WebSocket with 1001 "going away".
CLOSE_1001 = connection_fault(
    "close 1001", "server closed with 1001 'going away'", "reconnect", _close_1001
)
#: The server goes silent: it sends nothing and answers no pings (the client's heartbeat fires).
STALL = connection_fault(
    "stall", "server stalled: it sends nothing and answers no pings", "heartbeat", _stall
)


@attrs.frozen(kw_only=True)
class DemoLink:
    """What a scenario's session is opened with.

    Attributes:
        server: the running fake venue.
        transport: the ``transport=`` connect option (a name, or the fake's
            in-memory transport).
        options: connect options every connection of the demo takes
            (heartbeat timing, rate-limit policy, the transport).
        virtual_time: the demo runs under a virtual clock (the tests'
            ``MockClock``): venue clocks must follow ``trio.current_time()``.
        note: logs a line in the demo's view.
    """

    server: FakeVenueServer[Any]
    transport: Any
    options: Mapping[str, Any]
    virtual_time: bool
    note: Callable[[str], None]


@attrs.frozen(kw_only=True)
class DemoSide:
    """Another connection a scenario's session keeps open, a row of the live view.

    Attributes:
        label: the view's row label (``"api limiter"``).
        limits: the rate-limit kinds the row shows (``("weight",)``).
    """

    label: str
    limits: tuple[str, ...]


@attrs.frozen(kw_only=True)
class DemoSession:
    """What a scenario's session yields: how to connect, and what the books need.

    Attributes:
        connect: opens one market-data connection (``retry_scope`` calls it
            for each attempt).
        snapshots: ``book_feed``'s ``snapshots=`` for a venue that fetches
            them (``None``: in-stream snapshots).
        side_stats: the current ``ws.stats`` of each of the scenario's
            :attr:`~DemoScenario.sides`, in order.
    """

    connect: Callable[[], AbstractAsyncContextManager[Any]]
    snapshots: SnapshotSource | None = None
    side_stats: tuple[Callable[[], ConnectionStats | None], ...] = ()


def one_connection(
    client: type[VenueClient[Any]],
    url: Callable[[FakeVenueServer[Any]], str],
    **options: Any,
) -> Callable[[DemoLink], AbstractAsyncContextManager[DemoSession]]:
    """A scenario's session for a venue whose books need nothing but the stream.

    Each attempt is ``client.connect(url(server), **link.options, **options)``;
    nothing else is opened.
    """

    @asynccontextmanager
    async def session(link: DemoLink) -> AsyncIterator[DemoSession]:
        target = url(link.server)

        def connect() -> AbstractAsyncContextManager[Any]:
            return client.connect(target, **link.options, **options)

        await trio.lowlevel.checkpoint()
        yield DemoSession(connect=connect)

    return session


def _any_connection(connection: ServerConnection) -> bool:
    return True


def _nothing(data: Any) -> str | None:
    return None


@attrs.frozen(kw_only=True)
class DemoScenario:
    """One venue's demo: its fake, streams, book, faults and words.

    Attributes:
        title: the venue as the demo names it (``"fake <title> listening on ..."``).
        symbols: the symbols streamed, as the venue's book spells them.
        streams: ``streams(symbol)``: the data streams of one symbol, in the
            order the table shows them (the book stream follows them).
        book: makes the venue's book adapter (its topic names the book stream).
        book_every: seconds between two book messages from the market driver.
        faults: the faults, in the order the injector cycles through them.
        server: ``server(seed, virtual_time)``: a new, unstarted fake venue
            (seeded for a reproducible show; with venue clocks following
            ``trio.current_time()`` when ``virtual_time``).
        session: ``async with session(link) as session``: opens what the
            market-data connections need (a request connection for snapshots,
            say) and yields a :class:`DemoSession`. It raises
            :class:`~trio_venues.errors.ConnectFailed` bare when that fails.
        sides: the other connections the session keeps open, each a row of
            the live view (their stats come from :attr:`DemoSession.side_stats`).
        market_connection: whether a server-side connection is a market-data
            one (the faults' target), not a request connection.
        last: the table's "last" text of one of the venue's typed messages
            (``"buy 0.01 @ 65000"``), or ``None`` to leave it as it was.
    """

    title: str
    symbols: tuple[str, ...]
    streams: Callable[[str], Sequence[DemoStream]]
    book: Callable[[], BookAdapter]
    book_every: float = 0.1
    faults: tuple[DemoFault, ...]
    server: Callable[[int, bool], FakeVenueServer[Any]]
    session: Callable[[DemoLink], AbstractAsyncContextManager[DemoSession]]
    sides: tuple[DemoSide, ...] = ()
    market_connection: Callable[[ServerConnection], bool] = _any_connection
    last: Callable[[Any], str | None] = _nothing


@attrs.frozen(kw_only=True)
class VenueCli:
    """What the command line needs from one venue.

    Attributes:
        describe: one human line for one of the venue's typed messages
            (``"BTCUSDT trade #12 buy 0.01 @ 65000"``), or ``None`` for a value
            it does not know (the shared fallback prints it as JSON).
        demo: the venue's demo (``None``: ``demo --venue`` refuses it).
    """

    describe: Callable[[Any], str | None] = _nothing
    demo: DemoScenario | None = None
