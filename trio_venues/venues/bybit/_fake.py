"""A fake Bybit for tests: the venue-neutral fake server speaking Bybit v5, one endpoint each.

``FakeVenueServer(BybitVenue("linear"))`` serves one endpoint the way
``docs/venues/bybit.md`` describes it: that category's ack and pong shapes,
``auth`` checked against known keys (signature and ``expires``), the private
topics behind it, and on ``"trade"`` order entry against a small book of
resting orders. Data pushed with the server's ``push`` is framed as Bybit
frames it; books are kept per topic so every subscriber first gets a
``snapshot`` of the current book, then deltas whose ``u`` is the server's
per-topic sequence number (so ``server.inject_gap(topic)`` skips an update
id). Faults beyond the server's own (close codes, stall, reject the
handshake, stop answering pings via ``conn.answer_venue_pings = False``):
:meth:`BybitVenue.restart_book` (a ``u == 1`` snapshot mid-stream),
:meth:`BybitVenue.announce_maintenance` (a ``system.status`` maintenance notice),
:meth:`BybitVenue.fail_next` (answer order requests with a ``retCode``),
``silent_ops`` (order ops never answered), ``clock_skew`` (auth ``expires``
judged against a clock that is ahead).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import orjson
import trio

from ...credentials import Credentials
from ...testing._server import FakeVenueServer, HandshakeRequest, ServerConnection
from ._protocol import BATCH_OPS, CATEGORIES, ORDER_OPS
from ._signing import auth_signature
from ._topics import ENDPOINTS, MAX_ARGS_PER_REQUEST
from ._wire import topic_prefix

__all__ = [
    "FAKE_API_KEY",
    "FAKE_SECRET",
    "BybitVenue",
    "bybit_server",
    "fake_credentials",
]

#: The key and secret the fake accepts by default.
FAKE_API_KEY: Final = "fake-bybit-key"
FAKE_SECRET: Final = "fake-bybit-secret"

#: Topic families the fake's public endpoints know (others: "handler not found").
_PUBLIC_FAMILIES: Final = frozenset(
    {"publicTrade", "orderbook", "tickers", "kline", "liquidation", "allLiquidation"}
)
_PRIVATE_FAMILIES: Final = frozenset({"order", "execution", "position", "wallet", "greeks", "dcp"})
_MERGED_TICKERS: Final = frozenset({"linear", "inverse"})
_SNAKE_PONG_ARGS: Final = frozenset({"option", "spread", "private"})


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _levels(book: Mapping[str, str], reverse: bool) -> list[list[str]]:
    return [[p, book[p]] for p in sorted(book, key=Decimal, reverse=reverse)]


class BybitVenue:
    """The behaviour of a fake Bybit endpoint (see the module docstring).

    Args:
        category: the endpoint served (``"spot"`` ... ``"trade"``).
        credentials: API key -> secret of the accounts that may log on.
        wall_clock: seconds since the epoch, for checking ``expires`` (give
            the same clock as the client's ``wall_clock`` under a virtual clock).
        clock_skew: seconds added to ``wall_clock`` when checking ``expires``:
            a positive skew makes the client's stamp look expired.
        refuse_topics: topics to refuse as "handler not found" even if known.
    """

    name = "bybit"

    def __init__(
        self,
        category: str = "spot",
        *,
        credentials: Mapping[str, str] | None = None,
        wall_clock: Callable[[], float] = time.time,
        clock_skew: float = 0.0,
        refuse_topics: Sequence[str] = (),
    ) -> None:
        if category not in CATEGORIES:
            raise ValueError(f"unknown Bybit category {category!r}")
        self.category = category
        self.credentials = dict(credentials or {FAKE_API_KEY: FAKE_SECRET})
        self.wall_clock = wall_clock
        self.clock_skew = clock_skew
        self.refuse_topics = set(refuse_topics)
        #: order ops (``"order.create"`` ...) never answered: the client's timeout must fire
        self.silent_ops: set[str] = set()
        #: resting orders of the trade endpoint, by ``orderId``
        self.orders: dict[str, dict[str, Any]] = {}
        self._failures: deque[tuple[int, str]] = deque()
        self._authed: set[int] = set()
        # Per orderbook topic: its book (price -> size per side) and last update id.
        self._books: dict[str, dict[str, dict[str, str]]] = {}
        self._last_u: dict[str, int] = {}
        self._ticker_seen: dict[tuple[int, str], bool] = {}
        # Connection number -> trio time of its last ping, message or pushed data.
        self._activity: dict[int, float] = {}

    # -- faults --

    def fail_next(self, ret_code: int, message: str = "", times: int = 1) -> None:
        """Answer the next ``times`` order requests with ``ret_code`` (10429, 10019 ...)."""
        for _ in range(times):
            self._failures.append((ret_code, message or f"fake error {ret_code}"))

    async def cut_idle(
        self,
        server: FakeVenueServer[Any],
        *,
        after: float = 600.0,
        scan: float = 30.0,
        close: tuple[int, str] = (1000, "idle"),
    ) -> None:
        """Close connections quiet for ``after`` seconds, checking every ``scan`` seconds.

        Bybit cuts a connection that saw no ping/pong and no data for 10
        minutes (``max_active_time`` changes it), with a scanner that runs
        every 30 s, so the cut comes up to ``scan`` late. Run it in the test's
        nursery: ``nursery.start_soon(partial(fake.behaviour.cut_idle, fake, after=60))``.
        """
        while True:
            await trio.sleep(scan)
            now = trio.current_time()
            for conn in server.active:
                if now - self._activity.get(conn.number, now) >= after:
                    await conn.close(*close)

    def _touch(self, conn: ServerConnection) -> None:
        self._activity[conn.number] = trio.current_time()

    async def restart_book(self, conn: ServerConnection, topic: str) -> None:
        """Send ``conn`` a ``u == 1`` snapshot of ``topic`` (Bybit's restart signal).

        As after Bybit's restart, the topic's update ids start again: the next
        delta the server pushes has ``u == 2``.
        """
        self._last_u[topic] = 1
        conn.server.set_next_seq(topic, 2)
        await conn.send_text(self.snapshot_frame(topic, update_id=1))

    # -- frames --

    def _now_ms(self) -> int:
        return int(self.wall_clock() * 1000)

    def snapshot_frame(self, topic: str, *, update_id: int | None = None) -> str:
        """A ``snapshot`` of ``topic``'s current book (``u`` = its last update id by default)."""
        book = self._books.setdefault(topic, {"b": {}, "a": {}})
        u = self._last_u.get(topic, 0) if update_id is None else update_id
        symbol = topic.rsplit(".", 1)[-1]
        return _dumps(
            {
                "topic": topic,
                "type": "snapshot",
                "ts": self._now_ms(),
                "data": {
                    "s": symbol,
                    "b": _levels(book["b"], True),
                    "a": _levels(book["a"], False),
                    "u": u,
                    "seq": u,
                },
                "cts": self._now_ms(),
            }
        )

    def data_frame(self, conn: ServerConnection, topic: str, seq: int, data: Any) -> str:
        """Frame one pushed message of ``topic`` as Bybit does.

        ``data`` that already is a whole message (it has a ``"topic"``) goes
        out as it is. Otherwise: order books get ``{"b", "a"}`` levels as a
        delta with ``u = seq``; trades, klines and liquidations a list; tickers
        a snapshot the first time each connection sees the topic, deltas after
        that on linear/inverse.
        """
        self._touch(conn)
        if isinstance(data, dict) and "topic" in data:
            return _dumps(data)
        family = topic_prefix(topic)
        ts = self._now_ms()
        if family == "orderbook":
            levels = data if isinstance(data, dict) else {}
            bids = [list(level) for level in levels.get("b", ())]
            asks = [list(level) for level in levels.get("a", ())]
            book = self._books.setdefault(topic, {"b": {}, "a": {}})
            for side, updates in (("b", bids), ("a", asks)):
                for price, size in updates:
                    if Decimal(size) == 0:
                        book[side].pop(price, None)
                    else:
                        book[side][price] = size
            self._last_u[topic] = max(seq, self._last_u.get(topic, 0))
            symbol = topic.rsplit(".", 1)[-1]
            return _dumps(
                {
                    "topic": topic,
                    "type": "delta",
                    "ts": ts,
                    "data": {"s": symbol, "b": bids, "a": asks, "u": seq, "seq": seq},
                    "cts": ts,
                }
            )
        if family == "tickers":
            key = (id(conn), topic)
            kind = (
                "delta"
                if self.category in _MERGED_TICKERS and key in self._ticker_seen
                else "snapshot"
            )
            self._ticker_seen[key] = True
            return _dumps({"topic": topic, "type": kind, "ts": ts, "cs": seq, "data": data})
        if family == "system":
            return _dumps({"topic": topic, "ts": ts, "data": data})
        if family in _PRIVATE_FAMILIES:
            return _dumps(
                {"id": f"{conn.number}-{seq}", "topic": topic, "creationTime": ts, "data": data}
            )
        return _dumps({"topic": topic, "type": "snapshot", "ts": ts, "data": data})

    def make_data(self, topic: str, seq: int) -> Any:
        """Generated data for message ``seq`` of ``topic``, exact decimal strings."""
        family = topic_prefix(topic)
        symbol = topic.rsplit(".", 1)[-1]
        price = f"{30000 + seq % 100}.{seq % 10}0"
        if family == "publicTrade":
            trade = {
                "T": self._now_ms(),
                "s": symbol,
                "S": "Buy" if seq % 2 else "Sell",
                "v": f"0.{seq % 9 + 1:03d}",
                "p": price,
                "i": f"{topic}-{seq}",
                "BT": False,
                "seq": seq,
            }
            if self.category in _MERGED_TICKERS:
                trade["L"] = "PlusTick" if seq % 2 else "MinusTick"
            return [trade]
        if family == "orderbook":
            side = "b" if seq % 2 else "a"
            level = f"{30000 - seq % 50}.00" if side == "b" else f"{30001 + seq % 50}.00"
            return {side: [[level, f"{seq % 5}.{seq % 7}00"]]}
        if family == "tickers":
            return {"symbol": symbol, "lastPrice": price, "volume24h": f"{seq}.5"}
        if family == "kline":
            interval = topic.split(".")[1]
            return [
                {
                    "start": 1672324800000,
                    "end": 1672325099999,
                    "interval": interval,
                    "open": "30000",
                    "close": price,
                    "high": price,
                    "low": "29999",
                    "volume": f"{seq}.5",
                    "turnover": f"{seq}00.5",
                    "confirm": seq % 5 == 0,
                    "timestamp": self._now_ms(),
                }
            ]
        if family == "allLiquidation":
            return [{"T": self._now_ms(), "s": symbol, "S": "Buy", "v": "1", "p": price}]
        return self._private_data(family, seq, price)

    def _private_data(self, family: str, seq: int, price: str) -> Any:
        now = str(self._now_ms())
        if family == "order":
            return [
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "orderId": f"order-{seq}",
                    "side": "Buy",
                    "orderType": "Limit",
                    "orderStatus": "New",
                    "price": price,
                    "qty": "0.001",
                    "avgPrice": "",
                    "createdTime": now,
                    "updatedTime": now,
                }
            ]
        if family == "execution":
            return [
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "execId": f"exec-{seq}",
                    "orderId": f"order-{seq}",
                    "execPrice": price,
                    "execQty": "0.001",
                    "isMaker": seq % 2 == 0,
                    "execTime": now,
                }
            ]
        if family == "position":
            return [{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "size": f"0.{seq}"}]
        if family == "wallet":
            return [
                {
                    "accountType": "UNIFIED",
                    "totalEquity": f"{1000 + seq}.5",
                    "coin": [{"coin": "USDT", "equity": f"{1000 + seq}.5"}],
                }
            ]
        return [{"n": seq}]

    def venue_ping_frame(self, ts: int) -> None:
        """Bybit never pings at application level (the client pings)."""
        return None

    def shutdown_frame(self, message: str) -> str:
        """A ``system.status`` notice of maintenance starting now (Bybit's only announcement)."""
        return self.maintenance_frame(message, state="ongoing", begin_in=0.0, duration=60.0)

    def maintenance_frame(
        self,
        title: str,
        *,
        state: str = "scheduled",
        begin_in: float = 300.0,
        duration: float = 600.0,
        notice_id: str | None = None,
    ) -> str:
        """A ``system.status`` push announcing one maintenance [BY-SS].

        Args:
            title: the notice's title.
            state: ``"scheduled"``, ``"ongoing"``, ``"completed"`` ...
            begin_in: seconds from now (the fake's wall clock) to its start.
            duration: seconds it lasts.
            notice_id: its id (default: a new one).
        """
        now = self._now_ms()
        begin = now + round(begin_in * 1000)
        return _dumps(
            {
                "topic": "system.status",
                "ts": now,
                "data": [
                    {
                        "id": notice_id or uuid.uuid4().hex,
                        "title": title,
                        "state": state,
                        "begin": str(begin),
                        "end": str(begin + round(duration * 1000)),
                        "href": "",
                        "serviceTypes": [1],
                        "product": [1],
                        "uidSuffix": [],
                        "maintainType": 1,
                        "env": 1,
                    }
                ],
            }
        )

    async def announce_maintenance(
        self,
        server: FakeVenueServer[Any],
        title: str = "planned maintenance",
        *,
        state: str = "scheduled",
        begin_in: float = 300.0,
        duration: float = 600.0,
        notice_id: str | None = None,
    ) -> int:
        """Push a maintenance notice to every connection subscribed to ``system.status``.

        Bybit announces planned maintenance only this way, on the status
        endpoint (short ones and plain restarts go unannounced). Returns how
        many connections it was sent to; see :meth:`maintenance_frame`.
        """
        frame = self.maintenance_frame(
            title, state=state, begin_in=begin_in, duration=duration, notice_id=notice_id
        )
        sent = 0
        for conn in server.active:
            if "system.status" in conn.subscriptions and await conn.send_text(frame):
                sent += 1
        return sent

    def initial_topics(self, request: HandshakeRequest) -> Sequence[str]:
        """Bybit subscribes nothing through the URL."""
        return ()

    async def on_connect(self, conn: ServerConnection) -> None:
        """Nothing is sent before the client speaks; the idle clock starts."""
        self._touch(conn)

    async def on_control_frame(
        self, conn: ServerConnection, kind: Literal["ping", "pong"], payload: bytes
    ) -> None:
        """Frame-level pings are answered by the server itself."""
        return None

    # -- the client's frames --

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Answer one client frame: ping, auth, subscribe/unsubscribe or an order op."""
        self._touch(conn)
        try:
            obj = orjson.loads(message)
        except orjson.JSONDecodeError:
            await conn.send_json({"success": False, "ret_msg": "invalid json", "op": ""})
            return
        if not isinstance(obj, dict):
            await conn.send_json({"success": False, "ret_msg": "invalid request", "op": ""})
            return
        op = obj.get("op")
        trade = self.category == "trade"
        if op == "ping":
            if conn.answer_venue_pings:
                await conn.send_text(self._pong(conn, obj))
        elif op == "auth":
            await self._on_auth(conn, obj)
        elif op in ("subscribe", "unsubscribe") and not trade:
            await self._on_subscription(conn, op, obj)
        elif trade and (op in ORDER_OPS or op in BATCH_OPS):
            await self._on_order(conn, op, obj)
        elif trade:
            await conn.send_json(self._trade_reply(obj, 10404, f"op {op!r} not found"))
        else:
            await conn.send_json(
                {
                    "success": False,
                    "ret_msg": f"unknown op {op}",
                    "op": op,
                    "conn_id": self._conn_id(conn),
                }
            )

    def _conn_id(self, conn: ServerConnection) -> str:
        return f"fake-{self.category}-{conn.number}"

    def _pong(self, conn: ServerConnection, obj: dict[str, Any]) -> str:
        now = str(self._now_ms())
        conn_id = self._conn_id(conn)
        if self.category == "trade":
            return _dumps(
                {"retCode": 0, "retMsg": "OK", "op": "pong", "data": [now], "connId": conn_id}
            )
        if self.category in ("option", "spread"):
            return _dumps({"args": [now], "op": "pong"})
        if self.category == "private":
            return _dumps(
                {"req_id": obj.get("req_id", ""), "op": "pong", "args": [now], "conn_id": conn_id}
            )
        reply: dict[str, Any] = {"success": True, "ret_msg": "pong", "conn_id": conn_id}
        if self.category != "spot":
            reply["req_id"] = obj.get("req_id", "")
        elif "req_id" in obj:
            reply["req_id"] = obj["req_id"]
        reply["op"] = "ping"
        return _dumps(reply)

    # -- auth --

    def _check_auth(self, args: Any) -> tuple[int, str]:
        if not (isinstance(args, list) and len(args) == 3):
            return 10001, "Params Error"
        key, expires, signature = args
        if not isinstance(key, str) or type(expires) is not int or not isinstance(signature, str):
            return 10001, "Params Error"
        secret = self.credentials.get(key)
        if secret is None:
            return 10003, "Invalid apikey"
        if expires <= int((self.wall_clock() + self.clock_skew) * 1000):
            return 10002, "Request expired: expires is in the past"
        if signature != auth_signature(secret, expires):
            return 10004, "Invalid sign"
        return 0, ""

    async def _on_auth(self, conn: ServerConnection, obj: dict[str, Any]) -> None:
        code, message = self._check_auth(obj.get("args"))
        if code == 0:
            self._authed.add(conn.number)
        if self.category == "trade":
            reply: dict[str, Any] = {"retCode": code, "retMsg": message or "OK", "op": "auth"}
            if "reqId" in obj:
                reply["reqId"] = obj["reqId"]
            reply["connId"] = self._conn_id(conn)
        else:
            reply = {
                "success": code == 0,
                "ret_msg": message,
                "op": "auth",
                "conn_id": self._conn_id(conn),
            }
            if "req_id" in obj:
                reply["req_id"] = obj["req_id"]
        await conn.send_json(reply)

    # -- subscriptions --

    def _refusal(self, topics: Sequence[str]) -> str | None:
        families = _PRIVATE_FAMILIES if self.category == "private" else _PUBLIC_FAMILIES
        if self.category == "status":
            families = frozenset({"system"})
        for topic in topics:
            if topic in self.refuse_topics or topic_prefix(topic) not in families:
                return topic
        return None

    def _ack(
        self, conn: ServerConnection, op: str, obj: dict[str, Any], error: str | None
    ) -> dict[str, Any]:
        conn_id = self._conn_id(conn)
        ack: dict[str, Any] = {"success": error is None, "ret_msg": error or ""}
        if self.category == "spot" and error is None:
            ack["ret_msg"] = op
        ack["conn_id"] = conn_id
        if self.category != "private":
            ack["req_id"] = obj.get("req_id", "")
        ack["op"] = op
        return ack

    async def _on_subscription(self, conn: ServerConnection, op: str, obj: dict[str, Any]) -> None:
        topics = obj.get("args")
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            await conn.send_json(self._ack(conn, op, obj, "args must be a list of topics"))
            return
        limit = MAX_ARGS_PER_REQUEST.get(self.category)
        if limit is not None and len(topics) > limit:
            await conn.send_json(self._ack(conn, op, obj, f"args size >{limit}"))
            return
        if self.category == "private" and conn.number not in self._authed:
            await conn.send_json(self._ack(conn, op, obj, "Request not authorized"))
            return
        if self.category in ("option", "spread"):
            await self._command(conn, op, topics)
            return
        if op == "unsubscribe":
            conn.remove_subscriptions(topics)
            await conn.send_json(self._ack(conn, op, obj, None))
            return
        bad = self._refusal(topics)
        if bad is not None:
            await conn.send_json(self._ack(conn, op, obj, f"error:handler not found,topic:{bad}"))
            return
        await conn.send_json(self._ack(conn, op, obj, None))
        await self._subscribed(conn, topics)

    async def _command(self, conn: ServerConnection, op: str, topics: list[str]) -> None:
        if op == "unsubscribe":
            conn.remove_subscriptions(topics)
            ok, failed = list(topics), []
        else:
            failed = [t for t in topics if self._refusal([t]) is not None]
            ok = [t for t in topics if t not in failed]
        await conn.send_json(
            {
                "success": not failed,
                "conn_id": self._conn_id(conn),
                "data": {"failTopics": failed, "successTopics": ok},
                "type": "COMMAND_RESP",
            }
        )
        if op == "subscribe" and ok:
            await self._subscribed(conn, ok)

    async def _subscribed(self, conn: ServerConnection, topics: Sequence[str]) -> None:
        # Ack first, then add: no data of a new topic precedes its ack; then the
        # book snapshots, before any delta the server pushes next.
        conn.add_subscriptions(topics)
        for topic in topics:
            if topic_prefix(topic) == "orderbook":
                # The book as of now: its update id counts the deltas pushed while
                # nobody was subscribed too, so the next delta follows it.
                now = max(self._last_u.get(topic, 0), conn.server.last_seq(topic))
                await conn.send_text(self.snapshot_frame(topic, update_id=now))
            self._ticker_seen.pop((id(conn), topic), None)

    # -- order entry --

    def _trade_reply(
        self, obj: dict[str, Any], code: int, message: str, data: Any = None
    ) -> dict[str, Any]:
        reply: dict[str, Any] = {}
        if "reqId" in obj:
            reply["reqId"] = obj["reqId"]
        reply.update({"retCode": code, "retMsg": message or "OK", "op": obj.get("op")})
        reply["data"] = data if data is not None else {}
        reply["header"] = {
            "X-Bapi-Limit": "10",
            "X-Bapi-Limit-Status": "9",
            "X-Bapi-Limit-Reset-Timestamp": str(self._now_ms()),
            "Traceid": uuid.uuid4().hex,
            "Timenow": str(self._now_ms()),
        }
        return reply

    async def _on_order(self, conn: ServerConnection, op: str, obj: dict[str, Any]) -> None:
        if op in self.silent_ops:
            return
        if conn.number not in self._authed:
            await conn.send_json(self._trade_reply(obj, 10003, "Request not authorized"))
            return
        if self._failures:
            code, message = self._failures.popleft()
            await conn.send_json(self._trade_reply(obj, code, message))
            return
        args = obj.get("args")
        if not (isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict)):
            await conn.send_json(self._trade_reply(obj, 10001, "args must hold one object"))
            return
        if op in BATCH_OPS:
            request = args[0].get("request")
            if not isinstance(request, list):
                await conn.send_json(self._trade_reply(obj, 10001, "request must be a list"))
                return
            single = op.removesuffix("-batch")
            results, infos = [], []
            for item in request:
                code, message, data = self._one_order(
                    single, {"category": args[0].get("category"), **item}
                )
                results.append(data)
                infos.append({"code": code, "msg": message or "OK"})
            reply = self._trade_reply(obj, 0, "OK", {"list": results})
            reply["retExtInfo"] = {"list": infos}
            await conn.send_json(reply)
            return
        code, message, data = self._one_order(op, args[0])
        await conn.send_json(self._trade_reply(obj, code, message, data if code == 0 else None))

    def _one_order(self, op: str, params: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
        link = params.get("orderLinkId", "")
        if op == "order.create":
            missing = [
                k for k in ("category", "symbol", "side", "orderType", "qty") if not params.get(k)
            ]
            if missing:
                return 10001, f"params error: missing {', '.join(missing)}", {}
            order_id = uuid.uuid4().hex
            self.orders[order_id] = dict(params)
            return 0, "OK", {"orderId": order_id, "orderLinkId": link}
        found: Any = params.get("orderId") or next(
            (oid for oid, o in self.orders.items() if link and o.get("orderLinkId") == link), None
        )
        if not isinstance(found, str) or found not in self.orders:
            return 110001, "order not exists or too late to cancel", {}
        if op == "order.amend":
            self.orders[found].update({k: v for k, v in params.items() if k in ("qty", "price")})
            order = self.orders[found]
        else:
            order = self.orders.pop(found)
        return 0, "OK", {"orderId": found, "orderLinkId": order.get("orderLinkId", "")}


def fake_credentials() -> Credentials:
    """Credentials the fake accepts by default (:data:`FAKE_API_KEY`, :data:`FAKE_SECRET`)."""
    return Credentials(FAKE_API_KEY, FAKE_SECRET)


def bybit_server(
    category: str = "spot",
    *,
    credentials: Mapping[str, str] | None = None,
    wall_clock: Callable[[], float] = time.time,
    clock_skew: float = 0.0,
    refuse_topics: Sequence[str] = (),
    **options: Any,
) -> FakeVenueServer[BybitVenue]:
    """A fake Bybit ``category`` endpoint (not started): ``BybitVenue`` args, then server options.

    Its path is the endpoint's (``/v5/public/linear`` ...), so ``server.url``
    looks like Bybit's. Connect with ``Bybit.connect(server.url,
    endpoint=category, transport=server.memory_transport())`` (in memory) or
    to its TCP URL. ``options`` are :class:`FakeVenueServer` options
    (``auto_generate=0.05`` makes data flow for every subscribed topic).
    """
    settings: dict[str, Any] = {"path": urlsplit(ENDPOINTS[category]).path}
    settings.update(options)
    behaviour = BybitVenue(
        category,
        credentials=credentials,
        wall_clock=wall_clock,
        clock_skew=clock_skew,
        refuse_topics=refuse_topics,
    )
    return FakeVenueServer(behaviour, **settings)
