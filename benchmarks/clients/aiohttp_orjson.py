"""Peer: aiohttp ``ws_connect`` + orjson, ``decode_text=False`` (uvloop by default)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson

from ._aio import run
from ._common import LatencyRecorder, Result, client_args, emit, rss_bytes, sentinel_for


async def stream(url: str, mode: str, count: int) -> Result:
    """Receive and decode until the sentinel; latency mode records ``E``."""
    sentinel = sentinel_for(mode)
    latency = LatencyRecorder(count) if mode == "latency" else None
    n = nbytes = 0
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, compress=0, max_msg_size=0, decode_text=False) as ws,
    ):
        t0 = time.perf_counter()
        while True:
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break  # closed before the sentinel: msgs tells
            payload = msg.data
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
    """Open ``conns`` idle connections (one session) and report the RSS growth."""
    # The default connector allows 100 connections per session; lift the cap.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with session.ws_connect(url):
            pass  # warm-up: imports and first-use allocations
        before = rss_bytes()
        sockets = [await session.ws_connect(url) for _ in range(conns)]
        await asyncio.sleep(0.5)
        after = rss_bytes()
        await asyncio.gather(*(ws.close() for ws in sockets))
    return {"conns": conns, "rss_before": before, "rss_after": after}


def main() -> None:
    """Run one mode and print its RESULT line."""
    a = client_args(__doc__ or "")
    if a.mode == "idle":
        emit(run(idle(a.url, a.conns), a.loop))
    else:
        emit(run(stream(a.url, a.mode, a.count), a.loop))


if __name__ == "__main__":
    main()
