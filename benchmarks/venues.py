"""One typed-trade row per venue in ``make bench``: a table of venue payloads and clients.

Every venue is measured the same way (``benchmarks.run``, scenario ``venues``):
the bench server streams that venue's own trade frames; the venue's typed
client consumes them through ``async for event in ws.events``, and the Trio
minimal-framing limit (``clients/trio_rawsock_orjson.py --venue NAME``)
consumes the very same frames with orjson. The ratio typed / limit is printed
against the target (issue 17: >= 0.45x), never asserted.

Adding a venue is one :class:`VenueTrades` entry in :data:`VENUES`: how to
make ``n`` trade frames as the venue sends them, the frame that ends a run,
the URL path to connect to, a typed connection, and how to recognise the end
frame both typed and raw. For example (OKX)::

    "okx": VenueTrades(
        frames=okx_trade_frames,                    # deterministic, seeded, ~like the venue's
        sentinel=okx_trade_frame("END-USDT", ...),
        path="/ws/v5/public",
        connect=lambda url: _okx().connect(url),   # subscribes, if the venue needs it
        is_sentinel=lambda message: message.topic == "trades:END-USDT",
        raw_is_sentinel=lambda obj: obj.get("arg", {}).get("instId") == "END-USDT",
        touch=lambda data: data.trades[0].price,
    ),

Keep the imports of ``trio_venues`` inside the functions: ``benchmarks.run``
imports this table in a process that never connects.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from .payloads import sentinel_payload, sentinel_stream, streams_path, trade_payloads

__all__ = ["VENUES", "VenueTrades"]


def _price(data: Any) -> object:
    return data.price


@dataclass(frozen=True)
class VenueTrades:
    """How to stream one venue's trades to a client and consume them typed.

    Attributes:
        frames: ``frames(n)``: ``n`` trade payloads (the text of each frame),
            deterministic, shaped as the venue sends them.
        sentinel: one more payload, sent last, that ends the run.
        path: the URL path (and query) the client connects to on the server.
        connect: ``connect(url)``: an ``async with`` typed connection (subscribe
            inside it when the venue needs a request before it sends data; the
            bench server sends regardless and ignores what it receives).
        is_sentinel: whether a typed ``Message`` is the sentinel.
        raw_is_sentinel: whether an ``orjson.loads`` payload is the sentinel.
        touch: reads one decoded field of a message's data (so lazy decoding
            cannot hide its cost).
    """

    frames: Callable[[int], list[bytes]]
    sentinel: bytes
    path: str
    connect: Callable[[str], AbstractAsyncContextManager[Any]]
    is_sentinel: Callable[[Any], bool]
    raw_is_sentinel: Callable[[Any], bool]
    touch: Callable[[Any], object] = _price


def _binance_connect(url: str) -> AbstractAsyncContextManager[Any]:
    from trio_venues import BinanceSpot

    return BinanceSpot.connect(url)


_BINANCE_END = sentinel_stream("trade")

#: The venues measured by the ``venues`` scenario, in table order.
VENUES: dict[str, VenueTrades] = {
    "binance": VenueTrades(
        frames=trade_payloads,
        sentinel=sentinel_payload("trade"),
        path=streams_path("trade"),
        connect=_binance_connect,
        is_sentinel=lambda message: message.topic == _BINANCE_END,
        raw_is_sentinel=lambda obj: obj.get("stream") == _BINANCE_END,
    ),
}
