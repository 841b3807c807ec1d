"""OKX wire models: every recorded sample decodes to its typed class with exact values."""

from __future__ import annotations

import binascii
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from trio_venues.errors import DecodeError
from trio_venues.venues.okx import (
    Account,
    AccountDetail,
    Arg,
    BalanceAndPosition,
    BalanceData,
    BookMessage,
    Candle,
    ChannelConnCount,
    ChannelConnCountError,
    ErrorMessage,
    FundingRate,
    IndexTicker,
    LoginAck,
    MarkPrice,
    Notice,
    OpenInterest,
    OpResponse,
    Order,
    OrderResult,
    Position,
    PositionData,
    Push,
    SubscribeAck,
    Ticker,
    Trade,
    TradeRef,
    UnknownMessage,
    UnsubscribeAck,
    book_checksum,
    checksum_string,
    decode_frame,
    login_args,
    login_prehash,
    login_signature,
    login_timestamp,
)
from trio_venues.venues.okx._topics import arg_topic, topic_arg

DATA = Path(__file__).parent / "data" / "okx"


def sample(name: str) -> str:
    return (DATA / name).read_text()


def push(text: str | dict[str, Any]) -> Push[Any]:
    decoded = decode_frame(text if isinstance(text, str) else json.dumps(text))
    assert isinstance(decoded, Push)
    return decoded


SNAPSHOT_ASKS = (
    ("8476.98", "415", "0", "13"),
    ("8477", "7", "0", "2"),
    ("8477.34", "85", "0", "1"),
    ("8477.56", "1", "0", "1"),
    ("8505.84", "8", "0", "1"),
    ("8506.37", "85", "0", "1"),
    ("8506.49", "2", "0", "1"),
    ("8506.96", "100", "0", "2"),
)
SNAPSHOT_BIDS = (
    ("8476.97", "256", "0", "12"),
    ("8475.55", "101", "0", "1"),
    ("8475.54", "100", "0", "1"),
    ("8475.3", "1", "0", "1"),
    ("8447.32", "6", "0", "1"),
    ("8447.02", "246", "0", "1"),
    ("8446.83", "24", "0", "1"),
    ("8446", "95", "0", "3"),
)


# -- market data samples ---------------------------------------------------------------


def test_trade_sample() -> None:
    """trades: every field exact, px/sz as Decimal, ts/count/seqId as int."""
    decoded = push(sample("trade.json"))
    assert decoded.arg == Arg("trades", inst_id="BTC-USDT")
    assert decoded.data == (
        Trade(
            inst_id="BTC-USDT",
            trade_id="130639474",
            price=Decimal("42219.9"),
            size=Decimal("0.12060306"),
            side="buy",
            ts=1630048897897,
            count=3,
            source="0",
            seq_id=1234,
        ),
    )
    assert str(decoded.data[0].size) == "0.12060306"


def test_ticker_sample() -> None:
    """tickers: every price and size exact."""
    decoded = push(sample("ticker.json"))
    assert decoded.data == (
        Ticker(
            inst_type="SPOT",
            inst_id="BTC-USDT",
            last=Decimal("9999.99"),
            last_size=Decimal("0.1"),
            ask_price=Decimal("9999.99"),
            ask_size=Decimal("11"),
            bid_price=Decimal("8888.88"),
            bid_size=Decimal("5"),
            open_24h=Decimal("9000"),
            high_24h=Decimal("10000"),
            low_24h=Decimal("8888.88"),
            volume_ccy_24h=Decimal("2222"),
            volume_24h=Decimal("2222"),
            sod_utc0=Decimal("2222"),
            sod_utc8=Decimal("2222"),
            ts=1597026383085,
        ),
    )


def test_candle_sample_nine_fields() -> None:
    """candle1D: a nine-item row with volCcyQuote and an unconfirmed flag."""
    decoded = push(sample("candle.json"))
    assert decoded.arg == Arg("candle1D", inst_id="BTC-USDT")
    assert decoded.data == (
        Candle(
            ts=1597026383085,
            open=Decimal("8533.02"),
            high=Decimal("8553.74"),
            low=Decimal("8527.17"),
            close=Decimal("8548.26"),
            volume=Decimal("45247"),
            volume_ccy=Decimal("529.5858061"),
            volume_quote=Decimal("5529.5858061"),
            confirmed=False,
            inst_id="BTC-USDT",
            bar="1D",
        ),
    )


def test_candle_seven_field_row() -> None:
    """An older seven-item row decodes with volume_quote and confirmed None."""
    frame = {
        "arg": {"channel": "candle1m", "instId": "BTC-USDT"},
        "data": [["1597026383085", "1", "2", "0.5", "1.5", "10", "15"]],
    }
    (candle,) = push(frame).data
    assert candle == Candle(
        1597026383085,
        Decimal(1),
        Decimal(2),
        Decimal("0.5"),
        Decimal("1.5"),
        Decimal(10),
        Decimal(15),
        inst_id="BTC-USDT",
        bar="1m",
    )
    assert candle.volume_quote is None
    assert candle.confirmed is None


def test_candle_confirmed_row() -> None:
    """confirm "1" reads as a complete candle."""
    frame = {
        "arg": {"channel": "candle3Mutc", "instId": "ETH-USDT"},
        "data": [["1", "1", "1", "1", "1", "1", "1", "1", "1"]],
    }
    assert push(frame).data[0].confirmed is True


def test_candle_ten_field_row_refused() -> None:
    """A row longer than nine items is refused, not read with its extra items dropped."""
    frame = {
        "arg": {"channel": "candle1m", "instId": "BTC-USDT"},
        "data": [["1", "1", "1", "1", "1", "1", "1", "1", "1", "X"]],
    }
    with pytest.raises(DecodeError, match="7 or 9"):
        decode_frame(json.dumps(frame))


def test_candle_eight_field_row_refused() -> None:
    """An eight-item row is ambiguous and refused with a DecodeError."""
    frame = {
        "arg": {"channel": "candle1m", "instId": "BTC-USDT"},
        "data": [["1", "1", "1", "1", "1", "1", "1", "1"]],
    }
    with pytest.raises(DecodeError, match="7 or 9"):
        decode_frame(json.dumps(frame))


def test_books_snapshot_sample() -> None:
    """books snapshot: exact string levels, prevSeqId -1, checksum 0, action snapshot."""
    decoded = push(sample("books_snapshot.json"))
    assert decoded.action == "snapshot"
    assert decoded.data == (
        BookMessage(
            asks=SNAPSHOT_ASKS,
            bids=SNAPSHOT_BIDS,
            ts=1597026383085,
            action="snapshot",
            checksum=0,
            seq_id=123456,
            prev_seq_id=-1,
            inst_id="BTC-USDT",
        ),
    )
    book = decoded.data[0]
    assert book.decimal_bids()[0] == (Decimal("8476.97"), Decimal("256"))
    assert book.decimal_asks()[1] == (Decimal("8477"), Decimal("7"))


def test_books_update_sample() -> None:
    """books update: the message's action is on each data item."""
    decoded = push(sample("books_update.json"))
    (book,) = decoded.data
    assert book.action == "update"
    assert (book.prev_seq_id, book.seq_id) == (123456, 123457)
    assert book.bids == SNAPSHOT_BIDS


def test_books_snapshot_then_update_docs_sample() -> None:
    """The docs' snapshot-then-update pair decodes in order with chained seqIds."""
    first, second = (
        push(json.dumps(m)) for m in json.loads(sample("books_snapshot_then_update_docs.json"))
    )
    assert first.data[0].action == "snapshot"
    assert second.data[0].action == "update"
    assert second.data[0].prev_seq_id == first.data[0].seq_id


def test_books5_sample() -> None:
    """books5: a full five-level snapshot without action, with instId in the data."""
    (book,) = push(sample("books5.json")).data
    assert book.action == "snapshot"
    assert book.inst_id == "BCH-USDT-SWAP"
    assert book.seq_id == 363996337
    assert book.prev_seq_id is None
    assert len(book.asks) == len(book.bids) == 5
    assert book.asks[4] == ("111.1", "67272", "0", "2")
    assert book.bids[4] == ("111.01", "65090", "0", "2")


def test_bbo_tbt_sample() -> None:
    """bbo-tbt: one level a side."""
    decoded = push(sample("bbo_tbt.json"))
    assert decoded.arg == Arg("bbo-tbt", inst_id="BCH-USDT-SWAP")
    assert decoded.data == (
        BookMessage(
            asks=(("111.06", "55154", "0", "2"),),
            bids=(("111.05", "57745", "0", "2"),),
            ts=1670324386802,
            seq_id=363996337,
            inst_id="BCH-USDT-SWAP",
        ),
    )


@pytest.mark.parametrize("channel", ["books-l2-tbt", "books50-l2-tbt"])
def test_tbt_book_channels_decode(channel: str) -> None:
    """The tick-by-tick book channels decode like books."""
    frame = json.loads(sample("books_update.json"))
    frame["arg"]["channel"] = channel
    (book,) = push(frame).data
    assert isinstance(book, BookMessage)
    assert book.action == "update"


def test_trades_all_without_count_and_seq_id() -> None:
    """trades-all: no count or seqId; they read None."""
    frame = {
        "arg": {"channel": "trades-all", "instId": "CRV-USDT-SWAP"},
        "data": [
            {
                "instId": "CRV-USDT-SWAP",
                "tradeId": "112905979",
                "px": "0.4376",
                "sz": "1",
                "side": "sell",
                "ts": "1694952634493",
            }
        ],
    }
    assert push(frame).data == (
        Trade("CRV-USDT-SWAP", "112905979", Decimal("0.4376"), Decimal(1), "sell", 1694952634493),
    )


def test_several_trades_in_one_push() -> None:
    """A push with several data items keeps all of them, in order."""
    frame = json.loads(sample("trade.json"))
    second = dict(frame["data"][0], tradeId="130639475", px="42220")
    frame["data"].append(second)
    trades = push(frame).data
    assert [t.trade_id for t in trades] == ["130639474", "130639475"]
    assert trades[1].price == Decimal(42220)


def test_push_with_keys_in_another_order() -> None:
    """A push whose keys are not in OKX's usual order takes the general path, same result."""
    frame = json.loads(sample("trade.json"))
    reordered = json.dumps({"data": frame["data"], "arg": frame["arg"]})
    assert push(reordered) == push(sample("trade.json"))


# -- other public channels ---------------------------------------------------------------


def test_mark_price() -> None:
    """mark-price decodes with an exact Decimal."""
    frame = {
        "arg": {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
        "data": [
            {
                "instType": "SWAP",
                "instId": "BTC-USDT-SWAP",
                "markPx": "42310.6",
                "ts": "1630049139746",
            }
        ],
    }
    assert push(frame).data == (
        MarkPrice("SWAP", "BTC-USDT-SWAP", Decimal("42310.6"), 1630049139746),
    )


def test_index_tickers() -> None:
    """index-tickers decodes the index price and its 24 h figures."""
    frame = {
        "arg": {"channel": "index-tickers", "instId": "BTC-USDT"},
        "data": [
            {
                "instId": "BTC-USDT",
                "idxPx": "0.1",
                "high24h": "0.5",
                "low24h": "0.1",
                "open24h": "0.1",
                "sodUtc0": "0.1",
                "sodUtc8": "0.1",
                "ts": "1597026383085",
            }
        ],
    }
    (index,) = push(frame).data
    assert index == IndexTicker(
        "BTC-USDT",
        Decimal("0.1"),
        1597026383085,
        open_24h=Decimal("0.1"),
        high_24h=Decimal("0.5"),
        low_24h=Decimal("0.1"),
        sod_utc0=Decimal("0.1"),
        sod_utc8=Decimal("0.1"),
    )


def test_funding_rate_with_empty_next_rate() -> None:
    """funding-rate: an empty nextFundingRate reads None."""
    frame = {
        "arg": {"channel": "funding-rate", "instId": "BTC-USD-SWAP"},
        "data": [
            {
                "fundingRate": "0.0001875391284828",
                "fundingTime": "1700726400000",
                "instId": "BTC-USD-SWAP",
                "instType": "SWAP",
                "method": "current_period",
                "maxFundingRate": "0.00375",
                "minFundingRate": "-0.00375",
                "nextFundingRate": "",
                "nextFundingTime": "1700755200000",
                "premium": "0.0001233824646391",
                "settFundingRate": "0.0001699799259033",
                "settState": "settled",
                "ts": "1700724675402",
            }
        ],
    }
    (rate,) = push(frame).data
    assert rate == FundingRate(
        inst_type="SWAP",
        inst_id="BTC-USD-SWAP",
        funding_rate=Decimal("0.0001875391284828"),
        funding_time=1700726400000,
        next_funding_rate=None,
        next_funding_time=1700755200000,
        min_funding_rate=Decimal("-0.00375"),
        max_funding_rate=Decimal("0.00375"),
        method="current_period",
        sett_state="settled",
        sett_funding_rate=Decimal("0.0001699799259033"),
        premium=Decimal("0.0001233824646391"),
        ts=1700724675402,
    )


def test_open_interest() -> None:
    """open-interest decodes oi, oiCcy and oiUsd exactly."""
    frame = {
        "arg": {"channel": "open-interest", "instId": "LTC-USD-SWAP"},
        "data": [
            {
                "instId": "LTC-USD-SWAP",
                "instType": "SWAP",
                "oi": "5000",
                "oiCcy": "555.55",
                "oiUsd": "50000",
                "ts": "1597026383085",
            }
        ],
    }
    assert push(frame).data == (
        OpenInterest(
            "SWAP",
            "LTC-USD-SWAP",
            Decimal(5000),
            Decimal("555.55"),
            1597026383085,
            Decimal(50000),
        ),
    )


def test_unknown_channel_is_kept() -> None:
    """A channel this version does not know arrives as UnknownMessage with its argument."""
    frame = {"arg": {"channel": "estimated-price", "instId": "BTC-USD-SWAP"}, "data": [{"x": 1}]}
    decoded = decode_frame(json.dumps(frame))
    assert decoded == UnknownMessage(frame, Arg("estimated-price", inst_id="BTC-USD-SWAP"))


# -- private channels --------------------------------------------------------------------


def test_orders_update_with_empty_fields() -> None:
    """orders: "" fields read None; prices and sizes exact; uid kept on the argument."""
    frame = {
        "arg": {"channel": "orders", "instType": "SPOT", "uid": "77982378738415879"},
        "data": [
            {
                "instType": "SPOT",
                "instId": "BTC-USDT",
                "ordId": "312269865356374016",
                "clOrdId": "b15",
                "tag": "",
                "px": "30000",
                "sz": "0.001",
                "ordType": "limit",
                "side": "buy",
                "posSide": "net",
                "tdMode": "cash",
                "state": "live",
                "accFillSz": "0",
                "fillPx": "",
                "fillSz": "0",
                "fillTime": "",
                "avgPx": "",
                "feeCcy": "USDT",
                "fee": "-0.001",
                "cTime": "1597026383085",
                "uTime": "1597026383086",
                "code": "0",
                "msg": "",
                "reqId": "",
                "amendResult": "",
            }
        ],
    }
    decoded = push(frame)
    assert decoded.arg.uid == "77982378738415879"
    (order,) = decoded.data
    assert order == Order(
        inst_type="SPOT",
        inst_id="BTC-USDT",
        ord_id="312269865356374016",
        side="buy",
        state="live",
        ord_type="limit",
        size=Decimal("0.001"),
        created_time=1597026383085,
        updated_time=1597026383086,
        cl_ord_id="b15",
        tag=None,
        price=Decimal(30000),
        pos_side="net",
        td_mode="cash",
        acc_fill_size=Decimal(0),
        avg_price=None,
        fill_price=None,
        fill_size=Decimal(0),
        fill_time=None,
        fee=Decimal("-0.001"),
        fee_ccy="USDT",
        error_code="0",
        message=None,
    )


def test_account_update() -> None:
    """account: totals and per-currency details."""
    frame = {
        "arg": {"channel": "account", "uid": "44705892343619584"},
        "data": [
            {
                "uTime": "1597026383085",
                "totalEq": "41624.32",
                "isoEq": "3624.32",
                "adjEq": "",
                "imr": "4162.33",
                "mmr": "4",
                "mgnRatio": "",
                "notionalUsd": "",
                "upl": "",
                "details": [
                    {
                        "ccy": "BTC",
                        "eq": "1",
                        "cashBal": "1",
                        "availBal": "0.9",
                        "frozenBal": "0.1",
                        "availEq": "",
                        "eqUsd": "45078.3790756226851775",
                        "upl": "0",
                        "uTime": "1617279471503",
                    }
                ],
            }
        ],
    }
    (account,) = push(frame).data
    assert account == Account(
        updated_time=1597026383085,
        details=(
            AccountDetail(
                ccy="BTC",
                eq=Decimal(1),
                cash_bal=Decimal(1),
                avail_bal=Decimal("0.9"),
                frozen_bal=Decimal("0.1"),
                avail_eq=None,
                eq_usd=Decimal("45078.3790756226851775"),
                upl=Decimal(0),
                updated_time=1617279471503,
            ),
        ),
        total_eq=Decimal("41624.32"),
        iso_eq=Decimal("3624.32"),
        imr=Decimal("4162.33"),
        mmr=Decimal(4),
    )


def test_positions_update() -> None:
    """positions: quantities and prices exact; empty liqPx reads None."""
    frame = {
        "arg": {"channel": "positions", "instType": "FUTURES"},
        "data": [
            {
                "instType": "FUTURES",
                "instId": "BTC-USD-210430",
                "posId": "307173036051017730",
                "mgnMode": "cross",
                "posSide": "long",
                "pos": "1",
                "availPos": "1",
                "avgPx": "2566.31",
                "upl": "0.0000001",
                "lever": "10",
                "liqPx": "",
                "markPx": "2566.3",
                "margin": "0.1",
                "mgnRatio": "11.7",
                "ccy": "BTC",
                "tradeId": "109844",
                "cTime": "1619507758793",
                "uTime": "1619507761462",
                "pTime": "1619507761462",
            }
        ],
    }
    (position,) = push(frame).data
    assert position == Position(
        inst_type="FUTURES",
        inst_id="BTC-USD-210430",
        pos_id="307173036051017730",
        mgn_mode="cross",
        pos_side="long",
        position=Decimal(1),
        avail_position=Decimal(1),
        avg_price=Decimal("2566.31"),
        upl=Decimal("0.0000001"),
        lever=Decimal(10),
        liq_price=None,
        mark_price=Decimal("2566.3"),
        margin=Decimal("0.1"),
        mgn_ratio=Decimal("11.7"),
        ccy="BTC",
        trade_id="109844",
        created_time=1619507758793,
        updated_time=1619507761462,
        push_time=1619507761462,
    )


def test_balance_and_position() -> None:
    """balance_and_position: balances, positions and trades in one push."""
    frame = {
        "arg": {"channel": "balance_and_position", "uid": "77982378738415879"},
        "data": [
            {
                "pTime": "1597026383085",
                "eventType": "filled",
                "balData": [{"ccy": "BTC", "cashBal": "1", "uTime": "1597026383085"}],
                "posData": [
                    {
                        "posId": "1111111111",
                        "tradeId": "2",
                        "instId": "BTC-USD-191018",
                        "instType": "FUTURES",
                        "mgnMode": "cross",
                        "posSide": "long",
                        "pos": "10",
                        "ccy": "BTC",
                        "posCcy": "",
                        "avgPx": "3320",
                        "uTime": "1597026383085",
                    }
                ],
                "trades": [{"instId": "BTC-USD-191018", "tradeId": "2"}],
            }
        ],
    }
    (update,) = push(frame).data
    assert update == BalanceAndPosition(
        push_time=1597026383085,
        event_type="filled",
        bal_data=(BalanceData("BTC", Decimal(1), 1597026383085),),
        pos_data=(
            PositionData(
                pos_id="1111111111",
                inst_id="BTC-USD-191018",
                inst_type="FUTURES",
                mgn_mode="cross",
                position=Decimal(10),
                pos_side="long",
                ccy="BTC",
                avg_price=Decimal(3320),
                trade_id="2",
                updated_time=1597026383085,
            ),
        ),
        trades=(TradeRef("BTC-USD-191018", "2"),),
    )


def test_order_entry_reply() -> None:
    """An order-entry reply decodes into OpResponse with one OrderResult per order."""
    frame = {
        "id": "1512",
        "op": "order",
        "data": [
            {
                "clOrdId": "",
                "ordId": "12345689",
                "tag": "",
                "ts": "1695190491421",
                "sCode": "0",
                "sMsg": "",
            }
        ],
        "code": "0",
        "msg": "",
        "inTime": "1695190491421339",
        "outTime": "1695190491423240",
    }
    assert decode_frame(json.dumps(frame)) == OpResponse(
        id="1512",
        op="order",
        code="0",
        message=None,
        data=(OrderResult(s_code="0", s_msg=None, ord_id="12345689", ts=1695190491421),),
        in_time=1695190491421339,
        out_time=1695190491423240,
    )


# -- events ------------------------------------------------------------------------------


def test_subscribe_ack_sample() -> None:
    """subscribe ack: the argument, id and connId."""
    assert decode_frame(sample("subscribe_ack.json")) == SubscribeAck(
        arg=Arg("tickers", inst_id="BTC-USDT"), id="1512", conn_id="accb8e21"
    )


def test_unsubscribe_ack_sample() -> None:
    """unsubscribe ack without an id."""
    assert decode_frame(sample("unsubscribe_ack.json")) == UnsubscribeAck(
        arg=Arg("tickers", inst_id="BTC-USDT"), id=None, conn_id="d0b44253"
    )


def test_old_subscribe_ack_without_conn_id() -> None:
    """The older ack format (no id, no connId) is tolerated."""
    frame = '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"}}'
    assert decode_frame(frame) == SubscribeAck(arg=Arg("trades", inst_id="BTC-USDT"))


def test_error_sample_code_is_a_string() -> None:
    """error: the code stays the string OKX sent."""
    decoded = decode_frame(sample("error.json"))
    assert isinstance(decoded, ErrorMessage)
    assert decoded.code == "60012"
    assert decoded.id == "1512"
    assert decoded.message.startswith("Invalid request: ")
    assert decoded.conn_id == "a4d3ae55"


def test_login_ack_and_error_samples() -> None:
    """login ack (code "0") and the login failure (60009)."""
    assert decode_frame(sample("login_ack.json")) == LoginAck("0", "", "a4d3ae55")
    assert decode_frame(sample("login_error.json")) == ErrorMessage(
        "60009", "Login failed.", None, "a4d3ae55"
    )


def test_notice_64008_sample() -> None:
    """The service-upgrade notice decodes with its code."""
    assert decode_frame(sample("notice_64008.json")) == Notice(
        "64008",
        "The connection will soon be closed for a service upgrade. Please reconnect.",
        "a4d3ae55",
    )


def test_channel_conn_count_samples() -> None:
    """channel-conn-count and its error: connCount as an int."""
    assert decode_frame(sample("channel_conn_count.json")) == ChannelConnCount(
        "orders", 2, "abcd1234"
    )
    assert decode_frame(sample("channel_conn_count_error.json")) == ChannelConnCountError(
        "orders", 30, "a4d3ae55"
    )


def test_unknown_event_is_kept() -> None:
    """An event this version does not know arrives as UnknownMessage."""
    frame = {"event": "brand-new", "x": "1"}
    assert decode_frame(json.dumps(frame)) == UnknownMessage(frame)


def test_object_of_no_known_shape_is_kept() -> None:
    """A JSON object with neither arg, event nor op is kept as UnknownMessage."""
    assert decode_frame('{"hello": 1}') == UnknownMessage({"hello": 1})


# -- malformed input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "where"),
    [
        ('{"arg":{"channel":"trades","instId":"X"},"data":[{"px":1}]}', "$.data[0]"),
        (
            '{"arg":{"channel":"trades","instId":"X"},"data":[{"instId":"X","tradeId":"1",'
            '"px":"abc","sz":"1","side":"buy","ts":"1"}]}',
            "$.data[0].px",
        ),
        ('{"event":"error","code":60012,"msg":"x"}', "$.code"),
        ('{"arg":{"channel":"books","instId":"X"},"data":[{"asks":[["1","2"]]}]}', "$.data[0]"),
    ],
)
def test_malformed_known_message_is_a_decode_error(frame: str, where: str) -> None:
    """A known message of the wrong shape is a DecodeError naming the field."""
    with pytest.raises(DecodeError) as info:
        decode_frame(frame)
    assert where in str(info.value)
    assert info.value.raw == frame


def test_not_json_is_a_decode_error() -> None:
    """Text that is not JSON is a DecodeError."""
    with pytest.raises(DecodeError):
        decode_frame("{not json")


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_price_refused(bad: str) -> None:
    """NaN and infinities are never prices."""
    frame = json.loads(sample("trade.json"))
    frame["data"][0]["px"] = bad
    with pytest.raises(DecodeError, match="finite"):
        decode_frame(json.dumps(frame))


def test_bad_side_refused() -> None:
    """A trade side other than buy/sell is refused."""
    frame = json.loads(sample("trade.json"))
    frame["data"][0]["side"] = "up"
    with pytest.raises(DecodeError, match="side"):
        decode_frame(json.dumps(frame))


def test_wire_models_are_frozen() -> None:
    """The Structs are immutable."""
    (trade,) = push(sample("trade.json")).data
    with pytest.raises(AttributeError):
        setattr(trade, "price", Decimal(1))  # noqa: B010
    assert msgspec.structs.asdict(trade)["price"] == Decimal("42219.9")


# -- login signature ---------------------------------------------------------------------


def test_login_signature_reproduces_the_computed_vector() -> None:
    """The documented HMAC-SHA256 rule reproduces the sample's computed vector."""
    vector = json.loads(sample("login_signature_vector_computed.json"))
    assert login_prehash(vector["timestamp"]) == vector["prehash"]
    assert login_signature(vector["secretKey"], vector["timestamp"]) == vector["sign"]


def test_login_args_shape_matches_the_sample_request() -> None:
    """login_args gives the four keys of the sample request, timestamp in whole seconds."""
    vector = json.loads(sample("login_signature_vector_computed.json"))
    request = json.loads(sample("login_request.json"))
    args = login_args("key", vector["secretKey"], "phrase", 1538054050.9)
    assert set(args) == set(request["args"][0])
    assert args["timestamp"] == request["args"][0]["timestamp"] == "1538054050"
    assert args["sign"] == vector["sign"]
    assert (args["apiKey"], args["passphrase"]) == ("key", "phrase")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_login_timestamp_refuses_bad_times(bad: float) -> None:
    """A wall time that is not a finite, non-negative number is refused."""
    with pytest.raises(ValueError, match="wall_time"):
        login_timestamp(bad)


# -- checksum ----------------------------------------------------------------------------


def test_checksum_string_interleaves_bids_and_asks() -> None:
    """bid1:ask1:bid2:ask2..., raw strings, a missing side contributes nothing."""
    bids = [("3366.1", "7", "0", "3"), ("3366", "6", "3", "4"), ("3365", "1", "0", "1")]
    asks = [("3366.8", "9", "10", "3"), ("3368", "8", "3", "4")]
    assert checksum_string(bids, asks) == "3366.1:7:3366.8:9:3366:6:3368:8:3365:1"
    assert checksum_string([], asks) == "3366.8:9:3368:8"


def test_checksum_uses_the_top_25_levels_only() -> None:
    """Levels below the 25th do not change the checksum."""
    bids = [(str(1000 - i), "1", "0", "1") for i in range(30)]
    asks = [(str(2000 + i), "1", "0", "1") for i in range(30)]
    assert book_checksum(bids, asks) == book_checksum(bids[:25], asks[:25])
    assert checksum_string(bids, asks).count(":") == 25 * 4 - 1


def test_checksum_is_signed_crc32() -> None:
    """The checksum is the CRC32 of the string as a signed 32-bit integer."""
    for bids, asks in [
        ([("3366.1", "7", "0", "3")], [("3366.8", "9", "10", "3")]),
        (SNAPSHOT_BIDS, SNAPSHOT_ASKS),
    ]:
        unsigned = binascii.crc32(checksum_string(bids, asks).encode())
        signed = book_checksum(bids, asks)
        assert -(2**31) <= signed < 2**31
        assert signed % 2**32 == unsigned
    negatives = [book_checksum([(str(p), "1", "0", "1")], []) for p in range(1, 50)]
    assert any(value < 0 for value in negatives)


# -- topics ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "arg"),
    [
        ("trades:BTC-USDT", {"channel": "trades", "instId": "BTC-USDT"}),
        ("candle1D:BTC-USDT", {"channel": "candle1D", "instId": "BTC-USDT"}),
        ("orders:SPOT", {"channel": "orders", "instType": "SPOT"}),
        (
            "orders:SWAP:instFamily=BTC-USD",
            {"channel": "orders", "instType": "SWAP", "instFamily": "BTC-USD"},
        ),
        (
            "orders:SPOT:instId=BTC-USDT",
            {"channel": "orders", "instType": "SPOT", "instId": "BTC-USDT"},
        ),
        ("account", {"channel": "account"}),
        ("account:ccy=BTC", {"channel": "account", "ccy": "BTC"}),
    ],
)
def test_topic_maps_both_ways(topic: str, arg: dict[str, str]) -> None:
    """Each documented topic spelling maps to its argument object and back."""
    assert topic_arg(topic) == arg
    decoded = msgspec.json.decode(json.dumps(arg), type=Arg)
    assert arg_topic(decoded) == topic


def test_topic_of_private_push_ignores_uid() -> None:
    """The uid OKX adds to private pushes is not part of the topic."""
    assert arg_topic(Arg("orders", inst_type="SPOT", uid="123")) == "orders:SPOT"


def test_sample_request_argument_matches_topic() -> None:
    """The sample subscribe request's argument is the one topic_arg builds."""
    request = json.loads(sample("subscribe_request.json"))
    assert request["args"] == [topic_arg("tickers:BTC-USDT")]
    business = json.loads(sample("candle_subscribe_request_business.json"))
    assert business["args"] == [topic_arg("candle1D:BTC-USDT")]


@pytest.mark.parametrize(
    ("topic", "match"),
    [
        ("", "channel"),
        (":BTC-USDT", "channel"),
        ("trades:", "instId"),
        ("orders:SPOT:BTC-USDT", "key=value"),
        ("orders:SWAP:uly=BTC-USD", "unknown key"),
        ("orders:instType=SPOT", "unknown key"),
        ("trades:instId=BTC-USDT", "spelt 'trades:BTC-USDT'"),
        ("orders:SWAP:ccy=BTC:instFamily=BTC-USD", "spelt"),
        ("trades:BTC USDT", "instId"),
        ("account:ccy=BTC:ccy=ETH", "twice"),
    ],
)
def test_bad_topics_are_refused(topic: str, match: str) -> None:
    """Malformed or non-canonical topics raise ValueError saying why."""
    with pytest.raises(ValueError, match=match):
        topic_arg(topic)
