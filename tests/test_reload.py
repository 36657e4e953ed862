"""Analysis.reload (a live capture's SIGHUP): rules added to a rule file apply to the connections that come
after it, including through the compiled HTTP gate, which is rebuilt with the new rules' literals."""

from __future__ import annotations

from pathlib import Path

import pytest

from minerwatch.capture.writer import PcapWriter, TcpConversation
from minerwatch.detectors.exploits import ExploitOptions
from minerwatch.pipeline import Analysis, AnalysisOptions

RULE = """
  - id: {sid}
    name: test rule {sid}
    references: [https://example.org/{sid}]
    stage: exploitation
    severity: 2
    category: Attempted Administrator Privilege Gain
    protocol: http
    match: {{field: http.uri, contains: /{marker}}}
    recommendation: none
"""


def request(path: Path, uri: str, ts: float, port: int) -> Path:
    conv = TcpConversation("192.0.2.10", port, "198.51.100.20", 8080, ts=ts).open()
    conv.send(True, f"GET {uri} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    conv.send(False, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    with path.open("wb") as out:
        PcapWriter(out).write_all(conv.close().packets)
    return path


def rule_alerts(events: list[dict]) -> list[int]:
    return [e["alert"]["signature_id"] for e in events if e["alert"].get("signature_id", 0) >= 9_990_000]


@pytest.mark.parametrize("reload", [True, False])
def test_a_rule_added_before_a_reload_matches_new_connections(tmp_path, reload):
    rules = tmp_path / "rules"
    rules.mkdir()
    rule_file = rules / "local.yml"
    rule_file.write_text("rules:" + RULE.format(sid=9_990_001, marker="first-marker"))
    events: list[dict] = []
    exploits = {"exploits": ExploitOptions(rule_paths=(str(rules),))}
    analysis = Analysis([events.append], AnalysisOptions(detector_options=exploits, detectors=("exploits",)))
    analysis.feed_file(request(tmp_path / "a.pcap", "/second-marker", 1_700_000_000.0, 40000))
    rule_file.write_text(rule_file.read_text() + RULE.format(sid=9_990_002, marker="second-marker"))
    if reload:
        analysis.reload()
    analysis.feed_file(request(tmp_path / "b.pcap", "/second-marker", 1_700_000_001.0, 40001))
    analysis.feed_file(request(tmp_path / "c.pcap", "/first-marker", 1_700_000_002.0, 40002))
    analysis.finish()
    alerts = [e for e in events if e["event_type"] == "alert"]
    assert rule_alerts(alerts) == ([9_990_002, 9_990_001] if reload else [9_990_001])
