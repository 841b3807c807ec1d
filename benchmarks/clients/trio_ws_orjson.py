"""Reference: a raw trio-websocket loop + orjson (library defaults)."""

from __future__ import annotations

import time

import orjson
import trio
from trio_websocket import open_websocket_url

from ._common import (
    LatencyRecorder,
    Result,
    client_args,
    emit,
    sentinel_for,
    trio_idle_rss,
)


async def stream(url: str, mode: str, count: int) -> Result:
    """Receive and decode until the sentinel; latency mode records ``E``."""
    sentinel = sentinel_for(mode)
    latency = LatencyRecorder(count) if mode == "latency" else None
    n = nbytes = 0
    async with open_websocket_url(url) as ws:
        t0 = time.perf_counter()
        while True:
            payload = await ws.get_message()
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


async def idle(url: str, conns: int) -> Result:
    """Open ``conns`` idle connections and report the RSS growth per connection."""
    return await trio_idle_rss(lambda: open_websocket_url(url), conns)


def main() -> None:
    """Run one mode and print its RESULT line."""
    a = client_args(__doc__ or "")
    if a.mode == "idle":
        emit(trio.run(idle, a.url, a.conns))
    else:
        emit(trio.run(stream, a.url, a.mode, a.count))


if __name__ == "__main__":
    main()
