"""OKX's registry entry (see :mod:`trio_venues.venues._registry`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
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
from ._book import OkxBook
from ._client import Okx, OkxBusiness, OkxPrivate
from ._fake import FakeOkx, fake_okx_server
from ._protocol import ENDPOINT_PATHS
from ._unify import load_catalogue, unifier

if TYPE_CHECKING:
    from ...cli._scenario import VenueCli

__all__ = ["VENUE"]


def _cli() -> VenueCli:
    # Imported only by the CLI: the venue's demo and text need the CLI's modules.
    from ._cli import CLI

    return CLI


# "<channel>[:<instType or instId>][:key=value ...]" (docs/venues/okx.md, "Topics").
_TOPIC_RE = re.compile(
    r"[A-Za-z0-9_-]+(?::[A-Za-z0-9_.-]+)?(?::(?:instFamily|instId|ccy)=[A-Za-z0-9_.-]+)*"
)


def _server(**options: Any) -> FakeVenueServer[FakeOkx]:
    return fake_okx_server(**options)


def _url(server: FakeVenueServer[Any], topics: Sequence[str]) -> str:
    # OKX subscribes by request only: the topics are the caller's to subscribe.
    path = ENDPOINT_PATHS["public"]
    if server.port is None:
        return f"ws://okx.fake{path}"
    return f"ws://127.0.0.1:{server.port}{path}"


def _catalogue_url(server: FakeVenueServer[Any]) -> str:
    """The fake's public endpoint, where ``instruments`` is served."""
    return _url(server, ())


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _okx_ms(ns: int | None) -> str:
    return str(0 if ns is None else ns // 1_000_000)


def _fake_message(server: FakeVenueServer[Any], event: UnifiedEvent) -> FakeMessage | None:
    """The channel and push item with which the fake OKX sends ``event``'s values (spot)."""
    inst_id = event.venue_symbol
    if isinstance(event, Trade):
        item = {
            "instId": inst_id,
            "tradeId": event.trade_id,
            "px": _plain(event.price),
            "sz": _plain(event.quantity),
            "side": event.side,
            "ts": _okx_ms(event.exchange_ns),
            "count": "1",
            "source": "0",
            "seqId": 1,
        }
        return FakeMessage(f"trades:{inst_id}", item)
    if isinstance(event, BestBidAsk):
        item = {
            "asks": [[_plain(event.ask_price), _plain(event.ask_quantity), "0", "1"]],
            "bids": [[_plain(event.bid_price), _plain(event.bid_quantity), "0", "1"]],
            "ts": _okx_ms(event.exchange_ns),
            "seqId": int(event.update_id) if event.update_id is not None else 1,
        }
        return FakeMessage(f"bbo-tbt:{inst_id}", item)
    if isinstance(event, Ticker):
        item = {
            "instType": "SPOT", "instId": inst_id, "last": _plain(event.last_price),
            "lastSz": "1", "askPx": _plain(event.ask_price), "askSz": "1",
            "bidPx": _plain(event.bid_price), "bidSz": "1", "open24h": _plain(event.open_24h),
            "high24h": _plain(event.high_24h), "low24h": _plain(event.low_24h),
            "volCcy24h": _plain(event.quote_volume_24h), "vol24h": _plain(event.volume_24h),
            "sodUtc0": _plain(event.open_24h), "sodUtc8": _plain(event.open_24h),
            "ts": _okx_ms(event.exchange_ns),
        }  # fmt: skip
        return FakeMessage(f"tickers:{inst_id}", item)
    if isinstance(event, Candle) and event.interval in ("1m", "3m", "5m", "15m", "30m"):
        row = [
            _okx_ms(event.open_ns),
            _plain(event.open),
            _plain(event.high),
            _plain(event.low),
            _plain(event.close),
            _plain(event.volume),
            "0",
            "0",
            "1" if event.closed else "0",
        ]
        path = ENDPOINT_PATHS["business"]
        url = f"ws://127.0.0.1:{server.port}{path}" if server.port else f"ws://okx.fake{path}"
        return FakeMessage(f"candle{event.interval}:{inst_id}", row, "business", url)
    return None


def _force_book_gap(server: FakeVenueServer[Any], symbol: str) -> None:
    server.inject_gap(f"books:{symbol}", 3)


# Close codes OKX reports as RemoteClosed, and whether each is retryable
# (docs/venues/okx.md, "Close codes"). 4001/4007 (AuthenticationFailed), 4004
# (HeartbeatTimeout) and 4005 (SlowConsumer) end with their own reasons instead;
# tests/okx checks those.
_CLOSE_RETRYABLE = {4002: False, 4003: False, 4006: True, 4008: False, 4009: False}

VENUE = VenueEntry(
    name="okx",
    title="OKX v5",
    clients={"public": Okx, "business": OkxBusiness, "private": OkxPrivate},
    default_endpoint="public",
    topics=TopicGrammar(
        examples=("trades:BTC-USDT", "tickers:BTC-USDT", "books:BTC-USDT", "candle1m:BTC-USDT"),
        pattern=_TOPIC_RE,
        help="<channel>:<instId> (trades:BTC-USDT), <channel>:<instType> (orders:SPOT); "
        "candles and trades-all on the business endpoint",
    ),
    book=OkxBook,
    fake=FakeVenue(
        server=_server,
        url=_url,
        endpoint="public",
        data_topic="trades:BTC-USDT",
        refused_topic="trades:NOPE-USDT",
        # Trades carry no sequence the client checks: only books reveal gaps.
        force_gap=None,
        venue_pings=False,
        close_codes={1000: True, 1001: True, 1011: True, **_CLOSE_RETRYABLE},
        book_symbol="BTC-USDT",
        force_book_gap=_force_book_gap,
    ),
    unified=UnifiedSupport(
        load_catalogue=load_catalogue,
        unifier=unifier,
        fake_catalogue_url=_catalogue_url,
        fake_message=_fake_message,
    ),
    cli=_cli,
)
