"""Chaos: 200 random faults through the FaultProxy against a fake venue with 20 subscriptions.

After every reconnect, ``retry_scope`` must restore exactly the live
subscription set (acknowledged by the venue), report the outage with a
``DataGap`` naming exactly those topics, and leak no task, socket or memory.
"""

from __future__ import annotations

import gc
import os
import random
import tracemalloc
from typing import Any

import trio

from trio_venues import ConstantBackoff, RetryPolicy, retry_scope
from trio_venues.events import DataGap, Disconnected, Reconnecting, Resubscribed
from trio_venues.reasons import HeartbeatTimeout, NetworkError, RemoteClosed
from trio_venues.testing import FakeVenueServer, FaultProxy
from trio_venues.venues.generic import GenericJson

FAULTS = ("fin", "rst", "close", "stall", "reject")
CLOSE_CODES = (1001, 1011, 1012, 1014, 4000)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _tasks() -> int:
    root = trio.lowlevel.current_root_task()
    assert root is not None
    count, pending = 0, [root]
    while pending:
        task = pending.pop()
        count += 1
        for nursery in task.child_nurseries:
            pending.extend(nursery.child_tasks)
    return count


async def _until_gap(ws: Any, proxy: FaultProxy) -> tuple[list[Any], DataGap]:
    seen: list[Any] = []
    async for event in ws.events:
        if isinstance(event, Disconnected | Reconnecting | Resubscribed):
            seen.append(event)
        if isinstance(event, Disconnected):
            # A stalled link is detected by then: let the next connection through.
            proxy.server_to_client.resume()
            proxy.client_to_server.resume()
        if isinstance(event, DataGap):
            return seen, event
    raise AssertionError("the scope ended")


async def test_two_hundred_faults(nursery: trio.Nursery) -> None:
    """Every fault is followed by an acknowledged replay of exactly the live set and a DataGap."""
    # Short histories on the fake side, so the memory check sees the client's growth.
    fake: FakeVenueServer[Any] = FakeVenueServer(connection_log=4, log_size=64)
    port = await nursery.start(fake.serve_tcp)
    proxy = FaultProxy(port, connection_log=4, log_size=1024)
    await nursery.start(proxy.serve)
    url = proxy.rewrite(fake.url)
    rng = random.Random(20261121)
    policy = RetryPolicy(
        backoff=ConstantBackoff(0.002),
        floors={},
        breaker=None,
        stable_after=3600.0,
        rng=random.Random(7),
    )
    live = {f"t{i}" for i in range(20)}
    reasons: dict[str, int] = {}

    def factory() -> Any:
        return GenericJson.connect(url, ping_interval=0.05, pong_timeout=0.1, close_timeout=0.2)

    with trio.fail_after(120):
        async with retry_scope(factory, policy=policy) as ws:
            await ws.subscribe(*sorted(live))
            base_tasks, base_fds = _tasks(), _open_fds()
            for round_ in range(200):
                if round_ == 20:
                    gc.collect()
                    tracemalloc.start()
                    before = tracemalloc.take_snapshot()
                # Change the live set now and then: the replay must follow it.
                if round_ % 25 == 10:
                    gone = rng.sample(sorted(live), 2)
                    await ws.unsubscribe(*gone)
                    live -= set(gone)
                    added = {f"n{round_}a", f"n{round_}b"}
                    await ws.subscribe(*sorted(added))
                    live |= added
                fault = rng.choice(FAULTS)
                if fault == "fin":
                    await proxy.server_to_client.fin()
                elif fault == "rst":
                    await proxy.server_to_client.rst()
                elif fault == "stall":
                    proxy.server_to_client.pause()
                    proxy.client_to_server.pause()
                elif fault == "close":
                    await fake.connection.close(rng.choice(CLOSE_CODES), "chaos")
                else:
                    fake.reject(rng.choice((429, 500, 503)))
                    await proxy.server_to_client.rst()
                seen, gap = await _until_gap(ws, proxy)
                resubscribed = [e for e in seen if isinstance(e, Resubscribed)]
                disconnected = [e for e in seen if isinstance(e, Disconnected)]
                assert disconnected, fault
                kind = type(disconnected[0].reason).__name__
                reasons[kind] = reasons.get(kind, 0) + 1
                assert isinstance(
                    disconnected[0].reason, NetworkError | RemoteClosed | HeartbeatTimeout
                )
                assert len(resubscribed) == 1
                assert set(resubscribed[0].topics) == live
                assert set(gap.topics) == live
                assert gap.until >= gap.since
                assert fake.connection.subscriptions == live
                assert ws.subscriptions == live
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            diffs = after.compare_to(before, "filename")
            grown = sum(s.size_diff for s in diffs)
            # 180 reconnects: anything kept per connection would show here (a
            # connection's state is ~25 KiB); what remains is caches and the
            # last few connections' bounded logs.
            assert grown < 512 * 1024, [str(d) for d in diffs[:8]]
            assert _tasks() <= base_tasks + 2
            assert _open_fds() <= base_fds + 2
    assert set(reasons) >= {"NetworkError", "RemoteClosed", "HeartbeatTimeout"}
    proxy.stop()
    fake.stop()
