"""`minerwatch intel` end to end through main(): exit codes, messages, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minerwatch.cli.main import main


@pytest.fixture
def kb(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "kb.sqlite"
    monkeypatch.setenv("MINERWATCH_INTEL_DB", str(path))
    return path


def test_import_list_stats_export_remove(kb: Path, tmp_path: Path, capsys) -> None:
    feed = tmp_path / "myfeed.txt"
    feed.write_text("pool.example\n???\n198.51.100.0/24\n")
    assert main(["intel", "import", str(feed)]) == 0
    out, err = capsys.readouterr()
    assert "imported 2 indicators into source 'myfeed'" in out
    assert f"{feed}:2:" in err and "skipped 1 bad entries" in err

    assert main(["intel", "list"]) == 0
    listed = capsys.readouterr().out
    assert "myfeed\t2 indicators\t1 rejected" in listed and "minerwatch-builtin" in listed

    assert main(["intel", "stats"]) == 0
    assert "import myfeed: 2 indicators, 1 rejected" in capsys.readouterr().out

    out_file = tmp_path / "out.jsonl"
    assert main(["intel", "export", "--source", "myfeed", "--format", "jsonl", "-o", str(out_file)]) == 0
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [(r["type"], r["value"], r["source"]) for r in rows] == [
        ("domain", "pool.example", "myfeed"),
        ("ip", "198.51.100.0/24", "myfeed"),
    ]

    assert main(["intel", "remove", "myfeed"]) == 0
    assert main(["intel", "remove", "myfeed"]) == 2
    assert "no source named 'myfeed'" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "stix"])
def test_export_reimports_to_the_same_indicators(kb: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"builtin.{ {'csv': 'csv', 'jsonl': 'jsonl', 'stix': 'json'}[fmt] }"
    assert main(["intel", "export", "--format", fmt, "-o", str(out)]) == 0
    assert main(["intel", "import", str(out), "--source", "copy"]) == 0
    from minerwatch.intel.store import KnowledgeBase

    with KnowledgeBase.open(kb) as opened:
        original = {r[1:3] for r in opened.rows("minerwatch-builtin")}
        copy = {r[1:3] for r in opened.rows("copy")}
    if fmt == "stix":  # STIX has no pattern for ports and TLS fingerprints
        original = {(t, v) for t, v in original if t not in ("port", "ja3", "ja4")}
    assert copy == original


def test_export_discovered(kb: Path, capsys) -> None:
    from minerwatch.intel.model import Sighting
    from minerwatch.intel.store import KnowledgeBase

    with KnowledgeBase.open(kb) as opened:
        opened.learn([Sighting.build("domain", "fresh.pool.example", 3333, "1970-01-01", "", "")], origin="t")
    assert main(["intel", "export", "--discovered"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("type,value,source")
    assert lines[1].startswith("domain,fresh.pool.example,minerwatch-discovered")


def test_errors_are_one_line(kb: Path, tmp_path: Path, capsys) -> None:
    assert main(["intel", "import", str(tmp_path / "missing.csv")]) == 2
    assert main(["intel", "import", str(tmp_path / "x.csv"), "--source", "minerwatch-builtin"]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    assert main(["intel", "import", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("minerwatch: error:") for line in err)


def test_seed_restores_removed_builtin(kb: Path, capsys) -> None:
    assert main(["intel", "remove", "minerwatch-builtin"]) == 0
    capsys.readouterr()
    assert main(["intel", "list"]) == 0
    assert "minerwatch-builtin" not in capsys.readouterr().out
    assert main(["intel", "seed"]) == 0
    assert main(["intel", "list"]) == 0
    assert "minerwatch-builtin" in capsys.readouterr().out
