"""The pure merger: joins, duplicates, takeovers, fences, topics without ids."""

from __future__ import annotations

from typing import Any

import attrs

from trio_venues._gapless._merge import Merger
from trio_venues.events import DataGap, Event, Message
from trio_venues.gapless import TopicIds


@attrs.frozen
class Ids:
    """One id per message, in ``data["id"]``."""

    span: Any = lambda data: (data["id"], data["id"])
    trim: Any = None


def _batch_span(data: Any) -> tuple[int, int] | None:
    return (data[0], data[-1]) if data else None


def _batch_trim(data: Any, after: int) -> Any:
    return [i for i in data if i > after]


BATCH = Ids(_batch_span, _batch_trim)


def msg(n: int, topic: str = "t", at: float = 0.0) -> Message:
    """A message carrying id ``n``."""
    return Message(topic, {"id": n}, at)


class Sink(list[Event]):
    """Collects what the merger delivers."""

    def ids(self) -> list[int]:
        return [e.data["id"] for e in self if isinstance(e, Message)]

    def gaps(self) -> list[DataGap]:
        return [e for e in self if isinstance(e, DataGap)]


def merger(limit: int = 100) -> tuple[Merger, Sink]:
    out = Sink()
    m = Merger(out.append, limit)
    m.add_topic("t", Ids())
    return m, out


def test_first_copy_wins_and_duplicates_are_dropped() -> None:
    """Two joined links deliver each id once, whichever is first."""
    m, out = merger()
    m.attach(1, ["t"], 0)
    m.attach(2, ["t"], 0)
    for n in (1, 2):
        m.on_message(1, msg(n))
    for n in (1, 2, 3):
        m.on_message(2, msg(n))
    m.on_message(1, msg(3))
    m.on_message(1, msg(4))
    assert out.ids() == [1, 2, 3, 4]
    assert m.duplicates == 3
    assert not out.gaps()


def test_late_feed_joins_once_the_cursor_reaches_its_first_id() -> None:
    """A replacement ahead of the old link is held, then continues it without a hole."""
    m, out = merger()
    m.attach(1, ["t"], 0)
    m.on_message(1, msg(1))
    m.attach(2, ["t"], 0)
    for n in (3, 4, 5):
        m.on_message(2, msg(n))  # held: the cursor is at 1
    assert out.ids() == [1]
    assert not m.joined(2, ["t"])
    m.on_message(1, msg(2))
    m.on_message(1, msg(3))  # reaches 3: link 2 joins, delivers 4 and 5
    assert out.ids() == [1, 2, 3, 4, 5]
    assert m.joined(2, ["t"])
    _, gapped = m.remove_link(1, 0, 1)
    assert gapped == ()
    m.on_message(2, msg(6))
    assert out.ids() == [1, 2, 3, 4, 5, 6]
    assert not out.gaps()


def test_lost_topic_taken_over_with_a_data_gap() -> None:
    """The only joined link drops: the next ready link takes over after a DataGap."""
    m, out = merger()
    m.attach(1, ["t"], 0)
    m.on_message(1, msg(1))
    assert m.remove_link(1, since=5.0, now=6.0) == (("t",), ())
    m.on_message(2, msg(9))  # not acknowledged yet: held
    assert out.ids() == [1]
    m.attach(2, ["t"], 8.0)
    assert out.gaps() == [DataGap(("t",), 5.0, 8.0)]
    assert out.ids() == [1, 9]
    assert isinstance(out[1], DataGap)


def test_ready_pending_link_takes_over_at_once() -> None:
    """A drop with a ready, not yet joined link takes over immediately (DataGap first)."""
    m, out = merger()
    m.attach(1, ["t"], 0)
    m.attach(2, ["t"], 0)
    m.on_message(1, msg(1))
    m.on_message(2, msg(5))
    lost, gapped = m.remove_link(1, since=2.0, now=3.0)
    assert (lost, gapped) == ((), ("t",))
    assert out.ids() == [1, 5]
    assert out.gaps() == [DataGap(("t",), 2.0, 3.0)]


def test_quiet_topic_switches_silently_once_the_fence_passed() -> None:
    """A topic the successor saw nothing of switches without a gap when the old caught up."""
    m, out = merger()
    m.add_topic("q", Ids())
    m.attach(1, ["t", "q"], 0)
    m.on_message(1, msg(1, "q"))
    m.on_message(1, msg(1))
    m.attach(2, ["t", "q"], 1.0)
    m.fence(1, 2, acked_at=1.0)
    m.on_message(2, msg(2, at=1.5))
    assert m.quiet(2, ["t", "q"])
    assert not m.fence_passed(2)
    m.on_message(1, msg(2, at=1.6))
    assert m.fence_passed(2)
    assert m.joined(2, ["t", "q"])
    _, gapped = m.remove_link(1, 1.6, 2.0)
    assert gapped == ()
    m.on_message(2, msg(2, "q"))
    assert out.ids() == [1, 1, 2, 2]
    assert not out.gaps()


def test_quiet_topic_without_fence_gets_a_gap() -> None:
    """Without the fence a quiet topic may have lost data at the switch: DataGap."""
    m, out = merger()
    m.attach(1, ["t"], 0)
    m.on_message(1, msg(1))
    m.attach(2, ["t"], 1.0)
    _, gapped = m.remove_link(1, 1.0, 2.0)
    assert gapped == ("t",)
    assert out.gaps() == [DataGap(("t",), 1.0, 2.0)]


def test_batches_are_trimmed_at_the_cursor() -> None:
    """A batch straddling the cursor is delivered trimmed to the ids past it."""
    out = Sink()
    m = Merger(out.append, 10)
    m.add_topic("b", BATCH)
    m.attach(1, ["b"], 0)
    m.attach(2, ["b"], 0)
    m.on_message(1, Message("b", [1, 2, 3]))
    m.on_message(2, Message("b", [2, 3, 4, 5]))
    m.on_message(1, Message("b", [4, 5]))
    assert [e.data for e in out if isinstance(e, Message)] == [[1, 2, 3], [4, 5]]
    assert m.trimmed == 1
    assert m.duplicates == 1


def test_held_messages_are_bounded() -> None:
    """A feed holds at most pending_limit messages; the oldest go and the join still works."""
    m, out = merger(limit=2)
    m.attach(1, ["t"], 0)
    m.on_message(1, msg(1))
    m.attach(2, ["t"], 0)
    for n in (3, 4, 5):
        m.on_message(2, msg(n))
    for n in (2, 3):
        m.on_message(1, msg(n))
    assert out.ids() == [1, 2, 3]  # 3 popped from link 2's hold: not joined yet
    m.on_message(1, msg(4))
    assert out.ids() == [1, 2, 3, 4, 5]


def test_topic_without_ids_has_one_primary_and_gaps_on_switch() -> None:
    """Without ids the primary alone delivers; losing it moves the topic with a DataGap."""
    out = Sink()
    m = Merger(out.append, 10)
    m.add_topic("x", None)
    m.attach(1, ["x"], 0)
    m.attach(2, ["x"], 0)
    m.on_message(1, Message("x", "a"))
    m.on_message(2, Message("x", "a"))
    assert [e.data for e in out if isinstance(e, Message)] == ["a"]
    m.remove_link(1, 1.0, 2.0)
    m.on_message(2, Message("x", "b"))
    assert out[1] == DataGap(("x",), 1.0, 2.0)
    assert out[2] == Message("x", "b")


def test_gap_on_one_copy_is_covered_by_the_other() -> None:
    """A sequence gap on one link is not passed on while another link covers the topic."""
    m, out = merger()
    m.attach(1, ["t"], 0)
    m.attach(2, ["t"], 0)
    m.on_message(1, msg(1))
    m.on_message(2, msg(1))
    assert m.demote(1, "t")  # link 1 lost id 2
    m.on_message(1, msg(3))  # held until link 2 reaches 3
    m.on_message(2, msg(2))
    m.on_message(2, msg(3))
    assert out.ids() == [1, 2, 3]
    assert m.joined(1, ["t"])
    m.remove_link(2, 0, 0)
    assert not m.demote(1, "t")  # no other copy: the gap is real


def test_stray_topics_are_reported() -> None:
    """A message of an unknown topic is returned as a stray, not delivered."""
    m, out = merger()
    assert not m.on_message(1, msg(1, "other"))
    assert out == []


def test_last_feed_left_behind_does_not_repeat() -> None:
    """A feed left alone while behind the cursor drops what was delivered, then leads again."""
    m, out = merger()
    m.attach(1, ["t"], 0)
    for n in (1, 2, 3):
        m.on_message(1, msg(n))  # one feed: the fast path
    m.attach(2, ["t"], 0)
    m.on_message(2, msg(3))  # joins at 3, a duplicate
    m.on_message(1, msg(4))
    m.remove_link(1, 0, 0)
    for n in (4, 5, 6):
        m.on_message(2, msg(n))
    assert out.ids() == [1, 2, 3, 4, 5, 6]
    assert m.duplicates == 2


def _restart_span(data: Any) -> tuple[int, int] | None:
    return (data["id"], data["id"])


RESTARTING = TopicIds(_restart_span, restarts=lambda data: bool(data.get("restart")))


def test_restart_of_the_numbering_is_delivered_once() -> None:
    """A restart (lower ids) from two copies: delivered once, then the new numbering merges."""
    out = Sink()
    m = Merger(out.append, 10)
    m.add_topic("t", RESTARTING)
    m.attach(1, ["t"], 0)
    m.attach(2, ["t"], 0)
    for link in (1, 2):
        m.on_message(link, msg(100))
    m.on_message(1, Message("t", {"id": 1, "restart": True}))
    m.on_message(2, msg(101))  # old numbering, late: not new data
    m.on_message(2, Message("t", {"id": 1, "restart": True}))
    for n in (2, 3):
        m.on_message(2, msg(n))
        m.on_message(1, msg(n))
    assert out.ids() == [100, 1, 2, 3]
    assert not out.gaps()
