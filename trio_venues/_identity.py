"""Venue ids that name the same data on every connection: what makes a feed gapless.

Two connections to one venue carry the same trades and book updates, each
numbered by the venue: Binance's trade id ``t``, OKX's ``seqId``, Bybit's
update id ``u``. A helper that keeps more than one connection per topic
(make-before-break rotation, redundant copies) needs those numbers to see
where two connections overlap and to deliver each message once. A venue core
says how to read them with :meth:`~trio_venues._core.VenueCore.topic_ids`,
which returns a :class:`TopicIds` for a topic, or ``None`` when the venue
gives that stream no usable id (``docs/venues/<venue>.md`` lists which).

**The contract** a :class:`TopicIds` keeps, per topic:

- ``span(data)`` is the first and the last id a message's ``Message.data``
  carries (``first <= last``), or ``None`` for a message that carries none
  (a control message sharing the topic). Ids are integers that only grow
  along the topic's messages, and the venue gives the same data the same ids
  on every connection, so ``span`` of a message on one connection equals
  ``span`` of the same message on another.
- Spans of successive messages do not overlap on one connection: a message's
  first id is greater than the previous message's last id. Across
  connections they may (a venue may batch differently per connection); a
  message whose span reaches past what was already delivered is new data.
- ``trim(data, after)``, when not ``None``, is the payload keeping only the
  items whose id is greater than ``after`` (a batch of trades of which the
  first few were already delivered from another connection). It is called
  only when ``span(data)`` reaches past ``after``, so the result is never
  empty. ``trim`` is ``None`` when a payload cannot be cut: each message
  carries one id, or the payload is a book diff of absolute levels, which
  is safe to deliver whole (applying again the part already applied sets
  the same levels: Binance's own book procedure applies the first diff
  that straddles the snapshot whole).
- A venue may restart its numbering: OKX books after a maintenance (an
  update whose ``seqId`` is below its ``prevSeqId``), Bybit's snapshot with
  ``u == 1`` after a service restart. ``restarts(data)``, when not ``None``,
  says that a message is such a restart: its ids start a new numbering, to
  be compared with later messages only, not with the ones before it (each
  connection carries the same restart message, with the same ids, so the
  copies of it still match each other). Ids also compare only between
  connections that were open at the same time: after a gap in coverage
  (every connection of a topic was lost) a consumer forgets the topic's last
  id rather than compare new ids with it.

Venue cores build their ``TopicIds`` from the helpers below so that the
common shapes (one id per message, a batch of items with ids) are written
once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

__all__ = ["TopicIds", "batch_ids", "single_id"]


@attrs.frozen
class TopicIds:
    """How to read one topic's venue ids from its messages (see the module docstring).

    Attributes:
        span: ``Message.data`` -> ``(first, last)`` venue ids it carries, or
            ``None`` for a message carrying none.
        trim: ``(Message.data, after)`` -> the payload keeping only the items
            with an id greater than ``after``; ``None`` when payloads are
            delivered whole.
        restarts: ``Message.data`` -> whether the message restarts the
            topic's numbering; ``None`` when the venue never restarts it.
    """

    span: Callable[[Any], tuple[int, int] | None]
    trim: Callable[[Any, int], Any] | None = None
    restarts: Callable[[Any], bool] | None = None


def single_id(read: Callable[[Any], int | None]) -> TopicIds:
    """The ids of a topic whose every message carries one id, read by ``read``.

    ``read`` returns the id, or ``None`` for a message of the topic without
    one (it is called with every ``Message.data`` of the topic).
    """

    def span(data: Any) -> tuple[int, int] | None:
        value = read(data)
        return None if value is None else (value, value)

    return TopicIds(span)


def batch_ids(
    items: Callable[[Any], Sequence[Any]],
    item_id: Callable[[Any], int],
    rebuild: Callable[[Any, tuple[Any, ...]], Any],
) -> TopicIds:
    """The ids of a topic whose messages carry a batch of items with one id each.

    Args:
        items: ``Message.data`` -> its items (in any order: some venues send
            the newest first).
        item_id: an item -> its venue id.
        rebuild: ``(Message.data, kept items)`` -> the payload with only those
            items, in their original order.

    A message with no items carries no id (``span`` is ``None``).
    """

    def span(data: Any) -> tuple[int, int] | None:
        ids = [item_id(item) for item in items(data)]
        if not ids:
            return None
        return min(ids), max(ids)

    def trim(data: Any, after: int) -> Any:
        kept = tuple(item for item in items(data) if item_id(item) > after)
        return rebuild(data, kept)

    return TopicIds(span, trim)
