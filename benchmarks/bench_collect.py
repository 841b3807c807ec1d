"""Collector throughput against a real nats-server: ``python -m benchmarks.bench_collect``.

Starts ``nats-server -js`` on 127.0.0.1 (from the ``nats`` extra), then:

- **publish**: N unified trades offered to a :class:`JetStreamSink`'s buffer,
  timed until every one is acknowledged by JetStream (batches of 256, one
  thread hop per batch through the asyncio bridge);
- **consume**: the same N read back with :func:`jetstream_events` and decoded
  into unified ``Trade`` objects.

Prints events per second for each (median of a few rounds); asserts nothing.
"""

from __future__ import annotations

import itertools
import statistics
from decimal import Decimal

import trio

from trio_venues.collect import JetStreamConfig, JetStreamSink, jetstream_events
from trio_venues.collect._records import record_for
from trio_venues.testing import nats_server
from trio_venues.unified import Trade


def _trades(start: int, n: int) -> list[Trade]:
    return [
        Trade(
            "binance",
            "BTC-USDT",
            "BTCUSDT",
            "buy",
            Decimal("97012.35"),
            Decimal("0.0015"),
            str(i),
            i,
            0.0,
        )
        for i in range(start, start + n)
    ]


async def _round(url: str, stream: str, n: int) -> tuple[float, float]:
    ids = itertools.count()
    prefix = stream.lower()
    records = [record_for(t, prefix, lambda: str(next(ids))) for t in _trades(1, n)]
    async with trio.open_nursery() as nursery:
        config = JetStreamConfig(servers=(url,), stream=stream, prefix=prefix)
        sink = JetStreamSink(config, print)
        await nursery.start(sink.run)
        start = trio.current_time()
        for record in records:
            sink.buffer.offer(record)
        # Polling the sink's counters: the benchmark must not add a hook to the sink.
        while sink.stats.acked + sink.stats.duplicates < n:  # noqa: ASYNC110
            await trio.sleep(0.001)
        publish = n / (trio.current_time() - start)
        nursery.cancel_scope.cancel(reason="round done")
    start = trio.current_time()
    got = 0
    async with jetstream_events((url,), stream=stream, subject=f"{prefix}.>", batch=512) as events:
        async for _ in events:
            got += 1
            if got == n:
                break
    consume = n / (trio.current_time() - start)
    return publish, consume


async def main(rounds: int = 3, n: int = 20_000) -> None:
    """Print the publish and consume rates."""
    pub: list[float] = []
    con: list[float] = []
    async with nats_server() as node:
        for i in range(rounds):
            p, c = await _round(node.url, f"BENCH{i}", n)
            pub.append(p)
            con.append(c)
    print(f"collector -> JetStream, {n:,} unified trades per round, median of {rounds} rounds")
    print(f"  publish, acked by JetStream  {statistics.median(pub):>10,.0f} events/s")
    print(f"  consume, decoded             {statistics.median(con):>10,.0f} events/s")


if __name__ == "__main__":
    trio.run(main)
