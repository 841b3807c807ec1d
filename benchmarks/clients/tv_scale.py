"""trio_venues at scale: many connections with ten subscriptions each, in one process.

Opens connections in steps (e.g. 250, 500, 1000) to the ``multi`` server.
Each connection subscribes to ``--subs`` trade streams (Binance ``SUBSCRIBE``,
acknowledged by the server) and consumes its events in its own task. After
each step has settled, it measures, over ``--window`` seconds, this process's
CPU use, the messages delivered and its RSS; one ``RESULT`` line carries all
steps.

By default (``--client raw``) each connection is a ``RawWebSocket`` that sends
the ``SUBSCRIBE`` itself, waits for the ack and decodes every message with
orjson: the session and transport at scale, with no venue rules. ``--client
binance`` uses the typed ``BinanceSpot`` (``ws.subscribe`` waits for the ack,
events carry typed trades); it enforces Binance's published connection limit
(300 attempts per 5 minutes per host, process-wide), so it cannot open more
than 300 connections in one run -- by design.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
import trio

from trio_venues import Connection, RawWebSocket
from trio_venues.events import Message

from ..payloads import SCALE_SYMBOLS, stream_name
from ._common import Result, cpu_seconds, emit, rss_bytes

Connect = Callable[[], AbstractAsyncContextManager[Any]]


def _binance_spot() -> Any:
    """The typed client class, or ``None`` while it is not written yet."""
    try:
        return importlib.import_module("trio_venues").BinanceSpot
    except AttributeError:
        return None


class Fleet:
    """The connections of one run and the counters they share."""

    def __init__(self, url: str, subs: int, transport: str, typed: bool) -> None:
        self.url = url
        self.streams = [stream_name(s, "trade") for s in SCALE_SYMBOLS[:subs]]
        self.transport = transport
        self.spot = _binance_spot() if typed else None
        self.messages = 0
        self.open = 0

    async def _subscribe(self, ws: Connection) -> AsyncIterator[Any]:
        """Subscribe; yield the event iterator positioned after the ack."""
        events = ws.events.__aiter__()
        if self.spot is not None:
            await ws.subscribe(*self.streams)
            return events
        request = {"method": "SUBSCRIBE", "params": self.streams, "id": 1}
        await ws.send(orjson.dumps(request).decode())  # str: a text frame
        async for event in events:
            if isinstance(event, Message) and orjson.loads(event.data).get("id") == 1:
                break
        return events

    async def warm_up(self) -> None:
        """One connection opened, subscribed and closed: imports and first-use allocations."""
        factory = self.spot if self.spot is not None else RawWebSocket
        async with factory.connect(self.url, transport=self.transport) as ws:
            await self._subscribe(ws)

    async def connection(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """One connection: subscribe, report started, consume until cancelled."""
        factory = self.spot if self.spot is not None else RawWebSocket
        async with factory.connect(self.url, transport=self.transport) as ws:
            events = await self._subscribe(ws)
            self.open += 1
            task_status.started()
            typed = self.spot is not None
            async for event in events:
                if isinstance(event, Message):
                    if not typed:
                        orjson.loads(event.data)
                    self.messages += 1


async def scale(
    url: str,
    steps: list[int],
    subs: int,
    window: float,
    settle: float,
    transport: str,
    typed: bool,
) -> Result:
    """Grow to each step, settle, measure; cancel everything at the end."""
    fleet = Fleet(url, subs, transport, typed)
    rows: list[Result] = []
    await fleet.warm_up()
    base_rss = rss_bytes()
    async with trio.open_nursery() as nursery:
        for target in steps:
            while fleet.open < target:
                # Open up to 50 at a time; each start returns once subscribed.
                batch = min(50, target - fleet.open)
                async with trio.open_nursery() as starters:
                    for _ in range(batch):
                        starters.start_soon(nursery.start, fleet.connection)
            await trio.sleep(settle)  # the server's send schedule has started everywhere
            cpu0, msgs0 = cpu_seconds(), fleet.messages
            await trio.sleep(window)
            cpu1, msgs1 = cpu_seconds(), fleet.messages
            rss = rss_bytes()
            rows.append(
                {
                    "conns": fleet.open,
                    "subs": subs,
                    "msgs_per_s": (msgs1 - msgs0) / window,
                    "cpu_pct": 100.0 * (cpu1 - cpu0) / window,
                    "rss": rss,
                    "rss_growth_per_conn": (rss - base_rss) / max(fleet.open, 1),
                }
            )
        nursery.cancel_scope.cancel(reason="scale run finished")
    client = "BinanceSpot typed events" if fleet.spot is not None else "RawWebSocket + orjson"
    result: Result = {"steps": rows, "base_rss": base_rss, "client": client}
    if typed and fleet.spot is None:
        result["fallback"] = "RawWebSocket + orjson (BinanceSpot not available yet)"
    return result


def main() -> None:
    """Parse the command line, run, and print the RESULT line."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--steps", default="250,500,1000")
    p.add_argument("--subs", type=int, default=10)
    p.add_argument("--window", type=float, default=3.0)
    p.add_argument("--settle", type=float, default=1.0, help="seconds before each window")
    p.add_argument("--transport", default="default")
    p.add_argument("--client", choices=("raw", "binance"), default="raw")
    a = p.parse_args()
    steps = sorted(int(s) for s in a.steps.split(","))
    typed = a.client == "binance"
    emit(trio.run(scale, a.url, steps, a.subs, a.window, a.settle, a.transport, typed))


if __name__ == "__main__":
    main()
