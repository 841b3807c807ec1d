"""The Bybit v5 venue client: ``async with Bybit.connect(endpoint="linear") as ws``.

One client class for the eight endpoints (``docs/venues/bybit.md``,
"Endpoints"); the endpoint named at connect tells the core which ack, pong and
ticker rules apply, also when ``url=`` points elsewhere (the testnet, a
regional host, the fake Bybit). The protocol lives in the sans-I/O
:class:`~trio_venues.venues.bybit.BybitCore`; what this module adds is what a
user calls: typed ``subscribe_*`` helpers taking several symbols, and order
entry on ``endpoint="trade"``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Final

import msgspec

from ..._client import VenueClient
from ..._config import ConnectionConfig
from ..._core import VenueCore
from ..._session import Connection
from ...credentials import Credentials
from ...errors import ConfigError, VenueError
from ._protocol import DEFAULT_RECV_WINDOW_MS, BybitCore
from ._signing import DEFAULT_AUTH_HEADROOM
from ._topics import (
    ENDPOINTS,
    all_liquidation_topic,
    kline_topic,
    liquidation_topic,
    orderbook_topic,
    ticker_topic,
    trade_topic,
)
from ._wire import OrderResult, TradeResponse

__all__ = [
    "Bybit",
    "BybitConnection",
    "BybitInverse",
    "BybitLinear",
    "BybitOption",
    "BybitPrivate",
    "BybitSpread",
    "BybitStatus",
    "BybitTrade",
    "max_active_time_url",
]

#: ``max_active_time`` accepts 30 s to 600 s, written ``"45s"`` or ``"2m"`` [BY-C].
_ACTIVE_TIME: Final = re.compile(r"^(\d+)([sm])$")
_MIN_ACTIVE, _MAX_ACTIVE = 30, 600


def max_active_time_url(url: str, max_active_time: str | int) -> str:
    """``url`` with ``?max_active_time=...`` (private and trade endpoints).

    Args:
        url: the endpoint URL.
        max_active_time: seconds (an ``int``), or Bybit's spelling ``"45s"`` / ``"2m"``;
            30 s to 600 s.

    Raises:
        ConfigError: outside 30 s - 600 s, or not in Bybit's spelling.
    """
    if isinstance(max_active_time, int) and not isinstance(max_active_time, bool):
        text, seconds = f"{max_active_time}s", max_active_time
    elif isinstance(max_active_time, str) and (match := _ACTIVE_TIME.match(max_active_time)):
        text = max_active_time
        seconds = int(match.group(1)) * (60 if match.group(2) == "m" else 1)
    else:
        raise ConfigError(
            f"max_active_time must be seconds or like '45s' / '2m', not {max_active_time!r}"
        )
    if not _MIN_ACTIVE <= seconds <= _MAX_ACTIVE:
        raise ConfigError(f"max_active_time must be 30 s to 600 s, got {max_active_time!r}")
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}max_active_time={text}"


def _symbols(symbols: Sequence[str]) -> Sequence[str]:
    if not symbols:
        raise ValueError("name at least one symbol")
    return symbols


class BybitConnection(Connection):
    """A connection to one Bybit endpoint (what ``Bybit.connect()`` yields).

    Each ``subscribe_*`` helper takes one or more symbols, builds Bybit's topic
    names, subscribes them (split into requests under the endpoint's limits:
    spot takes 10 topics per request), waits for every ack and returns the
    topic names: they are the ``Message.topic`` of the messages that follow.
    Topics already subscribed are not sent again.
    """

    @property
    def category(self) -> str:
        """The endpoint this connection serves (``"spot"``, ``"linear"`` ... ``"trade"``)."""
        core = self.core
        return core.category if isinstance(core, BybitCore) else "spot"

    async def _subscribe_all(self, topics: list[str]) -> list[str]:
        await self.subscribe(*topics)
        return topics

    async def subscribe_trades(self, *symbols: str) -> list[str]:
        """Subscribe to trades (``TradeMessage``): ``"publicTrade.BTCUSDT"`` per symbol."""
        return await self._subscribe_all([trade_topic(s) for s in _symbols(symbols)])

    async def subscribe_orderbook(self, *symbols: str, depth: int | None = None) -> list[str]:
        """Subscribe to books (``OrderbookMessage``): ``"orderbook.50.BTCUSDT"`` per symbol.

        ``depth`` must be one the endpoint offers (spot/linear/inverse 1, 50,
        200, 1000; option 25, 100; spread 25); ``None`` takes 50, or 25 on
        option and spread. Feed them to ``book_feed`` for local books.
        """
        category = self.category
        if depth is None:
            depth = 25 if category in ("option", "spread") else 50
        return await self._subscribe_all(
            [orderbook_topic(s, depth, category) for s in _symbols(symbols)]
        )

    async def subscribe_tickers(self, *symbols: str) -> list[str]:
        """Subscribe to tickers (``TickerMessage``): ``"tickers.BTCUSDT"`` per symbol.

        On linear and inverse connections each message carries the whole
        ticker (deltas merged) and ``delta`` the fields that message changed.
        """
        return await self._subscribe_all([ticker_topic(s) for s in _symbols(symbols)])

    async def subscribe_klines(self, *symbols: str, interval: str | int = 1) -> list[str]:
        """Subscribe to candles (``KlineMessage``): ``"kline.1.BTCUSDT"`` per symbol."""
        return await self._subscribe_all([kline_topic(s, interval) for s in _symbols(symbols)])

    async def subscribe_liquidations(self, *symbols: str, every: bool = True) -> list[str]:
        """Subscribe to liquidations: ``"allLiquidation.X"`` (every one), or the older
        ``"liquidation.X"`` with ``every=False`` (linear and inverse only)."""
        build = all_liquidation_topic if every else liquidation_topic
        return await self._subscribe_all([build(s) for s in _symbols(symbols)])

    async def subscribe_system_status(self) -> list[str]:
        """Subscribe to ``system.status`` (``SystemStatusMessage``; ``endpoint="status"``)."""
        return await self._subscribe_all(["system.status"])

    async def subscribe_private(self, *topics: str) -> list[str]:
        """Subscribe to private topics (``endpoint="private"``): ``"order"``,
        ``"execution"``, ``"position"``, ``"wallet"`` (or per category, ``"order.spot"``)."""
        if not topics:
            topics = ("order", "execution", "position", "wallet")
        return await self._subscribe_all(list(topics))

    # -- order entry (endpoint="trade") --

    async def _order(
        self,
        op: str,
        params: Mapping[str, Any],
        timeout: float | None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderResult:
        if self.category != "trade":
            raise VenueError(
                None, f"{op} goes to the order-entry endpoint: Bybit.connect(endpoint='trade')"
            )
        reply = await self.request(op, params, timeout=timeout)
        if not isinstance(reply, TradeResponse):
            raise VenueError(None, f"{op} answered {reply!r}")
        try:
            return msgspec.convert(reply.data, OrderResult)
        except msgspec.ValidationError as exc:
            raise VenueError(
                None, f"{op} answered {reply.data!r}, not an order's ids ({exc})"
            ) from None

    async def place_order(
        self,
        params: Mapping[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderResult:
        """``order.create``: place one order; returns its ids (:class:`OrderResult`).

        Args:
            params: Bybit's create-order parameters, camelCase keys
                (``{"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                "orderType": "Limit", "qty": Decimal("0.01"), "price": "60000"}``);
                ``Decimal`` values are sent as text, floats are refused.
            timeout: seconds to wait for the reply (default ``request_timeout``).

        Raises:
            BybitRateLimited: 10403, 10429, 20003 (back off).
            BybitServiceRestarting: 10016, 10019 (reconnect; 10019 ends this connection).
            VenueError: Bybit refused the order (its ``retCode`` and ``retMsg``).
            RequestTimeout, ConnectionLost, NotConnected, RateLimitExceeded.
        """
        return await self._order("order.create", params, timeout)

    async def amend_order(
        self,
        params: Mapping[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderResult:
        """``order.amend``: amend one order (by ``orderId`` or ``orderLinkId``).

        As :meth:`place_order`.
        """
        return await self._order("order.amend", params, timeout)

    async def cancel_order(
        self,
        params: Mapping[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderResult:
        """``order.cancel``: cancel one order; as :meth:`place_order`."""
        return await self._order("order.cancel", params, timeout)

    async def batch(
        self,
        op: str,
        category: str,
        orders: Sequence[Mapping[str, Any]],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> TradeResponse:
        """A batch request: ``op`` is ``"create"``, ``"amend"`` or ``"cancel"``.

        Returns the whole reply: ``data["list"]`` holds each order's result and
        ``ret_ext_info["list"]`` each order's own ``code``/``msg`` (a batch
        succeeds as a request even when some of its orders fail).
        """
        if op not in ("create", "amend", "cancel"):
            raise ValueError(f"batch op must be 'create', 'amend' or 'cancel', not {op!r}")
        if self.category != "trade":
            raise VenueError(None, "batches go to the order-entry endpoint (endpoint='trade')")
        params = {"category": category, "request": [dict(order) for order in orders]}
        reply = await self.request(f"order.{op}-batch", params, timeout=timeout)
        if not isinstance(reply, TradeResponse):
            raise VenueError(None, f"order.{op}-batch answered {reply!r}")
        return reply


class Bybit(VenueClient[BybitConnection]):
    """Bybit v5: ``async with Bybit.connect(endpoint="linear") as ws``.

    Endpoints (``endpoint=``): ``"spot"`` (the default), ``"linear"``,
    ``"inverse"``, ``"option"``, ``"spread"``, ``"status"``, ``"private"`` and
    ``"trade"`` (order entry); :data:`ENDPOINTS` has their mainnet URLs and
    :func:`endpoint_url` the testnet and regional hosts. ``url=`` connects
    anywhere, with ``endpoint=`` still naming the kind of connection.

    Private and trade endpoints need ``credentials=Credentials(key, secret)``:
    the client sends ``auth`` first and ``connect()`` returns only once Bybit
    accepted it (``AuthenticationError`` otherwise; a distinct message when our
    clock is off). A ping goes out every 20 s; its pong, whatever its shape,
    is timed as ``PongReceived(level="venue")``.
    """

    endpoints: ClassVar[Mapping[str, str]] = ENDPOINTS
    default_endpoint: ClassVar[str] = "spot"
    connection_class = BybitConnection

    @classmethod
    def make_core(
        cls,
        config: ConnectionConfig,
        url: str,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        auth_headroom: float = DEFAULT_AUTH_HEADROOM,
        recv_window: int = DEFAULT_RECV_WINDOW_MS,
        merge_tickers: bool = True,
    ) -> VenueCore:
        """A :class:`BybitCore` for ``endpoint`` (default ``"spot"``)."""
        return BybitCore(
            endpoint or cls.default_endpoint,
            auth_headroom=auth_headroom,
            recv_window=recv_window,
            merge_tickers=merge_tickers,
        )

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        config: ConnectionConfig | None = None,
        auth_headroom: float = DEFAULT_AUTH_HEADROOM,
        recv_window: int = DEFAULT_RECV_WINDOW_MS,
        max_active_time: str | int | None = None,
        merge_tickers: bool = True,
        **options: Any,
    ) -> AbstractAsyncContextManager[BybitConnection]:
        """Open one connection to a Bybit endpoint.

        Args:
            url: the address (default: the endpoint's mainnet URL).
            endpoint: ``"spot"`` (default), ``"linear"``, ``"inverse"``,
                ``"option"``, ``"spread"``, ``"status"``, ``"private"``, ``"trade"``.
            credentials: needed on ``"private"`` and ``"trade"``.
            config, **options: as every venue's ``connect()``.
            auth_headroom: seconds ahead of the wall clock for ``auth``'s
                ``expires`` (default 5).
            recv_window: ``X-BAPI-RECV-WINDOW`` of orders, in ms (default 5000).
            max_active_time: private/trade only: Bybit cuts the connection after
                this long without a ping or data (30 s to 600 s, ``"2m"``).
            merge_tickers: deliver linear/inverse tickers whole (default).

        Raises:
            ConfigError: an unknown endpoint, credentials missing on a private
                one, ``max_active_time`` on a public one or out of range.

        Entering raises ``ConnectFailed`` subclasses, ``RateLimitExceeded``
        (500 connection attempts per 5 minutes per host) and, on private and
        trade endpoints, ``AuthenticationError``.
        """
        name = endpoint if endpoint is not None else cls.default_endpoint
        if name not in cls.endpoints:
            raise ConfigError(
                f"Bybit has no endpoint {name!r} (endpoints: {', '.join(cls.endpoints)})"
            )
        private = name in ("private", "trade")
        if private and credentials is None:
            raise ConfigError(
                f"Bybit's {name} endpoint needs credentials=Credentials(api_key, secret)"
            )
        if max_active_time is not None:
            if not private:
                raise ConfigError("max_active_time applies to the private and trade endpoints")
            url = max_active_time_url(url or cls.endpoints[name], max_active_time)
        factory = functools.partial(
            cls.make_core,
            auth_headroom=auth_headroom,
            recv_window=recv_window,
            merge_tickers=merge_tickers,
        )
        return cls.connect_with(
            url,
            endpoint=name,
            credentials=credentials,
            config=config,
            options=options,
            make_core=factory,
        )


class BybitLinear(Bybit):
    """:class:`Bybit` with ``endpoint="linear"`` by default (USDT/USDC perpetuals and futures)."""

    default_endpoint: ClassVar[str] = "linear"


class BybitInverse(Bybit):
    """:class:`Bybit` with ``endpoint="inverse"`` by default (inverse contracts)."""

    default_endpoint: ClassVar[str] = "inverse"


class BybitOption(Bybit):
    """:class:`Bybit` with ``endpoint="option"`` by default (USDT/USDC options)."""

    default_endpoint: ClassVar[str] = "option"


class BybitSpread(Bybit):
    """:class:`Bybit` with ``endpoint="spread"`` by default (spread trading)."""

    default_endpoint: ClassVar[str] = "spread"


class BybitStatus(Bybit):
    """:class:`Bybit` with ``endpoint="status"`` by default (``system.status``)."""

    default_endpoint: ClassVar[str] = "status"


class BybitPrivate(Bybit):
    """:class:`Bybit` with ``endpoint="private"`` by default (orders, fills, positions, wallet)."""

    default_endpoint: ClassVar[str] = "private"


class BybitTrade(Bybit):
    """:class:`Bybit` with ``endpoint="trade"`` by default (order entry)."""

    default_endpoint: ClassVar[str] = "trade"
