"""Order entry on the fake Binance WS API: every trading method, the matching rules, the
refusals in Binance's codes and words, and the executionReport/outboundAccountPosition
events on the user data stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal as D
from typing import Any

import pytest
import trio

from trio_venues.errors import AuthenticationError, VenueError
from trio_venues.events import Message
from trio_venues.testing.binance import ed25519_test_key, hmac_test_key
from trio_venues.venues.binance import AccountPosition, ExecutionReport

from ._helpers import Fake, api


@asynccontextmanager
async def trader(fake: Fake, *, logon: bool = True) -> AsyncIterator[Any]:
    """A WS-API connection subscribed to user data: logged on (Ed25519) or signing (HMAC)."""
    key = ed25519_test_key() if logon else hmac_test_key()
    async with api(fake, signer=key.signer(), logon=logon) as ws:
        await ws.subscribe_user_data()
        yield ws


async def user_events(ws: Any, count: int) -> list[Any]:
    """The next ``count`` user-data events (other events skipped)."""
    out: list[Any] = []
    async for event in ws.events:
        if isinstance(event, Message) and event.topic == "userData":
            out.append(event.data.event)
            if len(out) == count:
                break
    return out


def reports(events: list[Any]) -> list[tuple[str, str, D]]:
    """(execution type, order status, last executed quantity) of each executionReport."""
    return [
        (e.execution_type, e.order_status, e.last_executed_quantity)
        for e in events
        if isinstance(e, ExecutionReport)
    ]


async def refusal(call: Any) -> tuple[int | None, str]:
    """The Binance code and message of a refused request."""
    with pytest.raises(VenueError) as info:
        await call
    return info.value.code, info.value.message  # type: ignore[return-value]


# -- order.test --------------------------------------------------------------------------


async def test_order_test_checks_without_placing(fake: Fake, autojump_clock: Any) -> None:
    """order.test answers {} for a valid order and places nothing (no balance needed)."""
    async with trader(fake) as ws:
        assert await ws.test_order("BTCUSDT", "BUY", "MARKET", quantity="100") == {}
        assert await ws.open_orders("BTCUSDT") == []
        assert fake.behaviour.engine.next_order_id == 1


async def test_order_test_computes_commission_rates(fake: Fake, autojump_clock: Any) -> None:
    """order.test with computeCommissionRates answers the commission structure."""
    fake.behaviour.engine.commission_rate = D("0.001")
    async with trader(fake) as ws:
        result = await ws.test_order(
            "BTCUSDT",
            "SELL",
            "LIMIT",
            quantity="0.1",
            price="70000",
            time_in_force="GTC",
            compute_commission_rates=True,
        )
    assert result["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (
            {"side": "BUY", "type": "LIMIT", "quantity": "0.1", "timeInForce": "GTC"},
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        (
            {"side": "BUY", "type": "LIMIT", "quantity": "0.1", "price": "60000"},
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            {"side": "BUY", "type": "MARKET"},
            -1102,
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "0.1", "timeInForce": "GTC"},
            -1106,
            "Parameter 'timeInForce' sent when not required.",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "0.1", "price": "1"},
            -1106,
            "Parameter 'price' sent when not required.",
        ),
        (
            {"side": "HOLD", "type": "MARKET", "quantity": "0.1"},
            -1117,
            "Invalid side.",
        ),
        (
            {"side": "BUY", "type": "ICEBERG", "quantity": "0.1"},
            -1116,
            "Invalid orderType.",
        ),
        (
            {"side": "BUY", "type": "STOP_LOSS", "quantity": "0.1", "stopPrice": "1"},
            -2010,
            "Stop loss orders are not supported for this symbol.",
        ),
        (
            {
                "side": "BUY",
                "type": "LIMIT",
                "quantity": "0.1",
                "price": "60000",
                "timeInForce": "GTD",
            },
            -1115,
            "Invalid timeInForce.",
        ),
        (
            {
                "side": "BUY",
                "type": "LIMIT",
                "quantity": "0.1",
                "price": "60000.005",
                "timeInForce": "GTC",
            },
            -1013,
            "Filter failure: PRICE_FILTER",
        ),
        (
            {
                "side": "BUY",
                "type": "LIMIT",
                "quantity": "0.000001",
                "price": "60000",
                "timeInForce": "GTC",
            },
            -1013,
            "Filter failure: LOT_SIZE",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "1e-3"},
            -1100,
            "Illegal characters found in parameter 'quantity'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ),
        (
            {"symbol": "DOGEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"},
            -1121,
            "Invalid symbol.",
        ),
    ],
)
async def test_order_refusals_use_binance_codes(
    fake: Fake, autojump_clock: Any, params: dict[str, Any], code: int, message: str
) -> None:
    """Bad order parameters are refused with Binance's code and message (order.test and
    order.place alike), and nothing is placed."""
    full = {"symbol": "BTCUSDT", **params}
    async with trader(fake) as ws:
        for method in ("order.test", "order.place"):
            assert await refusal(ws._user_request(method, full, None)) == (code, message)
        assert fake.behaviour.engine.open_orders() == []


# -- signatures and the log-on ------------------------------------------------------------


async def test_orders_need_a_signature_or_a_logon(fake: Fake, autojump_clock: Any) -> None:
    """Without apiKey/signature and no log-on order.place is refused (-1102 apiKey); a bad
    signature is AuthenticationError; HMAC-signed requests work without a log-on."""
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    async with api(fake, signer=hmac_test_key().signer()) as ws:
        code, message = await refusal(ws.request("order.place", {**params, "timestamp": 1}))
        assert (code, message) == (
            -1102,
            "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.",
        )
        forged = {**params, "apiKey": hmac_test_key().api_key, "timestamp": ws._clock()}
        with pytest.raises(AuthenticationError):
            await ws.request("order.place", {**forged, "signature": "00" * 32})
        placed = await ws.place_order("BTCUSDT", "BUY", "MARKET", quantity="0.001")
        assert placed.status == "FILLED"


# -- order.place: resting, matching, time in force ----------------------------------------


async def test_resting_limit_order_locks_and_joins_the_book(
    fake: Fake, autojump_clock: Any
) -> None:
    """A GTC buy below the ask rests: NEW, its cost locked, its quantity added to the
    book's level (depth shows it), NEW executionReport then outboundAccountPosition."""
    market = fake.behaviour.market("BTCUSDT")
    bid, bid_qty = market.best_bid()
    async with trader(fake) as ws:
        placed = await ws.place_order(
            "BTCUSDT",
            "BUY",
            "LIMIT",
            quantity=D("0.1"),
            price=bid,
            time_in_force="GTC",
            client_order_id="mine1",
        )
        assert (placed.status, placed.client_order_id, placed.fills) == ("NEW", "mine1", ())
        assert market.best_bid() == (bid, bid_qty + D("0.1"))
        depth = await ws.depth("BTCUSDT", limit=5)
        assert depth.decimal_bids()[0] == (bid, bid_qty + D("0.1"))
        new, position = await user_events(ws, 2)
        cost = bid * D("0.1")
        assert isinstance(new, ExecutionReport)
        assert (new.execution_type, new.order_status, new.client_order_id) == (
            "NEW",
            "NEW",
            "mine1",
        )
        assert (new.price, new.quantity, new.is_on_book) == (bid, D("0.1"), True)
        assert isinstance(position, AccountPosition)
        ((asset, free, locked),) = [(b.asset, b.free, b.locked) for b in position.balances]
        assert (asset, free, locked) == ("USDT", D("10000") - cost, cost)
        (open_,) = await ws.open_orders("BTCUSDT")
        assert (open_.order_id, open_.status, open_.is_working) == (placed.order_id, "NEW", True)


async def test_price_time_priority_fills_the_queue_ahead_first(
    fake: Fake, autojump_clock: Any
) -> None:
    """A resting bid fills only after the quantity ahead of it at its price: a seller taking
    the level's earlier quantity plus 0.04 fills 0.04 of it (PARTIALLY_FILLED, maker)."""
    market = fake.behaviour.market("BTCUSDT")
    bid, ahead = market.best_bid()
    async with trader(fake) as ws:
        placed = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.1", price=bid, time_in_force="GTC"
        )
        await user_events(ws, 2)
        await fake.behaviour.take("BTCUSDT", "SELL", ahead - D("0.01"))
        assert (await ws.order_status("BTCUSDT", placed.order_id)).executed_quantity == 0
        await fake.behaviour.take("BTCUSDT", "SELL", D("0.05"))
        trade, position = await user_events(ws, 2)
        assert (trade.execution_type, trade.order_status) == ("TRADE", "PARTIALLY_FILLED")
        assert (trade.last_executed_quantity, trade.last_executed_price) == (D("0.04"), bid)
        assert (trade.is_maker, trade.cumulative_filled_quantity) == (True, D("0.04"))
        assert trade.cumulative_quote_quantity == bid * D("0.04")
        assert trade.trade_id == market.trade_id
        assert {b.asset: (b.free, b.locked) for b in position.balances} == {
            "BTC": (D("1.54"), D(0)),
            "USDT": (D("10000") - bid * D("0.1"), bid * D("0.06")),
        }
        status = await ws.order_status("BTCUSDT", placed.order_id)
        assert (status.status, status.executed_quantity) == ("PARTIALLY_FILLED", D("0.04"))


async def test_two_resting_orders_fill_in_time_order(fake: Fake, autojump_clock: Any) -> None:
    """Two bids at one price: a sweep fills the earlier one first, then the later one."""
    market = fake.behaviour.market("BTCUSDT")
    bid, ahead = market.best_bid()
    async with trader(fake) as ws:
        first = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.02", price=bid, time_in_force="GTC"
        )
        second = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.02", price=bid, time_in_force="GTC"
        )
        await fake.behaviour.take("BTCUSDT", "SELL", ahead + D("0.03"))
        one = await ws.order_status("BTCUSDT", first.order_id)
        two = await ws.order_status("BTCUSDT", second.order_id)
        assert (one.status, one.executed_quantity) == ("FILLED", D("0.02"))
        assert (two.status, two.executed_quantity) == ("PARTIALLY_FILLED", D("0.01"))


async def test_marketable_limit_sweeps_levels_best_first(fake: Fake, autojump_clock: Any) -> None:
    """A buy limit above the ask takes each ask level up to its limit, best price first,
    one fill per level (FULL fills), pays each level's price and gets the rest back."""
    market = fake.behaviour.market("BTCUSDT")
    asks = market.asks[:3]
    quantity = asks[0][1] + asks[1][1] + D("0.001")
    limit = asks[2][0]
    fake.behaviour.balances["USDT"] = (D("1000000"), D(0))
    async with trader(fake) as ws:
        placed = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity=quantity, price=limit, time_in_force="GTC"
        )
        assert placed.status == "FILLED"
        assert [(f.price, f.quantity) for f in placed.fills] == [
            (asks[0][0], asks[0][1]),
            (asks[1][0], asks[1][1]),
            (asks[2][0], D("0.001")),
        ]
        paid = sum((f.price * f.quantity for f in placed.fills), D(0))
        assert placed.cumulative_quote_quantity == paid
        assert fake.behaviour.balances["USDT"] == (D("1000000") - paid, D(0))
        assert fake.behaviour.balances["BTC"] == (D("1.5") + quantity, D(0))
        assert market.best_ask() == (asks[2][0], asks[2][1] - D("0.001"))
        events = reports(await user_events(ws, 8))
        assert [e[:2] for e in events] == [
            ("NEW", "NEW"),
            ("TRADE", "PARTIALLY_FILLED"),
            ("TRADE", "PARTIALLY_FILLED"),
            ("TRADE", "FILLED"),
        ]


async def test_ioc_expires_the_rest_and_fok_all_or_nothing(fake: Fake, autojump_clock: Any) -> None:
    """IOC fills what the book holds within its limit and expires the rest; FOK expires
    unfilled (nothing moves) unless the whole quantity is there, then fills."""
    market = fake.behaviour.market("BTCUSDT")
    ask, ask_qty = market.best_ask()
    fake.behaviour.balances["USDT"] = (D("10000000"), D(0))
    before = dict(fake.behaviour.balances)
    async with trader(fake) as ws:
        fok = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity=ask_qty + D("0.001"), price=ask, time_in_force="FOK"
        )
        assert (fok.status, fok.executed_quantity, fok.fills) == ("EXPIRED", D(0), ())
        assert fake.behaviour.balances == before
        assert market.best_ask() == (ask, ask_qty)
        ioc = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity=ask_qty + D("0.001"), price=ask, time_in_force="IOC"
        )
        assert (ioc.status, ioc.executed_quantity) == ("EXPIRED", ask_qty)
        assert fake.behaviour.balances["USDT"] == (before["USDT"][0] - ask * ask_qty, D(0))
        events = reports(await user_events(ws, 7))
        assert [e[:2] for e in events] == [
            ("NEW", "NEW"),
            ("EXPIRED", "EXPIRED"),
            ("NEW", "NEW"),
            ("TRADE", "PARTIALLY_FILLED"),
            ("EXPIRED", "EXPIRED"),
        ]
        ask2, qty2 = market.best_ask()
        fok = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity=qty2, price=ask2, time_in_force="FOK"
        )
        assert (fok.status, fok.executed_quantity) == ("FILLED", qty2)


async def test_market_orders_by_quantity_and_by_quote(fake: Fake, autojump_clock: Any) -> None:
    """MARKET sells a base quantity at the bids; MARKET with quoteOrderQty buys as much as
    the quote amount pays for (in steps of the lot size), never more."""
    market = fake.behaviour.market("BTCUSDT")
    bid, _ = market.best_bid()
    async with trader(fake) as ws:
        sold = await ws.place_order("BTCUSDT", "SELL", "MARKET", quantity="0.001")
        assert (sold.status, sold.fills[0].price, sold.executed_quantity) == (
            "FILLED",
            bid,
            D("0.001"),
        )
        ask, _ = market.best_ask()
        bought = await ws.place_order("BTCUSDT", "BUY", "MARKET", quote_quantity="100")
        assert bought.status == "FILLED"
        assert bought.executed_quantity == (D("100") / ask) // D("0.00001") * D("0.00001")
        assert bought.cumulative_quote_quantity <= D("100")


async def test_limit_maker_would_take_is_refused(fake: Fake, autojump_clock: Any) -> None:
    """LIMIT_MAKER at or through the ask is refused (-2010 "would immediately match"); below
    it rests, answered with ACK (Binance's default for that type)."""
    market = fake.behaviour.market("BTCUSDT")
    ask, _ = market.best_ask()
    async with trader(fake) as ws:
        assert await refusal(
            ws.place_order("BTCUSDT", "BUY", "LIMIT_MAKER", quantity="0.01", price=ask)
        ) == (-2010, "Order would immediately match and take.")
        ack = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT_MAKER", quantity="0.01", price=ask - market.tick
        )
        assert (ack.status, ack.transact_time is not None) == (None, True)
        assert (await ws.order_status("BTCUSDT", ack.order_id)).status == "NEW"


async def test_balance_and_duplicate_refusals_send_no_event(
    fake: Fake, autojump_clock: Any
) -> None:
    """Insufficient balance (-2010) and a duplicate open client id (-2010) change nothing
    and send no executionReport (Binance reports refusals only in the answer)."""
    market = fake.behaviour.market("BTCUSDT")
    bid, _ = market.best_bid()
    async with trader(fake) as ws:
        assert await refusal(
            ws.place_order("BTCUSDT", "BUY", "LIMIT", quantity="1", price=bid, time_in_force="GTC")
        ) == (-2010, "Account has insufficient balance for requested action.")
        assert await refusal(ws.place_order("BTCUSDT", "SELL", "MARKET", quantity="2")) == (
            -2010,
            "Account has insufficient balance for requested action.",
        )
        await ws.place_order(
            "BTCUSDT",
            "BUY",
            "LIMIT",
            quantity="0.01",
            price=bid,
            time_in_force="GTC",
            client_order_id="dup",
        )
        assert await refusal(
            ws.place_order(
                "BTCUSDT",
                "BUY",
                "LIMIT",
                quantity="0.01",
                price=bid,
                time_in_force="GTC",
                client_order_id="dup",
            )
        ) == (-2010, "Duplicate order sent.")
        assert fake.behaviour.engine.next_order_id == 2
        events = await user_events(ws, 2)
        assert reports(events) == [("NEW", "NEW", D(0))]


# -- cancel, status, open orders -----------------------------------------------------------


async def test_cancel_releases_the_rest_and_reports_canceled(
    fake: Fake, autojump_clock: Any
) -> None:
    """order.cancel by client id: CANCELED with the new client id, the old one in
    origClientOrderId and executionReport C; the lock is released; the book level shrinks."""
    market = fake.behaviour.market("BTCUSDT")
    bid, bid_qty = market.best_bid()
    async with trader(fake) as ws:
        await ws.place_order(
            "BTCUSDT",
            "BUY",
            "LIMIT",
            quantity="0.1",
            price=bid,
            time_in_force="GTC",
            client_order_id="c1",
        )
        await user_events(ws, 2)
        cancelled = await ws.cancel_order(
            "BTCUSDT", client_order_id="c1", new_client_order_id="c1-cancel"
        )
        assert (cancelled.status, cancelled.client_order_id) == ("CANCELED", "c1-cancel")
        assert cancelled.original_client_order_id == "c1"
        assert market.best_bid() == (bid, bid_qty)
        assert fake.behaviour.balances["USDT"] == (D("10000"), D(0))
        report, position = await user_events(ws, 2)
        assert (report.execution_type, report.client_order_id) == ("CANCELED", "c1-cancel")
        assert report.original_client_order_id == "c1"
        assert [(b.asset, b.free, b.locked) for b in position.balances] == [
            ("USDT", D("10000"), D(0))
        ]
        assert await refusal(ws.cancel_order("BTCUSDT", cancelled.order_id)) == (
            -2011,
            "Unknown order sent.",
        )
        status = await ws.order_status("BTCUSDT", cancelled.order_id)
        assert (status.status, status.is_working) == ("CANCELED", True)


async def test_unknown_orders_and_missing_ids(fake: Fake, autojump_clock: Any) -> None:
    """order.cancel of an unknown order: -2011; order.status: -2013 "Order does not exist.";
    neither orderId nor origClientOrderId: -1102; a mismatched pair: unknown."""
    async with trader(fake) as ws:
        assert await refusal(ws.cancel_order("BTCUSDT", 999)) == (-2011, "Unknown order sent.")
        assert await refusal(ws.order_status("BTCUSDT", 999)) == (-2013, "Order does not exist.")
        assert await refusal(ws._user_request("order.cancel", {"symbol": "BTCUSDT"}, None)) == (
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
        placed = await ws.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.01", price="70000", time_in_force="GTC"
        )
        assert await refusal(
            ws.order_status("BTCUSDT", placed.order_id, client_order_id="other")
        ) == (-2013, "Order does not exist.")


async def test_open_orders_and_cancel_all(fake: Fake, autojump_clock: Any) -> None:
    """openOrders.status lists the open orders (of one symbol or all); openOrders.cancelAll
    cancels a symbol's, oldest first; with none left it answers -2011."""
    async with trader(fake) as ws:
        a = await ws.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.01", price="70000", time_in_force="GTC"
        )
        b = await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.01", price="60000", time_in_force="GTC"
        )
        c = await ws.place_order(
            "ETHUSDT", "BUY", "LIMIT", quantity="0.1", price="2000", time_in_force="GTC"
        )
        assert [o.order_id for o in await ws.open_orders("BTCUSDT")] == [a.order_id, b.order_id]
        assert [o.order_id for o in await ws.open_orders()] == [a.order_id, b.order_id, c.order_id]
        cancelled = await ws.cancel_open_orders("BTCUSDT")
        assert [(o.order_id, o.status) for o in cancelled] == [
            (a.order_id, "CANCELED"),
            (b.order_id, "CANCELED"),
        ]
        assert [o.order_id for o in await ws.open_orders()] == [c.order_id]
        assert await refusal(ws.cancel_open_orders("BTCUSDT")) == (-2011, "Unknown order sent.")


async def test_cancel_restrictions(fake: Fake, autojump_clock: Any) -> None:
    """cancelRestrictions ONLY_PARTIALLY_FILLED refuses to cancel a NEW order (-2011)."""
    async with trader(fake) as ws:
        placed = await ws.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.01", price="70000", time_in_force="GTC"
        )
        params = {
            "symbol": "BTCUSDT",
            "orderId": placed.order_id,
            "cancelRestrictions": "ONLY_PARTIALLY_FILLED",
        }
        assert await refusal(ws._user_request("order.cancel", params, None)) == (
            -2011,
            "Order was not canceled due to cancel restrictions.",
        )
        params["cancelRestrictions"] = "ONLY_NEW"
        assert (await ws._user_request("order.cancel", params, None))["status"] == "CANCELED"


async def test_account_status_shows_the_locked_balance(fake: Fake, autojump_clock: Any) -> None:
    """account.status reports free and locked balances exactly as the orders left them."""
    async with trader(fake, logon=False) as ws:
        await ws.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.25", price="70000", time_in_force="GTC"
        )
        account = await ws.account_status()
    balances = {b["asset"]: (b["free"], b["locked"]) for b in account["balances"]}
    assert balances["BTC"] == ("1.25000000", "0.25000000")


# -- fills made by the market ----------------------------------------------------------------


async def test_simulated_trades_fill_resting_orders(fake: Fake, autojump_clock: Any) -> None:
    """Trades the simulator makes for the trade stream hit resting orders too: the fills
    arrive on the user data stream without any request."""
    market = fake.behaviour.market("BTCUSDT")
    bid, _ = market.best_bid()
    ask, _ = market.best_ask()
    async with trader(fake) as ws:
        # Alone at better prices on both sides: the next trades are ours.
        await ws.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.01", price=bid + market.tick, time_in_force="GTC"
        )
        await ws.place_order(
            "BTCUSDT",
            "SELL",
            "LIMIT",
            quantity="0.01",
            price=ask - market.tick,
            time_in_force="GTC",
        )
        await user_events(ws, 4)
        for _ in range(4):
            market.trade(fake.behaviour.clock())
        with trio.fail_after(5):
            events = await user_events(ws, 2)
        (trade,) = reports(events)
        assert trade[0] == "TRADE"
        assert trade[2] > 0
