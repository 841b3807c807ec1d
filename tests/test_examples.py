"""Every ``examples/*.py`` runs against its fake venue: in memory, and as a script would.

The convention every example follows (and new ones must):

- ``fake_venue() -> FakeVenueServer``: a fresh, not yet started fake whose
  ``url`` is the endpoint the example connects to;
- ``async def main(url=None, *, transport=None, ...)``: does a bounded amount
  of work and returns what it received (something non-empty); with ``url=None``
  it starts ``fake_venue()`` on 127.0.0.1 itself and connects to it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import trio

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_example_runs_in_memory(
    path: Path, nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    """main(fake.url, transport=in-memory) finishes and returns what it received."""
    module = _load(path)
    server = module.fake_venue()
    await nursery.start(server.run)
    with trio.fail_after(300):  # virtual seconds
        result = await module.main(server.url, transport=server.memory_transport())
    assert result
    server.stop()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_example_runs_as_a_script(path: Path) -> None:
    """main() with no URL starts the fake on 127.0.0.1 and finishes within seconds."""
    module = _load(path)
    with trio.fail_after(20):
        result = await module.main()
    assert result
