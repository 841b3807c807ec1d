"""Place, amend and cancel an order on Bybit's order-entry WebSocket (``/v5/trade``).

Run it as a script::

    python examples/bybit_orders.py           # against a fake Bybit started in-process

Against the real venue, pass your own key: ``Bybit.connect(endpoint="trade",
credentials=Credentials(key, secret))`` (Bybit offers order entry on the
testnet too: ``endpoint_url("trade", "stream-testnet.bybit.com")``). The client
logs on first; ``connect()`` returns once Bybit accepted the key.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import trio

from trio_venues.testing import FakeVenueServer
from trio_venues.testing.bybit import bybit_server, fake_credentials
from trio_venues.venues.bybit import Bybit


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: Bybit's order-entry endpoint."""
    return bybit_server("trade")


async def main(url: str | None = None, *, transport: Any = None) -> list[Any]:
    """Create, amend and cancel one order at ``url`` (a fake Bybit when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    replies: list[Any] = []
    async with Bybit.connect(
        url, endpoint="trade", credentials=fake_credentials(), **options
    ) as ws:
        order = {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": Decimal("0.001"),
            "price": Decimal("25000"),
            "timeInForce": "PostOnly",
            "orderLinkId": "example-1",
        }
        placed = await ws.place_order(order, timeout=5)
        print("placed", placed)
        replies.append(placed)
        ident = {"category": "linear", "symbol": "BTCUSDT", "orderId": placed.order_id}
        replies.append(await ws.amend_order({**ident, "price": Decimal("25100")}))
        print("amended", replies[-1])
        replies.append(await ws.cancel_order(ident))
        print("cancelled", replies[-1])
    return replies


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
