"""Sensor logs are input like any other: malformed lines are counted and named, a file that is no log is
one line and exit 2, memory does not grow with a line's length, and no input makes a traceback."""

from __future__ import annotations

import gzip
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.work import peak_bytes

from minerwatch.cli.main import main
from minerwatch.errors import InputError
from minerwatch.ingest import IngestSession, ingest
from minerwatch.ingest.reader import FileStats, read
from minerwatch.intel import IntelMatcher

EVE = Path(__file__).parents[1] / "fixtures/eve"
ZEEK = Path(__file__).parents[1] / "fixtures/zeek"
INTEL_ROWS = [("t", "ip", "10.9.9.9", "", "c2", 80, None, None, None, "")]


def feed_all(path: Path) -> tuple[FileStats, list[str]]:
    session = IngestSession([lambda e: None], IntelMatcher.from_rows(INTEL_ROWS))
    files, errors = ingest(session, [path])
    session.finish([f.as_dict() for f in files], errors)
    return files[0], errors


def test_bad_lines_are_counted_with_the_first_named_and_the_rest_is_read(tmp_path, capsys):
    good = (EVE / "demo.eve.json").read_text().splitlines()
    bad = [
        "{not json",
        json.dumps({"event_type": "alert", "timestamp": "yesterday", "src_ip": "1.2.3.4"}),
        json.dumps({"event_type": "flow", "timestamp": "2025-11-24T16:00:00.000000+0000", "src_ip": "x"}),
        json.dumps({"event_type": "alert", "timestamp": 1e300, "alert": []}),
        "[" * 5000,
        "17",
    ]
    log = tmp_path / "eve.json"
    log.write_text("\n".join(good[:20] + bad + good[20:]) + "\n")
    assert main(["ingest", str(log), "--no-store"]) == 1  # the incidents are still found
    out = capsys.readouterr().out
    assert "6 bad lines skipped (the first, line 21: not JSON" in out
    assert "Traceback" not in out


def test_a_file_that_is_no_sensor_log_is_one_line_and_exit_2(tmp_path, capsys):
    junk = tmp_path / "capture.pcap"
    junk.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(100))
    missing = tmp_path / "missing.log"
    assert main(["ingest", str(junk), str(missing), str(EVE / "demo.eve.json"), "--no-store"]) == 2
    out = capsys.readouterr().out
    assert "capture.pcap: neither Suricata EVE JSON nor a Zeek log (line 1)" in out
    assert "cannot read" in out and "missing.log" in out
    assert "Incidents" in out  # the readable log was still read


def test_damaged_gzip_is_an_input_error_after_what_was_read(tmp_path):

    packed = gzip.compress((ZEEK / "ftp-extract.conn.log").read_bytes())
    cut = tmp_path / "conn.log.gz"
    cut.write_bytes(packed[: len(packed) - 40])
    stats = FileStats(str(cut))
    got = []
    with pytest.raises(InputError, match="damaged gzip"):
        got.extend(read(cut, stats))


def test_a_huge_line_costs_no_memory_of_its_size(tmp_path):
    log = tmp_path / "eve.json"
    line = (EVE / "demo.eve.json").read_text().splitlines()[0]
    with log.open("w") as fh:
        fh.write(line + "\n")
        fh.write('{"event_type":"alert","x":"' + "A" * (32 << 20) + '"}\n')
        fh.write(line + "\n")
    stats = FileStats(str(log))
    peak = peak_bytes(lambda: list(read(log, stats)))
    assert stats.records == 2 and stats.problems.count == 1
    assert "longer than" in stats.problems.samples[0][1]
    assert peak < 8 << 20  # the 32 MiB line is never held whole


def test_many_lines_keep_memory_flat(tmp_path):
    line = (EVE / "demo.eve.json").read_text().splitlines()[1] + "\n"
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    small.write_text(line * 2_000)
    large.write_text(line * 20_000)
    assert peak_bytes(lambda: feed_all(large)) < 2 * peak_bytes(lambda: feed_all(small)) + (1 << 20)


# ---- fuzzing ---------------------------------------------------------------------------------------------

# JSON values (the first line of a file must parse for it to be a log; bad lines are tested above).
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["10.9.9.9", "::1", "2025-11-24T16:00:00.000000+0000", "alert", "to_client", "-"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)
EVE_KEYS = [
    "event_type",
    "timestamp",
    "src_ip",
    "dest_ip",
    "src_port",
    "dest_port",
    "proto",
    "flow_id",
    "community_id",
    "alert",
    "dns",
    "tls",
    "fileinfo",
    "flow",
    "direction",
]
ALERT_KEYS = ["signature", "category", "severity", "signature_id", "metadata"]


@st.composite
def eve_events(draw) -> dict:
    event = draw(st.dictionaries(st.sampled_from(EVE_KEYS), VALUES, max_size=12))
    event["event_type"] = draw(st.sampled_from(["alert", "flow", "dns", "tls", "fileinfo", "http", 3]))
    event.setdefault("timestamp", "2025-11-24T16:00:00.000000+0000")
    for key in ("src_ip", "dest_ip"):
        event.setdefault(key, draw(st.sampled_from(["10.9.9.9", "192.0.2.1", "2001:db8::1"])))
    if draw(st.booleans()):
        alert = draw(st.dictionaries(st.sampled_from(ALERT_KEYS), VALUES, max_size=5))
        alert.setdefault("signature", draw(st.sampled_from(["ET SCAN x", "ET COINMINER y", "ET TROJAN z"])))
        if draw(st.booleans()):
            alert["metadata"] = draw(
                st.dictionaries(
                    st.sampled_from(["minerwatch_stage", "minerwatch_behaviour", "mitre_technique_id"]),
                    st.lists(
                        st.sampled_from(["login", "submit", "job", "T1110", "exploitation", "x"]) | VALUES
                    ),
                    max_size=3,
                )
            )
        event["alert"] = alert
    if draw(st.booleans()):  # DNS answer records and flow times, with hostile values where they are read
        record = st.fixed_dictionaries(
            {},
            optional={
                "rrname": st.sampled_from(["pool.example", "a.example"]) | VALUES,
                "rrtype": st.sampled_from(["A", "AAAA", "CNAME", "TXT"]) | VALUES,
                "rdata": st.sampled_from(["10.9.9.9", "2001:db8::1", "pool.example", "a.example"]) | VALUES,
                "ttl": VALUES,
            },
        )
        event["dns"] = {"answers": draw(st.lists(record, max_size=4))} | draw(record)
        event["flow"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "start": st.sampled_from(["2025-11-24T15:59:00.000000+0000"]) | VALUES,
                    "end": VALUES,
                    "pkts_toclient": VALUES,
                },
            )
        )
    return event


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(eve_events(), min_size=1, max_size=8))
def test_fuzzed_eve_never_breaks_the_reader_or_the_correlation(tmp_path, events):
    log = tmp_path / "eve.json"
    log.write_text("\n".join(json.dumps(e, default=str) for e in events) + "\n")
    stats, errors = feed_all(log)
    assert not errors
    assert stats.records + stats.problems.count + sum(stats.skipped.values()) == len(events)


ZEEK_FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "note",
    "msg",
    "sub",
    "src",
    "dst",
    "query",
    "answers",
    "server_name",
    "ja3",
    "seen.indicator",
    "seen.indicator_type",
    "sources",
    "rx_hosts",
    "tx_hosts",
    "mime_type",
    "sha256",
    "is_orig",
    "TTLs",
    "conn_state",
    "history",
    "resp_pkts",
    "duration",
    "proto",
    "p",
]
CELLS = st.one_of(
    st.text(alphabet=string.printable.replace("\t", "").replace("\n", "").replace("\r", ""), max_size=20),
    st.sampled_from(
        [
            "-",
            "(empty)",
            "1427726711.398575",
            "10.9.9.9",
            "22",
            "SSH::Password_Guessing",
            "Scan::Port_Scan",
            "Scan::Address_Scan",
            "10.9.9.9 scanned at least 25 unique hosts on port 22/tcp in 0m3s",
            "S0",
            "REJ",
            "tcp",
            "3600.000000,1e400",
            "10.9.9.9,a.example,10.9.9.8",
            "Intel::ADDR",
            "Sampled servers:  10.9.9.9, x",
            "\\x41\\x0",
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    log=st.sampled_from(["conn", "dns", "ssl", "notice", "intel", "files", "http"]),
    fields=st.lists(st.sampled_from(ZEEK_FIELDS), min_size=1, max_size=10, unique=True),
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=12), max_size=6),
    as_json=st.booleans(),
)
def test_fuzzed_zeek_logs_never_break_the_reader_or_the_correlation(tmp_path, log, fields, rows, as_json):
    if as_json:
        text = "".join(
            json.dumps(dict(zip(fields, row, strict=False)) | {"_path": log}) + "\n" for row in rows
        )
    else:
        header = (
            f"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{log}\n"
        )
        header += "#fields\t" + "\t".join(fields) + "\n#types\t" + "\t".join("string" for _ in fields) + "\n"
        text = header + "".join("\t".join(row) + "\n" for row in rows)
    path = tmp_path / f"{log}.log"
    path.write_text(text)
    stats, errors = feed_all(path)
    assert not errors and stats.lines >= len(rows)
