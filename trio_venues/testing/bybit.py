"""Bybit's fake venue and its test helpers (the fake lives in ``venues/bybit/_fake.py``).

``bybit_server(category)`` builds a :class:`~trio_venues.testing.FakeVenueServer`
speaking one Bybit v5 endpoint (``"spot"``, ``"linear"``, ``"inverse"``,
``"option"``, ``"spread"``, ``"status"``, ``"private"`` or ``"trade"``);
``fake_credentials()`` gives the key the fake accepts.
"""

from ..venues.bybit._fake import FAKE_API_KEY as FAKE_API_KEY
from ..venues.bybit._fake import FAKE_SECRET as FAKE_SECRET
from ..venues.bybit._fake import BybitVenue as BybitVenue
from ..venues.bybit._fake import bybit_server as bybit_server
from ..venues.bybit._fake import fake_credentials as fake_credentials

__all__ = ["FAKE_API_KEY", "FAKE_SECRET", "BybitVenue", "bybit_server", "fake_credentials"]
