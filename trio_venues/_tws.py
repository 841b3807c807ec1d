"""The trio-websocket transport (``transport="trio-websocket"``).

A supported alternative to the default transport. It is slower (measured
~55k msgs/s against the default's several hundred thousand) and less
conformant (wsproto 1.x: no permessage-deflate, a locally detected protocol
error looks like a peer's close). Our session's watchdogs keep its hangs
bounded, and TCP/TLS are opened by our own :func:`~trio_venues._errmap.open_stream`
so TLS failures are reported at once instead of as trio-websocket's 60 s timeout.

**Private internals used here, and only here** (pinned by
``tests/transport/test_tws_internals.py``): trio-websocket answers pings
inside its reader task and never shows ping/pong frames to its user, while
our session must see them (``PingReceived``/``PongReceived``, a venue's rate
limit counts our pongs). So we construct ``WebSocketConnection`` ourselves
(what ``wrap_client_stream`` does), from a subclass that overrides the
private ``_handle_ping_event``/``_handle_pong_event`` handlers to put
:class:`~trio_venues._transport.Ping`/``Pong`` items into the connection's
private message channel, and start its private ``_reader_task`` and wait for
``_open_handshake``.

**Batches.** trio-websocket hands over one message per ``get_message()``, so
each message would cost our reader a task switch. :meth:`TrioWebsocketTransport.receive_batch`
therefore waits for one message, then takes whatever trio-websocket has
already queued from its private ``_recv_channel`` with ``receive_nowait()``
(never waiting, so a lone message is returned at once). Its reader also
yields to the scheduler after every message it queues (a memory channel
``send()``); :class:`_ObservedConnection` queues complete messages with
``send_nowait()`` while there is room, so one read's messages are queued
together and our reader takes them in one batch.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import trio
import trio_websocket
import wsproto.events
from trio_websocket import ConnectionClosed, ConnectionRejected
from wsproto import ConnectionType, WSConnection

from ._errmap import open_stream, rejection_from_response
from ._transport_types import Ping, Pong, TransportClosed, TransportItem
from .errors import ConnectFailed, HandshakeRejected
from .reasons import NetworkError, RemoteClosed

if TYPE_CHECKING:
    from ._config import ConnectionConfig

__all__ = ["TrioWebsocketTransport", "open_trio_websocket_transport", "wrap_trio_websocket"]

# trio-websocket's own queue between its reader and us: our session drains
# it at once into its own bounded buffer, so a small queue suffices. It also
# bounds a receive_batch() (to this plus the one or two messages in hand).
_QUEUE_SIZE = 64
# 64 KiB reads are 1.1-1.6x faster than its 4 KiB default (docs/performance.md, "Read sizes").
_RECEIVE_BYTES = 64 * 1024


class _ObservedConnection(trio_websocket.WebSocketConnection):
    """A ``WebSocketConnection`` that hands ping/pong frames to its user (private hooks).

    It also queues complete messages without yielding while its queue has room.
    """

    async def _handle_message_event(
        self, event: wsproto.events.TextMessage | wsproto.events.BytesMessage
    ) -> None:
        # trio-websocket's handler assembles the message and then awaits
        # ``_send_channel.send(msg)``, a scheduler yield per message. When the
        # event completes a message within the size limit, do the same but
        # queue it with send_nowait() (no yield) while the queue has room.
        # Partial messages and oversized ones (1009) stay with trio-websocket's
        # own handler, unchanged.
        if not event.message_finished or (
            self._message_size + len(event.data) > self._max_message_size
        ):
            await super()._handle_message_event(event)
            return
        msg: str | bytes
        if isinstance(event, wsproto.events.BytesMessage):
            chunks = cast("list[bytes]", self._message_parts)
            chunks.append(bytes(event.data))
            msg = b"".join(chunks)
        else:
            texts = cast("list[str]", self._message_parts)
            texts.append(event.data)
            msg = "".join(texts)
        self._message_size = 0
        self._message_parts = []
        try:
            self._send_channel.send_nowait(msg)
        except trio.WouldBlock:
            # Full: wait for room, as trio-websocket does.
            with contextlib.suppress(trio.ClosedResourceError, trio.BrokenResourceError):
                await self._send_channel.send(msg)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # as trio-websocket: somebody closed the receive side

    async def _handle_ping_event(self, event: wsproto.events.Ping) -> None:
        # Not answered here: the session answers through its rate limiter.
        await self._send_channel.send(Ping(bytes(event.payload)))  # type: ignore[arg-type]

    async def _handle_pong_event(self, event: wsproto.events.Pong) -> None:
        await self._send_channel.send(Pong(bytes(event.payload)))  # type: ignore[arg-type]


def _map_close(exc: ConnectionClosed) -> TransportClosed:
    reason = exc.reason
    if reason is None or reason.code == 1006:
        return TransportClosed(NetworkError("connection dropped without a close frame (1006)"))
    return TransportClosed(RemoteClosed(reason.code, reason.reason or ""))


class TrioWebsocketTransport:
    """:class:`~trio_venues._transport.Transport` over a trio-websocket connection."""

    def __init__(self, ws: trio_websocket.WebSocketConnection, stream: trio.abc.Stream) -> None:
        self._ws = ws
        self._stream = stream

    @property
    def subprotocol(self) -> str | None:
        """The negotiated subprotocol."""
        return self._ws.subprotocol

    @property
    def extensions(self) -> tuple[str, ...]:
        """trio-websocket negotiates no extensions."""
        return ()

    async def receive_batch(self) -> list[TransportItem]:
        """Wait for the next item, then add every item trio-websocket has already queued."""
        try:
            item: TransportItem = await self._ws.get_message()
        except ConnectionClosed as exc:
            raise _map_close(exc) from None
        items = [item]
        # Private: the channel get_message() reads. An ended or closed channel
        # ends the batch; the next get_message() reports it.
        receive_nowait = self._ws._recv_channel.receive_nowait
        while True:
            try:
                items.append(receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return items

    async def _call(self, coro: Any) -> None:
        try:
            await coro
        except ConnectionClosed as exc:
            raise _map_close(exc) from None

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self._call(self._ws.send_message(data))

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self._call(self._ws.send_message(data))

    async def ping(self, payload: bytes) -> None:
        """Send a ping frame without waiting for its pong (the pong arrives as an item)."""
        # trio-websocket's public ping() waits for the pong; send the frame directly.
        await self._call(self._ws._send(wsproto.events.Ping(payload=payload)))

    async def pong(self, payload: bytes) -> None:
        """Send a pong frame."""
        await self._call(self._ws.pong(payload))

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Run trio-websocket's closing handshake (the session bounds it)."""
        await self._ws.aclose(code, reason or None)

    async def abort(self) -> None:
        """Close the stream at once."""
        await trio.aclose_forcefully(self._stream)


async def wrap_trio_websocket(
    nursery: trio.Nursery, stream: trio.abc.Stream, url: str, config: ConnectionConfig
) -> TrioWebsocketTransport:
    """Run the trio-websocket client handshake over an open ``stream``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    ws = _ObservedConnection(
        stream,
        WSConnection(ConnectionType.CLIENT),
        host=host,
        path=resource,
        client_subprotocols=list(config.subprotocols),
        client_extra_headers=[(k.encode(), v.encode()) for k, v in config.headers],
        message_queue_size=_QUEUE_SIZE,
        max_message_size=config.max_message_size,
        receive_buffer_size=_RECEIVE_BYTES,
    )
    failures: list[BaseException] = []
    nursery.start_soon(_guarded_reader, ws, failures)
    try:
        await ws._open_handshake.wait()
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    if failures:
        await trio.aclose_forcefully(stream)
        exc = failures[0]
        if isinstance(exc, ConnectionRejected):
            raise _rejection(exc, url) from None
        raise ConnectFailed(f"handshake with {url} failed: {exc!r}", url=url) from None
    return TrioWebsocketTransport(ws, stream)


async def _guarded_reader(ws: _ObservedConnection, failures: list[BaseException]) -> None:
    """Run trio-websocket's reader so its exceptions never cancel our connection's nursery.

    trio-websocket raises ``ConnectionRejected`` (and, after some protocol
    errors, other exceptions) from inside its reader task. We record the
    error, wake the handshake waiter, and end the message channel so
    ``get_message`` reports the connection as closed.
    """
    try:
        await ws._reader_task()
    except Exception as exc:
        failures.append(exc)
        ws._open_handshake.set()
        await trio.aclose_forcefully(ws._stream)
        await ws._send_channel.aclose()
    else:
        if not ws._open_handshake.is_set():
            failures.append(EOFError("the server closed the connection during the handshake"))
            ws._open_handshake.set()


def _rejection(exc: ConnectionRejected, url: str) -> HandshakeRejected:
    return rejection_from_response(exc.status_code, exc.headers or (), exc.body or b"", url=url)


async def open_trio_websocket_transport(
    nursery: trio.Nursery, url: str, config: ConnectionConfig
) -> TrioWebsocketTransport:
    """Open TCP/TLS with our own mapping, then the trio-websocket handshake."""
    stream = await open_stream(url, config)
    return await wrap_trio_websocket(nursery, stream, url, config)
