"""Plain HTTP on a fake venue's port: the behaviour's http_get, over TCP and in memory."""

from __future__ import annotations

import httpx2
import pytest
import trio

from trio_venues.testing import (
    FakeVenueServer,
    GenericVenue,
    HandshakeRequest,
    HttpReply,
    RawResponse,
    Reject,
    Silent,
)
from trio_venues.testing._http import StreamTransport
from trio_venues.venues.generic import GenericJson


class RestVenue(GenericVenue):
    """The generic venue plus one REST path."""

    def http_get(self, request: HandshakeRequest) -> HttpReply | None:
        if request.path == "/api/items":
            return HttpReply.json({"items": [1, 2], "query": request.query})
        if request.path == "/api/big":
            return HttpReply(200, b"x" * 5000, "text/plain")
        return None


async def _tcp_server(
    nursery: trio.Nursery, behaviour: GenericVenue
) -> FakeVenueServer[GenericVenue]:
    server = FakeVenueServer(behaviour)
    await nursery.start(server.serve_tcp)
    return server


async def test_a_get_is_answered_on_the_websocket_port(nursery: trio.Nursery) -> None:
    """GET and HEAD reach http_get; other methods are 405; the WebSocket still works there."""
    server = await _tcp_server(nursery, RestVenue())
    assert server.http_url == f"http://127.0.0.1:{server.port}"
    async with httpx2.AsyncClient() as client:
        got = await client.get(server.http_url + "/api/items", params={"a": "1"})
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/json"
        assert got.json() == {"items": [1, 2], "query": "a=1"}
        head = await client.head(server.http_url + "/api/items")
        assert head.status_code == 200
        assert head.content == b""
        post = await client.post(server.http_url + "/api/items", content=b"{}")
        assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD")
        # A path the hook does not know is a failed handshake, as before.
        missing = await client.get(server.http_url + "/nothing")
        assert missing.status_code == 400
    assert server.http_requests == 3
    async with GenericJson.connect(server.url, ping_interval=None) as ws:
        await ws.subscribe("ticks")
    assert server.connected_count == 1


async def test_a_venue_without_the_hook_answers_400(nursery: trio.Nursery) -> None:
    """Behaviours without http_get keep refusing plain GETs as bad handshakes."""
    server = await _tcp_server(nursery, GenericVenue())
    async with httpx2.AsyncClient() as client:
        got = await client.get(server.http_url + "/api/items")
    assert got.status_code == 400
    assert server.http_requests == 0


async def test_memory_transport_carries_http(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """memory_transport().http_transport() reaches the same hook without a socket."""
    server = FakeVenueServer(RestVenue())
    await nursery.start(server.run)
    transport = server.memory_transport().http_transport()
    async with httpx2.AsyncClient(transport=transport) as client:
        got = await client.get(server.http_url + "/api/items?b=2")
        assert got.json() == {"items": [1, 2], "query": "b=2"}
        server.fail_handshakes(Reject(503, body=b"busy"))
        refused = await client.get(server.http_url + "/api/items")
        assert (refused.status_code, refused.content) == (503, b"busy")
    assert server.http_requests == 1


async def test_stream_transport_bounds_the_body_and_the_wait(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A body over max_body and a server that never answers are httpx2 errors, not hangs."""
    server = FakeVenueServer(RestVenue())
    await nursery.start(server.run)
    small = StreamTransport(server.open_memory_stream, max_body=1000)
    async with httpx2.AsyncClient(transport=small) as client:
        with pytest.raises(httpx2.RemoteProtocolError, match="over 1000 bytes"):
            await client.get(server.http_url + "/api/big")
    server.fail_handshakes(Silent())
    async with httpx2.AsyncClient(transport=small, timeout=2.0) as client:
        with pytest.raises(httpx2.ReadTimeout):
            await client.get(server.http_url + "/api/items")


async def test_a_server_closing_early_is_a_protocol_error(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A connection closed before a whole response is httpx2.RemoteProtocolError."""
    server = FakeVenueServer(RestVenue())
    await nursery.start(server.run)
    server.fail_handshakes(RawResponse(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"))
    async with httpx2.AsyncClient(transport=server.memory_transport().http_transport()) as client:
        with pytest.raises(httpx2.RemoteProtocolError):
            await client.get(server.http_url + "/api/items")
