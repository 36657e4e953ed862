from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def one_process(analyse):
    """The events of one process analysing a list of captures (the reference of a run with workers)."""
    return lambda paths, **options: analyse(*paths, **options)


@pytest.fixture(scope="package")
def benchmark_capture(tmp_path_factory) -> Path:
    """A small capture from the benchmark's generator (benchmarks/make_mixed_capture.py): mining among
    DNS, TLS, HTTP, SSH, QUIC, IPv6 and VLANs."""
    path = tmp_path_factory.mktemp("mixed") / "mixed.pcap"
    script = ROOT / "benchmarks" / "make_mixed_capture.py"
    subprocess.run(
        [sys.executable, script, path, "--packets", "40000", "--seed", "7"], check=True, capture_output=True
    )
    return path
