"""The asyncio bridge: results, errors and cancellation cross between Trio and asyncio."""

from __future__ import annotations

import asyncio
import threading

import pytest
import trio

from trio_venues.collect import BridgeClosed, open_asyncio_bridge


async def test_results_and_errors_cross_the_bridge() -> None:
    """An asyncio coroutine's result returns to Trio; its exception is raised there as is."""

    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    async def fail() -> None:
        raise KeyError("from asyncio")

    async with open_asyncio_bridge() as bridge:
        assert await bridge.run(add, 2, 3) == 5
        with pytest.raises(KeyError, match="from asyncio"):
            await bridge.run(fail)


async def test_cancelling_the_trio_caller_cancels_the_asyncio_task() -> None:
    """A cancelled Trio call cancels its asyncio task and waits for it to unwind."""
    unwound = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            unwound.set()

    async with open_asyncio_bridge() as bridge:
        with trio.move_on_after(0.1) as scope:
            await bridge.run(forever)
        assert scope.cancelled_caught
        assert unwound.is_set()


async def test_the_loop_runs_in_its_own_thread_and_stops_with_the_block() -> None:
    """The asyncio loop lives in a worker thread and is closed when the block ends."""

    async def thread_name() -> str:
        return threading.current_thread().name

    async with open_asyncio_bridge() as bridge:
        assert await bridge.run(thread_name) != threading.current_thread().name
        loop = bridge.loop
    assert loop.is_closed()

    async def nothing() -> None:
        return None

    with pytest.raises(BridgeClosed):
        await bridge.run(nothing)


async def test_an_error_in_the_block_propagates_unwrapped() -> None:
    """An exception raised in the block leaves as itself, not inside an exception group."""
    with pytest.raises(ValueError, match="mine"):
        async with open_asyncio_bridge():
            raise ValueError("mine")
