"""The pytest plugin in a fresh project: without trio mode the failure says what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_missing_trio_mode_names_the_fix(tmp_path: Path) -> None:
    """A project without trio_mode gets a warning naming trio_mode and the [testing] extra."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_fresh.py").write_text(
        "async def test_uses_the_fake(fake_venue):\n    assert fake_venue.url\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "trio_mode = true" in output
    assert "trio_venues[testing]" in output
