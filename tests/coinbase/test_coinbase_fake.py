"""The fake Coinbase itself, seen through a raw connection: acks, numbering, JWT checks."""

from __future__ import annotations

import json
from typing import Any

import trio

from trio_venues import RawWebSocket
from trio_venues.events import Message
from trio_venues.venues.coinbase import encode_client_request
from trio_venues.venues.coinbase._fake import coinbase_test_key, coinbase_url

from ._helpers import Fake


def raw(fake: Fake, endpoint: str = "market") -> Any:
    """A RawWebSocket to the fake: we send Coinbase's JSON ourselves."""
    return RawWebSocket.connect(
        coinbase_url(fake, endpoint), transport=fake.memory_transport(), ping_interval=None
    )


async def frames(ws: Any, count: int) -> list[dict[str, Any]]:
    """The next ``count`` text frames as JSON."""
    out: list[dict[str, Any]] = []
    async for event in ws.events:
        if isinstance(event, Message):
            out.append(json.loads(event.data))
            if len(out) == count:
                break
    return out


async def test_cumulative_acks_and_one_sequence_across_channels(fake: Fake) -> None:
    """Acks list every subscription; sequence_num counts every message of the connection from 0."""
    async with raw(fake) as ws:
        await ws.send(encode_client_request("subscribe", "market_trades", ["BTC-USD"], None))
        (first,) = await frames(ws, 1)
        await ws.send(encode_client_request("subscribe", "heartbeats", [], None))
        (second,) = await frames(ws, 1)
        await fake.push("market_trades:BTC-USD")
        (trade,) = await frames(ws, 1)
    assert first["channel"] == second["channel"] == "subscriptions"
    assert "client_id" not in first  # as 2026 live frames
    assert first["events"] == [{"subscriptions": {"market_trades": ["BTC-USD"]}}]
    assert second["events"] == [
        {"subscriptions": {"market_trades": ["BTC-USD"], "heartbeats": ["heartbeats"]}}
    ]
    assert [first["sequence_num"], second["sequence_num"], trade["sequence_num"]] == [0, 1, 2]


async def test_each_connection_numbers_from_zero(fake: Fake) -> None:
    """Two connections each have their own sequence."""
    async with raw(fake) as one, raw(fake) as two:
        await one.send(encode_client_request("subscribe", "status", [], None))
        await one.send(encode_client_request("subscribe", "ticker", ["BTC-USD"], None))
        a = await frames(one, 3)
        await two.send(encode_client_request("subscribe", "ticker", ["BTC-USD"], None))
        (b,) = await frames(two, 1)
    assert [m["sequence_num"] for m in a] == [0, 1, 2]
    assert b["sequence_num"] == 0


async def test_level2_snapshot_comes_before_the_ack(fake: Fake) -> None:
    """As captured live: the l2_data snapshot (sequence 0) precedes the ack (1)."""
    async with raw(fake) as ws:
        await ws.send(encode_client_request("subscribe", "level2", ["ETH-USD"], None))
        snapshot, ack = await frames(ws, 2)
    assert (snapshot["channel"], snapshot["sequence_num"]) == ("l2_data", 0)
    assert snapshot["events"][0]["type"] == "snapshot"
    assert (ack["channel"], ack["sequence_num"]) == ("subscriptions", 1)


async def test_expired_or_foreign_jwt_is_an_authentication_failure(fake: Fake) -> None:
    """A JWT signed 3 minutes ago, or by an unknown key, gets "authentication failure"."""
    key = coinbase_test_key()
    stale = key.signer().token(fake.behaviour.clock() - 180)
    stranger = coinbase_test_key("stranger").signer().token(fake.behaviour.clock())
    good = key.signer().token(fake.behaviour.clock())
    async with raw(fake, "user") as ws:
        for jwt in (stale, stranger):
            await ws.send(encode_client_request("subscribe", "user", [], jwt))
            (answer,) = await frames(ws, 1)
            assert answer == {"type": "error", "message": "authentication failure"}
        await ws.send(encode_client_request("subscribe", "user", [], good))
        ack, snapshot = await frames(ws, 2)
    assert ack["events"] == [{"subscriptions": {"user": ["user"]}}]
    assert snapshot["channel"] == "user"


async def test_private_channel_without_jwt_and_unknown_channel(fake: Fake) -> None:
    """user without a JWT and a misspelt channel both get "authentication failure"."""
    async with raw(fake) as ws:
        await ws.send(encode_client_request("subscribe", "user", [], None))
        await ws.send(encode_client_request("subscribe", "heartbeat", [], None))
        answers = await frames(ws, 2)
    assert answers == [{"type": "error", "message": "authentication failure"}] * 2


async def test_fail_auth_fault(fake: Fake) -> None:
    """fail_auth(1) refuses the next signed subscribe, then JWTs work again."""
    signer = coinbase_test_key().signer()
    fake.behaviour.fail_auth(1)
    async with raw(fake) as ws:
        for _ in range(2):
            token = signer.token(fake.behaviour.clock())
            await ws.send(encode_client_request("subscribe", "ticker", ["BTC-USD"], token))
        refused, ack = await frames(ws, 2)
    assert refused["type"] == "error"
    assert ack["channel"] == "subscriptions"


async def test_user_endpoint_by_path(fake: Fake) -> None:
    """coinbase_url(server, "user") reaches the user endpoint of the same fake."""
    async with raw(fake, "user") as ws:
        await ws.send(encode_client_request("subscribe", "heartbeats", [], None))
        await frames(ws, 1)
        conn = fake.connections[-1]
        assert fake.behaviour.peer(conn).endpoint == "user"
    with trio.fail_after(1):
        await conn.wait_closed()
