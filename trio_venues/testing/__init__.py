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

import warnings
from typing import Any, Final

from ._clock import DEFAULT_EPOCH_MS as DEFAULT_EPOCH_MS
from ._clock import virtual_clock_ms as virtual_clock_ms
from ._generic import BAD_JSON as BAD_JSON
from ._generic import FakeVenueError as FakeVenueError
from ._generic import GenericVenue as GenericVenue
from ._generic import MethodHandler as MethodHandler
from ._market import BookDiff as BookDiff
from ._market import BookSnapshot as BookSnapshot
from ._market import Candle as Candle
from ._market import MarketSimulator as MarketSimulator
from ._market import MarketStats as MarketStats
from ._market import SimAggTrade as SimAggTrade
from ._market import SimTrade as SimTrade
from ._matching import EngineOrder as EngineOrder
from ._matching import Fill as Fill
from ._matching import MatchingEngine as MatchingEngine
from ._matching import OrderRejected as OrderRejected
from ._matching import OrderRequest as OrderRequest
from ._matching import OrderUpdate as OrderUpdate
from ._nats import NatsNode as NatsNode
from ._nats import nats_cluster as nats_cluster
from ._nats import nats_server as nats_server
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
from ._recording import RecordedFrame as RecordedFrame
from ._recording import read_recording as read_recording
from ._recording import replay_recording as replay_recording
from ._server import AcceptWith as AcceptWith
from ._server import FakeVenueServer as FakeVenueServer
from ._server import GeneratorHandle as GeneratorHandle
from ._server import HandshakeFault as HandshakeFault
from ._server import HandshakeRequest as HandshakeRequest
from ._server import HttpReply as HttpReply
from ._server import MemoryTransport as MemoryTransport
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
    "NatsNode",
    "nats_cluster",
    "nats_server",
    "BAD_JSON",
    "BookDiff",
    "BookSnapshot",
    "Candle",
    "MarketStats",
    "SimAggTrade",
    "SimTrade",
    "EngineOrder",
    "Fill",
    "MatchingEngine",
    "OrderRejected",
    "OrderRequest",
    "OrderUpdate",
    "DEFAULT_EPOCH_MS",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "AcceptWith",
    "Direction",
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
    "HttpReply",
    "MarketSimulator",
    "MemoryTransport",
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
    "close_payload",
    "encode_frame",
    "make_tls_certs",
    "read_recording",
    "replay_recording",
    "virtual_clock_ms",
]

# Binance's fake and helpers lived here before each venue got its own folder; they
# are now in trio_venues.testing.binance. The old names keep working for one
# release, with a DeprecationWarning on each access.
_MOVED_TO_BINANCE: Final = frozenset(
    {
        "BinanceApiError",
        "BinancePeer",
        "BinanceTestKey",
        "DEFAULT_SYMBOLS",
        "FakeBinance",
        "binance_api_url",
        "binance_raw_url",
        "binance_server",
        "binance_stream_url",
        "ed25519_test_key",
        "hmac_test_key",
        "rsa_test_key",
    }
)


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_BINANCE:
        warnings.warn(
            f"trio_venues.testing.{name} moved to trio_venues.testing.binance.{name}; "
            "the old name will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        from . import binance

        return getattr(binance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
