"""Binance's fake venue and its test helpers (the fake lives in ``venues/binance/_fake.py``).

``binance_server()`` builds a :class:`~trio_venues.testing.FakeVenueServer`
speaking Binance Spot (market streams and the WebSocket API);
``binance_stream_url``, ``binance_raw_url`` and ``binance_api_url`` give its
URLs; ``ed25519_test_key``, ``hmac_test_key`` and ``rsa_test_key`` make API
keys the fake accepts. The pytest plugin offers ``fake_binance`` (TCP) and
``fake_binance_memory``.
"""

from ..venues.binance._fake import DEFAULT_SYMBOLS as DEFAULT_SYMBOLS
from ..venues.binance._fake import BinanceApiError as BinanceApiError
from ..venues.binance._fake import BinancePeer as BinancePeer
from ..venues.binance._fake import BinanceTestKey as BinanceTestKey
from ..venues.binance._fake import FakeBinance as FakeBinance
from ..venues.binance._fake import binance_api_url as binance_api_url
from ..venues.binance._fake import binance_raw_url as binance_raw_url
from ..venues.binance._fake import binance_server as binance_server
from ..venues.binance._fake import binance_stream_url as binance_stream_url
from ..venues.binance._fake import ed25519_test_key as ed25519_test_key
from ..venues.binance._fake import hmac_test_key as hmac_test_key
from ..venues.binance._fake import rsa_test_key as rsa_test_key

__all__ = [
    "DEFAULT_SYMBOLS",
    "BinanceApiError",
    "BinancePeer",
    "BinanceTestKey",
    "FakeBinance",
    "binance_api_url",
    "binance_raw_url",
    "binance_server",
    "binance_stream_url",
    "ed25519_test_key",
    "hmac_test_key",
    "rsa_test_key",
]
