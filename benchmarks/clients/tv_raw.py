"""trio_venues: ``RawWebSocket`` + orjson raw loop through ``async for`` over ``ws.events``."""

from __future__ import annotations

import time

import orjson
import trio

from trio_venues import RawWebSocket
from trio_venues.events import Message

from ._common import (
    LatencyRecorder,
    Result,
    client_args,
    emit,
    sentinel_for,
    trio_idle_rss,
)


async def stream(url: str, mode: str, count: int, transport: str) -> Result:
    """Receive and decode until the sentinel; latency mode records ``E``."""
    sentinel = sentinel_for(mode)
    latency = LatencyRecorder(count) if mode == "latency" else None
    n = nbytes = 0
    async with RawWebSocket.connect(url, transport=transport) as ws:
        t0 = time.perf_counter()
        async for event in ws.events:
            if not isinstance(event, Message):
                continue  # Connected, and Disconnected if the server ends it early
            payload = event.data
            obj = orjson.loads(payload)
            if obj["stream"] == sentinel:
                break
            n += 1
            nbytes += len(payload)
            if latency is not None:
                latency.add(obj["data"]["E"])
        seconds = time.perf_counter() - t0
    result: Result = {"msgs": n, "bytes": nbytes, "seconds": seconds}
    if latency is not None:
        result.update(latency.summary())
    return result


async def idle(url: str, conns: int, transport: str) -> Result:
    """Open ``conns`` idle connections (default config) and report the RSS growth."""
    return await trio_idle_rss(lambda: RawWebSocket.connect(url, transport=transport), conns)


def main() -> None:
    """Run one mode and print its RESULT line."""
    a = client_args(__doc__ or "")
    if a.mode == "idle":
        emit(trio.run(idle, a.url, a.conns, a.transport))
    else:
        emit(trio.run(stream, a.url, a.mode, a.count, a.transport))


if __name__ == "__main__":
    main()
