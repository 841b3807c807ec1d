"""OKX's fake venue and its test helpers (the fake lives in ``venues/okx/_fake.py``).

``fake_okx_server()`` builds a :class:`~trio_venues.testing.FakeVenueServer`
speaking OKX v5 (public, business and private endpoints on one server, by
path); ``fake_okx_url(server, endpoint)`` gives the URL of an endpoint served
over TCP. :class:`FakeOkx` lists its instruments on the ``instruments``
channel (:func:`instrument_spec` gives the item of an id), checks logins
against its ``accounts`` (:class:`OkxAccount`) and injects OKX's faults. The pytest plugin offers
``fake_okx`` (TCP) and ``fake_okx_memory``.
"""

from ..venues.okx._fake import CLOSE_REASONS as CLOSE_REASONS
from ..venues.okx._fake import DEFAULT_INSTRUMENTS as DEFAULT_INSTRUMENTS
from ..venues.okx._fake import FakeOkx as FakeOkx
from ..venues.okx._fake import OkxAccount as OkxAccount
from ..venues.okx._fake import fake_okx_server as fake_okx_server
from ..venues.okx._fake import fake_okx_url as fake_okx_url
from ..venues.okx._fake import instrument_spec as instrument_spec

__all__ = [
    "CLOSE_REASONS",
    "DEFAULT_INSTRUMENTS",
    "FakeOkx",
    "OkxAccount",
    "fake_okx_server",
    "fake_okx_url",
    "instrument_spec",
]
