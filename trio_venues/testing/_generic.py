"""The server side of the generic JSON test venue (the protocol is in
:mod:`trio_venues.venues.generic._protocol`).

:class:`GenericVenue` is the default behaviour of
:class:`~trio_venues.testing.FakeVenueServer`: it acks subscriptions (refusing
a whole request when any topic starts with ``"bad"``, or only those topics with
``per_topic_refusals``), checks log-ons against ``logins``, answers ``echo``,
``fail`` and ``silent`` requests plus any method a test registers, answers
our venue-level pings, and frames data, venue pings and shutdown notices.
On request it greets each client on connect, and limits the frames a client
may send per second (messages, pings and pongs alike, as Binance counts).

Order books: topics ``book.<SYMBOL>`` carry a :class:`MarketSimulator`'s book
(the protocol is in :mod:`trio_venues.venues.generic._book`). A subscribe's
ack is followed by a snapshot in the stream; every push is a diff with a
checksum. :meth:`GenericVenue.book_snapshot` makes a snapshot to push
mid-stream (it resets the client's book), :meth:`GenericVenue.corrupt_checksum`
spoils the next diff's checksum, and ``venue.market(symbol).inject_gap()``
makes the next diff skip update ids.
"""

from __future__ import annotations

import hmac
import inspect
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias
from weakref import WeakKeyDictionary, WeakSet

import orjson
import trio

from ..venues.generic._book import CHECKSUM_LEVELS, levels_checksum
from ..venues.generic._protocol import login_signature, topics_from_query
from ._market import Level, MarketSimulator
from ._server import HandshakeRequest, ServerConnection, over_frame_rate

__all__ = ["BAD_JSON", "FakeVenueError", "GenericVenue", "MethodHandler"]

#: ``handler(conn, params)`` returns the result (or an awaitable of it), or
#: raises :class:`FakeVenueError` to answer with an error.
MethodHandler: TypeAlias = Callable[[ServerConnection, Any], Any | Awaitable[Any]]

#: Malformed or hostile JSON texts a client must survive, by name
#: (docs/reliability.md, "Bad inputs a client must survive").
BAD_JSON: dict[str, str] = {
    "empty": "",
    "truncated": '{"topic":"a","seq":1,"data":{"p":"1.0"',
    "trailing_garbage": '{"topic":"a","seq":1,"data":1}xyz',
    "bom": '\ufeff{"topic":"a","seq":1,"data":1}',
    "nan": '{"topic":"a","seq":1,"data":NaN}',
    "infinity": '{"topic":"a","seq":1,"data":Infinity}',
    "huge_exponent": '{"topic":"a","seq":1,"data":1e400}',
    "deep_nesting": "[" * 100_000 + "]" * 100_000,
    "not_an_object": "[1,2,3]",
    "null": "null",
    "unknown_op": '{"op":"teleport"}',
    "no_known_shape": '{"hello":"world"}',
    "seq_as_string": '{"topic":"a","seq":"1","data":1}',
    "missing_data": '{"topic":"a","seq":1}',
}


class FakeVenueError(Exception):
    """Raised by a registered method handler: the server answers with this error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


_BOOK_PREFIX = "book."


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _wire(levels: Sequence[Level]) -> list[list[str]]:
    return [[str(price), str(qty)] for price, qty in levels]


class GenericVenue:
    """Behaviour of the generic JSON test venue (see the module docstring).

    Args:
        methods: extra request methods, ``{name: handler(conn, params)}``.
        max_topics_per_request: refuse (400) a subscribe/unsubscribe naming more
            topics than this; ``None`` accepts any number.
        greeting: messages sent to each client as soon as its handshake is
            accepted, before anything else (``str`` as text, ``bytes`` as
            binary), e.g. ``[GenericVenue.error_frame(503, "degraded")]``.
        max_frames_per_second: the client frames (messages, pings and pongs)
            allowed within any one second; the next one closes the connection
            with ``frame_limit_close`` and is not answered. ``None``: no limit.
        frame_limit_close: the close code and reason when the limit is broken.
        logins: the API keys and secrets a log-on may use; any other key, or
            a wrong signature, is answered with error 401.
        per_topic_refusals: refuse only the ``"bad..."`` topics of a
            subscribe (listed under ``"refused"`` in the ack) and subscribe
            the rest, instead of refusing the whole request.
    """

    name = "generic"

    def __init__(
        self,
        *,
        methods: dict[str, MethodHandler] | None = None,
        max_topics_per_request: int | None = None,
        greeting: Sequence[str | bytes] = (),
        max_frames_per_second: int | None = None,
        frame_limit_close: tuple[int, str] = (1008, "too many frames"),
        logins: Mapping[str, str] | None = None,
        per_topic_refusals: bool = False,
    ) -> None:
        if max_frames_per_second is not None and max_frames_per_second < 1:
            raise ValueError(
                f"max_frames_per_second must be >= 1 or None, got {max_frames_per_second}"
            )
        self.methods: dict[str, MethodHandler] = {"echo": lambda conn, params: params}
        self.methods.update(methods or {})
        self.max_topics_per_request = max_topics_per_request
        self.greeting = tuple(greeting)
        self.max_frames_per_second = max_frames_per_second
        self.frame_limit_close = frame_limit_close
        self.logins = dict(logins or {})
        self.per_topic_refusals = per_topic_refusals
        # Per connection: the times of the client's frames in the last second
        # (bounded by the limit: counting stops at the first frame over it),
        # and the connections that broke the limit (closing: nothing answered).
        self._frame_times: WeakKeyDictionary[ServerConnection, deque[float]] = WeakKeyDictionary()
        self._over_limit: WeakSet[ServerConnection] = WeakSet()
        self.markets: dict[str, MarketSimulator] = {}
        self._corrupt: set[str] = set()

    def register(self, method: str, handler: MethodHandler) -> None:
        """Answer requests for ``method`` with ``handler(conn, params)``."""
        self.methods[method] = handler

    # -- order books ---------------------------------------------------------------

    def market(self, symbol: str) -> MarketSimulator:
        """The simulated market of ``symbol`` (created on first use, seeded by its name)."""
        market = self.markets.get(symbol)
        if market is None:
            market = MarketSimulator(symbol, seed=zlib.crc32(symbol.encode()))
            self.markets[symbol] = market
        return market

    def book_snapshot(self, symbol: str) -> dict[str, Any]:
        """A snapshot of ``symbol``'s whole book, as the venue sends it (push it to reset)."""
        snapshot = self.market(symbol).snapshot(limit=1_000_000)
        return {
            "book": "snapshot",
            "id": snapshot.update_id,
            "bids": _wire(snapshot.bids),
            "asks": _wire(snapshot.asks),
            "checksum": levels_checksum(
                snapshot.bids[:CHECKSUM_LEVELS], snapshot.asks[:CHECKSUM_LEVELS]
            ),
        }

    def corrupt_checksum(self, symbol: str) -> None:
        """The next diff of ``symbol`` carries a wrong checksum."""
        self._corrupt.add(symbol)

    def _book_diff(self, topic: str, symbol: str) -> dict[str, Any]:
        market = self.market(symbol)
        diff = market.diff(topic)
        checksum = levels_checksum(market.bids[:CHECKSUM_LEVELS], market.asks[:CHECKSUM_LEVELS])
        if symbol in self._corrupt:
            self._corrupt.discard(symbol)
            checksum ^= 1
        return {
            "book": "diff",
            "first": diff.first_update_id,
            "last": diff.last_update_id,
            "bids": _wire(diff.bids),
            "asks": _wire(diff.asks),
            "checksum": checksum,
        }

    # -- frames --------------------------------------------------------------------

    def data_frame(self, conn: ServerConnection, topic: str, seq: int, data: Any) -> str:
        """``{"topic": ..., "seq": ..., "data": ...}``, with ``"snapshot": true`` for a snapshot."""
        if isinstance(data, dict) and data.get("book") == "snapshot":
            return _dumps({"topic": topic, "seq": seq, "snapshot": True, "data": data})
        return _dumps({"topic": topic, "seq": seq, "data": data})

    def make_data(self, topic: str, seq: int) -> Any:
        """Generated data: a book diff for ``book.<SYMBOL>``; otherwise the topic and the
        message number, with an exact decimal price."""
        if topic.startswith(_BOOK_PREFIX):
            return self._book_diff(topic, topic.removeprefix(_BOOK_PREFIX))
        return {"n": seq, "price": f"{100 + seq % 100}.{seq % 7:02d}", "topic": topic}

    def venue_ping_frame(self, ts: int) -> str:
        """``{"op": "ping", "ts": ...}``."""
        return _dumps({"op": "ping", "ts": ts})

    def shutdown_frame(self, message: str) -> str:
        """``{"op": "shutdown", "msg": ...}``."""
        return _dumps({"op": "shutdown", "msg": message})

    @staticmethod
    def error_frame(code: int, message: str) -> str:
        """An error not tied to a request: ``{"op": "error", "code": ..., "msg": ...}``."""
        return _dumps({"op": "error", "code": code, "msg": message})

    def initial_topics(self, request: HandshakeRequest) -> Sequence[str]:
        """Topics named by ``?topics=a,b`` in the URL."""
        return topics_from_query(request.query)

    # -- the client's frames -------------------------------------------------------

    async def on_connect(self, conn: ServerConnection) -> None:
        """Send the ``greeting`` messages, before any other message reaches ``conn``."""
        for message in self.greeting:
            await conn.send_message(message)

    async def on_control_frame(
        self, conn: ServerConnection, kind: Literal["ping", "pong"], payload: bytes
    ) -> None:
        """Count the client's ping or pong against ``max_frames_per_second``."""
        await self._over_frame_limit(conn)

    async def _over_frame_limit(self, conn: ServerConnection) -> bool:
        """Count one client frame; close and return ``True`` once the limit is broken."""
        limit = self.max_frames_per_second
        if limit is None:
            return False
        if conn in self._over_limit:
            return True
        times = self._frame_times.setdefault(conn, deque())
        if not over_frame_rate(times, trio.current_time(), limit):
            return False
        self._over_limit.add(conn)
        code, reason = self.frame_limit_close
        await conn.close(code, reason)
        return True

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Answer one client message (see the protocol in the module docstring)."""
        if await self._over_frame_limit(conn):
            return
        if isinstance(message, bytes):
            await conn.send_text(self.error_frame(400, "binary frames are not accepted"))
            return
        try:
            obj = orjson.loads(message)
        except orjson.JSONDecodeError:
            await conn.send_text(self.error_frame(400, "malformed JSON"))
            return
        if not isinstance(obj, dict):
            await conn.send_text(self.error_frame(400, "expected a JSON object"))
            return
        op = obj.get("op")
        if op in ("subscribe", "unsubscribe"):
            await self._on_subscription(conn, op, obj)
        elif op == "request":
            await self._on_request(conn, obj)
        elif op == "login":
            await self._on_login(conn, obj)
        elif op == "ping":
            if conn.answer_venue_pings:
                await conn.send_json({"op": "pong", "id": obj.get("id")})
        elif op == "pong":
            conn.record_venue_pong(obj.get("ts"))
        else:
            await conn.send_text(self.error_frame(400, f"unknown op {op!r}"))

    async def _on_subscription(self, conn: ServerConnection, op: str, obj: dict[str, Any]) -> None:
        request_id, topics = obj.get("id"), obj.get("args")
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            await self._error(conn, request_id, 400, "'args' must be a list of topic names")
            return
        limit = self.max_topics_per_request
        if limit is not None and len(topics) > limit:
            await self._error(conn, request_id, 400, f"too many topics (max {limit})")
            return
        if op == "subscribe" and self.per_topic_refusals:
            bad_ones = [t for t in topics if t.startswith("bad")]
            good = [t for t in topics if not t.startswith("bad")]
            refused = [{"topic": t, "code": 400, "msg": f"unknown topic {t}"} for t in bad_ones]
            await conn.send_json({"id": request_id, "result": None, "refused": refused})
            conn.add_subscriptions(good)
        elif op == "subscribe":
            bad = next((t for t in topics if t.startswith("bad")), None)
            if bad is not None:
                # All or nothing, like Binance: none of this request's topics count.
                await self._error(conn, request_id, 400, f"unknown topic {bad}")
                return
            # Ack first, so that no data of a new topic precedes its ack.
            await conn.send_json({"id": request_id, "result": None})
            conn.add_subscriptions(topics)
            for topic in topics:
                if topic.startswith(_BOOK_PREFIX):
                    await self._send_snapshot(conn, topic)
        else:
            # Remove first, so that no data of a removed topic follows its ack.
            conn.remove_subscriptions(topics)
            await conn.send_json({"id": request_id, "result": None})

    async def _on_login(self, conn: ServerConnection, obj: dict[str, Any]) -> None:
        request_id, key, ts, sig = (obj.get(k) for k in ("id", "key", "ts", "sig"))
        secret = self.logins.get(key) if isinstance(key, str) else None
        if (
            secret is None
            or not isinstance(ts, int)
            or not isinstance(sig, str)
            or not hmac.compare_digest(sig, login_signature(secret, ts, key))  # type: ignore[arg-type]
        ):
            await self._error(conn, request_id, 401, "invalid API key or signature")
            return
        await conn.send_json({"id": request_id, "result": {"key": key}})

    async def _send_snapshot(self, conn: ServerConnection, topic: str) -> None:
        """A new subscriber's snapshot: it restarts the topic's numbering where it stands
        (per connection: it takes the connection's next number)."""
        server = conn.server
        seq = conn.take_seq() if server.sequence == "connection" else server.last_seq(topic)
        snapshot = self.book_snapshot(topic.removeprefix(_BOOK_PREFIX))
        await conn.send_data(topic, snapshot, seq)

    async def _on_request(self, conn: ServerConnection, obj: dict[str, Any]) -> None:
        request_id, method, params = obj.get("id"), obj.get("method"), obj.get("params")
        if method == "silent":
            return  # never answered: the client's request timeout must fire
        if method == "fail":
            await self._error(conn, request_id, 500, "request failed")
            return
        handler = self.methods.get(method) if isinstance(method, str) else None
        if handler is None:
            await self._error(conn, request_id, 404, f"unknown method {method!r}")
            return
        try:
            result = handler(conn, params)
            if inspect.isawaitable(result):
                result = await result
        except FakeVenueError as exc:
            await self._error(conn, request_id, exc.code, exc.message)
            return
        await conn.send_json({"id": request_id, "result": result})

    @staticmethod
    async def _error(conn: ServerConnection, request_id: Any, code: int, message: str) -> None:
        await conn.send_json({"id": request_id, "error": {"code": code, "msg": message}})
