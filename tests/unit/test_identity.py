"""TopicIds and its helpers: reading venue ids from payloads, trimming batches."""

from __future__ import annotations

import random
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_venues._core import RawCore, VenueCore
from trio_venues._identity import TopicIds, batch_ids, single_id
from trio_venues._ratelimit import LimitRule, VenueLimits


@attrs.frozen
class _Batch:
    label: str
    items: tuple[dict[str, int], ...]


def _batch_ids() -> TopicIds:
    return batch_ids(
        lambda data: data.items,
        lambda item: item["id"],
        lambda data, kept: attrs.evolve(data, items=kept),
    )


def test_single_id_spans_one_id_and_none_without_one() -> None:
    """single_id gives (id, id) for a message with an id and None for one without."""
    ids = single_id(lambda data: data.get("id"))
    assert ids.span({"id": 7}) == (7, 7)
    assert ids.span({"other": 1}) is None
    assert ids.trim is None


def test_batch_ids_span_is_the_lowest_and_highest_id_in_any_order() -> None:
    """A batch's span is (min, max) even when the venue sends the newest first."""
    ids = _batch_ids()
    assert ids.span(_Batch("b", ({"id": 12}, {"id": 10}, {"id": 11}))) == (10, 12)
    assert ids.span(_Batch("empty", ())) is None


def test_batch_ids_trim_keeps_later_items_in_their_order() -> None:
    """trim keeps the items with an id above ``after``, in their order, other fields kept."""
    ids = _batch_ids()
    assert ids.trim is not None
    data = _Batch("b", ({"id": 12}, {"id": 10}, {"id": 13}, {"id": 11}))
    assert ids.trim(data, 11) == _Batch("b", ({"id": 12}, {"id": 13}))
    assert ids.trim(data, 9) == data


def test_topic_ids_is_a_frozen_value() -> None:
    """TopicIds is immutable; trim and restarts default to None (whole payloads, no restarts)."""
    ids = TopicIds(lambda data: None)
    assert ids.trim is None
    assert ids.restarts is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ids.trim = None  # type: ignore[misc]


def test_the_default_core_has_no_ids_no_age_and_no_cap() -> None:
    """A core without overrides: no topic ids, no connection age, any number of topics fits."""
    core = RawCore()
    assert core.topic_ids("anything") is None
    assert core.max_connection_age is None
    assert core.connection_fits([f"t{i}" for i in range(100_000)])


def test_connection_fits_follows_the_subscriptions_cap_of_the_limits() -> None:
    """The default connection_fits counts distinct topics against the "subscriptions" cap."""

    class Capped(VenueCore):
        limits = VenueLimits(name="capped", rules=(LimitRule("subscriptions", 3, algorithm="cap"),))

    core: Any = Capped()
    assert core.connection_fits(["a", "b", "c"])
    assert core.connection_fits(["a", "b", "c", "a", "b"])
    assert not core.connection_fits(["a", "b", "c", "d"])
    assert core.connection_fits([])


@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=40, unique=True),
    st.integers(-1, 10_001),
    st.randoms(use_true_random=False),
)
def test_trim_keeps_exactly_the_items_after_any_id(
    numbers: list[int], after: int, rnd: random.Random
) -> None:
    """For any batch order and cut point, trim keeps exactly the later items, in order."""
    rnd.shuffle(numbers)
    ids = _batch_ids()
    assert ids.trim is not None
    data = _Batch("b", tuple({"id": n} for n in numbers))
    assert ids.span(data) == (min(numbers), max(numbers))
    kept = ids.trim(data, after).items
    assert [item["id"] for item in kept] == [n for n in numbers if n > after]
    if kept:
        span = ids.span(ids.trim(data, after))
        assert span is not None
        assert span[0] > after
        assert span[1] == max(numbers)
