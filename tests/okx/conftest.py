"""OKX session tests run in memory against the fake OKX, on both transports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import FakeOkx, OkxAccount, fake_okx_server

from ._helpers import API_KEY, PASSPHRASE, SECRET

TRANSPORTS = ["default", "trio-websocket"]


@pytest.fixture(params=TRANSPORTS)
def kind(request: pytest.FixtureRequest) -> str:
    """The client transport under test."""
    return str(request.param)


@pytest.fixture
async def fake(nursery: trio.Nursery) -> AsyncIterator[FakeVenueServer[FakeOkx]]:
    """A fake OKX with one test account, serving in-memory connections."""
    server = fake_okx_server(FakeOkx(accounts={API_KEY: OkxAccount(SECRET, PASSPHRASE)}))
    await nursery.start(server.run)
    yield server
    server.stop()
