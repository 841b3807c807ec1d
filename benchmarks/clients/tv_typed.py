"""trio_venues: typed Binance events through ``async for event in ws.events``.

``BinanceSpot.connect(url, transport=...)`` on the combined-stream URL the
server names: every message arrives as ``Message(topic, data=Trade)`` (or
``DepthUpdate``). The per-message work is the user's: match the event, compare
the topic with the sentinel's, read the price, count.

``--delivery batches`` receives lists instead (``async for batch in
ws.events.batches()``) and does the same work per event.

While ``BinanceSpot`` is not written yet, this falls back to ``RawWebSocket`` +
orjson and says so in its result (``fallback``), so the table marks the row.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from typing import Any

import trio

from trio_venues.events import Message

from . import tv_raw
from ._common import LatencyRecorder, Result, client_args, emit, sentinel_for

FALLBACK = "RawWebSocket + orjson (BinanceSpot not available yet)"


def _binance_spot() -> Any:
    """The typed client class, or ``None`` while it is not written yet."""
    try:
        return importlib.import_module("trio_venues").BinanceSpot
    except AttributeError:
        return None


def stamp_us(trade: Any) -> int:
    """The server's send stamp (``E``, microseconds) as the typed trade carries it.

    ``event_time`` may be the raw integer or an aware ``datetime``; the latency
    server writes microseconds, so an integer is taken as is.
    """
    value = trade.event_time
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1_000_000)
    return int(value)


async def typed_stream(
    spot: Any, url: str, mode: str, count: int, transport: str, delivery: str = "events"
) -> Result:
    """Receive typed events until the sentinel's topic; latency mode reads ``event_time``."""
    sentinel = sentinel_for(mode)
    latency = LatencyRecorder(count) if mode == "latency" else None
    n = 0
    async with spot.connect(url, transport=transport) as ws:
        t0 = time.perf_counter()
        if delivery == "batches":
            n = await _batches(ws, mode, sentinel, latency)
        else:
            async for event in ws.events:
                match event:
                    case Message(topic=topic, data=data):
                        if topic == sentinel:
                            break
                        # Touch a decoded field so lazy decoding cannot hide its cost.
                        _ = data.price if mode != "depth" else data.bids
                        n += 1
                        if latency is not None:
                            latency.add(stamp_us(data))
        seconds = time.perf_counter() - t0
    result: Result = {"msgs": n, "seconds": seconds}
    if latency is not None:
        result.update(latency.summary())
    return result


async def _batches(ws: Any, mode: str, sentinel: str, latency: LatencyRecorder | None) -> int:
    """The same per-event work over ``ws.events.batches()``; returns the count."""
    n = 0
    async for batch in ws.events.batches():
        for event in batch:
            match event:
                case Message(topic=topic, data=data):
                    if topic == sentinel:
                        return n
                    _ = data.price if mode != "depth" else data.bids
                    n += 1
                    if latency is not None:
                        latency.add(stamp_us(data))
    return n


def main() -> None:
    """Run one mode and print its RESULT line."""
    a = client_args(__doc__ or "")
    if a.mode == "idle":
        raise SystemExit("tv_typed has no idle mode (tv_raw measures trio_venues' idle memory)")
    spot = _binance_spot()
    if spot is None:
        result = trio.run(tv_raw.stream, a.url, a.mode, a.count, a.transport)
        result["fallback"] = FALLBACK
    else:
        result = trio.run(typed_stream, spot, a.url, a.mode, a.count, a.transport, a.delivery)
    emit(result)


if __name__ == "__main__":
    main()
