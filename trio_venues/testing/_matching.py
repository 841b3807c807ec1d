"""A simple matching engine for fake venues: one account's orders against the simulated market.

:class:`MatchingEngine` is venue-neutral: each fake validates requests in its
venue's words (filters, error codes) and renders the engine's
:class:`OrderUpdate` values as its venue's events (Binance's
``executionReport`` and ``outboundAccountPosition``, ...).

The rules, kept simple but exact (``Decimal`` throughout):

- **Orders**: ``LIMIT`` (time in force ``GTC``, ``IOC`` or ``FOK``),
  ``MARKET`` (a base quantity, or a quote amount to spend/receive) and
  ``LIMIT_MAKER`` (refused when it would take).
- **Price-time priority against the simulated book**: a taker order walks
  the other side of the :class:`~trio_venues.testing.MarketSimulator` book
  best price first, up to its limit, one trade per level. A resting order
  joins its level *behind* the quantity already there (``ahead``) and is
  part of the book the simulator publishes (depth diffs show it). Trades
  at that level, the simulator's own (``trade()``, ``agg_trade()``,
  ``candle()``) or an anonymous taker's (:meth:`MatchingEngine.take`), fill
  the quantity ahead first, then the resting orders in time order. When other
  participants' quantity at the level shrinks, the order is assumed to move
  up (``ahead`` never exceeds what the others hold there). The account's own
  taker orders fill its own resting orders like anyone else's (no self-trade
  prevention).
- **Time in force**: ``GTC`` rests the remainder; ``IOC`` expires it;
  ``FOK`` expires the whole order unfilled unless the book within its limit
  holds its whole quantity. A ``MARKET`` order's unfilled remainder expires.
- **Balances**: one account, ``{asset: (free, locked)}``. A resting limit
  order locks its cost (a buy: price x quantity of the quote asset; a sell:
  the quantity of the base asset), released as it fills or when it ends;
  a buy filled below its limit gets the difference back. An order the free
  balance cannot pay for is refused whole (``insufficient_balance``); a
  market buy by base quantity buys what the free quote pays for and expires
  the rest. ``commission_rate`` (0 by default) is charged on what is
  received (the base asset on a buy, the quote asset on a sell).

Every change is an :class:`OrderUpdate` (``NEW``, ``TRADE``, ``CANCELED``,
``EXPIRED``) with the order as it stands after it, and the assets whose
balances changed. Changes made by requests are returned; changes made by
the market (the simulator's trades) queue in :attr:`MatchingEngine.pending`
(bounded: :attr:`MatchingEngine.MAX_PENDING`; the oldest are dropped and
counted in :attr:`MatchingEngine.dropped`), which the fake drains.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Final, Literal, TypeAlias

import attrs

from ._market import BookSide, MarketSimulator, SimTrade

__all__ = [
    "EngineOrder",
    "Fill",
    "MatchingEngine",
    "OrderRejected",
    "OrderRequest",
    "OrderUpdate",
]

Side: TypeAlias = Literal["BUY", "SELL"]
OrderType: TypeAlias = Literal["LIMIT", "MARKET", "LIMIT_MAKER"]
TimeInForce: TypeAlias = Literal["GTC", "IOC", "FOK"]
Execution: TypeAlias = Literal["NEW", "TRADE", "CANCELED", "EXPIRED"]
RejectReason: TypeAlias = Literal[
    "insufficient_balance",
    "would_match",
    "duplicate_order",
    "unknown_order",
    "unknown_symbol",
    "no_liquidity",
]

_ZERO: Final = Decimal(0)
_EIGHT: Final = Decimal("0.00000001")


def _tidy(value: Decimal) -> Decimal:
    """``value`` with eight decimals when that is exact (products grow their exponent)."""
    eight = value.quantize(_EIGHT)
    return eight if eight == value else value


class OrderRejected(Exception):
    """The engine refused a request (the fake turns ``reason`` into its venue's error)."""

    def __init__(self, reason: RejectReason) -> None:
        super().__init__(reason)
        self.reason: RejectReason = reason


@attrs.frozen
class OrderRequest:
    """A new order, already validated by the venue's fake.

    Attributes:
        symbol: the symbol as the fake names it.
        side: ``"BUY"`` or ``"SELL"``.
        type: ``"LIMIT"``, ``"MARKET"`` or ``"LIMIT_MAKER"``.
        quantity: the base quantity (``None`` for a market order by quote amount).
        price: the limit price (``None`` for a market order).
        time_in_force: ``"GTC"``, ``"IOC"`` or ``"FOK"`` (limit orders).
        quote_quantity: a market order's quote amount to spend or receive.
        client_order_id: the client's id (``None``: the engine makes one).
    """

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    time_in_force: TimeInForce = "GTC"
    quote_quantity: Decimal | None = None
    client_order_id: str | None = None


@attrs.frozen
class Fill:
    """One trade of an order: price, quantity, quote quantity, commission, trade id, maker."""

    price: Decimal
    quantity: Decimal
    quote_quantity: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int
    is_maker: bool
    time_ms: int


@attrs.define
class EngineOrder:
    """An order as the engine holds it (copied into each :class:`OrderUpdate`).

    ``status`` is ``NEW``, ``PARTIALLY_FILLED``, ``FILLED``, ``CANCELED`` or
    ``EXPIRED``; ``working_ms`` is -1 until the order rests on the book;
    ``original_client_order_id`` is the id a cancel replaced ("" otherwise).
    """

    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal
    quantity: Decimal
    quote_quantity: Decimal
    created_ms: int
    updated_ms: int
    executed: Decimal = _ZERO
    cumulative_quote: Decimal = _ZERO
    status: str = "NEW"
    working_ms: int = -1
    original_client_order_id: str = ""
    ahead: Decimal = _ZERO
    locked: Decimal = _ZERO

    @property
    def remaining(self) -> Decimal:
        """The quantity not filled yet."""
        return self.quantity - self.executed

    @property
    def is_open(self) -> bool:
        """Whether the order is on the book (``NEW`` or ``PARTIALLY_FILLED``)."""
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def copy(self) -> EngineOrder:
        """A snapshot of the order."""
        return attrs.evolve(self)


@attrs.frozen
class OrderUpdate:
    """One change of one order: the order after it, the fill (``TRADE``), changed balances.

    ``balances`` are ``(asset, free, locked)`` of the assets the change moved,
    as they stood right after it (empty when no balance moved).
    """

    execution: Execution
    order: EngineOrder
    time_ms: int
    fill: Fill | None = None
    balances: tuple[tuple[str, Decimal, Decimal], ...] = ()


@attrs.define
class _Book:
    market: MarketSimulator
    base: str
    quote: str
    step: Decimal
    # resting orders per (side, price), in time order
    levels: dict[tuple[BookSide, Decimal], list[EngineOrder]] = attrs.field(factory=dict)


class MatchingEngine:
    """One account's orders against simulated markets (see the module docstring).

    Args:
        balances: the account's ``{asset: (free, locked)}`` (this dict is
            updated in place: the fake reads it for account events).
        commission_rate: charged on what each fill brings in.
        clock: the venue time in ms (for fills made by the simulator's trades).
        first_order_id: the first order id handed out.
    """

    #: Market-made updates kept until drained.
    MAX_PENDING: Final = 10_000
    #: Closed orders remembered for status queries (the oldest are forgotten).
    MAX_CLOSED: Final = 10_000

    def __init__(
        self,
        balances: dict[str, tuple[Decimal, Decimal]],
        *,
        commission_rate: Decimal = _ZERO,
        clock: Callable[[], int],
        first_order_id: int = 1,
    ) -> None:
        self.balances = balances
        self.commission_rate = commission_rate
        self.clock = clock
        self.next_order_id = first_order_id
        self.pending: deque[OrderUpdate] = deque()
        self.dropped = 0
        self._books: dict[str, _Book] = {}
        self._orders: dict[int, EngineOrder] = {}
        self._closed: deque[int] = deque()
        self._listeners: list[Callable[[], None]] = []

    # -- set-up -------------------------------------------------------------------------

    def attach(self, market: MarketSimulator, base: str, quote: str, *, step: Decimal) -> None:
        """Trade ``market`` (base and quote asset, quantity step) from now on."""
        if market.symbol in self._books:
            return
        self._books[market.symbol] = _Book(market, base, quote, step)

        def on_trade(side: BookSide, price: Decimal, quantity: Decimal, trade: SimTrade) -> None:
            self._on_market_trade(market.symbol, side, price, quantity, trade)

        market.trade_listeners.append(on_trade)

    def on_pending(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever market-made updates are queued in :attr:`pending`."""
        self._listeners.append(callback)

    def knows(self, symbol: str) -> bool:
        """Whether ``symbol`` is attached."""
        return symbol in self._books

    # -- queries ------------------------------------------------------------------------

    def order(
        self, symbol: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> EngineOrder:
        """An order by id and/or client id (open or recently closed).

        Raises:
            OrderRejected: ``unknown_order``.
        """
        found: EngineOrder | None = None
        if order_id is not None:
            found = self._orders.get(order_id)
            if found is not None and client_order_id not in (None, found.client_order_id):
                found = None
        elif client_order_id is not None:
            # The open order with that id first, else the latest closed one.
            matches = [o for o in self._orders.values() if o.client_order_id == client_order_id]
            open_ = [o for o in matches if o.is_open]
            if open_ or matches:
                found = (open_ or matches)[-1]
        if found is None or found.symbol != symbol:
            raise OrderRejected("unknown_order")
        return found.copy()

    def open_orders(self, symbol: str | None = None) -> list[EngineOrder]:
        """The open orders (of ``symbol``), oldest first."""
        return [
            o.copy()
            for o in self._orders.values()
            if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    # -- requests ----------------------------------------------------------------------

    def place(self, request: OrderRequest) -> tuple[EngineOrder, list[OrderUpdate]]:
        """Accept and match a new order; returns the order as it stands and its updates.

        Raises:
            OrderRejected: ``unknown_symbol``, ``duplicate_order``,
                ``insufficient_balance`` or ``would_match`` (nothing changed).
        """
        book = self._books.get(request.symbol)
        if book is None:
            raise OrderRejected("unknown_symbol")
        if request.client_order_id is not None and any(
            o.is_open and o.client_order_id == request.client_order_id
            for o in self._orders.values()
        ):
            raise OrderRejected("duplicate_order")
        price = request.price if request.price is not None else _ZERO
        quantity = request.quantity
        if quantity is None:
            # A market order by quote amount: the base quantity that amount takes now.
            quantity = self._base_for_quote(
                book, "ask" if request.side == "BUY" else "bid", request.quote_quantity or _ZERO
            )
            if quantity <= _ZERO:
                raise OrderRejected("no_liquidity")
        if request.type == "LIMIT_MAKER" and self._crosses(book, request.side, price):
            raise OrderRejected("would_match")
        lock = self._lock_needed(book, request, quantity)
        now = self.clock()
        order_id = self.next_order_id
        order = EngineOrder(
            order_id=order_id,
            client_order_id=request.client_order_id or _client_id(order_id),
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            price=price,
            quantity=quantity,
            quote_quantity=request.quote_quantity or _ZERO,
            created_ms=now,
            updated_ms=now,
        )
        fok = request.type == "LIMIT" and request.time_in_force == "FOK"
        if fok and self._available(book, request.side, price) < quantity:
            # Nothing is locked or traded unless the whole quantity is there.
            self.next_order_id += 1
            new = self._update("NEW", order, now)
            order.status = "EXPIRED"
            self._remember(order)
            return order.copy(), [new, self._update("EXPIRED", order, now)]
        self.next_order_id += 1
        asset = book.quote if request.side == "BUY" else book.base
        if lock:
            self._move(asset, -lock, lock)
            order.locked = lock
        self._remember(order)
        resting = order.type != "MARKET" and order.time_in_force == "GTC"
        if resting and not self._crosses(book, order.side, price):
            # Straight onto the book: its NEW report shows it working there.
            self._rest(book, order, now)
            return order.copy(), [self._update("NEW", order, now, assets=(asset,) if lock else ())]
        updates = [self._update("NEW", order, now, assets=(asset,) if lock else ())]
        updates += self._sweep(book, order, now)
        if order.is_open:
            if order.type == "MARKET" or order.time_in_force in ("IOC", "FOK"):
                updates.append(self._end(book, order, "EXPIRED", now))
            else:
                self._rest(book, order, now)
        return order.copy(), updates

    def cancel(
        self,
        symbol: str,
        order_id: int | None = None,
        client_order_id: str | None = None,
        *,
        new_client_order_id: str | None = None,
    ) -> OrderUpdate:
        """Cancel an open order (``new_client_order_id`` renames it, as venues do).

        Raises:
            OrderRejected: ``unknown_order`` (never existed, or no longer open).
        """
        found = self.order(symbol, order_id, client_order_id)
        order = self._orders[found.order_id]
        if not order.is_open:
            raise OrderRejected("unknown_order")
        book = self._books[symbol]
        order.original_client_order_id = order.client_order_id
        order.client_order_id = new_client_order_id or _client_id(order.order_id, "cancel")
        return self._end(book, order, "CANCELED", self.clock())

    def cancel_all(self, symbol: str) -> list[OrderUpdate]:
        """Cancel every open order of ``symbol``, oldest first (none: ``unknown_order``)."""
        open_ = [o for o in self._orders.values() if o.is_open and o.symbol == symbol]
        if not open_:
            raise OrderRejected("unknown_order")
        return [self.cancel(symbol, o.order_id) for o in open_]

    def take(self, symbol: str, side: Side, quantity: Decimal) -> SimTrade | None:
        """Another participant's market order of ``quantity`` on ``symbol`` (``side`` is theirs).

        It walks the book like any taker, filling resting orders in
        price-time order; their updates queue in :attr:`pending`. Returns the
        last trade (``None`` when the book was empty).
        """
        book = self._books[symbol]
        market = book.market
        book_side: BookSide = "ask" if side == "BUY" else "bid"
        now = self.clock()
        left = quantity
        last: SimTrade | None = None
        while left > _ZERO:
            levels = market.asks if book_side == "ask" else market.bids
            if not levels:
                break
            price, available = levels[0]
            size = min(left, available)
            makers = self._fill_level(book, book_side, price, size, market.others(book_side, price))
            last = market.execute(book_side, price, size, now, buyer_maker=side == "SELL")
            self.queue(self._settle_makers(book, makers, last, now))
            left -= size
        return last

    # -- matching ---------------------------------------------------------------------

    def _crosses(self, book: _Book, side: Side, price: Decimal) -> bool:
        market = book.market
        if side == "BUY":
            asks = market.asks
            return bool(asks) and asks[0][0] <= price
        bids = market.bids
        return bool(bids) and bids[0][0] >= price

    def _available(self, book: _Book, side: Side, limit: Decimal) -> Decimal:
        if side == "BUY":
            return sum((q for p, q in book.market.asks if p <= limit), _ZERO)
        return sum((q for p, q in book.market.bids if p >= limit), _ZERO)

    def _lock_needed(self, book: _Book, request: OrderRequest, quantity: Decimal) -> Decimal:
        """What the order locks, or raise ``insufficient_balance``."""
        free_quote = self._free(book.quote)
        if request.side == "SELL":
            if quantity > self._free(book.base):
                raise OrderRejected("insufficient_balance")
            return quantity
        if request.type == "MARKET":
            # Buys at the market pay fill by fill; refused only when nothing is affordable.
            best = book.market.asks[0][0] if book.market.asks else None
            if best is None or free_quote < best * book.step:
                raise OrderRejected("insufficient_balance")
            if request.quote_quantity is not None and request.quote_quantity > free_quote:
                raise OrderRejected("insufficient_balance")
            return _ZERO
        cost = _tidy((request.price or _ZERO) * quantity)
        if cost > free_quote:
            raise OrderRejected("insufficient_balance")
        return cost

    def _base_for_quote(self, book: _Book, side: BookSide, amount: Decimal) -> Decimal:
        levels = book.market.bids if side == "bid" else book.market.asks
        base, left = _ZERO, amount
        for price, available in levels:
            size = min(available, _floor(left / price, book.step))
            base += size
            left -= price * size
            if size < available:
                break
        return base

    def _sweep(self, book: _Book, order: EngineOrder, now: int) -> list[OrderUpdate]:
        """Match ``order`` against the other side of the book, best price first."""
        market = book.market
        book_side: BookSide = "ask" if order.side == "BUY" else "bid"
        updates: list[OrderUpdate] = []
        while True:
            levels = market.asks if book_side == "ask" else market.bids
            if not levels:
                break
            price, available = levels[0]
            if order.type != "MARKET" and (
                price > order.price if order.side == "BUY" else price < order.price
            ):
                break
            size = order.remaining
            if order.side == "BUY" and order.type == "MARKET":
                size = min(size, _floor(self._free(book.quote) / price, book.step))
            size = min(size, available)
            if size <= _ZERO:
                break
            makers = self._fill_level(book, book_side, price, size, market.others(book_side, price))
            trade = market.execute(book_side, price, size, now, buyer_maker=order.side == "SELL")
            updates += self._settle_makers(book, makers, trade, now)
            updates.append(self._fill(book, order, price, size, trade.trade_id, False, now))
            if not order.is_open:
                break
        return updates

    def _fill_level(
        self, book: _Book, side: BookSide, price: Decimal, size: Decimal, others: Decimal
    ) -> list[tuple[EngineOrder, Decimal]]:
        """Which resting orders a trade of ``size`` at a level fills: (order, quantity).

        ``others`` is the other participants' quantity at the level before the
        trade. The quantity ahead of each order goes first (price-time
        priority); ``ahead`` is updated for every order left at the level.
        """
        queue = book.levels.get((side, price), [])
        consumed_others = _ZERO
        left = size
        filled: list[tuple[EngineOrder, Decimal]] = []
        for order in queue:
            order.ahead = min(order.ahead, others)
            take = min(max(order.ahead - consumed_others, _ZERO), left)
            consumed_others += take
            left -= take
            if left <= _ZERO:
                break
            size_here = min(order.remaining, left)
            filled.append((order, size_here))
            left -= size_here
            if left <= _ZERO:
                break
        consumed_others += left
        for order in queue:
            order.ahead = max(order.ahead - consumed_others, _ZERO)
        return filled

    def _settle_makers(
        self,
        book: _Book,
        makers: list[tuple[EngineOrder, Decimal]],
        trade: SimTrade,
        now: int,
    ) -> list[OrderUpdate]:
        updates = []
        for order, size in makers:
            side: BookSide = "bid" if order.side == "BUY" else "ask"
            book.market.release_own(side, trade.price, size)
            updates.append(self._fill(book, order, trade.price, size, trade.trade_id, True, now))
        return updates

    def _on_market_trade(
        self, symbol: str, side: BookSide, price: Decimal, quantity: Decimal, trade: SimTrade
    ) -> None:
        book = self._books[symbol]
        if (side, price) not in book.levels:
            return
        # The level already lost the quantity: the others held that much more before.
        others = book.market.others(side, price) + quantity
        makers = self._fill_level(book, side, price, quantity, others)
        self.queue(self._settle_makers(book, makers, trade, trade.time_ms))

    def queue(self, updates: Iterable[OrderUpdate]) -> None:
        """Add updates to :attr:`pending` (the oldest dropped beyond :attr:`MAX_PENDING`)."""
        added = False
        for update in updates:
            if len(self.pending) >= self.MAX_PENDING:
                self.pending.popleft()
                self.dropped += 1
            self.pending.append(update)
            added = True
        if added:
            for callback in self._listeners:
                callback()

    # -- order state and balances ---------------------------------------------------------

    def _fill(
        self,
        book: _Book,
        order: EngineOrder,
        price: Decimal,
        size: Decimal,
        trade_id: int,
        is_maker: bool,
        now: int,
    ) -> OrderUpdate:
        quote = _tidy(price * size)
        rate = self.commission_rate
        if order.side == "BUY":
            commission, asset = _tidy(size * rate), book.base
            if order.type == "MARKET":
                self._move(book.quote, -quote, _ZERO)
            else:
                reserved = _tidy(order.price * size)
                self._move(book.quote, reserved - quote, -reserved)
                order.locked -= reserved
            self._move(book.base, size - commission, _ZERO)
        else:
            commission, asset = _tidy(quote * rate), book.quote
            self._move(book.base, _ZERO, -size)
            order.locked -= size
            self._move(book.quote, quote - commission, _ZERO)
        order.executed = _tidy(order.executed + size)
        order.cumulative_quote = _tidy(order.cumulative_quote + quote)
        order.updated_ms = now
        order.status = "FILLED" if order.remaining <= _ZERO else "PARTIALLY_FILLED"
        fill = Fill(price, size, quote, commission, asset, trade_id, is_maker, now)
        if order.status == "FILLED":
            self._leave(book, order)
            self._release(book, order)
        return self._update("TRADE", order, now, fill, (book.base, book.quote))

    def _update(
        self,
        execution: Execution,
        order: EngineOrder,
        now: int,
        fill: Fill | None = None,
        assets: tuple[str, ...] = (),
    ) -> OrderUpdate:
        balances = tuple((a, *self.balances.get(a, (_ZERO, _ZERO))) for a in assets)
        return OrderUpdate(execution, order.copy(), now, fill, balances)

    def _rest(self, book: _Book, order: EngineOrder, now: int) -> None:
        side: BookSide = "bid" if order.side == "BUY" else "ask"
        order.ahead = book.market.others(side, order.price)
        order.working_ms = now
        book.levels.setdefault((side, order.price), []).append(order)
        book.market.add_own(side, order.price, order.remaining)

    def _leave(self, book: _Book, order: EngineOrder) -> None:
        side: BookSide = "bid" if order.side == "BUY" else "ask"
        queue = book.levels.get((side, order.price))
        if queue is not None and order in queue:
            queue.remove(order)
            if not queue:
                del book.levels[side, order.price]

    def _end(self, book: _Book, order: EngineOrder, status: Execution, now: int) -> OrderUpdate:
        """Cancel or expire an open order: off the book, what it locked released."""
        side: BookSide = "bid" if order.side == "BUY" else "ask"
        queue = book.levels.get((side, order.price), [])
        if order in queue:
            book.market.remove_own(side, order.price, order.remaining)
        self._leave(book, order)
        asset = self._release(book, order)
        order.status = status
        order.updated_ms = now
        self._closed.append(order.order_id)
        self._forget()
        return self._update(status, order, now, assets=(asset,) if asset else ())

    def _release(self, book: _Book, order: EngineOrder) -> str | None:
        if order.locked <= _ZERO:
            order.locked = _ZERO
            return None
        asset = book.quote if order.side == "BUY" else book.base
        self._move(asset, order.locked, -order.locked)
        order.locked = _ZERO
        return asset

    def _remember(self, order: EngineOrder) -> None:
        self._orders[order.order_id] = order
        if not order.is_open:
            self._closed.append(order.order_id)
            self._forget()

    def _forget(self) -> None:
        while len(self._closed) > self.MAX_CLOSED:
            self._orders.pop(self._closed.popleft(), None)

    def _free(self, asset: str) -> Decimal:
        return self.balances.get(asset, (_ZERO, _ZERO))[0]

    def _move(self, asset: str, free: Decimal, locked: Decimal) -> None:
        old_free, old_locked = self.balances.get(asset, (_ZERO, _ZERO))
        self.balances[asset] = (_tidy(old_free + free), _tidy(old_locked + locked))


def _floor(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a multiple of ``step`` (never below 0)."""
    if value <= _ZERO:
        return _ZERO
    return (value // step) * step


def _client_id(order_id: int, purpose: str = "new") -> str:
    """A 22-character client order id, as venues generate them (deterministic here)."""
    return hashlib.sha256(f"{purpose} {order_id}".encode()).hexdigest()[:22]
