"""Issue 14: the knowledge base under concurrency (readers never wait for a writer, a second writer gets one
line, quickly) and corruption (a damaged, foreign or non-SQLite file is one line and exit 2, everywhere)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minerwatch
from minerwatch import sqlite_files
from minerwatch.capture.writer import dns_exchange
from minerwatch.cli.main import main
from minerwatch.intel import Indicator, IntelMatcher, KnowledgeBase
from minerwatch.intel.store import KnowledgeBaseError

SRC = str(Path(minerwatch.__file__).resolve().parents[1])
FEED = [Indicator.build("domain", f"d{i}.example") for i in range(3000)]

# Another process in the middle of an import: its write transaction stays open until stdin closes.
_WRITER = """
import sys
sys.path.insert(0, {src!r})
from minerwatch.intel.model import Indicator
from minerwatch.intel.store import KnowledgeBase

def feed():
    for i in range(100):
        yield Indicator("domain", f"new{{i}}.example")
    print("importing", flush=True)
    sys.stdin.read()

with KnowledgeBase.open({path!r}) as kb:
    kb.replace_source("feed", feed())
"""


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path) as base:
        base.replace_source("feed", FEED)
    return path


@pytest.fixture
def writer(kb: Path):
    """A second process holding the knowledge base's write lock mid-import."""
    script = textwrap.dedent(_WRITER.format(src=SRC, path=str(kb)))
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "importing"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


def one_error_line(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minerwatch: error:"), err
    assert all(n in err[0] for n in needles), err[0]
    return err[0]


def test_readers_do_not_wait_for_a_writer(kb: Path, writer, write_capture, capsys) -> None:
    assert main(["intel", "--db", str(kb), "list"]) == 0
    assert "feed\t3000 indicators" in capsys.readouterr().out  # the last committed version
    assert main(["intel", "--db", str(kb), "export", "--source", "feed"]) == 0
    assert capsys.readouterr().out.count("\n") == 3001
    capture = write_capture(dns_exchange("10.0.0.5", "192.0.2.53", "d7.example", "192.0.2.1", 10.0, 1))
    assert main(["analyze", str(capture), "--intel-db", str(kb), "--no-progress"]) == 1


def test_a_second_writer_gets_one_line(kb: Path, writer, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sqlite_files, "LOCK_TIMEOUT", 0.1)
    feed = tmp_path / "other.txt"
    feed.write_text("pool.example\n")
    assert main(["intel", "--db", str(kb), "import", str(feed)]) == 2
    one_error_line(capsys, str(kb), "being changed by another process", "waited 0.1 s")
    assert main(["intel", "--db", str(kb), "remove", "feed"]) == 2
    one_error_line(capsys, "being changed by another process")


def test_learning_while_another_writer_runs_is_one_line_after_every_event(
    kb: Path, writer, tmp_path: Path, pool_capture: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(sqlite_files, "LOCK_TIMEOUT", 0.1)
    out = tmp_path / "events.jsonl"
    args = [str(pool_capture), "--intel-db", str(kb), "-o", str(out), "--learn-pools"]
    assert main(["analyze", "--no-progress", *args]) == 2
    one_error_line(capsys, "being changed by another process")
    assert json.loads(out.read_text().splitlines()[-1])["event_type"] == "stats"


def test_the_writer_finishing_is_seen_by_the_next_reader(kb: Path, writer) -> None:
    writer.stdin.close()
    writer.wait(timeout=60)
    with KnowledgeBase.read(kb) as base:
        assert {s.name: s.count for s in base.sources()}["feed"] == 100


def _damaged(good: Path, tmp_path: Path) -> dict[str, Path]:
    data = good.read_bytes()
    files = {}
    for name, sql in {
        "foreign": "CREATE TABLE users (name TEXT)",
        "foreign-meta": "CREATE TABLE meta (a, b, c)",
        "newer": "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
    }.items():
        files[name] = tmp_path / f"{name}.sqlite"
        if name == "newer":
            shutil.copy(good, files[name])
        with closing(sqlite3.connect(files[name], isolation_level=None)) as conn:
            conn.execute(sql)
    for name, content in {
        "not-sqlite": b"this is not sqlite\n" * 200,
        "truncated": data[: len(data) // 2],
        "garbage-pages": data[:4096] + b"\xa5\x5a" * ((len(data) - 4096) // 2),
    }.items():
        files[name] = tmp_path / f"{name}.sqlite"
        files[name].write_bytes(content)
    return files


COMMANDS = [["list"], ["stats"], ["export"], ["import", "FEED"], ["import", "--discovered", "FEED"]]
COMMANDS += [["remove", "feed"], ["seed"]]


@pytest.mark.parametrize(
    "kind", ["not-sqlite", "truncated", "garbage-pages", "foreign", "foreign-meta", "newer"]
)
def test_a_damaged_or_foreign_file_is_one_line_everywhere(
    kb: Path, tmp_path: Path, kind: str, write_capture, capsys
) -> None:
    path = _damaged(kb, tmp_path)[kind]
    before = path.read_bytes()
    feed = tmp_path / "feed.txt"
    feed.write_text("pool.example\n")
    for command in COMMANDS:
        args = [str(feed) if a == "FEED" else a for a in command]
        assert main(["intel", "--db", str(path), *args]) == 2, command
        one_error_line(capsys, str(path), "move it away and re-import")
    capture = write_capture(dns_exchange("10.0.0.5", "192.0.2.53", "d7.example", "192.0.2.1", 10.0, 1))
    assert main(["analyze", str(capture), "--intel-db", str(path), "--no-progress"]) == 2
    one_error_line(capsys, str(path), "--no-intel")
    assert path.read_bytes() == before  # another application's file is never written to


@pytest.fixture(scope="module")
def varied_kb(tmp_path_factory) -> Path:
    """The bytes of a small KB with every kind of value that a flipped byte could make unparseable."""
    path = tmp_path_factory.mktemp("varied") / "kb.sqlite"
    with KnowledgeBase.open(path) as base:
        base.replace_source(
            "feed",
            [Indicator.build("ip", f"198.51.{i // 250}.{i % 250}") for i in range(300)]
            + [Indicator.build("port", str(3000 + i)) for i in range(30)]
            + [Indicator.build("hash", f"{i:064x}") for i in range(30)]
            + [Indicator.build("domain", f"x{i}.example", valid_until="2030-01-01") for i in range(100)],
        )
    return path


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(100, 1 << 30), st.integers(0, 255)), min_size=1, max_size=16))
def test_flipped_bytes_are_read_or_refused_in_one_line(
    varied_kb: bytes, tmp_path: Path, flips, capsys
) -> None:
    data = bytearray(varied_kb.read_bytes())
    for where, value in flips:
        data[where % len(data)] = value
    path = tmp_path / "flipped.sqlite"
    path.write_bytes(bytes(data))
    for command in (["list"], ["stats"], ["export"], ["export", "--format", "stix"]):
        status = main(["intel", "--db", str(path), *command])
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 0 or (status == 2 and len(err) == 1), (command, err)
    try:
        IntelMatcher.load(path)
    except KnowledgeBaseError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
