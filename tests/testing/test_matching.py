"""The venue-neutral matching engine against a MarketSimulator, synchronously."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trio_venues.testing import MarketSimulator, MatchingEngine, OrderRejected, OrderRequest


def _engine(
    usdt: str = "1000000", btc: str = "10"
) -> tuple[MatchingEngine, MarketSimulator, dict[str, tuple[D, D]]]:
    balances = {"BTC": (D(btc), D(0)), "USDT": (D(usdt), D(0))}
    engine = MatchingEngine(balances, clock=lambda: 1_000)
    market = MarketSimulator("BTCUSDT", price="100.00", tick="0.01", seed=3)
    engine.attach(market, "BTC", "USDT", step=D("0.00001"))
    return engine, market, balances


def _bid(engine: MatchingEngine, price: D, quantity: str) -> int:
    order, _ = engine.place(
        OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D(quantity), price=price)
    )
    return order.order_id


def test_others_shrinking_moves_a_resting_order_up() -> None:
    """When others' quantity at the level shrinks (cancellations), the order's queue place
    improves: the next sell fills it after only what is left ahead."""
    engine, market, _ = _engine()
    bid, ahead = market.best_bid()
    order_id = _bid(engine, bid, "1")
    market._set_other("bid", bid, D("0.5"))  # others cancel down to 0.5
    assert market.best_bid() == (bid, D("1.5"))
    engine.take("BTCUSDT", "SELL", D("0.7"))
    assert engine.order("BTCUSDT", order_id).executed == D("0.2")
    assert ahead > D("0.5")


def test_random_book_moves_never_remove_a_resting_order() -> None:
    """The simulator's random level changes keep resting orders' quantity on the book."""
    engine, market, _ = _engine()
    bid, _ = market.best_bid()
    _bid(engine, bid, "2")
    for _ in range(300):
        market.step()
    assert dict(market.bids)[bid] >= D("2")
    assert market.own("bid", bid) == D("2")


def test_own_taker_fills_own_maker_without_prevention() -> None:
    """A sell through one's own resting bid trades with it (self-trade prevention NONE):
    both sides fill and the balances net out exactly."""
    engine, market, balances = _engine()
    bid, _ = market.best_bid()
    better = bid + D("0.01")
    maker = _bid(engine, better, "0.3")
    order, updates = engine.place(OrderRequest("BTCUSDT", "SELL", "MARKET", quantity=D("0.3")))
    assert order.status == "FILLED"
    assert engine.order("BTCUSDT", maker).status == "FILLED"
    assert [u.fill.is_maker for u in updates if u.fill] == [True, False]
    assert balances == {"BTC": (D("10"), D(0)), "USDT": (D("1000000"), D(0))}


def test_market_buy_expires_what_the_balance_cannot_pay() -> None:
    """A market buy by quantity buys what the free quote pays for, in whole steps, and the
    rest expires."""
    engine, market, balances = _engine(usdt="50")
    ask, _ = market.best_ask()
    order, updates = engine.place(OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("5")))
    assert order.status == "EXPIRED"
    assert order.executed == (D("50") / ask) // D("0.00001") * D("0.00001")
    assert balances["USDT"][0] == D("50") - order.executed * ask
    assert updates[-1].execution == "EXPIRED"


def test_quote_order_on_an_empty_side_is_refused() -> None:
    """A market order by quote amount that the book cannot fill at all is refused."""
    engine, market, _ = _engine()
    for price, _ in market.bids:
        market._set("bid", price, D(0))
    with pytest.raises(OrderRejected) as info:
        engine.place(OrderRequest("BTCUSDT", "SELL", "MARKET", quote_quantity=D("10")))
    assert info.value.reason == "no_liquidity"


def test_pending_updates_are_bounded() -> None:
    """Market-made updates beyond MAX_PENDING drop the oldest and are counted."""
    engine, market, _ = _engine()
    engine.MAX_PENDING = 3  # type: ignore[misc]
    bid, _ = market.best_bid()
    better = bid + D("0.01")
    for _ in range(5):
        _bid(engine, better, "0.00001")
    engine.take("BTCUSDT", "SELL", D("0.00005"))
    assert len(engine.pending) == 3
    assert engine.dropped == 2
