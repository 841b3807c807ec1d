"""Binance Spot sans-I/O cores: market-data streams and the WebSocket API.

Two cores, one per Binance endpoint family (``docs/venues/binance.md``
section 1):

- :class:`BinanceSpotCore`: ``wss://stream.binance.com:9443``, combined
  (``/stream?streams=a/b``, the default) or raw (``/ws/<stream>``) market
  streams; live ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS``/
  ``SET_PROPERTY``/``GET_PROPERTY`` requests with integer ids.
- :class:`BinanceApiCore`: ``wss://ws-api.binance.com:443/ws-api/v3``,
  request/response with string ids, ``rateLimits`` usage reports, and
  user-data events pushed after ``userDataStream.subscribe``.

Neither imports trio or does I/O. The module also exports the frame
builders a fake Binance server needs (``encode_combined``,
``encode_stream_result``, ``encode_api_response`` ...) and request parsers
(:func:`decode_stream_request`, :func:`decode_api_request`), so that the
fake speaks exactly the shapes this core decodes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import attrs
import msgspec
import orjson

from ..._codec import DECODE_FAILURES, decimal_to_wire, raise_decode_error, slot_setters
from ..._core import (
    EndConnection,
    Output,
    PlannedShutdown,
    RequestId,
    Response,
    SendContext,
    TopicsEnded,
    UsageReport,
    VenueCore,
)
from ..._identity import TopicIds, single_id
from ..._wirecodec import DECODE_ERRORS, decode_error, loads_unique
from ...errors import AuthenticationError, DecodeError, VenueError
from ...events import ErrorEvent, Message
from ...reasons import AuthenticationFailed, DisconnectReason, RemoteClosed, ServerRequested
from ._signing import Signer, sign_params
from ._wire import (
    KLINE_INTERVALS,
    ROLLING_WINDOWS,
    TAGGED_ROUTE,
    AggTrade,
    AvgPrice,
    BookTicker,
    Combined,
    DepthUpdate,
    Kline,
    MarketEvent,
    MiniTicker,
    RollingWindowTicker,
    StreamRoute,
    StreamTerminated,
    Ticker,
    TimeUnit,
    Trade,
    UnknownMessage,
    UserDataEvent,
    market_event_from_wire,
    stream_route,
    user_event_from_wire,
)

__all__ = [
    "API_URL",
    "AUTH_ERROR_CODES",
    "ApiRequest",
    "BinanceApiCore",
    "BinanceSpotCore",
    "DEPTH_LEVELS",
    "DEPTH_SPEEDS",
    "KLINE_TIMEZONES",
    "MAX_CONNECTION_AGE",
    "MAX_STREAMS_PER_CONNECTION",
    "MAX_TOPICS_PER_REQUEST",
    "STREAM_METHODS",
    "STREAM_URL",
    "StreamRequest",
    "StreamUrl",
    "TESTNET_API_URL",
    "TESTNET_STREAM_URL",
    "USER_DATA_TOPIC",
    "agg_trades_topic",
    "all_mini_tickers_topic",
    "all_tickers_topic",
    "avg_price_topic",
    "binance_topic_ids",
    "book_ticker_topic",
    "classify_binance_close",
    "decode_api_request",
    "decode_stream_request",
    "depth_topic",
    "encode_api_error",
    "encode_api_response",
    "encode_api_server_shutdown",
    "encode_combined",
    "encode_server_shutdown",
    "encode_stream_error",
    "encode_stream_result",
    "encode_user_event",
    "klines_topic",
    "mini_ticker_topic",
    "parse_stream_url",
    "ticker_topic",
    "trades_topic",
    "validate_stream_name",
]

# -- endpoints and limits [BN-S, BN-A; docs/venues/binance.md 1, 3] -------------------

#: The default market-data endpoint: combined streams, so every message names its stream.
STREAM_URL: Final = "wss://stream.binance.com:9443/stream"
#: Spot testnet market streams (raw form).
TESTNET_STREAM_URL: Final = "wss://stream.testnet.binance.vision/ws"
#: The WebSocket API.
API_URL: Final = "wss://ws-api.binance.com:443/ws-api/v3"
#: The WebSocket API on the Spot testnet.
TESTNET_API_URL: Final = "wss://ws-api.testnet.binance.vision/ws-api/v3"
#: Binance's cap on streams per connection; enforced by the rate limiter, not here.
MAX_STREAMS_PER_CONNECTION: Final = 1024
#: "A single connection ... is only valid for 24 hours; expect to be
#: disconnected at the 24 hour mark" (market streams and the WebSocket API)
#: [BN-S, BN-A; docs/venues/binance.md section 3].
MAX_CONNECTION_AGE: Final = 24 * 3600.0
#: Topics per SUBSCRIBE/UNSUBSCRIBE frame (our choice; Binance documents no
#: cap). 200 names of ~25 chars keep a frame near 5 KB; 1024 streams then take
#: 6 requests, well inside the 5 messages/s budget. The session batches under
#: it through ``BINANCE_SPOT_LIMITS`` (its ``"topics_per_request"`` cap).
MAX_TOPICS_PER_REQUEST: Final = 200
#: The methods of the market-stream endpoint [BN-S "Live Subscribing/Unsubscribing"].
STREAM_METHODS: Final = frozenset(
    {"SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY"}
)
#: ``Message.topic`` of user-data events on the WebSocket API.
USER_DATA_TOPIC: Final = "userData"
#: Partial book depth levels [BN-S "Partial Book Depth Streams"].
DEPTH_LEVELS: Final = (5, 10, 20)
#: Depth update speeds; ``"1000ms"`` is the stream without a speed suffix.
DEPTH_SPEEDS: Final = ("100ms", "1000ms")
#: Kline timezone offsets Binance documents (``<symbol>@kline_<interval>@+08:00``).
KLINE_TIMEZONES: Final = ("+08:00",)

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_MAX_STRING_ID: Final = 36

# -- stream names --------------------------------------------------------------------


def _symbol(symbol: str) -> str:
    """Return ``symbol`` lower-cased, as stream names require [BN-S]; reject separators."""
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str, not {type(symbol).__name__}")
    lowered = symbol.lower()
    if not lowered or any(ch in "@/!" or ch.isspace() for ch in lowered):
        raise ValueError(f"invalid symbol {symbol!r}: expected e.g. 'btcusdt'")
    return lowered


def trades_topic(symbol: str) -> str:
    """The raw-trade stream of ``symbol``: ``"btcusdt@trade"`` (symbol lower-cased)."""
    return f"{_symbol(symbol)}@trade"


def agg_trades_topic(symbol: str) -> str:
    """The aggregate-trade stream of ``symbol``: ``"btcusdt@aggTrade"``."""
    return f"{_symbol(symbol)}@aggTrade"


def klines_topic(symbol: str, interval: str, tz: str | None = None) -> str:
    """The kline stream: ``"btcusdt@kline_1m"``, or ``"btcusdt@kline_1m@+08:00"`` with ``tz``.

    Args:
        symbol: the symbol (lower-cased for you).
        interval: one of :data:`KLINE_INTERVALS` (``"1s"`` ... ``"1M"``; case matters:
            ``"1m"`` is a minute, ``"1M"`` a month).
        tz: ``None`` (UTC candles) or one of :data:`KLINE_TIMEZONES`.
    """
    if interval not in KLINE_INTERVALS:
        raise ValueError(
            f"invalid kline interval {interval!r}; valid: {', '.join(KLINE_INTERVALS)}"
        )
    name = f"{_symbol(symbol)}@kline_{interval}"
    if tz is None:
        return name
    if tz not in KLINE_TIMEZONES:
        raise ValueError(f"invalid kline timezone {tz!r}; Binance documents {KLINE_TIMEZONES}")
    return f"{name}@{tz}"


def depth_topic(symbol: str, levels: int | None = None, speed: str = "100ms") -> str:
    """A depth stream: the diff stream, or the top-``levels`` snapshot stream.

    Args:
        symbol: the symbol (lower-cased for you).
        levels: ``None`` for the diff stream (``"btcusdt@depth@100ms"``,
            :class:`DepthUpdate`), or 5, 10, 20 for partial depth
            (``"btcusdt@depth5@100ms"``, :class:`PartialDepth`).
        speed: ``"100ms"`` or ``"1000ms"`` (the stream without a suffix).
    """
    if levels is not None and levels not in DEPTH_LEVELS:
        raise ValueError(f"invalid depth levels {levels!r}; valid: None, 5, 10, 20")
    if speed not in DEPTH_SPEEDS:
        raise ValueError(f"invalid depth speed {speed!r}; valid: {', '.join(DEPTH_SPEEDS)}")
    name = f"{_symbol(symbol)}@depth{'' if levels is None else levels}"
    return name if speed == "1000ms" else f"{name}@{speed}"


def book_ticker_topic(symbol: str) -> str:
    """The best bid/ask stream: ``"btcusdt@bookTicker"``."""
    return f"{_symbol(symbol)}@bookTicker"


def _window(window: str) -> str:
    if window not in ROLLING_WINDOWS:
        raise ValueError(f"invalid ticker window {window!r}; valid: {', '.join(ROLLING_WINDOWS)}")
    return window


def ticker_topic(symbol: str, window: str | None = None) -> str:
    """The 24 h ticker (``"btcusdt@ticker"``) or a rolling window one (``"btcusdt@ticker_1h"``)."""
    if window is None:
        return f"{_symbol(symbol)}@ticker"
    return f"{_symbol(symbol)}@ticker_{_window(window)}"


def mini_ticker_topic(symbol: str) -> str:
    """The 24 h mini ticker: ``"btcusdt@miniTicker"``."""
    return f"{_symbol(symbol)}@miniTicker"


def avg_price_topic(symbol: str) -> str:
    """The average-price stream: ``"btcusdt@avgPrice"``."""
    return f"{_symbol(symbol)}@avgPrice"


def all_tickers_topic(window: str | None = None) -> str:
    """All changed tickers: ``"!ticker@arr"``, or ``"!ticker_1h@arr"`` for a window."""
    if window is None:
        return "!ticker@arr"
    return f"!ticker_{_window(window)}@arr"


def all_mini_tickers_topic() -> str:
    """All changed mini tickers: ``"!miniTicker@arr"``."""
    return "!miniTicker@arr"


_MAX_STREAM_NAME: Final = 200


def validate_stream_name(name: str) -> str:
    """Check that ``name`` can be sent in a SUBSCRIBE; return it unchanged.

    This is a syntax check, not a catalogue: new Binance streams must stay
    subscribable. A name has an ``@``, no whitespace or ``/`` (the combined
    URL separator), and a lower-case symbol part (Binance ignores upper-case
    stream names silently); ``!``-prefixed all-market names are exempt.
    """
    if not isinstance(name, str):
        raise TypeError(f"stream name must be a str, not {type(name).__name__}")
    if not name or len(name) > _MAX_STREAM_NAME or "@" not in name:
        raise ValueError(f"invalid stream name {name!r}: expected e.g. 'btcusdt@trade'")
    if "/" in name or any(ch.isspace() for ch in name):
        raise ValueError(f"invalid stream name {name!r}: no '/' or whitespace allowed")
    symbol = name.partition("@")[0]
    if not name.startswith("!") and symbol != symbol.lower():
        raise ValueError(
            f"invalid stream name {name!r}: symbols in stream names are lower-case "
            f"({symbol.lower()!r})"
        )
    return name


# -- URLs ----------------------------------------------------------------------------


@attrs.frozen
class StreamUrl:
    """What a market-stream URL says about the connection.

    Attributes:
        combined: ``True`` for ``/stream`` (payloads wrapped with their stream
            name), ``False`` for raw ``/ws/...``.
        topics: the streams the URL subscribes to, in URL order.
        time_unit: ``"us"`` with ``timeUnit=MICROSECOND``, else ``"ms"``.
    """

    combined: bool
    topics: tuple[str, ...]
    time_unit: TimeUnit


def _query(query: str) -> dict[str, str]:
    # Not urllib.parse.parse_qs: that turns "+" into a space, and "+" is
    # literal in stream names ("btcusdt@kline_1m@+08:00").
    pairs: dict[str, str] = {}
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key:
            pairs[unquote(key)] = unquote(value)
    return pairs


def parse_stream_url(url: str) -> StreamUrl:
    """Parse a market-stream URL: ``/stream?streams=a/b`` (combined) or ``/ws/<stream>`` (raw).

    ``/ws`` with no stream is a raw connection with no initial topics;
    any other path is taken as the combined endpoint (a fake server may use
    ``/``). Percent-escapes are decoded; ``+`` stays ``+``.
    """
    parts = urlsplit(url)
    query = _query(parts.query)
    time_unit: TimeUnit = "us" if query.get("timeUnit", "").upper() == "MICROSECOND" else "ms"
    path = parts.path
    marker = path.find("/ws/")
    if marker >= 0:
        names = path[marker + len("/ws/") :].split("/")
        return StreamUrl(False, tuple(unquote(n) for n in names if n), time_unit)
    if path.rstrip("/").endswith("/ws"):
        return StreamUrl(False, (), time_unit)
    streams = query.get("streams", "")
    return StreamUrl(True, tuple(n for n in streams.split("/") if n), time_unit)


# -- close codes ---------------------------------------------------------------------


def classify_binance_close(code: int, reason: str) -> RemoteClosed:
    """Binance's reading of a close frame (``docs/venues/binance.md`` sections 3 and 9).

    - 1008 "Too many requests" is Binance's *rate* signal (more than 5
      incoming messages per second), not a policy/auth failure: retryable
      after a backoff (observed; Binance documents no close codes).
    - 1000 is the planned 24 h cut: retryable at once.
    - Everything else follows the generic table in :mod:`trio_venues.reasons`.
    """
    if code in (1000, 1008):
        return RemoteClosed(code, reason, venue_retryable=True)
    return RemoteClosed(code, reason)


# -- ids and JSON --------------------------------------------------------------------


def _check_int_id(request_id: int) -> None:
    if not _INT64_MIN <= request_id <= _INT64_MAX:
        raise ValueError(f"request id {request_id} does not fit a signed 64-bit integer")


def _check_stream_id(request_id: RequestId) -> None:
    # Streams accept a signed 64-bit integer or an alphanumeric string of <= 36 chars [BN-S].
    if type(request_id) is int:
        _check_int_id(request_id)
    elif type(request_id) is str:
        if not (0 < len(request_id) <= _MAX_STRING_ID and request_id.isascii()):
            raise ValueError(f"request id {request_id!r}: expected <= 36 ASCII letters/digits")
        if not request_id.isalnum():
            raise ValueError(f"request id {request_id!r}: expected letters and digits only")
    else:
        raise TypeError(f"request id must be an int or str, not {type(request_id).__name__}")


def _check_api_id(request_id: RequestId) -> None:
    # The WebSocket API echoes any int or string id [BN-A "Request format"].
    if type(request_id) is int:
        _check_int_id(request_id)
    elif type(request_id) is str:
        if not 0 < len(request_id) <= _MAX_STRING_ID:
            raise ValueError(f"request id {request_id!r}: expected 1 to 36 characters")
    else:
        raise TypeError(f"request id must be an int or str, not {type(request_id).__name__}")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_to_wire(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON: {value!r:.60}")


def _reject_floats(value: Any, where: str) -> None:
    """Refuse binary floats anywhere in request params: prices must be exact."""
    if isinstance(value, float):
        raise TypeError(f"{where} is a float ({value!r}); send a Decimal or a str instead")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _reject_floats(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_floats(item, f"{where}[{index}]")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj, default=_json_default).decode()


def _response_id(value: Any) -> RequestId | None:
    if value is None or type(value) is int or type(value) is str:
        return value
    raise TypeError(f"field 'id': expected int, str or null, got {type(value).__name__}")


def _venue_error_fields(error: Any) -> tuple[int | str, str]:
    if type(error) is not dict:
        raise TypeError(f"field 'error': expected an object, got {type(error).__name__}")
    code = error["code"]
    message = error["msg"]
    if type(code) not in (int, str) or type(message) is not str:
        raise TypeError("field 'error': expected an integer 'code' and a string 'msg'")
    return code, message


# -- frames a (fake) server sends ------------------------------------------------------


def encode_combined(stream: str, payload: Any) -> str:
    """A combined-stream frame: ``{"stream": stream, "data": payload}``."""
    return _dumps({"stream": stream, "data": payload})


def encode_stream_result(request_id: RequestId | None, result: Any = None) -> str:
    """A market-stream request ack: ``{"result": result, "id": request_id}``."""
    return _dumps({"result": result, "id": request_id})


def encode_stream_error(request_id: RequestId | None, code: int, message: str) -> str:
    """A market-stream request error: ``{"error": {"code", "msg"}, "id"}``."""
    return _dumps({"error": {"code": code, "msg": message}, "id": request_id})


def encode_server_shutdown(event_time: int, *, combined: bool = True) -> str:
    """The streams' ``serverShutdown`` notice, combined (``!serverShutdown``) or raw."""
    event = {"e": "serverShutdown", "E": event_time}
    return encode_combined("!serverShutdown", event) if combined else _dumps(event)


def encode_api_response(
    request_id: RequestId | None,
    result: Any,
    *,
    status: int = 200,
    rate_limits: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """A WebSocket-API success: ``{"id", "status", "result"[, "rateLimits"]}``."""
    frame: dict[str, Any] = {"id": request_id, "status": status, "result": result}
    if rate_limits is not None:
        frame["rateLimits"] = list(rate_limits)
    return _dumps(frame)


def encode_api_error(
    request_id: RequestId | None,
    status: int,
    code: int,
    message: str,
    *,
    data: Mapping[str, Any] | None = None,
    rate_limits: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """A WebSocket-API failure: ``{"id", "status", "error": {"code", "msg"[, "data"]}}``."""
    error: dict[str, Any] = {"code": code, "msg": message}
    if data is not None:
        error["data"] = dict(data)
    frame: dict[str, Any] = {"id": request_id, "status": status, "error": error}
    if rate_limits is not None:
        frame["rateLimits"] = list(rate_limits)
    return _dumps(frame)


def encode_user_event(subscription_id: int | None, event: Mapping[str, Any]) -> str:
    """A user-data event frame: ``{"subscriptionId": N, "event": {...}}``.

    ``event`` is the wire dict (``_wire.to_wire(typed_event)`` builds one).
    """
    if subscription_id is None:
        return _dumps({"event": event})
    return _dumps({"subscriptionId": subscription_id, "event": event})


def encode_api_server_shutdown(event_time: int) -> str:
    """The WebSocket API's ``serverShutdown`` notice: ``{"event": {"e": "serverShutdown"}}``."""
    return _dumps({"event": {"e": "serverShutdown", "E": event_time}})


# -- requests a (fake) server receives -----------------------------------------------


@attrs.frozen
class StreamRequest:
    """A request sent to the market-stream endpoint (what a fake server parses)."""

    method: str
    params: tuple[Any, ...]
    request_id: RequestId | None


@attrs.frozen
class ApiRequest:
    """A request sent to the WebSocket API (what a fake server parses)."""

    method: str
    params: dict[str, Any]
    request_id: RequestId | None


def decode_stream_request(data: str | bytes) -> StreamRequest:
    """Parse a market-stream request frame.

    Raises:
        DecodeError: not JSON, not an object, no string ``method``, ``params``
            not an array, or an ``id`` that is neither int, string nor null.
    """
    try:
        obj = orjson.loads(data)
        if type(obj) is not dict:
            raise TypeError("a request is a JSON object")
        method = obj["method"]
        params = obj.get("params", [])
        if type(method) is not str or type(params) is not list:
            raise TypeError("expected a string 'method' and an array 'params'")
        return StreamRequest(method, tuple(params), _response_id(obj.get("id")))
    except DECODE_FAILURES as exc:
        raise_decode_error(exc, data, "Binance stream request")


def decode_api_request(data: str | bytes) -> ApiRequest:
    """Parse a WebSocket-API request frame (``{"id", "method"[, "params"]}``).

    Raises:
        DecodeError: as :func:`decode_stream_request`, with ``params`` an object.
    """
    try:
        obj = orjson.loads(data)
        if type(obj) is not dict:
            raise TypeError("a request is a JSON object")
        method = obj["method"]
        params = obj.get("params", {})
        if type(method) is not str or type(params) is not dict:
            raise TypeError("expected a string 'method' and an object 'params'")
        return ApiRequest(method, params, _response_id(obj["id"]))
    except DECODE_FAILURES as exc:
        raise_decode_error(exc, data, "Binance API request")


# -- the market-stream core ----------------------------------------------------------

# The stream suffix of each typed class, to name the topic of a raw-stream
# payload (which does not carry its stream name).
_RAW_SUFFIX: Final[dict[type[Any], str]] = {
    Trade: "trade",
    AggTrade: "aggTrade",
    DepthUpdate: "depth",
    BookTicker: "bookTicker",
    Ticker: "ticker",
    MiniTicker: "miniTicker",
    AvgPrice: "avgPrice",
}
_ARRAY_TOPIC: Final[dict[type[Any], str]] = {Ticker: "!ticker@arr", MiniTicker: "!miniTicker@arr"}


def _derived_topic(data: MarketEvent) -> str | None:
    """The stream a raw payload most likely came from (speed/tz suffixes unknown)."""
    suffix = _RAW_SUFFIX.get(type(data))
    if suffix is not None:
        return f"{data.symbol.lower()}@{suffix}"  # type: ignore[union-attr]
    if isinstance(data, Kline):
        return f"{data.symbol.lower()}@kline_{data.bar.interval}"
    if isinstance(data, RollingWindowTicker):
        return f"{data.symbol.lower()}@ticker_{data.window}"
    if isinstance(data, tuple) and data:
        first = data[0]
        if isinstance(first, RollingWindowTicker):
            return f"!ticker_{first.window}@arr"
        return _ARRAY_TOPIC.get(type(first))
    return None


# Messages of the hot path are built through their slots, not attrs' frozen
# ``__init__`` (see ``_codec.slot_setters``): ~0.15 us less per message.
_new: Final = object.__new__
_set_topic, _set_data, _set_received_at = slot_setters(Message)

# Binance writes the stream name first in every combined-stream frame
# ('{"stream":"<name>",...'): the hot path reads it from the text to pick the
# decoder, then checks it against the decoded envelope (a second "stream" key,
# or an escape in the name, makes them differ and sends the frame to the
# duplicate-checking slow path).
# Routes are cached per stream name; names come from the wire, so the cache is bounded.
_MAX_CACHED_ROUTES: Final = 4096
_STREAM_WHAT: Final = "Binance stream message"


def _is_server_shutdown(payload: Any) -> bool:
    return type(payload) is dict and payload.get("e") == "serverShutdown"


def _shutdown(payload: Mapping[str, Any]) -> PlannedShutdown:
    # Binance gives no lead time ("reconnect as soon as possible"; the "10
    # minutes before" wording was withdrawn): no deadline [docs/venues/binance.md].
    return PlannedShutdown(
        ServerRequested(f"Binance serverShutdown (E={payload.get('E')}): reconnect now")
    )


def _trade_id(data: Any) -> int | None:
    return data.trade_id if type(data) is Trade else None


def _agg_trade_id(data: Any) -> int | None:
    return data.agg_trade_id if type(data) is AggTrade else None


def _depth_span(data: Any) -> tuple[int, int] | None:
    if type(data) is DepthUpdate:
        return data.first_update_id, data.final_update_id
    return None


# Streams whose messages carry an id that is the same on every connection
# (docs/venues/binance.md, "Ids across connections"): trade ``t``, aggregate
# trade ``a``, and a diff depth message's update ids ``U..u`` (a diff holds
# absolute levels: delivered whole, never trimmed).
_TRADE_IDS: Final = single_id(_trade_id)
_AGG_TRADE_IDS: Final = single_id(_agg_trade_id)
_DEPTH_IDS: Final = TopicIds(_depth_span)


def binance_topic_ids(topic: str) -> TopicIds | None:
    """The venue ids of a Binance market stream, or ``None`` (see ``VenueCore.topic_ids``).

    ``<symbol>@trade`` (trade id ``t``), ``<symbol>@aggTrade`` (aggregate
    trade id ``a``) and ``<symbol>@depth[@100ms]`` (update ids ``U..u``)
    have one; other streams (tickers, klines, book tickers, partial depth)
    carry none that de-duplicates across connections.
    """
    symbol, _, kind = topic.partition("@")
    if not symbol or symbol.startswith("!"):
        return None
    if kind == "trade":
        return _TRADE_IDS
    if kind == "aggTrade":
        return _AGG_TRADE_IDS
    if kind in ("depth", "depth@100ms", "depth@1000ms"):
        return _DEPTH_IDS
    return None


class BinanceSpotCore(VenueCore):
    """The sans-I/O core of Binance Spot market-data streams.

    ``decode`` turns each text frame into outputs:

    - a market payload -> ``Message(topic, data, received_at)`` where
      ``topic`` is the stream name as Binance spells it (``"btcusdt@trade"``)
      and ``data`` the typed class from :mod:`._wire` (a tuple of tickers
      for ``!...@arr`` streams, :class:`UnknownMessage` for anything new).
      Raw ``/ws/`` payloads carry no stream name: the topic is the URL's
      stream when the payload matches it, else derived from the payload
      (``"btcusdt@depth"`` without a speed suffix), else ``None``;
    - ``{"result", "id"}`` -> :class:`Response`; ``{"error": {"code", "msg"},
      "id"}`` -> ``Response(error=VenueError(code, msg, retryable=False))``
      (codes 0-3 are malformed requests, ``docs/venues/binance.md`` section 5), or an ``ErrorEvent``
      when the id is null;
    - ``serverShutdown`` (raw or combined) -> ``PlannedShutdown(ServerRequested)``
      (no deadline: Binance gives no lead time).

    Binary frames, malformed JSON and known payloads of the wrong shape raise
    :class:`~trio_venues.errors.DecodeError`.

    Args:
        url: the URL this connection was opened with (default
            :data:`STREAM_URL`); it tells the raw stream name and the time unit.
    """

    name = "binance"
    venue_ping_interval = None
    max_connection_age = MAX_CONNECTION_AGE

    def __init__(self, url: str | None = None) -> None:
        super().__init__()
        self.url = STREAM_URL if url is None else url
        parsed = parse_stream_url(self.url)
        #: ``"ms"`` or ``"us"``: the unit of every venue timestamp on this connection.
        self.time_unit: TimeUnit = parsed.time_unit
        self._raw_topic = (
            parsed.topics[0] if not parsed.combined and len(parsed.topics) == 1 else None
        )
        # Raw connections decode bare payloads by the URL's stream (the tagged
        # union when it names none); combined ones read each frame's name.
        self._raw_route: StreamRoute | None = None
        if not parsed.combined:
            self._raw_route = (
                TAGGED_ROUTE if self._raw_topic is None else stream_route(self._raw_topic)
            )
        self._decoders: dict[str, Callable[[str], Combined[Any]]] = {}

    # -- incoming -----------------------------------------------------------------

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        """Turn one received frame into outputs (see the class docstring)."""
        if type(data) is str and data.startswith('{"stream":"'):
            # The hot path: one msgspec decode of envelope and payload, the
            # decoder picked by the stream name (it starts at offset 11).
            stream = data[11 : data.find('"', 11)]
            decode = self._decoders.get(stream) or self._decoder(stream)
            try:
                frame = decode(data)
            except DECODE_ERRORS as exc:
                return self._decode_slow(data, received_at, exc)
            if frame.stream == stream:
                message: Message = _new(Message)
                _set_topic(message, stream)
                _set_data(message, frame.data)
                _set_received_at(message, received_at)
                return (message,)
            return self._decode_slow(data, received_at, None)
        if type(data) is not str:
            raise DecodeError(
                "Binance market streams send JSON text frames; got a binary frame "
                "(SBE streams are not supported)",
                data,
            )
        if self._raw_route is not None:
            # A raw /ws/ connection: bare payloads, the decoder picked by the URL's stream.
            try:
                event = self._raw_route.raw.decode(data)
            except DECODE_ERRORS as exc:
                return self._decode_slow(data, received_at, exc)
            return (Message(self._raw_stream_topic(event), event, received_at),)
        return self._decode_slow(data, received_at, None)

    def _decoder(self, stream: str) -> Callable[[str], Combined[Any]]:
        """The combined-frame decoder of ``stream``, cached (a bounded number of names)."""
        decode = stream_route(stream).combined.decode
        if len(self._decoders) < _MAX_CACHED_ROUTES:
            self._decoders[stream] = decode
        return decode

    def _decode_slow(
        self, data: str, received_at: float, fast_error: Exception | None
    ) -> Sequence[Output]:
        """Everything the hot path did not decode: responses, shutdowns, unknown types.

        Parsed by :func:`~trio_venues._wirecodec.loads_unique`, so a duplicated
        key (``"stream"``, ``"id"``, ``"e"``) is an error rather than a quiet
        re-route. When the hot path failed on a payload this path cannot
        decode either, its error (with the full ``$.data.p`` path) is raised.
        """
        if fast_error is not None and not isinstance(fast_error, msgspec.ValidationError):
            # Malformed JSON (or nested too deeply): nothing else can read it.
            raise decode_error(fast_error, data, _STREAM_WHAT)
        obj = loads_unique(data, _STREAM_WHAT)
        try:
            if type(obj) is dict:
                stream = obj.get("stream")
                if stream is not None:
                    if type(stream) is not str:
                        raise TypeError("Expected `str` - at `$.stream`")
                    payload = obj["data"]
                    if _is_server_shutdown(payload):
                        return (_shutdown(payload),)
                    event = self._typed(payload, stream, data, fast_error)
                    return (Message(stream, event, received_at),)
                if "id" in obj and "e" not in obj:
                    return self._response(obj)
                if _is_server_shutdown(obj):
                    return (_shutdown(obj),)
            elif type(obj) is not list:
                raise TypeError(f"expected a JSON object or array, got {type(obj).__name__}")
            # A raw-stream payload: an object, or an array for "!...@arr".
            event = self._typed(obj, self._raw_topic, data, fast_error)
            return (Message(self._raw_stream_topic(event), event, received_at),)
        except DECODE_FAILURES as exc:
            raise_decode_error(exc, data, _STREAM_WHAT)

    @staticmethod
    def _typed(
        payload: Any, stream: str | None, data: str, fast_error: Exception | None
    ) -> MarketEvent:
        try:
            return market_event_from_wire(payload, stream)
        except DecodeError as exc:
            # Both failed: the hot path's message has the whole path ("$.data.p").
            error = (
                DecodeError(str(exc), data)
                if fast_error is None
                else decode_error(fast_error, data, _STREAM_WHAT)
            )
        raise error

    def _raw_stream_topic(self, event: MarketEvent) -> str | None:
        derived = _derived_topic(event)
        raw = self._raw_topic
        if raw is not None and (derived is None or raw == derived or raw.startswith(derived + "@")):
            return raw
        return derived

    def _response(self, obj: dict[str, Any]) -> Sequence[Output]:
        request_id = _response_id(obj["id"])
        if "error" in obj or "code" in obj:
            # Wrapped {"error": {...}, "id"} on the wire; the docs' table also
            # shows a bare {"code", "msg", "id"}: accept both.
            code, message = _venue_error_fields(obj.get("error", obj))
            error = VenueError(code, message, retryable=False)
            if request_id is None:
                return (ErrorEvent(error),)
            return (Response(request_id, error=error),)
        result = obj["result"]
        if request_id is None:
            raise TypeError("a result with a null id answers no request of ours")
        return (Response(request_id, result=result),)

    # -- outgoing -----------------------------------------------------------------

    def _encode_topics(self, method: str, topics: Sequence[str], request_id: RequestId) -> str:
        _check_stream_id(request_id)
        if isinstance(topics, str):
            raise TypeError("topics must be a sequence of stream names, not one str")
        names = [validate_stream_name(topic) for topic in topics]
        if not names:
            raise ValueError(f"{method} needs at least one stream name")
        most = MAX_TOPICS_PER_REQUEST
        if len(names) > most:
            raise ValueError(
                f"{len(names)} streams in one {method}; at most {most} per request: split them"
            )
        return _dumps({"method": method, "params": names, "id": request_id})

    def encode_subscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext | None = None
    ) -> str:
        """``{"method": "SUBSCRIBE", "params": [...], "id": N}``; the ack is ``result: null``."""
        return self._encode_topics("SUBSCRIBE", topics, request_id)

    def encode_unsubscribe(
        self, topics: Sequence[str], request_id: RequestId, ctx: SendContext | None = None
    ) -> str:
        """``{"method": "UNSUBSCRIBE", "params": [...], "id": N}``."""
        return self._encode_topics("UNSUBSCRIBE", topics, request_id)

    def encode_list_subscriptions(self, request_id: RequestId) -> str:
        """``{"method": "LIST_SUBSCRIPTIONS", "id": N}``; the result is the list of streams."""
        _check_stream_id(request_id)
        return _dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id})

    def encode_request(
        self, method: str, params: Any, request_id: RequestId, ctx: SendContext | None = None
    ) -> str:
        """A market-stream request: one of :data:`STREAM_METHODS`.

        Args:
            method: ``"SUBSCRIBE"``, ``"UNSUBSCRIBE"``, ``"LIST_SUBSCRIPTIONS"``,
                ``"SET_PROPERTY"`` (params ``["combined", True]``) or
                ``"GET_PROPERTY"`` (params ``["combined"]``).
            params: a list, or ``None`` for none.
            request_id: a signed 64-bit int (or a short alphanumeric string).
        """
        if method not in STREAM_METHODS:
            valid = ", ".join(sorted(STREAM_METHODS))
            raise ValueError(f"unknown market-stream method {method!r}; valid: {valid}")
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return self._encode_topics(method, params or (), request_id)
        if method == "LIST_SUBSCRIPTIONS" and not params:
            return self.encode_list_subscriptions(request_id)
        _check_stream_id(request_id)
        if params is None:
            return _dumps({"method": method, "id": request_id})
        if not isinstance(params, list | tuple):
            raise TypeError(f"params of {method} must be a list, not {type(params).__name__}")
        return _dumps({"method": method, "params": list(params), "id": request_id})

    # -- feeds across connections ---------------------------------------------------

    def topic_ids(self, topic: str) -> TopicIds | None:
        """Trade ``t``, aggregate trade ``a``, diff depth ``U..u`` (:func:`binance_topic_ids`)."""
        return binance_topic_ids(topic)

    def connection_fits(self, topics: Sequence[str]) -> bool:
        """At most :data:`MAX_STREAMS_PER_CONNECTION` (1,024) distinct streams [BN-S]."""
        return len(set(topics)) <= MAX_STREAMS_PER_CONNECTION and super().connection_fits(topics)

    # -- lifecycle ----------------------------------------------------------------

    def initial_topics(self, url: str) -> tuple[str, ...]:
        """The streams ``url`` subscribes to: ``?streams=a/b`` or ``/ws/<stream>``."""
        return parse_stream_url(url).topics

    def classify_close(self, code: int, reason: str) -> DisconnectReason:
        """See :func:`classify_binance_close`: 1008 and 1000 are retryable on Binance."""
        return classify_binance_close(code, reason)


# -- the WebSocket API core ------------------------------------------------------------

#: Error codes that mean bad credentials or signature [BN-E]:
#: -2015 REJECTED_MBX_KEY, -2014 BAD_API_KEY_FMT, -1022 INVALID_SIGNATURE.
AUTH_ERROR_CODES: Final = frozenset({-2015, -2014, -1022})
#: -1021 INVALID_TIMESTAMP: clock skew or latency; retry after a time sync [BN-E].
_TIMESTAMP_ERROR: Final = -1021
#: Seconds per ``rateLimits`` interval unit [BN-A "How to interpret rate limits"].
_INTERVAL_SECONDS: Final = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
#: ``rateLimitType`` -> the limiter's ``UsageReport.kind``.
_USAGE_KINDS: Final = {"REQUEST_WEIGHT": "weight", "ORDERS": "orders"}


def _usage_report(entry: Any) -> UsageReport:
    if type(entry) is not dict:
        raise TypeError("a rateLimits entry is an object")
    kind = entry["rateLimitType"]
    interval = entry["interval"]
    interval_num = entry["intervalNum"]
    limit = entry["limit"]
    count = entry["count"]
    if (
        type(kind) is not str
        or type(interval_num) is not int
        or type(limit) is not int
        or type(count) is not int
    ):
        raise TypeError("rateLimits entry: expected string type and integer numbers")
    if interval_num < 1 or limit < 1 or count < 0:
        # A report can only tighten a limit; a nonsensical one is reported, not applied.
        raise ValueError("rateLimits entry: intervalNum and limit must be >= 1, count >= 0")
    return UsageReport(
        kind=_USAGE_KINDS.get(kind, kind.lower()),
        used=count,
        limit=limit,
        window=_INTERVAL_SECONDS[interval] * interval_num,
    )


def _retry_after(data: Any) -> float | None:
    """Seconds from ``serverTime`` to ``retryAfter`` (both ms epochs), when both are given."""
    if type(data) is not dict:
        return None
    until = data.get("retryAfter")
    now = data.get("serverTime")
    if type(until) is not int or type(now) is not int:
        return None
    return max(0.0, (until - now) / 1000)


def _api_error(status: int, error: Any) -> VenueError:
    """Classify a WebSocket-API error (``docs/venues/binance.md`` sections 8 and 9)."""
    code, message = _venue_error_fields(error)
    data = error.get("data")
    extra = data if type(data) is dict else None
    if status in (418, 429):
        # 429: rate limited; 418: IP auto-banned. Both say when to come back.
        return VenueError(
            code,
            message,
            status=status,
            retryable=True,
            retry_after=_retry_after(data),
            data=extra,
        )
    if status == 401 or code in AUTH_ERROR_CODES:
        return AuthenticationError(code, message, status=status, retryable=False, data=extra)
    # -1021: our clock is off; everything else (400, 403 WAF, 409 partial, and
    # 5xx whose execution status is unknown) must not be retried blindly.
    return VenueError(code, message, status=status, retryable=code == _TIMESTAMP_ERROR, data=extra)


class BinanceApiCore(VenueCore):
    """The sans-I/O core of the Binance WebSocket API (requests, user data).

    ``decode`` turns each text frame into outputs:

    - a response -> one :class:`UsageReport` per ``rateLimits`` entry (kind
      ``"weight"`` for REQUEST_WEIGHT, ``"orders"`` for ORDERS, ``window`` in
      seconds), then :class:`Response` (``result``, or ``error``: a
      :class:`VenueError`; 418/429 are retryable with ``retry_after``;
      -2015/-2014/-1022 and status 401 an :class:`AuthenticationError`;
      -1021 retryable);
    - a 401 with ``"id": null`` (the session's key was revoked) ->
      ``EndConnection(AuthenticationFailed)``; another error with a null id
      -> ``ErrorEvent``;
    - ``{"event": {"e": "serverShutdown"}}`` -> ``PlannedShutdown(ServerRequested)``;
    - ``{"subscriptionId": N, "event": {...}}`` -> ``Message("userData",
      UserDataEvent(N, typed_event))`` (``eventStreamTerminated`` included);
    - any other JSON object -> ``Message(None, UnknownMessage(obj))``.

    Request ids are strings (``uuid4().hex``: 32 characters, unique across
    connections, so a late reply can never be mistaken for another request's).

    Args:
        logon_signer: an Ed25519 signer to log on with: the connection's
            first frame is then a signed ``session.logon`` (``timestamp`` from
            ``SendContext.wall_time``). ``None``: no log-on.
        recv_window: the log-on's ``recvWindow`` in ms (Binance's 5000 when ``None``).
    """

    name = "binance-api"
    venue_ping_interval = None
    max_connection_age = MAX_CONNECTION_AGE

    def __init__(
        self, *, logon_signer: Signer | None = None, recv_window: int | Decimal | None = None
    ) -> None:
        super().__init__()
        self.logon_signer = logon_signer
        self.recv_window = recv_window

    def next_request_id(self) -> str:
        """A fresh string id: 32 hex characters (Binance allows up to 36)."""
        return uuid.uuid4().hex

    # -- incoming -----------------------------------------------------------------

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        """Turn one received frame into outputs (see the class docstring)."""
        if type(data) is not str:
            raise DecodeError(
                "the Binance WebSocket API sends JSON text frames; got a binary frame "
                "(SBE responses are not supported)",
                data,
            )
        # Duplicate keys refused: a second "id" must not answer another request.
        obj = loads_unique(data, "Binance API message")
        try:
            if type(obj) is not dict:
                raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
            if "status" in obj:
                return self._response(obj, data)
            if "event" in obj:
                event = self._event(obj, received_at)
                payload = event.data if isinstance(event, Message) else None
                if isinstance(payload, UserDataEvent) and isinstance(
                    payload.event, StreamTerminated
                ):
                    # The subscription is over at Binance (docs/venues/binance.md
                    # section 6): it leaves ws.subscriptions, so no replay.
                    return (event, TopicsEnded((USER_DATA_TOPIC,)))
                return (event,)
            # A shape this version does not know: deliver it, never drop it.
            return (Message(None, UnknownMessage(obj), received_at),)
        except DECODE_FAILURES as exc:
            raise_decode_error(exc, data, "Binance API message")

    def _response(self, obj: dict[str, Any], raw: str) -> list[Output]:
        request_id = _response_id(obj["id"])
        status = obj["status"]
        if type(status) is not int:
            raise TypeError("field 'status': expected an integer")
        outputs: list[Output] = []
        rate_limits = obj.get("rateLimits")
        if rate_limits is not None:
            if type(rate_limits) is not list:
                raise TypeError("field 'rateLimits': expected an array")
            for entry in rate_limits:
                try:
                    outputs.append(_usage_report(entry))
                except DECODE_FAILURES as exc:
                    # Report the odd entry but never lose the response with it.
                    outputs.append(
                        ErrorEvent(DecodeError(f"unrecognised rateLimits entry ({exc!r})", raw))
                    )
        if "error" in obj:
            error = _api_error(status, obj["error"])
            if request_id is not None:
                outputs.append(Response(request_id, error=error))
            elif status == 401:
                # The key was revoked mid-session; every later request fails too.
                outputs.append(
                    EndConnection(
                        AuthenticationFailed(
                            f"Binance revoked the session: error {error.code}: {error.message}"
                        )
                    )
                )
            else:
                outputs.append(ErrorEvent(error))
            return outputs
        result = obj["result"]
        if request_id is None:
            raise TypeError("a result with a null id answers no request of ours")
        outputs.append(Response(request_id, result=result))
        return outputs

    def _event(self, obj: dict[str, Any], received_at: float) -> Output:
        event = obj["event"]
        subscription_id = obj.get("subscriptionId")
        if subscription_id is not None and type(subscription_id) is not int:
            raise TypeError("field 'subscriptionId': expected an integer")
        if subscription_id is None and _is_server_shutdown(event):
            return _shutdown(event)
        user_event = user_event_from_wire(event)
        return Message(USER_DATA_TOPIC, UserDataEvent(subscription_id, user_event), received_at)

    # -- outgoing -----------------------------------------------------------------

    def encode_request(
        self, method: str, params: Any, request_id: RequestId, ctx: SendContext | None = None
    ) -> str:
        """``{"id": request_id, "method": method[, "params": {...}]}``.

        ``params`` is a mapping (sign it first with :func:`sign_params` for
        SIGNED methods) or ``None``; ``Decimal`` values are sent as strings,
        binary floats are refused (``TypeError``).
        """
        if not isinstance(method, str) or not method:
            raise ValueError(f"method must be a non-empty str, not {method!r}")
        _check_api_id(request_id)
        if params is None:
            return _dumps({"id": request_id, "method": method})
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping, not {type(params).__name__}")
        _reject_floats(params, "params")
        return _dumps({"id": request_id, "method": method, "params": dict(params)})

    def encode_login(self, request_id: RequestId, ctx: SendContext) -> str | None:
        """A signed ``session.logon`` when the core has a ``logon_signer``, else ``None``."""
        if self.logon_signer is None:
            return None
        timestamp = round(ctx.wall_time * 1000)
        params = sign_params({}, self.logon_signer, timestamp, self.recv_window)
        return self.encode_request("session.logon", params, request_id)

    def login_details(self, result: Any) -> Mapping[str, Any]:
        """The ``session.logon`` result with ``apiKey`` abbreviated (never a secret)."""
        if not isinstance(result, Mapping):
            return {}
        return {k: mask_api_key(v) if k == "apiKey" else v for k, v in result.items()}

    # -- lifecycle ----------------------------------------------------------------

    def classify_close(self, code: int, reason: str) -> DisconnectReason:
        """See :func:`classify_binance_close`: 1008 and 1000 are retryable on Binance."""
        return classify_binance_close(code, reason)


def mask_api_key(api_key: Any) -> Any:
    """An API key abbreviated for events and logs: its first four characters and ``...``."""
    return f"{api_key[:4]}..." if isinstance(api_key, str) and len(api_key) > 4 else api_key
