"""Event-loop selection shared by the asyncio peers (uvloop when installed and asked for)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], loop: str) -> T:
    """Run ``coro`` on uvloop (``loop == "uvloop"`` and importable) or the stdlib loop."""
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(coro)
    return asyncio.run(coro)
