"""OKX session tests against the fake OKX."""
