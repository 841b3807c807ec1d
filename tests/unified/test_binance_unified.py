"""Binance in the unified vocabulary: the fake's exchangeInfo catalogue, exact unified events."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
import trio

from trio_venues import unified
from trio_venues.errors import DecodeError
from trio_venues.events import Message
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.binance import FakeBinance, binance_server, binance_stream_url
from trio_venues.unified import BestBidAsk, Candle, Catalogue, Trade, UnknownSymbol
from trio_venues.venues._registry import get_venue
from trio_venues.venues.binance import AggTrade, BookTicker, Kline
from trio_venues.venues.binance import Trade as BinanceTrade
from trio_venues.venues.binance._unify import catalogue_from_exchange_info, unify

Fake = FakeVenueServer[FakeBinance]


@pytest.fixture
async def fake(nursery: trio.Nursery) -> Fake:
    """A fake Binance venue with a virtual clock, serving in memory."""
    server = binance_server(FakeBinance(clock=virtual_clock_ms()))
    await nursery.start(server.run)
    return server


async def _catalogue(fake: Fake) -> Catalogue:
    support = get_venue("binance").unified
    assert support is not None
    assert support.fake_catalogue_url is not None
    return await support.load_catalogue(
        support.fake_catalogue_url(fake), transport=fake.memory_transport(), ping_interval=None
    )


async def test_catalogue_comes_from_the_fakes_exchange_info(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """exchangeInfo lists the fake's symbols with assets and sizes; mapping round-trips."""
    catalogue = await _catalogue(fake)
    btc = catalogue.by_venue_symbol("BTCUSDT")
    assert (btc.symbol, btc.base, btc.quote, btc.kind, btc.status) == (
        "BTC-USDT",
        "BTC",
        "USDT",
        "spot",
        "TRADING",
    )
    assert btc.tick_size == Decimal("0.01")
    assert catalogue.canonical("BNBBTC") == "BNB-BTC"
    for inst in catalogue:
        assert catalogue.venue_symbol(catalogue.canonical(inst.venue_symbol)) == inst.venue_symbol
    with pytest.raises(UnknownSymbol, match="XRPUSDT"):
        catalogue.canonical("XRPUSDT")


async def test_trades_tickers_and_candles_unify_exactly(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """Every simulated trade, aggTrade, bookTicker and kline becomes an exact unified event."""
    catalogue = await _catalogue(fake)
    streams = ("btcusdt@trade", "btcusdt@aggTrade", "btcusdt@bookTicker", "btcusdt@kline_1m")
    entry = get_venue("binance")
    url = binance_stream_url(fake, *streams)
    assert entry.unified is not None
    unify_one = entry.unified.unifier(catalogue, url)
    seen: dict[type, tuple[object, object]] = {}
    async with entry.client().connect(
        url, transport=fake.memory_transport(), ping_interval=None
    ) as ws:
        await fake.wait_connected()
        for topic in streams:
            await fake.push(topic)
        async for event in ws.events:
            if isinstance(event, Message):
                out = unify_one(event.data, event.received_at)
                assert out is not None
                seen[type(event.data)] = (event.data, out)
                if len(seen) == len(streams):
                    break
    trade, u_trade = seen[BinanceTrade]
    assert isinstance(trade, BinanceTrade)
    assert isinstance(u_trade, Trade)
    assert (u_trade.venue, u_trade.symbol, u_trade.venue_symbol) == (
        "binance",
        "BTC-USDT",
        "BTCUSDT",
    )
    assert (u_trade.price, u_trade.quantity) == (trade.price, trade.quantity)
    assert u_trade.trade_id == str(trade.trade_id)
    assert u_trade.side == ("sell" if trade.is_buyer_maker else "buy")
    assert u_trade.exchange_ns == trade.trade_time * 1_000_000
    agg, u_agg = seen[AggTrade]
    assert isinstance(agg, AggTrade)
    assert isinstance(u_agg, Trade)
    assert u_agg.trade_id == str(agg.agg_trade_id)
    book, u_book = seen[BookTicker]
    assert isinstance(book, BookTicker)
    assert isinstance(u_book, BestBidAsk)
    assert (u_book.bid_price, u_book.ask_quantity, u_book.update_id) == (
        book.bid_price,
        book.ask_quantity,
        str(book.update_id),
    )
    kline, u_candle = seen[Kline]
    assert isinstance(kline, Kline)
    assert isinstance(u_candle, Candle)
    assert (u_candle.interval, u_candle.open, u_candle.close, u_candle.closed) == (
        "1m",
        kline.bar.open,
        kline.bar.close,
        kline.bar.is_closed,
    )
    for _, converted in seen.values():
        assert isinstance(converted, unified.Trade | BestBidAsk | Candle)
        assert unified.decode(unified.encode(converted)) == converted


def test_microsecond_streams_scale_times() -> None:
    """On timeUnit=MICROSECOND connections exchange_ns is the microseconds times 1,000."""
    catalogue = catalogue_from_exchange_info(
        {"symbols": [{"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT"}]}
    )
    trade = BinanceTrade(
        "BTCUSDT", 7, Decimal("1.5"), Decimal("2"), 1_700_000_000_123_456, 0, False
    )
    out = unify(trade, 1.0, catalogue, "us")
    assert isinstance(out, Trade)
    assert out.exchange_ns == 1_700_000_000_123_456_000
    assert out.side == "buy"


def test_a_bad_exchange_info_is_a_decode_error() -> None:
    """A document without symbols, or entries without assets, is refused clearly."""
    with pytest.raises(DecodeError, match="symbols"):
        catalogue_from_exchange_info({"rateLimits": []})
    with pytest.raises(DecodeError, match="baseAsset"):
        catalogue_from_exchange_info({"symbols": [{"symbol": "BTCUSDT"}]})


def test_encoded_events_carry_exact_decimal_strings() -> None:
    """Unified JSON keeps prices as the exact decimal text, tagged with the event kind."""
    trade = Trade(
        "binance", "BTC-USDT", "BTCUSDT", "buy", Decimal("0.10"), Decimal("1E-8"), "1", 1, 0.0
    )
    doc = msgspec.json.decode(unified.encode(trade))
    assert doc["kind"] == "trade"
    assert doc["price"] == "0.10"
    assert Decimal(doc["quantity"]) == Decimal("1E-8")
