"""The benchmark harness runs end to end in smoke mode and prints its figures (never timings)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from benchmarks.payloads import (
    close_frame,
    depth_payloads,
    sentinel_payload,
    sentinel_stream,
    server_frame,
    trade_payloads,
)
from benchmarks.server import parse_client_frames, upgrade_response

ROOT = Path(__file__).resolve().parent.parent
OUR_CLIENTS = ("tv_typed_default", "tv_typed_tws", "tv_raw_orjson", "tv_raw_tws_orjson")


def _mask(payload: bytes, key: bytes, opcode: int = 0x1) -> bytes:
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return bytes([0x80 | opcode]) + length + key + masked


def test_payloads_are_deterministic_and_binance_shaped() -> None:
    """The same seed gives the same bytes; trades are ~200 B, depth updates ~2 KB."""
    trades = trade_payloads(200)
    assert trades == trade_payloads(200)
    assert all(190 <= len(p) <= 215 for p in trades)
    first = orjson.loads(trades[0])
    assert first["stream"].endswith("@trade")
    assert first["data"]["e"] == "trade"
    assert set(first["data"]) == {"e", "E", "s", "t", "p", "q", "b", "a", "T", "m", "M"}
    depth = [orjson.loads(p) for p in depth_payloads(20)]
    assert all(22 <= len(d["data"]["b"]) <= 44 for d in depth)
    assert orjson.loads(sentinel_payload("depth"))["stream"] == sentinel_stream("depth")


def test_server_frames_parse_back_and_masked_client_frames_unmask() -> None:
    """Unmasked server frames and masked client frames both parse to (opcode, payload)."""
    big = b"x" * 300
    buf = bytearray(server_frame(b"hello") + server_frame(big) + close_frame(1000))
    buf += _mask(b'{"method":"SUBSCRIBE","id":1}', b"\x01\x02\x03\x04")
    buf += b"\x81"  # a partial frame stays in the buffer
    frames = parse_client_frames(buf)
    assert frames == [
        (0x1, b"hello"),
        (0x1, big),
        (0x8, (1000).to_bytes(2, "big")),
        (0x1, b'{"method":"SUBSCRIBE","id":1}'),
    ]
    assert buf == bytearray(b"\x81")


def test_upgrade_response_uses_the_rfc_accept_key() -> None:
    """The hand-made handshake answers RFC 6455's sample key with its sample accept value."""
    request = b"GET /chat HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in upgrade_response(request)


@pytest.mark.timeout(200)
def test_smoke_run_prints_figures_for_every_trio_venues_client() -> None:
    """`python -m benchmarks.run --smoke` exits 0 and prints a figure per trio_venues row."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    throughput = out.split("== Throughput: 300 trade messages")[1].split("==")[1]
    for name in OUR_CLIENTS:
        # name (maybe "*" for the RawWebSocket fallback), then a msgs/s median like "123,456"
        assert re.search(rf"^{name}( \*)?\s+[\d,]+\s", throughput, re.MULTILINE), throughput
    # Typed events received as lists (ws.events.batches()): a throughput row only.
    assert re.search(r"^tv_typed_batches\s+[\d,]+\s", throughput, re.MULTILINE), throughput
    assert "got " not in throughput  # every client received all 300 messages
    latency = out.split("== One-way latency")[1].split("==")[1]
    for name in OUR_CLIENTS:
        assert re.search(rf"^{name}( \*)?\s+\d+\s+\d+\s+\d+", latency, re.MULTILINE), latency
    idle = out.split("== Memory per idle connection")[1].split("==")[1]
    assert re.search(r"^tv_raw_orjson\s+[\d.]+\s+[\d.]+$", idle, re.MULTILINE), idle
    scale = out.split("== Scale:")[1].split("==")[1]
    assert re.search(r"^\s+10\s+[\d,]+\s+[\d.]+\s+[\d.]+", scale, re.MULTILINE), scale
    venues = out.split("== Typed trades per venue")[1].split("==")[1]
    targets = out.split("== Issue 17 targets")[1]
    for venue in ("binance", "okx", "bybit", "coinbase"):
        assert re.search(rf"^{venue}\s+[\d,]+\s+[\d,]+\s+[\d.]+x", venues, re.MULTILINE), venues
        assert re.search(rf"^{venue}: typed trades / Trio limit.*\d+\.\d+x", targets, re.MULTILINE)
    assert re.search(r"^memory per idle connection.*\d+\.\d", targets, re.MULTILINE), targets


def test_path_breakdown_counts_every_message_in_every_row() -> None:
    """`benchmarks.bench_path` runs every slice of the typed path over all messages, and reports."""
    from benchmarks import bench_path

    us = bench_path.run(count=300, rounds=1)
    assert set(bench_path.ROWS) <= set(us)
    assert all(value > 0 for value in us.values())
    text = bench_path.report(us, 300, 1)
    for name in bench_path.ROWS:
        assert re.search(rf"^{re.escape(name)}\s+[\d.]+\s+[\d,]+\s+[\d.]+x", text, re.MULTILINE)
    assert "r = 0.5 ->" in text


def test_venue_payloads_are_deterministic_and_shaped_as_each_venue_sends_them() -> None:
    """Each venue's frames repeat for a seed and decode to its typed trades; the end frame ends."""
    from benchmarks.venues import VENUES, bybit_trade_payloads
    from trio_venues.events import Message

    bybit = orjson.loads(bybit_trade_payloads(3)[0])
    assert next(iter(bybit)) == "topic"  # Bybit's hot decode needs the topic first
    for name, venue in VENUES.items():
        frames = venue.frames(5)
        assert frames == venue.frames(5), name
        core = venue.core()
        decoded = [event for text in frames for event in core.decode(text.decode(), 0.0)]
        assert len(decoded) == 5, (name, decoded)
        assert all(type(event) is Message for event in decoded), (name, decoded)
        assert all(not venue.is_sentinel(event) for event in decoded), name
        assert all(venue.touch(event.data) is not None for event in decoded), name
        assert not any(venue.raw_is_sentinel(orjson.loads(f)) for f in frames), name
        end = venue.sentinel(5)
        assert venue.raw_is_sentinel(orjson.loads(end)), name
        # The end frame continues the stream: no gap or error event before it.
        assert [venue.is_sentinel(e) for e in core.decode(end.decode(), 0.0)] == [True], name
    coinbase = [orjson.loads(f)["sequence_num"] for f in VENUES["coinbase"].frames(3)]
    assert coinbase == [0, 1, 2]


def test_every_venue_row_counts_every_message_and_prints_its_ratios() -> None:
    """bench_path's per-venue rows count every frame of each venue (they raise on a miscount)."""
    from benchmarks import bench_path
    from benchmarks.venues import VENUES

    us = bench_path.run_venues(300, 1, list(VENUES))
    assert set(us) == set(VENUES)
    for rows in us.values():
        assert set(rows) == set(bench_path.VENUE_ROWS)
        assert all(value > 0 for value in rows.values())
    text = bench_path.venue_report(us, 300, 1)
    for name in VENUES:
        assert re.search(rf"^{name}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+x", text, re.M)
