"""Peer: picows callback API + orjson on the payload memoryview (uvloop by default)."""

from __future__ import annotations

import asyncio
import time

import orjson
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from ._aio import run
from ._common import LatencyRecorder, Result, client_args, emit, rss_bytes, sentinel_for


class StreamListener(WSListener):
    """Decodes every text frame (the server never fragments: one frame, one message)."""

    def __init__(self, mode: str, count: int) -> None:
        self.sentinel = sentinel_for(mode)
        self.latency = LatencyRecorder(count) if mode == "latency" else None
        self.n = 0
        self.nbytes = 0
        self.t0 = 0.0
        self.seconds = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_ws_connected(self, transport: WSTransport) -> None:
        """Start the clock at handshake completion."""
        self.t0 = time.perf_counter()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        """Decode, compare the stream name, count; stop at the sentinel."""
        if frame.msg_type == WSMsgType.TEXT:
            payload = frame.get_payload_as_memoryview()
            obj = orjson.loads(payload)
            if obj["stream"] == self.sentinel:
                self.seconds = time.perf_counter() - self.t0
                if not self.done.done():
                    self.done.set_result(None)
                return
            self.n += 1
            self.nbytes += len(payload)
            if self.latency is not None:
                self.latency.add(obj["data"]["E"])
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        """A connection that ends before the sentinel still ends the wait."""
        if not self.done.done():
            self.seconds = time.perf_counter() - self.t0
            self.done.set_result(None)


async def stream(url: str, mode: str, count: int) -> Result:
    """Receive and decode until the sentinel; latency mode records ``E``."""
    transport, listener = await ws_connect(lambda: StreamListener(mode, count), url)
    assert isinstance(listener, StreamListener)
    await listener.done
    transport.disconnect()
    await transport.wait_disconnected()
    result: Result = {"msgs": listener.n, "bytes": listener.nbytes, "seconds": listener.seconds}
    if listener.latency is not None:
        result.update(listener.latency.summary())
    return result


async def idle(url: str, conns: int) -> Result:
    """Open ``conns`` idle connections and report the RSS growth per connection."""
    transport, _ = await ws_connect(WSListener, url)
    transport.disconnect()
    await transport.wait_disconnected()
    before = rss_bytes()
    opened = [await ws_connect(WSListener, url) for _ in range(conns)]
    await asyncio.sleep(0.5)
    after = rss_bytes()
    for transport, _ in opened:
        transport.disconnect()
    await asyncio.gather(*(t.wait_disconnected() for t, _ in opened))
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
