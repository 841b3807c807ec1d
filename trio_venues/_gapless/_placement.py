"""Which shard carries which topic: the gapless feed's placement, pure.

A *shard* is a set of topics that one connection carries (``copies`` live
connections carry the same shard). :class:`Placement` puts new topics first-fit
into the existing shards, in shard order, under the venue's per-connection
limits (``fits(topics) -> bool``, the venue core's ``connection_fits``), and
opens a new shard only when no shard can take a topic. Removing topics never
moves the others, with one exception: when the topics of one shard now fit
into the others, :meth:`Placement.consolidation` proposes moving them there,
which saves a connection. That is the only rebalancing there is: moving
topics costs a make-before-break switch each, so it is done only when it pays.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

from ..errors import ConfigError

__all__ = ["Placement"]


class Placement:
    """The shards and their topics (see the module docstring).

    Args:
        fits: whether one connection may carry these topics.

    Attributes:
        shards: shard id -> its topics, in placement order.
    """

    def __init__(self, fits: Callable[[Sequence[str]], bool]) -> None:
        self._fits = fits
        self.shards: dict[int, list[str]] = {}
        self._where: dict[str, int] = {}
        self._ids = itertools.count(1)

    def shard_of(self, topic: str) -> int | None:
        """The shard carrying ``topic``, or ``None``."""
        return self._where.get(topic)

    @property
    def topics(self) -> frozenset[str]:
        """Every placed topic."""
        return frozenset(self._where)

    def add(self, topics: Iterable[str]) -> dict[int, list[str]]:
        """Place the topics not placed yet; return shard -> the topics it gained.

        Shards that did not exist before are new (the caller opens their
        connections).

        Raises:
            ConfigError: a topic that no connection may carry even alone
                (nothing is placed then).
        """
        wanted = [t for t in dict.fromkeys(topics) if t not in self._where]
        alone = [t for t in wanted if not self._fits([t])]
        if alone:
            raise ConfigError(
                f"no connection of this venue may carry {alone[:3]!r} even alone "
                "(the venue's per-connection limits)"
            )
        plan: dict[int, list[str]] = {}
        for topic in wanted:
            target = self._first_fit(topic, self.shards)
            if target is None:
                target = next(self._ids)
                self.shards[target] = []
            self.shards[target].append(topic)
            self._where[topic] = target
            plan.setdefault(target, []).append(topic)
        return plan

    def remove(self, topics: Iterable[str]) -> tuple[dict[int, list[str]], list[int]]:
        """Unplace ``topics``: (shard -> the topics it lost, the shards left empty).

        Empty shards are deleted (the caller closes their connections).
        """
        lost: dict[int, list[str]] = {}
        for topic in dict.fromkeys(topics):
            shard = self._where.pop(topic, None)
            if shard is None:
                continue
            self.shards[shard].remove(topic)
            lost.setdefault(shard, []).append(topic)
        emptied = [s for s in lost if not self.shards[s]]
        for shard in emptied:
            del self.shards[shard]
        return lost, emptied

    def consolidation(self) -> tuple[int, dict[int, list[str]]] | None:
        """A move that saves a connection: (the shard to empty, target -> its topics).

        The smallest shard (the newest among equals) is tried: if its topics
        fit first-fit into the other shards, that is the move. ``None`` when
        no connection can be saved this way.
        """
        if len(self.shards) < 2:
            return None
        source = min(self.shards, key=lambda s: (len(self.shards[s]), -s))
        others = {s: list(t) for s, t in self.shards.items() if s != source}
        moves: dict[int, list[str]] = {}
        for topic in self.shards[source]:
            target = self._first_fit(topic, others)
            if target is None:
                return None
            others[target].append(topic)
            moves.setdefault(target, []).append(topic)
        return source, moves

    def apply_move(self, source: int, moves: dict[int, list[str]]) -> None:
        """Carry out a :meth:`consolidation`: the topics change shard, ``source`` goes."""
        for target, topics in moves.items():
            for topic in topics:
                self.shards[target].append(topic)
                self._where[topic] = target
        self.shards.pop(source, None)

    def _first_fit(self, topic: str, shards: dict[int, list[str]]) -> int | None:
        for shard, have in shards.items():
            if self._fits([*have, topic]):
                return shard
        return None
