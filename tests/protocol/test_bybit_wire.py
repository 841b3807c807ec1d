"""Bybit wire models: every recorded sample decodes to exact values; bad input is refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from trio_venues.venues.bybit import (
    AllLiquidation,
    AllLiquidationMessage,
    BookData,
    CommandResponse,
    CommandResult,
    Execution,
    ExecutionMessage,
    Kline,
    KlineMessage,
    LinearTicker,
    Liquidation,
    LiquidationMessage,
    MaintenanceNotice,
    OpResponse,
    OptionTicker,
    Order,
    OrderbookMessage,
    OrderMessage,
    Position,
    PositionMessage,
    SpotTicker,
    SpreadTicker,
    SystemStatusMessage,
    TickerMessage,
    Trade,
    TradeMessage,
    TradeResponse,
    UnknownMessage,
    WalletMessage,
    decode_message,
    ticker_type,
)

DATA = Path(__file__).parent / "data" / "bybit"
D = Decimal


def sample_text(name: str, *, compact: bool = True) -> str:
    """A recorded sample (copied from the venue docs' examples) as a frame's text."""
    text = (DATA / f"{name}.json").read_text(encoding="utf-8")
    # Bybit sends compact JSON; the samples are pretty-printed for reading.
    return json.dumps(json.loads(text), separators=(",", ":")) if compact else text


def decode(name: str, category: str = "spot", *, compact: bool = True) -> Any:
    """Decode one sample as a ``category`` connection would."""
    return decode_message(sample_text(name, compact=compact), category)


# -- public market data -----------------------------------------------------------------


@pytest.mark.parametrize("compact", [True, False])
def test_trade_sample_decodes_to_exact_values(compact: bool) -> None:
    """publicTrade decodes with Decimal price/size, taker side, tick direction and seq."""
    assert decode("trade", "linear", compact=compact) == TradeMessage(
        topic="publicTrade.BTCUSDT",
        type="snapshot",
        ts=1672304486868,
        trades=(
            Trade(
                time=1672304486865,
                symbol="BTCUSDT",
                side="Buy",
                size=D("0.001"),
                price=D("16578.50"),
                tick_direction="PlusTick",
                trade_id="20f43950-d8dd-5b31-9112-a178eb6023af",
                block_trade=False,
                seq=1783284617,
            ),
        ),
    )


def test_trade_price_keeps_its_exact_text() -> None:
    """A trade price keeps Bybit's trailing zeros (exact Decimal, never a float)."""
    trade = decode("trade").trades[0]
    assert str(trade.price) == "16578.50"
    assert type(trade.price) is Decimal


@pytest.mark.parametrize("compact", [True, False])
def test_orderbook_snapshot_decodes_with_exact_string_levels(compact: bool) -> None:
    """An orderbook snapshot keeps its levels as Bybit's strings; u, seq and cts are exact."""
    message = decode("orderbook_snapshot", compact=compact)
    assert message == OrderbookMessage(
        topic="orderbook.50.BTCUSDT",
        type="snapshot",
        ts=1672304484978,
        cts=1672304484976,
        book=BookData(
            symbol="BTCUSDT",
            bids=(("16493.50", "0.006"), ("16493.00", "0.100")),
            asks=(("16611.00", "0.029"), ("16612.00", "0.213")),
            update_id=18521288,
            seq=7961638724,
        ),
    )
    assert message.is_snapshot
    assert (message.symbol, message.update_id, message.seq) == ("BTCUSDT", 18521288, 7961638724)
    assert message.bids[0] == ("16493.50", "0.006")
    assert message.asks[-1] == ("16612.00", "0.213")


def test_orderbook_delta_decodes_deletions_as_zero_sizes() -> None:
    """A delta's zero sizes (deletions) stay as "0"; every level is in order."""
    message = decode("orderbook_delta", "linear")
    assert not message.is_snapshot
    assert message.update_id == 177400507
    assert message.seq == 66544703342
    assert message.cts == 1687940967464
    assert message.bids == (
        ("30247.20", "30.028"),
        ("30245.40", "0.224"),
        ("30242.10", "1.593"),
        ("30240.30", "1.305"),
        ("30240.00", "0"),
    )
    assert [size for _, size in message.asks] == [
        "0",
        "0.892",
        "1.778",
        "0",
        "2.947",
        "0.659",
        "4.591",
    ]


def test_kline_sample_decodes_to_exact_values() -> None:
    """A kline message decodes every candle field; confirm says whether it closed."""
    assert decode("kline") == KlineMessage(
        topic="kline.5.BTCUSDT",
        type="snapshot",
        ts=1672324988882,
        klines=(
            Kline(
                start=1672324800000,
                end=1672325099999,
                interval="5",
                open=D("16649.5"),
                close=D("16677"),
                high=D("16677"),
                low=D("16608"),
                volume=D("2.081"),
                turnover=D("34666.4005"),
                confirm=False,
                timestamp=1672324988882,
            ),
        ),
    )


def test_spot_ticker_sample_decodes_to_exact_values() -> None:
    """A spot ticker decodes into SpotTicker with its cross sequence."""
    assert decode("ticker_spot", "spot") == TickerMessage(
        topic="tickers.BTCUSDT",
        ts=1673853746003,
        type="snapshot",
        cs=2588407389,
        ticker=SpotTicker(
            symbol="BTCUSDT",
            last_price=D("21109.77"),
            high_price_24h=D("21426.99"),
            low_price_24h=D("20575"),
            prev_price_24h=D("20704.93"),
            volume_24h=D("6780.866843"),
            turnover_24h=D("141946527.22907118"),
            price_24h_pcnt=D("0.0196"),
            usd_index_price=D("21120.2400136"),
        ),
    )


def test_linear_ticker_sample_decodes_with_empty_fields_as_none() -> None:
    """A linear ticker decodes; string integers become ints, "" becomes None."""
    message = decode("ticker_linear", "linear")
    assert message.cs == 9532239429
    assert message.ts == 1760325052630
    assert message.type == "snapshot"
    assert message.ticker == LinearTicker(
        symbol="BTCUSDT",
        tick_direction="MinusTick",
        price_24h_pcnt=D("-0.158315"),
        last_price=D("66666.60"),
        prev_price_24h=D("79206.20"),
        high_price_24h=D("79266.30"),
        low_price_24h=D("65076.90"),
        prev_price_1h=D("66666.60"),
        mark_price=D("66666.60"),
        index_price=D("115418.19"),
        open_interest=D("492373.72"),
        open_interest_value=D("32824881841.75"),
        turnover_24h=D("4936790807.6521"),
        volume_24h=D("73191.3870"),
        funding_interval_hour=8,
        funding_cap=D("0.005"),
        next_funding_time=1760342400000,
        funding_rate=D("-0.005"),
        bid1_price=D("66666.60"),
        bid1_size=D("23789.165"),
        ask1_price=D("66666.70"),
        ask1_size=D("23775.469"),
        pre_open_price=None,
        pre_qty=None,
        cur_pre_listing_phase=None,
    )


def test_option_ticker_sample_decodes_to_exact_values() -> None:
    """An option ticker decodes every greek and its message id."""
    message = decode("ticker_option", "option")
    assert message.id == "tickers.BTC-6JAN23-17500-C-2480334983-1672917511074"
    assert message.cs is None
    assert message.ticker == OptionTicker(
        symbol="BTC-6JAN23-17500-C",
        bid_price=D("0"),
        bid_size=D("0"),
        bid_iv=D("0"),
        ask_price=D("10"),
        ask_size=D("5.1"),
        ask_iv=D("0.514"),
        last_price=D("10"),
        high_price_24h=D("25"),
        low_price_24h=D("5"),
        mark_price=D("7.86976724"),
        index_price=D("16823.73"),
        mark_price_iv=D("0.4896"),
        underlying_price=D("16815.1"),
        open_interest=D("49.85"),
        turnover_24h=D("446802.8473"),
        volume_24h=D("26.55"),
        total_volume=D("86"),
        total_turnover=D("1437431"),
        delta=D("0.047831"),
        gamma=D("0.00021453"),
        vega=D("0.81351067"),
        theta=D("-19.9115368"),
        predicted_delivery_price=D("0"),
        change_24h=D("-0.33333334"),
    )


def test_spread_ticker_decodes_with_an_empty_side() -> None:
    """A spread ticker with no ask ("" price and size) decodes with None for them."""
    text = json.dumps(
        {
            "topic": "tickers.SOLUSDT_SOL/USDT",
            "ts": 1744168585009,
            "type": "snapshot",
            "data": {
                "symbol": "SOLUSDT_SOL/USDT",
                "bidPrice": "20.3359",
                "bidSize": "1.7",
                "askPrice": "",
                "askSize": "",
                "lastPrice": "21.8182",
                "lowPrice24h": "-3",
            },
        }
    )
    message: Any = decode_message(text, "spread")
    assert message.ticker == SpreadTicker(
        symbol="SOLUSDT_SOL/USDT",
        bid_price=D("20.3359"),
        bid_size=D("1.7"),
        last_price=D("21.8182"),
        low_price_24h=D("-3"),
    )


def test_ticker_class_follows_the_category() -> None:
    """Each category has its ticker class; the private stream has none."""
    assert ticker_type("inverse") is LinearTicker
    assert ticker_type("spread") is SpreadTicker
    with pytest.raises(ValueError, match="no tickers"):
        ticker_type("private")


def test_ticker_on_a_connection_without_tickers_is_kept_unknown() -> None:
    """A tickers message on a category without tickers is kept whole, not dropped."""
    message = decode("ticker_spot", "private")
    assert isinstance(message, UnknownMessage)
    assert message.data["topic"] == "tickers.BTCUSDT"


def test_liquidation_messages_decode() -> None:
    """Both liquidation topics decode to exact values."""
    old = decode_message(
        '{"data":{"price":"0.03803","side":"Buy","size":"1637","symbol":"GALAUSDT",'
        '"updatedTime":1673251091822},"topic":"liquidation.GALAUSDT","ts":1673251091822,'
        '"type":"snapshot"}',
        "linear",
    )
    assert old == LiquidationMessage(
        topic="liquidation.GALAUSDT",
        ts=1673251091822,
        liquidation=Liquidation(
            symbol="GALAUSDT",
            side="Buy",
            size=D("1637"),
            price=D("0.03803"),
            updated_time=1673251091822,
        ),
    )
    every = decode_message(
        '{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,'
        '"data":[{"T":1739502302929,"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"}]}',
        "linear",
    )
    assert every == AllLiquidationMessage(
        topic="allLiquidation.ROSEUSDT",
        ts=1739502303204,
        liquidations=(
            AllLiquidation(
                time=1739502302929,
                symbol="ROSEUSDT",
                side="Sell",
                size=D("20000"),
                price=D("0.04499"),
            ),
        ),
    )


def test_system_status_sample_decodes_with_integer_times() -> None:
    """system.status decodes; begin/end (strings on the wire) become integer ms."""
    assert decode("system_status", "status") == SystemStatusMessage(
        topic="system.status",
        ts=1751858399649,
        notices=(
            MaintenanceNotice(
                id="4d95b2a0-587f-11f0-bcc9-56f28c94d6ea",
                title="t06",
                state="completed",
                begin=1751596902000,
                end=1751597011000,
                href="",
                service_types=(2, 3, 4, 5),
                product=(1, 2),
                uid_suffix=(),
                maintain_type=1,
                env=1,
            ),
        ),
    )


# -- private streams ---------------------------------------------------------------------


def _private(topic: str, item: dict[str, Any]) -> str:
    return json.dumps({"id": "m1", "topic": topic, "creationTime": 1672364174455, "data": [item]})


def test_execution_decodes_strings_and_empty_values() -> None:
    """An execution decodes: "" is None, "0" flags are bools, string times are ints."""
    message = decode_message(
        _private(
            "execution",
            {
                "category": "linear",
                "symbol": "XRPUSDT",
                "execFee": "0.005061",
                "execId": "7e2ae69c-4edf-5800-a352-893d52b446aa",
                "execPrice": "0.3374",
                "execQty": "25",
                "execType": "Trade",
                "execValue": "8.435",
                "isMaker": False,
                "feeRate": "0.0006",
                "tradeIv": "",
                "markIv": "",
                "blockTradeId": "",
                "markPrice": "0.3391",
                "indexPrice": "",
                "underlyingPrice": "",
                "leavesQty": "0",
                "orderId": "f6e324ff-99c2-4e89-9739-3086e47f9381",
                "orderLinkId": "",
                "orderPrice": "0.3207",
                "orderQty": "25",
                "orderType": "Market",
                "stopOrderType": "UNKNOWN",
                "side": "Sell",
                "execTime": "1672364174443",
                "isLeverage": "0",
            },
        ),
        "private",
    )
    assert message == ExecutionMessage(
        id="m1",
        topic="execution",
        creation_time=1672364174455,
        executions=(
            Execution(
                category="linear",
                symbol="XRPUSDT",
                exec_id="7e2ae69c-4edf-5800-a352-893d52b446aa",
                order_id="f6e324ff-99c2-4e89-9739-3086e47f9381",
                side="Sell",
                order_type="Market",
                stop_order_type="UNKNOWN",
                exec_type="Trade",
                exec_price=D("0.3374"),
                exec_qty=D("25"),
                exec_value=D("8.435"),
                exec_fee=D("0.005061"),
                fee_rate=D("0.0006"),
                order_price=D("0.3207"),
                order_qty=D("25"),
                leaves_qty=D("0"),
                is_maker=False,
                is_leverage=False,
                mark_price=D("0.3391"),
                exec_time=1672364174443,
            ),
        ),
    )


def test_order_position_and_wallet_decode() -> None:
    """Order, position and wallet updates decode with exact Decimals."""
    order = decode_message(
        _private(
            "order",
            {
                "category": "spot",
                "symbol": "BTCUSDT",
                "orderId": "1",
                "side": "Buy",
                "orderType": "Limit",
                "orderStatus": "New",
                "price": "72.5",
                "qty": "1",
                "avgPrice": "",
                "reduceOnly": False,
                "positionIdx": 0,
                "createdTime": "1672364262444",
            },
        ),
        "private",
    )
    assert isinstance(order, OrderMessage)
    assert order.orders == (
        Order(
            category="spot",
            symbol="BTCUSDT",
            order_id="1",
            side="Buy",
            order_type="Limit",
            order_status="New",
            price=D("72.5"),
            qty=D("1"),
            reduce_only=False,
            position_idx=0,
            created_time=1672364262444,
        ),
    )
    position = decode_message(
        _private(
            "position",
            {
                "symbol": "BTCUSDT",
                "side": "",
                "size": "0",
                "positionIM": "0",
                "bustPrice": "",
                "seq": 8327597863,
                "isReduceOnly": False,
                "category": "linear",
            },
        ),
        "private",
    )
    assert isinstance(position, PositionMessage)
    assert position.positions == (
        Position(
            category="linear",
            symbol="BTCUSDT",
            size=D("0"),
            position_im=D("0"),
            seq=8327597863,
            is_reduce_only=False,
        ),
    )
    wallet = decode_message(
        _private(
            "wallet",
            {
                "accountType": "UNIFIED",
                "accountLTV": "0.017",
                "totalPerpUPL": "-2.62129051",
                "coin": [{"coin": "USDT", "equity": "11726.64664904", "accruedInterest": ""}],
            },
        ),
        "private",
    )
    assert isinstance(wallet, WalletMessage)
    (account,) = wallet.wallets
    assert account.account_ltv == D("0.017")
    assert account.total_perp_upl == D("-2.62129051")
    assert account.coins[0].coin == "USDT"
    assert account.coins[0].equity == D("11726.64664904")
    assert account.coins[0].accrued_interest is None


# -- acks, pongs, errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "category", "expected"),
    [
        (
            "subscribe_ack_public_spot",
            "spot",
            OpResponse(
                op="subscribe",
                success=True,
                ret_msg="subscribe",
                conn_id="2324d924-aa4d-45b0-a858-7b8be29ab52b",
                req_id="10001",
            ),
        ),
        (
            "subscribe_ack_public_linear",
            "linear",
            OpResponse(
                op="subscribe",
                success=True,
                ret_msg="",
                conn_id="3cd84cb1-4d06-4a05-930a-2efe5fc70f0f",
                req_id="",
            ),
        ),
        (
            "subscribe_ack_private",
            "private",
            OpResponse(op="subscribe", success=True, conn_id="cejreassvfrsfvb9v1a0-2m"),
        ),
        (
            "auth_ack",
            "private",
            OpResponse(op="auth", success=True, conn_id="cejreaspqfh3sjdnldmg-p"),
        ),
        (
            "error_auth_params",
            "private",
            OpResponse(
                op="auth",
                success=False,
                ret_msg="Params Error",
                conn_id="cldfn8fcgepd64b9hgg0-o8uhe",
            ),
        ),
        (
            "error_subscribe_handler_not_found",
            "linear",
            OpResponse(
                op="subscribe",
                success=False,
                ret_msg="error:handler not found,topic:dcp.future",
                conn_id="d9jhogatbetvf6evjmc0-8eoj",
                req_id="dcp.future",
            ),
        ),
        (
            "subscribe_ack_option_spread",
            "option",
            CommandResponse(
                type="COMMAND_RESP",
                success=True,
                conn_id="aa01fbfffe80af37-00000001-000b37b9-7147f432704fd28c-00e1c172",
                result=CommandResult(
                    success_topics=("orderbook.100.BTC-6JAN23-18000-C",), fail_topics=()
                ),
            ),
        ),
        (
            "trade_ws_auth_ack",
            "trade",
            TradeResponse(op="auth", ret_code=0, ret_msg="OK", conn_id="cnt5leec0hvan15eukcg-2t"),
        ),
    ],
)
def test_ack_and_error_samples_decode(name: str, category: str, expected: Any) -> None:
    """Every ack and error shape decodes to its exact typed reply."""
    assert decode(name, category) == expected


@pytest.mark.parametrize(
    ("name", "category", "args"),
    [
        ("pong_public_spot", "spot", ()),
        ("pong_public_linear", "linear", ()),
        ("pong_option_spread", "option", ("1672916271846",)),
        ("pong_private", "private", ("1675418560633",)),
    ],
)
def test_every_stream_pong_shape_is_recognised(
    name: str, category: str, args: tuple[str, ...]
) -> None:
    """Spot, linear, option/spread and private pongs all read as pongs."""
    message = decode(name, category)
    assert isinstance(message, OpResponse)
    assert message.is_pong
    assert message.args == args


def test_trade_endpoint_pong_and_order_reply_decode() -> None:
    """The order-entry pong and an order.create reply decode with the camelCase envelope."""
    pong = decode("trade_ws_pong", "trade")
    assert pong == TradeResponse(
        op="pong",
        ret_code=0,
        ret_msg="OK",
        data=["1711002002529"],
        conn_id="cnt5leec0hvan15eukcg-2v",
    )
    reply = decode_message(
        json.dumps(
            {
                "reqId": "test-005",
                "retCode": 0,
                "retMsg": "OK",
                "op": "order.create",
                "data": {"orderId": "a4c1718e", "orderLinkId": ""},
                "header": {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"},
                "connId": "cnt5leec0hvan15eukcg-2v",
            }
        ),
        "trade",
    )
    assert reply == TradeResponse(
        op="order.create",
        ret_code=0,
        ret_msg="OK",
        req_id="test-005",
        data={"orderId": "a4c1718e", "orderLinkId": ""},
        header={"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"},
        conn_id="cnt5leec0hvan15eukcg-2v",
    )


def test_subscribe_ack_is_not_a_pong() -> None:
    """An ack with op subscribe is not mistaken for a pong."""
    assert not decode("subscribe_ack_public_spot").is_pong


# -- unknown and malformed input ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"topic":"greeks","data":[]}',
        '{"topic":"publicTradeX.BTC","data":[]}',
        '{"hello":"world"}',
    ],
)
def test_unknown_messages_are_kept_whole(text: str) -> None:
    """A topic or shape this version does not know is kept as UnknownMessage."""
    message = decode_message(text, "linear")
    assert message == UnknownMessage(json.loads(text))


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (
            '{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":1,"s":"X","S":"Buy",'
            '"v":"1","p":true,"i":"a"}]}',
            "$.data[0].p",
        ),
        (
            '{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":1,"s":"X","S":"Buy",'
            '"v":"1","p":"abc","i":"a"}]}',
            "$.data[0].p",
        ),
        (
            '{"topic":"orderbook.1.X","ts":1,"type":"delta","data":{"s":"X","b":[["1"]],"a":[],"u":2}}',
            "$.data.b[0]",
        ),
        ('{"topic":"kline.1.X","ts":1,"data":[{"start":1}]}', "$.data[0]"),
        ('{"ts":1,"topic":"publicTrade.BTCUSDT","data":[{"T":"1"}]}', "$.data[0].T"),
    ],
)
def test_malformed_known_messages_name_the_field(text: str, path: str) -> None:
    """A known message with a wrong or missing field fails with msgspec's path to it."""
    with pytest.raises(msgspec.ValidationError, match=path.replace("[", r"\[").replace("$", r"\$")):
        decode_message(text, "spot")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e999"])
@pytest.mark.parametrize("category", ["spot", "linear"])
def test_non_finite_or_huge_prices_are_refused(value: str, category: str) -> None:
    """NaN, infinities and absurd exponents are refused on both decode paths, naming the field."""
    trade = (
        '{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":1,"s":"X",'
        f'"S":"Buy","v":"1","p":"{value}","i":"a"}}]}}'
    )
    with pytest.raises(ValueError, match="data"):
        decode_message(trade, category)
    ticker = json.dumps(
        {"topic": "tickers.X", "ts": 1, "data": {"symbol": "X", "lastPrice": value}}
    )
    with pytest.raises(ValueError, match="lastPrice"):
        decode_message(ticker, category)


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "", '{"topic":"publicTrade.X"'])
def test_garbage_is_refused(text: str) -> None:
    """Text that is not a JSON object is refused with ValueError/TypeError."""
    with pytest.raises((ValueError, TypeError)):
        decode_message(text, "spot")


def test_round_trip_through_msgspec_encode() -> None:
    """A decoded message encodes back to Bybit's keys (what a fake server sends)."""
    message = decode("orderbook_delta", "linear")
    again = decode_message(msgspec.json.encode(message).decode(), "linear")
    assert again == message
    trade = decode("trade")
    assert json.loads(msgspec.json.encode(trade))["data"][0]["p"] == "16578.50"
