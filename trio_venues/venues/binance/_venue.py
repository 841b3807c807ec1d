"""Binance Spot's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...testing._server import FakeVenueServer
from ...unified import (
    BestBidAsk,
    Candle,
    FakeMessage,
    Ticker,
    Trade,
    UnifiedEvent,
    UnifiedSupport,
)
from .._registry import FakeVenue, TopicGrammar, VenueEntry
from ._book import BinanceBook, binance_depth_snapshots
from ._client import BinanceSpot, BinanceSpotApi
from ._fake import _STREAM_RE, binance_api_url, binance_server, binance_stream_url
from ._unify import load_catalogue, unifier
from ._wire import BookTicker, Kline, KlineBar, to_wire
from ._wire import Ticker as BinanceTicker
from ._wire import Trade as BinanceTrade

if TYPE_CHECKING:
    from ...cli._scenario import VenueCli

__all__ = ["VENUE"]


def _cli() -> VenueCli:
    # Imported only by the CLI: the venue's demo and text need the CLI's modules.
    from ._cli import CLI

    return CLI


def _stream_url(server: FakeVenueServer[Any], topics: Sequence[str]) -> str:
    return binance_stream_url(server, *topics)


@asynccontextmanager
async def _snapshots(server: FakeVenueServer[Any]) -> AsyncIterator[Any]:
    """A WS-API connection to the fake, as ``book_feed``'s snapshot source."""
    async with BinanceSpotApi.connect(
        binance_api_url(server), transport=server.memory_transport()
    ) as api:
        yield binance_depth_snapshots(api)


def _check(topics: Sequence[str]) -> str | None:
    try:
        BinanceSpot.combined_url(*topics)
    except ValueError as exc:
        return str(exc)
    return None


def _topics_url(base: str, topics: Sequence[str]) -> str:
    return BinanceSpot.combined_url(*topics, base=base)


def _force_book_gap(server: FakeVenueServer[Any], symbol: str) -> None:
    server.behaviour.market(symbol).inject_gap(3)


_NS_PER_MS = 1_000_000
_ZERO = Decimal(0)


def _ms(ns: int | None) -> int:
    return 0 if ns is None else ns // _NS_PER_MS


def _fake_message(server: FakeVenueServer[Any], event: UnifiedEvent) -> FakeMessage | None:
    """The stream and wire payload with which the fake sends ``event``'s values."""
    symbol = event.venue_symbol
    stream = symbol.lower()
    if isinstance(event, Trade):
        ms = _ms(event.exchange_ns)
        trade = BinanceTrade(
            symbol, int(event.trade_id), event.price, event.quantity, ms, ms, event.side == "sell"
        )
        return FakeMessage(f"{stream}@trade", to_wire(trade))
    if isinstance(event, BestBidAsk):
        update_id = int(event.update_id) if event.update_id is not None else 0
        book = BookTicker(
            symbol,
            update_id,
            event.bid_price,
            event.bid_quantity,
            event.ask_price,
            event.ask_quantity,
        )
        return FakeMessage(f"{stream}@bookTicker", to_wire(book))
    if isinstance(event, Ticker):
        ms = _ms(event.exchange_ns)
        ticker = BinanceTicker(
            symbol=symbol,
            event_time=ms,
            price_change=_ZERO,
            price_change_percent=_ZERO,
            weighted_average_price=event.last_price,
            prev_close_price=event.open_24h or _ZERO,
            last_price=event.last_price,
            last_quantity=_ZERO,
            best_bid_price=event.bid_price or _ZERO,
            best_bid_quantity=_ZERO,
            best_ask_price=event.ask_price or _ZERO,
            best_ask_quantity=_ZERO,
            open_price=event.open_24h or _ZERO,
            high_price=event.high_24h or _ZERO,
            low_price=event.low_24h or _ZERO,
            base_volume=event.volume_24h or _ZERO,
            quote_volume=event.quote_volume_24h or _ZERO,
            open_time=ms - 86_400_000,
            close_time=ms,
            first_trade_id=0,
            last_trade_id=0,
            trade_count=0,
        )
        return FakeMessage(f"{stream}@ticker", to_wire(ticker))
    if isinstance(event, Candle):
        start = _ms(event.open_ns)
        bar = KlineBar(
            start_time=start,
            close_time=start + 59_999,
            symbol=symbol,
            interval=event.interval,
            first_trade_id=-1,
            last_trade_id=-1,
            open=event.open,
            close=event.close,
            high=event.high,
            low=event.low,
            volume=event.volume,
            trade_count=0,
            is_closed=event.closed,
            quote_volume=_ZERO,
            taker_buy_volume=_ZERO,
            taker_buy_quote_volume=_ZERO,
        )
        kline = Kline(symbol, _ms(event.exchange_ns), bar)
        return FakeMessage(f"{stream}@kline_{event.interval}", to_wire(kline))
    return None


VENUE = VenueEntry(
    name="binance",
    title="Binance Spot",
    clients={"streams": BinanceSpot, "api": BinanceSpotApi},
    default_endpoint="streams",
    topics=TopicGrammar(
        examples=("btcusdt@trade", "btcusdt@aggTrade", "btcusdt@depth@100ms", "btcusdt@kline_1m"),
        pattern=_STREAM_RE,
        help="<symbol>@<stream>, symbol in lower case: btcusdt@trade, btcusdt@depth@100ms",
        check=_check,
    ),
    topics_url=_topics_url,
    book=BinanceBook,
    fake=FakeVenue(
        server=binance_server,
        url=_stream_url,
        endpoint="streams",
        data_topic="btcusdt@trade",
        refused_topic="btcusdt@nonsense",
        # Binance documents no close codes; 1000 (the 24 h cut) and 1008 ("Too many
        # requests") are retryable there (docs/venues/binance.md section 9).
        close_codes={1000: True, 1001: True, 1008: True, 1011: True, 1002: False},
        book_symbol="BTCUSDT",
        book_snapshots=_snapshots,
        force_book_gap=_force_book_gap,
    ),
    unified=UnifiedSupport(
        load_catalogue=load_catalogue,
        unifier=unifier,
        fake_catalogue_url=binance_api_url,
        fake_message=_fake_message,
    ),
    cli=_cli,
)
