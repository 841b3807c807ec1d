"""Collector tests run real nats-server processes (installed by the ``nats`` extra).

Each test ends with a garbage collection so that a resource warning is reported
against the test that caused it (see ``NATS_LEAK_FILTER`` in the test modules).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    yield
    gc.collect()
