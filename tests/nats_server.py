"""A NATS server with JetStream of one's own, on 127.0.0.1 and a free port, its store in a given directory,
stopped by its PID: for the bus tests (tests/bus/conftest.py) and benchmarks/bench_bus.py."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP = 10.0  # seconds the server may take to listen


class NatsServerMissing(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def nats_server(work: Path) -> Iterator[str]:
    """The URL of a nats-server running until the block ends; its log is work/nats-server.log."""
    server = shutil.which("nats-server")
    if server is None:
        raise NatsServerMissing("nats-server is not installed (Debian package nats-server)")
    port = _free_port()
    log_path = work / "nats-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [server, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(work / "jetstream")],
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + STARTUP
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"nats-server did not start: {log_path.read_text()[-500:]}"
                        ) from None
                    time.sleep(0.05)
            yield f"nats://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
