"""Gapless feeds: many connections of one venue endpoint, one event channel, no gap.

``async with gapless_feed(BinanceSpot, topics) as feed:`` places the topics on
as few connections as the venue's per-connection limits allow, keeps
``copies`` live connections per shard (optionally to different URLs),
replaces every connection make-before-break before the venue's planned cut
and on its shutdown notices, and merges everything into ``feed.events``: each
message once, in order per topic, by the venue's own ids. Unplanned drops
with no other copy behave as under :func:`~trio_venues.retry_scope` (backoff,
replay, ``DataGap``). Topics whose venue gives no usable id fall back to
``DataGap`` semantics at every switch. See ``docs/gapless.md``.

A venue core says how to read its ids (``VenueCore.topic_ids``, a
:class:`TopicIds`); ``gapless_feed(ids=...)`` overrides that for your own
venue or stream, with :func:`single_id` or :func:`batch_ids` for the common shapes.

Its events (:class:`~trio_venues.events.ConnectionOpened`,
:class:`~trio_venues.events.ConnectionClosed`,
:class:`~trio_venues.events.PlacementChanged`,
:class:`~trio_venues.events.ConnectionDown`,
:class:`~trio_venues.events.ConnectionRetrying`,
:class:`~trio_venues.events.ConnectionUp`,
:class:`~trio_venues.events.Rotated`) live in :mod:`trio_venues.events`.
"""

from ._gapless._feed import GaplessFeed as GaplessFeed
from ._gapless._feed import gapless_feed as gapless_feed
from ._identity import TopicIds as TopicIds
from ._identity import batch_ids as batch_ids
from ._identity import single_id as single_id

__all__ = ["GaplessFeed", "TopicIds", "batch_ids", "gapless_feed", "single_id"]
