"""The generic JSON test venue: a fully specified protocol spoken by the fake server."""

from ._client import GenericJson as GenericJson
from ._protocol import GenericJsonCore as GenericJsonCore

__all__ = ["GenericJson", "GenericJsonCore"]
