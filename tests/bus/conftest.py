"""A NATS server with JetStream for each test that needs one: on 127.0.0.1, a free port, a temporary store,
stopped by its PID. Skipped where nats-server is not installed, unless MINERWATCH_REQUIRE_NATS is set (CI
sets it: .ci/run installs Debian's nats-server)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from minerwatch.capture.sample import write_sample

STARTUP = 10.0  # seconds the server may take to listen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("nats-server")
    if server is None:
        if os.environ.get("MINERWATCH_REQUIRE_NATS"):
            pytest.fail("MINERWATCH_REQUIRE_NATS is set but nats-server is not installed")
        pytest.skip("nats-server is not installed (Debian package nats-server)")
    port = _free_port()
    store = tmp_path / "jetstream"
    log = (tmp_path / "nats-server.log").open("wb")
    process = subprocess.Popen(
        [server, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + STARTUP
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"nats-server did not start: {(tmp_path / 'nats-server.log').read_text()[-500:]}"
                    )
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demonstration capture (hosts 10.1.1.x: brute force, exploit, dropper, two miners, a suspect)."""
    path = tmp_path / "demo.pcap"
    write_sample(path)
    return path
