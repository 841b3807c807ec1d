"""The pure pending-request table, and the per-topic outcome of a subscription's response."""

from __future__ import annotations

import pytest

from trio_venues._core import Response
from trio_venues._requests import PendingRequests, topic_outcome
from trio_venues.errors import ConnectionLost, VenueError
from trio_venues.reasons import NetworkError


def test_resolve_goes_to_its_own_entry() -> None:
    """A response resolves exactly the entry with its id and removes it."""
    table: PendingRequests[str] = PendingRequests()
    table.add(1, "a", "w1")
    table.add(2, "b", "w2")
    entry = table.resolve(2, {"x": 1}, None)
    assert entry is not None
    assert entry.waiter == "w2"
    assert entry.result == {"x": 1}
    assert len(table) == 1
    assert table.resolve(2, None, None) is None


def test_abandoned_ids_are_recognised_as_late() -> None:
    """A response after its caller gave up is reported late, never delivered."""
    table: PendingRequests[str] = PendingRequests()
    table.add(7, "a", "w")
    table.abandon(7)
    assert table.resolve(7, 1, None) is None
    assert table.was_abandoned(7)
    assert not table.was_abandoned(8)


def test_duplicate_id_is_refused() -> None:
    """An id already in flight cannot be added twice."""
    table: PendingRequests[str] = PendingRequests()
    table.add(1, "a", "w")
    with pytest.raises(ValueError, match="already in flight"):
        table.add(1, "a", "w")


def test_fail_all() -> None:
    """On disconnect every entry fails with the given error and the table empties."""
    table: PendingRequests[str] = PendingRequests()
    for i in range(50):
        table.add(i, "m", f"w{i}")
    error = ConnectionLost(NetworkError("reset"))
    failed = table.fail_all(error)
    assert len(failed) == 50
    assert all(e.error is error and e.done for e in failed)
    assert len(table) == 0


def test_topic_outcome_of_a_plain_ack_and_a_whole_refusal() -> None:
    """No per-topic lists: success accepts every topic, an error refuses every one with it."""
    topics = ("a", "b")
    assert topic_outcome(topics, Response(1)) == (("a", "b"), ())
    error = VenueError(400, "no")
    assert topic_outcome(topics, Response(1, error=error)) == ((), (("a", error), ("b", error)))


def test_topic_outcome_of_per_topic_lists() -> None:
    """Named accepted topics and per-topic refusals; unnamed ones are refused, strangers ignored."""
    own = VenueError(60018, "bad channel")
    accepted, refused = topic_outcome(
        ("a", "b", "c", "d"),
        Response(1, accepted=["a", "c", "elsewhere"], refused=[("c", own), ("zz", own)]),
    )
    assert accepted == ("a",)
    assert [(t, e.message) for t, e in refused] == [
        ("b", "the venue did not acknowledge this topic"),
        ("c", "bad channel"),
        ("d", "the venue did not acknowledge this topic"),
    ]
    # Refusals alongside a plain success: the rest are accepted.
    assert topic_outcome(("a", "b"), Response(1, refused=[("b", own)])) == (("a",), (("b", own),))
