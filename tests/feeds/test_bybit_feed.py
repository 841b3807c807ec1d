"""Bybit's side of gapless feeds: book update ids, per-connection caps, maintenance notices."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from trio_venues._core import PlannedShutdown
from trio_venues.events import Disconnected, Message, ShutdownNotice
from trio_venues.reasons import ServerRequested
from trio_venues.testing import FakeVenueServer, virtual_clock_ms
from trio_venues.testing.bybit import BybitVenue, bybit_server
from trio_venues.venues.bybit import Bybit, BybitCore, SystemStatusMessage

DATA = Path(__file__).resolve().parents[1] / "protocol" / "data" / "bybit"

Fake = FakeVenueServer[BybitVenue]


def _frame(name: str) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return frame


def _decode(frame: dict[str, Any], core: BybitCore | None = None, at: float = 0.0) -> list[Any]:
    return list((core or BybitCore("linear")).decode(json.dumps(frame), at))


def _book(name: str, **data: Any) -> Message:
    frame = _frame(name)
    frame["data"].update(data)
    (message,) = _decode(frame)
    assert isinstance(message, Message)
    return message


def test_books_span_their_update_id() -> None:
    """orderbook snapshots and deltas span their update id u."""
    ids = BybitCore("linear").topic_ids("orderbook.50.BTCUSDT")
    assert ids is not None
    assert ids.trim is None
    assert ids.restarts is not None
    snapshot = _book("orderbook_snapshot.json")
    delta = _book("orderbook_delta.json")
    assert ids.span(snapshot.data) == (18521288, 18521288)
    assert ids.span(delta.data) == (177400507, 177400507)
    assert not ids.restarts(snapshot.data)
    assert not ids.restarts(delta.data)
    assert ids.span({"u": 5}) is None


def test_a_u_1_snapshot_restarts_the_numbering() -> None:
    """The u == 1 snapshot after a service restart restarts the ids; a u == 1 delta does not."""
    ids = BybitCore("spot").topic_ids("orderbook.1.BTCUSDT")
    assert ids is not None
    assert ids.restarts is not None
    assert ids.restarts(_book("orderbook_snapshot.json", u=1).data)
    assert not ids.restarts(_book("orderbook_delta.json", u=1).data)


@pytest.mark.parametrize(
    "topic",
    [
        "publicTrade.BTCUSDT",
        "tickers.BTCUSDT",
        "kline.1.BTCUSDT",
        "orderbook.BTCUSDT",
        "orderbook.x.BTCUSDT",
        "orderbook.50.",
        "system.status",
        "order",
    ],
)
def test_topics_without_cross_connection_ids_have_none(topic: str) -> None:
    """Trades (UUID ids, shared seq), tickers, klines and private topics have no usable id."""
    assert BybitCore("linear").topic_ids(topic) is None


def test_public_connections_carry_21000_characters_of_topics() -> None:
    """Public: topics with their quotes and commas fit in 21,000 characters; repeats count once."""
    core = BybitCore("spot")
    topic = "orderbook.50." + "X" * 87  # 100 characters, 103 with the quotes and comma
    fitting = [f"{topic[:-4]}{i:04d}" for i in range(203)]  # 203 * 103 = 20,909
    assert core.connection_fits(fitting + fitting)
    assert not core.connection_fits([*fitting, "publicTrade.BTCUSDT" + "Y" * 80])
    assert BybitCore("linear").connection_fits(fitting)
    assert BybitCore("private").connection_fits([*fitting, *(f"{t}Z" for t in fitting)])
    assert core.max_connection_age is None


def test_option_connections_carry_2000_topics() -> None:
    """Option: 2,000 topics per connection, under the 21,000 characters as well."""
    core = BybitCore("option")
    topics = [f"t.{i:05d}" for i in range(2000)]  # 2,000 * 10 = 20,000 characters
    assert core.connection_fits(topics)
    assert not core.connection_fits([*topics, "t.x"])
    assert BybitCore("linear").connection_fits([*topics, "t.x"])


def _status(state: str, *, begin: int, ts: int, notice_id: str = "n1") -> dict[str, Any]:
    frame = _frame("system_status.json")
    frame["ts"] = ts
    frame["data"][0].update(
        id=notice_id, state=state, begin=str(begin), end=str(begin + 60_000), title="upgrade"
    )
    return frame


def test_a_scheduled_maintenance_is_a_venue_wide_planned_end() -> None:
    """A scheduled notice: the Message, then a PlannedShutdown at its begin, on our clock."""
    core = BybitCore("status")
    message, planned = _decode(_status("scheduled", begin=1_000_300_000, ts=1_000_000_000), core, 7)
    assert isinstance(message, Message)
    assert isinstance(message.data, SystemStatusMessage)
    assert isinstance(planned, PlannedShutdown)
    assert planned.deadline == 307.0
    assert not planned.this_connection
    assert isinstance(planned.reason, ServerRequested)
    assert "upgrade" in planned.reason.details
    # The same notice again is not announced twice; a change of state is.
    assert len(_decode(_status("scheduled", begin=1_000_300_000, ts=1_000_100_000), core)) == 1
    ongoing = _decode(_status("ongoing", begin=1_000_300_000, ts=1_000_400_000), core, 50)
    assert ongoing[1].deadline == 50


@pytest.mark.parametrize("state", ["completed", "canceled", ""])
def test_a_finished_maintenance_announces_nothing(state: str) -> None:
    """Completed or other notices are only the Message."""
    out = _decode(_status(state, begin=1, ts=2), BybitCore("status"))
    assert [type(o) for o in out] == [Message]


@pytest.fixture
async def fake(nursery: trio.Nursery) -> AsyncIterator[Fake]:
    """A fake Bybit status endpoint on the virtual clock."""
    server = bybit_server("status", wall_clock=lambda: virtual_clock_ms()() / 1000)
    await nursery.start(server.run)
    yield server
    server.stop()


async def test_the_fake_announces_maintenance_to_status_subscribers(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """announce_maintenance: a Message by default; with "event" also a venue-wide ShutdownNotice."""
    options: dict[str, Any] = {
        "endpoint": "status",
        "transport": fake.memory_transport(),
        "ping_interval": None,
    }
    async with (
        Bybit.connect(fake.url, **options) as quiet,
        Bybit.connect(fake.url, shutdown_notice="event", **options) as ws,
    ):
        await quiet.subscribe_system_status()
        await ws.subscribe_system_status()
        await trio.sleep(10)
        assert await fake.behaviour.announce_maintenance(fake, "v5 upgrade", begin_in=120) == 2
        notice = None
        async for event in ws.events:
            if isinstance(event, ShutdownNotice):
                notice = event
                break
        assert notice is not None
        assert notice.deadline == pytest.approx(130.0)
        assert not notice.this_connection
        assert "v5 upgrade" in str(notice.reason)
        async for event in quiet.events:
            assert not isinstance(event, ShutdownNotice | Disconnected)
            if isinstance(event, Message) and isinstance(event.data, SystemStatusMessage):
                assert event.data.notices[0].state == "scheduled"
                break
