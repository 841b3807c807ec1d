"""The gapless benchmark runs end to end in quick mode and prints its figures (never timings)."""

from __future__ import annotations

import pytest

from benchmarks import bench_gapless


def test_bench_gapless_quick_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    """Quick mode prints the merge cost, the three throughput rows and memory per connection."""
    bench_gapless.main(["--quick", "--no-pin"])
    out = capsys.readouterr().out
    for label in (
        "merge, one copy",
        "merge, two copies",
        "connect()",
        "gapless, 1 connection",
        "gapless, copies=2",
        "copies=2 / one connection",
        "per extra connection",
    ):
        assert label in out


def test_frames_carry_increasing_ids_and_end_with_the_sentinel() -> None:
    """The server's frames: trades numbered per symbol from 1, then the sentinel and a close."""
    blob = bench_gapless.frames(20)
    assert blob.count(b'"t":2,') == len(bench_gapless.SYMBOLS)
    assert b"endusdt@trade" in blob
    assert blob.endswith(b"\x88\x02\x03\xe8")
