"""OrderBook: levels keyed by exact Decimal prices, reads, validation, and a reference model."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trio_venues.book
from trio_venues.book import DepthDiff, DepthSnapshot, InvalidLevel, OrderBook, Side
from trio_venues.errors import ConfigError, DecodeError
from trio_venues.venues._registry import venue_names
from trio_venues.venues.binance import (
    BinanceRules,
    depth_diff_from_binance,
    depth_snapshot_from_binance,
)

# Copies of ../shared/venues/samples/binance kept with the tests (fresh clones lack ../shared).
SAMPLES = Path(__file__).resolve().parent.parent / "protocol" / "data" / "binance"

D = Decimal


def load_sample(name: str) -> dict[str, object]:
    """A Binance sample payload."""
    data: dict[str, object] = json.loads((SAMPLES / name).read_text())
    return data


def make_book() -> OrderBook:
    """A small book: bids 10/9/8, asks 11/12/13."""
    book = OrderBook("BTCUSDT")
    book.load_snapshot(
        bids=[["10", "1"], ["9", "2"], ["8", "3"]],
        asks=[["11", "4"], ["12", "5"], ["13", "6"]],
        last_update_id=7,
    )
    return book


def test_empty_book_has_no_best_levels() -> None:
    """An empty book has no best bid/ask, spread or mid, and is not crossed."""
    book = OrderBook("BTCUSDT")
    assert book.best_bid is None
    assert book.best_ask is None
    assert book.spread is None
    assert book.mid is None
    assert not book.is_crossed
    assert len(book.bids) == len(book.asks) == 0
    assert book.top(Side.BID, 5) == []
    assert book.depth(Side.ASK) == 0
    assert book.last_update_id is None


def test_snapshot_sorts_each_side_from_the_best_price() -> None:
    """Bids read descending and asks ascending, whatever order the snapshot used."""
    book = OrderBook("BTCUSDT")
    book.load_snapshot(
        bids=[["8", "3"], ["10", "1"], ["9", "2"]],
        asks=[["13", "6"], ["11", "4"], ["12", "5"]],
        last_update_id=3,
    )
    assert list(book.bids) == [(D(10), D(1)), (D(9), D(2)), (D(8), D(3))]
    assert list(book.asks) == [(D(11), D(4)), (D(12), D(5)), (D(13), D(6))]
    assert book.best_bid == (D(10), D(1))
    assert book.best_ask == (D(11), D(4))
    assert book.last_update_id == 3


def test_apply_inserts_updates_and_removes_levels() -> None:
    """A new price inserts, a known price updates, quantity 0 removes."""
    book = make_book()
    book.apply(Side.BID, D("9.5"), D("7"))
    book.apply(Side.BID, D("10"), D("0.5"))
    book.apply(Side.ASK, D("11"), D("0"))
    assert book.top(Side.BID, 3) == [(D(10), D("0.5")), (D("9.5"), D(7)), (D(9), D(2))]
    assert book.best_ask == (D(12), D(5))
    assert len(book.bids) == 4
    assert len(book.asks) == 2


def test_removing_an_unknown_level_is_a_no_op() -> None:
    """Binance may remove a level the book never had: nothing changes."""
    book = make_book()
    before = (list(book.bids), list(book.asks))
    book.apply_levels(Side.BID, [["9.99", "0"]])
    book.apply_levels(Side.ASK, [["1000", "0.000"]])
    assert (list(book.bids), list(book.asks)) == before


def test_prices_are_compared_by_value() -> None:
    """ "1.0" and "1.00" are one level; the later quantity wins."""
    book = OrderBook("X")
    book.apply_levels(Side.BID, [["1.0", "5"], ["1.00", "6"]])
    assert len(book.bids) == 1
    assert book.bids.get(D("1")) == D(6)
    book.apply_levels(Side.BID, [["1", "0"]])
    assert len(book.bids) == 0


def test_apply_levels_returns_the_parsed_levels_in_order() -> None:
    """The batch apply returns each level as Decimals, removals with quantity 0."""
    book = make_book()
    changed = book.apply_levels(Side.ASK, [("11.5", "2"), ("13", "0")])
    assert changed == ((D("11.5"), D(2)), (D(13), D(0)))
    assert str(changed[0][0]) == "11.5"


def test_reads_keep_the_venue_spelling_of_prices() -> None:
    """Prices come back with the exponent the venue sent (trailing zeros kept)."""
    book = OrderBook("X")
    book.load_snapshot(bids=[["0.01379900", "3.43200000"]], asks=[["0.01380000", "5.917"]])
    assert [str(p) for p, _ in book.bids] == ["0.01379900"]
    assert [str(p) for p, _ in book.asks] == ["0.01380000"]
    assert [str(q) for _, q in book.bids] == ["3.43200000"]


def test_top_depth_and_counts() -> None:
    """top(n) is the n best levels; depth(n) sums their quantities; n <= 0 is empty."""
    book = make_book()
    assert book.top(Side.BID, 2) == [(D(10), D(1)), (D(9), D(2))]
    assert book.top(Side.ASK, 10) == [(D(11), D(4)), (D(12), D(5)), (D(13), D(6))]
    assert book.asks.top(0) == []
    assert book.asks.top(-3) == []
    assert book.depth(Side.BID, 2) == D(3)
    assert book.depth(Side.ASK) == D(15)
    assert book.depth(Side.ASK, 0) == 0
    assert book.side(Side.BID) is book.bids
    assert book.side(Side.ASK) is book.asks


def test_spread_and_mid_are_exact() -> None:
    """Spread and mid do not round, even past the default 28-digit context."""
    book = OrderBook("X")
    book.load_snapshot(
        bids=[["12345678901234567890.123456789", "1"]],
        asks=[["12345678901234567890.123456790", "1"]],
    )
    assert book.spread == D("0.000000001")
    assert book.mid == D("12345678901234567890.1234567895")
    book = make_book()
    assert book.spread == D(1)
    assert book.mid == D("10.5")


def test_is_crossed_counts_a_locked_book() -> None:
    """A bid at or above the best ask makes the book crossed."""
    book = make_book()
    crossed = []
    for side, price in ((Side.BID, "11"), (Side.BID, "10.99"), (Side.ASK, "10.5")):
        crossed.append(book.is_crossed)
        book.apply(side, D(price), D(1))
        crossed.append(book.is_crossed)
        if price == "11":
            book.apply(side, D(price), D(0))
    assert crossed == [False, True, False, False, False, True]


def test_get_finds_quantities_on_both_sides() -> None:
    """get(price) returns the quantity at that price, or None."""
    book = make_book()
    assert book.bids.get(D(9)) == D(2)
    assert book.asks.get(D("12.0")) == D(5)
    assert book.asks.get(D(9)) is None
    assert book.bids.get(D(100)) is None


def test_snapshot_replaces_everything_and_handles_duplicates_and_zeros() -> None:
    """A snapshot replaces the book; zero quantities are skipped; a later duplicate wins."""
    book = make_book()
    book.load_snapshot(
        bids=[["5", "1"], ["5.0", "2"], ["4", "0"]],
        asks=[["6", "1"]],
        last_update_id=99,
    )
    assert list(book.bids) == [(D(5), D(2))]
    assert list(book.asks) == [(D(6), D(1))]
    assert book.last_update_id == 99


def test_clear_empties_the_book() -> None:
    """clear() removes every level and the update id."""
    book = make_book()
    book.clear()
    assert len(book.bids) == len(book.asks) == 0
    assert book.last_update_id is None


@pytest.mark.parametrize(
    "level",
    [
        ["abc", "1"],
        ["1", "x"],
        ["NaN", "1"],
        ["1", "NaN"],
        ["sNaN", "1"],
        ["Infinity", "1"],
        ["1", "-Infinity"],
        ["1e9999999999", "1"],
        ["1", "1e-9999999999"],
        ["1", "0e-999"],
        ["0", "1"],
        ["-1", "1"],
        ["1", "-0.5"],
        ["1"],
        [],
        [None, "1"],
        [1.5, "1"],
        ["1", 2.0],
        [1, "1"],
    ],
)
def test_invalid_levels_are_rejected_and_change_nothing(level: list[object]) -> None:
    """An invalid level raises InvalidLevel and leaves both sides untouched."""
    book = make_book()
    before = (list(book.bids), list(book.asks), book.last_update_id)
    batch = [["9.5", "1"], level]
    with pytest.raises(InvalidLevel):
        book.apply_levels(Side.BID, batch)  # type: ignore[arg-type]
    with pytest.raises(InvalidLevel):
        book.apply_diff([["9.5", "1"]], [level])  # type: ignore[list-item]
    with pytest.raises(InvalidLevel):
        book.load_snapshot([["9.5", "1"]], [level], 100)  # type: ignore[list-item]
    assert (list(book.bids), list(book.asks), book.last_update_id) == before


def test_invalid_level_is_a_decode_error() -> None:
    """InvalidLevel is both a DecodeError and a ValueError."""
    assert issubclass(InvalidLevel, DecodeError)
    assert issubclass(InvalidLevel, ValueError)


def test_negative_zero_quantity_removes() -> None:
    """A quantity of "-0" is zero: the level is removed."""
    book = make_book()
    book.apply_levels(Side.BID, [["10", "-0"]])
    assert book.best_bid == (D(9), D(2))


def test_extra_fields_after_the_quantity_are_ignored() -> None:
    """OKX-style levels ``[price, size, "0", orders]`` use the first two items."""
    book = OrderBook("BTC-USDT")
    book.apply_levels(Side.ASK, [["41006.8", "0.60038921", "0", "1"]])
    assert book.best_ask == (D("41006.8"), D("0.60038921"))


def test_max_levels_drops_the_levels_farthest_from_the_top() -> None:
    """With max_levels, the worst levels beyond the cap are dropped."""
    book = OrderBook("X", max_levels=2)
    book.load_snapshot(bids=[["1", "1"], ["2", "1"], ["3", "1"]], asks=[["9", "1"], ["8", "1"]])
    assert [p for p, _ in book.bids] == [D(3), D(2)]
    book.apply_levels(Side.ASK, [["7", "1"]])
    assert [p for p, _ in book.asks] == [D(7), D(8)]
    book.apply_diff([["4", "1"]], [["6.5", "2"]])
    assert [p for p, _ in book.bids] == [D(4), D(3)]
    assert [p for p, _ in book.asks] == [D("6.5"), D(7)]


def test_max_levels_must_be_positive() -> None:
    """max_levels below 1 is a configuration error."""
    with pytest.raises(ConfigError, match="max_levels"):
        OrderBook("X", max_levels=0)


def test_repr_names_the_symbol_and_the_best_levels() -> None:
    """repr shows the symbol, level counts and best levels."""
    text = repr(make_book())
    assert "BTCUSDT" in text
    assert "bids=3" in text
    assert "Decimal('11')" in text
    assert "bid: 3 levels" in repr(make_book().bids)


def test_binance_ws_api_depth_sample_loads() -> None:
    """The WS-API depth answer loads into a book with the expected top of book."""
    result = load_sample("wsapi_depth_response.json")["result"]
    assert isinstance(result, dict)
    snapshot = depth_snapshot_from_binance("BNBBTC", result)
    book = OrderBook("BNBBTC")
    book.load_snapshot(snapshot.bids, snapshot.asks, snapshot.last_update_id)
    assert book.last_update_id == 2731179239
    assert book.best_bid == (D("0.01379900"), D("3.43200000"))
    assert book.best_ask == (D("0.01380000"), D("5.91700000"))
    assert book.spread == D("0.00000100")
    assert book.depth(Side.BID) == D("31.213")
    assert len(book.bids) == len(book.asks) == 5


def test_binance_diff_sample_converts() -> None:
    """The depthUpdate sample converts into a DepthDiff with U, u, b, a and E."""
    diff = depth_diff_from_binance(load_sample("depth_update.json"))
    assert diff == DepthDiff(
        "BNBBTC", 157, 160, [["0.0024", "10"]], [["0.0026", "100"]], 1672515782136
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"s": "X", "U": 1, "b": [], "a": []},
        {"s": "X", "U": "1", "u": 2, "b": [], "a": []},
        {"s": "X", "U": 1, "u": True, "b": [], "a": []},
        [],
    ],
)
def test_malformed_binance_diffs_raise_decode_error(payload: object) -> None:
    """A depthUpdate with a missing or mistyped id is a DecodeError."""
    with pytest.raises(DecodeError):
        depth_diff_from_binance(payload)  # type: ignore[arg-type]


def test_old_from_binance_names_warn_and_still_work() -> None:
    """DepthDiff/DepthSnapshot.from_binance are deprecated aliases of the Binance functions."""
    payload = load_sample("depth_update.json")
    assert isinstance(payload, dict)
    # Runtime aliases (trio_venues/_deprecated.py): type checkers do not see them.
    with pytest.warns(DeprecationWarning, match="depth_diff_from_binance"):
        assert DepthDiff.from_binance(payload) == depth_diff_from_binance(payload)  # type: ignore[attr-defined]
    answer = {"lastUpdateId": 5, "bids": [], "asks": []}
    with pytest.warns(DeprecationWarning, match="depth_snapshot_from_binance"):
        snapshot = DepthSnapshot.from_binance("X", answer)  # type: ignore[attr-defined]
    assert snapshot == depth_snapshot_from_binance("X", answer)


def test_old_binance_rules_name_in_book_warns_and_still_works() -> None:
    """``from trio_venues.book import BinanceRules`` still works, with a DeprecationWarning."""
    with pytest.warns(DeprecationWarning, match=r"trio_venues\.venues\.binance\.BinanceRules"):
        from trio_venues.book import BinanceRules as Old
    assert Old is BinanceRules
    with pytest.raises(AttributeError, match="no attribute 'Nonsense'"):
        trio_venues.book.Nonsense  # noqa: B018


def test_book_module_holds_no_venue_code() -> None:
    """book.py imports no venue: its deprecated aliases are attached from _deprecated.py."""
    source = Path(trio_venues.book.__file__).read_text()
    for venue in venue_names():
        assert f"venues.{venue}" not in source
    assert "from_binance" not in source
    assert "BinanceRules" not in source


@pytest.mark.parametrize(
    "payload", [{"bids": [], "asks": []}, {"lastUpdateId": 1.0, "bids": [], "asks": []}, None]
)
def test_malformed_binance_snapshots_raise_decode_error(payload: object) -> None:
    """A depth answer without an integer lastUpdateId is a DecodeError."""
    with pytest.raises(DecodeError):
        depth_snapshot_from_binance("X", payload)  # type: ignore[arg-type]


# -- reference model -----------------------------------------------------------------------

PRICES = ("1", "1.0", "1.00", "2", "2.5", "2.50", "3", "10", "0.001", "99999.99999999", "7")
QTYS = ("0", "0.0", "1", "2", "0.00000001", "5.5", "100")

level_strategy = st.tuples(st.sampled_from(PRICES), st.sampled_from(QTYS))
operation_strategy = st.one_of(
    st.tuples(st.just("apply"), st.sampled_from(Side), st.lists(level_strategy, max_size=6)),
    st.tuples(
        st.just("snapshot"),
        st.lists(level_strategy, max_size=8),
        st.lists(level_strategy, max_size=8),
    ),
)


def model_apply(model: dict[Decimal, Decimal], levels: list[tuple[str, str]]) -> None:
    """The naive reference: a dict keyed by Decimal price."""
    for price, qty in levels:
        if Decimal(qty):
            model[Decimal(price)] = Decimal(qty)
        else:
            model.pop(Decimal(price), None)


def model_trim(model: dict[Decimal, Decimal], side: Side, max_levels: int | None) -> None:
    """Keep the max_levels best prices of a side."""
    if max_levels is not None:
        keep = sorted(model, reverse=side is Side.BID)[:max_levels]
        for price in set(model) - set(keep):
            del model[price]


@settings(max_examples=150, deadline=None)
@given(
    operations=st.lists(operation_strategy, max_size=25),
    max_levels=st.one_of(st.none(), st.integers(1, 4)),
    n=st.integers(-1, 12),
)
def test_book_matches_a_naive_reference_model(
    operations: list[tuple[object, ...]], max_levels: int | None, n: int
) -> None:
    """After any sequence of updates and snapshots the book equals a dict + sort model."""
    book = OrderBook("X", max_levels=max_levels)
    models: dict[Side, dict[Decimal, Decimal]] = {Side.BID: {}, Side.ASK: {}}
    for operation in operations:
        if operation[0] == "apply":
            _, side, levels = operation
            assert isinstance(side, Side)
            assert isinstance(levels, list)
            book.apply_levels(side, levels)
            model_apply(models[side], levels)
            model_trim(models[side], side, max_levels)
        else:
            _, bids, asks = operation
            assert isinstance(bids, list)
            assert isinstance(asks, list)
            book.load_snapshot(bids, asks, 1)
            for side, levels in ((Side.BID, bids), (Side.ASK, asks)):
                models[side] = {}
                model_apply(models[side], levels)
                model_trim(models[side], side, max_levels)
        for side in Side:
            expected = sorted(models[side].items(), reverse=side is Side.BID)
            book_side = book.side(side)
            assert list(book_side) == expected
            assert len(book_side) == len(expected)
            assert book_side.best == (expected[0] if expected else None)
            assert book_side.top(n) == (expected[:n] if n > 0 else [])
            assert book_side.depth(n) == sum((q for _, q in expected[: max(n, 0)]), Decimal(0))
            for price in PRICES:
                assert book_side.get(Decimal(price)) == models[side].get(Decimal(price))
        bid, ask = book.best_bid, book.best_ask
        assert book.is_crossed == (bid is not None and ask is not None and bid[0] >= ask[0])
