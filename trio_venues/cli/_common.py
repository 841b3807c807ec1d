"""What every ``trio-venues`` command shares: exit codes, output, Ctrl-C, and the venues.

The command modules import this module, never :mod:`._app` (which imports
them when their command runs), so the package has no import cycle. The venues
come from the registry (:mod:`trio_venues.venues._registry`): every
registered venue works with ``stream``, ``record`` and ``replay``.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TextIO

import trio

from ..errors import ConfigError
from ..venues._registry import VenueEntry, get_venue, venue_names

if TYPE_CHECKING:
    from ..testing import FakeVenueServer

__all__ = [
    "DEFAULT_VENUE",
    "EXIT_CODES_HELP",
    "FAKE_COUNT",
    "FAKE_EVERY",
    "VENUE_ALIASES",
    "ExitCode",
    "Output",
    "Stopper",
    "check_topics",
    "resolve_venue",
    "running_fake",
    "venue_choices",
    "venue_describer",
]

#: The venue a command uses when none is named (``demo``, ``replay``).
DEFAULT_VENUE: Final = "binance"
#: Other names the commands accept for a venue (``binance-spot`` was the first spelling).
VENUE_ALIASES: Final = {"binance-spot": "binance"}
#: ``--fake``: each subscribed stream gets a message this often (seconds)...
FAKE_EVERY: Final = 0.02
#: ... this many times (the fake's generators are bounded; ~40 minutes at that pace).
FAKE_COUNT: Final = 120_000


class ExitCode(enum.IntEnum):
    """The exit statuses of every ``trio-venues`` command (documented in ``--help``)."""

    #: the command did what was asked (``--count`` messages, the whole duration...)
    OK = 0
    #: an unexpected error (the message says what happened)
    FAILURE = 1
    #: bad arguments, an invalid topic or recording, a topic the venue refused
    USAGE = 2
    #: the connection could not be opened (refused, DNS, TLS, HTTP rejection, timeout)
    CONNECT_FAILED = 3
    #: the connection ended before ``--count`` messages (or at all, without ``--count``)
    DISCONNECTED = 4
    #: ``replay --port``: the port cannot be listened on (in use, or not allowed)
    LISTEN_FAILED = 5
    #: interrupted by Ctrl-C (128 + SIGINT); what was written so far is complete
    INTERRUPTED = 130
    #: stdout was closed by its reader (``| head -1``): stopped quietly (128 + SIGPIPE)
    BROKEN_PIPE = 141


EXIT_CODES_HELP = """\
exit status:
  0    done: --count messages received, the duration elapsed, the replay ended
  1    an unexpected error
  2    usage error: bad arguments, an invalid topic or recording file, a topic the
       venue refused
  3    the connection could not be opened (refused, DNS, TLS, HTTP rejection, timeout)
  4    the connection ended before --count messages (or at all, without --count)
  5    replay --port N: 127.0.0.1:N cannot be listened on (in use, or not allowed)
  130  interrupted by Ctrl-C (output written so far is complete)
  141  stdout was closed by its reader (e.g. | head -1): stopped quietly
"""


class Output:
    """Where a command writes: results to ``stdout``, progress and errors to ``stderr``.

    Keeping the two apart lets a script pipe ``stdout`` (events, JSON lines)
    while the human still sees connection notes on the terminal.
    """

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr

    def line(self, text: str) -> None:
        """Write one line of results to ``stdout``."""
        print(text, file=self.stdout, flush=True)

    def note(self, text: str) -> None:
        """Write one line of progress or diagnostics to ``stderr``."""
        print(text, file=self.stderr, flush=True)

    def error(self, text: str) -> None:
        """Write an error to ``stderr``, prefixed like every command-line tool's."""
        self.note(f"trio-venues: error: {text}")

    @property
    def is_terminal(self) -> bool:
        """Whether ``stdout`` is an interactive terminal (the live view needs one)."""
        isatty = getattr(self.stdout, "isatty", None)
        return bool(isatty is not None and isatty())


class Stopper:
    """Ctrl-C for commands: cancels the scopes the command registered, and remembers it.

    A command wraps the work that Ctrl-C should stop in ``with
    stopper.scope():`` and then checks :attr:`interrupted` to finish up (a
    summary, a flush) and return :attr:`ExitCode.INTERRUPTED`.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._scopes: set[trio.CancelScope] = set()

    @contextmanager
    def scope(self) -> Iterator[trio.CancelScope]:
        """A cancel scope that :meth:`interrupt` cancels (at once, if it already ran)."""
        with trio.CancelScope() as scope:
            if self.interrupted:
                scope.cancel(reason="interrupted (Ctrl-C)")
            self._scopes.add(scope)
            try:
                yield scope
            finally:
                self._scopes.discard(scope)

    def interrupt(self) -> None:
        """Stop the registered work (what SIGINT does)."""
        self.interrupted = True
        for scope in list(self._scopes):
            scope.cancel(reason="interrupted (Ctrl-C)")


# -- venues ----------------------------------------------------------------------------------


def venue_choices() -> list[str]:
    """The names the commands accept: every registered venue, and the aliases."""
    return sorted({*venue_names(), *VENUE_ALIASES})


def resolve_venue(name: str) -> VenueEntry:
    """The registry entry of ``name`` (an alias allowed).

    Raises:
        ConfigError: no such venue.
    """
    return get_venue(VENUE_ALIASES.get(name, name))


def venue_describer(entry: VenueEntry) -> Callable[[Any], str | None] | None:
    """The venue's words for its typed messages (its ``VenueCli.describe``), if it has them."""
    return entry.cli().describe if entry.cli is not None else None


def check_topics(entry: VenueEntry, topics: Sequence[str]) -> str | None:
    """Why ``topics`` cannot be subscribed to on ``entry``'s venue, or ``None`` when they can."""
    return entry.topics.problem(topics)


@asynccontextmanager
async def running_fake(
    entry: VenueEntry, *, generate_every: float | None = FAKE_EVERY, **options: Any
) -> AsyncIterator[FakeVenueServer[Any]]:
    """``entry``'s fake venue on 127.0.0.1 for the block's duration.

    With ``generate_every``, each topic gets generated data from its first
    subscriber on; without, the fake sends only what it is told to.
    ``options`` are more ``FakeVenueServer`` options (``port=`` goes to
    ``serve_tcp``).

    Raises:
        ConfigError: the venue has no fake.
        OSError: ``port`` cannot be listened on.
    """
    if entry.fake is None:
        raise ConfigError(f"{entry.title} has no fake venue yet")
    port = options.pop("port", 0)
    server = entry.fake.server(auto_generate=generate_every, generate_count=FAKE_COUNT, **options)
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(server.serve_tcp, port=port))
        try:
            yield server
        finally:
            server.stop()
