"""The close-code table and the retryable classification of every reason and error."""

from __future__ import annotations

import pytest

from trio_venues import errors, reasons


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (1000, True),
        (1001, True),
        (1002, False),
        (1003, False),
        (1004, False),
        (1005, True),
        (1006, True),
        (1007, False),
        (1008, False),
        (1009, False),
        (1010, False),
        (1011, True),
        (1012, True),
        (1013, True),
        (1014, True),
        (1015, False),
        (1016, False),
        (2999, False),
        (3000, True),
        (3999, True),
        (4000, True),
        (4999, True),
        (5000, False),
        (999, False),
    ],
)
def test_close_code_table(code: int, retryable: bool) -> None:
    """Every close-code family has its documented classification."""
    assert reasons.RemoteClosed(code).retryable is retryable
    assert reasons.classify_close_code(code) is retryable


def test_close_code_names() -> None:
    """Close codes have IANA names or their range's name."""
    assert reasons.RemoteClosed(1014).code_name == "BAD_GATEWAY"
    assert reasons.close_code_name(2500) == "RESERVED_UNASSIGNED"
    assert reasons.close_code_name(3001) == "REGISTERED"
    assert reasons.close_code_name(4004) == "PRIVATE_USE"
    assert reasons.close_code_name(7000) == "INVALID"


def test_venue_override() -> None:
    """A venue core may override the table per code (Binance 1008 is a rate signal)."""
    assert reasons.RemoteClosed(1008, "Too many requests", venue_retryable=True).retryable


def test_other_reasons() -> None:
    """Each reason class has its fixed classification."""
    assert not reasons.UserInitiated().retryable
    assert reasons.NetworkError("reset").retryable
    assert not reasons.ProtocolError("rsv").retryable
    assert not reasons.InvalidMessage("x").retryable
    assert reasons.HeartbeatTimeout(20.0).retryable
    assert reasons.ServerRequested("shutdown").retryable
    assert not reasons.AuthenticationFailed("bad key").retryable
    assert reasons.SlowConsumer(10).retryable
    assert not reasons.DisconnectReason().retryable


@pytest.mark.parametrize(
    ("status", "retryable"), [(403, False), (429, True), (503, True), (418, True), (400, False)]
)
def test_handshake_rejected_retryable(status: int, retryable: bool) -> None:
    """Handshake rejections are retryable only for transient statuses."""
    exc = errors.HandshakeRejected("no", status=status, retry_after=3.0)
    assert exc.retryable is retryable
    assert reasons.ConnectAttemptFailed(exc).retryable is retryable


def test_tls_failure_not_retryable() -> None:
    """A TLS failure is fatal until the configuration changes."""
    assert not errors.TLSFailed("bad cert", ssl_reason="CERTIFICATE_VERIFY_FAILED").retryable
    assert errors.ConnectionRefused("refused").retryable


def test_messages_are_actionable() -> None:
    """Error messages say what happened and what to do."""
    exc = errors.RateLimitExceeded("messages", "5 per 1s", 0.25)
    assert "retry in 0.250s" in str(exc)
    assert "'wait' policy" in str(exc)
    lost = errors.ConnectionLost(reasons.NetworkError("reset"))
    assert "not re-sent" in str(lost)
