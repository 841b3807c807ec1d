"""OkxBook: OKX book messages as diffs and snapshots; the chain rules and the checksum rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trio_venues.book import (
    BookSync,
    DepthDiff,
    DepthSnapshot,
    Gap,
    OrderBook,
    Resynced,
    Side,
    Step,
)
from trio_venues.venues.okx import OkxBook, OkxCore, book_checksum, okx_book_checksum

DATA = Path(__file__).parent / "data" / "okx"


def messages(name: str) -> list[object]:
    core = OkxCore()
    text = (DATA / name).read_text()
    frames = json.loads(text) if text.lstrip().startswith("[") else [json.loads(text)]
    out: list[object] = []
    for frame in frames:
        out.extend(core.decode(json.dumps(frame), 0.0))
    return out


def test_snapshot_and_update_samples_parse() -> None:
    """The docs' snapshot becomes a DepthSnapshot; the update a chained DepthDiff, checksum None."""
    adapter = OkxBook()
    snapshot_msg, update_msg = messages("books_snapshot_then_update_docs.json")
    (snapshot,) = adapter.parse(snapshot_msg)  # type: ignore[arg-type]
    (diff,) = adapter.parse(update_msg)  # type: ignore[arg-type]
    assert isinstance(snapshot, DepthSnapshot)
    assert (snapshot.symbol, snapshot.last_update_id, snapshot.checksum) == (
        "BTC-USDT",
        123456,
        None,
    )
    assert snapshot.bids[0] == ("8476.97", "256", "0", "12")
    assert isinstance(diff, DepthDiff)
    assert (diff.final_update_id, diff.previous_update_id, diff.checksum) == (123457, 123456, None)


def test_topic() -> None:
    """The book topic is books:<instId>; the tbt channels are variants."""
    assert OkxBook().topic("BTC-USDT") == "books:BTC-USDT"
    assert OkxBook().topic("BTC-USDT", "books50-l2-tbt") == "books50-l2-tbt:BTC-USDT"
    with pytest.raises(ValueError, match="books5"):
        OkxBook("books5")


def _diff(seq: int, prev: int, bids: tuple[tuple[str, str], ...] = ()) -> DepthDiff:
    return DepthDiff("BTC-USDT", seq, seq, bids, (), previous_update_id=prev)


@pytest.mark.parametrize(
    ("last", "seq", "prev", "step"),
    [
        (10, 15, 10, Step.NEXT),  # chained, not dense
        (15, 15, 15, Step.NEXT),  # keep-alive: prevSeqId == seqId
        (15, 3, 15, Step.NEXT),  # reset after maintenance: seqId < prevSeqId
        (10, 30, 20, Step.GAP),  # a missed update
    ],
)
def test_chain_rules(last: int, seq: int, prev: int, step: Step) -> None:
    """OKX's documented sequence cases."""
    assert OkxBook().rules.classify(last, _diff(seq, prev)) is step


def test_checksum_rule_uses_the_raw_strings() -> None:
    """The rule over a book equals the CRC of the strings OKX sent (trailing zeros kept)."""
    bids = [("8476.90", "1.50"), ("8476.1", "2")]
    asks = [("8477.00", "3"), ("8478", "0.10")]
    book = OrderBook("BTC-USDT")
    book.apply_levels(Side.BID, bids)
    book.apply_levels(Side.ASK, asks)
    assert okx_book_checksum(book) == book_checksum(bids, asks)


def test_wrong_checksum_loses_the_book_and_zero_is_absent() -> None:
    """A non-zero checksum that does not match is a gap; 0 is never checked."""
    adapter = OkxBook()
    sync = BookSync("BTC-USDT", adapter.rules, in_stream_snapshots=True, reset_on_snapshot=True)
    bids = (("100.5", "1"),)
    asks = (("100.7", "1"),)
    good = book_checksum(bids, asks)
    actions = sync.on_snapshot(DepthSnapshot("BTC-USDT", 5, bids, asks, good))
    assert any(isinstance(a, Resynced) for a in actions)
    ok = sync.on_diff(DepthDiff("BTC-USDT", 6, 6, (("100.4", "2"),), (), previous_update_id=5))
    assert not any(isinstance(a, Gap) for a in ok)
    bad = sync.on_diff(
        DepthDiff("BTC-USDT", 7, 7, (("100.3", "2"),), (), previous_update_id=6, checksum=good)
    )
    assert any(isinstance(a, Gap) and a.reason == "checksum" for a in bad)
