"""Per-operation costs from VenueLimits are charged before sending (through the generic venue)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import trio

from trio_venues import Credentials
from trio_venues._config import ConnectionConfig
from trio_venues._core import VenueCore
from trio_venues._ratelimit import LimitRule, VenueLimits
from trio_venues.errors import RateLimitExceeded
from trio_venues.testing import FakeVenueServer, GenericVenue
from trio_venues.venues.generic import GenericJson, GenericJsonCore

#: OKX's "480 subscribe/unsubscribe/login requests per hour per connection" [OKX-WS],
#: expressed as VenueLimits: one "operations" budget each of the three is charged to.
OKX_LIKE = VenueLimits(
    name="okx-like",
    rules=(LimitRule("operations", 480, 3600.0, source="OKX: 480 per hour per connection"),),
    costs={
        "subscribe": (("operations", 1.0),),
        "unsubscribe": (("operations", 1.0),),
        "login": (("operations", 1.0),),
    },
    connect_cost=(),
)


class OkxLike(GenericJson):
    """The generic venue with OKX's operation budget."""

    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str, **kwargs: Any) -> VenueCore:
        return GenericJsonCore(limits=OKX_LIKE)


def test_charges_are_one_message_plus_the_operation_costs() -> None:
    """charges(op): one message, then the operation's own costs; unknown operations: a message."""
    assert OKX_LIKE.charges("subscribe") == (("messages", 1.0), ("operations", 1.0))
    assert OKX_LIKE.charges("message") == (("messages", 1.0),)
    assert OKX_LIKE.charges("request") == (("messages", 1.0),)


async def test_okx_like_480_operations_per_hour_are_charged(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """The log-on and 479 subscribes use the hour's 480 operations; the next one is refused
    until the hour has passed, while plain requests stay free of the budget."""
    fake = FakeVenueServer(GenericVenue(logins={"k": "s"}))
    await nursery.start(fake.run)
    async with OkxLike.connect(
        fake.url,
        transport=fake.memory_transport("default"),
        ping_interval=None,
        credentials=Credentials("k", "s"),
    ) as ws:
        for i in range(479):
            await ws.subscribe(f"t{i}")
        assert await ws.request("echo", 1) == 1  # a request is not one of the operations
        with pytest.raises(RateLimitExceeded) as info:
            await ws.unsubscribe("t0")
        assert info.value.kind == "operations"
        assert 3599 < info.value.retry_after <= 3600 + 1
        assert fake.connection.received_count == 481  # nothing was sent for the refusal
        (window,) = ws.stats.rate_limits.for_kind("operations")
        assert window.used == 480
        await trio.sleep(info.value.retry_after)
        await ws.unsubscribe("t0")
        assert "t0" not in ws.subscriptions
    assert not math.isinf(info.value.retry_after)
    fake.stop()


FIVE_PER_SECOND = VenueLimits(
    name="five-per-second", rules=(LimitRule("messages", 5, 1.0),), connect_cost=()
)


class FivePerSecond(GenericJson):
    """The generic venue with a 5 messages per second limit (and the default margin)."""

    @classmethod
    def make_core(cls, config: ConnectionConfig, url: str, **kwargs: Any) -> VenueCore:
        return GenericJsonCore(limits=FIVE_PER_SECOND)


@pytest.mark.parametrize(("margin", "sixth_at"), [(None, 1.1), (0.25, 1.25), (0.0, 1.0)])
async def test_sends_are_paced_off_the_boundary_by_the_margin(
    nursery: trio.Nursery,
    autojump_clock: trio.abc.Clock,
    margin: float | None,
    sixth_at: float,
) -> None:
    """Under 'wait' the sixth message leaves at 1.1 s by default, as rate_limit_margin says."""
    fake = FakeVenueServer()
    await nursery.start(fake.run)
    async with FivePerSecond.connect(
        fake.url,
        transport=fake.memory_transport("default"),
        ping_interval=None,
        rate_limit_policy={"messages": "wait"},
        rate_limit_margin=margin,
    ) as ws:
        sent = []
        for i in range(6):
            await ws.send({"op": "noop", "n": i})
            sent.append(trio.current_time())
        assert sent == pytest.approx([0.0] * 5 + [sixth_at])
        (window,) = ws.stats.rate_limits.for_kind("messages")
        assert (window.window, window.margin) == (1.0, 0.1 if margin is None else margin)
    fake.stop()
