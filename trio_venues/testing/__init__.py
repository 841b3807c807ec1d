"""Test helpers: fake venue servers, fault injection, a fault proxy, TLS certificates.

A fake venue speaks a venue's protocol over loopback TCP or in-memory streams
and misbehaves on command; :class:`FaultProxy` breaks the TCP link between a
client and a server; :func:`make_tls_certs` makes a private CA and good and
bad server certificates. The pytest plugin (:mod:`trio_venues.testing.plugin`,
loaded automatically when trio_venues is installed) exposes them as
pytest-trio fixtures: ``fake_venue``, ``fake_venue_memory``, ``fault_proxy``
and ``tls_certs``.

Example::

    async def test_reconnects_after_drop(fake_venue):
        async with GenericJson.connect(fake_venue.url) as ws:
            conn = await fake_venue.wait_connected()
            await conn.drop(mid_message=True)
            ...
"""

from ..venues.binance._fake import DEFAULT_EPOCH_MS as DEFAULT_EPOCH_MS
from ..venues.binance._fake import DEFAULT_SYMBOLS as DEFAULT_SYMBOLS
from ..venues.binance._fake import BinanceApiError as BinanceApiError
from ..venues.binance._fake import BinancePeer as BinancePeer
from ..venues.binance._fake import BinanceTestKey as BinanceTestKey
from ..venues.binance._fake import FakeBinance as FakeBinance
from ..venues.binance._fake import MarketSimulator as MarketSimulator
from ..venues.binance._fake import RecordedFrame as RecordedFrame
from ..venues.binance._fake import binance_api_url as binance_api_url
from ..venues.binance._fake import binance_raw_url as binance_raw_url
from ..venues.binance._fake import binance_server as binance_server
from ..venues.binance._fake import binance_stream_url as binance_stream_url
from ..venues.binance._fake import ed25519_test_key as ed25519_test_key
from ..venues.binance._fake import hmac_test_key as hmac_test_key
from ..venues.binance._fake import read_recording as read_recording
from ..venues.binance._fake import rsa_test_key as rsa_test_key
from ..venues.binance._fake import virtual_clock_ms as virtual_clock_ms
from ._generic import BAD_JSON as BAD_JSON
from ._generic import FakeVenueError as FakeVenueError
from ._generic import GenericVenue as GenericVenue
from ._generic import MethodHandler as MethodHandler
from ._proxy import Direction as Direction
from ._proxy import FaultProxy as FaultProxy
from ._proxy import Pipe as Pipe
from ._proxy import ProxyConnection as ProxyConnection
from ._rawframes import OP_BINARY as OP_BINARY
from ._rawframes import OP_CLOSE as OP_CLOSE
from ._rawframes import OP_CONTINUATION as OP_CONTINUATION
from ._rawframes import OP_PING as OP_PING
from ._rawframes import OP_PONG as OP_PONG
from ._rawframes import OP_TEXT as OP_TEXT
from ._rawframes import Frame as Frame
from ._rawframes import FrameDecoder as FrameDecoder
from ._rawframes import HandshakeIncomplete as HandshakeIncomplete
from ._rawframes import HandshakeResponse as HandshakeResponse
from ._rawframes import RawClient as RawClient
from ._rawframes import close_payload as close_payload
from ._rawframes import encode_frame as encode_frame
from ._server import AcceptWith as AcceptWith
from ._server import FakeVenueServer as FakeVenueServer
from ._server import GeneratorHandle as GeneratorHandle
from ._server import HandshakeFault as HandshakeFault
from ._server import HandshakeRequest as HandshakeRequest
from ._server import NeverRead as NeverRead
from ._server import NoUpgrade as NoUpgrade
from ._server import RawResponse as RawResponse
from ._server import Reject as Reject
from ._server import ServerConnection as ServerConnection
from ._server import Silent as Silent
from ._server import Trickle as Trickle
from ._server import VenueBehaviour as VenueBehaviour
from ._server import WrongAccept as WrongAccept
from ._server import accept_key as accept_key
from ._tls import TLSCerts as TLSCerts
from ._tls import make_tls_certs as make_tls_certs

__all__ = [
    "BAD_JSON",
    "DEFAULT_EPOCH_MS",
    "DEFAULT_SYMBOLS",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "AcceptWith",
    "BinanceApiError",
    "BinancePeer",
    "BinanceTestKey",
    "Direction",
    "FakeBinance",
    "FakeVenueError",
    "FakeVenueServer",
    "FaultProxy",
    "Frame",
    "FrameDecoder",
    "GeneratorHandle",
    "GenericVenue",
    "HandshakeFault",
    "HandshakeIncomplete",
    "HandshakeRequest",
    "HandshakeResponse",
    "MarketSimulator",
    "MethodHandler",
    "NeverRead",
    "NoUpgrade",
    "Pipe",
    "ProxyConnection",
    "RawClient",
    "RawResponse",
    "RecordedFrame",
    "Reject",
    "ServerConnection",
    "Silent",
    "TLSCerts",
    "Trickle",
    "VenueBehaviour",
    "WrongAccept",
    "accept_key",
    "binance_api_url",
    "binance_raw_url",
    "binance_server",
    "binance_stream_url",
    "close_payload",
    "ed25519_test_key",
    "encode_frame",
    "hmac_test_key",
    "make_tls_certs",
    "read_recording",
    "rsa_test_key",
    "virtual_clock_ms",
]
