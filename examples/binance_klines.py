"""Print one-second Binance candles, marking the ones that closed.

Run it as a script::

    python examples/binance_klines.py            # against a fake Binance started in-process
    python examples/binance_klines.py wss://stream.binance.com:9443/stream

The stream is named in the URL (``?streams=btcusdt@kline_1s``), so it flows
from the start without a SUBSCRIBE.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues import BinanceSpot
from trio_venues.events import Disconnected, Message
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_server
from trio_venues.venues.binance import Kline, KlineBar

STREAM = "btcusdt@kline_1s"


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: candle updates every 200 ms, on Trio's clock."""
    behaviour = FakeBinance(clock=virtual_clock_ms())
    return binance_server(behaviour, auto_generate=0.2, generate_count=1000)


async def main(url: str | None = None, *, transport: Any = None, count: int = 8) -> list[KlineBar]:
    """Print ``count`` candle updates of ``btcusdt`` (a fake Binance on 127.0.0.1 when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    bars: list[KlineBar] = []
    async with BinanceSpot.connect(BinanceSpot.combined_url(STREAM, base=url), **options) as ws:
        async for event in ws.events:
            match event:
                case Message(topic="btcusdt@kline_1s", data=Kline(bar=bar)):
                    state = "closed" if bar.is_closed else "open  "
                    print(
                        f"{bar.symbol} {bar.start_time} {state} o={bar.open} h={bar.high} "
                        f"l={bar.low} c={bar.close} v={bar.volume} trades={bar.trade_count}"
                    )
                    bars.append(bar)
                    if len(bars) == count:
                        break
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")
    return bars


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
