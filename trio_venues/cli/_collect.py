"""``trio-venues collect CONFIG.toml``: run a collector with a live status line and a summary.

The status line (stderr, refreshed every second on a terminal) shows each
feed's messages, what the sink published and acknowledged, and what is
buffered or dropped; the summary on exit (duration elapsed, Ctrl-C) repeats
the totals and lists the lifecycle events. ``--fake`` runs every feed against
its venue's fake server in-process (no network, no broker needed with the
default JSON-lines sink): the collect quick start in the README uses it.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import trio

from .._session import single_exception
from ..collect._collector import Collector
from ..collect._config import CollectorConfig, FeedConfig, load_config
from ..collect._jsonl import SinkClosed
from ..collect._metrics import CollectorMetrics, serve_metrics
from ..collect._records import CollectorEvent
from ..errors import ConfigError
from ._app import ExitCode, Output, Stopper

__all__ = ["CollectOptions", "run_collect"]


@attrs.frozen
class CollectOptions:
    """The ``collect`` command's arguments."""

    config: str
    metrics_port: int | None = None
    duration: float | None = None
    fake: bool = False


def _status(collector: Collector) -> str:
    feeds = "  ".join(
        f"{f.venue}: {f.messages} msgs, {f.reconnects} reconnects, {f.data_gaps} gaps, "
        f"{f.rotations} rotations"
        for f in collector.feeds
    )
    s = collector.sink.stats
    return (
        f"{feeds}  | {collector.sink.name}: {s.published} published, {s.acked} stored, "
        f"{s.duplicates} duplicates, {len(collector.buffer)} buffered, "
        f"{collector.buffer.dropped} dropped"
    )


async def _with_fakes(
    config: CollectorConfig, nursery: trio.Nursery
) -> tuple[CollectorConfig, dict[str, dict[str, Any]]]:
    """Start each feed's fake venue; point the feeds (and catalogues) at them."""
    from ..venues._registry import get_venue

    feeds: list[FeedConfig] = []
    options: dict[str, dict[str, Any]] = {}
    for feed in config.feeds:
        entry = get_venue(feed.venue)
        if entry.fake is None or entry.unified is None or entry.unified.fake_catalogue_url is None:
            raise ConfigError(f"{feed.venue} has no fake venue for --fake")
        server = entry.fake.server()
        await nursery.start(server.run)
        for topic in feed.topics:
            server.generate(topic, interval=0.05, count=10**9)
        feeds.append(
            attrs.evolve(
                feed,
                url=entry.fake.url(server, ()),
                catalogue_url=entry.unified.fake_catalogue_url(server),
            )
        )
        options[feed.venue] = {
            "transport": server.memory_transport(),
            **dict(entry.fake.client_options),
        }
    return attrs.evolve(config, feeds=tuple(feeds)), options


async def run_collect(options: CollectOptions, output: Output, stopper: Stopper) -> int:
    """Run the collector until ``--duration`` elapses or Ctrl-C; print the summary."""
    try:
        config = await trio.to_thread.run_sync(load_config, options.config)
    except ConfigError as exc:
        output.error(str(exc))
        return ExitCode.USAGE
    port = options.metrics_port if options.metrics_port is not None else config.metrics_port
    metrics = CollectorMetrics() if port is not None else None
    events: list[CollectorEvent] = []
    live = output.stderr.isatty() if hasattr(output.stderr, "isatty") else False
    box: list[Collector] = []
    failure: BaseException | None = None
    try:
        await _collect(options, config, port, metrics, events, live, output, stopper, box)
    except BaseExceptionGroup as group:
        failure = single_exception(group)
        if failure is None:
            raise
    except (SinkClosed, ConfigError) as exc:
        failure = exc
    if isinstance(failure, SinkClosed) and "broken pipe" in str(failure):
        return ExitCode.OK  # `collect ... | head`: the reader has what it wanted
    if isinstance(failure, ConfigError):
        output.error(str(failure))
        return ExitCode.USAGE
    if isinstance(failure, SinkClosed):
        output.error(str(failure))
        return ExitCode.FAILURE
    if failure is not None:
        raise failure
    collector = box[0] if box else None
    if live:
        print(file=output.stderr)
    if collector is not None:
        output.note("summary: " + _status(collector))
        for event in events[-20:]:
            output.note(f"  {event.event} {event.venue or 'sink'}: {event.detail}")
    return ExitCode.INTERRUPTED if stopper.interrupted else ExitCode.OK


async def _collect(
    options: CollectOptions,
    config: CollectorConfig,
    port: int | None,
    metrics: CollectorMetrics | None,
    events: list[CollectorEvent],
    live: bool,
    output: Output,
    stopper: Stopper,
    box: list[Collector],
) -> None:
    with stopper.scope():
        async with trio.open_nursery() as nursery:
            connect_options: dict[str, dict[str, Any]] = {}
            if options.fake:
                config, connect_options = await _with_fakes(config, nursery)
            if metrics is not None and port is not None:
                bound = await nursery.start(serve_metrics, metrics, port)
                output.note(f"metrics: http://127.0.0.1:{bound}/metrics")
            collector = Collector(
                config, connect_options=connect_options, on_event=events.append, metrics=metrics
            )
            box.append(collector)
            await nursery.start(collector.run)
            output.note(f"collecting {sum(len(f.topics) for f in config.feeds)} topic(s)")
            deadline = trio.current_time() + (options.duration or math.inf)
            while trio.current_time() < deadline:
                await trio.sleep(min(1.0, max(0.0, deadline - trio.current_time())))
                if live:
                    print("\r" + _status(collector), end="", file=output.stderr, flush=True)
            nursery.cancel_scope.cancel(reason="collect finished")
