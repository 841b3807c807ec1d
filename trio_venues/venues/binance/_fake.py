"""A fake Binance Spot venue: market streams and the WebSocket API on one fake server.

:class:`FakeBinance` is a :class:`~trio_venues.testing.VenueBehaviour` for
:class:`~trio_venues.testing.FakeVenueServer`. One behaviour serves every
Binance path, chosen per connection by the request target:

- ``/stream?streams=a/b`` (or any path other than the two below): combined
  market streams, every payload wrapped ``{"stream": name, "data": ...}``;
- ``/ws`` and ``/ws/<stream>``: raw market streams;
- ``.../ws-api/v3``: the WebSocket API (requests and user data).

``binance_server()`` builds a server with Binance's keepalive (a ping frame
every 20 s, a close when no pong came for 60 s) around the behaviour;
``binance_stream_url(server, "btcusdt@trade")``, ``binance_raw_url`` and
``binance_api_url`` give the URLs to connect to.

What the fake enforces, as Binance does (``docs/venues/binance.md`` sections 3-8):

- at most 5 incoming frames per second per stream connection, **pings and
  pongs included**; the 6th within one second closes the connection with
  1008 "Too many requests" (and is not answered);
- 1024 streams per connection; stream names checked against the stream
  grammar (an unknown one is refused with ``{"error": {"code": 2, "msg":
  "Invalid request: invalid stream"}, "id": ...}``, the whole request refused);
- request weight per server (all WS-API connections: one "IP"): 6000 per
  minute by default, 2 per connection, each method's documented weight;
  over it: status 429 with ``retryAfter``; :meth:`FakeBinance.ban` gives 418;
- signed requests: ``apiKey``, ``timestamp`` (within ``recvWindow`` and not
  1 s ahead) and the signature (HMAC, Ed25519, RSA) verified against the
  registered :class:`BinanceTestKey` values; ``session.logon`` Ed25519 only.

Market data comes from one :class:`MarketSimulator` per symbol: trades with
increasing ids, aggregate trades, candles that close on their interval,
tickers, and an order book whose depth diffs (``U``/``u``) are exactly the
changes of the simulated book, so a client that applies them on top of a
``depth`` snapshot holds the simulator's book. Faults on command:
``market.inject_gap()``, ``inject_duplicate()``, ``inject_stale_snapshot()``,
``inject_crossed()``. Diff streams aggregate every change since their last
message (as ``@depth@100ms`` does), so several depth streams of one symbol
stay consistent.

Recorded frames replay with :meth:`FakeBinance.replay` (recordings are
venue-neutral: see :mod:`trio_venues.testing`'s ``RecordedFrame``).

Time: venue timestamps (``E``, ``T``, ``serverTime``) come from ``clock``
(milliseconds since the epoch; the wall clock by default, or
:func:`~trio_venues.testing.virtual_clock_ms` to follow Trio's clock in tests); every wait,
window and deadline of the fake uses ``trio.current_time()``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import math
import re
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, Literal, TypeAlias
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import attrs
import orjson
import trio
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from ..._codec import decimal_to_wire
from ...errors import DecodeError
from ...testing._market import BookSnapshot, MarketSimulator, SimTrade
from ...testing._recording import RecordingSource, replay_recording
from ...testing._server import FakeVenueServer, HandshakeRequest, ServerConnection, over_frame_rate
from ._client import request_weight, wall_clock_ms
from ._protocol import (
    KLINE_TIMEZONES,
    MAX_CONNECTION_AGE,
    decode_api_request,
    decode_stream_request,
    encode_api_error,
    encode_api_response,
    encode_api_server_shutdown,
    encode_combined,
    encode_server_shutdown,
    encode_stream_error,
    encode_stream_result,
    encode_user_event,
    parse_stream_url,
)
from ._signing import (
    Ed25519Signer,
    HmacSigner,
    RsaSigner,
    Signer,
    signature_payload,
)
from ._wire import (
    KLINE_INTERVALS,
    ROLLING_WINDOWS,
    AccountPosition,
    AggTrade,
    AvgPrice,
    Balance,
    BookTicker,
    DepthUpdate,
    Kline,
    KlineBar,
    MiniTicker,
    PartialDepth,
    RollingWindowTicker,
    Ticker,
    Trade,
    to_wire,
    wire_levels,
)

__all__ = [
    "DEFAULT_SYMBOLS",
    "SYMBOL_ASSETS",
    "BinanceApiError",
    "BinancePeer",
    "BinanceTestKey",
    "FakeBinance",
    "binance_api_url",
    "binance_raw_url",
    "binance_server",
    "binance_stream_url",
    "ed25519_test_key",
    "hmac_test_key",
    "rsa_test_key",
]

#: The symbols the fake knows from the start: (first price, tick size).
#: base and quote asset of the symbols the fake lists in ``exchangeInfo``
SYMBOL_ASSETS: Final[Mapping[str, tuple[str, str]]] = {
    "BTCUSDT": ("BTC", "USDT"),
    "ETHUSDT": ("ETH", "USDT"),
    "BNBBTC": ("BNB", "BTC"),
    "ETHBTC": ("ETH", "BTC"),
    "SOLUSDT": ("SOL", "USDT"),
    "BTCUSDC": ("BTC", "USDC"),
}

DEFAULT_SYMBOLS: Final[Mapping[str, tuple[str, str]]] = {
    "BTCUSDT": ("65000.00", "0.01"),
    "ETHUSDT": ("3000.00", "0.01"),
    "BNBBTC": ("0.013800", "0.000001"),
}
# Another symbol a stream asks for gets this market.
_OTHER_SYMBOL: Final = ("100.00", "0.01")

# Binance's limits [BN-S "WebSocket Limits", BN-A "Rate limits"; docs/venues/binance.md section 3].
_MESSAGES_PER_SECOND: Final = 5
_MAX_STREAMS: Final = 1024
_WEIGHT_PER_MINUTE: Final = 6000
_CONNECT_WEIGHT: Final = 2
_RECV_WINDOW_MS: Final = 5000
_MAX_RECV_WINDOW_MS: Final = 60_000
_MAX_DEPTH_LIMIT: Final = 5000

# Binance's error texts [BN-E errors.md; BN-S "Error Messages"].
_INVALID_STREAM: Final = "Invalid request: invalid stream"
_BAD_KEY: Final = "Invalid API-key, IP, or permissions for action."
_BAD_SIGNATURE: Final = "Signature for this request is not valid."
_STREAM_METHODS: Final = "SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY"

_EIGHT: Final = Decimal("0.00000001")
_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)
_MS_PER_DAY: Final = 86_400_000


# -- test keys ------------------------------------------------------------------------------

KeyKind: TypeAlias = Literal["hmac", "ed25519", "rsa"]


class BinanceTestKey:
    """An API key the fake accepts, with its private half for the client: test use only.

    Build them with :func:`ed25519_test_key`, :func:`hmac_test_key` or
    :func:`rsa_test_key` (deterministic per name, RSA excepted). The repr
    shows the kind and the first four characters of the API key, never a secret.

    Attributes:
        api_key: the public API key (64 characters, like Binance's).
        kind: ``"hmac"``, ``"ed25519"`` or ``"rsa"``.
    """

    __slots__ = ("_private", "_secret", "api_key", "kind")

    def __init__(self, api_key: str, kind: KeyKind, private: Any) -> None:
        self.api_key = api_key
        self.kind: KeyKind = kind
        self._private: Any = private if kind != "hmac" else None
        self._secret: bytes = private if kind == "hmac" else b""

    def __repr__(self) -> str:
        return f"BinanceTestKey({self.kind}, api_key={self.api_key[:4]!r}...)"

    def signer(self) -> Signer:
        """The client-side signer for this key."""
        if self.kind == "hmac":
            return HmacSigner(self.api_key, self._secret)
        if self.kind == "ed25519":
            return Ed25519Signer(self.api_key, self._private)
        return RsaSigner(self.api_key, self._private)

    def private_key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (Ed25519 and RSA keys)."""
        if self._private is None:
            raise TypeError("an HMAC key has a secret, not a private key")
        pem: bytes = self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return pem

    def verify(self, payload: bytes, signature: str) -> bool:
        """Whether ``signature`` signs ``payload`` with this key, as Binance checks it."""
        if self.kind == "hmac":
            expected = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()
            # Binance compares HMAC signatures case-insensitively [BN-A].
            return hmac.compare_digest(expected, signature.lower())
        try:
            raw = base64.b64decode(signature, validate=True)
            if self.kind == "ed25519":
                self._private.public_key().verify(raw, payload)
            else:
                self._private.public_key().verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def _derive(name: str, purpose: str) -> bytes:
    return hashlib.sha256(f"trio_venues test key {name} {purpose}".encode()).digest()


def _api_key(name: str, kind: str) -> str:
    return hashlib.sha256(f"trio_venues api key {kind} {name}".encode()).hexdigest()


def ed25519_test_key(name: str = "default") -> BinanceTestKey:
    """A deterministic Ed25519 test key (the same for the same ``name``)."""
    private = ed25519.Ed25519PrivateKey.from_private_bytes(_derive(name, "ed25519"))
    return BinanceTestKey(_api_key(name, "ed25519"), "ed25519", private)


def hmac_test_key(name: str = "default") -> BinanceTestKey:
    """A deterministic HMAC-SHA256 test key (64 hex characters of secret)."""
    secret = _derive(name, "hmac").hex().encode()
    return BinanceTestKey(_api_key(name, "hmac"), "hmac", secret)


@lru_cache(maxsize=8)
def rsa_test_key(name: str = "default") -> BinanceTestKey:
    """An RSA-2048 test key, generated once per ``name`` and process (random, so slow-ish)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return BinanceTestKey(_api_key(name, "rsa"), "rsa", private)


# -- the simulated market in Binance's words --------------------------------------------

_TZ_OFFSET_MS: Final[Mapping[str | None, int]] = {None: 0, "+08:00": 8 * 3_600_000}


def _fmt(value: Decimal) -> Decimal:
    """Eight decimals, as Binance writes prices and quantities (``"3.43200000"``)."""
    return value.quantize(_EIGHT)


def _depth_update(market: MarketSimulator, topic: str, now_ms: int) -> DepthUpdate:
    """The next ``depthUpdate`` of diff stream ``topic`` (``U``/``u``: the diff's ids)."""
    diff = market.diff(topic)
    return DepthUpdate(
        market.symbol,
        diff.first_update_id,
        diff.last_update_id,
        wire_levels(diff.bids),
        wire_levels(diff.asks),
        event_time=now_ms,
    )


def _partial_depth(snapshot: BookSnapshot) -> PartialDepth:
    """A ``depth`` answer or ``@depth<N>`` message: ``lastUpdateId``, ``bids``, ``asks``."""
    return PartialDepth(snapshot.update_id, wire_levels(snapshot.bids), wire_levels(snapshot.asks))


def _book_ticker(market: MarketSimulator) -> BookTicker:
    """A ``@bookTicker`` message: the book moves, then its best bid and ask."""
    top = market.moved_snapshot(1)
    (bid, bid_qty), (ask, ask_qty) = top.bids[0], top.asks[0]
    return BookTicker(market.symbol, top.update_id, bid, bid_qty, ask, ask_qty)


def _trade(market: MarketSimulator, trade: SimTrade) -> Trade:
    return Trade(
        market.symbol,
        trade.trade_id,
        trade.price,
        trade.quantity,
        trade.time_ms,
        trade.time_ms,
        trade.buyer_maker,
    )


def _agg_trade(market: MarketSimulator, now_ms: int) -> AggTrade:
    agg = market.agg_trade(now_ms)
    return AggTrade(
        market.symbol,
        agg.agg_trade_id,
        agg.price,
        agg.quantity,
        agg.first_trade_id,
        agg.last_trade_id,
        agg.time_ms,
        agg.time_ms,
        agg.buyer_maker,
    )


def _kline(market: MarketSimulator, interval: str, tz: str | None, now_ms: int) -> Kline:
    """The next kline of ``interval`` (``tz``: ``"+08:00"`` for UTC+8 candles)."""
    if interval not in KLINE_INTERVALS:
        raise ValueError(f"unknown kline interval {interval!r}")
    candle = market.candle(interval, now_ms, offset_ms=_TZ_OFFSET_MS[tz])
    bar = KlineBar(
        start_time=candle.start,
        close_time=candle.close_time,
        symbol=market.symbol,
        interval=interval,
        first_trade_id=candle.first_trade_id,
        last_trade_id=candle.last_trade_id,
        open=candle.open,
        close=candle.close,
        high=candle.high,
        low=candle.low,
        volume=candle.volume,
        trade_count=candle.count,
        is_closed=candle.closed,
        quote_volume=candle.quote_volume,
        taker_buy_volume=candle.taker_volume,
        taker_buy_quote_volume=candle.taker_quote_volume,
    )
    return Kline(market.symbol, now_ms, bar)


def _ticker(market: MarketSimulator, now_ms: int) -> Ticker:
    """A ``24hrTicker``: statistics since the simulator started."""
    stats = market.stats()
    (bid, bid_qty), (ask, ask_qty) = market.best_bid(), market.best_ask()
    return Ticker(
        symbol=market.symbol,
        event_time=now_ms,
        price_change=stats.price_change,
        price_change_percent=stats.price_change_percent,
        weighted_average_price=stats.weighted_average_price,
        prev_close_price=stats.open_price,
        last_price=stats.last_price,
        last_quantity=stats.last_quantity,
        best_bid_price=bid,
        best_bid_quantity=bid_qty,
        best_ask_price=ask,
        best_ask_quantity=ask_qty,
        open_price=stats.open_price,
        high_price=stats.high,
        low_price=stats.low,
        base_volume=stats.volume,
        quote_volume=stats.quote_volume,
        open_time=stats.open_time,
        close_time=now_ms,
        first_trade_id=stats.first_trade_id,
        last_trade_id=stats.last_trade_id,
        trade_count=stats.trade_count,
    )


def _rolling_ticker(market: MarketSimulator, window: str, now_ms: int) -> RollingWindowTicker:
    """A rolling-window ticker (``1hTicker`` ...), from the same statistics."""
    full = _ticker(market, now_ms)
    return RollingWindowTicker(
        symbol=market.symbol,
        window=window,
        event_time=now_ms,
        price_change=full.price_change,
        price_change_percent=full.price_change_percent,
        open_price=full.open_price,
        high_price=full.high_price,
        low_price=full.low_price,
        last_price=full.last_price,
        weighted_average_price=full.weighted_average_price,
        base_volume=full.base_volume,
        quote_volume=full.quote_volume,
        open_time=full.open_time,
        close_time=now_ms,
        first_trade_id=full.first_trade_id,
        last_trade_id=full.last_trade_id,
        trade_count=full.trade_count,
    )


def _mini_ticker(market: MarketSimulator, now_ms: int) -> MiniTicker:
    """A ``24hrMiniTicker``."""
    stats = market.stats()
    return MiniTicker(
        market.symbol,
        now_ms,
        stats.last_price,
        stats.open_price,
        stats.high,
        stats.low,
        stats.volume,
        stats.quote_volume,
    )


def _avg_price(market: MarketSimulator, now_ms: int) -> AvgPrice:
    """An ``avgPrice`` event (5 minute average: the weighted average here)."""
    stats = market.stats()
    return AvgPrice(
        market.symbol, now_ms, "5m", stats.weighted_average_price, stats.last_trade_time
    )


# -- stream names ----------------------------------------------------------------------------

_SYMBOL_RE: Final = r"[a-z0-9]+"
_INTERVALS_RE: Final = "|".join(re.escape(i) for i in KLINE_INTERVALS)
_WINDOWS_RE: Final = "|".join(ROLLING_WINDOWS)
# The Spot stream grammar [BN-S]; group names say what the stream is.
_STREAM_RE: Final = re.compile(
    rf"^(?:(?P<symbol>{_SYMBOL_RE})@(?:"
    r"(?P<simple>trade|aggTrade|bookTicker|ticker|miniTicker|avgPrice)"
    rf"|ticker_(?P<window>{_WINDOWS_RE})"
    r"|depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?"
    rf"|kline_(?P<interval>{_INTERVALS_RE})(?:@(?P<tz>\+08:00))?"
    rf")|!(?P<all>ticker|miniTicker|ticker_(?:{_WINDOWS_RE}))@arr)$"
)


@attrs.frozen
class _Stream:
    kind: str  # trade, aggTrade, bookTicker, ticker, miniTicker, avgPrice, rolling,
    # depth, partial, kline, all
    symbol: str = ""
    detail: str = ""
    tz: str | None = None


@lru_cache(maxsize=4096)
def _parse_stream(name: str) -> _Stream | None:
    match = _STREAM_RE.match(name)
    if match is None:
        return None
    groups = match.groupdict()
    if groups["all"] is not None:
        return _Stream("all", detail=groups["all"])
    symbol = groups["symbol"].upper()
    if groups["simple"] is not None:
        return _Stream(groups["simple"], symbol)
    if groups["window"] is not None:
        return _Stream("rolling", symbol, groups["window"])
    if groups["interval"] is not None:
        tz = groups["tz"]
        if tz is not None and tz not in KLINE_TIMEZONES:
            return None
        return _Stream("kline", symbol, groups["interval"], tz)
    if groups["levels"] is not None:
        return _Stream("partial", symbol, groups["levels"])
    return _Stream("depth", symbol)


# -- per-connection state -------------------------------------------------------------------


@attrs.define(eq=False)
class BinancePeer:
    """The fake's view of one client connection.

    Attributes:
        kind: ``"combined"``, ``"raw"`` or ``"api"``.
        combined: whether stream payloads are wrapped (``SET_PROPERTY`` changes it).
        micro: whether timestamps are sent in microseconds (``timeUnit=MICROSECOND``).
        rate_limits: whether WS-API responses carry ``rateLimits``.
        connected_ms: when the connection started (the fake's clock).
        requests: ``(trio time, method)`` of the client's requests, oldest first.
        frame_times: when the client's frames of the last second arrived
            (messages, pings and pongs: what the rate limit counts).
        violated: the client broke the message-rate limit (the connection is closing).
        logged_on: the API key of ``session.logon``, if any.
        user_subscriptions: ``subscriptionId`` -> API key, and whether made by logon.
    """

    kind: Literal["combined", "raw", "api"]
    combined: bool
    micro: bool
    rate_limits: bool
    connected_ms: int
    requests: deque[tuple[float, str]]
    frame_times: deque[float] = attrs.field(factory=deque)
    violated: bool = False
    logged_on: str | None = None
    logged_on_since: int | None = None
    user_subscriptions: dict[int, tuple[str, bool]] = attrs.field(factory=dict)
    next_subscription_id: int = 0


class BinanceApiError(Exception):
    """Raised by a WS-API handler: the fake answers ``{"status", "error": {"code", "msg"}}``."""

    def __init__(
        self, status: int, code: int, message: str, data: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.data = data


#: ``handler(conn, params)`` answers a registered WS-API method: the result (or
#: an awaitable of it), or :class:`BinanceApiError`.
ApiHandler: TypeAlias = Callable[[ServerConnection, dict[str, Any]], Any]

_ApiMethod: TypeAlias = Callable[[ServerConnection, BinancePeer, dict[str, Any]], Awaitable[Any]]


def _missing(name: str) -> BinanceApiError:
    return BinanceApiError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _micro(payload: Any) -> Any:
    """The payload with millisecond timestamps turned into microseconds (``timeUnit``)."""
    if isinstance(payload, list):
        return [_micro(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out = dict(payload)
    for key in ("E", "T", "O", "C"):
        if isinstance(out.get(key), int):
            out[key] *= 1000
    if isinstance(out.get("k"), dict):
        bar = dict(out["k"])
        for key in ("t", "T"):
            if isinstance(bar.get(key), int):
                bar[key] *= 1000
        out["k"] = bar
    return out


class FakeBinance:
    """Binance Spot, faked: market streams and the WebSocket API (see the module docstring).

    Args:
        seed: seeds every market simulator (each symbol gets its own stream).
        symbols: the symbols the WS API knows: ``{symbol: (price, tick)}``.
            Streams accept any symbol (a new market starts at 100.00).
        keys: the API keys signed requests may use; by default
            ``ed25519_test_key()`` and ``hmac_test_key()``.
        clock: venue time in ms since the epoch (default: the wall clock).
        max_messages_per_second: client frames per second on a stream
            connection before a close 1008 (``None``: no limit).
        api_messages_per_second: the same for WS-API connections (no limit by default).
        weight_limit: request weight per minute for the whole server.
        max_streams: streams per connection.
        auto_user_events: after each user-data subscription, send this many
            ``outboundAccountPosition`` events at once (for demos; 0: on command only).
        balances: ``{asset: (free, locked)}`` for account events and ``account.status``.
    """

    name = "binance"

    def __init__(
        self,
        *,
        seed: int = 0,
        symbols: Mapping[str, tuple[str, str]] = DEFAULT_SYMBOLS,
        keys: Sequence[BinanceTestKey] | None = None,
        clock: Callable[[], int] | None = None,
        max_messages_per_second: int | None = _MESSAGES_PER_SECOND,
        api_messages_per_second: int | None = None,
        weight_limit: int = _WEIGHT_PER_MINUTE,
        max_streams: int = _MAX_STREAMS,
        auto_user_events: int = 0,
        balances: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.seed = seed
        self.symbols = {s.upper(): spec for s, spec in symbols.items()}
        self.clock: Callable[[], int] = clock if clock is not None else wall_clock_ms
        self.max_messages_per_second = max_messages_per_second
        self.api_messages_per_second = api_messages_per_second
        self.weight_limit = weight_limit
        self.max_streams = max_streams
        self.auto_user_events = auto_user_events
        start = balances or {"BTC": ("1.50000000", "0.00000000"), "USDT": ("10000.00", "0.00")}
        self.balances = {a: (Decimal(f), Decimal(lk)) for a, (f, lk) in start.items()}
        self.markets: dict[str, MarketSimulator] = {}
        self._keys: dict[str, BinanceTestKey] = {}
        for key in keys if keys is not None else (ed25519_test_key(), hmac_test_key()):
            self.add_key(key)
        self._peers: WeakKeyDictionary[ServerConnection, BinancePeer] = WeakKeyDictionary()
        self._handlers: dict[str, ApiHandler] = {}
        self._silenced: set[str] = set()
        # Request weight of the whole server (one "IP"): (trio time, weight), 60 s window.
        self._weight_log: deque[tuple[float, int]] = deque()
        self._weight_used = 0
        self._banned_until = -math.inf
        self._methods: dict[str, _ApiMethod] = {
            "ping": self._api_ping,
            "time": self._api_time,
            "depth": self._api_depth,
            "trades.recent": self._api_trades_recent,
            "avgPrice": self._api_avg_price,
            "ticker.price": self._api_ticker_price,
            "ticker.book": self._api_ticker_book,
            "exchangeInfo": self._api_exchange_info,
            "session.logon": self._api_logon,
            "session.status": self._api_status,
            "session.logout": self._api_logout,
            "session.subscriptions": self._api_subscriptions,
            "userDataStream.subscribe": self._api_user_subscribe,
            "userDataStream.subscribe.signature": self._api_user_subscribe_signature,
            "userDataStream.unsubscribe": self._api_user_unsubscribe,
            "account.status": self._api_account_status,
        }

    # -- set-up --------------------------------------------------------------------------

    def add_key(self, key: BinanceTestKey) -> None:
        """Accept ``key`` for signed requests."""
        self._keys[key.api_key] = key

    def market(self, symbol: str) -> MarketSimulator:
        """The simulator of ``symbol`` (created on first use)."""
        symbol = symbol.upper()
        market = self.markets.get(symbol)
        if market is None:
            price, tick = self.symbols.get(symbol, _OTHER_SYMBOL)
            seed = zlib.crc32(symbol.encode()) ^ self.seed
            market = MarketSimulator(symbol, price=price, tick=tick, seed=seed, now_ms=self.clock())
            self.markets[symbol] = market
        return market

    def register(self, method: str, handler: ApiHandler) -> None:
        """Answer WS-API ``method`` with ``handler(conn, params)`` (overrides a built-in)."""
        self._handlers[method] = handler

    def silence(self, method: str) -> None:
        """Never answer WS-API ``method`` (the client's request timeout must fire)."""
        self._silenced.add(method)

    def unsilence(self, method: str) -> None:
        """Answer ``method`` again."""
        self._silenced.discard(method)

    def ban(self, seconds: float) -> None:
        """Answer every WS-API request with 418 (IP banned) for ``seconds``."""
        self._banned_until = trio.current_time() + seconds

    @property
    def weight_used(self) -> int:
        """Request weight used in the last minute (all WS-API connections)."""
        self._expire_weight(trio.current_time())
        return self._weight_used

    def peer(self, conn: ServerConnection) -> BinancePeer:
        """The fake's state of ``conn``."""
        peer = self._peers.get(conn)
        if peer is None:
            peer = self._new_peer(conn)
        return peer

    def _new_peer(self, conn: ServerConnection) -> BinancePeer:
        target = conn.request.target
        parts = urlsplit(target)
        query = parts.query.lower()
        if parts.path.rstrip("/").endswith("/ws-api/v3"):
            kind: Literal["combined", "raw", "api"] = "api"
            combined = False
        else:
            combined = parse_stream_url(target).combined
            kind = "combined" if combined else "raw"
        peer = BinancePeer(
            kind=kind,
            combined=combined,
            micro="timeunit=microsecond" in query,
            rate_limits="returnratelimits=false" not in query,
            connected_ms=self.clock(),
            requests=deque(maxlen=conn.server.log_size),
        )
        self._peers[conn] = peer
        if kind == "api":
            # "Connecting to WebSocket API costs 2 weight." [BN-A]
            self._take_weight(_CONNECT_WEIGHT, force=True)
        return peer

    async def _count_frame(self, conn: ServerConnection, peer: BinancePeer) -> None:
        """Count one client frame (message, ping or pong) [BN-S "WebSocket Limits"]."""
        limit = self.api_messages_per_second if peer.kind == "api" else self.max_messages_per_second
        if limit is None or peer.violated:
            return
        if not over_frame_rate(peer.frame_times, trio.current_time(), limit):
            return
        # The 6th frame within a second: Binance disconnects ("Too many requests",
        # observed as close 1008; docs/venues/binance.md section 3). The frame itself is not
        # answered: the hooks run before the server answers a ping, and on_message stops here.
        peer.violated = True
        await conn.close(1008, "Too many requests")

    # -- VenueBehaviour --------------------------------------------------------------------

    async def on_connect(self, conn: ServerConnection) -> None:
        """Start the fake's view of ``conn``: its kind, its frame count, WS-API weight 2."""
        self.peer(conn)

    async def on_control_frame(
        self, conn: ServerConnection, kind: Literal["ping", "pong"], payload: bytes
    ) -> None:
        """Count the client's ping or pong against the frames-per-second limit."""
        await self._count_frame(conn, self.peer(conn))

    def initial_topics(self, request: HandshakeRequest) -> Sequence[str]:
        """The valid streams of ``?streams=`` or ``/ws/<stream>`` (up to ``max_streams``)."""
        if urlsplit(request.target).path.rstrip("/").endswith("/ws-api/v3"):
            return ()
        topics = [t for t in parse_stream_url(request.target).topics if _parse_stream(t)]
        return list(dict.fromkeys(topics))[: self.max_streams]

    def data_frame(self, conn: ServerConnection, topic: str, seq: int, data: Any) -> str:
        """One market message: combined ``{"stream", "data"}`` or the raw payload.

        ``data`` is a wire dict/list or a typed message (``Trade(...)``); ``seq``
        is the fake server's own counter and is not part of Binance's frames.
        """
        peer = self.peer(conn)
        payload = data if isinstance(data, dict | list) else to_wire(data)
        if peer.micro:
            payload = _micro(payload)
        if peer.combined:
            return encode_combined(topic, payload)
        return orjson.dumps(payload).decode()

    def make_data(self, topic: str, seq: int) -> Any:
        """Generated data for ``topic``, from the symbol's simulator, in wire form."""
        stream = _parse_stream(topic)
        if stream is None:
            raise ValueError(f"the fake Binance venue cannot generate data for {topic!r}")
        now = self.clock()
        if stream.kind == "all":
            markets = [self.market(s) for s in self.symbols]
            if stream.detail == "ticker":
                return to_wire(tuple(_ticker(m, now) for m in markets))
            if stream.detail == "miniTicker":
                return to_wire(tuple(_mini_ticker(m, now) for m in markets))
            window = stream.detail.removeprefix("ticker_")
            return to_wire(tuple(_rolling_ticker(m, window, now) for m in markets))
        market = self.market(stream.symbol)
        makers: dict[str, Callable[[], Any]] = {
            "trade": lambda: _trade(market, market.trade(now)),
            "aggTrade": lambda: _agg_trade(market, now),
            "bookTicker": lambda: _book_ticker(market),
            "ticker": lambda: _ticker(market, now),
            "miniTicker": lambda: _mini_ticker(market, now),
            "avgPrice": lambda: _avg_price(market, now),
            "rolling": lambda: _rolling_ticker(market, stream.detail, now),
            "depth": lambda: _depth_update(market, topic, now),
            "partial": lambda: _partial_depth(market.moved_snapshot(int(stream.detail))),
            "kline": lambda: _kline(market, stream.detail, stream.tz, now),
        }
        return to_wire(makers[stream.kind]())

    def venue_ping_frame(self, ts: int) -> str | None:
        """Binance has no application-level ping on Spot (only ping frames)."""
        return None

    def shutdown_frame(self, message: str) -> str:
        """The combined-stream ``serverShutdown`` (``notify_shutdown`` fits each connection)."""
        return encode_server_shutdown(self.clock(), combined=True)

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Count one client message against the frame limit, then answer it (stream or WS-API)."""
        peer = self.peer(conn)
        await self._count_frame(conn, peer)
        if peer.violated:
            return  # over the rate limit: closing, nothing is answered
        if peer.kind == "api":
            await self._on_api_message(conn, peer, message)
        else:
            await self._on_stream_message(conn, peer, message)

    # -- commands ---------------------------------------------------------------------------

    def _open_peers(
        self, conn: ServerConnection | None
    ) -> list[tuple[ServerConnection, BinancePeer]]:
        if conn is not None:
            return [(conn, self.peer(conn))]
        return [(c, p) for c, p in list(self._peers.items()) if c.is_open]

    async def notify_shutdown(
        self,
        conn: ServerConnection | None = None,
        *,
        shape: Literal["combined", "raw", "api"] | None = None,
    ) -> int:
        """Send ``serverShutdown`` to ``conn`` (default: every open connection).

        The shape follows the connection (``{"stream": "!serverShutdown", ...}``
        on combined streams, ``{"e": "serverShutdown"}`` on raw ones, ``{"event":
        {...}}`` on the WS API) unless ``shape`` forces one. Returns how many
        were sent. The connections stay open, as Binance's do until they close.
        """
        sent = 0
        for target, peer in self._open_peers(conn):
            chosen = shape or (
                "api" if peer.kind == "api" else "combined" if peer.combined else "raw"
            )
            now = self.clock()
            if chosen == "api":
                frame = encode_api_server_shutdown(now)
            else:
                frame = encode_server_shutdown(now, combined=chosen == "combined")
            sent += await target.send_text(frame)
        return sent

    async def send_user_event(self, event: Any, *, conn: ServerConnection | None = None) -> int:
        """Send a user-data event to every user-data subscription (of ``conn``, if given).

        ``event`` is a typed event (``AccountPosition(...)``) or its wire dict.
        Returns how many frames were sent.
        """
        wire = event if isinstance(event, Mapping) else to_wire(event)
        sent = 0
        for target, peer in self._open_peers(conn):
            for subscription_id in list(peer.user_subscriptions):
                sent += await target.send_text(encode_user_event(subscription_id, wire))
        return sent

    def account_position(self) -> AccountPosition:
        """An ``outboundAccountPosition`` with the fake's balances, timed now."""
        now = self.clock()
        balances = tuple(Balance(a, f, lk) for a, (f, lk) in sorted(self.balances.items()))
        return AccountPosition(now, now, balances)

    async def revoke_session(self, conn: ServerConnection) -> None:
        """Revoke ``conn``'s logged-on key: ``{"id": null, "status": 401, ...}`` [BN-A]."""
        peer = self.peer(conn)
        peer.logged_on = peer.logged_on_since = None
        await conn.send_text(encode_api_error(None, 401, -2015, _BAD_KEY))

    async def replay(
        self, conn: ServerConnection, source: RecordingSource, *, speed: float = 1.0
    ) -> int:
        """Send a recording's frames to ``conn`` at their recorded times (``t / speed``).

        See :func:`~trio_venues.testing.replay_recording` (the venue-neutral
        function this calls). Returns how many frames were sent.
        """
        return await replay_recording(conn, source, speed=speed)

    # -- market streams --------------------------------------------------------------------

    async def _on_stream_message(
        self, conn: ServerConnection, peer: BinancePeer, message: str | bytes
    ) -> None:
        try:
            obj = orjson.loads(message)
        except orjson.JSONDecodeError as exc:
            await conn.send_text(encode_stream_error(None, 3, f"Invalid JSON: {exc}"))
            return
        if not isinstance(obj, dict):
            await conn.send_text(encode_stream_error(None, 2, "Invalid request: not an object"))
            return
        try:
            request = decode_stream_request(message)
        except DecodeError:
            await conn.send_text(
                encode_stream_error(
                    obj.get("id") if _valid_id(obj.get("id")) else None,
                    2,
                    "Invalid request: expected a string method and array params",
                )
            )
            return
        request_id = request.request_id
        if not _valid_id(request_id):
            await conn.send_text(
                encode_stream_error(
                    None, 2, "Invalid request: id must be an integer or up to 36 letters/digits"
                )
            )
            return
        peer.requests.append((trio.current_time(), request.method))
        method, params = request.method, request.params
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            names = [p for p in params if isinstance(p, str) and _parse_stream(p)]
            if not params or len(names) != len(params):
                await conn.send_text(encode_stream_error(request_id, 2, _INVALID_STREAM))
                return
            if method == "SUBSCRIBE":
                if len(conn.subscriptions | set(names)) > self.max_streams:
                    await conn.send_text(
                        encode_stream_error(
                            request_id, 2, f"Invalid request: more than {self.max_streams} streams"
                        )
                    )
                    return
                # Ack first, so that no data of a new stream precedes its ack.
                await conn.send_text(encode_stream_result(request_id))
                conn.add_subscriptions(names)
            else:
                conn.remove_subscriptions(names)
                await conn.send_text(encode_stream_result(request_id))
        elif method == "LIST_SUBSCRIPTIONS":
            await conn.send_text(encode_stream_result(request_id, sorted(conn.subscriptions)))
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            await self._on_property(conn, peer, method, params, request_id)
        else:
            await conn.send_text(
                encode_stream_error(
                    request_id,
                    2,
                    f"Invalid request: unknown variant {method}, expected one of {_STREAM_METHODS}",
                )
            )

    async def _on_property(
        self,
        conn: ServerConnection,
        peer: BinancePeer,
        method: str,
        params: tuple[Any, ...],
        request_id: Any,
    ) -> None:
        if not params or params[0] != "combined":
            await conn.send_text(encode_stream_error(request_id, 0, "Unknown property"))
            return
        if method == "GET_PROPERTY":
            await conn.send_text(encode_stream_result(request_id, peer.combined))
            return
        if len(params) != 2 or not isinstance(params[1], bool):
            await conn.send_text(
                encode_stream_error(request_id, 1, "Invalid value type: expected Boolean")
            )
            return
        peer.combined = params[1]
        await conn.send_text(encode_stream_result(request_id))

    # -- the WebSocket API ------------------------------------------------------------------

    def _expire_weight(self, now: float) -> None:
        log = self._weight_log
        while log and log[0][0] + 60.0 <= now:
            self._weight_used -= log.popleft()[1]

    def _rate_limits(self) -> list[dict[str, Any]]:
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.weight_limit,
                "count": self._weight_used,
            }
        ]

    def _take_weight(self, weight: int, *, force: bool = False) -> None:
        """Charge ``weight`` to the server's minute, or raise the 418/429 Binance would send."""
        now = trio.current_time()
        self._expire_weight(now)
        server_ms = self.clock()
        if not force and now < self._banned_until:
            until = server_ms + math.ceil((self._banned_until - now) * 1000)
            raise BinanceApiError(
                418,
                -1003,
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans.",
                {"serverTime": server_ms, "retryAfter": until},
            )
        if not force and self._weight_used + weight > self.weight_limit:
            frees_at = self._weight_log[0][0] + 60.0 if self._weight_log else now
            until = server_ms + math.ceil((frees_at - now) * 1000)
            raise BinanceApiError(
                429,
                -1003,
                f"Too much request weight used; current limit is {self.weight_limit} request "
                "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
                "polling the API.",
                {"serverTime": server_ms, "retryAfter": until},
            )
        self._weight_log.append((now, weight))
        self._weight_used += weight

    async def _on_api_message(
        self, conn: ServerConnection, peer: BinancePeer, message: str | bytes
    ) -> None:
        try:
            request = decode_api_request(message)
        except DecodeError:
            await conn.send_text(encode_api_error(None, 400, -1135, "Invalid JSON Request"))
            return
        peer.requests.append((trio.current_time(), request.method))
        method, params, request_id = request.method, request.params, request.request_id
        if method in self._silenced:
            return
        rate_limits = None
        try:
            self._take_weight(request_weight(method, params))
            rate_limits = self._rate_limits() if peer.rate_limits else None
            result = await self._dispatch(conn, peer, method, params)
        except BinanceApiError as exc:
            if rate_limits is None and peer.rate_limits:
                rate_limits = self._rate_limits()
            await conn.send_text(
                encode_api_error(
                    request_id,
                    exc.status,
                    exc.code,
                    exc.message,
                    data=exc.data,
                    rate_limits=rate_limits,
                )
            )
            return
        await conn.send_text(encode_api_response(request_id, result, rate_limits=rate_limits))
        await self._after(conn, peer, method, result)

    async def _dispatch(
        self, conn: ServerConnection, peer: BinancePeer, method: str, params: dict[str, Any]
    ) -> Any:
        handler = self._handlers.get(method)
        if handler is not None:
            result = handler(conn, params)
            if inspect.isawaitable(result):
                result = await result
            return result
        builtin = self._methods.get(method)
        if builtin is None:
            raise BinanceApiError(400, -1020, f"This operation is not supported: {method!r}.")
        return await builtin(conn, peer, params)

    async def _after(
        self, conn: ServerConnection, peer: BinancePeer, method: str, result: Any
    ) -> None:
        """What Binance sends after some responses: user events, stream terminations."""
        if method.startswith("userDataStream.subscribe") and self.auto_user_events:
            subscription_id = result["subscriptionId"]
            for _ in range(self.auto_user_events):
                frame = encode_user_event(subscription_id, to_wire(self.account_position()))
                await conn.send_text(frame)

    # signed requests [BN-A "SIGNED request security"; docs/venues/binance.md section 7]

    def _verify(
        self, peer: BinancePeer, params: Mapping[str, Any], *, allow_session: bool
    ) -> BinanceTestKey:
        """Check a SIGNED request (or, with ``allow_session``, a logged-on session)."""
        server_ms = self.clock()
        if allow_session and peer.logged_on is not None and "signature" not in params:
            self._check_timestamp(params, server_ms)
            return self._keys[peer.logged_on]
        api_key = params.get("apiKey")
        if not isinstance(api_key, str) or not api_key:
            raise _missing("apiKey")
        if "signature" not in params or not isinstance(params["signature"], str):
            raise _missing("signature")
        self._check_timestamp(params, server_ms)
        key = self._keys.get(api_key)
        if key is None:
            raise BinanceApiError(401, -2015, _BAD_KEY)
        try:
            payload = signature_payload(params).encode("utf-8")
        except (TypeError, ValueError):
            raise BinanceApiError(400, -1022, _BAD_SIGNATURE) from None
        if not key.verify(payload, params["signature"]):
            raise BinanceApiError(400, -1022, _BAD_SIGNATURE)
        return key

    @staticmethod
    def _check_timestamp(params: Mapping[str, Any], server_ms: int) -> None:
        timestamp = params.get("timestamp")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            raise _missing("timestamp")
        window: Any = params.get("recvWindow", _RECV_WINDOW_MS)
        try:
            recv_window = Decimal(str(window))
        except ArithmeticError:
            raise _missing("recvWindow") from None
        if isinstance(window, bool) or not 0 < recv_window <= _MAX_RECV_WINDOW_MS:
            raise BinanceApiError(400, -1130, "Data sent for parameter 'recvWindow' is not valid.")
        if timestamp >= server_ms + 1000:
            raise BinanceApiError(
                400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if server_ms - timestamp > recv_window:
            raise BinanceApiError(
                400, -1021, "Timestamp for this request is outside of the recvWindow."
            )

    def _symbol(self, params: Mapping[str, Any]) -> MarketSimulator:
        symbol = params.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise _missing("symbol")
        if symbol not in self.symbols and symbol not in self.markets:
            raise BinanceApiError(400, -1121, "Invalid symbol.")
        return self.market(symbol)

    def _session(self, peer: BinancePeer) -> dict[str, Any]:
        return {
            "apiKey": peer.logged_on,
            "authorizedSince": peer.logged_on_since,
            "connectedSince": peer.connected_ms,
            "returnRateLimits": peer.rate_limits,
            "serverTime": self.clock(),
            "userDataStream": bool(peer.user_subscriptions),
        }

    async def _terminate(
        self, conn: ServerConnection, peer: BinancePeer, subscription_ids: Iterable[int]
    ) -> None:
        for subscription_id in list(subscription_ids):
            peer.user_subscriptions.pop(subscription_id, None)
            event = {"e": "eventStreamTerminated", "E": self.clock()}
            await conn.send_text(encode_user_event(subscription_id, event))

    async def _api_ping(self, conn: ServerConnection, peer: BinancePeer, params: Any) -> Any:
        return {}

    async def _api_time(self, conn: ServerConnection, peer: BinancePeer, params: Any) -> Any:
        return {"serverTime": self.clock()}

    async def _api_depth(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        market = self._symbol(params)
        limit = params.get("limit", 100)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise BinanceApiError(400, -1130, "Data sent for parameter 'limit' is not valid.")
        return to_wire(_partial_depth(market.snapshot(min(limit, _MAX_DEPTH_LIMIT))))

    async def _api_trades_recent(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        market = self._symbol(params)
        limit = params.get("limit", 500)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise BinanceApiError(400, -1130, "Data sent for parameter 'limit' is not valid.")
        trades = list(market.recent_trades)[-limit:]
        return [
            {
                "id": t.trade_id,
                "price": decimal_to_wire(t.price),
                "qty": decimal_to_wire(t.quantity),
                "quoteQty": decimal_to_wire(_fmt(t.price * t.quantity)),
                "time": t.time_ms,
                "isBuyerMaker": t.buyer_maker,
                "isBestMatch": True,
            }
            for t in trades
        ]

    async def _api_avg_price(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        event = _avg_price(self._symbol(params), self.clock())
        return {
            "mins": 5,
            "price": decimal_to_wire(event.average_price),
            "closeTime": event.event_time,
        }

    async def _api_exchange_info(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        """``exchangeInfo``: the listed symbols (all, or those of ``symbol``/``symbols``).

        The shape follows Binance's ``exchangeInfo`` (``symbols[]`` with
        ``baseAsset``, ``quoteAsset``, ``status`` and the ``PRICE_FILTER`` and
        ``LOT_SIZE`` filters); a symbol's assets come from :data:`SYMBOL_ASSETS`.
        """
        wanted: list[str]
        if isinstance(params.get("symbol"), str):
            wanted = [params["symbol"]]
        elif isinstance(params.get("symbols"), list):
            wanted = [s for s in params["symbols"] if isinstance(s, str)]
        else:
            wanted = sorted(set(self.symbols) | set(self.markets))
        entries = []
        for symbol in wanted:
            assets = SYMBOL_ASSETS.get(symbol)
            if assets is None or (symbol not in self.symbols and symbol not in self.markets):
                raise BinanceApiError(400, -1121, "Invalid symbol.")
            market = self.market(symbol)
            entries.append(
                {
                    "symbol": symbol,
                    "status": "TRADING",
                    "baseAsset": assets[0],
                    "quoteAsset": assets[1],
                    "filters": [
                        {"filterType": "PRICE_FILTER", "tickSize": decimal_to_wire(market.tick)},
                        {"filterType": "LOT_SIZE", "stepSize": "0.00001000"},
                    ],
                }
            )
        return {"timezone": "UTC", "serverTime": self.clock(), "symbols": entries}

    async def _api_ticker_price(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        market = self._symbol(params)
        return {
            "symbol": market.symbol,
            "price": decimal_to_wire(market.stats().last_price),
        }

    async def _api_ticker_book(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        market = self._symbol(params)
        (bid, bid_qty), (ask, ask_qty) = market.best_bid(), market.best_ask()
        return {
            "symbol": market.symbol,
            "bidPrice": decimal_to_wire(bid),
            "bidQty": decimal_to_wire(bid_qty),
            "askPrice": decimal_to_wire(ask),
            "askQty": decimal_to_wire(ask_qty),
        }

    async def _api_logon(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        key = self._verify(peer, params, allow_session=False)
        if key.kind != "ed25519":
            # "Only Ed25519 keys are supported for this feature." [BN-A]
            raise BinanceApiError(401, -2015, _BAD_KEY)
        peer.logged_on = key.api_key
        peer.logged_on_since = self.clock()
        return self._session(peer)

    async def _api_status(self, conn: ServerConnection, peer: BinancePeer, params: Any) -> Any:
        return self._session(peer)

    async def _api_logout(self, conn: ServerConnection, peer: BinancePeer, params: Any) -> Any:
        # Subscriptions made through the logon end with it [BN-U "eventStreamTerminated"].
        ended = [i for i, (_, by_logon) in peer.user_subscriptions.items() if by_logon]
        peer.logged_on = peer.logged_on_since = None
        await self._terminate(conn, peer, ended)
        return self._session(peer)

    async def _api_subscriptions(
        self, conn: ServerConnection, peer: BinancePeer, params: Any
    ) -> Any:
        return [{"subscriptionId": i} for i in sorted(peer.user_subscriptions)]

    def _new_subscription(self, peer: BinancePeer, api_key: str, by_logon: bool) -> Any:
        subscription_id = peer.next_subscription_id
        peer.next_subscription_id += 1
        peer.user_subscriptions[subscription_id] = (api_key, by_logon)
        return {"subscriptionId": subscription_id}

    async def _api_user_subscribe(
        self, conn: ServerConnection, peer: BinancePeer, params: Any
    ) -> Any:
        if peer.logged_on is None:
            raise BinanceApiError(401, -1002, "You are not authorized to execute this request.")
        return self._new_subscription(peer, peer.logged_on, True)

    async def _api_user_subscribe_signature(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        key = self._verify(peer, params, allow_session=False)
        return self._new_subscription(peer, key.api_key, False)

    async def _api_user_unsubscribe(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        wanted = params.get("subscriptionId")
        if wanted is None:
            await self._terminate(conn, peer, list(peer.user_subscriptions))
        elif wanted in peer.user_subscriptions:
            await self._terminate(conn, peer, [wanted])
        else:
            raise BinanceApiError(
                400, -1130, "Data sent for parameter 'subscriptionId' is not valid."
            )
        return {}

    async def _api_account_status(
        self, conn: ServerConnection, peer: BinancePeer, params: dict[str, Any]
    ) -> Any:
        self._verify(peer, params, allow_session=True)
        return {
            "canTrade": True,
            "accountType": "SPOT",
            "updateTime": self.clock(),
            "balances": [
                {"asset": a, "free": decimal_to_wire(f), "locked": decimal_to_wire(lk)}
                for a, (f, lk) in sorted(self.balances.items())
            ],
        }


def _valid_id(value: Any) -> bool:
    """A stream request id Binance accepts: int64, <= 36 letters/digits, or null [BN-S]."""
    if value is None:
        return True
    if type(value) is int:
        return -(2**63) <= value < 2**63
    return type(value) is str and 0 < len(value) <= 36 and value.isascii() and value.isalnum()


# -- servers and URLs --------------------------------------------------------------------------


def binance_server(
    behaviour: FakeBinance | None = None, **options: Any
) -> FakeVenueServer[FakeBinance]:
    """A fake venue server speaking Binance, with Binance's keepalive.

    Defaults: ``path="/stream"`` (so ``server.url`` is the combined-stream
    endpoint), ``ping_interval=20`` and ``pong_timeout=60`` [BN-S "ping frame
    every 20 seconds ... disconnected after 1 minute"], and
    ``max_connection_age`` 24 h, closing with 1000 [BN-S, BN-A "only valid for
    24 hours"; docs/venues/binance.md section 3]. ``options`` are
    :class:`FakeVenueServer` options and override these
    (``max_connection_age=None`` keeps connections forever). The behaviour is
    ``FakeBinance()`` by default.
    """
    fake = behaviour if behaviour is not None else FakeBinance()
    settings: dict[str, Any] = {
        "path": "/stream",
        "ping_interval": 20.0,
        "pong_timeout": 60.0,
        "max_connection_age": MAX_CONNECTION_AGE,
    }
    settings.update(options)
    server: FakeVenueServer[FakeBinance] = FakeVenueServer(fake, **settings)
    return server


def _origin(server: FakeVenueServer[Any]) -> str:
    parts = urlsplit(server.url)
    return f"{parts.scheme}://{parts.netloc}"


def binance_stream_url(server: FakeVenueServer[Any], *streams: str) -> str:
    """The fake's combined-stream URL, with ``streams`` flowing from the start."""
    query = f"?streams={'/'.join(streams)}" if streams else ""
    return f"{_origin(server)}/stream{query}"


def binance_raw_url(server: FakeVenueServer[Any], stream: str | None = None) -> str:
    """The fake's raw-stream URL: ``/ws/<stream>`` (or ``/ws`` for none)."""
    return f"{_origin(server)}/ws" + (f"/{stream}" if stream else "")


def binance_api_url(server: FakeVenueServer[Any]) -> str:
    """The fake's WebSocket-API URL: ``/ws-api/v3``."""
    return f"{_origin(server)}/ws-api/v3"
