"""Place a Binance limit order, watch it fill partly on the user data stream, cancel the rest.

Run it as a script::

    python examples/binance_orders.py          # against a fake Binance started in-process
    BINANCE_API_KEY=... BINANCE_ED25519_KEY=path/to/private.pem \\
        python examples/binance_orders.py wss://ws-api.testnet.binance.vision/ws-api/v3

Use the Spot **testnet** with a real key: this places a real order. Against
the fake, the built-in test key is used and other participants trade every
0.05 s (``market_flow``), so the bid placed one tick above the best bid is
the first to be hit. The order is larger than any one simulated trade, so
the first fill is partial; then the rest is cancelled.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import trio

from trio_venues import BinanceSpotApi
from trio_venues.events import Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.binance import FakeBinance, binance_server, ed25519_test_key
from trio_venues.venues.binance import AccountPosition, Ed25519Signer, ExecutionReport

SYMBOL = "BTCUSDT"
QUANTITY = Decimal("0.6")


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: the WS API, a funded account, a trading market."""
    fake = FakeBinance(
        balances={"BTC": ("1", "0"), "USDT": ("100000", "0")},
        market_flow=0.05,
    )
    return binance_server(fake, path="/ws-api/v3")


def _signer() -> Ed25519Signer:
    api_key, key_file = os.environ.get("BINANCE_API_KEY"), os.environ.get("BINANCE_ED25519_KEY")
    if api_key and key_file:
        return Ed25519Signer(api_key, Path(key_file).read_bytes())
    test_key = ed25519_test_key()  # only a fake venue accepts it
    return Ed25519Signer(test_key.api_key, test_key.private_key_pem())


async def main(url: str | None = None, *, transport: Any = None) -> list[ExecutionReport]:
    """Place, see a partial fill, cancel; return the order's executionReports."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    reports: list[ExecutionReport] = []
    async with BinanceSpotApi.connect(url, signer=_signer(), logon=True, **options) as ws:
        await ws.subscribe_user_data()
        book = await ws.depth(SYMBOL, limit=5)
        (best_bid, _), (best_ask, _) = book.decimal_bids()[0], book.decimal_asks()[0]
        price = best_bid + Decimal("0.01")  # one tick above the best bid, below the ask
        assert price < best_ask
        placed = await ws.place_order(
            SYMBOL, "BUY", "LIMIT", quantity=QUANTITY, price=price, time_in_force="GTC"
        )
        print(f"placed order {placed.order_id}: {placed.status} {QUANTITY} @ {price}")
        cancelled = False
        async for event in ws.events:
            match event:
                case Message(data=data) if isinstance(data.event, ExecutionReport):
                    report = data.event
                    if report.order_id != placed.order_id:
                        continue
                    reports.append(report)
                    print(
                        f"{report.execution_type:<8} {report.order_status:<16} "
                        f"filled {report.cumulative_filled_quantity:f} of {report.quantity:f}"
                    )
                    if report.execution_type == "TRADE" and not cancelled:
                        cancelled = True
                        final = await ws.cancel_order(SYMBOL, placed.order_id)
                        print(f"cancel answered {final.status}, {final.executed_quantity:f} filled")
                    if report.order_status in ("CANCELED", "FILLED"):
                        break
                case Message(data=data) if isinstance(data.event, AccountPosition):
                    for balance in data.event.balances:
                        print(
                            f"  {balance.asset}: free {balance.free:f}, locked {balance.locked:f}"
                        )
    return reports


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
