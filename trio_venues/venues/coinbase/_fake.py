"""A fake Coinbase Advanced Trade venue: market and user endpoints on one fake server.

:class:`FakeCoinbase` is a :class:`~trio_venues.testing.VenueBehaviour` for
:class:`~trio_venues.testing.FakeVenueServer`. The request path picks the
endpoint: ``/user`` is the user-order-data endpoint, anything else the
market-data one (``coinbase_url(server, "user")``).

What it does as Coinbase does (``docs/venues/coinbase.md``):

- subscribe/unsubscribe one channel per message; the answer is a cumulative
  ``subscriptions`` message (no request id) listing every subscription of the
  connection (a product-less channel lists itself);
- ``sequence_num`` counts per connection across every channel, from 0;
- ``level2`` sends an in-stream snapshot (levels interleaved, unsorted)
  before its ack, then absolute-size updates (``"0"`` deletes) from one
  :class:`~trio_venues.testing.MarketSimulator` per product;
- JWTs: a subscribe's ``jwt`` must verify with a registered
  :class:`CoinbaseTestKey` (``kid``), with ``iss="cdp"`` and be valid at the
  fake's clock; ``user`` and ``futures_balance_summary`` need one. Anything
  wrong, and any unknown channel name, is answered
  ``{"type": "error", "message": "authentication failure"}``;
- a connection with no subscribe ``subscribe_within`` (5) seconds after its
  handshake is closed; one that has not subscribed ``heartbeats`` and got no
  data for ``idle_close_after`` seconds is closed too (Coinbase: 60-90 s);
- ``heartbeats`` sends one message per second per connection, its counter
  going up by one each time;
- ``user`` sends the open orders as a snapshot in batches of 50 (the last
  one shorter, possibly empty), ``futures_balance_summary`` a snapshot.

Faults on command: :meth:`FakeCoinbase.skip_sequence` (a jump in the
numbering), :meth:`FakeCoinbase.lose_book_updates` (book changes never
sent, and the jump that reveals them), :meth:`FakeCoinbase.skip_heartbeats`,
:meth:`FakeCoinbase.fail_auth` (refuse the next JWTs), and the server's own
(``conn.close(code)``, ``conn.stall()``, ``server.fail_handshakes(...)``).

Time: message timestamps and JWT checks use ``clock`` (seconds since the
epoch: the wall clock by default, :func:`virtual_wall_clock` under
``MockClock``, given to the client as ``wall_clock=`` too); every wait uses
``trio.current_time()``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import attrs
import msgspec
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ...credentials import Credentials
from ...testing._clock import DEFAULT_EPOCH_MS
from ...testing._market import MarketSimulator
from ...testing._server import (
    FakeVenueServer,
    HandshakeRequest,
    ServerConnection,
    VenueBehaviour,
)
from ._protocol import (
    HEARTBEATS_TOPIC,
    PRIVATE_CHANNELS,
    PRODUCTLESS_CHANNELS,
    SUBSCRIBE_WITHIN,
    decode_client_request,
    parse_topic,
)
from ._signing import JWT_ISSUER, CoinbaseJwtSigner, JwtError, verify_jwt
from ._wire import (
    CHANNELS,
    USER_SNAPSHOT_BATCH,
    Candle,
    CandlesEvent,
    CandlesMessage,
    CoinbaseMessage,
    ErrorMessage,
    FcmBalanceSummary,
    FuturesBalanceSummaryEvent,
    FuturesBalanceSummaryMessage,
    HeartbeatEvent,
    HeartbeatsMessage,
    L2DataMessage,
    L2Event,
    L2Update,
    MarketTrade,
    MarketTradesEvent,
    MarketTradesMessage,
    Order,
    StatusEvent,
    StatusMessage,
    StatusProduct,
    SubscriptionsEvent,
    SubscriptionsMessage,
    Ticker,
    TickerBatchMessage,
    TickerEvent,
    TickerMessage,
    UserEvent,
    UserMessage,
    encode_message,
)

__all__ = [
    "DEFAULT_PRODUCTS",
    "CoinbasePeer",
    "CoinbaseTestKey",
    "FakeCoinbase",
    "coinbase_server",
    "coinbase_test_key",
    "coinbase_url",
    "virtual_wall_clock",
]

#: Products the fake knows by default: ``{product_id: (price, tick)}``; others start at 100.00.
DEFAULT_PRODUCTS: Final[Mapping[str, tuple[str, str]]] = {
    "BTC-USD": ("30000.00", "0.01"),
    "ETH-USD": ("2000.00", "0.01"),
    "SOL-USD": ("25.000", "0.001"),
}
_OTHER_PRODUCT: Final = ("100.00", "0.01")
_AUTH_FAILURE: Final = "authentication failure"
#: Levels per side in a level2 snapshot: the whole simulated book (Coinbase sends it all).
_SNAPSHOT_LEVELS: Final = 100_000
_MAX_HEARTBEATS: Final = 10_000_000
#: Channels whose topics the server's generators feed (``server.push``/``auto_generate``);
#: heartbeats, user and balance messages are the fake's own.
_MARKET_DATA: Final = frozenset(
    {"market_trades", "level2", "ticker", "ticker_batch", "candles", "status"}
)


def virtual_wall_clock(start: float = DEFAULT_EPOCH_MS / 1000) -> Callable[[], float]:
    """Seconds since the epoch that follow ``trio.current_time()`` (for JWTs under MockClock).

    Give the same clock to :class:`FakeCoinbase` (``clock=``) and to the
    client (``Coinbase.connect(..., wall_clock=...)``).
    """

    def now() -> float:
        return start + trio.current_time()

    return now


def _rfc3339(seconds: float) -> str:
    """``seconds`` since the epoch as RFC 3339 with nanoseconds (``...T01:57:58.894355000Z``)."""
    ns = round(seconds * 1_000_000_000)
    whole, fraction = divmod(ns, 1_000_000_000)
    head = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{head}.{fraction:09d}Z"


# -- keys ---------------------------------------------------------------------------------


class CoinbaseTestKey:
    """A CDP API key the fake accepts: its name and private key (EC P-256 or Ed25519).

    Deterministic from ``name`` and ``kind``; never use it anywhere real.
    """

    def __init__(
        self, key_name: str, private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ) -> None:
        self.key_name = key_name
        self._private = private_key

    def __repr__(self) -> str:
        return f"CoinbaseTestKey({self.key_name!r})"

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
        """What the fake verifies JWTs with."""
        return self._private.public_key()

    def private_key_text(self) -> str:
        """The secret as a CDP key file holds it: SEC1 PEM (EC) or base64 of 64 bytes (Ed25519)."""
        if isinstance(self._private, ec.EllipticCurvePrivateKey):
            return self._private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode()
        raw = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw + public).decode()

    def credentials(self) -> Credentials:
        """``Credentials(key_name, private key text)`` for ``Coinbase.connect``."""
        return Credentials(self.key_name, self.private_key_text())

    def signer(self) -> CoinbaseJwtSigner:
        """A JWT signer with this key."""
        return CoinbaseJwtSigner(self.key_name, self._private)


def coinbase_test_key(
    name: str = "default", kind: Literal["ec", "ed25519"] = "ec"
) -> CoinbaseTestKey:
    """A deterministic test key named ``organizations/test/apiKeys/<name>``."""
    seed = hashlib.sha256(f"trio-venues coinbase test key {kind} {name}".encode()).digest()
    key_name = f"organizations/test/apiKeys/{name}"
    if kind == "ed25519":
        return CoinbaseTestKey(key_name, ed25519.Ed25519PrivateKey.from_private_bytes(seed))
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(seed, "big") % (order - 1) + 1
    return CoinbaseTestKey(key_name, ec.derive_private_key(scalar, ec.SECP256R1()))


# -- per-connection state -------------------------------------------------------------------


@attrs.define
class CoinbasePeer:
    """The fake's state of one client connection.

    Attributes:
        endpoint: ``"market"`` or ``"user"`` (from the request path).
        next_seq: the ``sequence_num`` of the next message.
        subscriptions: channel -> products (a product-less channel: ``[channel]``).
        subscribed: whether any subscribe arrived (the 5-second rule).
        last_data_at: ``trio.current_time()`` of the last message sent.
        heartbeat_counter: the next heartbeat's counter.
        requests: the subscribe/unsubscribe requests received (bounded).
        jwts: the JWTs received, in order (bounded).
    """

    endpoint: str
    connected_at: float
    next_seq: int = 0
    subscriptions: dict[str, list[str]] = attrs.field(factory=dict)
    subscribed: bool = False
    last_data_at: float = 0.0
    heartbeat_counter: int = 1000
    requests: deque[Any] = attrs.field(factory=lambda: deque(maxlen=1000))
    jwts: deque[str] = attrs.field(factory=lambda: deque(maxlen=1000))


class FakeCoinbase(VenueBehaviour):
    """Coinbase Advanced Trade, faked (see the module docstring).

    Args:
        seed: seeds every product's market simulator.
        products: ``{product_id: (price, tick)}`` the fake knows (others work too).
        keys: the keys whose JWTs verify (default: ``coinbase_test_key()``
            and its Ed25519 twin).
        clock: seconds since the epoch, for timestamps and JWT checks.
        subscribe_within: close a connection with no subscribe after this
            many seconds (``None``: never).
        idle_close_after: close a connection without ``heartbeats`` after
            this many seconds without data (``None``: never).
        heartbeat_interval: seconds between heartbeats.
        open_orders: how many open orders the ``user`` snapshot sends.
        close_code: the close code and reason of the two rules above.
    """

    name = "coinbase"

    def __init__(
        self,
        *,
        seed: int = 0,
        products: Mapping[str, tuple[str, str]] = DEFAULT_PRODUCTS,
        keys: Sequence[CoinbaseTestKey] | None = None,
        clock: Callable[[], float] | None = None,
        subscribe_within: float | None = SUBSCRIBE_WITHIN,
        idle_close_after: float | None = 75.0,
        heartbeat_interval: float = 1.0,
        open_orders: int = 3,
        close_code: int = 1000,
    ) -> None:
        self.seed = seed
        self.products = dict(products)
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        self.subscribe_within = subscribe_within
        self.idle_close_after = idle_close_after
        self.heartbeat_interval = heartbeat_interval
        self.open_orders = open_orders
        self.close_code = close_code
        self.markets: dict[str, MarketSimulator] = {}
        self._keys: dict[str, CoinbaseTestKey] = {}
        for key in (
            keys if keys is not None else (coinbase_test_key(), coinbase_test_key("ed", "ed25519"))
        ):
            self.add_key(key)
        self._peers: WeakKeyDictionary[ServerConnection, CoinbasePeer] = WeakKeyDictionary()
        self._fail_auth = 0

    # -- set-up and commands ----------------------------------------------------------------

    def add_key(self, key: CoinbaseTestKey) -> None:
        """Accept JWTs signed by ``key``."""
        self._keys[key.key_name] = key

    def market(self, product_id: str) -> MarketSimulator:
        """The simulator of ``product_id`` (created on first use)."""
        market = self.markets.get(product_id)
        if market is None:
            price, tick = self.products.get(product_id, _OTHER_PRODUCT)
            seed = zlib.crc32(product_id.encode()) ^ self.seed
            market = MarketSimulator(
                product_id, price=price, tick=tick, seed=seed, now_ms=int(self.clock() * 1000)
            )
            self.markets[product_id] = market
        return market

    def peer(self, conn: ServerConnection) -> CoinbasePeer:
        """The fake's state of ``conn``."""
        peer = self._peers.get(conn)
        if peer is None:
            path = urlsplit(conn.request.target).path.rstrip("/")
            endpoint = "user" if path.endswith("/user") else "market"
            peer = CoinbasePeer(endpoint, trio.current_time(), last_data_at=trio.current_time())
            self._peers[conn] = peer
        return peer

    def skip_sequence(self, n: int = 1, conn: ServerConnection | None = None) -> None:
        """The next message of ``conn`` (every open connection by default) skips ``n`` numbers.

        Only the numbering jumps; to lose book updates as well, see :meth:`lose_book_updates`.
        """
        if n < 1:
            raise ValueError(f"skip at least one sequence number, not {n}")
        for peer in self._open_peers(conn):
            peer.next_seq += n

    def lose_book_updates(self, product_id: str, n: int = 3) -> None:
        """``product_id``'s book changes ``n`` times unseen, and its subscribers see a jump.

        The next ``level2`` update skips those changes (the book moved, nobody
        was told), and every connection subscribed to its ``level2`` skips
        ``n`` sequence numbers, as if the messages carrying them were lost.
        """
        self.market(product_id).inject_gap(n)
        for conn in self._subscribers("level2", None):
            if product_id in self.peer(conn).subscriptions.get("level2", ()):
                self.peer(conn).next_seq += n

    def skip_heartbeats(self, n: int = 1, conn: ServerConnection | None = None) -> None:
        """The next heartbeat's counter jumps by ``n`` more than one."""
        for peer in self._open_peers(conn):
            peer.heartbeat_counter += n

    def fail_auth(self, n: int = 1) -> None:
        """Answer the next ``n`` subscribes that carry a JWT with ``authentication failure``."""
        self._fail_auth += n

    def _open_peers(self, conn: ServerConnection | None) -> list[CoinbasePeer]:
        if conn is not None:
            return [self.peer(conn)]
        return [p for c, p in list(self._peers.items()) if c.is_open]

    # -- VenueBehaviour -----------------------------------------------------------------------

    async def on_connect(self, conn: ServerConnection) -> None:
        """Start the connection's rules: the 5-second subscribe, idle close, heartbeats."""
        self.peer(conn)
        conn.start_soon(self._keepalive, conn)

    def initial_topics(self, request: HandshakeRequest) -> Sequence[str]:
        """Coinbase URLs subscribe nothing."""
        return ()

    def data_frame(self, conn: ServerConnection, topic: str, seq: int, data: Any) -> str:
        """One message to ``conn``: ``data`` (a typed message) stamped with the connection's number.

        ``seq`` (the fake server's per-topic counter) is not Coinbase's:
        ``sequence_num`` counts per connection.
        """
        return self._render(conn, data)

    def make_data(self, topic: str, seq: int) -> Any:
        """A message for ``topic`` from its product's simulator (numbered per connection later)."""
        channel, product = parse_topic(topic)
        now = self.clock()
        stamp = _rfc3339(now)
        if channel == "status":
            return StatusMessage(stamp, 0, events=(StatusEvent("update", self._status()),))
        if product is None:
            raise ValueError(f"the fake Coinbase cannot generate data for {topic!r}")
        market = self.market(product)
        if channel == "market_trades":
            trade = market.trade(int(now * 1000))
            wire = MarketTrade(
                trade_id=str(trade.trade_id),
                product_id=product,
                price=trade.price,
                size=trade.quantity,
                # The maker's side: the buyer was the maker when the taker sold.
                side="BUY" if trade.buyer_maker else "SELL",
                time=_rfc3339(trade.time_ms / 1000),
            )
            return MarketTradesMessage(stamp, 0, events=(MarketTradesEvent("update", (wire,)),))
        if channel == "level2":
            diff = market.diff(f"level2:{product}")
            updates = tuple(
                [L2Update("bid", stamp, _text(p), _text(q)) for p, q in diff.bids]
                + [L2Update("offer", stamp, _text(p), _text(q)) for p, q in diff.asks]
            )
            return L2DataMessage(stamp, 0, events=(L2Event("update", product, updates),))
        if channel in ("ticker", "ticker_batch"):
            market.step()
            ticker = self._ticker(market, product, batch=channel == "ticker_batch")
            cls = TickerMessage if channel == "ticker" else TickerBatchMessage
            return cls(stamp, 0, events=(TickerEvent("update", (ticker,)),))
        if channel == "candles":
            candle = market.candle("5m", int(now * 1000))
            wire_candle = Candle(
                start=str(candle.start // 1000),
                high=candle.high,
                low=candle.low,
                open=candle.open,
                close=candle.close,
                volume=candle.volume,
                product_id=product,
            )
            return CandlesMessage(stamp, 0, events=(CandlesEvent("update", (wire_candle,)),))
        raise ValueError(f"the fake Coinbase cannot generate data for {topic!r}")

    def venue_ping_frame(self, ts: int) -> str | None:
        """Coinbase has no application-level ping."""
        return None

    def shutdown_frame(self, message: str) -> str:
        """Coinbase announces no shutdowns: an ``error`` message is the closest it has."""
        return encode_message(ErrorMessage(message))

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Answer one subscribe or unsubscribe (one channel per message)."""
        peer = self.peer(conn)
        try:
            request = decode_client_request(message)
        except ValueError:
            await self._error(conn, "failed to parse the request")
            return
        peer.requests.append(request)
        if request.type not in ("subscribe", "unsubscribe"):
            await self._error(conn, f"unknown message type {request.type!r}")
            return
        peer.subscribed = True
        channel = request.channel
        if request.jwt is not None:
            peer.jwts.append(request.jwt)
        if not self._authorised(request.jwt, channel):
            await self._error(conn, _AUTH_FAILURE)
            return
        products = list(dict.fromkeys(request.product_ids))
        if request.type == "subscribe":
            await self._subscribe(conn, peer, channel, products)
        else:
            await self._unsubscribe(conn, peer, channel, products)

    # -- subscriptions ------------------------------------------------------------------------

    def _authorised(self, jwt: str | None, channel: str) -> bool:
        if channel not in CHANNELS:
            return False  # Coinbase answers an unknown channel this way
        if jwt is None:
            return channel not in PRIVATE_CHANNELS
        if self._fail_auth:
            self._fail_auth -= 1
            return False
        try:
            kid = _jwt_kid(jwt)
            key = self._keys.get(kid)
            if key is None:
                return False
            _, claims = verify_jwt(jwt, key.public_key, now=self.clock())
        except JwtError:
            return False
        return claims.get("iss") == JWT_ISSUER

    async def _subscribe(
        self, conn: ServerConnection, peer: CoinbasePeer, channel: str, products: list[str]
    ) -> None:
        if channel in PRODUCTLESS_CHANNELS or (channel == "user" and not products):
            added = [] if channel in peer.subscriptions else [channel]
            peer.subscriptions[channel] = [channel]
            topics = [channel]
        else:
            current = peer.subscriptions.setdefault(channel, [])
            added = [p for p in products if p not in current]
            current.extend(added)
            topics = [f"{channel}:{p}" for p in products]
        # As live: a level2 snapshot may come before the ack.
        if channel == "level2":
            for product in added:
                await self._send(conn, self._l2_snapshot(product))
        if channel in _MARKET_DATA:
            conn.add_subscriptions(topics)
        await self._ack(conn, peer)
        if channel == "user" and added:
            await self._user_snapshot(conn, products)
        elif channel == "futures_balance_summary" and added:
            await self._send(conn, self._balance_summary())
        elif channel == "status" and added:
            stamp = _rfc3339(self.clock())
            await self._send(
                conn, StatusMessage(stamp, 0, events=(StatusEvent("snapshot", self._status()),))
            )

    async def _unsubscribe(
        self, conn: ServerConnection, peer: CoinbasePeer, channel: str, products: list[str]
    ) -> None:
        current = peer.subscriptions.get(channel)
        if current is not None:
            if not products or channel in PRODUCTLESS_CHANNELS:
                removed = [channel] if channel in current else [f"{channel}:{p}" for p in current]
                del peer.subscriptions[channel]
            else:
                removed = [f"{channel}:{p}" for p in products if p in current]
                current[:] = [p for p in current if p not in products]
                if not current:
                    del peer.subscriptions[channel]
            conn.remove_subscriptions(removed)
        await self._ack(conn, peer)

    async def _ack(self, conn: ServerConnection, peer: CoinbasePeer) -> None:
        current = {c: tuple(p) for c, p in peer.subscriptions.items()}
        stamp = _rfc3339(self.clock())
        await self._send(
            conn, SubscriptionsMessage(stamp, 0, events=(SubscriptionsEvent(current),))
        )

    async def _error(self, conn: ServerConnection, text: str) -> None:
        await conn.send_text(encode_message(ErrorMessage(text)))

    # -- messages -------------------------------------------------------------------------------

    def _render(self, conn: ServerConnection, message: Any) -> str:
        peer = self.peer(conn)
        seq = peer.next_seq
        peer.next_seq += 1
        peer.last_data_at = trio.current_time()
        if not isinstance(message, msgspec.Struct):
            raise TypeError(f"the fake Coinbase sends typed messages, not {type(message).__name__}")
        return encode_message(msgspec.structs.replace(message, sequence_num=seq))  # type: ignore[arg-type]

    async def _send(self, conn: ServerConnection, message: CoinbaseMessage) -> bool:
        return await conn.send_text(self._render(conn, message))

    def _l2_snapshot(self, product: str) -> L2DataMessage:
        market = self.market(product)
        # The update stream is shared by every connection and is not restarted:
        # its next update may repeat changes the snapshot holds, which is harmless
        # with absolute sizes, while restarting it would skip changes other
        # connections have not been sent yet.
        snapshot = market.snapshot(_SNAPSHOT_LEVELS)
        stamp = _rfc3339(self.clock())
        bids = [L2Update("bid", stamp, _text(p), _text(q)) for p, q in snapshot.bids]
        offers = [L2Update("offer", stamp, _text(p), _text(q)) for p, q in snapshot.asks]
        # Interleaved and unsorted, as the live venue sends them.
        levels: list[L2Update] = []
        for index in range(max(len(bids), len(offers))):
            if index < len(offers):
                levels.append(offers[index])
            if index < len(bids):
                levels.append(bids[index])
        levels.reverse()
        return L2DataMessage(stamp, 0, events=(L2Event("snapshot", product, tuple(levels)),))

    def _ticker(self, market: MarketSimulator, product: str, *, batch: bool) -> Ticker:
        stats = market.stats()
        bid, bid_qty = market.best_bid()
        ask, ask_qty = market.best_ask()
        return Ticker(
            product_id=product,
            price=stats.last_price,
            volume_24_h=stats.volume,
            low_24_h=stats.low,
            high_24_h=stats.high,
            price_percent_chg_24_h=stats.price_change_percent,
            low_52_w=stats.low,
            high_52_w=stats.high,
            best_bid=None if batch else bid,
            best_bid_quantity=None if batch else bid_qty,
            best_ask=None if batch else ask,
            best_ask_quantity=None if batch else ask_qty,
        )

    def _status(self) -> tuple[StatusProduct, ...]:
        out = []
        for product, (_, tick) in sorted(self.products.items()):
            base, _, quote = product.partition("-")
            out.append(
                StatusProduct(
                    id=product,
                    product_type="SPOT",
                    base_currency=base,
                    quote_currency=quote,
                    base_increment=Decimal("0.00000001"),
                    quote_increment=Decimal(tick),
                    display_name=f"{base}/{quote}",
                    status="online",
                    status_message="",
                    min_market_funds=Decimal(1),
                )
            )
        return tuple(out)

    def orders(self, products: Sequence[str] = ()) -> list[Order]:
        """The open orders the ``user`` snapshot sends (``open_orders`` of them)."""
        pool = list(products) or sorted(self.products) or ["BTC-USD"]
        out = []
        for index in range(self.open_orders):
            product = pool[index % len(pool)]
            market = self.market(product)
            price = market.best_bid()[0] - market.tick * (index + 1)
            out.append(
                Order(
                    order_id=f"fake-order-{index:06d}",
                    client_order_id=f"fake-client-{index:06d}",
                    product_id=product,
                    status="OPEN",
                    cumulative_quantity=Decimal(0),
                    leaves_quantity=Decimal("0.01"),
                    avg_price=Decimal(0),
                    total_fees=Decimal(0),
                    order_side="BUY",
                    order_type="Limit",
                    creation_time=_rfc3339(self.clock()),
                    limit_price=_text(price),
                )
            )
        return out

    async def _user_snapshot(self, conn: ServerConnection, products: Sequence[str]) -> None:
        orders = self.orders(products)
        stamp = _rfc3339(self.clock())
        # Batches of 50; the first batch with fewer (possibly none) ends the backlog.
        for start in range(0, len(orders) + 1, USER_SNAPSHOT_BATCH):
            batch = tuple(orders[start : start + USER_SNAPSHOT_BATCH])
            await self._send(conn, UserMessage(stamp, 0, events=(UserEvent("snapshot", batch),)))
            if len(batch) < USER_SNAPSHOT_BATCH:
                break

    async def send_user_update(self, order: Order, *, conn: ServerConnection | None = None) -> None:
        """Send an ``update`` of ``order`` to the connections subscribed to ``user``."""
        stamp = _rfc3339(self.clock())
        message = UserMessage(stamp, 0, events=(UserEvent("update", (order,)),))
        for target in self._subscribers("user", conn):
            await self._send(target, message)

    def _balance_summary(self) -> FuturesBalanceSummaryMessage:
        one = Decimal("1000.00")
        summary = FcmBalanceSummary(
            futures_buying_power=one,
            total_usd_balance=one,
            cbi_usd_balance=one,
            cfm_usd_balance=Decimal(0),
            total_open_orders_hold_amount=Decimal(0),
            unrealized_pnl=Decimal(0),
            daily_realized_pnl=Decimal(0),
            initial_margin=Decimal(0),
            available_margin=one,
            liquidation_threshold=Decimal(0),
            liquidation_buffer_amount=one,
            liquidation_buffer_percentage=Decimal(1000),
        )
        event = FuturesBalanceSummaryEvent("snapshot", summary)
        return FuturesBalanceSummaryMessage(_rfc3339(self.clock()), 0, events=(event,))

    def _subscribers(self, channel: str, conn: ServerConnection | None) -> list[ServerConnection]:
        conns = [conn] if conn is not None else [c for c in list(self._peers) if c.is_open]
        return [c for c in conns if channel in self.peer(c).subscriptions]

    # -- the connection's rules -----------------------------------------------------------------

    async def _keepalive(self, conn: ServerConnection) -> None:
        """Heartbeats every second when subscribed; the 5-second and idle rules."""
        peer = self.peer(conn)
        for _ in range(_MAX_HEARTBEATS):
            now = trio.current_time()
            if self.subscribe_within is not None and not peer.subscribed:
                if now >= peer.connected_at + self.subscribe_within:
                    await conn.close(self.close_code, "no subscribe within 5 seconds")
                    return
            elif HEARTBEATS_TOPIC in peer.subscriptions:
                counter = peer.heartbeat_counter
                peer.heartbeat_counter += 1
                stamp = _rfc3339(self.clock())
                text = f"{stamp[:10]} {stamp[11:29]} +0000 UTC m=+{counter}.000000000"
                event = HeartbeatEvent(text, counter)
                await self._send(conn, HeartbeatsMessage(stamp, 0, events=(event,)))
            elif (
                self.idle_close_after is not None
                and now >= peer.last_data_at + self.idle_close_after
            ):
                await conn.close(self.close_code, "idle: no updates and no heartbeats")
                return
            await trio.sleep(self.heartbeat_interval)


def _text(value: Decimal) -> str:
    return format(value, "f")


def _jwt_kid(jwt: str) -> str:
    head = jwt.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except ValueError:
        raise JwtError("undecodable header") from None
    kid = header.get("kid") if type(header) is dict else None
    if type(kid) is not str:
        raise JwtError("no kid")
    return kid


def coinbase_server(
    behaviour: FakeCoinbase | None = None, **options: Any
) -> FakeVenueServer[FakeCoinbase]:
    """A fake server speaking Coinbase Advanced Trade (``FakeCoinbase()`` by default).

    ``options`` are :class:`~trio_venues.testing.FakeVenueServer` options.
    Coinbase sends no ping frames, so none are sent by default.
    """
    fake = behaviour if behaviour is not None else FakeCoinbase()
    server: FakeVenueServer[FakeCoinbase] = FakeVenueServer(fake, **options)
    return server


def coinbase_url(server: FakeVenueServer[Any], endpoint: str = "market") -> str:
    """The fake's URL of ``endpoint`` (``"market"``: the server's URL; ``"user"``: ``/user``)."""
    parts = urlsplit(server.url)
    if endpoint == "user":
        return f"{parts.scheme}://{parts.netloc}/user"
    if endpoint != "market":
        raise ValueError(f"endpoint must be 'market' or 'user', not {endpoint!r}")
    return f"{parts.scheme}://{parts.netloc}/"
