"""A Chia verdict from traffic joined with scan-disk's findings on the same host (analyze and ingest
--disk-findings), and a verdict from the findings alone on a host the traffic says nothing about.

Both sides are real: the recorded chia-blockchain 2.7.5 farmer and harvester (tests/fixtures/encrypted
c02.pcap, hosts 10.79.12.1 and 10.79.12.2, judged `chia-farming` from their traffic) and plots made at test
time by Chia's own plotters (chiapos v1, chia_rs v2) plus a plotting run killed half-way, found by
`minerwatch scan-disk --host 10.79.12.2`.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path

import jsonschema
import orjson

from minerwatch.cli.main import main
from minerwatch.correlate.disk import MAX_LISTED
from minerwatch.correlate.verdicts import DISK_ONLY_WEIGHT

from .conftest import FARMER_PK, SECRET

CHIA = Path(__file__).resolve().parents[1] / "fixtures" / "encrypted" / "c02.pcap"
FARMER, PEER, ELSEWHERE = "10.79.12.2", "10.79.12.1", "10.0.0.99"
SCHEMA = json.loads(resources.files("minerwatch").joinpath("schema/events.schema.json").read_text())


def events_of(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def scan(tmp_path: Path, plots, host: str, name: str) -> Path:
    disk = tmp_path / f"disk-{name}"
    disk.mkdir()
    shutil.copy(plots.v1, disk / "v1.plot")
    shutil.copy(plots.v2, disk / "v2.plot2")
    shutil.copytree(plots.interrupted_dir, disk / "plotting")
    out = tmp_path / f"{name}.jsonl"
    assert main(["scan-disk", str(disk), "-o", str(out), "--host", host, "--no-progress"]) == 1
    return out


def test_the_farmers_verdict_and_incident_list_its_plots(tmp_path: Path, plots) -> None:
    findings = scan(tmp_path, plots, FARMER, "farmer")
    elsewhere = scan(tmp_path, plots, ELSEWHERE, "other")  # a host with plots and no traffic seen
    written = events_of(findings)
    out = tmp_path / "events.jsonl"
    command = ["analyze", str(CHIA), "--disk-findings", str(findings), "--disk-findings", str(elsewhere)]
    assert main([*command, "-o", str(out), "--no-store", "--no-progress"]) == 1
    events = events_of(out)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert not [e for e in events if list(validator.iter_errors(e))]
    assert SECRET.hex() not in out.read_text()

    every = [e for e in events if e["event_type"] == "diskmining"]
    assert {e["src_ip"] for e in every} == {FARMER, ELSEWHERE}
    disk = [e for e in every if e["src_ip"] == FARMER]
    # The killed plotting run left 40-odd temp files: MAX_LISTED are listed, the plots first; all counted.
    assert len(written) > MAX_LISTED and len(disk) == MAX_LISTED
    plots_written = {e["diskmining"]["path"] for e in written if e["diskmining"]["kind"] == "plot"}
    assert plots_written <= {e["diskmining"]["path"] for e in disk}
    for event in disk:  # each says where scan-disk wrote it
        file, line = event["diskmining"]["source"].split(" (event")[0].rsplit(":", 1)
        original = written[int(line) - 1]
        assert file == str(findings) and original["diskmining"]["path"] == event["diskmining"]["path"]
        assert event["timestamp"] == original["timestamp"]

    verdicts = {e["src_ip"]: e["verdict"] for e in events if e["event_type"] == "verdict"}
    assert {verdicts[FARMER]["activity"], verdicts[PEER]["activity"]} == {"chia-farming"}
    assert "disk" not in verdicts[PEER]
    joined = verdicts[FARMER]["disk"]
    kinds = {}
    for event in written:
        kinds[event["diskmining"]["kind"]] = kinds.get(event["diskmining"]["kind"], 0) + 1
    assert joined["kinds"] == kinds and joined["kinds"]["plot"] >= 2 and "plot_in_progress" in kinds
    assert joined["findings"] == len(written)
    assert joined["plots_complete"] == 2  # v1.plot and v2.plot2; the killed run's final file is not
    assert joined["farmer_public_keys"] == [FARMER_PK.hex()]
    assert sorted(joined["event_ids"]) == sorted(e["event_id"] for e in disk)
    assert set(joined["event_ids"]) <= set(verdicts[FARMER]["evidence"]["event_ids"])

    incidents = {e["src_ip"]: e["incident"] for e in events if e["event_type"] == "incident"}
    [stage] = incidents[FARMER]["stages"]
    assert "chia plots, plotting or farming set-up on disk (scan-disk)" in stage["observations"]
    assert "T1496" in stage["techniques"] and set(joined["event_ids"]) <= set(stage["event_ids"])
    assert incidents[FARMER]["status"] == "suspicious"  # farming can be legitimate: an analyst decides
    assert incidents[FARMER]["score"] > incidents[PEER]["score"]

    # The findings alone: a suspect of its own, at half the most confident finding's confidence, over mtimes.
    alone = verdicts[ELSEWHERE]
    assert alone["activity"] == "chia-on-disk" and alone["stages"] == [] and alone["pools"] == []
    most = max(e["diskmining"]["confidence"] for e in written)
    assert alone["confidence"] == round(DISK_ONLY_WEIGHT * most, 2)
    assert alone["disk"]["kinds"] == joined["kinds"] and alone["first_seen"] == alone["disk"]["first_seen"]
    assert set(alone["evidence"]["event_ids"]) == {e["event_id"] for e in every if e["src_ip"] == ELSEWHERE}
    assert incidents[ELSEWHERE]["status"] == "suspicious"

    [stats] = [e["stats"]["disk"] for e in events if e["event_type"] == "stats"]
    assert stats["files"] == 2 and stats["hosts"] == 2 and stats["joined_hosts"] == 2
    assert stats["findings"] == 2 * len(written) and stats["skipped_lines"] == 0

    # With workers the join is the correlator's, at the same point: the same events.
    many = tmp_path / "workers.jsonl"
    assert main([*command, "-o", str(many), "--no-store", "--no-progress", "--workers", "2"]) == 1
    assert [e for e in events_of(many) if e["event_type"] != "stats"] == [
        e for e in events if e["event_type"] != "stats"
    ]


def test_unreadable_findings_and_overwriting_them_are_refused(tmp_path: Path, plots, capsys) -> None:
    missing = tmp_path / "missing.jsonl"
    assert main(["analyze", str(CHIA), "--disk-findings", str(missing), "--no-store"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    findings = scan(tmp_path, plots, FARMER, "farmer")
    before = findings.read_bytes()
    command = ["analyze", str(CHIA), "--disk-findings", str(findings), "-o", str(findings), "--no-store"]
    assert main(command) == 2
    assert findings.read_bytes() == before


def test_ingest_joins_findings_with_the_logs_verdicts(tmp_path: Path, plots, capsys) -> None:
    """Suricata's EVE log of the demo names 10.1.1.20 a miner; scan-disk found plots there and on a host
    the log never mentions: the miner's verdict lists them, the other host gets `chia-on-disk`."""
    eve = Path(__file__).resolve().parents[1] / "fixtures" / "eve" / "demo.eve.json"
    miner = "10.1.1.20"
    on_miner, elsewhere = scan(tmp_path, plots, miner, "miner"), scan(tmp_path, plots, ELSEWHERE, "other")
    out = tmp_path / "events.jsonl"
    command = ["ingest", str(eve), "--disk-findings", str(on_miner), "--disk-findings", str(elsewhere)]
    assert main([*command, "-o", str(out), "--no-store"]) == 1
    events = events_of(out)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert not [e for e in events if list(validator.iter_errors(e))]
    verdicts = {e["src_ip"]: e["verdict"] for e in events if e["event_type"] == "verdict"}
    assert verdicts[miner]["activity"] == "mining" and verdicts[miner]["disk"]["plots_complete"] == 2
    assert verdicts[ELSEWHERE]["activity"] == "chia-on-disk"
    assert "disk" not in verdicts["10.1.1.21"]
    [stats] = [e["stats"] for e in events if e["event_type"] == "stats"]
    assert stats["disk"]["joined_hosts"] == 2 and stats["disk"]["files"] == 2
    summary = capsys.readouterr().out
    found = f"disk: {len(events_of(on_miner))} finding(s)"
    assert "chia-on-disk" in summary and summary.count(found) == 2

    # A findings file that cannot be read: one line, exit 2, before any log is read.
    missing = ["ingest", str(eve), "--disk-findings", str(tmp_path / "missing.jsonl"), "--no-store"]
    assert main(missing) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_the_report_shows_the_findings_on_the_verdict_row(tmp_path: Path, plots) -> None:
    findings = scan(tmp_path, plots, FARMER, "farmer")
    report = tmp_path / "report.html"
    command = ["analyze", str(CHIA), "--disk-findings", str(findings), "--report", str(report), "--no-store"]
    assert main([*command, "-o", str(tmp_path / "events.jsonl"), "--no-progress"]) == 1
    page = report.read_text()
    kinds = Counter(e["diskmining"]["kind"] for e in events_of(findings))
    line = f"disk: {kinds.total()} finding(s) (plot 2, plot_in_progress {kinds['plot_in_progress']})"
    assert "encrypted, disk" in page and line in page
