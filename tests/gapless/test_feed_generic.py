"""The gapless feed over the generic fake venue: redundancy, rotation, unplanned drops."""

from __future__ import annotations

import trio

from trio_venues.events import (
    ConnectionClosed,
    ConnectionDown,
    ConnectionOpened,
    ConnectionUp,
    DataGap,
    Rotated,
)
from trio_venues.gapless import gapless_feed
from trio_venues.testing import FakeVenueServer
from trio_venues.venues.generic import GenericJson

from ._helpers import Collected, collect, dict_ids, generic_connect, push_ids


async def test_copies_survive_a_reset_without_gap(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """copies=2: one connection reset mid-stream costs nothing; it comes back visibly."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    seen = Collected()
    async with gapless_feed(
        GenericJson,
        ["a", "b"],
        copies=2,
        urls=[server.url],
        connect=generic_connect(server),
        ids=dict_ids,
        max_connection_age=None,
    ) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await server.wait_until(lambda s: sum(1 for c in s.active if c.subscriptions) == 2)
        async with trio.open_nursery() as pushers:
            pushers.start_soon(push_ids, server, "a", 1, 400, 0.01)
            pushers.start_soon(push_ids, server, "b", 1, 400, 0.01)
            await trio.sleep(1.005)
            await server.active[0].reset()
        await seen.wait_for(lambda s: len(s.ids("a")) >= 400 and len(s.ids("b")) >= 400)
        await seen.wait_for(lambda s: bool(s.of(ConnectionUp)))
        assert seen.ids("a") == list(range(1, 401))
        assert seen.ids("b") == list(range(1, 401))
        assert seen.gaps() == []
        (down,) = seen.of(ConnectionDown)
        assert set(down.covered) == {"a", "b"}
        assert down.uncovered == ()
        assert len(seen.of(ConnectionOpened)) == 2
        assert feed.duplicates > 0


async def test_rotation_before_the_planned_cut_is_gapless(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """A connection is replaced rotate_margin before max_connection_age: no gap, no duplicate."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    seen = Collected()
    async with gapless_feed(
        GenericJson,
        ["a", "quiet"],
        urls=[server.url],
        connect=generic_connect(server),
        ids=dict_ids,
        max_connection_age=3600.0,
        rotate_margin=60.0,
    ) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await trio.sleep(3530 - trio.current_time())
        await push_ids(server, "a", 1, 2000, 0.02)
        await seen.wait_for(lambda s: len(s.ids("a")) >= 2000)
        (rotated,) = seen.of(Rotated)
        assert rotated.cause == "age"
        assert rotated.gaps == ()
        assert set(rotated.topics) == {"a", "quiet"}
        assert rotated.duplicates > 0  # both connections carried data during the overlap
        assert seen.ids("a") == list(range(1, 2001))
        assert seen.gaps() == []
        closed = seen.of(ConnectionClosed)
        assert [c.why for c in closed] == ["rotated"]
        assert closed[0].connection == rotated.old
        assert list(feed.placement) == [rotated.new]
        assert feed.rotations == 1


async def test_unplanned_drop_without_copies_is_a_data_gap(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """One copy, connection closed by the venue: retry_scope behaviour, then a DataGap."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    seen = Collected()
    async with gapless_feed(
        GenericJson,
        ["a"],
        urls=[server.url],
        connect=generic_connect(server),
        ids=dict_ids,
        max_connection_age=None,
    ) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await push_ids(server, "a", 1, 5, 0.01)
        await seen.wait_for(lambda s: len(s.ids("a")) == 5)
        await server.connection.close(1012, "restart")
        await seen.wait_for(lambda s: bool(s.of(ConnectionUp)))
        await push_ids(server, "a", 9, 10, 0.01)
        await seen.wait_for(lambda s: len(s.ids("a")) == 7)
        (down,) = seen.of(ConnectionDown)
        assert down.uncovered == ("a",)
        (gap,) = seen.of(DataGap)
        assert gap.topics == ("a",)
        assert seen.ids("a") == [1, 2, 3, 4, 5, 9, 10]
        assert seen.events.index(gap) < len(seen.events) - 2


async def test_topic_without_ids_gets_a_data_gap_at_rotation(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery
) -> None:
    """A topic the venue gives no id switches with a DataGap (documented fallback)."""
    server = FakeVenueServer()
    await nursery.start(server.run)
    seen = Collected()
    async with gapless_feed(
        GenericJson,
        ["a"],
        urls=[server.url],
        connect=generic_connect(server),
        max_connection_age=3600.0,
        rotate_margin=60.0,
    ) as feed:
        nursery.start_soon(collect, feed, seen)
        await feed.wait_ready()
        await push_ids(server, "a", 1, 3, 0.01)
        await trio.sleep(3545 - trio.current_time())
        await seen.wait_for(lambda s: bool(s.of(Rotated)))
        await push_ids(server, "a", 4, 5, 0.01)
        await seen.wait_for(lambda s: len(s.ids("a")) == 5)
        (rotated,) = seen.of(Rotated)
        assert rotated.gaps == ("a",)
        (gap,) = seen.gaps()
        assert gap.topics == ("a",)
        assert seen.ids("a") == [1, 2, 3, 4, 5]
