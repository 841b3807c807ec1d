"""``GenericJson``: the client of the generic JSON test venue (see ``_protocol.py``)."""

from __future__ import annotations

from ..._client import VenueClient
from ..._config import ConnectionConfig
from ..._core import VenueCore
from ..._session import Connection
from ...credentials import Credentials
from ._protocol import GenericJsonCore

__all__ = ["GenericJson"]


class GenericJson(VenueClient[Connection]):
    """A client for the generic JSON test venue that ``trio_venues.testing`` serves.

    It exercises every part of the session (subscriptions with acks and
    refusals, requests, a log-on, venue-level pings, sequence gaps, shutdown
    notices) without any real venue's quirks: ``GenericJson.connect(fake.url)``;
    with ``credentials=`` it logs on first.
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
        """A fresh generic core per connection (``?sequence=connection`` picks its numbering)."""
        return GenericJsonCore(sequence=GenericJsonCore.sequence_of(url))
