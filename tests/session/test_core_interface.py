"""The venue-core interface through the generic venue: log-on, per-topic acks, frames a core
sends unprompted, core timers, request batching and endpoints."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import pytest
import trio

from trio_venues import Credentials, ExponentialBackoff, RetryPolicy, retry_scope
from trio_venues._config import ConnectionConfig
from trio_venues._core import Output, SendContext, SendFrame, VenueCore
from trio_venues._ratelimit import LimitRule, VenueLimits
from trio_venues.errors import AuthenticationError, ConfigError, SubscriptionError
from trio_venues.events import Authenticated, Connected, Message, Subscribed
from trio_venues.testing import FakeVenueServer, GenericVenue
from trio_venues.venues.generic import GenericJson, GenericJsonCore

from ._helpers import connect

KEY, SECRET = "generic-key-1", "s3cr3t-generic-signing-secret"


@pytest.fixture
async def venue(nursery: trio.Nursery) -> AsyncIterator[FakeVenueServer[GenericVenue]]:
    """A generic fake that knows one API key and refuses bad topics one by one."""
    fake = FakeVenueServer(GenericVenue(logins={KEY: SECRET}, per_topic_refusals=True))
    await nursery.start(fake.run)
    yield fake
    fake.stop()


def _ops(fake: FakeVenueServer[Any]) -> list[str]:
    return [m.get("op") for m in fake.connection.received_json()]


# -- log-on -----------------------------------------------------------------------------


async def test_credentials_log_on_first_and_emit_authenticated(
    venue: FakeVenueServer[GenericVenue], kind: str
) -> None:
    """With credentials the log-on is the first frame; Authenticated follows Connected."""
    async with connect(venue, kind, credentials=Credentials(KEY, SECRET)) as ws:
        await ws.subscribe("a")
        first, second = list(ws.events.items())[:2]
        assert isinstance(first, Connected)
        assert second == Authenticated({"key": KEY})
        assert second.details == {"key": KEY}
        assert _ops(venue) == ["login", "subscribe"]


async def test_no_credentials_no_log_on(venue: FakeVenueServer[GenericVenue], kind: str) -> None:
    """Without credentials nothing is sent before the user's first request."""
    async with connect(venue, kind) as ws:
        await ws.subscribe("a")
        assert not any(isinstance(e, Authenticated) for e in ws.events.items())
    assert _ops(venue) == ["subscribe"]


async def test_refused_log_on_raises_authentication_error(
    venue: FakeVenueServer[GenericVenue], kind: str
) -> None:
    """A wrong secret: connect() raises AuthenticationError and the block never runs."""
    with pytest.raises(AuthenticationError) as info:
        async with connect(venue, kind, credentials=Credentials(KEY, "wrong")):
            pytest.fail("the block must not run")
    assert info.value.code == 401
    await venue.connection.wait_closed()
    assert _ops(venue) == ["login"]


async def test_unanswered_log_on_raises_after_request_timeout(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A venue that never answers the log-on: AuthenticationError after request_timeout."""

    class Silent(GenericVenue):
        async def on_message(self, conn: Any, message: str | bytes) -> None:
            if orjson.loads(message).get("op") != "login":
                await super().on_message(conn, message)

    fake = FakeVenueServer(Silent())
    await nursery.start(fake.run)
    with pytest.raises(AuthenticationError, match="did not answer") as info:
        async with connect(
            fake, "default", credentials=Credentials(KEY, SECRET), request_timeout=3
        ):
            pytest.fail("the block must not run")
    assert info.value.retryable
    assert trio.current_time() == pytest.approx(3.0)
    fake.stop()


class _EagerCore(GenericJsonCore):
    """Subscribes to ``"hello"`` on its own as soon as the connection is open."""

    def on_open(self, ctx: SendContext) -> Sequence[Output]:
        request_id = self.next_request_id()
        frame = self.encode_subscribe(["hello"], request_id, ctx)
        return [SendFrame(frame, "subscribe", request_id, ["hello"])]


class _Eager(GenericJson):
    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str, **kwargs: Any) -> VenueCore:
        return _EagerCore()


async def test_on_open_frames_follow_the_acknowledged_log_on(
    venue: FakeVenueServer[GenericVenue], kind: str
) -> None:
    """A core's on_open subscribe goes out after the log-on's ack and updates ws.subscriptions."""
    async with _Eager.connect(
        venue.url,
        transport=venue.memory_transport(kind),
        ping_interval=None,
        credentials=Credentials(KEY, SECRET),
    ) as ws:
        await venue.connection.wait_subscribed("hello")
        async for event in ws.events:
            if isinstance(event, Subscribed):
                assert event.topics == ("hello",)
                break
        assert ws.subscriptions == {"hello"}
    assert _ops(venue) == ["login", "subscribe"]


# -- per-topic outcomes ------------------------------------------------------------------


async def test_per_topic_refusals_keep_the_accepted_topics(
    venue: FakeVenueServer[GenericVenue], kind: str
) -> None:
    """A venue refusing single topics: SubscriptionError lists them, the others are subscribed."""
    async with connect(venue, kind) as ws:
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe("a", "bad1", "c", "bad2")
        assert ws.subscriptions == {"a", "c"}
        subscribed = [e for e in ws.events.items() if isinstance(e, Subscribed)]
        assert subscribed == [Subscribed(("a", "c"))]
    assert info.value.topics == ("bad1", "bad2")
    assert info.value.errors["bad2"].message == "unknown topic bad2"
    assert (info.value.code, info.value.message) == (400, "unknown topic bad1")


class _Chatty(GenericJsonCore):
    """Answers every data message of topic ``"ask"`` with an ``echo`` request of its own,
    and keeps a timer that sends a ``ping`` request every 5 seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.due: float | None = None

    def decode(self, data: str | bytes, received_at: float) -> Sequence[Output]:
        out = list(super().decode(data, received_at))
        if any(isinstance(o, Message) and o.topic == "ask" for o in out):
            frame = self.encode_request("echo", "answer", "unprompted")
            out.append(SendFrame(frame))
        return out

    def on_open(self, ctx: SendContext) -> Sequence[Output]:
        self.due = ctx.now + 5.0
        return ()

    def next_timer(self) -> float | None:
        return self.due

    def on_timer(self, ctx: SendContext) -> Sequence[Output]:
        assert self.due is not None
        assert ctx.now >= self.due
        self.due += 5.0
        return [SendFrame(self.encode_request("tick", ctx.now, f"t{ctx.now:g}"))]


class _ChattyClient(GenericJson):
    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str, **kwargs: Any) -> VenueCore:
        return _Chatty()


async def test_core_sends_unprompted_frames_and_runs_its_timer(
    server: FakeVenueServer[GenericVenue], autojump_clock: trio.abc.Clock
) -> None:
    """SendFrame from decode goes out at once; on_timer fires at the core's times (5 s, 10 s)."""
    async with _ChattyClient.connect(
        server.url, transport=server.memory_transport("default"), ping_interval=None
    ) as ws:
        await ws.subscribe("ask")
        await server.connection.send_text('{"topic":"ask","seq":1,"data":1}')
        await server.connection.wait_received(2)
        assert server.connection.received_json()[1]["method"] == "echo"
        await trio.sleep(11)
        ticks = [m for m in server.connection.received_json() if m.get("method") == "tick"]
        assert [m["params"] for m in ticks] == [5.0, 10.0]
        # The venue's answers to the core's own requests reach nobody: reported, not lost.
        unexpected = [e for e in ws.events.items() if type(e).__name__ == "ErrorEvent"]
        # Adjacent errors of one type coalesce into one counted event.
        assert sum(getattr(e, "count", 1) for e in unexpected) == 3


class _StuckTimer(GenericJsonCore):
    """A buggy core: its timer never moves on after firing."""

    def next_timer(self) -> float | None:
        return 1.0

    def on_timer(self, ctx: SendContext) -> Sequence[Output]:
        return ()


class _StuckClient(GenericJson):
    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str, **kwargs: Any) -> VenueCore:
        return _StuckTimer()


async def test_a_core_timer_that_never_advances_ends_the_connection(
    server: FakeVenueServer[GenericVenue], autojump_clock: trio.abc.Clock
) -> None:
    """A core bug in on_timer ends the connection with a reason, instead of a busy loop."""
    async with _StuckClient.connect(
        server.url, transport=server.memory_transport("default"), ping_interval=None
    ) as ws:
        with trio.fail_after(5):
            events = [e async for e in ws.events]
    reason = events[-1].reason  # type: ignore[attr-defined]
    assert "on_timer() left its timer" in str(reason)


# -- batching and endpoints ------------------------------------------------------------


def test_split_topics_respects_count_and_bytes() -> None:
    """The default split batches under the topics-per-request cap and max_request_bytes."""
    core = VenueCore()
    core.limits = VenueLimits(
        name="t",
        rules=(LimitRule("topics_per_request", 3, algorithm="cap"),),
        max_request_bytes=20,
    )
    # each topic "tN" costs 2 + 3 = 5 bytes: 4 would fit 20 bytes, the cap stops at 3
    assert core.split_topics("subscribe", ["t1", "t2", "t3", "t4"]) == [
        ("t1", "t2", "t3"),
        ("t4",),
    ]
    # "long-topic-name" costs 18 bytes: alone in its batch; a too-big topic is not dropped
    assert core.split_topics("subscribe", ["t1", "long-topic-name", "x" * 40]) == [
        ("t1",),
        ("long-topic-name",),
        ("x" * 40,),
    ]
    assert VenueCore().split_topics("subscribe", ["a", "b"]) == [("a", "b")]


def test_unknown_endpoint_is_a_config_error() -> None:
    """connect(endpoint=...) must name one of the venue's endpoints."""
    with pytest.raises(ConfigError, match="no endpoint 'private'"):
        GenericJson.connect("ws://127.0.0.1:1/", endpoint="private")


async def test_secret_never_in_logs_reprs_or_errors(
    venue: FakeVenueServer[GenericVenue], caplog: pytest.LogCaptureFixture
) -> None:
    """The secret appears in no DEBUG log, repr, event or error, on success or refusal."""
    caplog.set_level(logging.DEBUG)
    good, bad = Credentials(KEY, SECRET), Credentials(KEY, "another-" + SECRET)
    async with connect(venue, "default", credentials=good) as ws:
        shown = repr(ws) + repr(list(ws.events.items())) + repr(ws.stats) + str(good)
    with pytest.raises(AuthenticationError) as info:
        async with connect(venue, "default", credentials=bad):
            pass
    shown += repr(info.value) + str(info.value) + repr(info.value.__cause__) + caplog.text
    assert SECRET not in shown
    assert "another-" not in shown
    assert "<hidden>" in repr(good)


async def test_retry_scope_logs_on_again_on_every_connection(
    venue: FakeVenueServer[GenericVenue], autojump_clock: trio.abc.Clock
) -> None:
    """Under retry_scope each new connection logs on first, then the subscriptions replay."""
    policy = RetryPolicy(ExponentialBackoff(jitter=0), breaker=None)

    def factory() -> Any:
        return connect(venue, "default", credentials=Credentials(KEY, SECRET))

    async with retry_scope(factory, policy=policy) as ws:
        await ws.subscribe("a")
        first = await venue.wait_connected(1)
        await first.drop()
        authenticated = 0
        async for event in ws.events:
            if isinstance(event, Authenticated):
                authenticated += 1
                if authenticated == 2:
                    break
        second = await venue.wait_connected(2)
        await second.wait_subscribed("a")
    assert [m.get("op") for m in second.received_json()] == ["login", "subscribe"]


class _Flood(GenericJsonCore):
    """Sends 300 requests of its own at once, none of which the venue answers."""

    def on_open(self, ctx: SendContext) -> Sequence[Output]:
        frames = []
        for i in range(300):
            request_id = f"own{i}"
            frame = self.encode_request("silent", None, request_id, ctx)
            frames.append(SendFrame(frame, "request", request_id))
        return frames


class _FloodClient(GenericJson):
    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str, **kwargs: Any) -> VenueCore:
        return _Flood()


async def test_unanswered_requests_of_the_core_are_bounded(
    server: FakeVenueServer[GenericVenue],
) -> None:
    """A core's own requests are tracked up to 256 at once; older ones are abandoned."""
    async with _FloodClient.connect(
        server.url, transport=server.memory_transport("default"), ping_interval=None
    ) as ws:
        await server.connection.wait_received(300)
        assert ws.stats.pending_requests == 256
