"""The README's Binance WS-API example (the block ending with ``order.test``) runs, as
written, against the fake Binance on 127.0.0.1."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import trio

from trio_venues.testing.binance import (
    FakeBinance,
    binance_api_url,
    binance_server,
    ed25519_test_key,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def _block_with(needle: str) -> str:
    """The README's python code block containing ``needle``."""
    blocks: list[str] = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (block,) = [b for b in blocks if needle in b]
    return block


async def test_readme_ws_api_example_runs_against_the_fake(nursery: trio.Nursery) -> None:
    """The block runs unchanged (url, api_key and private_key_pem given) and order.test
    answers {}: the fake checks the order and the signature and places nothing."""
    source = _block_with('"order.test"')
    wrapped = "async def example(url, api_key, private_key_pem):\n" + textwrap.indent(
        source + "return book, sub, order\n", "    "
    )
    namespace: dict[str, Any] = {}
    exec(compile(wrapped, str(README), "exec"), namespace)
    server = binance_server(FakeBinance(), path="/ws-api/v3")
    await nursery.start(server.serve_tcp)
    key = ed25519_test_key()
    with trio.fail_after(10):
        book, sub, order = await namespace["example"](
            binance_api_url(server), key.api_key, key.private_key_pem().decode()
        )
    assert order == {}
    assert sub == 0
    assert book.last_update_id == server.behaviour.market("BTCUSDT").update_id
    assert server.behaviour.engine.open_orders() == []
    server.stop()
