"""The sans-I/O core of the generic JSON test venue.

The generic venue is a small, fully specified JSON protocol that the fake
server in :mod:`trio_venues.testing` speaks. It exists so that the shell,
``retry_scope`` and users' own strategies can be tested against a venue whose
every behaviour (acks, errors, sequence numbers, application-level pings,
shutdown notices) is known, without any exchange's quirks.

Client to server (text frames)::

    {"op": "login", "id": 1, "key": "k", "ts": 1700000000000, "sig": "<hex>"}
                                    -> {"id": 1, "result": {"key": "k"}}
                                    or {"id": 1, "error": {"code": 401, "msg": "..."}}
    {"op": "subscribe",   "id": 1, "args": ["a", "b"]}   -> {"id": 1, "result": null}
                            or, refusing some topics one by one:
                               {"id": 1, "result": null,
                                "refused": [{"topic": "b", "code": 400, "msg": "..."}]}
    {"op": "unsubscribe", "id": 2, "args": ["a"]}        -> {"id": 2, "result": null}
    {"op": "request", "id": 3, "method": "echo", "params": ...}
                                    -> {"id": 3, "result": ...}
                                    or {"id": 3, "error": {"code": 500, "msg": "..."}}
    {"op": "ping", "id": 4}                              -> {"op": "pong", "id": 4}
    {"op": "pong", "ts": 17}                             (answers a server venue ping)

Server to client::

    {"topic": "a", "seq": 1, "data": ...}       data; seq counts per topic from 1
                                                (per connection with ?sequence=connection)
    {"topic": "a", "seq": 7, "snapshot": true, "data": ...}
                                                a book snapshot (see below)
    {"op": "ping", "ts": 17}                    venue ping; answer {"op": "pong", "ts": 17}
    {"op": "shutdown", "msg": "..."}            the server is about to go away (a
                                                planned end); optional "in": seconds
                                                until it closes, and "scope": "venue"
                                                for a notice about the service rather
                                                than this connection
    {"op": "error", "code": 400, "msg": "..."}  an error not tied to a request

By default the fake refuses a subscribe naming any unknown topic as a whole
(none of its topics is subscribed), as Binance does; with per-topic refusals it
accepts the known topics and lists the others under ``refused``.

The log-on (sent first when the connection has credentials) carries ``ts``,
the wall clock in milliseconds, and ``sig``, the hex HMAC-SHA256 of
``f"{ts}{key}"`` keyed with the secret (:func:`login_signature`).

Order books (topics ``book.<SYMBOL>``, see :mod:`trio_venues.venues.generic._book`)
come with the snapshot in the stream: right after a subscribe's ack the server
sends a snapshot frame, then diffs. A snapshot frame restarts its topic's
sequence (its ``seq`` is where the topic's numbering stands), and a snapshot
may come again at any time (it replaces the book).

Sequence numbers count per topic by default. A client that connects with
``?sequence=connection`` in the URL expects one counter for all of the
connection's data messages (the server's ``sequence="connection"``), as
Coinbase numbers its messages: a jump there may have lost any topic's message.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import orjson

from ..._core import (
    Output,
    PlannedShutdown,
    RequestId,
    Response,
    SendContext,
    VenueCore,
    VenuePing,
    VenuePong,
)
from ..._ratelimit import LimitRule, VenueLimits
from ...errors import ConfigError, DecodeError, VenueError
from ...events import ErrorEvent, GapDetected, Message
from ...reasons import ServerRequested

__all__ = ["GenericJsonCore", "login_signature"]


def login_signature(secret: str, ts: int, key: str) -> str:
    """The ``sig`` of a generic log-on: hex HMAC-SHA256 of ``f"{ts}{key}"``, keyed by ``secret``."""
    return hmac.new(secret.encode(), f"{ts}{key}".encode(), hashlib.sha256).hexdigest()


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


class GenericJsonCore(VenueCore):
    """Client-side core of the generic JSON test venue (see the module docstring).

    It tracks the ``seq`` of every topic: a message whose ``seq`` is not the
    previous one plus one is preceded by :class:`~trio_venues.events.GapDetected`
    (a jump, a duplicate or a regression alike) and still delivered; tracking
    then continues from the received number. A snapshot frame restarts its
    topic's tracking. With ``sequence="connection"`` one counter spans every
    topic (snapshots included), and ``GapDetected`` names the topic of the
    message that revealed the jump.

    Args:
        venue_ping_interval: seconds between our ``{"op": "ping"}`` messages;
            ``None`` (the default) sends none.
        max_topics_per_request: the most topics one subscribe/unsubscribe may
            carry, when ``limits`` is not given (it becomes a
            ``"topics_per_request"`` cap of the core's limits).
        limits: the venue limits to enforce (rates, per-operation costs,
            caps); default: only the topics-per-request cap.
        sequence: ``"topic"`` (default) or ``"connection"``.
    """

    name = "generic"

    def __init__(
        self,
        *,
        venue_ping_interval: float | None = None,
        max_topics_per_request: int = 50,
        limits: VenueLimits | None = None,
        sequence: Literal["topic", "connection"] = "topic",
    ) -> None:
        super().__init__()
        if venue_ping_interval is not None and not venue_ping_interval > 0:
            raise ConfigError(
                f"venue_ping_interval must be > 0 or None, got {venue_ping_interval!r}"
            )
        if max_topics_per_request < 1:
            raise ConfigError(
                f"max_topics_per_request must be >= 1, got {max_topics_per_request!r}"
            )
        self.venue_ping_interval = venue_ping_interval
        self.limits = limits if limits is not None else generic_limits(max_topics_per_request)
        # Last sequence number seen per topic; one entry per topic ever received,
        # so it is bounded by the number of topics of this connection.
        self._last_seq: dict[str, int] = {}
        if sequence not in ("topic", "connection"):
            raise ConfigError(f"sequence must be 'topic' or 'connection', got {sequence!r}")
        self.sequence = sequence
        # The last connection-wide sequence number (sequence="connection").
        self._connection_last: int | None = None
        self._ping_ids = itertools.count(1)

    # -- incoming -------------------------------------------------------------

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        """Turn one received frame into outputs.

        Raises:
            DecodeError: binary frame, malformed JSON, not an object, an unknown
                ``op`` or a message of no known shape.
        """
        if not isinstance(data, str):
            raise DecodeError("the generic venue sends text frames only; got a binary one", data)
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"malformed JSON: {exc}", data) from None
        if not isinstance(obj, dict):
            raise DecodeError(f"expected a JSON object, got {type(obj).__name__}", data)
        if "topic" in obj:
            return self._decode_data(obj, data, received_at)
        if "op" in obj:
            return self._decode_op(obj, data, received_at)
        if "id" in obj:
            return (self._decode_response(obj, data),)
        raise DecodeError("message has neither 'topic', 'op' nor 'id'", data)

    def _decode_data(self, obj: dict[str, Any], raw: str, received_at: float) -> list[Output]:
        topic, seq = obj.get("topic"), obj.get("seq")
        if not isinstance(topic, str):
            raise DecodeError("'topic' must be a string", raw)
        # bool is an int subclass; True is not a sequence number.
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise DecodeError("'seq' must be an integer", raw)
        if "data" not in obj:
            raise DecodeError("data message without 'data'", raw)
        out: list[Output] = []
        if self.sequence == "connection":
            last = self._connection_last
            self._connection_last = seq
        elif obj.get("snapshot") is True:
            last = None  # a snapshot restarts its topic's sequence
            self._last_seq[topic] = seq
        else:
            last = self._last_seq.get(topic)
            self._last_seq[topic] = seq
        if last is not None and seq != last + 1:
            out.append(GapDetected(topic, last + 1, seq))
        out.append(Message(topic, obj["data"], received_at))
        return out

    @staticmethod
    def _shutdown(obj: dict[str, Any], raw: str, received_at: float) -> PlannedShutdown:
        lead = obj.get("in")
        if lead is not None and (
            not isinstance(lead, int | float) or isinstance(lead, bool) or lead < 0
        ):
            raise DecodeError("'in' must be a number of seconds >= 0", raw)
        scope = obj.get("scope", "connection")
        if scope not in ("connection", "venue"):
            raise DecodeError("'scope' must be 'connection' or 'venue'", raw)
        return PlannedShutdown(
            ServerRequested(str(obj.get("msg", ""))),
            None if lead is None else received_at + lead,
            this_connection=scope == "connection",
        )

    def _decode_op(self, obj: dict[str, Any], raw: str, received_at: float) -> list[Output]:
        op = obj["op"]
        if op == "pong":
            return [VenuePong(str(obj.get("id")).encode())]
        if op == "ping":
            ts = obj.get("ts")
            return [VenuePing(str(ts).encode(), reply=_dumps({"op": "pong", "ts": ts}))]
        if op == "shutdown":
            return [self._shutdown(obj, raw, received_at)]
        if op == "error":
            return [ErrorEvent(self._venue_error(obj, raw))]
        raise DecodeError(f"unknown op {op!r}", raw)

    def _decode_response(self, obj: dict[str, Any], raw: str) -> Response:
        request_id = obj["id"]
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            raise DecodeError("'id' must be an integer or a string", raw)
        if "error" in obj:
            error = obj["error"]
            if not isinstance(error, dict):
                raise DecodeError("'error' must be an object", raw)
            return Response(request_id, error=self._venue_error(error, raw))
        if "result" in obj:
            return Response(request_id, result=obj["result"], refused=self._refused(obj, raw))
        raise DecodeError("response without 'result' or 'error'", raw)

    def _refused(self, obj: dict[str, Any], raw: str) -> list[tuple[str, VenueError]]:
        items = obj.get("refused", [])
        if not isinstance(items, list):
            raise DecodeError("'refused' must be a list", raw)
        refused = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("topic"), str):
                raise DecodeError("each 'refused' entry needs a string 'topic'", raw)
            refused.append((item["topic"], self._venue_error(item, raw)))
        return refused

    @staticmethod
    def _venue_error(obj: dict[str, Any], raw: str) -> VenueError:
        code, msg = obj.get("code"), obj.get("msg")
        if not isinstance(code, int) or isinstance(code, bool) or not isinstance(msg, str):
            raise DecodeError("an error needs an integer 'code' and a string 'msg'", raw)
        return VenueError(code, msg)

    # -- outgoing ---------------------------------------------------------------

    def encode_subscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext | None = None
    ) -> str:
        """``{"op": "subscribe", "id": ..., "args": [...]}``."""
        return _dumps({"op": "subscribe", "id": request_id, "args": list(topics)})

    def encode_unsubscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext | None = None
    ) -> str:
        """``{"op": "unsubscribe", "id": ..., "args": [...]}``."""
        return _dumps({"op": "unsubscribe", "id": request_id, "args": list(topics)})

    def encode_request(
        self, method: str, params: Any, request_id: RequestId, ctx: SendContext | None = None
    ) -> str:
        """``{"op": "request", "id": ..., "method": ..., "params": ...}``."""
        return _dumps({"op": "request", "id": request_id, "method": method, "params": params})

    def encode_login(self, request_id: RequestId, ctx: SendContext) -> str | None:
        """``{"op": "login", "id", "key", "ts", "sig"}`` when the connection has credentials.

        ``ts`` is ``ctx.wall_time`` in whole milliseconds; ``sig`` is
        :func:`login_signature`. Without credentials: ``None`` (no log-on).
        """
        credentials = ctx.credentials
        if credentials is None:
            return None
        ts = round(ctx.wall_time * 1000)
        key = credentials.api_key
        sig = login_signature(credentials.secret.reveal(), ts, key)
        return _dumps({"op": "login", "id": request_id, "key": key, "ts": ts, "sig": sig})

    def venue_ping(self, now: float) -> str:
        """``{"op": "ping", "id": N}``, N counting from 1 on this connection.

        The shell calls this every ``venue_ping_interval`` (the core's, or the
        connection config's override); the core itself keeps no timer.
        """
        return _dumps({"op": "ping", "id": next(self._ping_ids)})

    # -- lifecycle --------------------------------------------------------------

    @staticmethod
    def sequence_of(url: str) -> Literal["topic", "connection"]:
        """``"connection"`` when the URL says ``?sequence=connection``, else ``"topic"``."""
        values = parse_qs(urlsplit(url).query).get("sequence", [])
        return "connection" if "connection" in values else "topic"

    def initial_topics(self, url: str) -> tuple[str, ...]:
        """Topics subscribed by the URL itself: ``?topics=a,b`` (the fake server honours it)."""
        return topics_from_query(urlsplit(url).query)


def topics_from_query(query: str) -> tuple[str, ...]:
    """The topics named by a ``topics=a,b`` query string (in order, without duplicates)."""
    seen: dict[str, None] = {}
    for value in parse_qs(query).get("topics", []):
        for topic in value.split(","):
            if topic:
                seen[topic] = None
    return tuple(seen)


def generic_limits(max_topics_per_request: int) -> VenueLimits:
    """The generic venue's default limits: only a topics-per-request cap."""
    return VenueLimits(
        name="generic",
        rules=(
            LimitRule(
                "topics_per_request",
                max_topics_per_request,
                algorithm="cap",
                source="generic venue: the core's max_topics_per_request",
            ),
        ),
        connect_cost=(),
    )
