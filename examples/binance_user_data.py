"""Log on to the Binance WebSocket API with an Ed25519 key and print account events.

Run it as a script::

    python examples/binance_user_data.py         # against a fake Binance started in-process
    BINANCE_API_KEY=... BINANCE_ED25519_KEY=path/to/private.pem \\
        python examples/binance_user_data.py wss://ws-api.binance.com:443/ws-api/v3

Against the fake, the built-in test key is used (the fake accepts it, Binance
does not). ``logon=True`` runs ``session.logon`` before the block, so
``subscribe_user_data()`` needs no signature.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import trio

from trio_venues import BinanceSpotApi
from trio_venues.events import Authenticated, Disconnected, Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.binance import FakeBinance, binance_server, ed25519_test_key
from trio_venues.venues.binance import AccountPosition, Ed25519Signer, UserDataEvent


def fake_venue() -> FakeVenueServer[Any]:
    """The fake this example runs against: the WS API, 3 account events per subscription."""
    return binance_server(FakeBinance(auto_user_events=3), path="/ws-api/v3")


def _signer() -> Ed25519Signer:
    api_key, key_file = os.environ.get("BINANCE_API_KEY"), os.environ.get("BINANCE_ED25519_KEY")
    if api_key and key_file:
        return Ed25519Signer(api_key, Path(key_file).read_bytes())
    test_key = ed25519_test_key()  # only a fake venue accepts it
    return Ed25519Signer(test_key.api_key, test_key.private_key_pem())


async def main(
    url: str | None = None, *, transport: Any = None, count: int = 3
) -> list[UserDataEvent]:
    """Log on, subscribe to user data and print ``count`` events (a fake Binance when ``None``)."""
    if url is None:
        async with trio.open_nursery() as nursery:
            server = fake_venue()
            await nursery.start(server.serve_tcp)
            result = await main(server.url, count=count)
            nursery.cancel_scope.cancel()
        return result

    options = {} if transport is None else {"transport": transport}
    received: list[UserDataEvent] = []
    async with BinanceSpotApi.connect(url, signer=_signer(), logon=True, **options) as ws:
        print(f"server time {await ws.server_time()}")
        subscription = await ws.subscribe_user_data()
        print(f"user data subscription {subscription}")
        async for event in ws.events:
            match event:
                case Authenticated(details=details):
                    print(f"logged on as {details['apiKey']}")  # abbreviated: never the secret
                case Message(data=UserDataEvent(event=AccountPosition() as position) as data):
                    for balance in position.balances:
                        print(f"{balance.asset}: free {balance.free:f}, locked {balance.locked:f}")
                    received.append(data)
                case Message(data=UserDataEvent() as data):
                    print(f"user event: {data.event!r}")
                    received.append(data)
                case Disconnected(reason=reason):
                    print(f"disconnected: {reason!r}")
            if len(received) == count:
                break
    return received


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
