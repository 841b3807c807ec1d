"""Running asyncio code (nats-py) from Trio: an asyncio loop in a worker thread the nursery owns.

nats-py is an asyncio library. Two structured ways exist to call it from
Trio: trio-asyncio (one thread, asyncio's loop emulated on top of Trio's) and
a real asyncio loop in a worker thread. We use the thread because it needs no
further dependency, keeps nats-py on the event loop it is written and tested
for, and costs one thread hop per *batch* (the sink hands over hundreds of
messages at a time, so the hop is amortised; ``benchmarks/bench_collect.py``
measures the end-to-end rate).

Structure: :func:`open_asyncio_bridge` is an async context manager. Entering
it starts the loop in a thread through ``trio.to_thread.run_sync`` inside a
nursery; leaving it cancels every asyncio task still running, stops the loop
and waits for the thread. Nothing outlives the block.

Cancellation and errors cross both ways:

- :meth:`AsyncioBridge.run` awaits an asyncio coroutine from Trio; when the
  Trio caller is cancelled, the asyncio task is cancelled too and the call
  waits (bounded by ``cancel_grace``) for it to finish before
  ``trio.Cancelled`` propagates, so no asyncio work outlives its Trio caller.
- An exception raised by the coroutine is re-raised in the Trio caller as is;
  an asyncio ``CancelledError`` that the Trio side did not ask for (the loop
  is shutting down) becomes :class:`BridgeClosed`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import trio

from .._session import unwrap_group
from ..errors import TrioVenuesError

__all__ = ["AsyncioBridge", "BridgeClosed", "open_asyncio_bridge"]

T = TypeVar("T")


class BridgeClosed(TrioVenuesError):
    """The asyncio loop behind the bridge is gone (its block was left)."""


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        # Cancel whatever is left and let it unwind, then close the loop.
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class AsyncioBridge:
    """Await asyncio coroutines from Trio (see the module docstring).

    Args:
        loop: the running asyncio loop (in its own thread).
        cancel_grace: seconds a cancelled call waits for its asyncio task to
            unwind before giving up on it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, cancel_grace: float = 5.0) -> None:
        self.loop = loop
        self.cancel_grace = cancel_grace
        self._closed = False

    async def run(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """Run ``fn(*args)`` on the asyncio loop and return its result in Trio.

        Raises:
            BridgeClosed: the bridge's block was left.
            Exception: whatever the coroutine raised.

        Cancelling the caller cancels the asyncio task (see the module docstring).
        """
        if self._closed:
            raise BridgeClosed("the asyncio bridge is closed")
        token = trio.lowlevel.current_trio_token()
        finished = trio.Event()
        result: list[T] = []
        error: list[BaseException] = []

        async def runner() -> None:
            # Runs on the asyncio loop. The outcome is stored before Trio is
            # woken, so reading it never waits on the other thread.
            try:
                result.append(await fn(*args))
            # A CancelledError is stored, not re-raised: the Trio side reads it
            # (our own cancellation, or the loop shutting down: BridgeClosed).
            except (Exception, asyncio.CancelledError) as exc:  # noqa: ASYNC103
                error.append(exc)
            finally:
                # The Trio run may have ended (nothing waits any more).
                with contextlib.suppress(trio.RunFinishedError):
                    token.run_sync_soon(finished.set)

        try:
            future = asyncio.run_coroutine_threadsafe(runner(), self.loop)
        except RuntimeError:
            raise BridgeClosed("the asyncio loop is not running") from None
        try:
            await finished.wait()
        except trio.Cancelled:
            # Cancel the asyncio task and wait (bounded) until it has unwound.
            with contextlib.suppress(RuntimeError):  # the loop already stopped
                self.loop.call_soon_threadsafe(future.cancel)
            with trio.move_on_after(self.cancel_grace) as scope:
                scope.shield = True
                await finished.wait()
            raise
        if error:
            exc = error[0]
            if isinstance(exc, asyncio.CancelledError):
                raise BridgeClosed("the asyncio loop shut down during the call") from None
            raise exc
        return result[0]

    def close(self) -> None:
        """Stop the loop (idempotent); calls in flight end with :class:`BridgeClosed`."""
        if not self._closed:
            self._closed = True
            self.loop.call_soon_threadsafe(self.loop.stop)


@asynccontextmanager
async def open_asyncio_bridge(cancel_grace: float = 5.0) -> AsyncIterator[AsyncioBridge]:
    """Start an asyncio loop in a worker thread for the duration of the block."""
    loop = asyncio.new_event_loop()
    bridge = AsyncioBridge(loop, cancel_grace)
    try:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.to_thread.run_sync, _run_loop, loop)
                try:
                    yield bridge
                finally:
                    bridge.close()
        finally:
            # The thread closes the loop; if the block ended before the thread
            # started (an immediate error), nothing ran on it: close it here.
            if not loop.is_closed():
                loop.close()
    except BaseExceptionGroup as group:
        unwrap_group(group)
