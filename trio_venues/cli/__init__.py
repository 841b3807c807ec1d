"""The ``trio-venues`` command line: ``demo``, ``stream``, ``record`` and ``replay``.

``main()`` is the console entry point (``trio-venues``, ``python -m
trio_venues``); :func:`run` is its async form, for tests and for embedding:
``await run(["stream", "binance-spot", "btcusdt@trade", "--fake", "--count",
"10"])`` returns the exit status (:class:`ExitCode`).
"""

from ._app import ExitCode as ExitCode
from ._app import build_parser as build_parser
from ._app import main as main
from ._app import run as run

__all__ = ["ExitCode", "build_parser", "main", "run"]
