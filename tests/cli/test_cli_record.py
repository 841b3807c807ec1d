"""``trio-venues record`` and ``replay``: raw frames with times, served back as recorded."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

from trio_venues import BinanceSpot
from trio_venues.cli import ExitCode, run
from trio_venues.cli._app import Output, Stopper
from trio_venues.cli._record import END_OF_RECORDING, ReplayOptions, run_replay
from trio_venues.cli._view import message_json
from trio_venues.events import Disconnected, Message
from trio_venues.reasons import RemoteClosed
from trio_venues.testing import RecordedFrame, read_recording
from trio_venues.testing.binance import FakeBinance, binance_server, binance_stream_url

from ._helpers import WatchedText, run_cli

TOPICS = ("btcusdt@trade", "ethusdt@depth@100ms", "bnbbtc@kline_1m")


def _without_times(lines: list[str]) -> list[dict[str, object]]:
    records = [json.loads(line) for line in lines]
    for record in records:
        del record["received_at"]
        record.pop("wall_time", None)
    return records


async def test_record_then_replay_reproduces_the_same_typed_events(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """Frames recorded beside a live client replay into exactly the typed events it saw."""
    server = binance_server(FakeBinance())
    await nursery.start(server.serve_tcp)
    recording, replayed = tmp_path / "capture.jsonl", tmp_path / "replayed.jsonl"
    codes: list[int] = []
    recorded = trio.Event()

    async def record() -> None:
        argv = ["record", "binance-spot", *TOPICS, "--url", server.url, "--out", str(recording)]
        codes.append(
            await run([*argv, "--count", "30"], stdout=WatchedText(), stderr=WatchedText())
        )
        recorded.set()

    live: list[Message] = []
    with trio.fail_after(30):
        async with BinanceSpot.connect(binance_stream_url(server, *TOPICS)) as ws:
            nursery.start_soon(record)
            # Both connections receive every pushed message (the same frames).
            await server.wait_until(
                lambda s: sum(set(TOPICS) <= c.subscriptions for c in s.active) == 2
            )
            for _ in range(10):
                for topic in TOPICS:
                    await server.push(topic)
            async for event in ws.events:
                if isinstance(event, Message):
                    live.append(event)
                    if len(live) == 30:
                        break
        await recorded.wait()
        assert codes == [ExitCode.OK]
        frames = read_recording(recording)
        assert len(frames) == 30
        assert frames[0].t > 0
        assert [f.t for f in frames] == sorted(f.t for f in frames)

        code, _, err = await run_cli(
            ["replay", str(recording), "--stream", "--speed", "20", "--jsonl", str(replayed)]
        )
    assert code == ExitCode.OK
    assert f"'{END_OF_RECORDING}'" in err
    expected = _without_times([message_json(m) for m in live])
    assert {e["type"] for e in expected} == {"Trade", "DepthUpdate", "Kline"}
    assert _without_times(replayed.read_text(encoding="utf-8").splitlines()) == expected


async def test_record_for_a_duration_keeps_the_fake_venues_frames(tmp_path: Path) -> None:
    """``record --fake --duration``: exit 0; every line is a RecordedFrame of a topic asked for."""
    out = tmp_path / "fake.jsonl"
    with trio.fail_after(30):
        code, stdout, err = await run_cli(
            [
                "record",
                "binance-spot",
                "btcusdt@trade",
                "--fake",
                "--duration",
                "0.3",
                "--out",
                str(out),
            ]
        )
    assert code == ExitCode.OK
    assert stdout == ""
    assert "recording ws://127.0.0.1:" in err
    lines = out.read_text(encoding="utf-8").splitlines()
    frames = [RecordedFrame.from_json_line(line) for line in lines]
    # The fake sends a trade every 20 ms: about 15 in 0.3 s (a loaded machine sends fewer).
    assert 3 <= len(frames) <= 16
    assert all(0 < f.t < 0.3 for f in frames)
    assert {json.loads(f.frame)["stream"] for f in frames} == {"btcusdt@trade"}
    assert f"recorded {len(frames)} frame(s)" in err


async def test_replay_serves_every_client_from_the_start_until_ctrl_c(tmp_path: Path) -> None:
    """The printed URL serves the recording at its pace to each client, then closes 1000."""
    path = tmp_path / "three.jsonl"
    frames = [
        RecordedFrame(t, json.dumps({"stream": "btcusdt@aggTrade", "data": data}))
        for t, data in [
            (0.5, {"e": "aggTrade", "E": 1, "s": "BTCUSDT", "a": 1, "p": "1.5", "q": "2",
                   "f": 1, "l": 1, "T": 1, "m": True}),
            (1.5, {"e": "aggTrade", "E": 2, "s": "BTCUSDT", "a": 2, "p": "1.6", "q": "3",
                   "f": 2, "l": 3, "T": 2, "m": False}),
            (4.0, {"e": "aggTrade", "E": 3, "s": "BTCUSDT", "a": 3, "p": "1.7", "q": "4",
                   "f": 4, "l": 4, "T": 3, "m": True}),
        ]
    ]  # fmt: skip
    path.write_text("".join(f.to_json_line() + "\n" for f in frames), encoding="utf-8")
    out, err = WatchedText(), WatchedText()
    stopper = Stopper()
    codes: list[int] = []

    async def replay() -> None:
        options = ReplayOptions(str(path), speed=10.0)
        codes.append(await run_replay(options, Output(out, err), stopper))

    # Real time: the fake serves real TCP, which a virtual clock would skip past.
    with trio.fail_after(30):
        await _serve_twice(replay, out, stopper)
    assert codes == [ExitCode.INTERRUPTED]
    assert err.getvalue().count("replayed 3 frame(s), closed with 1000") == 2


async def _serve_twice(
    replay: Callable[[], Awaitable[None]], out: WatchedText, stopper: Stopper
) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(replay)
        url = (await out.wait_for(lambda text: text.endswith("\n"))).strip()
        assert url.startswith("ws://127.0.0.1:")
        for _ in range(2):  # a second client gets the whole recording again
            start = trio.current_time()
            async with BinanceSpot.connect(url, ping_interval=None) as ws:
                events = [event async for event in ws.events]
            messages = [e for e in events if isinstance(e, Message)]
            assert [m.data.agg_trade_id for m in messages] == [1, 2, 3]
            # Recorded at 0.5, 1.5 and 4.0 s, replayed 10 times as fast: never early.
            offsets = [m.received_at - start for m in messages]
            assert offsets[0] >= 0.05
            assert offsets[1] >= 0.15
            assert 0.4 <= offsets[2] < 5
            last = events[-1]
            assert isinstance(last, Disconnected)
            assert isinstance(last.reason, RemoteClosed)
            assert (last.reason.code, last.reason.reason) == (1000, END_OF_RECORDING)
        stopper.interrupt()
