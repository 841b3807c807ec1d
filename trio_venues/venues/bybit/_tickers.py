"""Merging Bybit's linear/inverse ticker deltas into whole tickers (pure, no I/O).

On linear and inverse connections ``tickers.{symbol}`` sends one snapshot
after the subscription, then deltas that carry only the fields that changed:
a field missing from a delta keeps its last value (``docs/venues/bybit.md``,
"Tickers"). :class:`TickerMerger` keeps the last whole ticker of each topic as
the JSON object Bybit sent (so a field set to ``""``, Bybit's "no value", is
merged as a change, not mistaken for "unchanged") and builds the typed whole
ticker after each message, with the typed delta beside it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._wire import LinearTicker, TickerMessage, _drop_empty

__all__ = ["MissingTickerSnapshot", "TickerMerger"]


class MissingTickerSnapshot(LookupError):
    """A ticker delta arrived for a topic with no snapshot yet: it cannot be made whole."""

    def __init__(self, topic: str) -> None:
        super().__init__(
            f"ticker delta on {topic!r} before any snapshot: the whole ticker is unknown "
            "until Bybit sends a snapshot (resubscribe to get one)"
        )
        self.topic = topic


class TickerMerger:
    """Whole linear/inverse tickers from Bybit's snapshot + delta messages, per topic.

    :meth:`apply` takes one parsed ``tickers.*`` message (a ``dict``) and
    returns a :class:`TickerMessage` whose ``ticker`` is the whole ticker
    after it, and whose ``delta`` is the typed delta as received (``None``
    for a snapshot). A snapshot replaces what was known; a delta updates the
    fields it carries.
    """

    def __init__(self) -> None:
        self._state: dict[str, dict[str, Any]] = {}

    def __contains__(self, topic: object) -> bool:
        return topic in self._state

    def apply(self, obj: dict[str, Any]) -> TickerMessage[LinearTicker]:
        """Merge one ``tickers.*`` message; return the whole ticker (see the class docstring).

        Raises:
            MissingTickerSnapshot: a delta for a topic with no snapshot yet
                (nothing is stored for it).
            ValueError: the message is malformed (``msgspec.ValidationError``
                names the field); the stored ticker is left unchanged.
            TypeError: ``data`` is not a JSON object.
        """
        topic = obj["topic"]
        data = obj["data"]
        if type(data) is not dict:
            raise TypeError(f"ticker 'data' must be an object, got {type(data).__name__}")
        envelope = _drop_empty({k: v for k, v in obj.items() if k != "data"})
        if obj.get("type") == "delta":
            previous = self._state.get(topic)
            if previous is None:
                raise MissingTickerSnapshot(topic)
            merged = {**previous, **data}
            # Bybit's deltas name their symbol; should one not, it is the topic's.
            delta: LinearTicker | None = msgspec.convert(
                _drop_empty({"symbol": merged.get("symbol"), **data}), LinearTicker, strict=False
            )
        else:
            merged = dict(data)
            delta = None
        whole = msgspec.convert(_drop_empty(merged), LinearTicker, strict=False)
        message = msgspec.convert(
            {**envelope, "data": {"symbol": whole.symbol}}, TickerMessage[LinearTicker]
        )
        self._state[topic] = merged
        return msgspec.structs.replace(message, ticker=whole, delta=delta)

    def forget(self, topic: str) -> None:
        """Drop what is known of ``topic`` (after an unsubscribe or a reconnect)."""
        self._state.pop(topic, None)

    def clear(self) -> None:
        """Drop every topic (a new connection starts from snapshots)."""
        self._state.clear()
