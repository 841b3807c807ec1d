"""HTTP/1.1 over any Trio stream, as an httpx2 transport (the fakes' REST side in memory).

A fake venue serves its REST endpoints on the same listener as its WebSocket
(``VenueBehaviour.http_get``). Over loopback TCP any HTTP client reaches them;
in memory there is no socket, so :class:`StreamTransport` speaks HTTP/1.1
itself (with h11, sans-I/O) over a stream it opens per request:
``httpx2.AsyncClient(transport=server.memory_transport().http_transport())``.

One request per stream, ``Connection: close``; the body is bounded
(``max_body``); failures are httpx2's own exceptions, as httpx2's transports
raise them (``httpx2.ReadTimeout``, ``httpx2.RemoteProtocolError``,
``httpx2.ReadError``), so callers map one set of errors whatever the transport.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import h11
import httpx2
import trio

__all__ = ["StreamTransport"]

_READ_SIZE = 65536
#: the largest response body read (a fake's catalogue page is far smaller)
DEFAULT_MAX_BODY = 16 * 1024 * 1024


class StreamTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport sending each request over a new stream from ``open_stream``.

    Args:
        open_stream: opens a connected stream to the server (e.g.
            ``FakeVenueServer.open_memory_stream``).
        max_body: a longer response body is a ``httpx2.RemoteProtocolError``.

    The read timeout of the request (``httpx2.Timeout``'s ``read``) bounds the
    whole exchange; when it passes the request fails with ``httpx2.ReadTimeout``.
    """

    def __init__(
        self, open_stream: Callable[[], trio.abc.Stream], *, max_body: int = DEFAULT_MAX_BODY
    ) -> None:
        self._open_stream = open_stream
        self._max_body = max_body

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        timeouts = request.extensions.get("timeout", {})
        limit = timeouts.get("read")
        conn = h11.Connection(h11.CLIENT)
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"connection"]
        headers.append((b"connection", b"close"))
        body = await request.aread()
        data = conn.send(
            h11.Request(method=request.method, target=request.url.raw_path, headers=headers)
        )
        if body:
            data += conn.send(h11.Data(data=body)) or b""
        data += conn.send(h11.EndOfMessage()) or b""
        stream = self._open_stream()
        try:
            with trio.move_on_after(math.inf if limit is None else limit) as scope:
                return await self._exchange(conn, stream, bytes(data or b""), request)
            if scope.cancelled_caught:
                raise httpx2.ReadTimeout(f"no complete response within {limit}s", request=request)
            raise httpx2.ReadError("the exchange ended without a response", request=request)
        finally:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream)

    async def _exchange(
        self, conn: h11.Connection, stream: trio.abc.Stream, data: bytes, request: httpx2.Request
    ) -> httpx2.Response:
        try:
            await stream.send_all(data)
            response: h11.Response | None = None
            chunks: list[bytes] = []
            size = 0
            # Bounded by max_body and the read timeout; EOF ends it (h11 reports it).
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(bytes(await stream.receive_some(_READ_SIZE)))
                elif isinstance(event, h11.Response):
                    response = event
                elif isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > self._max_body:
                        raise httpx2.RemoteProtocolError(
                            f"response body over {self._max_body} bytes", request=request
                        )
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpx2.RemoteProtocolError(
                        "the server closed the connection without a response", request=request
                    )
        except h11.RemoteProtocolError as exc:
            raise httpx2.RemoteProtocolError(f"bad HTTP response: {exc}", request=request) from exc
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise httpx2.ReadError(f"the connection broke: {exc}", request=request) from exc
        assert response is not None  # h11 yields the Response before any Data/EndOfMessage
        return httpx2.Response(
            response.status_code,
            headers=[(bytes(k), bytes(v)) for k, v in response.headers],
            content=b"".join(chunks),
            request=request,
        )
