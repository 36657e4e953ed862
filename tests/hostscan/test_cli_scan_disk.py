"""`minerwatch scan-disk` end to end: exit codes, events, determinism, errors in one line."""

from __future__ import annotations

import json
import os
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import orjson

from minerwatch.cli.main import main
from minerwatch.events import iso_timestamp
from minerwatch.hostscan.report import DIGEST_ROWS

from .conftest import SECRET, bladebit_header


def _events(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_found_exit_1_and_events(tmp_path: Path, plots, capsys) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    shutil.copy(plots.v2, disk / "movie.mkv")
    shutil.copy(plots.v1, disk / "v1.plot")
    out = tmp_path / "events.json"
    assert main(["scan-disk", str(disk), "-o", str(out), "--host", "web-7", "--no-progress"]) == 1
    events = _events(out)
    assert {e["diskmining"]["path"] for e in events} == {str(disk / "movie.mkv"), str(disk / "v1.plot")}
    for event in events:
        assert event["event_type"] == "diskmining" and event["src_ip"] == "web-7"
        assert event["timestamp"] == iso_timestamp(os.stat(event["diskmining"]["path"]).st_mtime)
        assert event["diskmining"]["kind"] == "plot" and event["diskmining"]["k"] == 18
    assert SECRET.hex() not in out.read_text()
    table = capsys.readouterr().out
    assert "movie.mkv" in table and "v2 k18" in table


def test_same_disk_same_output(tmp_path: Path, plots) -> None:
    shutil.copy(plots.v1, tmp_path / "a")
    shutil.copy(plots.v2, tmp_path / "b")
    outs = []
    for n in range(2):
        out = tmp_path.parent / f"{tmp_path.name}-{n}.json"
        main(["scan-disk", str(tmp_path), "-o", str(out), "--host", "h", "--no-progress"])
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") == 2


def test_clean_disk_exit_0_json_to_stdout(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["scan-disk", str(tmp_path), "--json", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "No disk mining evidence" in captured.err


def test_missing_path_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["scan-disk", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file or directory" in err[0]


def test_every_kind_of_finding_follows_the_event_schema(tmp_path: Path, plots) -> None:
    shutil.copy(plots.v1, tmp_path / "renamed.bin")
    (tmp_path / "bb.plot").write_bytes(bladebit_header(k=32, level=5))
    shutil.copytree(plots.interrupted_dir, tmp_path / "tmpdir")
    cfg = tmp_path / ".chia" / "mainnet" / "config"
    cfg.mkdir(parents=True)
    (cfg / "config.yaml").write_text("farmer:\n  xch_target_address: xch1abc\n")
    (tmp_path / "bladebit").write_bytes(b"\x7fELF" + bytes(100))
    (tmp_path / "bladebit").chmod(0o755)
    out = tmp_path / "events.jsonl"
    assert main(["scan-disk", str(tmp_path), "-o", str(out), "--no-progress"]) == 1
    events = _events(out)
    assert {e["diskmining"]["kind"] for e in events} >= {
        "plot",
        "plot_in_progress",
        "farming_config",
        "plotter_binary",
    }
    schema = json.loads(resources.files("minerwatch").joinpath("schema/events.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert [error.message for e in events for error in validator.iter_errors(e)] == []


def test_console_digest_is_bounded_and_counts_everything(tmp_path: Path, capsys) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    for i in range(DIGEST_ROWS + 5):
        (disk / f"p{i}.plot").write_bytes(bladebit_header())
    out = tmp_path / "events.jsonl"
    assert main(["scan-disk", str(disk), "-o", str(out), "--no-progress"]) == 1
    assert len(_events(out)) == DIGEST_ROWS + 5
    table = capsys.readouterr().out
    assert table.count(".plot") == DIGEST_ROWS
    assert f"{DIGEST_ROWS + 5} findings: {DIGEST_ROWS + 5} plot (5 not in the table" in table
