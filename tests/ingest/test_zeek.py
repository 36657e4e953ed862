"""Zeek logs, TSV and JSON: real Zeek output from Zeek's own test baselines (tests/fixtures/zeek, see the
README there; Zeek itself is not packaged in Debian and could not be run here)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from minerwatch.ingest import IngestSession, ingest
from minerwatch.ingest.reader import FileStats, read
from minerwatch.ingest.zeek import TsvHeader
from minerwatch.intel import IntelMatcher

ZEEK = Path(__file__).parents[1] / "fixtures/zeek"


def run(paths: list[Path], rows: list[tuple] = ()) -> tuple[list[dict], list[FileStats], list[str]]:
    events: list[dict] = []
    session = IngestSession([events.append], IntelMatcher.from_rows(rows))
    files, errors = ingest(session, paths)
    session.finish([f.as_dict() for f in files], errors)
    return events, files, errors


def records(path: Path) -> list:
    return list(read(path, FileStats(str(path))))


def as_json(path: Path, target: Path) -> Path:
    """The same entries in Zeek's JSON form (LogAscii::use_json): one object per line, ports as numbers,
    sets as lists, unset fields left out, `_path` absent (the file's name says the log)."""
    lines = []
    header = TsvHeader()
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            header = TsvHeader() if line.startswith("#separator") else header
            header.directive(line)
            continue
        entry = header.entry(line)
        for key in [k for k in entry if k.endswith("_p")]:
            entry[key] = int(entry[key])
        entry["ts"] = float(entry["ts"])
        lines.append(json.dumps(entry))
    target.write_text("\n".join(lines) + "\n")
    return target


def test_password_guessing_notice_is_an_attack_on_each_sampled_server():
    events, files, errors = run([ZEEK / "ssh-bruteforcing.notice.log"])
    assert not errors and files[0].format == "zeek-tsv" and files[0].records == 1
    (alert,) = [e for e in events if e["event_type"] == "alert"]
    assert alert["src_ip"] == "192.168.56.103"  # the victim (no connection in this notice)
    assert alert["alert"]["killchain_stage"] == "attempted_attack"
    assert alert["alert"]["technique"] == "T1110"
    assert alert["alert"]["sensor"] == {"name": "zeek", "log": "notice", "line": 9}
    # An attempted attack alone opens no incident.
    assert not [e for e in events if e["event_type"] == "incident"]


def test_intel_log_with_two_header_blocks_and_a_c2_indicator_known_to_the_knowledge_base():
    rows = [("test-feed", "domain", "www.pantz.org", "", "c2", 90, None, None, None, "")]
    events, files, _ = run([ZEEK / "certs.intel.log"], rows)
    assert files[0].records == 7 and files[0].problems.count == 0
    alerts = [e for e in events if e["event_type"] == "alert"]
    known = [a for a in alerts if a["alert"]["intel"]["source"] == "test-feed"]
    assert [(a["src_ip"], a["dest_ip"], a["dest_port"]) for a in known] == [
        ("192.168.4.149", "23.92.19.75", 443)
    ]
    # An indicator only Zeek's feed knew is kept (once per host and place), at a lower confidence; a
    # certificate hash is no file hash and no indicator type of minerwatch's: dropped.
    unknown = [a for a in alerts if a not in known]
    assert [a["alert"]["intel"]["indicator"] for a in unknown] == ["www.dresdner-privat.de"]
    assert unknown[0]["alert"]["intel"]["source"] == "zeek:source1"
    (incident,) = [e["incident"] for e in events if e["event_type"] == "incident"]
    assert incident["host"] == "192.168.4.149" and incident["status"] == "suspicious"
    assert [s["name"] for s in incident["stages"]] == ["command_and_control"]


def test_conn_log_addresses_are_matched_against_the_knowledge_base():
    rows = [("test-feed", "ip", "199.233.217.249", "", "", 80, None, None, None, "")]
    events, _, _ = run([ZEEK / "ftp-extract.conn.log"], rows)
    hosts = sorted(
        e["src_ip"] for e in events if e["event_type"] == "alert" and e["alert"]["where"] == "flow address"
    )
    # The client of each connection, once each: 141.142.220.235 reached the address, and the address
    # itself opened the active-mode data connections.
    assert hosts == ["141.142.220.235", "199.233.217.249"]


def test_json_form_and_gzip_give_the_same_records_as_tsv(tmp_path):
    for name in ("ssh-bruteforcing.notice.log", "certs.intel.log", "ftp-extract.conn.log"):
        tsv = records(ZEEK / name)
        log = name.split(".")[1]
        converted = as_json(ZEEK / name, tmp_path / f"{log}.json")
        stats = FileStats(str(converted))
        from_json = list(read(converted, stats))
        assert stats.format == "zeek-json"
        strip = [(r.log, r.ts, r.endpoints, r.finding, r.intel) for r in tsv]
        assert [(r.log, r.ts, r.endpoints, r.finding, r.intel) for r in from_json] == strip
        packed = tmp_path / f"{name}.gz"
        packed.write_bytes(gzip.compress((ZEEK / name).read_bytes()))
        assert records(packed) == tsv
