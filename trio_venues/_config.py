"""``ConnectionConfig``: every setting of a connection, validated at construction."""

from __future__ import annotations

import math
import ssl
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeAlias

import attrs

from ._transport_types import TransportFactory
from .errors import ConfigError

__all__ = ["ConnectionConfig", "OverflowPolicy", "TopicOverflowPolicy"]

OverflowPolicy: TypeAlias = Literal["block", "disconnect"]
TopicOverflowPolicy: TypeAlias = Literal["drop_oldest", "conflate"]
LimitPolicy: TypeAlias = Literal["raise", "wait"]


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not value > 0:
        raise ConfigError(f"{attribute.name} must be > 0 (or None where allowed), got {value!r}")


def _at_least_zero(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ConfigError(f"{attribute.name} must be a finite number >= 0 or None, got {value!r}")


def _int_at_least_one(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{attribute.name} must be an int >= 1, got {value!r}")


def _one_of(*choices: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise ConfigError(f"{attribute.name} must be one of {choices}, got {value!r}")

    return check


def _check_transport(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, str):
        if value not in ("default", "fast", "trio-websocket"):
            raise ConfigError(
                f"transport must be 'default', 'fast', 'trio-websocket' or a factory, got {value!r}"
            )
    elif not callable(value):
        raise ConfigError(f"transport must be a name or a callable factory, got {value!r}")


def _check_topic_overflow(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for topic, policy in value.items():
        if policy not in ("drop_oldest", "conflate"):
            raise ConfigError(
                f"topic_overflow[{topic!r}] must be 'drop_oldest' or 'conflate', got {policy!r}"
            )


def _check_limit_policy(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for kind, policy in value.items():
        if policy not in ("raise", "wait"):
            raise ConfigError(
                f"rate_limit_policy[{kind!r}] must be 'raise' or 'wait', got {policy!r}"
            )


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        return tuple((str(k), str(v)) for k, v in value.items())
    return tuple((str(k), str(v)) for k, v in value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


def _frozen_mapping(value: Any) -> Mapping[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class ConnectionConfig:
    """Every setting of one connection. Frozen; validated at construction.

    ``Venue.connect(url, config=..., **options)`` accepts these field names as
    keyword options (an unknown name raises ``TypeError`` listing the valid ones).

    Attributes:
        url: the endpoint, used as given; ``connect(url)`` takes precedence.
        transport: ``"default"`` (the fast built-in transport), ``"trio-websocket"``,
            or a :data:`~trio_venues._transport.TransportFactory` (tests inject one).
        connect_timeout: bounds TCP connect, TLS and the handshake together (seconds).
        close_timeout: once any close starts, how long the closing handshake may
            take before the stream is closed forcefully.
        ping_interval: seconds between our WebSocket pings; ``None`` disables them.
        pong_timeout: a ping unanswered for this long ends the connection
            with :class:`~trio_venues.reasons.HeartbeatTimeout`.
        data_timeout: no message at all for this long ends the connection
            (``HeartbeatTimeout(kind="data")``); ``None`` disables it.
        max_message_size: largest message accepted, in bytes after
            decompression; a larger one closes with 1009.
        max_fragments: most frames one message may arrive in (1009 beyond).
        compression: offer permessage-deflate (fast transport only).
        event_buffer: capacity of ``ws.events``, in events.
        max_queued_bytes: how many bytes of decoded-but-undelivered messages
            the reader may hold beyond ``event_buffer`` while the consumer
            lags (it keeps reading so pings are still answered).
        overflow_policy: when both are full: ``"block"`` stops reading
            (TCP backpressure) or ``"disconnect"`` ends the connection with
            :class:`~trio_venues.reasons.SlowConsumer`.
        topic_overflow: per-topic opt-ins: ``"drop_oldest"`` (emits
            ``GapDetected``) or ``"conflate"`` (keep only the latest message).
        backpressure_threshold: fraction of ``event_buffer`` at which a
            :class:`~trio_venues.events.Backpressure` event warns.
        message_policy: ``"report"`` turns an undecodable message into an
            ``ErrorEvent``; ``"strict"`` ends the connection with ``InvalidMessage``.
        shutdown_notice: what a venue's planned-shutdown notice (Binance
            ``serverShutdown``, OKX 64008, Bybit maintenance) does:
            ``"disconnect"`` (default) ends the connection with
            ``ServerRequested``; ``"event"`` queues a
            :class:`~trio_venues.events.ShutdownNotice` and keeps the
            connection open until the venue closes it (so that a replacement
            can be opened first).
        headers: extra HTTP headers for the handshake.
        subprotocols: subprotocols to offer.
        ssl_context: TLS settings for ``wss://``; ``None`` uses the system defaults.
        request_timeout: default timeout of ``ws.request`` and ``ws.subscribe``.
        max_pending: most requests in flight at once.
        pending_policy: over ``max_pending``, ``"raise"`` or ``"wait"``.
        rate_limit_policy: per limit kind (``"messages"``, ``"subscriptions"``,
            ``"connections"``, ``"weight"``, ...), ``"raise"`` (default) or ``"wait"``.
        rate_limit_margin: seconds added to every window of the connection's
            own rate limits, so that latency jitter cannot make the venue
            count more than its limit (``None``: the venue's default,
            ``VenueLimits.margin``, 0.1 s; ``0`` paces on the exact boundary).
        venue_ping_interval: override the venue's own application-level ping
            interval (``None`` keeps the venue's default).
        stats_hook: called with ``ws.stats`` (a ``ConnectionStats``) every
            ``stats_interval`` seconds and once more when the connection ends:
            the place to export metrics (Prometheus, StatsD, logs). It must not block.
        stats_interval: seconds between ``stats_hook`` calls.
    """

    url: str | None = None
    transport: str | TransportFactory = attrs.field(default="default", validator=_check_transport)
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    close_timeout: float = attrs.field(default=5.0, validator=_positive)
    ping_interval: float | None = attrs.field(default=20.0, validator=_positive)
    pong_timeout: float = attrs.field(default=20.0, validator=_positive)
    data_timeout: float | None = attrs.field(default=None, validator=_positive)
    max_message_size: int = attrs.field(default=4 * 1024 * 1024, validator=_int_at_least_one)
    max_fragments: int = attrs.field(default=4096, validator=_int_at_least_one)
    compression: bool = True
    event_buffer: int = attrs.field(default=1024, validator=_int_at_least_one)
    max_queued_bytes: int = attrs.field(default=16 * 1024 * 1024, validator=_int_at_least_one)
    overflow_policy: OverflowPolicy = attrs.field(
        default="block", validator=_one_of("block", "disconnect")
    )
    topic_overflow: Mapping[str, TopicOverflowPolicy] = attrs.field(
        factory=dict, converter=_frozen_mapping, validator=_check_topic_overflow
    )
    backpressure_threshold: float = attrs.field(default=0.8)
    message_policy: Literal["report", "strict"] = attrs.field(
        default="report", validator=_one_of("report", "strict")
    )
    shutdown_notice: Literal["disconnect", "event"] = attrs.field(
        default="disconnect", validator=_one_of("disconnect", "event")
    )
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_headers)
    subprotocols: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    ssl_context: ssl.SSLContext | None = None
    request_timeout: float = attrs.field(default=10.0, validator=_positive)
    max_pending: int = attrs.field(default=1024, validator=_int_at_least_one)
    pending_policy: LimitPolicy = attrs.field(default="raise", validator=_one_of("raise", "wait"))
    rate_limit_policy: Mapping[str, LimitPolicy] = attrs.field(
        factory=dict, converter=_frozen_mapping, validator=_check_limit_policy
    )
    rate_limit_margin: float | None = attrs.field(default=None, validator=_at_least_zero)
    venue_ping_interval: float | None = attrs.field(default=None, validator=_positive)
    stats_hook: Callable[[Any], None] | None = None
    stats_interval: float = attrs.field(default=10.0, validator=_positive)

    @backpressure_threshold.validator
    def _check_threshold(self, attribute: attrs.Attribute[Any], value: float) -> None:
        if not 0 < value <= 1:
            raise ConfigError(f"backpressure_threshold must be in (0, 1], got {value!r}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The valid option names, in declaration order."""
        return tuple(a.name for a in attrs.fields(cls))

    @classmethod
    def build(
        cls, config: ConnectionConfig | None, url: str | None, options: Mapping[str, Any]
    ) -> ConnectionConfig:
        """Merge ``config``, ``url`` and keyword ``options`` (later wins).

        Raises:
            TypeError: an option is not a field name (the message lists the valid ones).
            ConfigError: a value is invalid.
        """
        valid = cls.field_names()
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise TypeError(
                f"unknown connection option(s) {unknown}; valid options are: {', '.join(valid)}"
            )
        base = config if config is not None else cls()
        changes = dict(options)
        if url is not None:
            changes["url"] = url
        return attrs.evolve(base, **changes) if changes else base
