"""The pending-request table: pure bookkeeping of requests awaiting a response.

The shell owns the waiting (a ``trio.Event`` per entry, a per-call timeout);
this table only decides who a response belongs to. An id is never reused on
a connection, so a response that arrives after its caller timed out or was
cancelled cannot reach another caller: it is reported as *late*.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import attrs

from ._core import RequestId, Response
from .errors import VenueError

__all__ = ["Pending", "PendingRequests", "topic_outcome"]

W = TypeVar("W")

# How many abandoned ids we remember to recognise late responses.
_ABANDONED_MEMORY = 1024


@attrs.define(eq=False)
class Pending(Generic[W]):
    """One request in flight: what was asked, and the shell's waiter object.

    For a subscribe/unsubscribe the shell fills in the per-topic outcome when
    the response arrives: ``accepted`` topics and ``refused`` ``(topic, error)``
    pairs (every topic of the request is in exactly one of them).
    """

    request_id: RequestId
    method: str
    waiter: W
    topics: tuple[str, ...] = ()
    result: Any = None
    error: BaseException | None = None
    done: bool = False
    accepted: tuple[str, ...] = ()
    refused: tuple[tuple[str, VenueError], ...] = ()


class PendingRequests(Generic[W]):
    """Requests in flight on one connection, by id."""

    def __init__(self) -> None:
        self._entries: dict[RequestId, Pending[W]] = {}
        # Abandoned entries by id, oldest first, at most _ABANDONED_MEMORY: a
        # late answer to a subscribe still changes what the venue sends us.
        self._abandoned: OrderedDict[RequestId, Pending[W]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Pending[W]]:
        return iter(list(self._entries.values()))

    def add(
        self, request_id: RequestId, method: str, waiter: W, topics: tuple[str, ...] = ()
    ) -> Pending[W]:
        """Register a request about to be sent.

        Raises:
            ValueError: the id is already in flight (a venue core bug).
        """
        if request_id in self._entries:
            raise ValueError(f"request id {request_id!r} is already in flight")
        entry = Pending(request_id, method, waiter, topics)
        self._entries[request_id] = entry
        return entry

    def resolve(
        self, request_id: RequestId, result: Any, error: BaseException | None
    ) -> Pending[W] | None:
        """Attach a response to its entry and remove it; ``None`` if nobody waits for it."""
        entry = self._entries.pop(request_id, None)
        if entry is None:
            return None
        entry.result = result
        entry.error = error
        entry.done = True
        return entry

    def abandon(self, request_id: RequestId) -> None:
        """Set aside a request whose caller timed out or was cancelled."""
        entry = self._entries.pop(request_id, None)
        if entry is not None:
            self._abandoned[request_id] = entry
            if len(self._abandoned) > _ABANDONED_MEMORY:
                self._abandoned.popitem(last=False)

    def was_abandoned(self, request_id: RequestId) -> bool:
        """Whether ``request_id`` belonged to a caller that gave up (a late response)."""
        return request_id in self._abandoned

    def resolve_late(self, request_id: RequestId) -> Pending[W] | None:
        """The abandoned entry a late response answers (then forgotten), or ``None``."""
        return self._abandoned.pop(request_id, None)

    def fail_all(self, error: BaseException) -> list[Pending[W]]:
        """Fail every request in flight with ``error``; returns the failed entries."""
        failed = list(self._entries.values())
        self._entries.clear()
        for entry in failed:
            entry.error = error
            entry.done = True
        return failed


def topic_outcome(
    topics: tuple[str, ...], response: Response
) -> tuple[tuple[str, ...], tuple[tuple[str, VenueError], ...]]:
    """Which of a subscribe/unsubscribe request's ``topics`` the venue accepted and refused.

    Every topic lands in exactly one of the two, in request order. A topic the
    response lists as refused is refused with its own error; one in
    ``response.accepted`` (or, when that is ``None`` and there is no error,
    any topic) is accepted; the rest are refused with ``response.error``, or
    with a generic error when the venue said nothing about them. Topics of
    the response that were not in the request are ignored.
    """
    own_errors = {topic: error for topic, error in response.refused if topic in topics}
    if response.accepted is None:
        named: frozenset[str] | None = None
    else:
        named = frozenset(response.accepted)
    fallback = response.error or VenueError(None, "the venue did not acknowledge this topic")
    accepted: list[str] = []
    refused: list[tuple[str, VenueError]] = []
    for topic in topics:
        error = own_errors.get(topic)
        if error is not None:
            refused.append((topic, error))
        elif (named is None and response.error is None) or (named is not None and topic in named):
            accepted.append(topic)
        else:
            refused.append((topic, fallback))
    return tuple(accepted), tuple(refused)
