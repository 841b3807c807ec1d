"""OKX trades in the unified vocabulary: spot and swap trades as the same `Trade`.

Loads OKX's instrument catalogue over the ``instruments`` channel, then turns
the trades of a spot pair and of a linear swap into unified trades: canonical
symbols (``BTC-USDT``, ``BTC-USDT-PERP``) and quantities in the base asset
(a swap's contracts times the contract value, exactly).

Run it as a script::

    python examples/okx_unified.py                                  # a fake OKX in-process
    python examples/okx_unified.py wss://ws.okx.com:8443/ws/v5/public

With no URL the fake OKX listens on 127.0.0.1 and generates trades; nothing
leaves the machine.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from trio_venues.events import Disconnected, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import fake_okx_server
from trio_venues.unified import Trade, unified_each
from trio_venues.venues._registry import get_venue
from trio_venues.venues.okx import Okx


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: trades of any subscribed instrument every 50 ms."""
    return fake_okx_server(path="/ws/v5/public", auto_generate=0.05, generate_count=1000)


async def main(url: str | None = None, *, transport: Any = None, count: int = 10) -> list[Trade]:
    """Print ``count`` unified trades from ``url`` (a fake OKX on 127.0.0.1 when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    support = get_venue("okx").unified
    assert support is not None
    catalogue = await support.load_catalogue(url, inst_types=["SPOT", "SWAP"], **options)
    swap = catalogue.by_symbol("BTC-USDT-PERP")
    print(f"{catalogue!r}; one {swap.venue_symbol} contract is {swap.contract_size} {swap.base}")
    unify = support.unifier(catalogue, url)
    trades: list[Trade] = []
    async with Okx.connect(url, **options) as ws:
        await ws.subscribe_trades(catalogue.venue_symbol("BTC-USDT"), swap.venue_symbol)
        async for event in ws.events:
            match event:
                case Message(data=data, received_at=received_at):
                    for unified in unified_each(unify(data, received_at)):
                        if isinstance(unified, Trade):
                            base = catalogue.by_symbol(unified.symbol).base
                            print(
                                f"{unified.symbol:14} #{unified.trade_id} {unified.side:4} "
                                f"{unified.quantity} {base} @ {unified.price}"
                            )
                            trades.append(unified)
                    if len(trades) >= count:
                        break
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")  # always the last event
    return trades


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
