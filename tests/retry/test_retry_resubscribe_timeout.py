"""ResubscribeTimeout: a venue that does not acknowledge the replay is its own typed reason."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import attrs
import orjson
import pytest
import trio

from trio_venues import Connection, reasons
from trio_venues._retry import ExponentialBackoff, RetryPolicy, reason_label, retry_scope
from trio_venues.errors import RequestTimeout, RetriesExhausted
from trio_venues.events import (
    Connected,
    DataGap,
    Disconnected,
    ErrorEvent,
    Event,
    Reconnecting,
    Resubscribed,
)
from trio_venues.reasons import (
    DisconnectReason,
    NetworkError,
    RemoteClosed,
    ResubscribeTimeout,
    UserInitiated,
)
from trio_venues.testing import FakeVenueServer, GenericVenue, ServerConnection
from trio_venues.venues.generic import GenericJson

Clock = trio.abc.Clock


class AckSwitchVenue(GenericVenue):
    """The generic venue, except that it never answers a subscribe naming a muted topic.

    The request is still read and logged by the server, exactly as a venue
    that silently drops it would; the client's request timeout must fire.
    """

    def __init__(self) -> None:
        super().__init__()
        self.muted: set[str] = set()
        self.unanswered: list[tuple[str, ...]] = []

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Drop subscribe requests that name a muted topic; answer the rest as usual."""
        if isinstance(message, str) and self.muted:
            obj = orjson.loads(message)
            if isinstance(obj, dict) and obj.get("op") == "subscribe":
                topics = tuple(obj.get("args") or ())
                if self.muted.intersection(topics):
                    self.unanswered.append(topics)
                    return
        await super().on_message(conn, message)


async def start_venue(
    nursery: trio.Nursery,
) -> tuple[FakeVenueServer[AckSwitchVenue], AckSwitchVenue]:
    """An in-memory fake venue whose subscribe acks can be switched off."""
    venue = AckSwitchVenue()
    server = FakeVenueServer(venue)
    await nursery.start(server.run)
    return server, venue


def client_of(
    server: FakeVenueServer[Any], request_timeout: float
) -> AbstractAsyncContextManager[Connection]:
    """One connection attempt of the generic client, in memory, with this request timeout."""
    return GenericJson.connect(
        server.url,
        transport=server.memory_transport("default"),
        ping_interval=None,
        request_timeout=request_timeout,
    )


def exact(**options: Any) -> RetryPolicy:
    """Delays 0.5, 1, 2, 4, ... exactly; breaker off."""
    return RetryPolicy(ExponentialBackoff(jitter=0), breaker=None, **options)


# -- the reason itself (pure) ------------------------------------------------------------


def test_reason_is_retryable_frozen_and_exported() -> None:
    """ResubscribeTimeout is a retryable, frozen, hashable DisconnectReason in reasons.__all__."""
    reason = ResubscribeTimeout(("a@trade", "b@trade"), 4.0)
    assert isinstance(reason, DisconnectReason)
    assert reason.retryable is True
    assert (reason.topics, reason.timeout) == (("a@trade", "b@trade"), 4.0)
    assert reason == ResubscribeTimeout(("a@trade", "b@trade"), 4.0)
    assert reason != ResubscribeTimeout(("a@trade",), 4.0)
    assert hash(reason) == hash(ResubscribeTimeout(("a@trade", "b@trade"), 4.0))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        reason.timeout = 1.0  # type: ignore[misc]
    assert "ResubscribeTimeout" in reasons.__all__
    assert reasons.ResubscribeTimeout is ResubscribeTimeout


def test_message_names_the_topics_and_the_timeout() -> None:
    """str() says which topics went unacknowledged within how long, and what happens next."""
    reason = ResubscribeTimeout(("a@trade", "b@trade"), 4.0)
    assert (
        str(reason)
        == reason.details
        == (
            "the venue did not acknowledge the resubscription of 2 topics ('a@trade', 'b@trade') "
            "within 4.0s; retry_scope closed the connection to try a new one"
        )
    )
    one = ResubscribeTimeout(("a@trade",), 10.0)
    assert "of 1 topic ('a@trade') within 10.0s" in str(one)
    # A user's connection whose subscriptions claim every topic leaves none: still readable.
    assert str(ResubscribeTimeout((), 2.0)).startswith(
        "the venue did not acknowledge the resubscription within 2.0s;"
    )


def test_message_counts_topics_beyond_the_first_five() -> None:
    """A long replay names five topics and counts the rest; ``topics`` keeps them all."""
    topics = tuple(f"t{i}@trade" for i in range(8))
    reason = ResubscribeTimeout(topics, 10.0)
    assert (
        "of 8 topics ('t0@trade', 't1@trade', 't2@trade', 't3@trade', 't4@trade' and 3 more)"
        in (str(reason))
    )
    assert "t5@trade" not in str(reason)
    assert reason.topics == topics


def test_default_policy_retries_it_with_the_normal_backoff() -> None:
    """The default policy retries it with no floor; its reconnect label is the class name."""
    reason = ResubscribeTimeout(("a@trade",), 10.0)
    policy = RetryPolicy()
    assert policy.retries(reason)
    assert policy.floor(reason) == 0.0
    assert reason_label(reason) == "ResubscribeTimeout"
    # A user's predicate can now tell a silent venue from a broken network.
    quiet_venues_only = RetryPolicy(should_retry=lambda r: isinstance(r, ResubscribeTimeout))
    assert quiet_venues_only.retries(reason)
    assert not quiet_venues_only.retries(NetworkError("reset"))


# -- retry_scope over the real session and the fake venue ----------------------------------


async def test_unacknowledged_replay_reconnects_with_resubscribe_timeout(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """Silent venue: ResubscribeTimeout(topics, 4.0) at 4.5 s, reconnect at 5.5 s, Resubscribed."""
    server, venue = await start_venue(nursery)
    timeline: list[tuple[float, Event]] = []
    async with retry_scope(lambda: client_of(server, 4.0), policy=exact()) as ws:
        await ws.subscribe("a@trade", "b@trade")
        venue.muted = {"a@trade"}
        await server.connection.close(1012, "restart")
        # A virtual deadline: a scope that never reports the reason must fail, not spin.
        with trio.fail_after(60):
            async for event in ws.events:
                timeline.append((trio.current_time(), event))
                if isinstance(event, Reconnecting) and isinstance(event.reason, ResubscribeTimeout):
                    venue.muted = set()  # the venue acknowledges again from the next connection
                if isinstance(event, DataGap):
                    break
        assert ws.subscriptions == frozenset({"a@trade", "b@trade"})
    topics = ("a@trade", "b@trade")
    retries = [(t, e) for t, e in timeline if isinstance(e, Reconnecting)]
    assert retries == [
        (0.0, Reconnecting(1, 0.5, RemoteClosed(1012, "restart"))),
        (4.5, Reconnecting(2, 1.0, ResubscribeTimeout(topics, 4.0))),
    ]
    errors = [(t, e.error) for t, e in timeline if isinstance(e, ErrorEvent)]
    assert len(errors) == 1
    assert errors[0][0] == 4.5
    assert isinstance(errors[0][1], RequestTimeout)
    assert errors[0][1].timeout == 4.0
    # The scope closed the silent connection itself, with 1000.
    assert (4.5, Disconnected(UserInitiated())) in timeline
    assert server.connections[1].client_close == (1000, "")
    assert venue.unanswered == [topics]
    connected_at = [t for t, e in timeline if isinstance(e, Connected)]
    assert connected_at == [0.0, 0.5, 5.5]
    assert timeline[-2:] == [(5.5, Resubscribed(topics)), (5.5, DataGap(topics, 0.0, 5.5))]
    assert dict(ws.reconnects) == {"RemoteClosed 1012": 1, "ResubscribeTimeout": 1}
    assert len(server.connections) == 3


async def test_only_the_unacknowledged_batch_is_reported(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """52 topics go out as 50 + 2; only the unanswered second batch is in topics."""
    server, venue = await start_venue(nursery)
    topics = [f"t{i:02d}@trade" for i in range(52)]
    async with retry_scope(lambda: client_of(server, 10.0), policy=exact()) as ws:
        await ws.subscribe(*topics)
        venue.muted = {"t51@trade"}
        await server.connection.close(1012, "restart")
        with trio.fail_after(60):
            async for event in ws.events:
                if isinstance(event, Reconnecting) and isinstance(event.reason, ResubscribeTimeout):
                    reason = event.reason
                    at = trio.current_time()
                    break
    assert reason == ResubscribeTimeout(("t50@trade", "t51@trade"), 10.0)
    assert at == 10.5
    assert venue.unanswered == [("t50@trade", "t51@trade")]


async def test_should_retry_can_give_up_on_a_silent_venue_only(
    autojump_clock: Clock, nursery: trio.Nursery
) -> None:
    """A predicate that declines ResubscribeTimeout retries a 1012 but gives up on the silence."""
    server, venue = await start_venue(nursery)

    def should_retry(reason: DisconnectReason) -> bool:
        return reason.retryable and not isinstance(reason, ResubscribeTimeout)

    async def strategy() -> None:
        # max_attempts only bounds a scope that wrongly keeps retrying.
        policy = exact(should_retry=should_retry, max_attempts=3)
        async with retry_scope(lambda: client_of(server, 3.0), policy=policy) as ws:
            await ws.subscribe("a@trade")
            venue.muted = {"a@trade"}
            await server.connection.close(1012, "restart")
            await trio.sleep_forever()  # the scope cancels the body when it gives up

    with pytest.raises(RetriesExhausted, match="should_retry declined it") as caught:
        await strategy()
    assert caught.value.last_reason == ResubscribeTimeout(("a@trade",), 3.0)
    assert caught.value.attempts == 2
    assert trio.current_time() == 3.5
