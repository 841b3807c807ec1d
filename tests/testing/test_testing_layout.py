"""trio_venues.testing holds venue-neutral tools; each venue's fake is in testing.<venue>."""

from __future__ import annotations

import pytest

import trio_venues.testing
import trio_venues.testing.binance


@pytest.mark.parametrize("name", sorted(trio_venues.testing.binance.__all__))
def test_old_binance_names_warn_and_still_work(name: str) -> None:
    """trio_venues.testing.<Binance name> is a deprecated alias of testing.binance.<name>."""
    with pytest.warns(DeprecationWarning, match=f"testing.binance.{name}"):
        value = getattr(trio_venues.testing, name)
    assert value is getattr(trio_venues.testing.binance, name)


def test_testing_exports_no_venue_names() -> None:
    """Nothing in trio_venues.testing.__all__ names a venue; unknown names still fail."""
    assert not [n for n in trio_venues.testing.__all__ if "binance" in n.lower()]
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = trio_venues.testing.nonsense
