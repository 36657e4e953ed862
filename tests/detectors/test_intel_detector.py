"""Threat intelligence inside an analysis: each place an indicator can show up raises one alert."""

from __future__ import annotations

import json
import struct

import pytest

from minerwatch.capture.writer import TcpConversation, dns_exchange
from minerwatch.cli.main import main
from minerwatch.intel import Indicator, KnowledgeBase

POOL_IP, POOL_NAME = "198.51.100.77", "eu.test-pool.example"
WALLET = "48bX6kYxXy1JxpzmTd9mTzvYgWUHBW8Zx8Vsa6jrgZBAeuyNPh1MHUsBBhRS8LiKTThRMcBnHr5HtbDc2PAWc8VGAmVxRhz"


@pytest.fixture
def kb(tmp_path):
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path, seed=False) as base:
        base.replace_source(
            "test-feed",
            [
                Indicator.build("domain", "test-pool.example", family="testpool", confidence=90),
                Indicator.build("ip", "203.0.113.0/28", family="c2net", confidence=80),
                Indicator.build("wallet", WALLET, family="kinsing", confidence=95),
            ],
        )
    return str(path)


def alerts(events):
    return [e for e in events if e["event_type"] == "alert"]


def client_hello(sni: str) -> bytes:
    server_name = struct.pack("!BH", 0, len(sni)) + sni.encode()
    ext = struct.pack("!HH", 0, len(server_name) + 2) + struct.pack("!H", len(server_name)) + server_name
    body = b"\x03\x03" + b"r" * 32 + b"\x00" + struct.pack("!H", 2) + b"\x13\x01" + b"\x01\x00"
    body += struct.pack("!H", len(ext)) + ext
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(message)) + message


def test_dns_answer_links_a_later_connection_to_the_pool_name(kb, write_capture, analyse):
    packets = dns_exchange("10.0.0.5", "192.0.2.53", POOL_NAME, POOL_IP, 100.0, 9)
    c = TcpConversation("10.0.0.5", 40001, POOL_IP, 443, ts=101.0).open().send(True, b"\x00" * 10).close()
    events = analyse(write_capture(packets + c.packets), intel_db=kb)
    found = {(a["src_ip"], a["alert"]["where"]) for a in alerts(events)}
    assert found == {("10.0.0.5", "dns"), ("10.0.0.5", f"flow to address resolved from {POOL_NAME}")}
    assert all(a["alert"]["intel"]["source"] == "test-feed" for a in alerts(events))


def test_tls_sni_and_http_host_are_matched(kb, write_capture, analyse):
    tls = (
        TcpConversation("10.0.0.6", 40002, "192.0.2.10", 443)
        .open()
        .send(True, client_hello(POOL_NAME))
        .close()
    )
    http = TcpConversation("10.0.0.7", 40003, "192.0.2.11", 80, ts=1_700_000_100).open()
    http.send(True, f"GET /x HTTP/1.1\r\nHost: {POOL_NAME}:8080\r\n\r\n".encode()).close()
    events = analyse(write_capture(tls.packets + http.packets), intel_db=kb)
    assert {(a["src_ip"], a["alert"]["where"]) for a in alerts(events)} == {
        ("10.0.0.6", "tls client hello"),
        ("10.0.0.7", "http host"),
    }


def test_cidr_hit_on_a_flow_address_and_wallet_in_a_login(kb, write_capture, analyse):
    c = TcpConversation("10.0.0.8", 40004, "203.0.113.9", 3333).open()
    login = {
        "id": 1,
        "method": "login",
        "params": {"login": WALLET + ".rig", "pass": "x", "agent": "XMRig/6.0"},
    }
    c.send(True, json.dumps(login).encode() + b"\n").close()
    events = analyse(write_capture(c.packets), intel_db=kb)
    by_where = {a["alert"]["where"]: a for a in alerts(events)}
    assert by_where["flow address"]["alert"]["intel"]["indicator"] == "203.0.113.0/28"
    wallet = by_where["mining login"]
    assert wallet["alert"]["intel"]["family"] == "kinsing" and wallet["src_ip"] == "10.0.0.8"
    assert wallet["alert"]["related_event_id"] in {
        e["event_id"] for e in events if e["event_type"] == "mining"
    }


def test_intel_matches_what_the_pool_detector_parsed_not_its_event(kb, write_capture):
    # The intel detector gets the login as a typed Sighting (detectors/sightings.py), never by reading the
    # mining event: an output that rewrites events as they pass changes nothing it finds. The login's
    # password is quoted masked, as the mining event shows it.
    from minerwatch.pipeline import Analysis, AnalysisOptions

    c = TcpConversation("10.0.0.8", 40004, "198.51.100.8", 3333).open()
    login = {"id": 1, "method": "login", "params": {"login": WALLET + ".rig:hunter2", "pass": "x"}}
    c.send(True, json.dumps(login).encode() + b"\n").close()
    events: list[dict] = []

    def tamper(event: dict) -> None:
        if event["event_type"] == "mining":
            event["mining"] = event["mining"] | {"login": "not-a-wallet"}
        events.append(event)

    analysis = Analysis([tamper], AnalysisOptions(intel_db=kb))
    analysis.feed_file(write_capture(c.packets))
    analysis.finish()
    (hit,) = [a for a in alerts(events) if a["alert"]["where"] == "mining login"]
    assert hit["alert"]["intel"]["indicator"] == WALLET
    assert hit["alert"]["intel"]["observed"] == WALLET + ".rig:********"
    assert "hunter2" not in json.dumps(events)


def test_repeated_hits_are_counted_not_repeated(kb, write_capture, analyse):
    packets = []
    for i in range(5):
        packets += dns_exchange("10.0.0.5", "192.0.2.53", POOL_NAME, POOL_IP, 100.0 + i, 20 + i)
    events = analyse(write_capture(packets), intel_db=kb)
    assert len(alerts(events)) == 1
    # Answered queries are read through their responses: five responses name the pool, one alert.
    assert events[-1]["stats"]["intel"]["repeated_hits"] == 4


def test_a_query_nobody_answers_is_still_matched_at_its_own_time(kb, write_capture, analyse):
    query = dns_exchange("10.0.0.5", "192.0.2.53", POOL_NAME, POOL_IP, 100.0, 9)[:1]
    [alert] = alerts(analyse(write_capture(query), intel_db=kb))
    assert alert["alert"]["where"] == "dns" and alert["timestamp"].endswith("01:40.000000Z")


def test_no_intel_matches_nothing(kb, write_capture):
    path = write_capture(dns_exchange("10.0.0.5", "192.0.2.53", POOL_NAME, POOL_IP, 100.0, 9))
    assert main(["analyze", str(path), "--intel-db", kb, "--no-progress"]) == 1
    assert main(["analyze", str(path), "--intel-db", kb, "--no-progress", "--no-intel"]) == 0


def test_a_pool_behaviour_confirmed_but_unknown_to_intel_is_recorded_when_asked(kb, write_capture, analyse):
    packets = dns_exchange("10.0.0.9", "192.0.2.53", "fresh.pool.example", "192.0.2.200", 50.0, 3)
    c = TcpConversation("10.0.0.9", 40005, "192.0.2.200", 7777, ts=51.0).open()
    c.send(
        True,
        json.dumps(
            {"id": 1, "method": "submit", "params": {"id": "s", "job_id": "j", "nonce": "1", "result": "ff"}}
        ).encode()
        + b"\n",
    )
    events = analyse(write_capture(packets + c.close().packets), intel_db=kb, record_discovered=True)
    [verdict] = [e["verdict"] for e in events if e["event_type"] == "verdict"]
    assert verdict["pools"][0]["pool_candidate"] is True
    with KnowledgeBase.read(kb) as base:
        found = {(i.type, i.value) for i in base.discovered()}
    assert found == {("ip", "192.0.2.200"), ("domain", "fresh.pool.example")}
    assert events[-1]["stats"]["intel"]["discovered_pools"] == 1


def test_the_request_filter_remembers_values_until_a_reload(kb):
    """The gate asks the filter about every request head; what a Host or User-Agent value is stays known
    until intel is read again."""
    from minerwatch.pipeline import Analysis, AnalysisOptions

    analysis = Analysis([], AnalysisOptions(intel_db=kb, detectors=("intel",)))
    [intel] = [parts for name, parts in analysis.plugins if name == "intel"]
    accepts = intel.http_consumers[0].interest.request_filter
    pool = f"GET / HTTP/1.1\r\nHost: {POOL_NAME}:3333\r\nUser-Agent: curl/8.5\r\n\r\n".encode()
    site = b"GET / HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: " + b"x" * 300 + b"\r\n\r\n"
    assert [accepts(pool), accepts(site), accepts(pool), accepts(site)] == [True, False, True, False]
    with KnowledgeBase.open(kb, seed=False) as base:
        base.replace_source("later-feed", [Indicator.build("domain", "www.example.org", family="new")])
    analysis.reload()
    assert accepts(site) and accepts(pool)
