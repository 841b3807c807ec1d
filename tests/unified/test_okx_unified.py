"""OKX in the unified vocabulary: the fake's instruments catalogue, exact unified events."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from trio_venues import unified
from trio_venues.errors import ConnectionLost, DecodeError, RequestTimeout
from trio_venues.events import Message
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import DEFAULT_INSTRUMENTS, FakeOkx, fake_okx_server, instrument_spec
from trio_venues.unified import (
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
)
from trio_venues.venues._registry import get_venue
from trio_venues.venues.okx import (
    BookMessage,
    Instrument,
    Instruments,
    LiquidationDetail,
    LiquidationOrder,
    Okx,
    decode_frame,
)
from trio_venues.venues.okx import Candle as OkxCandle
from trio_venues.venues.okx import FundingRate as OkxFundingRate
from trio_venues.venues.okx import Trade as OkxTrade
from trio_venues.venues.okx._unify import (
    catalogue_from_instruments,
    instrument_of,
    load_catalogue,
    unified_interval,
    unifier,
    unify,
)

Fake = FakeVenueServer[FakeOkx]

PUBLIC = "ws://okx.fake/ws/v5/public"
BUSINESS = "ws://okx.fake/ws/v5/business"


@pytest.fixture
async def fake(nursery: trio.Nursery) -> Fake:
    """A fake OKX serving in memory, with its default instruments."""
    server = fake_okx_server()
    await nursery.start(server.run)
    return server


async def _catalogue(fake: Fake) -> Catalogue:
    support = get_venue("okx").unified
    assert support is not None
    assert support.fake_catalogue_url is not None
    return await support.load_catalogue(
        support.fake_catalogue_url(fake), transport=fake.memory_transport(), ping_interval=None
    )


def _item(inst_id: str, **changes: str) -> Instrument:
    """The fake's instruments item of ``inst_id`` as the wire decodes it."""
    spec = instrument_spec(inst_id) | changes
    frame = {"arg": {"channel": "instruments", "instType": spec["instType"]}, "data": [spec]}
    push = decode_frame(json.dumps(frame))
    (listed,) = push.data  # type: ignore[union-attr]
    assert isinstance(listed, Instruments)
    (item,) = listed.instruments
    assert isinstance(item, Instrument)
    return item


async def test_catalogue_comes_from_the_fakes_instruments_channel(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """instruments lists every instrument the fake simulates, each kind spelt canonically."""
    catalogue = await _catalogue(fake)
    assert sorted(inst.venue_symbol for inst in catalogue) == sorted(DEFAULT_INSTRUMENTS)
    expected = {
        "BTC-USDT": ("BTC-USDT", "spot", "BTC", "USDT", None, None),
        "ETH-BTC": ("ETH-BTC", "spot", "ETH", "BTC", None, None),
        "BTC-USDT-SWAP": ("BTC-USDT-PERP", "perpetual", "BTC", "USDT", Decimal("0.01"), "USDT"),
        "BTC-USD-SWAP": ("BTC-USD-PERP", "perpetual", "BTC", "USD", Decimal(100), "BTC"),
        "BTC-USDT-261225": ("BTC-USDT-20261225", "future", "BTC", "USDT", Decimal("0.01"), "USDT"),
        "BTC-USD-261225": ("BTC-USD-20261225", "future", "BTC", "USD", Decimal(100), "BTC"),
        "BTC-USD-261225-100000-C": (
            "BTC-USD-20261225-100000-C",
            "option",
            "BTC",
            "USD",
            Decimal("0.01"),
            "BTC",
        ),
    }
    for venue_symbol, (symbol, kind, base, quote, contract_size, settle) in expected.items():
        inst = catalogue.by_venue_symbol(venue_symbol)
        assert (inst.symbol, inst.kind, inst.base, inst.quote) == (symbol, kind, base, quote)
        assert (inst.contract_size, inst.settle, inst.status) == (contract_size, settle, "live")
    spot = catalogue.by_symbol("BTC-USDT")
    assert (spot.tick_size, spot.lot_size) == (Decimal("0.1"), Decimal("0.00000001"))
    # A derivative's lot is in the unified quantity unit: lotSz contracts x contract size.
    assert catalogue.by_symbol("BTC-USDT-PERP").lot_size == Decimal("0.0001")
    assert catalogue.by_symbol("BTC-USD-PERP").lot_size == Decimal(1)
    with pytest.raises(UnknownSymbol, match="XRP-USDT"):
        catalogue.canonical("XRP-USDT")


async def test_every_catalogue_symbol_round_trips(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """Each entry maps both ways and its canonical symbol parses back to its own parts."""
    catalogue = await _catalogue(fake)
    for inst in catalogue:
        assert catalogue.venue_symbol(catalogue.canonical(inst.venue_symbol)) == inst.venue_symbol
        parts = parse_symbol(inst.symbol)
        assert (parts.base, parts.quote, parts.kind) == (inst.base, inst.quote, inst.kind)


async def test_catalogue_of_chosen_inst_types(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """inst_types limits the subscriptions; an instType without a unified form is refused."""
    catalogue = await load_catalogue(
        PUBLIC, inst_types=["SWAP"], transport=fake.memory_transport(), ping_interval=None
    )
    assert {inst.kind for inst in catalogue} == {"perpetual"}
    with pytest.raises(ValueError, match="MARGIN"):
        await load_catalogue(PUBLIC, inst_types=["MARGIN"], transport=fake.memory_transport())


async def test_a_missing_instrument_list_times_out(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A venue that acks but never pushes the list ends in RequestTimeout, not a hang."""

    class Silent(FakeOkx):
        async def on_message(self, conn: Any, message: str | bytes) -> None:
            if isinstance(message, str) and '"instruments"' in message:
                request = json.loads(message)
                for arg in request["args"]:
                    await conn.send_json({"id": request["id"], "event": "subscribe", "arg": arg})
                    conn.add_subscriptions([f"instruments:{arg['instType']}"])
                return
            await super().on_message(conn, message)

    server = fake_okx_server(Silent())
    await nursery.start(server.run)
    with pytest.raises(RequestTimeout, match="instruments:SPOT"):
        await load_catalogue(
            PUBLIC, timeout=5, transport=server.memory_transport(), ping_interval=None
        )


async def _unified_events(
    fake: Fake, url: str, topics: list[str], catalogue: Catalogue, pushes: int = 1
) -> dict[str, list[tuple[Any, tuple[unified.UnifiedEvent, ...]]]]:
    """Push each topic ``pushes`` times; each topic's (payload, unified events) pairs."""
    unify_one = unifier(catalogue, url)
    seen: dict[str, list[tuple[Any, tuple[unified.UnifiedEvent, ...]]]] = {t: [] for t in topics}
    endpoint = "business" if url.endswith("business") else "public"
    async with Okx.connect(
        url, endpoint=endpoint, transport=fake.memory_transport(), ping_interval=None
    ) as ws:
        await ws.subscribe(*topics)
        for _ in range(pushes):
            for topic in topics:
                await fake.push(topic)
        async for event in ws.events:
            if isinstance(event, Message) and event.topic in seen:
                out = unified.unified_each(unify_one(event.data, event.received_at))
                seen[event.topic].append((event.data, out))
                if all(len(v) >= pushes for v in seen.values()):
                    break
    return seen


async def test_public_channels_unify_exactly(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """trades, bbo-tbt, books5, tickers, funding, open interest and liquidations unify exactly."""
    catalogue = await _catalogue(fake)
    topics = [
        "trades:BTC-USDT",
        "trades:BTC-USDT-SWAP",
        "trades:BTC-USD-SWAP",
        "trades:BTC-USD-261225-100000-C",
        "bbo-tbt:BTC-USDT-SWAP",
        "books5:BTC-USDT",
        "tickers:BTC-USDT",
        "tickers:BTC-USDT-SWAP",
        "tickers:BTC-USD-SWAP",
        "tickers:BTC-USD-261225-100000-C",
        "funding-rate:BTC-USDT-SWAP",
        "open-interest:BTC-USD-SWAP",
        "liquidation-orders:SWAP",
    ]
    seen = await _unified_events(fake, PUBLIC, topics, catalogue)
    one = {topic: pairs[0] for topic, pairs in seen.items()}

    data, (trade,) = one["trades:BTC-USDT"]
    assert isinstance(data, OkxTrade)
    assert isinstance(trade, Trade)
    assert (trade.venue, trade.symbol, trade.venue_symbol) == ("okx", "BTC-USDT", "BTC-USDT")
    assert (trade.side, trade.price, trade.quantity) == (data.side, data.price, data.size)
    assert (trade.trade_id, trade.exchange_ns) == (data.trade_id, data.ts * 1_000_000)
    # Derivatives: contracts x contract size, exactly (linear/option: base; inverse: USD).
    for topic, symbol, size in [
        ("trades:BTC-USDT-SWAP", "BTC-USDT-PERP", Decimal("0.01")),
        ("trades:BTC-USD-SWAP", "BTC-USD-PERP", Decimal(100)),
        ("trades:BTC-USD-261225-100000-C", "BTC-USD-20261225-100000-C", Decimal("0.01")),
    ]:
        data, (trade,) = one[topic]
        assert isinstance(trade, Trade)
        assert trade.symbol == symbol
        assert trade.quantity == data.size * size

    data, (bbo,) = one["bbo-tbt:BTC-USDT-SWAP"]
    assert isinstance(data, BookMessage)
    assert isinstance(bbo, BestBidAsk)
    assert bbo.symbol == "BTC-USDT-PERP"
    assert (bbo.bid_price, bbo.ask_price) == (Decimal(data.bids[0][0]), Decimal(data.asks[0][0]))
    assert bbo.bid_quantity == Decimal(data.bids[0][1]) * Decimal("0.01")
    assert (bbo.update_id, bbo.exchange_ns) == (str(data.seq_id), data.ts * 1_000_000)
    _, (top,) = one["books5:BTC-USDT"]
    assert isinstance(top, BestBidAsk)
    assert (top.bid_price, top.ask_price) == (Decimal("99.9"), Decimal("100.1"))

    data, (ticker,) = one["tickers:BTC-USDT"]
    assert isinstance(ticker, Ticker)
    assert (ticker.last_price, ticker.volume_24h, ticker.quote_volume_24h) == (
        data.last,
        data.volume_24h,
        data.volume_ccy_24h,
    )
    assert (ticker.bid_price, ticker.high_24h) == (data.bid_price, data.high_24h)
    assert ticker.volume_24h != ticker.quote_volume_24h
    # Derivatives: the base-asset volume OKX sends; inverse: also the exact USD volume.
    data, (swap_ticker,) = one["tickers:BTC-USDT-SWAP"]
    assert isinstance(swap_ticker, Ticker)
    assert (swap_ticker.volume_24h, swap_ticker.quote_volume_24h) == (data.volume_ccy_24h, None)
    data, (inverse_ticker,) = one["tickers:BTC-USD-SWAP"]
    assert isinstance(inverse_ticker, Ticker)
    assert inverse_ticker.volume_24h == data.volume_ccy_24h
    assert inverse_ticker.quote_volume_24h == data.volume_24h * 100
    # Options settle in their base (BTC) but count in it: no USD volume.
    data, (option_ticker,) = one["tickers:BTC-USD-261225-100000-C"]
    assert isinstance(option_ticker, Ticker)
    assert (option_ticker.volume_24h, option_ticker.quote_volume_24h) == (data.volume_ccy_24h, None)

    data, (funding,) = one["funding-rate:BTC-USDT-SWAP"]
    assert isinstance(funding, FundingRate)
    assert (funding.rate, funding.funding_ns) == (data.funding_rate, data.funding_time * 10**6)
    data, (oi,) = one["open-interest:BTC-USD-SWAP"]
    assert isinstance(oi, OpenInterest)
    assert (oi.open_interest, oi.exchange_ns) == (data.open_interest_ccy, data.ts * 10**6)
    data, (liquidation,) = one["liquidation-orders:SWAP"]
    assert isinstance(data, LiquidationOrder)
    assert isinstance(liquidation, Liquidation)
    (detail,) = data.details
    assert (liquidation.venue_symbol, liquidation.side, liquidation.price) == (
        data.inst_id,
        detail.side,
        detail.bankruptcy_price,
    )
    contract_size = catalogue.by_venue_symbol(data.inst_id).contract_size
    assert contract_size is not None
    assert liquidation.quantity == detail.size * contract_size
    for _, events in one.values():
        for event in events:
            assert unified.decode(unified.encode(event)) == event


async def test_business_channels_unify(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """Candles close on confirm "1" and scale their volume; trades-all are trades."""
    catalogue = await _catalogue(fake)
    topics = ["candle1m:BTC-USDT-SWAP", "candle1Dutc:BTC-USDT", "trades-all:BTC-USDT"]
    seen = await _unified_events(fake, BUSINESS, topics, catalogue, pushes=2)
    (first, (c1,)), (second, (c2,)) = seen["candle1m:BTC-USDT-SWAP"]
    assert isinstance(first, OkxCandle)
    assert isinstance(c1, Candle)
    assert isinstance(c2, Candle)
    assert (c1.symbol, c1.interval, c1.closed, c2.closed) == ("BTC-USDT-PERP", "1m", False, True)
    assert (first.confirmed, second.confirmed) == (False, True)
    assert c1.volume == first.volume * Decimal("0.01")
    assert (c1.open_ns, c1.open, c1.close) == (first.ts * 10**6, first.open, first.close)
    _, (daily,) = seen["candle1Dutc:BTC-USDT"][0]
    assert isinstance(daily, Candle)
    assert daily.interval == "1d"
    data, (trade,) = seen["trades-all:BTC-USDT"][0]
    assert isinstance(trade, Trade)
    assert trade.trade_id == data.trade_id


def test_sequenced_books_and_other_channels_have_no_unified_form() -> None:
    """books diffs belong to book_feed; a channel without a unified form gives None."""
    catalogue = catalogue_from_instruments([_item("BTC-USDT")])
    book = BookMessage((("100", "1", "0", "1"),), (("99", "1", "0", "1"),), 1, "update", 0, 2, 1)
    book = msgspec.structs.replace(book, inst_id="BTC-USDT")
    assert unify(book, 0.0, catalogue) is None
    assert unify(object(), 0.0, catalogue) is None
    empty = BookMessage((), (("99", "1", "0", "1"),), 1, inst_id="BTC-USDT")
    assert unify(empty, 0.0, catalogue) is None


def test_bound_unifier_equals_the_general_path() -> None:
    """The fast trade path builds the same Trade as unify(), for spot and contracts."""
    catalogue = catalogue_from_instruments([_item("BTC-USDT"), _item("BTC-USD-SWAP")])
    bound = unifier(catalogue, PUBLIC)
    for inst_id in ("BTC-USDT", "BTC-USD-SWAP"):
        trade = OkxTrade(inst_id, "7", Decimal("97012.3"), Decimal("3"), "sell", 1_700_000_000_123)
        assert bound(trade, 2.0) == unify(trade, 2.0, catalogue)
    out = bound(OkxTrade("BTC-USD-SWAP", "7", Decimal(1), Decimal("3"), "buy", 1), 0.0)
    assert isinstance(out, Trade)
    assert (out.quantity, out.exchange_ns) == (Decimal(300), 1_000_000)


def test_contract_quantities_are_exact_at_any_size() -> None:
    """A size with more digits than Decimal's default precision is multiplied without rounding."""
    catalogue = catalogue_from_instruments([_item("BTC-USDT-SWAP")])
    size = Decimal("1234567890123456789012345678901.23456789")
    out = unify(OkxTrade("BTC-USDT-SWAP", "1", Decimal(1), size, "buy", 1), 0.0, catalogue)
    assert isinstance(out, Trade)
    assert out.quantity == Decimal("12345678901234567890123456789.0123456789")


def test_unknown_instruments_raise_unknown_symbol() -> None:
    """A payload of an instrument missing from the catalogue is a clear error."""
    catalogue = catalogue_from_instruments([_item("BTC-USDT")])
    trade = OkxTrade("XRP-USDT", "1", Decimal(1), Decimal(1), "buy", 1)
    with pytest.raises(UnknownSymbol, match="XRP-USDT"):
        unifier(catalogue, PUBLIC)(trade, 0.0)
    funding = OkxFundingRate("SWAP", "XRP-USDT-SWAP", Decimal("0.0001"), 1, ts=1)
    with pytest.raises(UnknownSymbol, match="XRP-USDT-SWAP"):
        unify(funding, 0.0, catalogue)


def test_malformed_payloads_are_decode_errors() -> None:
    """Bad book levels, a funding rate without time, a bare candle row: DecodeError."""
    catalogue = catalogue_from_instruments([_item("BTC-USDT"), _item("BTC-USDT-SWAP")])
    bad = BookMessage((("1e5", "1", "0", "1"),), (("99", "1", "0", "1"),), 1, inst_id="BTC-USDT")
    with pytest.raises(DecodeError, match="ask price"):
        unify(bad, 0.0, catalogue)
    funding = OkxFundingRate("SWAP", "BTC-USDT-SWAP", Decimal("0.0001"), 1)
    with pytest.raises(DecodeError, match="ts"):
        unify(funding, 0.0, catalogue)
    row = OkxCandle(1, *(Decimal(1),) * 6)
    with pytest.raises(DecodeError, match="candle"):
        unify(row, 0.0, catalogue)


def test_liquidation_items_give_one_event_per_order() -> None:
    """A liquidation-orders item with two orders unifies to a tuple of two Liquidations."""
    catalogue = catalogue_from_instruments([_item("BTC-USD-261225")])
    details = (
        LiquidationDetail("buy", Decimal("50000"), Decimal(2), 5),
        LiquidationDetail("sell", Decimal("51000.5"), Decimal(1), 6),
    )
    out = unify(LiquidationOrder("FUTURES", "BTC-USD-261225", details), 1.0, catalogue)
    assert isinstance(out, tuple)
    assert [(e.side, e.price, e.quantity, e.exchange_ns) for e in out] == [  # type: ignore[union-attr]
        ("buy", Decimal(50000), Decimal(200), 5_000_000),
        ("sell", Decimal("51000.5"), Decimal(100), 6_000_000),
    ]
    assert {e.symbol for e in out} == {"BTC-USD-20261225"}


@pytest.mark.parametrize(
    ("bar", "interval"),
    [
        ("1s", "1s"),
        ("1m", "1m"),
        ("15m", "15m"),
        ("1H", "1h"),
        ("4H", "4h"),
        ("6Hutc", "6h"),
        ("1Dutc", "1d"),
        ("1Wutc", "1w"),
        ("1Mutc", "1M"),
        ("3Mutc", "3M"),
        ("6H", "6h@utc+8"),
        ("1D", "1d@utc+8"),
        ("1W", "1w@utc+8"),
        ("1M", "1M@utc+8"),
    ],
)
def test_candle_intervals(bar: str, interval: str) -> None:
    """UTC bars take Binance's spelling; bars opening at 00:00 UTC+8 say so."""
    assert unified_interval(bar) == interval


def test_malformed_instruments_are_decode_errors() -> None:
    """An instrument lacking what its type needs is refused, naming the instrument."""
    with pytest.raises(DecodeError, match="BTC-USDT: no baseCcy"):
        instrument_of(_item("BTC-USDT", baseCcy=""))
    with pytest.raises(DecodeError, match="BTC-USD-261225: no expTime"):
        instrument_of(_item("BTC-USD-261225", expTime=""))
    with pytest.raises(DecodeError, match="strike"):
        instrument_of(_item("BTC-USD-261225-100000-C", stk=""))
    with pytest.raises(DecodeError, match="ctVal"):
        instrument_of(_item("BTC-USDT-SWAP", ctVal=""))
    with pytest.raises(DecodeError, match="uly"):
        instrument_of(_item("BTC-USDT-SWAP", uly=""))


def test_families_without_a_canonical_spelling_are_left_out() -> None:
    """USD-margined BTC-USD_UM contracts share BTC-USD's underlying: not in the catalogue."""
    um = _item("BTC-USD-SWAP", instId="BTC-USD_UM-SWAP", instFamily="BTC-USD_UM", settleCcy="USD")
    assert instrument_of(um) is None
    margin = _item("BTC-USDT", instType="MARGIN")
    assert instrument_of(margin) is None
    # An asset a canonical symbol cannot spell (only letters and digits) is left out too.
    assert instrument_of(_item("BTC-USDT", instId="BTC.X-USDT", baseCcy="BTC.X")) is None
    assert instrument_of(_item("BTC-USDT", baseCcy="btc")) is not None
    catalogue = catalogue_from_instruments([um, _item("BTC-USD-SWAP")])
    assert [inst.venue_symbol for inst in catalogue] == ["BTC-USD-SWAP"]
    with pytest.raises(UnknownSymbol, match="BTC-USD_UM-SWAP"):
        catalogue.canonical("BTC-USD_UM-SWAP")


def test_two_instruments_with_one_canonical_symbol_are_refused() -> None:
    """A catalogue never maps one canonical symbol to two venue symbols."""
    twin = _item("BTC-USDT-SWAP", instId="BTC-USDT-SWAP2")
    with pytest.raises(DecodeError, match="would both be BTC-USDT-PERP"):
        catalogue_from_instruments([_item("BTC-USDT-SWAP"), twin])


assets = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=6)
# Two-digit years in OKX ids: the fake reads 00-68 as 20xx.
dates = st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2068, 12, 31))
strikes = st.integers(min_value=1, max_value=10**7)


@given(assets, assets, dates, strikes, st.sampled_from(["C", "P"]), st.sampled_from(range(4)))
def test_any_listed_instrument_maps_both_ways(
    base: str, quote: str, expiry: dt.date, strike: int, option_type: str, kind: int
) -> None:
    """Any spot, swap, future or option the fake can list gets a symbol that parses back."""
    day = f"{expiry:%y%m%d}"
    inst_id = [
        f"{base}-{quote}",
        f"{base}-{quote}-SWAP",
        f"{base}-{quote}-{day}",
        f"{base}-{quote}-{day}-{strike}-{option_type}",
    ][kind]
    inst = instrument_of(_item(inst_id))
    assert inst is not None
    catalogue = Catalogue("okx", [inst])
    assert catalogue.venue_symbol(catalogue.canonical(inst_id)) == inst_id
    parts = parse_symbol(inst.symbol)
    assert (parts.base, parts.quote, parts.kind) == (base, quote, inst.kind)
    if kind >= 2:
        assert parts.expiry == expiry
    if kind == 3:
        assert (parts.strike, parts.option_type) == (Decimal(strike), option_type)


def test_a_liquidation_push_as_okx_sends_it() -> None:
    """A liquidation-orders push (its documented shape) decodes and unifies in contracts x ctVal."""
    frame = {
        "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
        "data": [
            {
                "details": [
                    {
                        "bkLoss": "0",
                        "bkPx": "0.007831",
                        "ccy": "",
                        "posSide": "short",
                        "side": "buy",
                        "sz": "13",
                        "ts": "1692266434010",
                    }
                ],
                "instFamily": "IOST-USDT",
                "instId": "IOST-USDT-SWAP",
                "instType": "SWAP",
                "uly": "IOST-USDT",
            }
        ],
    }
    (item,) = decode_frame(json.dumps(frame)).data  # type: ignore[union-attr]
    assert isinstance(item, LiquidationOrder)
    assert item.details[0].ccy is None
    catalogue = catalogue_from_instruments([_item("IOST-USDT-SWAP", ctVal="1000")])
    (event,) = unified.unified_each(unify(item, 3.0, catalogue))
    assert event == Liquidation(
        "okx",
        "IOST-USDT-PERP",
        "IOST-USDT-SWAP",
        "buy",
        Decimal("0.007831"),
        Decimal(13000),
        1692266434010 * 1_000_000,
        3.0,
    )


async def test_instrument_change_pushes_decode_whole(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A later instruments push (a state change) is again one Instruments message."""
    async with Okx.connect(PUBLIC, transport=fake.memory_transport(), ping_interval=None) as ws:
        await ws.subscribe("instruments:OPTION")
        await fake.push("instruments:OPTION")
        pushes = []
        async for event in ws.events:
            if isinstance(event, Message) and isinstance(event.data, Instruments):
                pushes.append(event.data)
                if len(pushes) == 2:
                    break
    first, change = pushes
    assert first == change
    assert {item.inst_id for item in first.instruments} == {
        "BTC-USD-261225-100000-C",
        "BTC-USD-261225-100000-P",
    }
    assert first.inst_type == "OPTION"


async def test_an_instrument_list_over_the_default_message_size_loads(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """One push listing thousands of options (over 4 MiB) still makes a catalogue."""
    strikes = [f"BTC-USD-261225-{strike}-{kind}" for strike in range(1, 6001) for kind in "CP"]
    server = fake_okx_server(FakeOkx(instruments=strikes))
    await nursery.start(server.run)
    listed = [server.behaviour.instrument_specs[i] for i in strikes]
    assert len(json.dumps(listed)) > 4 * 1024 * 1024
    catalogue = await load_catalogue(
        PUBLIC, inst_types=["OPTION"], transport=server.memory_transport(), ping_interval=None
    )
    assert len(catalogue) == len(strikes)
    assert catalogue.canonical("BTC-USD-261225-6000-P") == "BTC-USD-20261225-6000-P"


async def test_a_connection_lost_before_the_lists_is_connection_lost(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """The connection ending before every list arrived raises ConnectionLost, unwrapped."""
    with pytest.raises(ConnectionLost, match="exceeds 1000"):
        await load_catalogue(
            PUBLIC, max_message_size=1000, transport=fake.memory_transport(), ping_interval=None
        )
