"""The labelled recordings of real programs (tests/fixtures/encrypted, labels.csv): chia-blockchain 2.7.5
nodes are judged Chia nodes, benign TLS and SSH raise nothing, XMRig's TLS flows show their weak evidence."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from minerwatch.capture import feed_capture
from minerwatch.decode import Engine, Flow
from minerwatch.encrypted.flowstats import FlowStats, attach, snapshots
from minerwatch.encrypted.periodicity import periodicity
from minerwatch.flows.inspector import Inspector

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "encrypted"
LABELS = list(csv.DictReader((FIXTURES / "labels.csv").open()))


def captures(label: str) -> list[str]:
    return sorted({row["capture"] for row in LABELS if row["label"] == label})


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event_type"] == kind]


@pytest.mark.parametrize(
    ("capture", "activity"),
    [("c01.pcap", "chia-node"), ("c02.pcap", "chia-farming"), ("c05.pcap", "chia-node")],  # c05: re-dials
)
def test_chia_nodes_are_judged_from_their_connections(analyse, capture, activity):
    """Both ends of a Chia peer connection are nodes; the farmer port 8447 makes them farming."""
    events = analyse(FIXTURES / capture)
    rows = [r for r in LABELS if r["capture"] == capture]
    hosts = {r["src_ip"] for r in rows} | {r["dest_ip"] for r in rows}
    judged = of_type(events, "encrypted")
    assert {e["src_ip"] for e in judged} == hosts and all(e["encrypted"]["class"] == "chia" for e in judged)
    for event in judged:
        [profile] = [e for e in event["encrypted"]["evidence"] if e["kind"] == "chia-profile"]
        assert profile["client_certificate"] and {"tls1.3", "no-sni"} <= set(profile["shape"])
    verdicts = {v["src_ip"]: v["verdict"] for v in of_type(events, "verdict")}
    assert set(verdicts) == hosts
    assert {(v["activity"], tuple(v["stages"])) for v in verdicts.values()} == {(activity, ())}
    assert all(0.5 <= v["confidence"] <= 0.8 for v in verdicts.values())


@pytest.mark.parametrize("capture", captures("benign"))
def test_benign_sessions_raise_nothing(analyse, capture):
    events = analyse(FIXTURES / capture)
    assert not [e for e in events if e["event_type"] in ("encrypted", "verdict", "alert", "incident")]


@pytest.mark.parametrize("capture", captures("tls_mining"))
def test_xmrig_tls_connections_are_judged_mining(analyse, capture):
    """Every XMRig TLS connection (held-out sessions m08, m10 included) is reported, with the model's score
    and the shipped fingerprint among its evidence, and the time it took."""
    events = analyse(FIXTURES / capture)
    stats = of_type(events, "stats")[0]["stats"]
    connections = sum(r["capture"] == capture for r in LABELS)
    assert stats["encrypted"]["tls_flows"] == stats["encrypted"]["judged"] == connections
    assert stats["intel"]["weak_fingerprint_hits"] == 2 * connections  # its JA3 and its JA4
    judged = of_type(events, "encrypted")
    assert len(judged) == connections
    for event in judged:
        body = event["encrypted"]
        assert body["class"] == "tls_mining" and body["confidence"] <= 0.8
        assert {"model", "fingerprint"} <= {e["kind"] for e in body["evidence"]}
        assert body["detection"]["seconds"] <= (event_seconds(body["flow"]))
    [verdict] = of_type(events, "verdict")
    assert verdict["verdict"]["activity"] == "mining-over-tls" and verdict["verdict"]["stages"] == []


def event_seconds(flow: dict) -> float:
    from datetime import datetime

    start, end = (datetime.fromisoformat(flow[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return (end - start).total_seconds() + 1e-6


def final_stats(capture: str) -> list[FlowStats]:
    finals: list[FlowStats] = []

    def keep(flow: Flow, stats: FlowStats) -> None:
        if stats.final and stats.duration > 0:
            finals.append(stats)

    engine = Engine(Inspector([]))
    attach(engine, [snapshots(keep)])
    feed_capture(FIXTURES / capture, engine)
    engine.finish()
    return finals


@pytest.mark.parametrize(
    ("capture", "periodic"),
    [
        ("m03.pcap", [True]),  # jobs every 30 s
        ("m04.pcap", [True]),  # jobs every 10 s
        ("m10.pcap", [True, True, False]),  # jobs every 15 s, reconnecting every 50 s (the last is cut short)
        ("b03.pcap", [False]),  # a download
        ("b05.pcap", [False]),  # WebSocket pushes every 5 s: faster than a job cadence
        ("b06.pcap", [False]),  # WebSocket pushes every 30 s, irregular
        ("b13.pcap", [True]),  # a long poll answered every 25 s: why periodicity is weak evidence
    ],
)
def test_periodic_server_pushes(capture, periodic):
    servers = [s.to_client for s in final_stats(capture)]
    assert [periodicity(d.burst_gaps, d.bursts) is not None for d in servers] == periodic
