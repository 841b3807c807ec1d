"""Log in to OKX's private endpoint, follow your orders, place one and cancel it.

Run it as a script::

    python examples/okx_orders.py       # against a fake OKX started in-process

The fake accepts the test credentials below; against the real OKX use your own
``Credentials(api_key, secret, passphrase)`` and
``Okx.connect(endpoint="private", credentials=...)`` (a demo-trading key with
``okx_url("private", demo=True)``). The login happens before ``connect()``
returns; the secret and passphrase never appear in logs or reprs.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import trio

from trio_venues.credentials import Credentials
from trio_venues.events import Disconnected, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import FakeOkx, OkxAccount, fake_okx_server
from trio_venues.venues.okx import Okx, Order

CREDENTIALS = Credentials("example-key", "example-secret", "example-passphrase")


def fake_venue() -> FakeVenueServer[Any]:
    """A fake OKX private endpoint that knows the example's API key."""
    account = OkxAccount("example-secret", "example-passphrase")
    return fake_okx_server(FakeOkx(accounts={"example-key": account}), path="/ws/v5/private")


async def main(url: str | None = None, *, transport: Any = None) -> list[Order]:
    """Place and cancel one order; return the order updates OKX pushed."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    updates: list[Order] = []
    async with Okx.connect(url, endpoint="private", credentials=CREDENTIALS, **options) as ws:
        await ws.subscribe_orders("SPOT")
        placed = await ws.place_order(
            "BTC-USDT", "buy", "limit", Decimal("0.01"), price=Decimal("100.5"), timeout=5
        )
        print(f"placed order {placed.ord_id}")
        cancelled = await ws.cancel_order("BTC-USDT", ord_id=placed.ord_id, timeout=5)
        print(f"cancelled order {cancelled.ord_id}")
        async for event in ws.events:
            match event:
                case Message(data=Order() as order):
                    print(f"order {order.ord_id}: {order.state} {order.size} @ {order.price}")
                    updates.append(order)
                    if order.state == "canceled":
                        break
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")
    return updates


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
