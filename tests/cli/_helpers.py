"""Helpers for the CLI tests: output that tests can wait on, and running a command."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import trio

from trio_venues.cli import run


class WatchedText(io.StringIO):
    """A text stream that records what a command wrote and wakes up waiting tests."""

    def __init__(self, *, tty: bool = False) -> None:
        super().__init__()
        self._tty = tty
        self._written = trio.Event()

    def isatty(self) -> bool:
        """Pretend to be a terminal when asked to (the demo's live view needs one)."""
        return self._tty

    def write(self, text: str) -> int:
        """Write and wake up whoever waits for output."""
        count = super().write(text)
        self._written.set()
        return count

    async def wait_for(self, predicate: Callable[[str], bool]) -> str:
        """Wait until ``predicate(everything written so far)`` holds; return the text."""
        while not predicate(self.getvalue()):
            # Single-threaded: no write can slip in between the check and the wait.
            self._written = trio.Event()
            await self._written.wait()
        return self.getvalue()


async def run_cli(argv: Sequence[str]) -> tuple[int, str, str]:
    """``trio-venues argv`` in-process: (exit status, stdout, stderr)."""
    out, err = WatchedText(), WatchedText()
    code = await run(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()
