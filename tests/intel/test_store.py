"""Knowledge base: atomic re-import (killed half-way in a subprocess), removal, history, seeding."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import minerwatch
from minerwatch.cli.main import main
from minerwatch.errors import UsageError
from minerwatch.intel import builtin
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.matcher import IntelMatcher
from minerwatch.intel.model import DISCOVERED_SOURCE, Indicator, Sighting
from minerwatch.intel.store import KnowledgeBase, default_path

SRC = str(Path(minerwatch.__file__).resolve().parents[1])


def domains(prefix: str, n: int) -> list[Indicator]:
    return [Indicator.build("domain", f"{prefix}{i}.example") for i in range(n)]


def test_reimport_replaces_the_source_only(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite", seed=False) as kb:
        kb.replace_source("a", domains("a", 3))
        kb.replace_source("b", domains("b", 2))
        kb.replace_source("a", domains("new", 1))
        assert {s.name: s.count for s in kb.sources()} == {"a": 1, "b": 2}
        assert kb.version == 3
        assert [h[1:4] for h in kb.history()] == [("import", "a", 1), ("import", "b", 2), ("import", "a", 3)]
        m = IntelMatcher.from_rows(kb.rows())
    assert m.match_domain("new0.example") and not m.match_domain("a0.example")
    assert m.match_domain("b1.example")


def test_failure_mid_import_rolls_back(tmp_path: Path) -> None:
    def exploding():
        yield from domains("x", 25_000)
        raise RuntimeError("disk on fire")

    with KnowledgeBase.open(tmp_path / "kb.sqlite", seed=False) as kb:
        kb.replace_source("a", domains("a", 5))
        with pytest.raises(RuntimeError):
            kb.replace_source("a", exploding())
        assert [s.count for s in kb.sources()] == [5]
        assert kb.version == 1


_KILLED_IMPORT = """
import sys, time
sys.path.insert(0, {src!r})
from minerwatch.intel.model import DISCOVERED_SOURCE, Indicator, Sighting
from minerwatch.intel.store import KnowledgeBase

def feed():
    for i in range(1_000_000):
        if i == 30_000:
            print("half-way", flush=True)
            time.sleep(60)
        yield Indicator("domain", f"new{{i}}.example")

with KnowledgeBase.open({path!r}, seed=False) as kb:
    kb.replace_source("feed", feed())
"""


def test_killed_import_leaves_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path, seed=False) as kb:
        kb.replace_source("feed", domains("old", 10))
    script = textwrap.dedent(_KILLED_IMPORT.format(src=SRC, path=str(path)))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "half-way"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with KnowledgeBase.read(path) as kb:  # the first open after the kill may be a read-only one
        assert [(s.name, s.count) for s in kb.sources()] == [("feed", 10)]
    with KnowledgeBase.open(path, seed=False) as kb:
        assert [(s.name, s.count) for s in kb.sources()] == [("feed", 10)]
        assert kb.version == 1
        m = IntelMatcher.from_rows(kb.rows())
    assert m.match_domain("old9.example")
    assert not m.match_domain("new0.example")
    assert m.count == 10


def test_remove(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite", seed=False) as kb:
        kb.replace_source("a", domains("a", 3))
        assert kb.remove_source("a") == 3
        assert kb.sources() == []
        with pytest.raises(UsageError, match="no source named"):
            kb.remove_source("a")


def test_shipped_set_is_seeded_once_and_can_be_removed(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path) as kb:
        (info,) = kb.sources()
        assert info.name == builtin.BUILTIN_SOURCE and info.count > 50 and info.rejected == 0
    with KnowledgeBase.open(path) as kb:
        assert kb.version == 1  # unchanged files: not re-imported
        kb.remove_source(builtin.BUILTIN_SOURCE)
        builtin.disable(kb)
    with KnowledgeBase.open(path) as kb:
        assert kb.sources() == []
        assert builtin.ensure_builtin(kb, force=True)
        assert [s.name for s in kb.sources()] == [builtin.BUILTIN_SOURCE]


def test_an_older_stored_shipped_set_is_matched_as_shipped_without_writing(tmp_path: Path, capsys) -> None:
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path) as kb:
        kb.replace_source(builtin.BUILTIN_SOURCE, [Indicator.build("domain", "stale.example")])
        kb.set_meta("builtin_version", "older")
    before = path.read_bytes()
    m = IntelMatcher.load(path)
    assert m.match_domain("donate.v2.xmrig.com") and not m.match_domain("stale.example")
    assert main(["intel", "--db", str(path), "list"]) == 0
    assert "older than this minerwatch's, which analyses use" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_an_empty_file_reads_as_the_shipped_set(tmp_path: Path, capsys) -> None:
    path = tmp_path / "kb.sqlite"
    path.write_bytes(b"")
    assert main(["intel", "--db", str(path), "list"]) == 0
    out, err = capsys.readouterr()
    assert builtin.BUILTIN_SOURCE in out and "holds no knowledge base yet" in err
    assert path.read_bytes() == b""
    assert main(["intel", "--db", str(path), "seed"]) == 0  # a writer makes it one
    with KnowledgeBase.read(path) as kb:
        assert kb.stored and [s.name for s in kb.sources()] == [builtin.BUILTIN_SOURCE]


def test_shipped_files_are_clean() -> None:
    problems = Problems()
    shipped = list(builtin.indicators(problems))
    assert problems.count == 0, problems.samples
    assert all(i.reference for i in shipped)
    families = {i.family for i in shipped}
    assert {"TeamTNT", "Kinsing", "H2Miner", "WatchDog", "Chia", "xmrig"} <= families


def test_discovered_pools(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite", seed=False) as kb:
        sightings = [
            Sighting.build("ip", "198.51.100.9", 3333, "1970-01-01T00:16:40Z", "10.0.0.5", "events 4,7"),
            Sighting.build("ip", "198.51.100.9", 3333, "1970-01-01T00:15:00Z", "10.0.0.6", ""),
            Sighting.build("domain", "New.Pool.Example", 0, "1970-01-01T00:15:50Z", "", ""),
        ]
        assert kb.learn(sightings, origin="test") == 2
        assert kb.history()[0][1:4] == ("learn", DISCOVERED_SOURCE, 2)
        found = list(kb.discovered())
    assert [(i.type, i.value) for i in found] == [("domain", "new.pool.example"), ("ip", "198.51.100.9")]
    ip = found[1]
    assert (ip.first_seen, ip.last_seen) == ("1970-01-01T00:15:00Z", "1970-01-01T00:16:40Z")
    assert "2 sightings" in ip.reference and "10.0.0.5,10.0.0.6" in ip.reference


def test_default_path_honours_env(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MINERWATCH_INTEL_DB", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("MINERWATCH_INTEL_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_path() == tmp_path / "minerwatch" / "intel.sqlite"
