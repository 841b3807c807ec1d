"""The ``trio-venues`` command: argument parsing, exit codes, Ctrl-C, output streams.

Each sub-command lives in its own module and is a thin layer over the public
API; this module only parses arguments and runs the chosen command under
Trio. The command modules are imported when their command runs, so that
``trio-venues --help`` answers without importing the library's heavier parts
(the fake venues, the terminal UI).

Ctrl-C: :func:`main` watches SIGINT and cancels the command's work through
:class:`Stopper`, so a command gets the chance to finish its output (the
demo prints its summary, ``record`` flushes its file) before exiting with
:attr:`ExitCode.INTERRUPTED`. A second Ctrl-C raises ``KeyboardInterrupt``
as usual, which :func:`main` also turns into exit status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TextIO

import trio

from ._common import DEFAULT_VENUE, EXIT_CODES_HELP, ExitCode, Output, Stopper, venue_choices

__all__ = ["ExitCode", "Output", "Stopper", "build_parser", "main", "run"]

TRANSPORTS = ("default", "trio-websocket")


# -- argument types ---------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port in 0-65535, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


# -- the parser -----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that prints usage errors to the command's own stderr."""

    output: Output | None = None

    def _print_message(self, message: str, file: Any = None) -> None:
        if message and self.output is not None:
            stream = self.output.stderr if file is sys.stderr else self.output.stdout
            stream.write(message)
            stream.flush()
            return
        super()._print_message(message, file)


def _ws_url(text: str) -> str:
    """``--url``: a ``ws://`` or ``wss://`` URL (anything else is a usage error, exit 2)."""
    if not text.lower().startswith(("ws://", "wss://")):
        raise argparse.ArgumentTypeError(f"expected a ws:// or wss:// URL, got {text!r}")
    return text


def _add_source_options(parser: argparse.ArgumentParser, *, url_help: str) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--url", type=_ws_url, help=url_help)
    source.add_argument(
        "--fake",
        action="store_true",
        help="start the fake venue in-process on 127.0.0.1 and connect to it (no network)",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="default",
        help="the WebSocket transport (default: %(default)s)",
    )


def build_parser(output: Output | None = None) -> argparse.ArgumentParser:
    """The ``trio-venues`` argument parser (help and usage errors go to ``output``)."""
    formatter = argparse.RawDescriptionHelpFormatter

    def sub_parser(name: str, *, summary: str, description: str) -> _Parser:
        parser = commands.add_parser(
            name,
            help=summary,
            description=description,
            formatter_class=formatter,
            epilog=EXIT_CODES_HELP,
        )
        assert isinstance(parser, _Parser)
        parser.output = output
        return parser

    root = _Parser(
        prog="trio-venues",
        description="Trio-native WebSocket clients for crypto venues: a demo, streaming, "
        "recording and replay.",
        formatter_class=formatter,
        epilog=EXIT_CODES_HELP,
    )
    root.output = output
    commands = root.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    demo = sub_parser(
        "demo",
        summary="watch the library survive faults, against a fake venue on 127.0.0.1",
        description="Start a venue's fake in-process on 127.0.0.1, stream trades, "
        "candles or tickers and order books through retry_scope and book_feed, inject "
        "faults on a timer (TCP drop, close 1001, a stall the heartbeat detects, and the "
        "venue's own: a book gap, a shutdown notice, a snapshot reset, a sequence gap) "
        "and show how each one is reported and survived. No network, no keys. Ends "
        "after --duration seconds or on Ctrl-C with a summary.",
    )
    demo.add_argument(
        "--venue",
        choices=venue_choices(),
        default=DEFAULT_VENUE,
        help="the venue whose fake and faults to show (default: %(default)s)",
    )
    demo.add_argument(
        "--duration",
        type=_positive_float,
        help="seconds to run (default: 30, or 5 with --short)",
    )
    demo.add_argument(
        "--short", action="store_true", help="a few seconds, faults sooner (for tests)"
    )
    demo.add_argument(
        "--fault-interval",
        type=_non_negative_float,
        help="seconds between injected faults; 0 for none (default: 5, or 0.8 with --short)",
    )
    demo.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="default",
        help="the WebSocket transport (default: %(default)s)",
    )

    stream = sub_parser(
        "stream",
        summary="print a venue's typed events, or write them as JSON lines",
        description="Subscribe to TOPICs and print one line per message (stdout; "
        "connection notes go to stderr), or write one JSON object per message with "
        "--jsonl: {topic, type, data, received_at}, prices and quantities as exact "
        "decimal strings.\n\n"
        "With --unified, stream one or several venues at once in the unified "
        "vocabulary: `stream --unified binance:btcusdt@trade okx:trades:BTC-USDT`, "
        "one JSON line per unified event ({wall_time, kind, venue, symbol, ...}) "
        "on stdout (or in --jsonl FILE); each venue reconnects on its own, and one "
        "giving up does not stop the others.",
    )
    stream.add_argument(
        "venue", metavar="VENUE", help=", ".join(venue_choices()) + " (--unified: VENUE:TOPIC)"
    )
    stream.add_argument(
        "topics",
        metavar="TOPIC",
        nargs="*",
        help="stream names, e.g. btcusdt@trade (--unified: more VENUE:TOPIC)",
    )
    stream.add_argument(
        "--unified",
        action="store_true",
        help="VENUE:TOPIC arguments from any venues, printed as unified events (JSON lines)",
    )
    _add_source_options(
        stream,
        url_help="the endpoint, used as given (default: the venue's public URL)",
    )
    stream.add_argument(
        "--count", type=_positive_int, help="stop after N messages (default: run until stopped)"
    )
    stream.add_argument("--jsonl", metavar="FILE", help="write JSON lines to FILE ('-' for stdout)")

    record = sub_parser(
        "record",
        summary="capture raw frames with timestamps, for replay",
        description="Capture the venue's raw text frames with their arrival times as JSON "
        'lines ({"t": seconds, "frame": "..."}), the format `trio-venues replay` and '
        "trio_venues.testing.binance.FakeBinance.replay() serve back.",
    )
    record.add_argument(
        "venue", metavar="VENUE", choices=venue_choices(), help=", ".join(venue_choices())
    )
    record.add_argument(
        "topics", metavar="TOPIC", nargs="+", help="stream names, e.g. btcusdt@trade"
    )
    record.add_argument("--out", metavar="FILE", required=True, help="the recording to write")
    _add_source_options(
        record,
        url_help="the combined-stream endpoint without a query; the topics are added as "
        "?streams=... (default: the venue's public URL)",
    )
    limit = record.add_mutually_exclusive_group()
    limit.add_argument(
        "--count", type=_positive_int, help="stop after N frames (default: until Ctrl-C)"
    )
    limit.add_argument(
        "--duration", type=_positive_float, help="stop after S seconds (default: until Ctrl-C)"
    )

    replay = sub_parser(
        "replay",
        summary="serve a recording through the fake venue on 127.0.0.1",
        description="Serve a recording through the venue's fake to every client that connects "
        "to the printed URL "
        "(each connection gets it from the start, at the recorded pace divided by "
        "--speed, then a close 1000). With --stream, also connect a client and print "
        "the typed events (as `trio-venues stream` does); it ends when the replay ends.",
    )
    replay.add_argument("file", metavar="FILE", help="a recording made by `trio-venues record`")
    replay.add_argument(
        "--venue",
        choices=venue_choices(),
        default=DEFAULT_VENUE,
        help="the fake venue to serve it through (default: %(default)s)",
    )
    replay.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="replay this many times faster (default: %(default)s)",
    )
    replay.add_argument(
        "--port",
        metavar="N",
        type=_port,
        default=0,
        help="serve on 127.0.0.1:N (default: 0, a free port); the URL is printed either "
        "way. A port in use exits with status 5",
    )
    replay.add_argument(
        "--stream", action="store_true", help="connect a client and print the typed events"
    )
    replay.add_argument(
        "--jsonl", metavar="FILE", help="with --stream: write JSON lines to FILE ('-': stdout)"
    )
    replay.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="default",
        help="with --stream: the WebSocket transport (default: %(default)s)",
    )
    collect = sub_parser(
        "collect",
        summary="publish venue feeds to NATS JetStream (or JSON lines), as a service",
        description="Run the feeds a TOML file names, each under retry_scope, unified "
        "across venues, into the configured sink: JSON lines (the default, no server) or "
        "NATS JetStream, where redundant collectors are de-duplicated by message id. "
        "A status line on the terminal, a summary on exit (see the README's collect "
        "section for the file format and the deployment guide).",
    )
    collect.add_argument("config", metavar="CONFIG", help="the collector's TOML file")
    collect.add_argument(
        "--metrics-port",
        type=int,
        metavar="N",
        help="serve Prometheus metrics on 127.0.0.1:N (0: a free port); overrides the file",
    )
    collect.add_argument(
        "--duration", type=_positive_float, help="seconds to run (default: until Ctrl-C)"
    )
    collect.add_argument(
        "--fake",
        action="store_true",
        help="run every feed against its venue's fake server in-process (no network)",
    )
    return root


# -- running ---------------------------------------------------------------------------------


def _usage(output: Output, message: str) -> Awaitable[int]:
    """A usage error found after parsing (exit 2, the message on stderr)."""
    output.error(message)
    return _usage_error()


def _command(args: argparse.Namespace, output: Output, stopper: Stopper) -> Awaitable[int]:
    # Imported here, not at the top: see the module docstring.
    if args.command == "demo":
        from ._demo import DemoOptions, run_demo

        options = DemoOptions.from_args(
            venue=args.venue,
            short=args.short,
            duration=args.duration,
            fault_interval=args.fault_interval,
            transport=args.transport,
        )
        return run_demo(options, output, stopper)
    if args.command == "stream":
        from ._stream import StreamOptions, UnifiedStreamOptions, run_stream, run_unified_stream

        if args.unified:
            if args.url is not None:
                return _usage(output, "stream --unified: --url is per venue; use --fake or none")
            return run_unified_stream(
                UnifiedStreamOptions(
                    specs=(args.venue, *args.topics),
                    fake=args.fake,
                    count=args.count,
                    jsonl=args.jsonl,
                    transport=args.transport,
                ),
                output,
                stopper,
            )
        if args.venue not in venue_choices():
            choices = ", ".join(repr(c) for c in venue_choices())
            return _usage(
                output, f"argument VENUE: invalid choice: {args.venue!r} (choose from {choices})"
            )
        if not args.topics:
            return _usage(output, "stream: the following arguments are required: TOPIC")
        return run_stream(
            StreamOptions(
                topics=tuple(args.topics),
                url=args.url,
                fake=args.fake,
                count=args.count,
                jsonl=args.jsonl,
                transport=args.transport,
                venue=args.venue,
            ),
            output,
            stopper,
        )
    if args.command == "collect":
        from ._collect import CollectOptions, run_collect

        return run_collect(
            CollectOptions(
                config=args.config,
                metrics_port=args.metrics_port,
                duration=args.duration,
                fake=args.fake,
            ),
            output,
            stopper,
        )
    if args.command == "record":
        from ._record import RecordOptions, run_record

        return run_record(
            RecordOptions(
                topics=tuple(args.topics),
                out=args.out,
                url=args.url,
                fake=args.fake,
                count=args.count,
                duration=args.duration,
                transport=args.transport,
                venue=args.venue,
            ),
            output,
            stopper,
        )
    from ._record import ReplayOptions, run_replay

    if args.jsonl is not None and not args.stream:
        output.error("replay: --jsonl needs --stream")
        return _usage_error()
    return run_replay(
        ReplayOptions(
            file=args.file,
            speed=args.speed,
            port=args.port,
            stream=args.stream,
            jsonl=args.jsonl,
            transport=args.transport,
            venue=args.venue,
        ),
        output,
        stopper,
    )


async def _usage_error() -> int:
    await trio.lowlevel.checkpoint()
    return ExitCode.USAGE


async def _watch_sigint(signals: AsyncIterator[int], stopper: Stopper) -> None:
    async for _ in signals:
        stopper.interrupt()
        return


async def run(
    argv: Sequence[str],
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    handle_sigint: bool = False,
) -> int:
    """Run ``trio-venues`` with ``argv`` (without the program name); return the exit status.

    The async entry point: tests call it in-process. Usage errors return 2
    (argparse's message goes to ``stderr``), ``--help`` returns 0.

    Args:
        argv: the arguments, e.g. ``["stream", "binance-spot", "btcusdt@trade", "--fake"]``.
        stdout: where results go (default ``sys.stdout``).
        stderr: where notes and errors go (default ``sys.stderr``).
        handle_sigint: turn Ctrl-C into a clean stop (main thread only).
    """
    output = Output(stdout, stderr)
    parser = build_parser(output)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        # argparse exits with 2 on a usage error and 0 after --help.
        await trio.lowlevel.checkpoint()
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    stopper = Stopper()
    if not handle_sigint:
        return await _quiet_on_broken_pipe(args, output, stopper)
    # Ctrl-C stops the command's work; leaving this block restores Trio's own
    # handler, so a second Ctrl-C (after the work stopped) raises KeyboardInterrupt.
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_sigint, signals, stopper)
            code = await _quiet_on_broken_pipe(args, output, stopper)
            nursery.cancel_scope.cancel(reason="the command finished")
    return code


async def _quiet_on_broken_pipe(args: Any, output: Output, stopper: Stopper) -> int:
    """Run the command; a reader that went away (``| head -1``) ends it quietly.

    Like a Unix tool killed by SIGPIPE: no traceback, exit status 141; stdout
    is pointed at ``/dev/null`` so the interpreter's last flush stays silent.
    """
    broken = False
    try:
        return await _command(args, output, stopper)
    except* BrokenPipeError:
        broken = True
    if broken and output.stdout is sys.stdout:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return ExitCode.BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point (``trio-venues``, ``python -m trio_venues``): returns the status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        return trio.run(_run_main, arguments)
    except KeyboardInterrupt:
        # A Ctrl-C outside the command's watch (or a second one).
        print("trio-venues: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


async def _run_main(arguments: list[str]) -> int:
    return await run(arguments, handle_sigint=True)
