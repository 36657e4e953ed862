"""Shared fixtures. The public capture corpus is reached through `corpus` alone, and never copied here."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS_DIR = Path(
    os.environ.get("MINERWATCH_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)


@pytest.fixture(autouse=True, scope="session")
def private_intel_db(tmp_path_factory) -> Path:
    """Tests never touch the user's knowledge base: each session gets its own (read as the shipped set)."""
    path = tmp_path_factory.mktemp("intel") / "intel.sqlite"
    os.environ["MINERWATCH_INTEL_DB"] = str(path)
    return path


@pytest.fixture(autouse=True)
def private_incident_store(tmp_path_factory, monkeypatch) -> Path:
    """Tests never touch the user's incident store, nor see each other's: each test gets its own path
    (the file is only made when an analysis with a store runs)."""
    path = tmp_path_factory.getbasetemp() / "stores" / f"{next(_STORES)}.sqlite"
    monkeypatch.setenv("MINERWATCH_STORE", str(path))
    return path


_STORES = itertools.count()


@pytest.fixture(autouse=True, scope="session")
def private_cache_dir(tmp_path_factory) -> Path:
    """Tests never write to the user's cache of parsed rule files."""
    path = tmp_path_factory.mktemp("cache")
    os.environ["MINERWATCH_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The read-only corpus of public captures (../shared/corpus, or $MINERWATCH_CORPUS)."""
    if not (CORPUS_DIR / "INDEX.md").is_file():
        pytest.skip(f"public capture corpus not found at {CORPUS_DIR} (set MINERWATCH_CORPUS to use it)")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def real_traffic(tmp_path_factory) -> Path:
    """Busy normal traffic of real programs, recorded once per run for 20 s by
    benchmarks/record_real_traffic.py: curl clients fetching from Python's HTTP and HTTPS servers, the
    names asked of dnsmasq first, in two network namespaces it makes (root only)."""
    if os.geteuid() != 0:
        pytest.skip("recording in network namespaces needs root")
    tools = ("ip", "curl", "tcpdump", "openssl", "dnsmasq", "dig")  # Debian packages installed by .ci/run
    if missing := [tool for tool in tools if shutil.which(tool) is None]:
        pytest.skip(f"missing {', '.join(missing)} (installed by .ci/run)")
    recorder = Path(__file__).resolve().parents[1] / "benchmarks" / "record_real_traffic.py"
    path = tmp_path_factory.mktemp("real") / "real.pcap"
    command = [sys.executable, str(recorder), str(path), "--seconds", "20", "--clients", "4"]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return path


@pytest.fixture
def write_capture(tmp_path: Path):
    """Write (timestamp, frame) pairs to a pcap file made by the project's own writer; returns its path."""
    from minerwatch.capture.writer import PcapWriter

    counter = iter(range(1_000_000))

    def write(packets, name: str | None = None, **writer_options) -> Path:
        path = tmp_path / (name or f"capture{next(counter)}.pcap")
        with path.open("wb") as out:
            PcapWriter(out, **writer_options).write_all(packets)
        return path

    return write


@pytest.fixture
def analyse():
    """Run a whole analysis over capture files; returns the list of events it emitted."""
    from minerwatch.pipeline import Analysis, AnalysisOptions

    def run(*paths: Path, **options) -> list[dict]:
        events: list[dict] = []
        analysis = Analysis([events.append], AnalysisOptions(**options))
        for path in paths:
            analysis.feed_file(path)
        analysis.finish()
        return events

    return run
