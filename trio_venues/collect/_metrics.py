"""Prometheus metrics of a collector, served over HTTP by a small Trio server.

The counters live in a private ``prometheus_client.CollectorRegistry`` (one per
collector, so tests and several collectors in one process never share them).
They are served by :func:`serve_metrics`, a few lines of Trio over h11 (already
a dependency), rather than ``prometheus_client.start_http_server``, whose
server runs in a daemon thread outside our nursery: here the endpoint lives
and dies with the collector's nursery like every other task.
"""

from __future__ import annotations

from typing import Any

import h11
import trio

__all__ = ["CollectorMetrics", "serve_metrics"]


class CollectorMetrics:
    """The collector's counters and gauges (names prefixed ``trio_venues_``).

    Per venue and topic: messages, event-time lag; per venue: reconnects by
    reason, data gaps, sequence gaps, rotations by cause (gapless feeds); per
    sink: published, acked, duplicates, buffered, dropped.
    """

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages = Counter(
            "trio_venues_messages", "Venue messages received", ["venue", "topic"], registry=r
        )
        self.lag = Histogram(
            "trio_venues_event_lag_seconds",
            "Wall-clock receive time minus the venue's event time",
            ["venue"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.reconnects = Counter(
            "trio_venues_reconnects", "Reconnections by reason", ["venue", "reason"], registry=r
        )
        self.data_gaps = Counter(
            "trio_venues_data_gaps",
            "DataGap events (possible loss across a reconnect)",
            ["venue"],
            registry=r,
        )
        self.sequence_gaps = Counter(
            "trio_venues_sequence_gaps",
            "GapDetected events (a venue sequence jumped)",
            ["venue"],
            registry=r,
        )
        self.rotations = Counter(
            "trio_venues_rotations",
            "Make-before-break connection replacements of gapless feeds, by cause",
            ["venue", "cause"],
            registry=r,
        )
        self.published = Counter(
            "trio_venues_sink_published", "Records published", ["sink"], registry=r
        )
        self.acked = Counter(
            "trio_venues_sink_acked",
            "Records stored by the sink (not duplicates)",
            ["sink"],
            registry=r,
        )
        self.duplicates = Counter(
            "trio_venues_sink_duplicates", "Records the broker already had", ["sink"], registry=r
        )
        self.dropped = Counter(
            "trio_venues_sink_dropped",
            "Records dropped because the sink's buffer was full",
            ["sink"],
            registry=r,
        )
        self.buffered = Gauge(
            "trio_venues_sink_buffered",
            "Records waiting in the sink's buffer",
            ["sink"],
            registry=r,
        )

    def render(self) -> bytes:
        """The metrics in Prometheus' text format."""
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


async def _handle(stream: trio.SocketStream, metrics: CollectorMetrics) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        with trio.move_on_after(10):
            while True:
                event: Any = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await stream.receive_some(16384)
                    if not data:
                        return
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.Request):
                    ok = event.method == b"GET" and event.target.split(b"?")[0] == b"/metrics"
                    body = metrics.render() if ok else b"not found: try /metrics\n"
                    headers = [
                        ("content-type", "text/plain; version=0.0.4; charset=utf-8"),
                        ("content-length", str(len(body))),
                        ("connection", "close"),
                    ]
                    await stream.send_all(
                        conn.send(h11.Response(status_code=200 if ok else 404, headers=headers))
                        + conn.send(h11.Data(data=body))
                        + conn.send(h11.EndOfMessage())
                    )
                    return
                return
    except (h11.RemoteProtocolError, trio.BrokenResourceError, trio.ClosedResourceError):
        return
    finally:
        await trio.aclose_forcefully(stream)


async def serve_metrics(
    metrics: CollectorMetrics,
    port: int,
    host: str = "127.0.0.1",
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``GET /metrics`` on ``host:port`` until cancelled; ``started`` gets the port.

    ``port=0`` picks a free port (the started value says which).
    """
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]

    async def handler(stream: trio.SocketStream) -> None:
        await _handle(stream, metrics)

    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, handler, listeners)
        task_status.started(int(bound))
        await trio.sleep_forever()
