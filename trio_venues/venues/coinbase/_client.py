"""``Coinbase``: the Advanced Trade WebSocket client (market data and user order data).

Thin, like every venue client: the protocol lives in the sans-I/O
:class:`~trio_venues.venues.coinbase.CoinbaseCore`, the connection in the
shared session. Added here: the two endpoints, the ``connect()`` options of
Coinbase's keepalive, and subscribe helpers that take several products.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any, ClassVar

from ..._client import VenueClient
from ..._config import ConnectionConfig
from ..._core import VenueCore
from ..._session import Connection
from ...credentials import Credentials
from ...errors import AuthenticationError, SubscriptionError
from ._protocol import (
    HEARTBEAT_TIMEOUT,
    HEARTBEATS_TOPIC,
    MARKET_URL,
    STATUS_TOPIC,
    USER_URL,
    CoinbaseCore,
    topic,
)

__all__ = ["Coinbase", "CoinbaseConnection"]


class CoinbaseConnection(Connection):
    """A Coinbase connection (what ``Coinbase.connect()`` yields).

    Each ``subscribe_*`` helper sends one subscribe message for its channel
    (with a fresh JWT when the connection has credentials), waits for the
    ``subscriptions`` ack that lists every product, and returns the topics:
    the ``Message.topic`` of their messages (``"market_trades:BTC-USD"``).
    The matching ``unsubscribe_*`` helpers take the same arguments.
    """

    async def _channel(self, channel: str, products: tuple[str, ...], op: str) -> tuple[str, ...]:
        if not products:
            raise TypeError(f"subscribing {channel!r} needs at least one product id")
        topics = tuple(topic(channel, product) for product in products)
        if op == "subscribe":
            await self.subscribe(*topics)
        else:
            await self.unsubscribe(*topics)
        return topics

    async def subscribe_market_trades(self, *products: str) -> tuple[str, ...]:
        """Trades (:class:`MarketTradesMessage`, every 250 ms): ``"market_trades:BTC-USD"``."""
        return await self._channel("market_trades", products, "subscribe")

    async def subscribe_level2(self, *products: str) -> tuple[str, ...]:
        """The order book (:class:`L2DataMessage`, a snapshot then updates): ``"level2:BTC-USD"``.

        Keep a local book with :func:`~trio_venues.book_feed`, which resyncs by
        subscribing again after a sequence gap.
        """
        return await self._channel("level2", products, "subscribe")

    async def subscribe_ticker(self, *products: str) -> tuple[str, ...]:
        """The ticker on every match (:class:`TickerMessage`): ``"ticker:BTC-USD"``."""
        return await self._channel("ticker", products, "subscribe")

    async def subscribe_ticker_batch(self, *products: str) -> tuple[str, ...]:
        """The ticker every 5 s, without best bid/ask (:class:`TickerBatchMessage`)."""
        return await self._channel("ticker_batch", products, "subscribe")

    async def subscribe_candles(self, *products: str) -> tuple[str, ...]:
        """Five-minute candles, updated every second (:class:`CandlesMessage`)."""
        return await self._channel("candles", products, "subscribe")

    async def subscribe_status(self) -> str:
        """Product status (:class:`StatusMessage`): the topic ``"status"``."""
        await self.subscribe(STATUS_TOPIC)
        return STATUS_TOPIC

    async def subscribe_heartbeats(self) -> str:
        """Deliver the heartbeats (:class:`HeartbeatsMessage`) too: the topic ``"heartbeats"``.

        The connection subscribes ``heartbeats`` for its own keepalive anyway;
        this makes them visible (and lists them in ``ws.subscriptions``).
        """
        await self.subscribe(HEARTBEATS_TOPIC)
        return HEARTBEATS_TOPIC

    async def subscribe_user(self, *products: str) -> tuple[str, ...]:
        """The user's orders (:class:`UserMessage`); no products: every product (``"user"``).

        Needs credentials. Coinbase expects one ``user`` subscription per
        connection: to change its products, open a new connection.

        Raises:
            AuthenticationError: no credentials, or Coinbase refused them.
        """
        topics = tuple(topic("user", p) for p in products) if products else ("user",)
        await self._private(topics)
        return topics

    async def subscribe_futures_balance_summary(self) -> str:
        """The futures balance (:class:`FuturesBalanceSummaryMessage`); needs credentials."""
        await self._private(("futures_balance_summary",))
        return "futures_balance_summary"

    async def _private(self, topics: tuple[str, ...]) -> None:
        """Subscribe a private channel; a refused key raises its ``AuthenticationError``.

        ``ws.subscribe`` reports refusals as a ``SubscriptionError`` listing each
        topic's own error; for the private channels the useful one is the
        credentials' error itself.
        """
        try:
            await self.subscribe(*topics)
        except SubscriptionError as exc:
            for error in exc.errors.values():
                if isinstance(error, AuthenticationError):
                    raise error from exc
            raise

    async def unsubscribe_market_trades(self, *products: str) -> tuple[str, ...]:
        """Stop ``market_trades`` for ``products``."""
        return await self._channel("market_trades", products, "unsubscribe")

    async def unsubscribe_level2(self, *products: str) -> tuple[str, ...]:
        """Stop ``level2`` for ``products``."""
        return await self._channel("level2", products, "unsubscribe")

    async def unsubscribe_ticker(self, *products: str) -> tuple[str, ...]:
        """Stop ``ticker`` for ``products``."""
        return await self._channel("ticker", products, "unsubscribe")

    async def unsubscribe_ticker_batch(self, *products: str) -> tuple[str, ...]:
        """Stop ``ticker_batch`` for ``products``."""
        return await self._channel("ticker_batch", products, "unsubscribe")

    async def unsubscribe_candles(self, *products: str) -> tuple[str, ...]:
        """Stop ``candles`` for ``products``."""
        return await self._channel("candles", products, "unsubscribe")


class Coinbase(VenueClient[CoinbaseConnection]):
    """Coinbase Advanced Trade: ``async with Coinbase.connect() as ws:``.

    Endpoints: ``"market"`` (default, ``wss://advanced-trade-ws.coinbase.com``,
    every channel) and ``"user"`` (``wss://advanced-trade-ws-user.coinbase.com``:
    ``heartbeats``, ``user``, ``futures_balance_summary``). ``url=`` (a fake
    server) works with either; ``endpoint=`` still says which it stands for.

    ``credentials=Credentials(key_name, private_key)`` (a CDP key: the key's
    name ``organizations/.../apiKeys/...`` and its EC P-256 PEM or Ed25519
    secret) signs every subscribe with a fresh JWT; public channels work
    without.

    Coinbase's limits (8 messages and 8 connections per second per IP) are
    charged before sending; messages wait for their turn by default.
    """

    endpoints: ClassVar[Mapping[str, str]] = {"market": MARKET_URL, "user": USER_URL}
    default_endpoint: ClassVar[str] = "market"
    #: One ``ws.subscribe`` may send a message per channel, and 8 messages per
    #: second per IP is the limit: by default a message waits for its turn
    #: instead of failing (``rate_limit_policy={"messages": "raise"}`` to refuse).
    default_options: ClassVar[Mapping[str, Any]] = {"rate_limit_policy": {"messages": "wait"}}
    connection_class: ClassVar[type[Connection]] = CoinbaseConnection

    @classmethod
    def make_core(
        cls,
        config: ConnectionConfig,
        url: str,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        heartbeats: bool = True,
        heartbeat_timeout: float | None = HEARTBEAT_TIMEOUT,
    ) -> VenueCore:
        """A fresh :class:`CoinbaseCore` for one connection."""
        return CoinbaseCore(
            endpoint=endpoint or cls.default_endpoint,
            heartbeats=heartbeats,
            heartbeat_timeout=heartbeat_timeout,
            ack_timeout=config.request_timeout,
        )

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        config: ConnectionConfig | None = None,
        heartbeats: bool = True,
        heartbeat_timeout: float | None = HEARTBEAT_TIMEOUT,
        wall_clock: Callable[[], float] | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[CoinbaseConnection]:
        """Open one connection: ``async with Coinbase.connect() as ws: ...``.

        Args:
            url: the address, used as given (a fake server); default: the endpoint's.
            endpoint: ``"market"`` (default) or ``"user"``.
            credentials: the CDP key for JWTs (required for ``user`` and
                ``futures_balance_summary``).
            config: a :class:`~trio_venues.ConnectionConfig`; ``options`` override it.
            heartbeats: subscribe ``heartbeats`` at once (Coinbase closes a
                connection with no subscribe after 5 s, and quiet channels
                after 60-90 s without heartbeats). With ``False`` it is still
                subscribed 3 s after opening if nothing else has been.
            heartbeat_timeout: seconds without a heartbeat (they come every
                second) that end the connection with ``HeartbeatTimeout``;
                ``None``: no check.
            wall_clock: seconds since the epoch for the JWTs' ``nbf``
                (default: the system clock; tests give the fake's virtual clock).
            **options: any ``ConnectionConfig`` field.

        Nothing is retried; wrap it in ``retry_scope`` for that.
        """
        return cls.connect_with(
            url,
            endpoint=endpoint,
            credentials=credentials,
            config=config,
            options=options,
            make_core=partial(
                cls.make_core, heartbeats=heartbeats, heartbeat_timeout=heartbeat_timeout
            ),
            wall_clock=wall_clock,
        )
