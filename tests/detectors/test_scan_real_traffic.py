"""The scan detector on busy normal traffic made by real programs: the real-traffic benchmark capture
(benchmarks/record_real_traffic.py: curl clients fetching from Python's HTTP and HTTPS server and asking
dnsmasq with dig, in two network namespaces it makes), recorded here for 20 s. Hundreds of short
connections to a few ports of one server, none of them a probe of a scan. (The benign corpus captures
are checked for scans by test_corpus.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RECORDER = Path(__file__).resolve().parents[2] / "benchmarks" / "record_real_traffic.py"
TOOLS = ("ip", "curl", "tcpdump", "openssl", "dnsmasq", "dig")  # Debian packages installed by .ci/run


@pytest.fixture(scope="module")
def real_traffic(tmp_path_factory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("recording in network namespaces needs root")
    if missing := [tool for tool in TOOLS if shutil.which(tool) is None]:
        pytest.skip(f"missing {', '.join(missing)} (installed by .ci/run)")
    path = tmp_path_factory.mktemp("real") / "real.pcap"
    command = [sys.executable, str(RECORDER), str(path), "--seconds", "20", "--clients", "4"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return path


def test_normal_traffic_raises_no_scan(real_traffic, analyse):
    events = analyse(real_traffic)
    stats = events[-1]["stats"]
    assert stats["capture"]["flows_created"] >= 100  # the traffic is there (353 in a 20 s take on 2 cores)
    assert [e for e in events if e["event_type"] in ("scan", "incident", "host")] == []
    assert stats["scan"]["scans"] == 0
