"""A virtual venue clock: milliseconds since the epoch that follow Trio's clock.

Fake venues stamp their messages with venue time (``E``, ``ts``, ``time``...),
and signed requests carry a timestamp the fake checks. Under ``MockClock`` the
wall clock would drift away from Trio's virtual time; give the same
:func:`virtual_clock_ms` clock to the fake and to the client instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import trio

__all__ = ["DEFAULT_EPOCH_MS", "virtual_clock_ms"]

#: 2023-11-14T22:13:20Z: where :func:`virtual_clock_ms` starts by default.
DEFAULT_EPOCH_MS: Final = 1_700_000_000_000


def virtual_clock_ms(start_ms: int = DEFAULT_EPOCH_MS) -> Callable[[], int]:
    """A millisecond clock that follows ``trio.current_time()``, starting at ``start_ms``.

    Give the same clock to a fake venue and to the client (for example
    ``BinanceSpotApi.connect(clock=...)``) so signed timestamps agree under
    ``MockClock``.
    """

    def now_ms() -> int:
        return start_ms + math.floor(trio.current_time() * 1000)

    return now_ms
