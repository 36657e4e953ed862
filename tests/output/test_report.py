"""The report's content, its three forms, and its safety with hostile or huge input."""

from __future__ import annotations

import io
import re

import orjson
import pytest

from minerwatch.cli.main import main
from minerwatch.intel.formats.base import Problems
from minerwatch.output.jsonlines import read_events
from minerwatch.output.report import ReportBuilder, render
from minerwatch.output.report.markdown import md
from report_inputs import HOSTILE, big_events, demo_events, incident_event


def build(events: list[dict]) -> dict:
    builder = ReportBuilder()
    for event in events:
        builder(event)
    return builder.build()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> list[dict]:
    return demo_events(tmp_path_factory.mktemp("demo"))


def test_demo_report_names_the_miners_pools_wallet_and_families(demo):
    report = build(demo)
    assert report["counts"]["verdicts"]["count"] == 3
    pools = {f"{p['ip']}:{p['port']}": p for p in report["pools"]}
    assert pools["198.51.100.7:3333"]["submits"] == 12 and pools["198.51.100.7:3333"]["miners"] == [
        "10.1.1.20"
    ]
    assert pools["198.51.100.9:3333"]["rejected"] == 1
    assert {w["coin"] for w in report["wallets"]} == {"XMR"}
    assert {f["family"] for f in report["families"]} == {"xmrig", "cgminer"}
    assert report["analysed"]["packets"] == 293
    assert report["bruteforce"][0]["success"] and report["bruteforce"][0]["service"] == "redis"
    xmrig = next(f for f in report["files"] if f["filename"] == "xmrig")
    assert xmrig["receivers"] == ["10.1.1.20"] and "MINERWATCH_XMRig_Binary" in xmrig["yara"]


def test_every_linked_number_points_at_events_that_exist(demo):
    report = build(demo)
    ids = {e["event_id"] for e in demo}
    linked = [i for p in report["pools"] for i in p["event_ids"]] + [
        i for a in report["alerts"] for i in a["event_ids"]
    ]
    assert linked and set(linked) <= ids


def test_json_form_is_the_report_as_data(demo):
    report = build(demo)
    assert orjson.loads(render(report, "json")) == orjson.loads(orjson.dumps(report))


def test_incident_stages_mark_their_events_in_the_index(demo):
    events = [*demo, incident_event(9_999, "10.1.1.20", [1, 2])]
    report = build(events)
    stage_of = {row[0]: row[5] for row in report["events"]["rows"]}
    assert stage_of[1] == "actions_on_objective"  # the incident's later stage listed it last
    assert report["incidents"][0]["host"] == "10.1.1.20"


def test_hostile_text_is_never_markup(demo):
    events = [*demo, incident_event(9_999, "10.1.1.20", [1, 2], HOSTILE)]
    events[0] = {**events[0], "src_ip": HOSTILE}
    html = render(build(events), "html").decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert len(re.findall(r"<script\b", html)) == 2  # the data block and the page's own script
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html  # shown, escaped, in the incident's markup
    markdown = render(build(events), "markdown").decode()
    assert "[x](http://evil.test)" not in markdown and not re.search(r"(?<!\\)<img", markdown)


def test_markdown_escapes_every_special_character():
    assert md("a|b`c*d_e[f](g)<h>\x1b") == r"a\|b\`c\*d\_e\[f\]\(g\)\<h\>\\x1b"


def test_events_reader_counts_what_it_cannot_use():
    lines = '{"event_type": "stats", "event_id": 1}\nnot json\n[1, 2]\n{"no": "type"}\n\n' + "x" * 5000 + "\n"
    problems = Problems()
    events = list(read_events(io.StringIO(lines + '{"event_type": "flow"}'), problems, max_line=1000))
    assert [(n, e["event_type"]) for n, e in events] == [(1, "stats"), (7, "flow")]
    assert problems.count == 4 and [n for n, _ in problems.samples] == [2, 3, 4, 6]


def test_report_command_writes_each_format(demo, tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in demo))
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert main(["report", str(path), "--format", "markdown"]) == 0
    assert "198.51.100.7:3333" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"[]\n"])
def test_report_of_a_file_without_events_is_one_line_and_exit_2(tmp_path, capsys, content):
    path = tmp_path / "events.jsonl"
    path.write_bytes(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no minerwatch event" in err


def test_analyze_writes_the_report_at_the_end(tmp_path):
    from minerwatch.capture.sample import write_sample

    write_sample(tmp_path / "demo.pcap")
    report = tmp_path / "report.html"
    assert main(["analyze", str(tmp_path / "demo.pcap"), "--no-intel", "--report", str(report)]) == 1
    assert "198.51.100.7" in report.read_text()


def test_ten_thousand_hosts_and_a_hundred_thousand_events_stay_under_20_mb():
    html = render(build(big_events(10_000, 100_000)), "html")
    assert len(html) < 20_000_000, len(html)


def test_report_of_the_incident_store(tmp_path, capsys):
    from minerwatch.capture.sample import write_sample

    write_sample(tmp_path / "demo.pcap")
    store = tmp_path / "incidents.sqlite"
    assert (
        main(["analyze", str(tmp_path / "demo.pcap"), "--no-intel", "--store", str(store), "-o", "/dev/null"])
        == 1
    )
    capsys.readouterr()
    assert main(["report", "--store", str(store), "--format", "json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert {i["host"]: i["status"] for i in report["incidents"]} == {
        "10.1.1.20": "compromised",
        "10.1.1.21": "compromised",
    }
    assert report["counts"]["compromised"]["count"] == 2 and report["events"]["rows"] == []
    assert main(["report", "--store", str(tmp_path / "none.sqlite")]) == 2


def test_spraying_and_scans_have_their_rows():
    spray = {"phase": "spray", "service": "ssh", "attacker": "10.0.0.9", "victims": ["10.0.0.1", "10.0.0.2"]}
    scan = {"kind": "sweep", "scanner": "10.0.0.9", "hosts": ["10.0.0.1"], "ports": [22], "distinct": 25}
    events = [
        {
            "timestamp": "2025-01-01T00:00:00.000000Z",
            "event_type": "bruteforce",
            "event_id": 1,
            "bruteforce": spray,
        },
        {"timestamp": "2025-01-01T00:00:01.000000Z", "event_type": "scan", "event_id": 2, "scan": scan},
    ]
    html = render(build(events), "html").decode()
    data = orjson.loads(re.search(r'id="report-data">(.*?)</script>', html, re.S).group(1))
    assert data["tables"]["bruteforce"]["rows"][0][1:4] == [
        "password spraying",
        "10.0.0.9",
        "10.0.0.1, 10.0.0.2",
    ]
    assert data["tables"]["scans"]["rows"][0][4] == {"t": 25, "ev": [2]}
