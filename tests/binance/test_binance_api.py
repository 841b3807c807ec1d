"""BinanceSpotApi against the fake: weight, signing, logon, user data, timeouts, bans."""

from __future__ import annotations

import logging

import pytest
import trio

from trio_venues import BinanceSpot, BinanceSpotApi, Credentials
from trio_venues.errors import (
    AuthenticationError,
    ConfigError,
    RateLimitExceeded,
    RequestTimeout,
    VenueError,
)
from trio_venues.events import Authenticated, Connected, Disconnected
from trio_venues.reasons import AuthenticationFailed, ServerRequested
from trio_venues.testing import virtual_clock_ms
from trio_venues.testing.binance import (
    FakeBinance,
    binance_server,
    ed25519_test_key,
    hmac_test_key,
    rsa_test_key,
)
from trio_venues.venues.binance import (
    STREAM_URL,
    TESTNET_STREAM_URL,
    AccountPosition,
    Ed25519Signer,
    HmacSigner,
    StreamTerminated,
    UserDataEvent,
    request_weight,
)

from ._helpers import Fake, api, drain, messages


def _weight_used(ws: object) -> float:
    (window,) = ws.stats.rate_limits.for_kind("weight")  # type: ignore[attr-defined]
    return float(window.used)


def test_request_weights_follow_the_docs() -> None:
    """depth weighs 5/25/50/250 by limit; ping 1; session requests 2; unknown methods 1."""
    assert [request_weight("depth", {"limit": n}) for n in (1, 100, 101, 500, 501, 1000)] == [
        5,
        5,
        25,
        25,
        50,
        50,
    ]
    assert request_weight("depth", {"limit": 5000}) == 250
    assert request_weight("depth") == 5  # default limit 100
    assert request_weight("ping") == request_weight("time") == 1
    assert request_weight("session.logon") == request_weight("userDataStream.subscribe") == 2
    assert request_weight("openOrders.status") == 80
    assert request_weight("openOrders.status", {"symbol": "BTCUSDT"}) == 6
    assert request_weight("brand.new.method") == 1


@pytest.mark.parametrize("query", ["", "?returnRateLimits=false"])
async def test_depth_weight_visible_in_stats(
    fake: Fake, kind: str, query: str, autojump_clock: trio.abc.Clock
) -> None:
    """Connecting costs 2 weight and depth(limit=1000) 50: ws.stats and the venue agree,
    whether or not the venue reports its count (without reports it is our own count)."""
    async with api(fake, kind, query=query) as ws:
        assert _weight_used(ws) == 2
        snapshot = await ws.depth("btcusdt", limit=1000)
        assert _weight_used(ws) == 52
        assert fake.behaviour.weight_used == 52
        market = fake.behaviour.market("BTCUSDT")
        assert snapshot.last_update_id == market.update_id
        assert list(snapshot.decimal_bids()) == market.bids[:1000]
        assert list(snapshot.decimal_asks()) == market.asks[:1000]
        await ws.depth("BTCUSDT", limit=5000)
        assert _weight_used(ws) == fake.behaviour.weight_used == 302
        assert await ws.server_time() == 1_700_000_000_000
        assert await ws.ping() == 0.0
        assert _weight_used(ws) == 304


async def test_venue_usage_report_tightens_the_local_budget(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """A venue limit below ours (rateLimits) is adopted: the next request is refused locally."""
    fake = binance_server(FakeBinance(clock=virtual_clock_ms(), weight_limit=60))
    await nursery.start(fake.run)
    async with api(fake) as ws:
        await ws.depth("BTCUSDT", limit=1000)  # 2 + 50 of 60
        sent = fake.connection.received_count
        with pytest.raises(RateLimitExceeded) as info:
            await ws.depth("BTCUSDT", limit=1000)
        assert info.value.kind == "weight"
        assert fake.connection.received_count == sent
        await trio.sleep(info.value.retry_after)
        await ws.depth("BTCUSDT", limit=1000)


async def test_ban_418_blocks_the_weight_budget(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """A 418 carries retryAfter; the limiter then refuses locally until it has passed."""
    async with api(fake) as ws:
        fake.behaviour.ban(120)
        await trio.sleep(20)
        with pytest.raises(VenueError) as info:
            await ws.ping()
        assert info.value.status == 418
        assert info.value.code == -1003
        assert info.value.retry_after == 100.0
        assert info.value.retryable
        sent = fake.connection.received_count
        with pytest.raises(RateLimitExceeded) as refused:
            await ws.ping()
        assert refused.value.kind == "weight"
        assert refused.value.retry_after == 100.0
        assert fake.connection.received_count == sent
        await trio.sleep(100)
        await ws.ping()


async def test_logon_and_user_data_event(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """logon=True logs on before the block (Authenticated); user events arrive as userData."""
    key = ed25519_test_key()
    async with api(fake, kind, signer=key.signer(), logon=True) as ws:
        assert ws.logged_on
        connected, authenticated = list(ws.events.items())[:2]
        assert isinstance(connected, Connected)
        assert isinstance(authenticated, Authenticated)
        assert authenticated.details["apiKey"] == key.api_key[:4] + "..."
        assert authenticated.details["authorizedSince"] == 1_700_000_000_000
        subscription = await ws.subscribe_user_data()
        assert subscription == 0
        peer = fake.behaviour.peer(fake.connection)
        assert peer.user_subscriptions == {0: (key.api_key, True)}
        assert (await ws.session_status())["userDataStream"] is True
        position = fake.behaviour.account_position()
        assert await fake.behaviour.send_user_event(position) == 1
        (message,) = await messages(ws, 1)
        assert message.topic == "userData"
        assert message.data == UserDataEvent(0, position)
        assert isinstance(message.data.event, AccountPosition)
        await ws.logout()
        (ended,) = await messages(ws, 1)
        assert isinstance(ended.data.event, StreamTerminated)
        assert not ws.logged_on
    methods = [m for _, m in peer.requests]
    assert methods == [
        "session.logon",
        "userDataStream.subscribe",
        "session.status",
        "session.logout",
    ]


@pytest.mark.parametrize("key_kind", ["hmac", "rsa"])
async def test_user_data_by_signature_without_logon(
    fake: Fake, key_kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """Without a logon (HMAC or RSA key) subscribe_user_data signs the subscription."""
    key = hmac_test_key() if key_kind == "hmac" else rsa_test_key()
    fake.behaviour.add_key(key)
    async with api(fake, signer=key.signer()) as ws:
        assert await ws.subscribe_user_data() == 0
        await fake.behaviour.send_user_event(fake.behaviour.account_position())
        (message,) = await messages(ws, 1)
        assert isinstance(message.data.event, AccountPosition)
        sent = fake.connection.received_json()[0]
        assert sent["method"] == "userDataStream.subscribe.signature"
        assert set(sent["params"]) == {"apiKey", "timestamp", "signature"}
        with pytest.raises(ConfigError):
            await ws.logon()  # Ed25519 only: refused before anything is sent
        assert fake.connection.received_count == 1


async def test_request_timeout(fake: Fake, kind: str, autojump_clock: trio.abc.Clock) -> None:
    """A request the venue never answers raises RequestTimeout at exactly its timeout."""
    fake.behaviour.silence("time")
    async with api(fake, kind) as ws:
        with pytest.raises(RequestTimeout) as info:
            await ws.request("time", timeout=2.5)
        assert trio.current_time() == 2.5
        assert info.value.method == "time"
        fake.behaviour.unsilence("time")
        assert await ws.server_time() == 1_700_000_002_500


async def test_rejected_signature_is_authentication_error(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A wrong secret gets -1022 and an unknown key -2015: both AuthenticationError."""
    registered = hmac_test_key()
    wrong_secret = HmacSigner(registered.api_key, b"not the secret")
    async with api(fake, signer=wrong_secret) as ws:
        with pytest.raises(AuthenticationError) as info:
            await ws.subscribe_user_data()
        assert info.value.code == -1022
        assert info.value.status == 400
        assert not info.value.retryable
    stranger = HmacSigner("x" * 64, b"secret")
    async with api(fake, signer=stranger) as ws:
        with pytest.raises(AuthenticationError) as unknown:
            await ws.signed_request("account.status")
        assert unknown.value.code == -2015


async def test_logon_rejected_at_connect(fake: Fake, autojump_clock: trio.abc.Clock) -> None:
    """logon=True with an unregistered Ed25519 key: connect raises AuthenticationError."""
    stranger = Ed25519Signer("y" * 64, ed25519_test_key("someone else").private_key_pem())
    with pytest.raises(AuthenticationError):
        async with api(fake, signer=stranger, logon=True):
            pytest.fail("the block must not run")
    await fake.connection.wait_closed()
    with pytest.raises(ConfigError):
        api(fake, signer=hmac_test_key().signer(), logon=True)


async def test_clock_skew_is_a_retryable_venue_error(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """A timestamp outside recvWindow gets -1021, retryable after a time sync."""
    late = virtual_clock_ms(1_700_000_000_000 - 6000)
    async with api(fake, signer=hmac_test_key().signer(), clock=late) as ws:
        with pytest.raises(VenueError) as info:
            await ws.signed_request("account.status")
        assert info.value.code == -1021
        assert info.value.retryable
    async with api(fake, signer=hmac_test_key().signer(), clock=late, recv_window=10_000) as ws:
        status = await ws.signed_request("account.status")
        assert status["balances"][0]["asset"] == "BTC"


async def test_api_server_shutdown_and_revoked_session(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """WS-API serverShutdown ends with ServerRequested; a revoked key with AuthenticationFailed."""
    async with api(fake, kind) as ws:
        assert await fake.behaviour.notify_shutdown() == 1
        last = (await drain(ws))[-1]
    assert isinstance(last, Disconnected)
    assert isinstance(last.reason, ServerRequested)
    async with api(fake, kind, signer=ed25519_test_key().signer(), logon=True) as ws:
        await fake.behaviour.revoke_session(fake.connection)
        last = (await drain(ws))[-1]
    assert isinstance(last, Disconnected)
    assert isinstance(last.reason, AuthenticationFailed)
    assert not last.reason.retryable


async def test_credentials_never_logged_or_shown(
    fake: Fake, caplog: pytest.LogCaptureFixture, autojump_clock: trio.abc.Clock
) -> None:
    """No secret, private key or signature appears in logs, reprs or events."""
    caplog.set_level(logging.DEBUG)
    key = ed25519_test_key()
    signer = key.signer()
    async with api(fake, signer=signer, logon=True) as ws:
        await ws.subscribe_user_data()
        events = list(ws.events.items())
    signatures = [
        m["params"]["signature"] for m in fake.connection.received_json() if "params" in m
    ]
    assert signatures
    pem = key.private_key_pem().decode()
    shown = caplog.text + repr(signer) + repr(key) + repr(ws) + repr(events)
    for secret in [*signatures, pem.splitlines()[1], key.api_key]:
        assert secret not in shown


async def test_credentials_log_on_like_logon_true(
    fake: Fake, kind: str, autojump_clock: trio.abc.Clock
) -> None:
    """credentials= with an Ed25519 PEM logs on (2 weight) before the block, as logon=True."""
    key = ed25519_test_key()
    credentials = Credentials(key.api_key, key.private_key_pem().decode())
    async with api(fake, kind, credentials=credentials) as ws:
        assert ws.logged_on
        assert _weight_used(ws) == 2 + 2  # connecting, then session.logon's weight
        authenticated = list(ws.events.items())[1]
        assert isinstance(authenticated, Authenticated)
        assert authenticated.details["apiKey"] == key.api_key[:4] + "..."
        assert await ws.subscribe_user_data() == 0
    peer = fake.behaviour.peer(fake.connection)
    assert [m for _, m in peer.requests] == ["session.logon", "userDataStream.subscribe"]


async def test_hmac_credentials_sign_requests_without_log_on(
    fake: Fake, autojump_clock: trio.abc.Clock
) -> None:
    """credentials= with an HMAC secret: no log-on, signed requests work."""
    key = hmac_test_key()
    fake.behaviour.add_key(key)
    credentials = Credentials(key.api_key, key._secret.decode())  # the test key's secret text
    async with api(fake, credentials=credentials) as ws:
        assert not ws.logged_on
        assert await ws.subscribe_user_data() == 0
    with pytest.raises(ConfigError, match="Ed25519"):
        api(fake, credentials=credentials, logon=True)
    with pytest.raises(ConfigError, match="not both"):
        api(fake, credentials=credentials, signer=key.signer())


def test_binance_endpoints() -> None:
    """Each Binance client names its endpoints; the default is the production one."""
    assert BinanceSpot.resolve_endpoint(None, None) == ("public", STREAM_URL)
    assert BinanceSpot.resolve_endpoint(None, "testnet") == ("testnet", TESTNET_STREAM_URL)
    assert BinanceSpotApi.resolve_endpoint("ws://x/", "testnet") == ("testnet", "ws://x/")
    with pytest.raises(ConfigError, match="no endpoint 'private'"):
        BinanceSpotApi.connect(endpoint="private")
