"""The collector's configuration: a TOML file structured into attrs classes with cattrs.

Example (``collector.toml``)::

    name = "collector-a"          # unique per collector: its lifecycle ids carry it
    metrics_port = 9108           # optional: Prometheus metrics on 127.0.0.1:9108

    [sink]
    kind = "jetstream"            # or "jsonl" (the default: JSON lines, no server)
    servers = ["nats://127.0.0.1:4222"]
    stream = "MARKET"
    prefix = "md"
    replicas = 1

    [[feeds]]
    venue = "binance"
    topics = ["btcusdt@trade", "ethusdt@trade", "btcusdt@bookTicker"]
    # endpoint = "streams"        # the venue's endpoint (default: its market data)
    # url = "wss://..."           # override the endpoint's URL
    # catalogue_url = "wss://..." # where the instrument catalogue is fetched
    # unified = true              # false: publish the venue's own messages
    # gapless = true              # many connections: sharded, rotated before the
    #                             # venue's planned cuts (see docs/gapless.md)
    # copies = 2                  # live connections per shard (implies gapless)
    # urls = ["wss://a/stream", "wss://b/stream"]  # copy i uses urls[i % len]
    # rotate_margin = 600         # seconds before the venue's planned cut

A bad file is one :class:`~trio_venues.errors.ConfigError` listing every
problem with its path, the value and what is allowed; never a traceback.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from cattrs.v import format_exception

from ..errors import ConfigError
from ._jetstream import JetStreamConfig

__all__ = ["CollectorConfig", "FeedConfig", "SinkConfig", "load_config", "parse_config"]


def _nonempty(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


def _token(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value or any(c in value for c in ".*> \t"):
        raise ValueError(
            f"{attribute.name} must be one NATS subject token (no '.', '*', '>' or spaces), "
            f"got {value!r}"
        )


def _at_least_one(_: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, got {value!r}")


def _not_negative(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class FeedConfig:
    """One venue feed: a venue, its topics and how to publish them.

    With ``gapless`` (implied by ``copies > 1`` or ``urls``) the feed runs
    under :func:`~trio_venues.gapless.gapless_feed`: its topics are sharded
    over as many connections as the venue's limits need, each connection is
    replaced make-before-break before the venue's planned cut and on
    shutdown notices, and ``copies`` connections carry each shard (copy
    ``i`` to ``urls[i % len(urls)]``), every message published once.
    """

    venue: str
    topics: tuple[str, ...] = attrs.field(validator=_nonempty)
    endpoint: str | None = None
    url: str | None = None
    catalogue_url: str | None = None
    unified: bool = True
    gapless: bool = False
    copies: int = attrs.field(default=1, validator=_at_least_one)
    urls: tuple[str, ...] = ()
    rotate_margin: float = attrs.field(default=600.0, validator=_not_negative)

    @property
    def uses_gapless(self) -> bool:
        """Whether this feed runs under ``gapless_feed``."""
        return self.gapless or self.copies > 1 or bool(self.urls)


@attrs.frozen(kw_only=True)
class SinkConfig:
    """Where records go: ``jsonl`` (a file, or ``-`` for stdout) or ``jetstream``."""

    kind: Literal["jsonl", "jetstream"] = "jsonl"
    path: str = "-"
    servers: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    stream: str = attrs.field(default="MARKET", validator=_token)
    prefix: str = attrs.field(default="md", validator=_token)
    replicas: int = 1
    duplicate_window: float = 120.0
    batch_size: int = 256
    buffer_records: int = 100_000
    buffer_bytes: int = 64 * 1024 * 1024

    def jetstream(self) -> JetStreamConfig:
        """The JetStream settings of this sink."""
        return JetStreamConfig(
            servers=self.servers,
            stream=self.stream,
            prefix=self.prefix,
            replicas=self.replicas,
            duplicate_window=self.duplicate_window,
            batch_size=self.batch_size,
            buffer_records=self.buffer_records,
            buffer_bytes=self.buffer_bytes,
        )


@attrs.frozen(kw_only=True)
class CollectorConfig:
    """A whole collector: its name, feeds, sink and optional metrics port."""

    name: str = attrs.field(validator=_token)
    feeds: tuple[FeedConfig, ...] = attrs.field(validator=_nonempty)
    sink: SinkConfig = attrs.field(factory=SinkConfig)
    metrics_port: int | None = None


_converter = cattrs.Converter(forbid_extra_keys=True)


_LITERAL = re.compile(r"unknown error \((.*) not in literal typing\.Literal\[(.*)\]\)")


def _readable(line: str) -> str:
    # cattrs words a bad Literal as an "unknown error"; say what is allowed instead.
    match = _LITERAL.match(line)
    if match is not None:
        return (
            f"{match.group(1)!r} is not allowed (allowed: {match.group(2)})" + line[match.end() :]
        )
    return line.replace("invalid value for type", "invalid value")


def _format(exc: BaseException, type_: Any) -> str:
    # Our validators' ValueErrors say what is allowed: keep their words.
    if type(exc) is ValueError and exc.args:
        return f"invalid value: {exc.args[0]}"
    return format_exception(exc, type_)


def _problems(exc: BaseException) -> list[str]:
    if isinstance(exc, ClassValidationError | ForbiddenExtraKeysError):
        lines = cattrs.transform_error(exc, path="config", format_exception=_format)
        return [_readable(line) for line in lines]
    return [f"config: {exc}"]


def parse_config(doc: dict[str, Any]) -> CollectorConfig:
    """Structure a parsed TOML document.

    Raises:
        ConfigError: every problem at once, one per line, with its path.
    """
    try:
        config = _converter.structure(doc, CollectorConfig)
    except Exception as exc:  # cattrs' errors are exception groups: ours at the edge
        problems = _problems(exc)
        raise ConfigError("invalid collector configuration:\n  " + "\n  ".join(problems)) from None
    from ..venues._registry import get_venue

    problems = []
    for i, feed in enumerate(config.feeds):
        try:
            entry = get_venue(feed.venue)
            entry.client(feed.endpoint)
        except ConfigError as exc:
            problems.append(f"config.feeds[{i}].venue/endpoint: {exc}")
            continue
        if feed.unified and entry.unified is None:
            problems.append(
                f"config.feeds[{i}].unified: {feed.venue} has no unified form yet; "
                "set unified = false to publish its own messages"
            )
        for topic in feed.topics:
            if not entry.topics.is_valid(topic):
                problems.append(
                    f"config.feeds[{i}].topics: {topic!r} is not a {feed.venue} topic "
                    f"({entry.topics.help})"
                )
    if config.sink.kind == "jetstream" and not config.sink.servers:
        problems.append("config.sink.servers: a jetstream sink needs at least one server URL")
    if problems:
        raise ConfigError("invalid collector configuration:\n  " + "\n  ".join(problems))
    return config


def load_config(path: str | Path) -> CollectorConfig:
    """Read and check a collector's TOML file (see the module docstring).

    Raises:
        ConfigError: the file is missing, not TOML, or not a valid configuration.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(doc)
