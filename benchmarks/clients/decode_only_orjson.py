"""Reference: orjson decode-only, in-process (no socket, no framing): the decoding ceiling."""

from __future__ import annotations

import time

import orjson

from ..payloads import payloads, sentinel_payload
from ._common import Result, client_args, emit, sentinel_for


def decode(kind: str, count: int) -> Result:
    """Decode ``count`` pre-built payloads with the same per-message work as the clients."""
    messages = [*payloads(kind, count), sentinel_payload(kind)]
    sentinel = sentinel_for(kind)
    n = nbytes = 0
    t0 = time.perf_counter()
    for payload in messages:
        obj = orjson.loads(payload)
        if obj["stream"] == sentinel:
            break
        n += 1
        nbytes += len(payload)
    return {"msgs": n, "bytes": nbytes, "seconds": time.perf_counter() - t0}


def main() -> None:
    """Run one mode and print its RESULT line."""
    a = client_args(__doc__ or "")
    if a.mode not in ("trade", "depth"):
        raise SystemExit("decode_only_orjson measures throughput only")
    emit(decode(a.mode, a.count))


if __name__ == "__main__":
    main()
