"""The Binance Spot venue clients: market streams (:class:`BinanceSpot`) and the WebSocket API
(:class:`BinanceSpotApi`).

Both are thin: the protocol lives in the sans-I/O cores (``_protocol.py``),
the connection in the shared session. What is added here is what a user
calls (``subscribe_trades``, ``depth``, ``logon`` ...) and the Binance rules
the session cannot know by itself:

- every core carries Binance's published limits (``core.limits``), so the
  session counts every frame (pings and pongs included) against the 5
  messages/s of the streams, caps a connection at 1024 streams and charges
  each connection attempt to the 300-per-5-minutes budget of the host;
- every WS-API request first takes its documented request **weight** from
  the per-process, per-host weight budget (:func:`request_weight`), and a 429
  or 418 answer blocks that budget for the ``retryAfter`` the venue gave.

References (``docs/venues/binance.md``): BN-S
``web-socket-streams.md``, BN-A ``web-socket-api.md`` of
``binance/binance-spot-api-docs``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any, ClassVar, Final

import trio

from ..._client import VenueClient
from ..._config import ConnectionConfig
from ..._core import VenueCore
from ..._session import Connection
from ...credentials import Credentials
from ...errors import ConfigError, SubscriptionError, VenueError
from ...events import Authenticated, Subscribed, Unsubscribed
from ._limits import BINANCE_API_LIMITS, BINANCE_SPOT_LIMITS
from ._orders import OrderReport, order_params, order_report_from_wire
from ._protocol import (
    API_URL,
    STREAM_URL,
    TESTNET_API_URL,
    TESTNET_STREAM_URL,
    USER_DATA_TOPIC,
    BinanceApiCore,
    BinanceSpotCore,
    agg_trades_topic,
    all_mini_tickers_topic,
    all_tickers_topic,
    avg_price_topic,
    book_ticker_topic,
    depth_topic,
    klines_topic,
    mask_api_key,
    mini_ticker_topic,
    ticker_topic,
    trades_topic,
    validate_stream_name,
)
from ._signing import Ed25519Signer, Signer, sign_params, signer_from_credentials
from ._wire import PartialDepth, partial_depth_from_wire

__all__ = [
    "REQUEST_WEIGHTS",
    "BinanceApiConnection",
    "BinanceSpot",
    "BinanceSpotApi",
    "BinanceSpotConnection",
    "request_weight",
    "wall_clock_ms",
]

# -- request weights [BN-A, each method's "Weight:" line] -------------------------------

#: The documented request weight of WS-API methods whose weight does not depend
#: on their parameters. ``depth`` depends on ``limit`` (see :func:`request_weight`).
#: A method not listed here is charged :data:`DEFAULT_WEIGHT`.
REQUEST_WEIGHTS: Final[Mapping[str, int]] = {
    # General requests
    "ping": 1,
    "time": 1,
    "exchangeInfo": 20,
    # Market data requests
    "trades.recent": 25,
    "trades.historical": 25,
    "trades.aggregate": 4,
    "klines": 2,
    "uiKlines": 2,
    "avgPrice": 2,
    "ticker.price": 2,  # one symbol
    "ticker.book": 2,  # one symbol
    "ticker.24hr": 2,  # one symbol
    # Session authentication requests ("Weight: 2" each)
    "session.logon": 2,
    "session.status": 2,
    "session.logout": 2,
    # User data stream requests
    "userDataStream.subscribe": 2,
    "userDataStream.subscribe.signature": 2,
    "userDataStream.unsubscribe": 2,
    "session.subscriptions": 2,
    # Account and trading requests
    "account.status": 20,
    "order.test": 1,
    "order.place": 1,
    "order.status": 4,
    "order.cancel": 1,
    "order.cancelReplace": 1,
    "openOrders.status": 6,  # one symbol (80 without)
    "allOrders": 20,
    "myTrades": 20,
}
#: The weight charged for a method missing from :data:`REQUEST_WEIGHTS`.
DEFAULT_WEIGHT: Final = 1
#: ``depth`` weight by ``limit`` [BN-A "Order book": 1-100: 5, 101-500: 25,
#: 501-1000: 50, 1001-5000: 250]; the default limit is 100.
_DEPTH_WEIGHTS: Final = ((100, 5), (500, 25), (1000, 50), (5000, 250))
_DEPTH_DEFAULT_LIMIT: Final = 100
#: Methods that place one order and so count against the ORDERS limits [BN-A].
_ORDER_METHODS: Final = frozenset({"order.place", "order.cancelReplace", "sor.order.place"})


def request_weight(method: str, params: Mapping[str, Any] | None = None) -> int:
    """The request weight Binance charges for ``method`` with ``params`` [BN-A].

    ``depth`` costs 5, 25, 50 or 250 by ``limit`` (default 100; above 5000 it
    is capped and costs 250); ``openOrders.status`` without a symbol costs 80;
    other methods come from :data:`REQUEST_WEIGHTS`, unknown ones cost
    :data:`DEFAULT_WEIGHT`.
    """
    if method == "depth":
        limit = (params or {}).get("limit", _DEPTH_DEFAULT_LIMIT)
        if isinstance(limit, int) and not isinstance(limit, bool):
            for bound, weight in _DEPTH_WEIGHTS:
                if limit <= bound:
                    return weight
        return _DEPTH_WEIGHTS[-1][1]
    if method == "openOrders.status" and not (params or {}).get("symbol"):
        return 80
    return REQUEST_WEIGHTS.get(method, DEFAULT_WEIGHT)


def wall_clock_ms() -> int:
    """Milliseconds since the epoch from the wall clock: the ``timestamp`` of signed requests.

    A wall-clock *stamp* for the venue to compare with its own clock; no
    deadline of ours is ever computed from it.
    """
    return time.time_ns() // 1_000_000


# -- market streams ---------------------------------------------------------------------


class BinanceSpotConnection(Connection):
    """A connection to Binance Spot market streams (what ``BinanceSpot.connect()`` yields).

    Every ``subscribe_*`` helper takes one or more symbols, builds their stream
    names, subscribes them in one ``SUBSCRIBE`` frame (one of the 5 messages/s;
    more than the venue's per-request limit go in several), waits for
    Binance's ack and returns the stream names in the order given: they are
    the ``Message.topic`` of those streams' messages. Streams already
    subscribed (for example through the URL's ``?streams=``) cost nothing.
    Each has an ``unsubscribe_*`` counterpart with the same arguments.
    ``timeout=`` bounds the wait for each acknowledgement (default the
    connection's ``request_timeout``).
    """

    async def _subscribe_many(
        self,
        topics: list[str],
        timeout: float | None,  # noqa: ASYNC109 - a per-request timeout is the feature
        *,
        add: bool = True,
    ) -> tuple[str, ...]:
        if not topics:
            raise TypeError("give at least one symbol")
        if add:
            await self.subscribe(*topics, timeout=timeout)
        else:
            await self.unsubscribe(*topics, timeout=timeout)
        return tuple(topics)

    async def subscribe_trades(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to raw trades (``Trade``): ``("btcusdt@trade", ...)``."""
        return await self._subscribe_many([trades_topic(s) for s in symbols], timeout)

    async def unsubscribe_trades(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_trades` subscribed."""
        return await self._subscribe_many([trades_topic(s) for s in symbols], timeout, add=False)

    async def subscribe_agg_trades(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to aggregate trades (``AggTrade``): ``("btcusdt@aggTrade", ...)``."""
        return await self._subscribe_many([agg_trades_topic(s) for s in symbols], timeout)

    async def unsubscribe_agg_trades(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_agg_trades` subscribed."""
        topics = [agg_trades_topic(s) for s in symbols]
        return await self._subscribe_many(topics, timeout, add=False)

    async def subscribe_klines(
        self,
        *symbols: str,
        interval: str,
        tz: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to candles (``Kline``): ``("btcusdt@kline_1m", ...)``, ``@+08:00`` with tz."""
        topics = [klines_topic(s, interval, tz) for s in symbols]
        return await self._subscribe_many(topics, timeout)

    async def unsubscribe_klines(
        self,
        *symbols: str,
        interval: str,
        tz: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_klines` subscribed."""
        topics = [klines_topic(s, interval, tz) for s in symbols]
        return await self._subscribe_many(topics, timeout, add=False)

    async def subscribe_depth(
        self,
        *symbols: str,
        levels: int | None = None,
        speed: str = "100ms",
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to depth: diffs (``DepthUpdate``) or, with ``levels``, the top levels.

        Args:
            symbols: the symbols.
            levels: ``None`` for the diff stream (keep a local book with
                :func:`~trio_venues.book_feed`, which checks the diffs'
                continuity), or 5, 10, 20 (``PartialDepth``).
            speed: ``"100ms"`` or ``"1000ms"``.
            timeout: seconds to wait for each acknowledgement.
        """
        topics = [depth_topic(s, levels, speed) for s in symbols]
        return await self._subscribe_many(topics, timeout)

    async def unsubscribe_depth(
        self,
        *symbols: str,
        levels: int | None = None,
        speed: str = "100ms",
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_depth` subscribed."""
        topics = [depth_topic(s, levels, speed) for s in symbols]
        return await self._subscribe_many(topics, timeout, add=False)

    async def subscribe_book_ticker(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to the best bid/ask (``BookTicker``): ``("btcusdt@bookTicker", ...)``."""
        return await self._subscribe_many([book_ticker_topic(s) for s in symbols], timeout)

    async def unsubscribe_book_ticker(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_book_ticker` subscribed."""
        topics = [book_ticker_topic(s) for s in symbols]
        return await self._subscribe_many(topics, timeout, add=False)

    async def subscribe_ticker(
        self,
        *symbols: str,
        window: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to the 24 h ticker (``Ticker``), or a ``"1h"``/``"4h"``/``"1d"`` window."""
        return await self._subscribe_many([ticker_topic(s, window) for s in symbols], timeout)

    async def unsubscribe_ticker(
        self,
        *symbols: str,
        window: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_ticker` subscribed."""
        topics = [ticker_topic(s, window) for s in symbols]
        return await self._subscribe_many(topics, timeout, add=False)

    async def subscribe_mini_ticker(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to the 24 h mini ticker (``MiniTicker``): ``("btcusdt@miniTicker", ...)``."""
        return await self._subscribe_many([mini_ticker_topic(s) for s in symbols], timeout)

    async def unsubscribe_mini_ticker(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_mini_ticker` subscribed."""
        topics = [mini_ticker_topic(s) for s in symbols]
        return await self._subscribe_many(topics, timeout, add=False)

    async def subscribe_avg_price(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Subscribe to the average price (``AvgPrice``): ``("btcusdt@avgPrice", ...)``."""
        return await self._subscribe_many([avg_price_topic(s) for s in symbols], timeout)

    async def unsubscribe_avg_price(
        self,
        *symbols: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[str, ...]:
        """Unsubscribe what :meth:`subscribe_avg_price` subscribed."""
        topics = [avg_price_topic(s) for s in symbols]
        return await self._subscribe_many(topics, timeout, add=False)

    async def subscribe_all_tickers(
        self,
        window: str | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> str:
        """Subscribe to every changed ticker (a tuple of ``Ticker``): ``"!ticker@arr"``."""
        topic = all_tickers_topic(window)
        await self.subscribe(topic, timeout=timeout)
        return topic

    async def unsubscribe_all_tickers(
        self,
        window: str | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> str:
        """Unsubscribe what :meth:`subscribe_all_tickers` subscribed."""
        topic = all_tickers_topic(window)
        await self.unsubscribe(topic, timeout=timeout)
        return topic

    async def subscribe_all_mini_tickers(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> str:
        """Subscribe to every changed mini ticker: ``"!miniTicker@arr"``."""
        topic = all_mini_tickers_topic()
        await self.subscribe(topic, timeout=timeout)
        return topic

    async def unsubscribe_all_mini_tickers(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> str:
        """Unsubscribe what :meth:`subscribe_all_mini_tickers` subscribed."""
        topic = all_mini_tickers_topic()
        await self.unsubscribe(topic, timeout=timeout)
        return topic

    async def list_subscriptions(self, *, timeout: float | None = None) -> list[str]:  # noqa: ASYNC109
        """Ask Binance which streams this connection receives (``LIST_SUBSCRIPTIONS``).

        It costs one message of the 5 per second. ``ws.subscriptions`` is the
        local view, kept exact by the acks; this asks the venue.

        Raises:
            RequestTimeout, VenueError, ConnectionLost, NotConnected, RateLimitExceeded.
        """
        result = await self.request("LIST_SUBSCRIPTIONS", timeout=timeout)
        if not isinstance(result, list) or not all(isinstance(s, str) for s in result):
            raise VenueError(None, f"LIST_SUBSCRIPTIONS answered {result!r}, not a list of names")
        return list(result)


class BinanceSpot(VenueClient[BinanceSpotConnection]):
    """Binance Spot market-data streams: ``async with BinanceSpot.connect() as ws``.

    The default URL is the combined-stream endpoint
    (``wss://stream.binance.com:9443/stream``): every message names its
    stream, which becomes ``Message.topic``. Streams named in the URL
    (``...?streams=btcusdt@trade/ethusdt@depth@100ms``, see
    :meth:`combined_url`) flow from the start without a ``SUBSCRIBE``; raw
    ``/ws/<stream>`` URLs work too.

    Binance's rules, enforced here before Binance enforces them with a close:
    5 incoming messages per second per connection (every subscribe, ping and
    pong counts; ``rate_limit_policy={"messages": "wait"}`` queues instead of
    raising ``RateLimitExceeded``), 1024 streams per connection, 300
    connection attempts per 5 minutes per host. Server pings are answered at
    once, whatever the consumer does. ``serverShutdown`` ends the connection
    with ``Disconnected(ServerRequested(...))``; a close 1008 ("Too many
    requests") is retryable after a backoff.
    """

    endpoints: ClassVar[Mapping[str, str]] = {"public": STREAM_URL, "testnet": TESTNET_STREAM_URL}
    default_endpoint = "public"
    default_url = STREAM_URL
    connection_class = BinanceSpotConnection

    @classmethod
    def make_core(
        cls,
        config: ConnectionConfig,
        url: str,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
    ) -> VenueCore:
        """A market-stream core for ``url``, carrying Binance's stream limits."""
        core = BinanceSpotCore(url)
        core.limits = BINANCE_SPOT_LIMITS
        return core

    @staticmethod
    def combined_url(*streams: str, base: str = STREAM_URL) -> str:
        """A combined-stream URL whose streams flow from the start: ``.../stream?streams=a/b``.

        Raises:
            ValueError: an invalid stream name.
        """
        names = [validate_stream_name(s) for s in streams]
        return f"{base}?streams={'/'.join(names)}" if names else base


# -- the WebSocket API ----------------------------------------------------------------------


class BinanceApiConnection(Connection):
    """A connection to the Binance WebSocket API (what ``BinanceSpotApi.connect()`` yields).

    :meth:`request` charges the method's request weight to the per-host
    budget before sending; :meth:`signed_request` adds ``apiKey``,
    ``timestamp`` and ``signature``. After :meth:`logon` (Ed25519 keys
    only) user-data requests need no signature.
    """

    def __init__(self, core: VenueCore, config: ConnectionConfig, url: str) -> None:
        super().__init__(core, config, url)
        # Set by BinanceSpotApi.connect() before the user's block runs.
        self._signer: Signer | None = None
        self._clock: Callable[[], int] = wall_clock_ms
        self._recv_window: int | Decimal | None = None
        self._logged_on = False
        self._user_data_id: int | None = None
        self._user_data_by_logon = False

    def _configure(
        self,
        signer: Signer | None,
        clock: Callable[[], int] | None,
        recv_window: int | Decimal | None,
    ) -> None:
        self._signer = signer
        if clock is not None:
            self._clock = clock
        self._recv_window = recv_window

    @property
    def logged_on(self) -> bool:
        """Whether ``session.logon`` succeeded and no ``session.logout`` followed."""
        return self._logged_on

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> Any:
        """Send a WS-API request and return its ``result``.

        The method's weight (:func:`request_weight`) is taken from the shared
        per-host ``"weight"`` budget first (``rate_limit_policy`` decides
        between raising and waiting), order placements also take one
        ``"orders"``. A 429 or 418 answer blocks ``"weight"`` for the
        ``retryAfter`` Binance sent, so the next request fails (or waits) locally.

        Raises:
            RateLimitExceeded: the local weight budget refused it.
            VenueError: Binance answered with an error (``status`` and ``code``
                are Binance's; ``AuthenticationError`` for rejected credentials).
            RequestTimeout, ConnectionLost, NotConnected.
        """
        self._check_open()
        await self._acquire("weight", request_weight(method, params))
        if method in _ORDER_METHODS:
            await self._acquire("orders", 1)
        try:
            return await super().request(method, params, timeout=timeout)
        except VenueError as exc:
            if exc.status in (418, 429) and self._limiter is not None:
                retry_after = exc.retry_after
                if retry_after is not None and retry_after > 0:
                    self._limiter.penalise("weight", retry_after)
            raise

    async def signed_request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> Any:
        """Sign ``params`` (adding ``apiKey``, ``timestamp``, ``signature``) and send them.

        ``timestamp`` comes from the connection's clock (``clock=`` at
        connect, the wall clock by default); ``recvWindow`` is added when
        ``recv_window=`` was given.

        Raises:
            ConfigError: the connection has no signer.
            AuthenticationError: Binance rejected the key or the signature.
            and everything :meth:`request` raises.
        """
        signer = self._require_signer(method)
        signed = sign_params(params or {}, signer, self._clock(), self._recv_window)
        return await self.request(method, signed, timeout=timeout)

    def _require_signer(self, method: str) -> Signer:
        if self._signer is None:
            raise ConfigError(
                f"{method} needs credentials: "
                "BinanceSpotApi.connect(url, signer=Ed25519Signer(...))"
            )
        return self._signer

    async def logon(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> dict[str, Any]:
        """Authenticate the connection with ``session.logon`` (Ed25519 keys only).

        Emits ``Authenticated(details)`` (the logon result with the API key
        abbreviated; never a secret) and returns the result. Under
        ``retry_scope`` each new connection logs on again before the replay.

        Raises:
            ConfigError: no signer, or not an Ed25519 key (Binance accepts no other here).
            AuthenticationError: Binance rejected the key or the signature.
        """
        signer = self._require_signer("session.logon")
        if not isinstance(signer, Ed25519Signer):
            raise ConfigError(
                "session.logon supports Ed25519 keys only; with an HMAC or RSA key, sign each "
                "request instead (subscribe_user_data() does so without a logon)"
            )
        result = dict(await self.signed_request("session.logon", timeout=timeout))
        self._logged_on = True
        details = {k: mask_api_key(v) if k == "apiKey" else v for k, v in result.items()}
        self._deliver_control(Authenticated(details))
        return result

    async def session_status(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> dict[str, Any]:
        """``session.status``: which key (if any) authorizes this connection."""
        result = await self.request("session.status", timeout=timeout)
        return dict(result)

    async def logout(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> dict[str, Any]:
        """``session.logout``: forget the logged-on key; its user-data subscriptions end."""
        result = await self.request("session.logout", timeout=timeout)
        self._logged_on = False
        if self._user_data_by_logon:
            self._user_data_ended()
        return dict(result)

    # -- user data: the WS API's one subscription, topic "userData" -----------------

    async def subscribe(
        self,
        *topics: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> None:
        """Subscribe to the user data stream: ``subscribe("userData")``.

        The WebSocket API has no market streams; its one subscription is the
        account's user data, topic ``"userData"`` (the ``Message.topic`` of its
        events). Once acknowledged it is in ``ws.subscriptions``, so
        ``retry_scope`` replays it on every new connection. Subscribing twice
        sends nothing.

        Raises:
            SubscriptionError: another topic (nothing is sent).
            and everything :meth:`subscribe_user_data` raises.
        """
        self._check_open()
        self._only_user_data(topics)
        if topics and USER_DATA_TOPIC not in self._subscriptions:
            await self.subscribe_user_data(timeout=timeout)

    async def unsubscribe(
        self,
        *topics: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> None:
        """Unsubscribe from the user data stream: ``unsubscribe("userData")``."""
        self._check_open()
        self._only_user_data(topics)
        if topics and USER_DATA_TOPIC in self._subscriptions:
            await self.unsubscribe_user_data(timeout=timeout)

    @staticmethod
    def _only_user_data(topics: tuple[str, ...]) -> None:
        other = tuple(t for t in topics if t != USER_DATA_TOPIC)
        if other:
            raise SubscriptionError(
                None,
                f"the Binance WebSocket API has one subscription, {USER_DATA_TOPIC!r}; market "
                "streams are on BinanceSpot",
                other,
            )

    async def subscribe_user_data(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> int:
        """Subscribe to the account's user-data events; return the ``subscriptionId``.

        After :meth:`logon` this is ``userDataStream.subscribe``; without a
        logon it is ``userDataStream.subscribe.signature`` (any key type).
        Events then arrive as ``Message("userData", UserDataEvent(id, event))``
        and ``"userData"`` is in ``ws.subscriptions`` (so ``retry_scope``
        resumes it after a reconnect, with a ``DataGap``). When already
        subscribed, returns the current id without a request.
        """
        self._check_open()
        if USER_DATA_TOPIC in self._subscriptions and self._user_data_id is not None:
            await trio.lowlevel.checkpoint()
            return self._user_data_id
        by_logon = self._logged_on
        if by_logon:
            result = await self.request("userDataStream.subscribe", timeout=timeout)
        else:
            result = await self.signed_request(
                "userDataStream.subscribe.signature", timeout=timeout
            )
        subscription_id = result.get("subscriptionId") if isinstance(result, Mapping) else None
        if not isinstance(subscription_id, int):
            raise VenueError(None, f"userDataStream subscribe answered {result!r}")
        self._user_data_id = subscription_id
        self._user_data_by_logon = by_logon
        self._subscriptions.add(USER_DATA_TOPIC)
        self._deliver_control(Subscribed((USER_DATA_TOPIC,)))
        return subscription_id

    async def unsubscribe_user_data(
        self,
        subscription_id: int | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> None:
        """``userDataStream.unsubscribe``: end one subscription, or all of them with ``None``."""
        params = None if subscription_id is None else {"subscriptionId": subscription_id}
        await self.request("userDataStream.unsubscribe", params, timeout=timeout)
        if subscription_id is None or subscription_id == self._user_data_id:
            self._user_data_ended()

    def _user_data_ended(self) -> None:
        self._user_data_id = None
        self._user_data_by_logon = False
        if USER_DATA_TOPIC in self._subscriptions:
            self._subscriptions.discard(USER_DATA_TOPIC)
            self._deliver_control(Unsubscribed((USER_DATA_TOPIC,)))

    # -- what retry_scope restores on a new connection --------------------------------

    def session_state(self) -> object:
        """What a replacement connection must restore besides subscriptions: the log-on."""
        return "logged_on" if self._logged_on else None

    async def restore_session(self, state: object) -> None:
        """Log on again when the previous connection was logged on (``retry_scope`` calls it)."""
        if state == "logged_on" and not self._logged_on:
            await self.logon()

    # -- orders and the account [BN-A "Trading requests", "Account requests"] -------------

    async def _user_request(
        self,
        method: str,
        params: Mapping[str, Any],
        timeout: float | None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> Any:
        """A USER_DATA/TRADE request: signed, or after a log-on with ``timestamp`` only."""
        if not self._logged_on:
            return await self.signed_request(method, params, timeout=timeout)
        stamped = dict(params)
        stamped["timestamp"] = self._clock()
        if self._recv_window is not None:
            stamped["recvWindow"] = self._recv_window
        return await self.request(method, stamped, timeout=timeout)

    async def test_order(
        self,
        symbol: str,
        side: str,
        type: str,
        *,
        quantity: Decimal | str | int | None = None,
        price: Decimal | str | int | None = None,
        time_in_force: str | None = None,
        quote_quantity: Decimal | str | int | None = None,
        client_order_id: str | None = None,
        compute_commission_rates: bool = False,
        extra: Mapping[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> dict[str, Any]:
        """``order.test``: Binance checks the order (and the signature) but does not place it.

        Takes the arguments of :meth:`place_order`; returns ``{}``, or the
        commission rates with ``compute_commission_rates=True``.

        Raises:
            VenueError: the order was refused (``code`` is Binance's: -1013
                filter failure, -1102 missing parameter, ...).
        """
        params = order_params(
            symbol,
            side,
            type,
            quantity=quantity,
            price=price,
            time_in_force=time_in_force,
            quote_quantity=quote_quantity,
            client_order_id=client_order_id,
            extra=extra,
        )
        if compute_commission_rates:
            params["computeCommissionRates"] = True
        return dict(await self._user_request("order.test", params, timeout))

    async def place_order(
        self,
        symbol: str,
        side: str,
        type: str,
        *,
        quantity: Decimal | str | int | None = None,
        price: Decimal | str | int | None = None,
        time_in_force: str | None = None,
        quote_quantity: Decimal | str | int | None = None,
        client_order_id: str | None = None,
        response_type: str | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderReport:
        """``order.place``: send a new order; returns Binance's report of it.

        ``place_order("BTCUSDT", "BUY", "LIMIT", quantity=Decimal("0.001"),
        price=Decimal("60000"), time_in_force="GTC")``. Decimals go out as
        exact strings (a float is refused with ``TypeError``). The order costs
        one of the ``"orders"`` budget besides its weight. Its changes
        (``NEW``, each ``TRADE``, ``CANCELED``/``EXPIRED``) arrive as
        ``executionReport`` events on the user data stream.

        Args:
            symbol: ``"BTCUSDT"`` (upper-cased for you).
            side: ``"BUY"`` or ``"SELL"``.
            type: ``"LIMIT"``, ``"MARKET"``, ``"LIMIT_MAKER"``, ...
            quantity: the base quantity.
            price: the limit price.
            time_in_force: ``"GTC"``, ``"IOC"`` or ``"FOK"`` (limit orders).
            quote_quantity: a market order's quote amount (``quoteOrderQty``).
            client_order_id: your id for it (``newClientOrderId``).
            response_type: ``"ACK"``, ``"RESULT"`` or ``"FULL"`` (Binance's
                default: ``FULL`` for limit and market orders).
            extra: any other ``order.place`` parameter, in Binance's names.
            timeout: seconds to wait for the answer.

        Raises:
            VenueError: refused (``code`` -2010 with Binance's reason, e.g.
                insufficient balance; -1013 filter failure; -1102 ...).
            and everything :meth:`signed_request` raises.
        """
        params = order_params(
            symbol,
            side,
            type,
            quantity=quantity,
            price=price,
            time_in_force=time_in_force,
            quote_quantity=quote_quantity,
            client_order_id=client_order_id,
            response_type=response_type,
            extra=extra,
        )
        return order_report_from_wire(await self._user_request("order.place", params, timeout))

    @staticmethod
    def _order_ref(
        symbol: str, order_id: int | None, client_order_id: str | None
    ) -> dict[str, Any]:
        if order_id is None and client_order_id is None:
            raise TypeError("give order_id or client_order_id")
        params: dict[str, Any] = {"symbol": symbol.upper()}
        if order_id is not None:
            params["orderId"] = order_id
        if client_order_id is not None:
            params["origClientOrderId"] = client_order_id
        return params

    async def cancel_order(
        self,
        symbol: str,
        order_id: int | None = None,
        *,
        client_order_id: str | None = None,
        new_client_order_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderReport:
        """``order.cancel`` by ``order_id`` and/or ``client_order_id``; returns the final report.

        Raises:
            VenueError: ``code`` -2011 ("Unknown order sent.": no such open order).
        """
        params = self._order_ref(symbol, order_id, client_order_id)
        if new_client_order_id is not None:
            params["newClientOrderId"] = new_client_order_id
        return order_report_from_wire(await self._user_request("order.cancel", params, timeout))

    async def order_status(
        self,
        symbol: str,
        order_id: int | None = None,
        *,
        client_order_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderReport:
        """``order.status``: one order, open or closed.

        Raises:
            VenueError: ``code`` -2013 ("Order does not exist.").
        """
        params = self._order_ref(symbol, order_id, client_order_id)
        return order_report_from_wire(await self._user_request("order.status", params, timeout))

    async def open_orders(
        self,
        symbol: str | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> list[OrderReport]:
        """``openOrders.status``: the open orders of ``symbol`` (weight 6) or of all (80)."""
        params = {} if symbol is None else {"symbol": symbol.upper()}
        result = await self._user_request("openOrders.status", params, timeout)
        return [order_report_from_wire(item) for item in _as_list(result, "openOrders.status")]

    async def cancel_open_orders(
        self,
        symbol: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> list[OrderReport]:
        """``openOrders.cancelAll``: cancel every open order of ``symbol``.

        Orders of an order list come back as their own reports.

        Raises:
            VenueError: ``code`` -2011 when there was none to cancel.
        """
        result = await self._user_request(
            "openOrders.cancelAll", {"symbol": symbol.upper()}, timeout
        )
        reports: list[OrderReport] = []
        for item in _as_list(result, "openOrders.cancelAll"):
            nested = item.get("orderReports") if isinstance(item, Mapping) else None
            for report in nested if isinstance(nested, list) else [item]:
                reports.append(order_report_from_wire(report))
        return reports

    async def account_status(
        self,
        *,
        omit_zero_balances: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> dict[str, Any]:
        """``account.status``: the account (``balances`` with exact ``free``/``locked`` strings)."""
        params = {"omitZeroBalances": True} if omit_zero_balances else {}
        return dict(await self._user_request("account.status", params, timeout))

    # -- market data and utilities ------------------------------------------------------

    async def depth(
        self,
        symbol: str,
        limit: int = 1000,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> PartialDepth:
        """An order-book snapshot (``depth``; weight 5 to 250 by ``limit``).

        Feed it to a book with ``DepthSnapshot(symbol, d.last_update_id, d.bids, d.asks)``.

        Args:
            symbol: the symbol as Binance spells it in requests (``"BTCUSDT"``;
                lower case is upper-cased for you).
            limit: levels per side, 1 to 5000.
            timeout: seconds to wait for the answer (default ``request_timeout``).
        """
        if not 1 <= limit <= 5000:
            raise ValueError(f"depth limit must be 1 to 5000, not {limit!r}")
        result = await self.request(
            "depth", {"symbol": symbol.upper(), "limit": limit}, timeout=timeout
        )
        return partial_depth_from_wire(result)

    async def ping(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> float:
        """``ping``: a round trip through the venue; returns it in seconds (``trio`` time)."""
        start = trio.current_time()
        await self.request("ping", timeout=timeout)
        return trio.current_time() - start

    async def server_time(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> int:
        """``time``: Binance's clock, in milliseconds since the epoch."""
        result = await self.request("time", timeout=timeout)
        server_time = result.get("serverTime") if isinstance(result, Mapping) else None
        if not isinstance(server_time, int):
            raise VenueError(None, f"time answered {result!r}")
        return server_time


def _as_list(result: Any, method: str) -> list[Any]:
    if not isinstance(result, list):
        raise VenueError(None, f"{method} answered {result!r}, not a list")
    return result


class BinanceSpotApi(VenueClient[BinanceApiConnection]):
    """The Binance WebSocket API: requests, signing, session logon and user data.

    ``async with BinanceSpotApi.connect(credentials=Credentials(key, ed25519_pem)) as ws``
    logs on with ``session.logon`` before the block runs (the older
    ``signer=Ed25519Signer(key, pem), logon=True`` does the same). Every
    request takes its documented weight from a per-host budget first (6000
    per minute unless Binance's ``rateLimits`` say less); connecting costs 2
    weight and one connection attempt.
    """

    endpoints: ClassVar[Mapping[str, str]] = {"api": API_URL, "testnet": TESTNET_API_URL}
    default_endpoint = "api"
    default_url = API_URL
    connection_class = BinanceApiConnection

    @classmethod
    def make_core(
        cls,
        config: ConnectionConfig,
        url: str,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        logon_signer: Signer | None = None,
        recv_window: int | Decimal | None = None,
    ) -> VenueCore:
        """A WS-API core carrying Binance's WS-API limits (logging on with ``logon_signer``)."""
        core = BinanceApiCore(logon_signer=logon_signer, recv_window=recv_window)
        core.limits = BINANCE_API_LIMITS
        return core

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        signer: Signer | None = None,
        logon: bool | None = None,
        clock: Callable[[], int] | None = None,
        recv_window: int | Decimal | None = None,
        config: ConnectionConfig | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[BinanceApiConnection]:
        """Open one WS-API connection.

        Args:
            url: the endpoint (default ``wss://ws-api.binance.com:443/ws-api/v3``).
            endpoint: ``"api"`` (the default) or ``"testnet"``.
            credentials: the API key with its secret: an Ed25519 PEM private
                key logs on (``session.logon``) before the block runs; an RSA
                PEM or an HMAC secret signs each request instead.
            signer: an :class:`HmacSigner`, :class:`Ed25519Signer` or
                :class:`RsaSigner` for signed requests (instead of
                ``credentials``); it is never logged or shown.
            logon: perform ``session.logon`` before the block runs (Ed25519
                only); ``Authenticated`` follows ``Connected`` on ``ws.events``.
                Default: ``True`` with Ed25519 ``credentials``, else ``False``.
            clock: milliseconds since the epoch for ``timestamp`` (default:
                the wall clock); tests pass a clock that agrees with their fake.
            recv_window: ``recvWindow`` of signed requests, in ms (Binance's
                default 5000 when ``None``).
            config, **options: as every venue's ``connect()``.

        Raises:
            ConfigError: ``logon=True`` without an Ed25519 key, or both
                ``signer`` and ``credentials``.
            TypeError: an unknown option.

        Entering raises ``ConnectFailed`` subclasses, ``RateLimitExceeded``,
        and, when logging on, ``AuthenticationError`` when Binance rejects
        the key (the connection is closed).
        """
        if signer is not None and credentials is not None:
            raise ConfigError("give either signer= or credentials=, not both")
        if credentials is not None:
            signer = signer_from_credentials(credentials)
            if logon is None:
                logon = isinstance(signer, Ed25519Signer)
        if logon and not isinstance(signer, Ed25519Signer):
            raise ConfigError(
                "logon=True needs an Ed25519 key (signer=Ed25519Signer(...) or credentials with "
                "an Ed25519 PEM): Binance logs on Ed25519 keys only"
            )
        make_core = functools.partial(
            cls.make_core, logon_signer=signer if logon else None, recv_window=recv_window
        )

        async def on_open(conn: Any) -> None:
            # Runs after the log-on (if any) and before the user's block.
            conn._configure(signer, clock, recv_window)
            if logon:
                conn._logged_on = True
            await trio.lowlevel.checkpoint()

        return cls.connect_with(
            url,
            endpoint=endpoint,
            credentials=credentials,
            config=config,
            options=options,
            make_core=make_core,
            on_open=on_open,
            wall_clock=None if clock is None else (lambda: clock() / 1000),
        )
