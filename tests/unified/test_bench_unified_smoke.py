"""benchmarks/bench_unified runs end to end and prints every row (figures, never assertions)."""

from __future__ import annotations

import pytest

from benchmarks.bench_unified import main


def test_bench_unified_prints_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    """One tiny round prints the unifier, adapter and unified_feeds hand-off figures."""
    main(rounds=1, n=20)
    out = capsys.readouterr().out
    for row in (
        "typed decode + unifier (bound)",
        "typed decode + UnifiedAdapter",
        "unified_feeds hand-off alone",
        "us per trade (target <= +0.3)",
    ):
        assert row in out
