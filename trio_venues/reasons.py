"""Why a connection ended: :class:`DisconnectReason` and its subclasses.

Every way a connection can end maps to exactly one of these frozen value
classes, and each carries a ``retryable`` classification that
:func:`trio_venues.retry_scope` (or your own loop) uses to decide whether to
connect again. The close-code table lives in one place,
:func:`classify_close_code`; a venue core may override it per code (Binance
sends 1008 "Too many requests" as a rate signal, which is retryable there).

The table, after RFC 6455 section 7.4 and ``docs/reliability.md`` ("Retry table"):

======================  =========================================  =========
code                    meaning                                    retryable
======================  =========================================  =========
1000 normal             venues rotate sessions (Binance's 24 h)    yes
1001 going away         server restart                             yes
1002 protocol error     a bug on one side; repeating won't help    no
1003 unsupported data   incompatible feed                          no
1004 reserved           illegal on the wire                        no
1005 no status          illegal on the wire (we report 1005 when   yes
                        the close frame carried no code)
1006 abnormal           illegal on the wire                        yes
1007 invalid payload    bad UTF-8 / data                           no
1008 policy violation   per venue (auth or rate)                   no
1009 message too big    our limits or theirs                       no
1010 mandatory ext.     negotiation failed                         no
1011 internal error     server fault                               yes
1012 service restart    planned                                    yes
1013 try again later    overload: back off longer                  yes
1014 bad gateway        upstream failed                            yes
1015 TLS handshake      illegal on the wire                        no
1016-2999               unassigned/reserved                        no
3000-3999               registered (libraries, frameworks)         yes
4000-4999               private use: per-venue table               yes
>= 5000, < 1000         invalid                                    no
======================  =========================================  =========
"""

from __future__ import annotations

import attrs

__all__ = [
    "AuthenticationFailed",
    "ConnectAttemptFailed",
    "DisconnectReason",
    "HeartbeatTimeout",
    "InvalidMessage",
    "NetworkError",
    "ProtocolError",
    "RemoteClosed",
    "ResubscribeTimeout",
    "ServerRequested",
    "SlowConsumer",
    "UserInitiated",
    "classify_close_code",
    "close_code_name",
]

_CLOSE_CODE_NAMES: dict[int, str] = {
    1000: "NORMAL_CLOSURE",
    1001: "GOING_AWAY",
    1002: "PROTOCOL_ERROR",
    1003: "UNSUPPORTED_DATA",
    1004: "RESERVED",
    1005: "NO_STATUS_RCVD",
    1006: "ABNORMAL_CLOSURE",
    1007: "INVALID_FRAME_PAYLOAD_DATA",
    1008: "POLICY_VIOLATION",
    1009: "MESSAGE_TOO_BIG",
    1010: "MANDATORY_EXTENSION",
    1011: "INTERNAL_ERROR",
    1012: "SERVICE_RESTART",
    1013: "TRY_AGAIN_LATER",
    1014: "BAD_GATEWAY",
    1015: "TLS_HANDSHAKE",
}

# The one retry table for close codes 1000-1015 (RFC 6455 7.4.1, IANA registry).
_RETRYABLE_CLOSE: dict[int, bool] = {
    1000: True,
    1001: True,
    1002: False,
    1003: False,
    1004: False,
    1005: True,
    1006: True,
    1007: False,
    1008: False,
    1009: False,
    1010: False,
    1011: True,
    1012: True,
    1013: True,
    1014: True,
    1015: False,
}


def close_code_name(code: int) -> str:
    """Return the IANA name of a close code, or the range it falls in."""
    if code in _CLOSE_CODE_NAMES:
        return _CLOSE_CODE_NAMES[code]
    if 1016 <= code <= 2999:
        return "RESERVED_UNASSIGNED"
    if 3000 <= code <= 3999:
        return "REGISTERED"
    if 4000 <= code <= 4999:
        return "PRIVATE_USE"
    return "INVALID"


def classify_close_code(code: int) -> bool:
    """Return whether reconnecting after close ``code`` is worth trying."""
    if code in _RETRYABLE_CLOSE:
        return _RETRYABLE_CLOSE[code]
    return 3000 <= code <= 4999


@attrs.frozen
class DisconnectReason:
    """Base of every reason a connection ended."""

    @property
    def retryable(self) -> bool:
        """Whether connecting again may succeed without a change of config."""
        return False


@attrs.frozen
class UserInitiated(DisconnectReason):
    """The user left the ``async with`` block or called ``aclose()``."""

    @property
    def retryable(self) -> bool:
        """Never: connecting again cannot help without a change."""
        return False


def _default_close_retryable(self: RemoteClosed) -> bool:
    return classify_close_code(self.code)


@attrs.frozen
class RemoteClosed(DisconnectReason):
    """The server sent a close frame.

    Attributes:
        code: the close code as received (1005 when the frame had no code).
        reason: the close reason text as received.
        venue_retryable: a venue's own classification of this code, when its
            core overrides the generic table (e.g. Binance's 1008).
    """

    code: int
    reason: str = ""
    venue_retryable: bool | None = attrs.field(default=None, kw_only=True)

    @property
    def retryable(self) -> bool:
        """Per the classification described on this class."""
        if self.venue_retryable is not None:
            return self.venue_retryable
        return classify_close_code(self.code)

    @property
    def code_name(self) -> str:
        """The IANA name of :attr:`code`."""
        return close_code_name(self.code)


@attrs.frozen
class NetworkError(DisconnectReason):
    """The network failed mid-stream: reset, EOF without a close frame, a broken TLS stream."""

    details: str

    @property
    def retryable(self) -> bool:
        """Always: connecting again may succeed."""
        return True


@attrs.frozen
class ProtocolError(DisconnectReason):
    """The peer violated the WebSocket protocol; we sent ``close_code`` and closed.

    ``close_code`` is 1002 (framing), 1007 (invalid UTF-8) or 1009 (a message
    over ``max_message_size``).
    """

    details: str
    close_code: int = 1002

    @property
    def retryable(self) -> bool:
        """Never: connecting again cannot help without a change."""
        return False


@attrs.frozen
class InvalidMessage(DisconnectReason):
    """A message could not be decoded and the message policy is ``strict``."""

    details: str

    @property
    def retryable(self) -> bool:
        """Never: connecting again cannot help without a change."""
        return False


@attrs.frozen
class HeartbeatTimeout(DisconnectReason):
    """The peer went quiet: no pong or no data within the configured deadline.

    Attributes:
        silence: seconds since the last sign of life from the peer.
        kind: ``"pong"`` (a ping went unanswered), ``"data"`` (the staleness
            timeout fired) or ``"venue"`` (a venue-level ping went unanswered).
    """

    silence: float
    kind: str = "pong"

    @property
    def retryable(self) -> bool:
        """Always: connecting again may succeed."""
        return True


@attrs.frozen
class ServerRequested(DisconnectReason):
    """The venue announced a restart or shutdown (e.g. Binance ``serverShutdown``)."""

    details: str

    @property
    def retryable(self) -> bool:
        """Always: connecting again may succeed."""
        return True


@attrs.frozen
class AuthenticationFailed(DisconnectReason):
    """The venue rejected our credentials; never retryable."""

    details: str

    @property
    def retryable(self) -> bool:
        """Never: connecting again cannot help without a change."""
        return False


@attrs.frozen
class SlowConsumer(DisconnectReason):
    """The consumer fell behind under the ``disconnect`` overflow policy."""

    queued: int

    @property
    def retryable(self) -> bool:
        """Always: connecting again may succeed."""
        return True


# How many topics a ResubscribeTimeout names in its message; the rest are
# counted. A replay can carry hundreds of topics, and a log line that lists
# them all hides the sentence around them. ``topics`` always has every one.
_TOPICS_IN_MESSAGE = 5


@attrs.frozen
class ResubscribeTimeout(DisconnectReason):
    """The venue did not acknowledge the subscriptions ``retry_scope`` replayed in time.

    The new connection itself worked (``retry_scope`` closed it, with 1000),
    but the venue stayed silent about the replayed subscribe request, so the
    connection is of no use: no data would arrive on it. It is its own reason,
    not a :class:`NetworkError`, so that a ``should_retry`` predicate or a
    metric can tell a silent venue from a broken network. Retryable: a fresh
    connection may well be acknowledged.

    ``retry_scope`` reports it in :class:`~trio_venues.events.Reconnecting`
    and :class:`~trio_venues.errors.RetriesExhausted`; the connection's own
    ``Disconnected`` event says ``UserInitiated``, as the scope closed it.

    Attributes:
        topics: the replayed topics the venue did not acknowledge, in replay
            order; topics of batches acknowledged before the timeout are not
            included.
        timeout: the request timeout, in seconds, that expired.
    """

    topics: tuple[str, ...]
    timeout: float

    @property
    def retryable(self) -> bool:
        """Always: a fresh connection may well be acknowledged."""
        return True

    @property
    def details(self) -> str:
        """What happened, in one readable line (also ``str(reason)``)."""
        count = len(self.topics)
        shown = ", ".join(repr(topic) for topic in self.topics[:_TOPICS_IN_MESSAGE])
        if count > _TOPICS_IN_MESSAGE:
            shown += f" and {count - _TOPICS_IN_MESSAGE} more"
        what = f" of {count} topic{'' if count == 1 else 's'} ({shown})" if count else ""
        return (
            f"the venue did not acknowledge the resubscription{what} within {self.timeout}s; "
            "retry_scope closed the connection to try a new one"
        )

    def __str__(self) -> str:
        return self.details


@attrs.frozen
class ConnectAttemptFailed(DisconnectReason):
    """A connection attempt failed before the handshake completed.

    ``retry_scope`` reports this reason in :class:`~trio_venues.events.Reconnecting`
    and :class:`~trio_venues.errors.RetriesExhausted`. ``error`` is the
    :class:`~trio_venues.errors.ConnectFailed` raised by ``connect()``.
    """

    error: BaseException = attrs.field(eq=False)
    description: str = ""

    @property
    def retryable(self) -> bool:
        """Per the classification described on this class."""
        return bool(getattr(self.error, "retryable", False))
