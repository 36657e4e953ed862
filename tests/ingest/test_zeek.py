"""Zeek logs, TSV and JSON: real Zeek output from Zeek's own test baselines (tests/fixtures/zeek, see the
README there; Zeek itself is not packaged in Debian and could not be run here)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from minerwatch.ingest import IngestSession, ingest
from minerwatch.ingest.reader import FileStats, read
from minerwatch.ingest.records import Answer, FileSeen
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


def test_ssl_log_sni_is_a_typed_record_and_is_matched_against_the_knowledge_base():
    (record,) = records(ZEEK / "ssl-basic.ssl.log")
    assert (record.log, record.ts, record.domains) == ("ssl", 1335538392.319381, ("ssl.gstatic.com",))
    ends = record.endpoints
    assert (ends.client, ends.client_port, ends.server, ends.server_port, ends.proto) == (
        "192.168.1.105",
        62045,
        "74.125.224.79",
        443,
        "TCP",
    )
    rows = [("test-feed", "domain", "gstatic.com", "", "c2", 90, None, None, None, "")]
    events, _, errors = run([ZEEK / "ssl-basic.ssl.log"], rows)
    (alert,) = [e for e in events if e["event_type"] == "alert"]
    assert not errors and alert["src_ip"] == "192.168.1.105" and alert["dest_port"] == 443
    assert alert["alert"]["where"] == "tls client hello"
    assert alert["alert"]["intel"]["observed"] == "ssl.gstatic.com"
    (incident,) = [e["incident"] for e in events if e["event_type"] == "incident"]
    assert [s["name"] for s in incident["stages"]] == ["command_and_control"]


def test_dns_log_answers_carry_the_cname_chain_and_their_ttls():
    first, second = records(ZEEK / "duplicate-responses.dns.log")
    assert first.domains == ("www.cmu.edu", "www-cmu.andrew.cmu.edu", "www-cmu-2.andrew.cmu.edu")
    # Every name of the chain resolved to the one address answered, for that record's TTL (21600 s, the
    # third entry of TTLs); the second response (no query) names only what it answered.
    assert {(a.name, a.address, a.ttl) for a in first.answers} == {
        ("www.cmu.edu", "128.2.10.163", 21600.0),
        ("www-cmu.andrew.cmu.edu", "128.2.10.163", 21600.0),
        ("www-cmu-2.andrew.cmu.edu", "128.2.10.163", 21600.0),
    }
    assert [(a.name, a.address) for a in second.answers] == [("www-cmu-2.andrew.cmu.edu", "128.2.10.163")]
    rows = [("test-feed", "domain", "andrew.cmu.edu", "", "", 80, None, None, None, "")]
    events, _, _ = run([ZEEK / "duplicate-responses.dns.log"], rows)
    observed = sorted(
        (e["src_ip"], e["alert"]["intel"]["observed"]) for e in events if e["event_type"] == "alert"
    )
    # A CNAME target under a listed domain is a hit about the client that asked; the other names under the
    # same indicator are repeats of it (counted, not restated).
    assert observed == [("55.247.223.174", "www-cmu.andrew.cmu.edu")]
    assert events[-1]["stats"]["ingest"]["repeated_intel_hits"] == 2


def test_zeek_json_logs_of_one_trace_give_typed_records():
    """Zeek's own JSON output (LogAscii::use_json=T) of tm1t.pcap, from Zeek's documentation."""
    conn = records(ZEEK / "tm1t-json/conn.log")
    assert [(r.endpoints.server, r.endpoints.server_port, r.endpoints.proto) for r in conn] == [
        ("192.168.4.1", 53, "UDP"),
        ("31.3.245.133", 80, "TCP"),
    ]
    web = conn[1].connection
    assert web.answered and not web.failed
    assert (web.start, round(web.end - web.start, 6)) == (1591367999.430166, 0.254115)
    dns = records(ZEEK / "tm1t-json/dns.log")
    assert [r.domains for r in dns] == [("testmyids.com",), ("testmyids.com",)]
    assert [a for r in dns for a in r.answers] == [Answer("testmyids.com", "31.3.245.133", 3600.0)]
    (fetched,) = records(ZEEK / "tm1t-json/files.log")
    # Zeek 3+: `is_orig` false, so the responder sent it to the originator.
    assert fetched.file == FileSeen("192.168.4.76", "31.3.245.133", None, "text/plain", None, None)


def test_a_plain_text_transfer_in_a_files_log_is_no_implant():
    events, files, errors = run([ZEEK / "tm1t-json/files.log"])
    assert not errors and files[0].format == "zeek-json" and files[0].records == 1
    assert [e["event_type"] for e in events] == ["stats"]


def test_an_executable_in_a_files_log_is_an_implant_download_on_its_receiver():
    """Zeek's JSON of a Windows executable fetched over HTTP (rx_hosts/tx_hosts, Zeek before 6), from Zeek's
    documentation, with the connection that carried it."""
    (fetched,) = records(ZEEK / "wfetch-json/files.log")
    assert fetched.file == FileSeen(
        "192.168.4.37", "23.195.64.241", None, "application/x-dosexec", None, None
    )
    events, files, errors = run([ZEEK / "wfetch-json/conn.log", ZEEK / "wfetch-json/files.log"])
    assert not errors and [f.records for f in files] == [1, 1]
    (alert,) = [e for e in events if e["event_type"] == "alert"]
    assert alert["src_ip"] == "192.168.4.37" and alert["alert"]["killchain_stage"] == "implant_download"
    assert alert["alert"]["sensor"] == {"name": "zeek", "log": "files", "line": 1}
    (incident,) = [e["incident"] for e in events if e["event_type"] == "incident"]
    assert (incident["host"], incident["status"]) == ("192.168.4.37", "suspicious")
    (stage,) = incident["stages"]
    assert (stage["name"], stage["techniques"]) == ("implant_download", ["T1105"])
    # No name and no hash in this entry (hashing was not loaded): the label says so with "?".
    assert stage["observations"] == ["zeek files: application/x-dosexec ?"]
