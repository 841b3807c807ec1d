"""The venue-client base class and ``RawWebSocket``, the venue-less client."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Generic, TypeVar

from ._config import ConnectionConfig
from ._core import RawCore, VenueCore
from ._session import Connection, open_connection
from .credentials import Credentials
from .errors import ConfigError

__all__ = ["RawWebSocket", "VenueClient"]

C = TypeVar("C", bound=Connection)


class VenueClient(Generic[C]):
    """Base of the venue classes: ``async with Venue.connect(...) as ws``.

    A venue class names its endpoints, its default options and its sans-I/O
    core; everything else is the one shared session. ``connect()`` never retries.

    A venue subclass sets :attr:`endpoints` and :attr:`default_endpoint`,
    overrides :meth:`make_core` and, for helpers of its own, sets
    :attr:`connection_class`. A venue that needs more ``connect()`` arguments
    overrides ``connect`` and calls :meth:`connect_with` with them.
    """

    #: the venue's endpoints by name, e.g. ``{"public": "wss://...", "private": "wss://..."}``
    endpoints: ClassVar[Mapping[str, str]] = {}
    #: the endpoint used when ``connect()`` names none
    default_endpoint: ClassVar[str] = ""
    #: the URL used when the venue has no ``endpoints`` (kept for subclasses
    #: written before endpoints existed)
    default_url: ClassVar[str] = ""
    #: venue-specific defaults for :class:`~trio_venues.ConnectionConfig` fields
    default_options: ClassVar[Mapping[str, Any]] = {}
    #: the connection class ``connect()`` yields (venues add helpers in a subclass)
    connection_class: ClassVar[type[Connection]] = Connection

    @classmethod
    def make_core(
        cls,
        config: ConnectionConfig,
        url: str,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
    ) -> VenueCore:
        """Create the per-connection sans-I/O core.

        Args:
            config: the connection's settings.
            url: the URL being opened.
            endpoint: the endpoint's name (one of :attr:`endpoints`), also when
                ``url`` points elsewhere (a fake server): it tells the core
                what kind of connection this is. ``None`` for a venue without
                endpoints.
            credentials: the credentials given to ``connect()``; the core
                also gets them in every ``SendContext``.
        """
        raise TypeError(f"{cls.__name__} does not define its venue core")

    @classmethod
    def resolve_endpoint(cls, url: str | None, endpoint: str | None) -> tuple[str | None, str]:
        """The endpoint name and the URL to open for ``connect(url, endpoint=...)``.

        ``url`` wins as the address; ``endpoint`` (default
        :attr:`default_endpoint`) still names the kind of connection.

        Raises:
            ConfigError: an unknown endpoint name (the message lists them).
            TypeError: no URL at all.
        """
        if endpoint is not None and endpoint not in cls.endpoints:
            names = ", ".join(repr(n) for n in cls.endpoints) or "none"
            raise ConfigError(f"{cls.__name__} has no endpoint {endpoint!r} (endpoints: {names})")
        name = endpoint if endpoint is not None else (cls.default_endpoint or None)
        if name is not None and name not in cls.endpoints:
            raise ConfigError(f"{cls.__name__}.default_endpoint {name!r} is not in its endpoints")
        target = url or (cls.endpoints[name] if name is not None else cls.default_url)
        if not target:
            raise TypeError(f"{cls.__name__}.connect() needs a url")
        return name, target

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        config: ConnectionConfig | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[C]:
        """Open one connection: ``async with Venue.connect() as ws: ...``.

        Args:
            url: the full address, used as given (default: the endpoint's URL).
            endpoint: which of the venue's :attr:`endpoints` (default
                :attr:`default_endpoint`); with ``url`` it still names the kind
                of connection (public, private ...).
            credentials: a :class:`~trio_venues.Credentials` for private
                endpoints; the venue logs on with them before the block runs.
            config: a :class:`~trio_venues.ConnectionConfig`; ``options`` override it.
            **options: any ``ConnectionConfig`` field (``transport``,
                ``connect_timeout``, ``ping_interval``, ...).

        Raises:
            TypeError: an unknown option (the message lists the valid ones).
            ConfigError: an invalid value, or an unknown endpoint.

        Entering the returned context manager raises a
        :class:`~trio_venues.errors.ConnectFailed` subclass when the connection
        cannot be opened, ``RateLimitExceeded`` when the venue's
        connection-attempt limit refuses it, or ``AuthenticationError`` when
        the venue refuses the log-on. Nothing is retried.
        """
        return cls.connect_with(
            url, endpoint=endpoint, credentials=credentials, config=config, options=options
        )

    @classmethod
    def connect_with(
        cls,
        url: str | None,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        config: ConnectionConfig | None = None,
        options: Mapping[str, Any] | None = None,
        make_core: Callable[..., VenueCore] | None = None,
        on_open: Callable[[Any], Awaitable[None]] | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> AbstractAsyncContextManager[C]:
        """What ``connect()`` does, for venue subclasses whose ``connect`` takes more.

        Args:
            url, endpoint, credentials, config: as :meth:`connect`.
            options: the ``ConnectionConfig`` overrides.
            make_core: builds the core instead of :meth:`make_core` (same
                arguments), e.g. a ``functools.partial`` carrying a signer.
            on_open: an async hook run with the connection after the log-on
                and before the user's block (its exception closes the connection).
            wall_clock: seconds since the epoch for ``SendContext.wall_time``
                (default: the system clock).
        """
        if credentials is not None and not isinstance(credentials, Credentials):
            raise TypeError(
                f"credentials must be a trio_venues.Credentials, not {type(credentials).__name__}"
            )
        base = config if config is not None else ConnectionConfig(**cls.default_options)
        merged = ConnectionConfig.build(base, url, options or {})
        name, target = cls.resolve_endpoint(merged.url, endpoint)
        core = _build_core(make_core or cls.make_core, merged, target, name, credentials)
        return open_connection(  # type: ignore[return-value]
            core,
            merged,
            target,
            connection_class=cls.connection_class,
            on_open=on_open,
            credentials=credentials,
            wall_clock=wall_clock,
        )


def _build_core(
    factory: Callable[..., VenueCore],
    config: ConnectionConfig,
    url: str,
    endpoint: str | None,
    credentials: Credentials | None,
) -> VenueCore:
    """Call ``factory``, also when it is a ``make_core(config, url)`` written before endpoints."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C callable: assume the full signature
        params = None
    if (
        params is None
        or "credentials" in params
        or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    ):
        return factory(config, url, endpoint=endpoint, credentials=credentials)
    if credentials is not None:
        raise TypeError(
            f"{getattr(factory, '__qualname__', factory)!r} takes no credentials: "
            "give make_core an endpoint= and credentials= keyword"
        )
    return factory(config, url)


class RawWebSocket(VenueClient[Connection]):
    """The venue-less client: the same session, events and reasons, raw payloads.

    ``Message.data`` is the raw ``str`` (text frame) or ``bytes`` (binary
    frame); ``ws.send`` keeps text as text and binary as binary.
    """

    @classmethod
    def make_core(
        cls,
        config: ConnectionConfig,
        url: str,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
    ) -> VenueCore:
        """A pass-through core."""
        return RawCore()
