"""The fake server numbers data per topic or per connection."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import trio

from trio_venues.testing import FakeVenueServer, GenericVenue, RawClient, ServerConnection

Server = FakeVenueServer[GenericVenue]


async def started(nursery: trio.Nursery, **options: Any) -> Server:
    server: Server = FakeVenueServer(**options)
    await nursery.start(server.run)
    return server


async def subscribed(server: Server, *topics: str) -> tuple[RawClient, ServerConnection]:
    client, conn = await server.connect_raw()
    await client.send_text(orjson.dumps({"op": "subscribe", "id": 1, "args": topics}).decode())
    await conn.wait_subscribed(*topics)
    assert orjson.loads(await client.receive_text()) == {"id": 1, "result": None}
    return client, conn


async def numbers(client: RawClient, count: int) -> list[tuple[str, int]]:
    """(topic, seq) of the client's next ``count`` data frames."""
    out = []
    for _ in range(count):
        frame = orjson.loads(await client.receive_text())
        out.append((frame["topic"], frame["seq"]))
    return out


async def test_per_topic_numbering_is_shared_by_subscribers(nursery: trio.Nursery) -> None:
    """sequence="topic": each topic counts from 1, the same numbers for every client."""
    server = await started(nursery)
    first, _ = await subscribed(server, "a", "b")
    second, _ = await subscribed(server, "a")
    assert [await server.push(t) for t in ("a", "b", "a")] == [1, 1, 2]
    assert server.last_seq("a") == 2
    assert await numbers(first, 3) == [("a", 1), ("b", 1), ("a", 2)]
    assert await numbers(second, 2) == [("a", 1), ("a", 2)]


async def test_per_connection_numbering_spans_topics(nursery: trio.Nursery) -> None:
    """sequence="connection": each client's data count 1, 2, 3 across topics; gaps per client."""
    server = await started(nursery, sequence="connection")
    first, conn = await subscribed(server, "a", "b")
    second, _ = await subscribed(server, "b")
    for topic in ("a", "b", "a"):
        await server.push(topic)
    server.inject_gap("b", 2)
    await server.push("b")
    assert await numbers(first, 4) == [("a", 1), ("b", 2), ("a", 3), ("b", 6)]
    assert await numbers(second, 2) == [("b", 1), ("b", 4)]
    assert conn.next_seq == 7


def test_sequence_option_is_checked() -> None:
    """Only "topic" and "connection" are sequence scopes."""
    with pytest.raises(ValueError, match="sequence must be"):
        FakeVenueServer(sequence="venue")
