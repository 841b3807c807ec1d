"""Catalogue look-ups: markets, ambiguous spellings in both directions, clear misses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trio_venues.unified import AmbiguousSymbol, Catalogue, Instrument, UnknownSymbol


def _inst(venue_symbol: str, symbol: str, market: str | None = None, size: str = "1") -> Instrument:
    return Instrument(
        "v", venue_symbol, symbol, "BTC", "USD", "future", None, None, "", Decimal(size),
        "USD", market,
    )  # fmt: skip


def test_one_market_catalogues_behave_as_before() -> None:
    """Without markets every venue symbol is unique; as_mapping lists them all."""
    catalogue = Catalogue("v", [_inst("A", "BTC-USD-20261225"), _inst("B", "BTC-USD-20270326")])
    assert catalogue.markets == ()
    assert catalogue.canonical("A") == "BTC-USD-20261225"
    assert set(catalogue.as_mapping()) == {"A", "B"}
    assert len(catalogue) == 2


def test_a_venue_symbol_in_two_markets_is_ambiguous_until_the_market_is_named() -> None:
    """by_venue_symbol needs market= for a shared spelling; in_market narrows the catalogue."""
    spot, perp = _inst("X", "BTC-USD", "spot"), _inst("X", "BTC-USD-PERP", "linear")
    catalogue = Catalogue("v", [spot, perp])
    with pytest.raises(AmbiguousSymbol, match="name the market") as info:
        catalogue.by_venue_symbol("X")
    assert info.value.candidates == (spot, perp)
    assert isinstance(info.value, KeyError)
    assert catalogue.by_venue_symbol("X", "linear") == perp
    assert catalogue.in_market("spot").by_venue_symbol("X") == spot
    assert catalogue.as_mapping() == {}
    assert "X" in catalogue
    assert list(catalogue) == [spot, perp]
    with pytest.raises(UnknownSymbol):
        catalogue.in_market("option")


def test_a_canonical_symbol_two_contracts_share_is_ambiguous() -> None:
    """Two contracts that differ only in size share a spelling: look them up by venue symbol."""
    small, big = _inst("N", "BTC-USD-20261225", size="0.01"), _inst("F", "BTC-USD-20261225")
    catalogue = Catalogue("v", [small, big])
    with pytest.raises(AmbiguousSymbol, match="by venue symbol"):
        catalogue.by_symbol("BTC-USD-20261225")
    assert catalogue.by_venue_symbol("N") == small
    with pytest.raises(UnknownSymbol, match="BTC-USD-PERP"):
        catalogue.venue_symbol("BTC-USD-PERP")
