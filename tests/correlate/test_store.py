"""The incident store: a later run extends the same incidents; A then B is A and B together."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from minerwatch.capture.sample import write_sample
from minerwatch.cli.main import main
from minerwatch.correlate.stages import Stage
from minerwatch.correlate.store import IncidentStore
from minerwatch.pipeline import Analysis, AnalysisOptions

SPLIT = 1764000065.0  # 2025-11-24T16:01:05Z: the attack and the dropper before, the miner and mining after
VICTIM = "10.1.1.20"


def split_sample(tmp_path: Path) -> tuple[Path, Path]:
    """The demo capture cut in two at SPLIT (pcap records copied as they are)."""
    whole = tmp_path / "sample.pcap"
    write_sample(whole)
    data = whole.read_bytes()
    parts: list[bytearray] = [bytearray(data[:24]), bytearray(data[:24])]
    offset = 24
    while offset < len(data):
        seconds, micros, length, _ = struct.unpack_from("<IIII", data, offset)
        record = data[offset : offset + 16 + length]
        parts[seconds + micros / 1e6 >= SPLIT] += record
        offset += len(record)
    paths = (tmp_path / "a.pcap", tmp_path / "b.pcap")
    for path, part in zip(paths, parts, strict=True):
        path.write_bytes(part)
    return paths


def analyse(store: Path, *captures: Path) -> list[dict]:
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions(store=str(store)))
    for capture in captures:
        analysis.feed_file(capture)
    analysis.finish()
    return events


def without_ids(incident: dict) -> dict:
    return incident | {
        "stages": [{k: v for k, v in s.items() if k != "event_ids"} for s in incident["stages"]]
    }


def stored(path: Path) -> list[dict]:
    with IncidentStore.open(path) as store:
        return [without_ids(i) for i in store.list()]


def test_a_then_b_gives_the_incidents_of_a_and_b_together(tmp_path: Path):
    a, b = split_sample(tmp_path)
    first = analyse(tmp_path / "apart.sqlite", a)
    (early,) = [e["incident"] for e in first if e["event_type"] == "incident"]
    assert early["host"] == VICTIM and "actions_on_objective" not in {s["name"] for s in early["stages"]}
    later = analyse(tmp_path / "apart.sqlite", b)
    analyse(tmp_path / "together.sqlite", a, b)
    assert stored(tmp_path / "apart.sqlite") == stored(tmp_path / "together.sqlite")
    extended = next(e["incident"] for e in later if e["event_type"] == "incident" and e["src_ip"] == VICTIM)
    assert extended["id"] == early["id"]
    assert [s["name"] for s in extended["stages"]] == [
        "attempted_attack",
        "exploitation",
        "implant_download",
        "actions_on_objective",
    ]
    # stages seen only in the first run cite no event of this one
    assert next(s for s in extended["stages"] if s["name"] == "attempted_attack")["event_ids"] == []


def test_a_run_that_adds_nothing_to_an_incident_does_not_repeat_it(tmp_path: Path):
    a, _ = split_sample(tmp_path)
    analyse(tmp_path / "s.sqlite", a)
    benign = tmp_path / "empty.pcap"
    benign.write_bytes(a.read_bytes()[:24])
    assert [
        e for e in analyse(tmp_path / "s.sqlite", benign) if e["event_type"] in ("incident", "host")
    ] == []
    assert len(stored(tmp_path / "s.sqlite")) == 1


def test_retention_forgets_what_ended_long_before_the_newest_activity(tmp_path: Path):
    sets = {"techniques": ["T1105"]}
    old = ("10.0.0.1", Stage.IMPLANT_DOWNLOAD, None, "old", 0.0, 10.0, 0.5, 0.5, None, sets)
    new = (
        "10.0.0.2",
        Stage.IMPLANT_DOWNLOAD,
        None,
        "new",
        200 * 86400.0,
        200 * 86400.0,
        0.5,
        0.5,
        None,
        sets,
    )
    with IncidentStore.open(tmp_path / "r.sqlite") as store:
        store.save([old, new], [("10.0.0.1", "wallet", "w", None, None)], [])
        assert store.expire(90 * 86400.0) == 1
        assert [row[0] for row in store.steps()] == ["10.0.0.2"] and store.facts() == []


def test_the_cli_keeps_incidents_and_shows_them(tmp_path: Path, capsys, private_incident_store: Path):
    path = tmp_path / "sample.pcap"
    write_sample(path)
    assert main(["analyze", str(path), "--no-progress", "--no-store"]) == 1
    assert not private_incident_store.exists()
    assert main(["analyze", str(path), "--no-progress"]) == 1
    capsys.readouterr()
    assert main(["incidents", "--json", "list"]) == 1
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [i["host"] for i in listed] == [VICTIM, "10.1.1.21"]
    assert main(["incidents", "--json", "show", listed[0]["id"]]) == 1
    assert json.loads(capsys.readouterr().out) == listed[0]
    assert main(["incidents", "show", listed[0]["id"]]) == 1
    assert "require authentication" in capsys.readouterr().out
    assert main(["incidents", "show", "mw-0000000000000000"]) == 2
    assert "no incident" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b""])
def test_a_broken_store_is_one_line_and_exit_2(tmp_path: Path, capsys, content: bytes):
    store = tmp_path / "broken.sqlite"
    store.write_bytes(content)
    path = tmp_path / "sample.pcap"
    write_sample(path)
    code = main(["analyze", str(path), "--no-progress", "--store", str(store)])
    err = capsys.readouterr().err
    if content:
        assert code == 2 and "incident store" in err and len(err.strip().splitlines()) == 1
    else:
        assert code == 1  # an empty file is a new store


def test_the_store_keeps_within_the_correlators_bounds(tmp_path: Path):
    from minerwatch.correlate.incidents import IncidentCorrelator, IncidentPolicy
    from minerwatch.correlate.verdicts import VerdictCorrelator

    sets = {"techniques": ["T1105"], "files": ["ab" * 32]}
    rows = [
        (
            f"10.0.0.{n}",
            Stage.IMPLANT_DOWNLOAD,
            None,
            f"file {k}",
            n * 10.0 + k,
            n * 10.0 + k,
            0.9,
            0.9,
            None,
            sets,
        )
        for n in range(3)
        for k in range(3)
    ]
    with IncidentStore.open(tmp_path / "cap.sqlite") as store:
        store.save(rows, [("10.0.0.0", "wallet", "w", None, None)], [])
    correlator = IncidentCorrelator(IncidentPolicy(max_hosts=2, max_steps=2))
    with IncidentStore.open(tmp_path / "cap.sqlite") as store:
        correlator.incidents(VerdictCorrelator(), store)
        assert sorted({row[0] for row in store.steps()}) == ["10.0.0.1", "10.0.0.2"]
        assert [row[3] for row in store.steps() if row[0] == "10.0.0.2"] == ["file 1", "file 2"]
        assert store.facts() == [] and {i["host"] for i in store.list()} == {"10.0.0.1", "10.0.0.2"}
    assert correlator.stats["store_hosts_forgotten"] == 1 and correlator.stats["store_steps_dropped"] == 3


def foreign_database(path: Path) -> bytes:
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.execute("INSERT INTO notes VALUES ('not ours')")
    db.commit()
    db.close()
    return path.read_bytes()


@pytest.mark.parametrize("command", [["incidents", "list"], ["report", "--format", "json"]])
def test_readers_write_nothing_and_refuse_what_is_not_a_store(tmp_path, capsys, command):
    store = tmp_path / "store.sqlite"
    analyse(store, *split_sample(tmp_path))
    before = store.read_bytes()
    assert main([*command[:1], "--store", str(store), *command[1:]]) in (0, 1)
    assert store.read_bytes() == before  # opened read-only
    foreign = tmp_path / "foreign.sqlite"
    content = foreign_database(foreign)
    capsys.readouterr()
    assert main([*command[:1], "--store", str(foreign), *command[1:]]) == 2
    assert "is not a minerwatch incident store" in capsys.readouterr().err
    assert foreign.read_bytes() == content


def test_analysis_never_writes_into_another_applications_database_or_a_damaged_one(tmp_path, capsys):
    write_sample(tmp_path / "demo.pcap")
    foreign = tmp_path / "foreign.sqlite"
    content = foreign_database(foreign)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"garbage" * 1000)
    for path, message in (
        (foreign, "is not a minerwatch incident store"),
        (damaged, "damaged or not a database"),
    ):
        assert main(["analyze", str(tmp_path / "demo.pcap"), "--store", str(path), "-o", "/dev/null"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert foreign.read_bytes() == content and damaged.read_bytes() == b"garbage" * 1000
