"""The gapless feed's implementation (the public names are in :mod:`trio_venues.gapless`)."""
