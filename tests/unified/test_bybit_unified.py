"""Bybit in the unified vocabulary: the catalogue over HTTP from the fake, every channel unified."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
import trio

from trio_venues import unified
from trio_venues.errors import (
    ConfigError,
    ConnectionRefused,
    ConnectTimeout,
    DecodeError,
    NameResolutionFailed,
    VenueError,
)
from trio_venues.events import Message
from trio_venues.testing import FakeVenueServer, RawResponse, Silent
from trio_venues.testing.bybit import BybitVenue, bybit_server
from trio_venues.unified import (
    AmbiguousSymbol,
    BestBidAsk,
    Candle,
    Catalogue,
    FundingRate,
    Liquidation,
    OpenInterest,
    Ticker,
    Trade,
    UnknownSymbol,
    parse_symbol,
    unified_each,
)
from trio_venues.venues._registry import get_venue
from trio_venues.venues.bybit import Bybit, decode_message
from trio_venues.venues.bybit._fake_instruments import FAKE_INSTRUMENTS
from trio_venues.venues.bybit._unify import (
    catalogue_from_instruments,
    instrument_from_entry,
    load_catalogue,
    unifier,
    unify,
)

Fake = FakeVenueServer[BybitVenue]
DATA = Path(__file__).parent.parent / "protocol" / "data" / "bybit"

#: every fake instrument's canonical spelling, by (category, Bybit symbol)
EXPECTED = {
    ("spot", "BTCUSDT"): "BTC-USDT",
    ("spot", "ETHUSDT"): "ETH-USDT",
    ("spot", "SOLUSDT"): "SOL-USDT",
    ("spot", "ETHBTC"): "ETH-BTC",
    ("spot", "BTCUSDC"): "BTC-USDC",
    ("linear", "BTCUSDT"): "BTC-USDT-PERP",
    ("linear", "ETHUSDT"): "ETH-USDT-PERP",
    ("linear", "SOLUSDT"): "SOL-USDT-PERP",
    ("linear", "BTCPERP"): "BTC-USDC-PERP",
    ("linear", "BTCUSDT-25DEC26"): "BTC-USDT-20261225",
    ("linear", "BTC-25DEC26"): "BTC-USDC-20261225",
    ("inverse", "BTCUSD"): "BTC-USD-PERP",
    ("inverse", "ETHUSD"): "ETH-USD-PERP",
    ("inverse", "BTCUSDZ26"): "BTC-USD-20261225",
    ("option", "BTC-25DEC26-100000-C"): "BTC-USD-20261225-100000-C",
    ("option", "BTC-25DEC26-100000-P"): "BTC-USD-20261225-100000-P",
    ("option", "BTC-25DEC26-92500.5-C"): "BTC-USD-20261225-92500.5-C",
    ("option", "BTC-25DEC26-100000-C-USDT"): "BTC-USDT-20261225-100000-C",
}


def _sample(name: str) -> str:
    return (DATA / name).read_text()


def _fake_catalogue() -> Catalogue:
    return catalogue_from_instruments(FAKE_INSTRUMENTS)


async def _serve(nursery: trio.Nursery, category: str = "spot") -> Fake:
    fake = bybit_server(category)
    await nursery.start(fake.serve_tcp)
    return fake


def _check_catalogue(catalogue: Catalogue) -> None:
    assert {(i.market, i.venue_symbol): i.symbol for i in catalogue} == EXPECTED
    for inst in catalogue:
        # Both directions give back the same instrument, and the spelling parses.
        assert catalogue.by_symbol(inst.symbol) == inst
        assert catalogue.by_venue_symbol(inst.venue_symbol, inst.market) == inst
        assert catalogue.venue_symbol(catalogue.canonical(inst.venue_symbol, inst.market)) == (
            inst.venue_symbol
        )
        parts = parse_symbol(inst.symbol)
        assert (parts.base, parts.quote, parts.kind) == (inst.base, inst.quote, inst.kind)


async def test_catalogue_comes_over_http_from_the_fake_with_cursor_pages(
    nursery: trio.Nursery,
) -> None:
    """load_catalogue GETs every category, follows nextPageCursor, and maps every entry."""
    fake = await _serve(nursery)
    fake.behaviour.catalogue_page_size = 2
    catalogue = await load_catalogue(fake.http_url)
    _check_catalogue(catalogue)
    targets = [r.target for r in fake.requests]
    # spot in one page; linear 6 entries in 3 pages; inverse 3 in 2; option 4 in 2.
    assert [t.split("category=")[1].split("&")[0] for t in targets] == (
        ["spot"] + ["linear"] * 3 + ["inverse"] * 2 + ["option"] * 2
    )
    assert all("limit=1000" in t for t in targets)
    assert "cursor=o2" in targets[2]
    assert "cursor=o4" in targets[3]
    assert fake.http_requests == 8


async def test_the_registry_loads_the_same_catalogue_in_memory(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """Through the registry, the fake's memory transport carries the HTTP too."""
    fake = bybit_server("linear")
    await nursery.start(fake.run)
    support = get_venue("bybit").unified
    assert support is not None
    assert support.fake_catalogue_url is not None
    catalogue = await support.load_catalogue(
        support.fake_catalogue_url(fake), transport=fake.memory_transport(), ping_interval=None
    )
    _check_catalogue(catalogue)
    assert list(catalogue) == list(_fake_catalogue())


def test_instruments_carry_sizes_kinds_and_the_market() -> None:
    """Tick and lot sizes are exact; inverse contracts say they are 1 USD each."""
    catalogue = _fake_catalogue()
    spot = catalogue.by_symbol("BTC-USDT")
    assert (spot.kind, spot.market, spot.tick_size, spot.lot_size, spot.status) == (
        "spot",
        "spot",
        Decimal("0.01"),
        Decimal("0.000001"),
        "Trading",
    )
    assert spot.contract_size is None
    assert spot.settle is None
    perp = catalogue.by_symbol("BTC-USDT-PERP")
    assert (perp.kind, perp.market, perp.settle, perp.contract_size) == (
        "perpetual",
        "linear",
        "USDT",
        None,
    )
    assert perp.tick_size == Decimal("0.1")
    assert perp.lot_size == Decimal("0.001")
    inverse = catalogue.by_symbol("BTC-USD-20261225")
    assert (inverse.kind, inverse.settle, inverse.contract_size) == ("future", "BTC", Decimal(1))
    option = catalogue.by_symbol("BTC-USD-20261225-92500.5-C")
    assert (option.kind, option.settle) == ("option", "USDC")
    assert parse_symbol(option.symbol).strike == Decimal("92500.5")
    assert parse_symbol(option.symbol).expiry == dt.date(2026, 12, 25)


def test_a_venue_symbol_of_two_markets_needs_the_market() -> None:
    """BTCUSDT is the spot pair and the linear perpetual: asking without a market is an error."""
    catalogue = _fake_catalogue()
    with pytest.raises(AmbiguousSymbol, match=r"BTCUSDT.*spot.*linear") as info:
        catalogue.by_venue_symbol("BTCUSDT")
    assert {i.market for i in info.value.candidates} == {"spot", "linear"}
    assert "BTCUSDT" in catalogue
    assert catalogue.canonical("BTCPERP") == "BTC-USDC-PERP"  # one market: no need to say
    assert catalogue.markets == ("inverse", "linear", "option", "spot")
    assert catalogue.in_market("linear").canonical("BTCUSDT") == "BTC-USDT-PERP"
    with pytest.raises(UnknownSymbol, match="XRPUSDT"):
        catalogue.by_venue_symbol("XRPUSDT", "spot")
    with pytest.raises(UnknownSymbol):
        catalogue.by_venue_symbol("BTCPERP", "spot")


async def _unified_from(fake: Fake, endpoint: str, pushes: list[tuple[str, Any]]) -> list[Any]:
    """Subscribe to each pushed topic on ``endpoint``, push, and unify what arrives, in order.

    A book subscriber first gets the fake's snapshot: those messages are left out.
    """
    catalogue = _fake_catalogue()
    unify_one = unifier(catalogue, fake.url)
    topics = list(dict.fromkeys(topic for topic, _ in pushes))
    expected = len(pushes) + sum(1 for t in topics if t.startswith("orderbook."))
    out: list[Any] = []
    async with Bybit.connect(
        fake.url, endpoint=endpoint, transport=fake.memory_transport(), ping_interval=None
    ) as ws:
        await ws.subscribe(*topics)
        for topic, data in pushes:
            await fake.push(topic, data)
        count = 0
        async for event in ws.events:
            if isinstance(event, Message):
                count += 1
                topic = event.topic or ""
                if getattr(event.data, "type", "") != "snapshot" or not topic.startswith(
                    "orderbook."
                ):
                    out.append(unify_one(event.data, event.received_at))
                if count == expected:
                    break
    return out


async def test_spot_trades_books_tickers_and_klines_unify(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A batch of trades is a tuple of Trades; orderbook.1 a BestBidAsk; spot tickers and klines."""
    fake = bybit_server("spot")
    await nursery.start(fake.run)
    trades = [
        {"T": 1700000000001 + n, "s": "BTCUSDT", "S": side, "v": f"0.00{n + 1}", "p": "30000.10",
         "i": f"t{n}", "BT": False, "seq": 77}
        for n, side in enumerate(["Buy", "Sell", "Buy"])
    ]  # fmt: skip
    ticker = json.loads(_sample("ticker_spot.json"))["data"]
    kline = json.loads(_sample("kline.json"))["data"]
    book = {"b": [["29999.50", "1.5"]], "a": [["30000.00", "0.25"]]}
    got = await _unified_from(
        fake,
        "spot",
        [
            ("publicTrade.BTCUSDT", trades),
            ("orderbook.1.BTCUSDT", book),
            ("tickers.BTCUSDT", ticker),
            ("kline.5.BTCUSDT", kline),
        ],
    )
    batch, bbo, spot_ticker, candles = got
    assert isinstance(batch, tuple)
    assert len(batch) == 3
    assert [t.side for t in batch] == ["buy", "sell", "buy"]
    first = batch[0]
    assert first == Trade(
        "bybit", "BTC-USDT", "BTCUSDT", "buy", Decimal("30000.10"), Decimal("0.001"), "t0",
        1_700_000_000_001_000_000, first.received_at,
    )  # fmt: skip
    assert isinstance(bbo, BestBidAsk)
    assert (bbo.bid_price, bbo.bid_quantity, bbo.ask_price, bbo.ask_quantity) == (
        Decimal("29999.50"),
        Decimal("1.5"),
        Decimal("30000.00"),
        Decimal("0.25"),
    )
    assert bbo.update_id == "1"
    assert isinstance(spot_ticker, Ticker)
    assert (spot_ticker.symbol, spot_ticker.last_price, spot_ticker.bid_price) == (
        "BTC-USDT",
        Decimal("21109.77"),
        None,
    )
    assert spot_ticker.open_24h == Decimal("20704.93")
    assert spot_ticker.quote_volume_24h == Decimal("141946527.22907118")
    (candle,) = unified_each(candles)
    assert isinstance(candle, Candle)
    assert (candle.interval, candle.open_ns, candle.close, candle.closed) == (
        "5m",
        1672324800000 * 1_000_000,
        Decimal("16677"),
        False,
    )
    for event in (*batch, spot_ticker, candle):
        assert unified.decode(unified.encode(event)) == event


def test_orderbook_1_is_the_best_bid_and_ask() -> None:
    """A level-1 book snapshot is a BestBidAsk with Bybit's u and the matching-engine time."""
    raw = json.loads(_sample("orderbook_snapshot.json"))
    raw["topic"] = "orderbook.1.BTCUSDT"
    msg = decode_message(json.dumps(raw), "linear")
    bbo = unify(msg, 5.0, _fake_catalogue(), "linear")
    assert bbo == BestBidAsk(
        "bybit", "BTC-USDT-PERP", "BTCUSDT", Decimal("16493.50"), Decimal("0.006"),
        Decimal("16611.00"), Decimal("0.029"), "18521288", 1672304484976 * 1_000_000, 5.0,
    )  # fmt: skip
    deep = decode_message(_sample("orderbook_snapshot.json"), "linear")
    assert unify(deep, 5.0, _fake_catalogue(), "linear") is None  # book_feed's job
    raw["data"]["a"] = []
    assert (
        unify(decode_message(json.dumps(raw), "linear"), 5.0, _fake_catalogue(), "linear") is None
    )


async def test_linear_tickers_give_funding_and_open_interest_then_only_what_changed(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A snapshot gives Ticker, FundingRate and OpenInterest; a delta only the changed ones."""
    fake = bybit_server("linear")
    await nursery.start(fake.run)
    snapshot = json.loads(_sample("ticker_linear.json"))["data"]
    got = await _unified_from(
        fake,
        "linear",
        [
            ("tickers.BTCUSDT", snapshot),
            ("tickers.BTCUSDT", {"symbol": "BTCUSDT", "fundingRate": "0.0001"}),
            ("tickers.BTCUSDT", {"symbol": "BTCUSDT", "lastPrice": "66700.10"}),
            ("tickers.BTCUSDT", {"symbol": "BTCUSDT", "markPrice": "66700.00"}),
        ],
    )
    first, funding_only, price_only, nothing = got
    ticker, funding, oi = first
    assert isinstance(ticker, Ticker)
    assert isinstance(funding, FundingRate)
    assert isinstance(oi, OpenInterest)
    assert (ticker.symbol, ticker.bid_price, ticker.ask_price) == (
        "BTC-USDT-PERP",
        Decimal("66666.60"),
        Decimal("66666.70"),
    )
    assert (ticker.volume_24h, ticker.quote_volume_24h) == (
        Decimal("73191.3870"),
        Decimal("4936790807.6521"),
    )
    assert (funding.rate, funding.funding_ns) == (Decimal("-0.005"), 1760342400000 * 1_000_000)
    assert oi.open_interest == Decimal("492373.72")  # base coin on linear
    (changed,) = funding_only
    assert isinstance(changed, FundingRate)
    assert changed.rate == Decimal("0.0001")
    (moved,) = price_only
    assert isinstance(moved, Ticker)
    assert moved.last_price == Decimal("66700.10")
    assert moved.high_24h == Decimal("79266.30")  # merged from the snapshot
    assert nothing is None


def test_inverse_tickers_are_in_the_base_coin() -> None:
    """On inverse, volume24h and openInterest count USD contracts: the base-coin fields are used."""
    raw = json.loads(_sample("ticker_linear.json"))
    raw["topic"] = "tickers.BTCUSD"
    raw["data"]["symbol"] = "BTCUSD"
    msg = decode_message(json.dumps(raw), "inverse")
    ticker, _funding, oi = unified_each(unify(msg, 1.0, _fake_catalogue(), "inverse"))
    assert isinstance(ticker, Ticker)
    assert isinstance(oi, OpenInterest)
    assert ticker.symbol == "BTC-USD-PERP"
    assert (ticker.volume_24h, ticker.quote_volume_24h) == (
        Decimal("4936790807.6521"),
        Decimal("73191.3870"),
    )
    assert oi.open_interest == Decimal("32824881841.75")


def test_option_tickers_and_futures_without_funding() -> None:
    """Options give a Ticker and OpenInterest; a dated future's ticker has no FundingRate."""
    catalogue = _fake_catalogue()
    raw = json.loads(_sample("ticker_option.json"))
    raw["topic"] = "tickers.BTC-25DEC26-100000-C"
    raw["data"]["symbol"] = "BTC-25DEC26-100000-C"
    ticker, oi = unified_each(
        unify(decode_message(json.dumps(raw), "option"), 1.0, catalogue, "option")
    )
    assert isinstance(ticker, Ticker)
    assert isinstance(oi, OpenInterest)
    assert (ticker.symbol, ticker.ask_price, ticker.volume_24h) == (
        "BTC-USD-20261225-100000-C",
        Decimal("10"),
        Decimal("26.55"),
    )
    assert oi.open_interest == Decimal("49.85")
    raw = json.loads(_sample("ticker_linear.json"))
    raw["topic"] = "tickers.BTCUSDT-25DEC26"
    raw["data"]["symbol"] = "BTCUSDT-25DEC26"
    events = unify(decode_message(json.dumps(raw), "linear"), 1.0, catalogue, "linear")
    assert [type(e) for e in unified_each(events)] == [Ticker, OpenInterest]


async def test_liquidations_name_the_closing_orders_side(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """allLiquidation batches and the older liquidation topic: a long liquidated is a sell."""
    fake = bybit_server("linear")
    await nursery.start(fake.run)
    batch = [
        {"T": 1700000000000, "s": "ETHUSDT", "S": "Buy", "v": "1.25", "p": "2000.5"},
        {"T": 1700000000001, "s": "ETHUSDT", "S": "Sell", "v": "0.5", "p": "2001"},
    ]
    older = {"symbol": "ETHUSDT", "side": "Sell", "size": "3", "price": "1999.9",
             "updatedTime": 1700000000002}  # fmt: skip
    all_liq, one = await _unified_from(
        fake, "linear", [("allLiquidation.ETHUSDT", batch), ("liquidation.ETHUSDT", older)]
    )
    assert all_liq == (
        Liquidation("bybit", "ETH-USDT-PERP", "ETHUSDT", "sell", Decimal("2000.5"),
                    Decimal("1.25"), 1700000000000 * 1_000_000, all_liq[0].received_at),
        Liquidation("bybit", "ETH-USDT-PERP", "ETHUSDT", "buy", Decimal("2001"),
                    Decimal("0.5"), 1700000000001 * 1_000_000, all_liq[1].received_at),
    )  # fmt: skip
    assert isinstance(one, Liquidation)
    assert (one.side, one.quantity, one.exchange_ns) == ("buy", Decimal("3"), 1700000000002 * 10**6)


def test_the_endpoint_decides_the_category() -> None:
    """The same Bybit symbol unifies as spot on /spot and as the perpetual on /linear."""
    catalogue = _fake_catalogue()
    msg = decode_message(_sample("trade.json"), "spot")
    (on_spot,) = unified_each(unifier(catalogue, "wss://stream.bybit.com/v5/public/spot")(msg, 1.0))
    (on_linear,) = unified_each(
        unifier(catalogue, "wss://stream.bybit.com/v5/public/linear")(msg, 1.0)
    )
    assert isinstance(on_spot, Trade)
    assert (on_spot.symbol, on_linear.symbol) == ("BTC-USDT", "BTC-USDT-PERP")
    assert on_spot.trade_id == "20f43950-d8dd-5b31-9112-a178eb6023af"
    assert unify(msg, 1.0, catalogue, "linear") == (on_linear,)
    proxied = unifier(catalogue, "ws://proxy.example/feed", category="inverse")
    with pytest.raises(UnknownSymbol, match="BTCUSDT"):
        proxied(msg, 1.0)
    with pytest.raises(ConfigError, match="category"):
        unifier(catalogue, "ws://proxy.example/feed")
    with pytest.raises(ConfigError, match="spread"):
        unifier(catalogue, "wss://stream.bybit.com/v5/public/spread")


def test_malformed_instrument_entries_are_decode_errors() -> None:
    """Missing coins, unknown contract types and bad strikes are refused clearly."""
    good = dict(FAKE_INSTRUMENTS["linear"][0])
    with pytest.raises(DecodeError, match="baseCoin"):
        instrument_from_entry("linear", {**good, "baseCoin": ""})
    with pytest.raises(DecodeError, match="contractType"):
        instrument_from_entry("linear", {**good, "contractType": "LinearSpread"})
    with pytest.raises(DecodeError, match="deliveryTime"):
        instrument_from_entry("linear", {**good, "contractType": "LinearFutures"})
    option = dict(FAKE_INSTRUMENTS["option"][0])
    with pytest.raises(DecodeError, match="strike"):
        instrument_from_entry("option", {**option, "symbol": "BTC-25DEC26-abc-C"})
    with pytest.raises(DecodeError, match="tickSize"):
        instrument_from_entry(
            "spot", {**FAKE_INSTRUMENTS["spot"][0], "priceFilter": {"tickSize": "x"}}
        )
    with pytest.raises(ConfigError, match="spread"):
        catalogue_from_instruments({"spread": []})


async def test_http_errors_become_our_errors(nursery: trio.Nursery) -> None:
    """An HTTP error status, a body that is not JSON, and Bybit's retCode are typed errors."""
    fake = await _serve(nursery)
    fake.reject(503, body=b"maintenance")
    with pytest.raises(VenueError, match="503") as info:
        await load_catalogue(fake.http_url)
    assert (info.value.status, info.value.retryable) == (503, True)
    fake.reject(429, headers=[("Retry-After", "7")])
    with pytest.raises(VenueError) as limited:
        await load_catalogue(fake.http_url)
    assert limited.value.retry_after == 7.0
    body = b"<html>rate limited</html>"
    fake.fail_handshakes(
        RawResponse(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    )
    with pytest.raises(DecodeError, match="not JSON"):
        await load_catalogue(fake.http_url)
    fake.behaviour.instruments.pop("option")
    with pytest.raises(VenueError, match="Category is invalid") as refused:
        await load_catalogue(fake.http_url)
    assert refused.value.code == 10001
    with pytest.raises(ConfigError, match="spread"):
        await load_catalogue(fake.http_url, categories=["spread"])


async def test_no_answer_is_a_timeout(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A server that never answers: ConnectTimeout after the timeout, on the virtual clock."""
    fake = bybit_server("spot")
    await nursery.start(fake.run)
    fake.fail_handshakes(Silent())
    start = trio.current_time()
    with pytest.raises(ConnectTimeout, match=r"within 3\.0s"):
        await load_catalogue(fake.http_url, transport=fake.memory_transport(), timeout=3.0)
    assert trio.current_time() - start == pytest.approx(3.0)


async def test_refused_and_unresolvable_hosts_are_connect_errors() -> None:
    """Nothing listening is ConnectionRefused; a DNS failure is NameResolutionFailed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionRefused):
        await load_catalogue(f"http://127.0.0.1:{port}")

    def no_dns(request: httpx2.Request) -> httpx2.Response:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc

    with pytest.raises(NameResolutionFailed, match=r"api\.bybit\.com"):
        await load_catalogue(http_transport=httpx2.MockTransport(no_dns))
    with pytest.raises(ConfigError, match="carries only WebSockets"):
        await load_catalogue(transport=lambda *args: None)


async def test_without_httpx2_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx2 is optional: a missing one is a ConfigError naming the rest extra."""
    monkeypatch.setitem(sys.modules, "httpx2", None)
    with pytest.raises(ConfigError, match=r"trio_venues\[rest\]"):
        await load_catalogue("http://127.0.0.1:9")
