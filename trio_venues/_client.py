"""The venue-client base class and ``RawWebSocket``, the venue-less client."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Generic, TypeVar

from ._config import ConnectionConfig
from ._core import RawCore, VenueCore
from ._session import Connection, open_connection

__all__ = ["RawWebSocket", "VenueClient"]

C = TypeVar("C", bound=Connection)


class VenueClient(Generic[C]):
    """Base of the venue classes: ``async with Venue.connect(url=None, **options) as ws``.

    A venue class names its default URL, its default options and its sans-I/O
    core; everything else is the one shared session. ``connect()`` never retries.
    """

    #: the venue's public endpoint, used when no ``url`` is given
    default_url: ClassVar[str] = ""
    #: venue-specific defaults for :class:`~trio_venues.ConnectionConfig` fields
    default_options: ClassVar[Mapping[str, Any]] = {}
    #: the connection class ``connect()`` yields (venues add helpers in a subclass)
    connection_class: ClassVar[type[Connection]] = Connection

    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str) -> VenueCore:
        """Create the per-connection sans-I/O core."""
        raise TypeError(f"{cls.__name__} does not define its venue core")

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        config: ConnectionConfig | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[C]:
        """Open one connection: ``async with Venue.connect() as ws: ...``.

        Args:
            url: the full endpoint, used as given (default: the venue's public URL).
            config: a :class:`~trio_venues.ConnectionConfig`; ``options`` override it.
            **options: any ``ConnectionConfig`` field (``transport``,
                ``connect_timeout``, ``ping_interval``, ...).

        Raises:
            TypeError: an unknown option (the message lists the valid ones).
            ConfigError: an invalid value.

        Entering the returned context manager raises a
        :class:`~trio_venues.errors.ConnectFailed` subclass when the connection
        cannot be opened, or ``RateLimitExceeded`` when the venue's
        connection-attempt limit refuses it. Nothing is retried.
        """
        base = config if config is not None else ConnectionConfig(**cls.default_options)
        merged = ConnectionConfig.build(base, url, options)
        target = merged.url or cls.default_url
        if not target:
            raise TypeError(f"{cls.__name__}.connect() needs a url")
        core = cls.make_core(merged, target)
        return open_connection(  # type: ignore[return-value]
            core, merged, target, connection_class=cls.connection_class
        )


class RawWebSocket(VenueClient[Connection]):
    """The venue-less client: the same session, events and reasons, raw payloads.

    ``Message.data`` is the raw ``str`` (text frame) or ``bytes`` (binary
    frame); ``ws.send`` keeps text as text and binary as binary.
    """

    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str) -> VenueCore:
        """A pass-through core."""
        return RawCore()
