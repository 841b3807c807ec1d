"""BinanceSpot against the fake: subscriptions, URL streams, typed data, errors, shutdown."""

from __future__ import annotations

import itertools
from decimal import Decimal

import orjson
import pytest
import trio

from trio_venues import BinanceSpot, RawWebSocket
from trio_venues.errors import SubscriptionError
from trio_venues.events import Disconnected, Subscribed, Unsubscribed
from trio_venues.reasons import ServerRequested
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.binance import FakeBinance, binance_raw_url
from trio_venues.venues.binance import (
    AggTrade,
    AvgPrice,
    BookTicker,
    DepthUpdate,
    Kline,
    MiniTicker,
    PartialDepth,
    RollingWindowTicker,
    Ticker,
    Trade,
)

from ._helpers import Fake, drain, messages, spot


async def test_subscribe_acks_and_lists(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """subscribe_* returns the stream name after Binance's ack; LIST_SUBSCRIPTIONS agrees."""
    async with spot(fake, kind, "ethusdt@trade") as ws:
        peer = await fake.wait_connected()
        assert await ws.subscribe_trades("BTCUSDT") == ("btcusdt@trade",)
        assert await ws.subscribe_klines("btcusdt", interval="1m", tz="+08:00") == (
            "btcusdt@kline_1m@+08:00",
        )
        assert await ws.subscribe_depth("btcusdt", levels=5) == ("btcusdt@depth5@100ms",)
        expected = {
            "ethusdt@trade",
            "btcusdt@trade",
            "btcusdt@kline_1m@+08:00",
            "btcusdt@depth5@100ms",
        }
        assert ws.subscriptions == expected
        assert peer.subscriptions == expected
        assert sorted(await ws.list_subscriptions()) == sorted(expected)
        # Already subscribed through the URL: nothing is sent.
        sent = peer.received_count
        assert await ws.subscribe_trades("ethusdt") == ("ethusdt@trade",)
        assert peer.received_count == sent
        await ws.unsubscribe("btcusdt@trade")
        assert "btcusdt@trade" not in ws.subscriptions
        events = []
        async for event in ws.events:
            events.append(event)
            if isinstance(event, Unsubscribed):
                break
    assert [e for e in events if isinstance(e, Subscribed)] == [
        Subscribed(("btcusdt@trade",)),
        Subscribed(("btcusdt@kline_1m@+08:00",)),
        Subscribed(("btcusdt@depth5@100ms",)),
    ]
    assert [m["method"] for m in peer.received_json()] == [
        "SUBSCRIBE",
        "SUBSCRIBE",
        "SUBSCRIBE",
        "LIST_SUBSCRIPTIONS",
        "UNSUBSCRIBE",
    ]


async def test_url_streams_flow_without_subscribe(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Streams in ?streams= deliver data at once and the client sends nothing."""
    async with spot(fake, kind, "btcusdt@trade", "btcusdt@aggTrade") as ws:
        peer = await fake.wait_connected()
        assert ws.subscriptions == {"btcusdt@trade", "btcusdt@aggTrade"}
        await fake.push("btcusdt@trade")
        await fake.push("btcusdt@aggTrade")
        trade, agg = await messages(ws, 2)
    assert peer.received_count == 0
    assert trade.topic == "btcusdt@trade"
    assert isinstance(trade.data, Trade)
    assert isinstance(trade.data.price, Decimal)
    assert trade.data.symbol == "BTCUSDT"
    assert agg.topic == "btcusdt@aggTrade"
    assert isinstance(agg.data, AggTrade)
    # The aggregate follows the raw trade: its first trade id is the next one.
    assert agg.data.first_trade_id == trade.data.trade_id + 1


async def test_raw_stream_url(fake: Fake, kind: str, autojump_clock: trio.abc.Clock) -> None:
    """A raw /ws/<stream> connection gets bare payloads, named by the URL's stream."""
    async with spot(fake, kind, raw="btcusdt@depth10") as ws:
        await fake.wait_connected()
        await fake.push("btcusdt@depth10")
        (message,) = await messages(ws, 1)
    assert message.topic == "btcusdt@depth10"
    assert isinstance(message.data, PartialDepth)
    assert len(message.data.bids) == len(message.data.asks) == 10
    # Levels are exact strings; compare them as numbers.
    assert message.data.decimal_bids()[0][0] < message.data.decimal_asks()[0][0]


async def test_generated_data_is_consistent(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """Trade ids increase, depth diffs chain (U = previous u + 1), candles close, all decode."""
    streams = [
        "btcusdt@trade",
        "btcusdt@depth@100ms",
        "btcusdt@kline_1s",
        "btcusdt@bookTicker",
        "btcusdt@ticker",
    ]
    async with spot(fake, "default", *streams) as ws:
        await fake.wait_connected()
        for _ in range(20):
            for stream in streams:
                await fake.push(stream)
            await trio.sleep(0.25)
        received = await messages(ws, 100)
    by_topic: dict[str, list[object]] = {}
    for message in received:
        assert message.topic is not None
        by_topic.setdefault(message.topic, []).append(message.data)
    trades = by_topic["btcusdt@trade"]
    assert all(isinstance(t, Trade) for t in trades)
    ids = [t.trade_id for t in trades]  # type: ignore[attr-defined]
    assert ids == sorted(ids)
    assert len(set(ids)) == 20
    diffs = by_topic["btcusdt@depth@100ms"]
    assert all(isinstance(d, DepthUpdate) for d in diffs)
    for before, after in itertools.pairwise(diffs):
        assert after.first_update_id == before.final_update_id + 1  # type: ignore[attr-defined]
    klines = by_topic["btcusdt@kline_1s"]
    assert all(isinstance(k, Kline) for k in klines)
    # 20 pushes 0.25 s apart span five 1 s candles: each earlier one is sent closed once.
    closed = [k for k in klines if k.bar.is_closed]  # type: ignore[attr-defined]
    assert len(closed) == 4
    assert all(isinstance(b, BookTicker) for b in by_topic["btcusdt@bookTicker"])
    tickers = by_topic["btcusdt@ticker"]
    assert all(isinstance(t, Ticker) for t in tickers)
    assert tickers[-1].last_trade_id >= ids[-1]  # type: ignore[attr-defined]


async def test_microsecond_time_unit(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """timeUnit=MICROSECOND in the URL: the fake sends microsecond timestamps."""
    url = fake.url.replace("/stream", "/stream?streams=btcusdt@trade&timeUnit=MICROSECOND")
    async with BinanceSpot.connect(
        url, transport=fake.memory_transport(), ping_interval=None
    ) as ws:
        await fake.wait_connected()
        await fake.push("btcusdt@trade")
        (message,) = await messages(ws, 1)
    assert message.data.event_time == 1_700_000_000_000_000


async def test_invalid_stream_is_subscription_error(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """An unknown stream is refused with Binance's code 2; the connection stays usable."""
    async with spot(fake, kind) as ws:
        await ws.subscribe_trades("btcusdt")
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe("btcusdt@notastream", "ethusdt@trade")
        assert info.value.code == 2
        assert info.value.message == "Invalid request: invalid stream"
        assert info.value.topics == ("btcusdt@notastream", "ethusdt@trade")
        # All or nothing: the valid stream of the refused request is not subscribed.
        assert ws.subscriptions == {"btcusdt@trade"}
        assert fake.connection.subscriptions == {"btcusdt@trade"}
        assert await ws.list_subscriptions() == ["btcusdt@trade"]


@pytest.mark.parametrize(("raw", "shape"), [(None, "combined"), ("btcusdt@trade", "raw")])
async def test_server_shutdown_ends_with_server_requested(
    fake: Fake, kind: str, raw: str | None, shape: str, autojump_clock: trio.abc.Clock
) -> None:
    """serverShutdown, combined or raw, ends the connection with Disconnected(ServerRequested)."""
    async with spot(fake, kind, raw=raw) as ws:
        peer = await fake.wait_connected()
        assert fake.behaviour.peer(peer).kind == shape
        await trio.sleep(3)
        assert await fake.behaviour.notify_shutdown() == 1
        events = await drain(ws)
    last = events[-1]
    assert isinstance(last, Disconnected)
    assert isinstance(last.reason, ServerRequested)
    assert last.reason.retryable
    assert trio.current_time() == 3
    await peer.wait_closed()
    assert peer.client_close is not None
    assert peer.client_close[0] == 1000


async def test_every_stream_kind_decodes(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """All-market arrays, rolling tickers, averages and calendar candles decode to their types."""
    streams = {
        "!ticker@arr": tuple,
        "!miniTicker@arr": tuple,
        "!ticker_1h@arr": tuple,
        "btcusdt@ticker_4h": RollingWindowTicker,
        "btcusdt@miniTicker": MiniTicker,
        "btcusdt@avgPrice": AvgPrice,
        "btcusdt@kline_1w": Kline,
        "btcusdt@kline_1M": Kline,
        "btcusdt@kline_1d@+08:00": Kline,
    }
    async with spot(fake, "default", *streams) as ws:
        await fake.wait_connected()
        for stream in streams:
            await fake.push(stream)
        received = {m.topic: m.data for m in await messages(ws, len(streams))}
    for stream, cls in streams.items():
        assert isinstance(received[stream], cls), stream
    assert len(received["!ticker@arr"]) == 3  # one per known symbol
    assert isinstance(received["!ticker_1h@arr"][0], RollingWindowTicker)
    # 2023-11-14T22:13:20Z: the week opened Monday 13th, the month on the 1st, the
    # UTC+8 day at 16:00Z on the 14th.
    assert received["btcusdt@kline_1w"].bar.start_time == 1_699_833_600_000
    month = received["btcusdt@kline_1M"].bar
    assert (month.start_time, month.close_time) == (1_698_796_800_000, 1_701_388_799_999)
    assert received["btcusdt@kline_1d@+08:00"].bar.start_time == 1_699_977_600_000


async def test_plain_fake_venue_server_speaks_binance(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """FakeVenueServer(FakeBinance()) without binance_server() still acks and streams."""
    server = FakeVenueServer(FakeBinance(), path="/stream")
    await nursery.start(server.run)
    async with spot(server, "default") as ws:
        await ws.subscribe_book_ticker("ethusdt")
        await server.push("ethusdt@bookTicker")
        (message,) = await messages(ws, 1)
    assert isinstance(message.data, BookTicker)
    assert message.data.bid_price < message.data.ask_price
    assert server.behaviour.peer(server.connection).requests[0][1] == "SUBSCRIBE"


async def test_fake_answers_malformed_requests_as_binance(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """Bad JSON gets code 3, an unknown method code 2, properties 0/1; combined can be toggled."""
    async with RawWebSocket.connect(
        binance_raw_url(fake), transport=fake.memory_transport(), ping_interval=None
    ) as ws:
        await fake.wait_connected()
        sent = [
            "{not json",
            '{"method": "TELEPORT", "id": 1}',
            '{"method": "GET_PROPERTY", "params": ["colour"], "id": 2}',
            '{"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 3}',
            '{"method": "SET_PROPERTY", "params": ["combined", true], "id": 4}',
        ]
        for frame in sent:
            await ws.send(frame)
        answers = [orjson.loads(m.data) for m in await messages(ws, len(sent))]
        await trio.sleep(1)
        await ws.send('{"method": "GET_PROPERTY", "params": ["combined"], "id": 5}')
        await ws.send('{"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 6}')
        answers += [orjson.loads(m.data) for m in await messages(ws, 2)]
        await fake.push("btcusdt@trade")
        (wrapped,) = await messages(ws, 1)
    assert [a.get("error", {}).get("code") for a in answers[:4]] == [3, 2, 0, 1]
    assert answers[0]["id"] is None
    assert answers[1]["error"]["msg"].startswith("Invalid request: unknown variant TELEPORT")
    assert answers[4] == {"result": None, "id": 4}
    assert answers[5] == {"result": True, "id": 5}
    assert orjson.loads(wrapped.data)["stream"] == "btcusdt@trade"
