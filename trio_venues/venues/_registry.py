"""The venue registry: one entry per venue, from which the shared tools are built.

Each venue folder has a ``_venue.py`` defining ``VENUE``, a :class:`VenueEntry`
naming the venue's client classes (one per endpoint), its topic spelling, its
order-book adapter and its fake server. The pytest plugin makes
``fake_<venue>``/``fake_<venue>_memory`` fixtures from it, the CLI's
``stream``/``record``/``demo``/``replay`` take any registered venue (the
venue's ``_cli.py`` gives its demo and its messages' text), and the
venue-conformance suite (``tests/conformance/``) runs against every fake.
Registering a venue is one line in :data:`_BUILTIN` plus that ``_venue.py``.

Entries load lazily: importing the registry imports no venue, and
:func:`venue_names` needs no import at all.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..errors import ConfigError

if TYPE_CHECKING:
    from .._client import VenueClient
    from ..book import BookAdapter
    from ..cli._scenario import VenueCli
    from ..testing._server import FakeVenueServer
    from ..unified import UnifiedSupport

__all__ = [
    "FakeVenue",
    "TopicGrammar",
    "VenueEntry",
    "get_venue",
    "register_venue",
    "venue_names",
]

#: Venue name -> the module whose ``VENUE`` attribute is its :class:`VenueEntry`.
#: One line per venue, alphabetical.
_BUILTIN: Final[dict[str, str]] = {
    "binance": "trio_venues.venues.binance._venue",
    "bybit": "trio_venues.venues.bybit._venue",
    "coinbase": "trio_venues.venues.coinbase._venue",
    "generic": "trio_venues.venues.generic._venue",
    "okx": "trio_venues.venues.okx._venue",
}

_modules: dict[str, str] = dict(_BUILTIN)
_loaded: dict[str, VenueEntry] = {}


@attrs.frozen(kw_only=True)
class TopicGrammar:
    """How a venue spells its topics (always the venue's own spelling).

    Attributes:
        examples: topics to show users and to use in tests; the first one is
            what ``trio-venues stream VENUE`` and ``demo`` use by default.
        pattern: a regular expression every valid topic matches in full.
        help: one line on the spelling, e.g. ``"<symbol>@<stream>, lower case"``.
        check: ``check(topics)`` -> why they cannot be subscribed together, or
            None; a venue's own, more telling check (default: :attr:`pattern`).
    """

    examples: tuple[str, ...]
    pattern: re.Pattern[str]
    help: str
    check: Callable[[Sequence[str]], str | None] | None = None

    def is_valid(self, topic: str) -> bool:
        """Whether ``topic`` matches the venue's grammar."""
        return self.pattern.fullmatch(topic) is not None

    def problem(self, topics: Sequence[str]) -> str | None:
        """Why ``topics`` cannot be subscribed to, or None when they can."""
        if self.check is not None:
            return self.check(topics)
        bad = next((t for t in topics if not self.is_valid(t)), None)
        return None if bad is None else f"invalid topic {bad!r} (spelling: {self.help})"


@attrs.frozen(kw_only=True)
class FakeVenue:
    """How to run and drive a venue's fake server, and what it can do.

    Attributes:
        server: ``server(**options)`` returns a new, unstarted
            :class:`~trio_venues.testing.FakeVenueServer` speaking the venue
            (``options`` are ``FakeVenueServer`` options, overriding the venue's
            defaults such as its keepalive). Start it with
            ``await nursery.start(server.serve_tcp)`` or ``server.run``.
        url: ``url(server, topics)``: the URL of the streams endpoint of a
            started fake, with ``topics`` subscribed by the URL when the venue
            has that (otherwise the caller subscribes).
        endpoint: the client endpoint (a key of :attr:`VenueEntry.clients`) that ``url`` serves.
        client_options: connect options the fake needs (e.g. a virtual clock).
        data_topic: a topic the fake accepts and generates data for with ``server.push``.
        refused_topic: a topic the fake refuses (its subscribe is answered with an error).
        force_gap: ``force_gap(server, topic)``: the next message of ``topic``
            reveals lost data to the client (``None``: the fake cannot).
        venue_pings: the fake can send application-level pings the client must answer.
        close_codes: close codes the venue uses -> whether the client reports
            them as retryable.
        book_symbol: a symbol whose book the fake simulates, synced in the
            conformance tests (``None``: the fake serves no books).
        book_snapshots: ``async with book_snapshots(server) as source``: the
            ``snapshots=`` argument of ``book_feed`` against a started fake, for
            venues that fetch snapshots (it opens what the fetch needs, e.g. a
            request connection); ``None`` for venues with in-stream snapshots.
        force_book_gap: ``force_book_gap(server, symbol)``: the book stream of
            ``symbol`` loses updates.
    """

    server: Callable[..., FakeVenueServer[Any]]
    url: Callable[[FakeVenueServer[Any], Sequence[str]], str]
    endpoint: str
    client_options: Mapping[str, Any] = attrs.field(factory=dict)
    data_topic: str
    refused_topic: str
    force_gap: Callable[[FakeVenueServer[Any], str], None] | None = None
    venue_pings: bool = False
    close_codes: Mapping[int, bool] = attrs.field(factory=dict)
    book_symbol: str | None = None
    book_snapshots: Callable[[FakeVenueServer[Any]], AbstractAsyncContextManager[Any]] | None = None
    force_book_gap: Callable[[FakeVenueServer[Any], str], None] | None = None


@attrs.frozen(kw_only=True)
class VenueEntry:
    """Everything the shared tools need to know about one venue.

    Attributes:
        name: the registry name (``"binance"``), also the CLI's ``VENUE`` argument.
        title: how people write it (``"Binance Spot"``).
        clients: endpoint name -> client class
            (``{"streams": BinanceSpot, "api": BinanceSpotApi}``).
        default_endpoint: the endpoint market data streams from.
        topics: the venue's topic spelling.
        topics_url: ``topics_url(base, topics)`` -> a URL that subscribes to
            ``topics`` by itself, for venues that have one (Binance's combined
            streams); None: topics are subscribed with the venue's subscribe frame.
        book: makes the venue's order-book adapter (``None``: no books yet).
        fake: the venue's fake server (``None``: none yet).
        unified: the venue's catalogue and unifier (``None``: no unified form yet).
        cli: returns what the command line shows and runs for the venue, its
            :class:`~trio_venues.cli._scenario.VenueCli` (its typed messages as
            text, its ``demo`` scenario); called only by the CLI, so the venue's
            ``_cli.py`` is imported only there (``None``: generic text, no demo).
    """

    name: str
    title: str
    clients: Mapping[str, type[VenueClient[Any]]]
    default_endpoint: str
    topics: TopicGrammar
    topics_url: Callable[[str, Sequence[str]], str] | None = None
    book: Callable[[], BookAdapter] | None = None
    fake: FakeVenue | None = None
    unified: UnifiedSupport | None = None
    cli: Callable[[], VenueCli] | None = None

    def client(self, endpoint: str | None = None) -> type[VenueClient[Any]]:
        """The client class of ``endpoint`` (default: :attr:`default_endpoint`).

        Raises:
            ConfigError: the venue has no such endpoint.
        """
        key = endpoint or self.default_endpoint
        try:
            return self.clients[key]
        except KeyError:
            known = ", ".join(sorted(self.clients))
            raise ConfigError(f"{self.name} has no endpoint {key!r} (known: {known})") from None


def venue_names() -> tuple[str, ...]:
    """The registered venue names, sorted (imports no venue)."""
    return tuple(sorted(_modules))


def get_venue(name: str) -> VenueEntry:
    """The entry of venue ``name`` (its module is imported on first use).

    Raises:
        ConfigError: no venue of that name is registered.
    """
    entry = _loaded.get(name)
    if entry is not None:
        return entry
    module_name = _modules.get(name)
    if module_name is None:
        known = ", ".join(venue_names())
        raise ConfigError(f"unknown venue {name!r} (known: {known})")
    entry = importlib.import_module(module_name).VENUE
    if not isinstance(entry, VenueEntry) or entry.name != name:
        raise ConfigError(f"{module_name}.VENUE is not the VenueEntry of {name!r}")
    _loaded[name] = entry
    return entry


def register_venue(name: str, module: str) -> None:
    """Register a venue defined outside trio_venues: ``module.VENUE`` is its entry.

    Register before pytest loads the plugin for its fixtures to exist.

    Raises:
        ConfigError: ``name`` is taken by another module.
    """
    current = _modules.get(name)
    if current is not None and current != module:
        raise ConfigError(f"venue {name!r} is already registered by {current}")
    _modules[name] = module
