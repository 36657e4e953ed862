"""A NATS server with JetStream for each test that needs one (tests/nats_server.py). Skipped where
nats-server is not installed, unless MINERWATCH_REQUIRE_NATS is set (CI sets it: .ci/run installs Debian's
nats-server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from minerwatch.capture.sample import write_sample
from nats_server import NatsServerMissing, nats_server


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    try:
        with nats_server(tmp_path) as url:
            yield url
    except NatsServerMissing as missing:
        if os.environ.get("MINERWATCH_REQUIRE_NATS"):
            pytest.fail(f"MINERWATCH_REQUIRE_NATS is set but {missing}")
        pytest.skip(str(missing))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demonstration capture (hosts 10.1.1.x: brute force, exploit, dropper, two miners, a suspect)."""
    path = tmp_path / "demo.pcap"
    write_sample(path)
    return path
