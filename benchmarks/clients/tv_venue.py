"""trio_venues: one venue's typed trades through ``async for`` (``--venue NAME``).

The venue's entry in ``benchmarks.venues.VENUES`` opens the typed connection
and recognises the sentinel; the per-message work is the user's: match the
event, check for the sentinel, read a decoded field, count.
"""

from __future__ import annotations

import time

import trio

from trio_venues.events import Message

from ..venues import VENUES, VenueTrades
from ._common import Result, client_args, emit


async def typed_trades(venue: VenueTrades, url: str) -> Result:
    """Receive typed events until the sentinel; count the messages before it."""
    n = 0
    is_sentinel = venue.is_sentinel
    touch = venue.touch
    async with venue.connect(url) as ws:
        t0 = time.perf_counter()
        async for event in ws.events:
            match event:
                case Message(data=data):
                    if is_sentinel(event):
                        break
                    touch(data)
                    n += 1
        seconds = time.perf_counter() - t0
    return {"msgs": n, "seconds": seconds}


def main() -> None:
    """Run the trade mode for ``--venue`` and print its RESULT line."""
    a = client_args(__doc__ or "")
    if a.mode != "trade":
        raise SystemExit("tv_venue measures typed trades only (--mode trade)")
    emit(trio.run(typed_trades, VENUES[a.venue], a.url))


if __name__ == "__main__":
    main()
