"""Canonical symbol spellings: the builders and parse_symbol are inverses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_venues.unified import (
    SymbolParts,
    future_symbol,
    option_symbol,
    parse_symbol,
    perpetual_symbol,
    spot_symbol,
)

assets = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
strikes = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**9), places=4)


def test_examples_are_spelled_as_documented() -> None:
    """Each kind has the spelling the module docs show."""
    expiry = dt.date(2026, 12, 25)
    assert spot_symbol("btc", "usdt") == "BTC-USDT"
    assert perpetual_symbol("BTC", "USDT") == "BTC-USDT-PERP"
    assert future_symbol("BTC", "USD", expiry) == "BTC-USD-20261225"
    assert option_symbol("BTC", "USD", expiry, Decimal("100000.0"), "C") == (
        "BTC-USD-20261225-100000-C"
    )
    assert option_symbol("ETH", "USDC", expiry, Decimal("0.50"), "P") == "ETH-USDC-20261225-0.5-P"


@given(assets, assets, dates, strikes, st.sampled_from(["C", "P"]))
def test_builders_and_parser_round_trip(
    base: str, quote: str, expiry: dt.date, strike: Decimal, option_type: str
) -> None:
    """parse_symbol gives back exactly what each builder was given."""
    kind: Literal["C", "P"] = "C" if option_type == "C" else "P"
    assert parse_symbol(spot_symbol(base, quote)) == SymbolParts(base, quote, "spot")
    assert parse_symbol(perpetual_symbol(base, quote)) == SymbolParts(base, quote, "perpetual")
    assert parse_symbol(future_symbol(base, quote, expiry)) == SymbolParts(
        base, quote, "future", expiry
    )
    parts = parse_symbol(option_symbol(base, quote, expiry, strike, kind))
    assert parts == SymbolParts(base, quote, "option", expiry, strike.normalize(), kind)


@pytest.mark.parametrize(
    "text",
    [
        "BTCUSDT",
        "btc-usdt",
        "BTC-USDT-",
        "BTC-USDT-20261332",
        "BTC-USD-20261225-1.50-C",
        "BTC-USD-20261225-0-C",
        "BTC-USD-20261225-100-X",
        "BTC-USDT-SWAP",
    ],
)
def test_non_canonical_spellings_are_refused(text: str) -> None:
    """Venue spellings, lower case, bad dates and inexact strikes are a ValueError."""
    with pytest.raises(ValueError, match="not a canonical symbol"):
        parse_symbol(text)


@pytest.mark.parametrize("strike", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
def test_option_strike_must_be_positive_and_finite(strike: Decimal) -> None:
    """A zero, negative or non-finite strike cannot be spelled."""
    with pytest.raises(ValueError, match="strike"):
        option_symbol("BTC", "USD", dt.date(2026, 12, 25), strike, "C")


def test_unified_each_flattens_a_unifiers_result() -> None:
    """None, one event and a batch all become a tuple of events."""
    from trio_venues.unified import Trade, unified_each

    trade = Trade(
        venue="binance",
        symbol="BTC-USDT",
        venue_symbol="BTCUSDT",
        side="buy",
        price=Decimal("1.5"),
        quantity=Decimal(2),
        trade_id="7",
        exchange_ns=1,
        received_at=0.0,
    )
    assert unified_each(None) == ()
    assert unified_each(trade) == (trade,)
    assert unified_each((trade, trade)) == (trade, trade)
