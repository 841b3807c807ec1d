"""OKX's side of gapless feeds: trade ids, seqId chains, depth-channel caps, 64008 as an event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio

from trio_venues.events import Disconnected, Message, ShutdownNotice
from trio_venues.reasons import RemoteClosed, ServerRequested
from trio_venues.testing import FakeVenueServer
from trio_venues.testing.okx import FakeOkx, fake_okx_server
from trio_venues.venues.okx import BookMessage, Okx, OkxCore

DATA = Path(__file__).resolve().parents[1] / "protocol" / "data" / "okx"

Fake = FakeVenueServer[FakeOkx]


def _messages(name: str, **changes: Any) -> list[Message]:
    frame = json.loads((DATA / name).read_text(encoding="utf-8"))
    for item in frame["data"]:
        item.update(changes)
    out = OkxCore().decode(json.dumps(frame), 0.0)
    return [m for m in out if isinstance(m, Message)]


def test_a_trade_spans_its_trade_id() -> None:
    """trades: the tradeId (a decimal string) is the message's one id."""
    (message,) = _messages("trade.json")
    ids = OkxCore().topic_ids("trades:BTC-USDT")
    assert message.topic == "trades:BTC-USDT"
    assert ids is not None
    assert ids.span(message.data) == (130639474, 130639474)
    assert ids.trim is None
    assert OkxCore().topic_ids("trades-all:BTC-USDT") is ids


def test_a_trade_id_that_is_not_a_number_carries_none() -> None:
    """A tradeId that is not plain digits spans None rather than a wrong number."""
    ids = OkxCore().topic_ids("trades:BTC-USDT")
    assert ids is not None
    for odd in ("", "+12", " 12", "1_000", "١٢"):
        (message,) = _messages("trade.json", tradeId=odd)
        assert ids.span(message.data) is None


def test_books_span_their_seq_id_chain() -> None:
    """A snapshot spans its seqId; an update prevSeqId+1..seqId; keep-alives repeat the id."""
    ids = OkxCore().topic_ids("books:BTC-USDT")
    assert ids is not None
    assert ids.restarts is not None
    (snapshot,) = _messages("books_snapshot.json")
    (update,) = _messages("books_update.json")
    (keepalive,) = _messages("books_update.json", prevSeqId=123457, asks=[], bids=[])
    assert ids.span(snapshot.data) == (123456, 123456)
    assert ids.span(update.data) == (123457, 123457)
    assert ids.span(keepalive.data) == (123457, 123457)
    (wide,) = _messages("books_update.json", prevSeqId=100, seqId=180)
    assert ids.span(wide.data) == (101, 180)
    assert not any(ids.restarts(m.data) for m in (snapshot, update, keepalive, wide))
    assert ids.trim is None


def test_a_sequence_reset_restarts_the_numbering() -> None:
    """An update with seqId below prevSeqId (after maintenance) restarts the topic's ids."""
    ids = OkxCore().topic_ids("books-l2-tbt:BTC-USDT")
    assert ids is not None
    assert ids.restarts is not None
    (reset,) = _messages("books_update.json", prevSeqId=900, seqId=3)
    assert ids.restarts(reset.data)
    assert ids.span(reset.data) == (3, 3)


def test_a_book_without_seq_ids_carries_none() -> None:
    """An old-format book message without seqId spans None."""
    ids = OkxCore().topic_ids("books:BTC-USDT")
    assert ids is not None
    book = msgspec.convert({"asks": [], "bids": [], "ts": 1}, BookMessage)
    assert ids.span(book) is None
    assert ids.span({"seqId": 5}) is None


@pytest.mark.parametrize(
    "topic",
    [
        "tickers:BTC-USDT",
        "books5:BTC-USDT",
        "bbo-tbt:BTC-USDT",
        "candle1m:BTC-USDT",
        "orders:SPOT",
        "account",
        "trades",
        "trades:BTC-USDT:ccy=BTC",
    ],
)
def test_channels_without_cross_connection_ids_have_none(topic: str) -> None:
    """Tickers, candles, snapshot-only books and private channels have no usable id."""
    assert OkxCore().topic_ids(topic) is None


def test_a_connection_carries_fewer_than_30_depth_channels() -> None:
    """29 book channels fit; a 30th does not; other channels do not count."""
    core = OkxCore()
    books = [f"books:COIN{i}-USDT" for i in range(20)] + [f"bbo-tbt:COIN{i}-USDT" for i in range(9)]
    others = [f"trades:COIN{i}-USDT" for i in range(500)]
    assert core.connection_fits(books + others + books)
    assert not core.connection_fits([*books, "books5:BTC-USDT"])
    assert OkxCore().max_connection_age is None


@pytest.fixture
async def fake(nursery: trio.Nursery) -> AsyncIterator[Fake]:
    """A fake OKX serving in-memory connections."""
    server = fake_okx_server(FakeOkx())
    await nursery.start(server.run)
    yield server
    server.stop()


async def test_64008_as_an_event_keeps_the_connection_and_its_keepalive(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """shutdown_notice="event": a ShutdownNotice 60 s ahead; data and pings carry on."""
    async with Okx.connect(
        "ws://okx.fake/ws/v5/public",
        endpoint="public",
        transport=fake.memory_transport(),
        ping_interval=None,
        shutdown_notice="event",
    ) as ws:
        peer = await fake.wait_connected()
        await ws.subscribe_trades("BTC-USDT")
        await trio.sleep(5)
        await fake.behaviour.send_notice(peer)
        notice = None
        async for event in ws.events:
            if isinstance(event, ShutdownNotice):
                notice = event
                break
        assert notice is not None
        assert notice.deadline == 65.0
        assert notice.this_connection
        assert isinstance(notice.reason, ServerRequested)
        await trio.sleep(50)
        # Nothing was pushed for 50 s: the core's keepalive pinged (OKX closes
        # a connection silent for 30 s), and the connection is still open.
        assert "ping" in peer.received
        await fake.push("trades:BTC-USDT")
        async for event in ws.events:
            assert not isinstance(event, Disconnected)
            if isinstance(event, Message) and event.topic == "trades:BTC-USDT":
                break


async def test_the_fake_closes_60_seconds_after_the_notice_when_asked(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """send_notice(close_after=60): the notice, then the close 60 s later (1001)."""
    async with Okx.connect(
        "ws://okx.fake/ws/v5/public",
        endpoint="public",
        transport=fake.memory_transport(),
        ping_interval=None,
        shutdown_notice="event",
    ) as ws:
        peer = await fake.wait_connected()
        await ws.subscribe_trades("BTC-USDT")
        await trio.sleep(1)
        await fake.behaviour.send_notice(peer, close_after=60)
        seen = [event async for event in ws.events]
    notice = next(e for e in seen if isinstance(e, ShutdownNotice))
    assert notice.deadline == 61.0
    last = seen[-1]
    assert isinstance(last, Disconnected)
    assert trio.current_time() == 61.0
    assert last.reason == RemoteClosed(1001, "")
