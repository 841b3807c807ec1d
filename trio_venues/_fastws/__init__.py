"""The default transport: a Trio socket, our own RFC 6455 codec, permessage-deflate.

``_frames`` (framing), ``_handshake`` (the HTTP upgrade) and ``_deflate``
(RFC 7692) are sans-I/O; ``_transport`` is the Trio shell.
"""

from ._transport import FastTransport as FastTransport
from ._transport import open_fast_transport as open_fast_transport
from ._transport import open_fast_transport_over_stream as open_fast_transport_over_stream

__all__ = ["FastTransport", "open_fast_transport", "open_fast_transport_over_stream"]
