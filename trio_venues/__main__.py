"""``python -m trio_venues``: the ``trio-venues`` command (see :mod:`trio_venues.cli`)."""

from __future__ import annotations

from collections.abc import Sequence

from .cli import main as _cli_main

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``trio-venues`` with ``argv`` (default: the process's arguments); return the status."""
    return _cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
