"""Coinbase's fake venue and its test helpers (the fake lives in ``venues/coinbase/_fake.py``).

``coinbase_server()`` builds a :class:`~trio_venues.testing.FakeVenueServer`
speaking Coinbase Advanced Trade (market and user endpoints);
``coinbase_url(server, "user")`` gives an endpoint's URL;
``coinbase_test_key()`` makes CDP keys whose JWTs the fake accepts, and
``virtual_wall_clock()`` a wall clock that follows Trio's (give it to the
fake and to ``Coinbase.connect(wall_clock=...)``). The pytest plugin offers
``fake_coinbase`` (TCP) and ``fake_coinbase_memory``.
"""

from ..venues.coinbase._fake import DEFAULT_PRODUCTS as DEFAULT_PRODUCTS
from ..venues.coinbase._fake import CoinbasePeer as CoinbasePeer
from ..venues.coinbase._fake import CoinbaseTestKey as CoinbaseTestKey
from ..venues.coinbase._fake import FakeCoinbase as FakeCoinbase
from ..venues.coinbase._fake import coinbase_server as coinbase_server
from ..venues.coinbase._fake import coinbase_test_key as coinbase_test_key
from ..venues.coinbase._fake import coinbase_url as coinbase_url
from ..venues.coinbase._fake import virtual_wall_clock as virtual_wall_clock

__all__ = [
    "DEFAULT_PRODUCTS",
    "CoinbasePeer",
    "CoinbaseTestKey",
    "FakeCoinbase",
    "coinbase_server",
    "coinbase_test_key",
    "coinbase_url",
    "virtual_wall_clock",
]
