"""Encrypted mining on real recordings (tests/fixtures/recordings/README.md): XMRig 6.16.0 in cleartext and
with --tls, against the pool emulator, both from 127.0.0.1 to 127.0.0.1. Analysed in the order recorded
(cleartext at 12:39, TLS at 12:49), they are one miner reconnecting to its pool over TLS: the pair cache
case. The TLS recording alone shows only weak evidence, and must raise nothing; so must the corpus."""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

import pytest

from minerwatch.intel import Indicator, KnowledgeBase
from minerwatch.protocols.tls import ClientHelloParser
from recorded_streams import streams
from test_event_schema import validate_all

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
CLEARTEXT = RECORDINGS / "xmrig-6.16.0-cryptonote.pcapng"
TLS = RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng"


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event_type"] == kind]


def test_shipped_fingerprints_are_the_recorded_ones(analyse):
    """tls-fingerprints.csv is what the recording shows, tagged weak; its JA3/JA4 reach the fusion."""
    rows = files("minerwatch").joinpath("rules/intel/tls-fingerprints.csv").read_text().splitlines()
    shipped = {r["type"]: r for r in csv.DictReader(line for line in rows if not line.startswith("#"))}
    events = analyse(TLS)
    stats = of_type(events, "stats")[0]["stats"]
    assert stats["intel"]["weak_fingerprint_hits"] == 2  # the JA3 and the JA4 of the one ClientHello
    assert all("weak-evidence" in r["tags"] and r["family"] == "xmrig" for r in shipped.values())
    hello = ClientHelloParser().feed(streams(TLS, 3443)[True])
    assert hello is not None and (hello.ja3, hello.ja4) == (shipped["ja3"]["value"], shipped["ja4"]["value"])


def test_tls_alone_without_the_model_is_weak_evidence_and_raises_nothing(analyse, monkeypatch):
    """Without a flow model (a package that lost its model file) only the fingerprint is left: weak."""
    from minerwatch.detectors import encrypted_mining
    from minerwatch.encrypted.model import ModelError

    def no_model() -> None:
        raise ModelError("no model")

    monkeypatch.setattr(encrypted_mining, "load_model", no_model)
    events = analyse(TLS)
    assert not [e for e in events if e["event_type"] in ("encrypted", "verdict", "alert")]
    counters = of_type(events, "stats")[0]["stats"]["encrypted"]
    assert (counters["tls_flows"], counters["judged"], counters["tls_mining_flows"]) == (1, 1, 0)
    assert counters["model"] is None


def test_tls_alone_is_judged_by_the_model_and_the_fingerprint(analyse):
    events = analyse(TLS)
    [encrypted] = of_type(events, "encrypted")
    kinds = {e["kind"] for e in encrypted["encrypted"]["evidence"]}
    assert {"model", "fingerprint"} <= kinds and "pair" not in kinds
    [verdict] = of_type(events, "verdict")
    assert (verdict["verdict"]["activity"], verdict["verdict"]["stages"]) == ("mining-over-tls", [])
    assert verdict["verdict"]["confidence"] <= 0.8
    assert not of_type(events, "mining")  # nothing of the pool protocol is visible


def test_a_pair_confirmed_in_cleartext_marks_its_later_tls_flow(analyse):
    events = analyse(CLEARTEXT, TLS)
    [encrypted] = of_type(events, "encrypted")
    body = encrypted["encrypted"]
    assert (encrypted["dest_port"], body["class"]) == (3443, "tls_mining")
    kinds = {e["kind"]: e for e in body["evidence"]}
    assert set(kinds) == {"pair", "fingerprint", "model"}
    assert (
        kinds["pair"]["basis"] == "behaviour" and not kinds["pair"]["weak"] and kinds["fingerprint"]["weak"]
    )
    mining_ids = {e["event_id"] for e in of_type(events, "mining")}
    assert set(kinds["pair"]["confirmed_by"]) <= mining_ids
    assert body["tls"]["ja3"] == "c34a54599a1fbaf1786aa6d633545a60" and body["tls"]["sni"] is None
    assert body["confidence"] == 0.8 < body["belief"]["tls_mining"]  # capped below behaviour
    # reported at a checkpoint of the flow's statistics (8 payload segments), before the flow ended
    assert body["detection"]["at"] == "checkpoint" and body["detection"]["seconds"] < 25
    [verdict] = of_type(events, "verdict")
    v = verdict["verdict"]
    assert (v["activity"], v["stages"], v["confidence"]) == ("mining", [1, 2], 0.99)  # behaviour ranks first
    assert v["encrypted"]["tls_mining"] == 1
    [peer] = v["encrypted"]["peers"]
    assert (peer["ip"], peer["port"], peer["kind"], peer["event_ids"]) == (
        "127.0.0.1",
        3443,
        "tls_mining",
        [encrypted["event_id"]],
    )
    assert encrypted["event_id"] in v["evidence"]["event_ids"]
    [incident] = of_type(events, "incident")
    pools = {p["address"]: p["basis"] for p in incident["incident"]["pools"]}
    assert pools == {"127.0.0.1:3333": "behaviour", "127.0.0.1:3443": "encrypted"}
    counters = of_type(events, "stats")[0]["stats"]["encrypted"]
    assert (counters["pairs_confirmed"], counters["encrypted_flows"]) == (1, 1)
    validate_all(events)


@pytest.fixture
def pool_kb(tmp_path) -> str:
    """The shipped set plus a feed naming the emulator's address as a pool."""
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path) as base:
        base.replace_source(
            "test-feed", [Indicator.build("ip", "127.0.0.1", tags="mining-pool", confidence=70)]
        )
    return str(path)


def test_a_pair_known_to_intel_makes_an_encrypted_verdict(analyse, pool_kb):
    """No pool protocol seen, but intel names the server: the TLS flow is judged mining (intel pair plus
    the fingerprint), and the host's verdict says so, below any behaviour verdict's confidence."""
    events = analyse(TLS, intel_db=pool_kb)
    [encrypted] = of_type(events, "encrypted")
    assert {"pair", "fingerprint"} <= {e["kind"] for e in encrypted["encrypted"]["evidence"]}
    [verdict] = of_type(events, "verdict")
    v = verdict["verdict"]
    assert (v["activity"], v["stages"], v["pools"]) == ("mining-over-tls", [], [])
    assert v["confidence"] == encrypted["encrypted"]["confidence"] < 0.85
    assert v["intel"] and encrypted["event_id"] in v["evidence"]["event_ids"]
    [incident] = of_type(events, "incident")
    assert incident["incident"]["status"] == "suspicious"
    validate_all(events)


def test_mutual_tls_or_a_chia_port_alone_is_not_chia(analyse):
    """OpenSSL with client certificates on 8443 and 8445, without on Chia's 8444: weak Chia evidence only."""
    events = analyse(RECORDINGS / "openssl-3.0.19-mtls.pcapng")
    assert not of_type(events, "encrypted") and not of_type(events, "verdict")
    counters = of_type(events, "stats")[0]["stats"]["encrypted"]
    assert (counters["tls_flows"], counters["judged"], counters["chia_hosts"]) == (4, 4, 0)


@pytest.mark.parametrize(
    ("name", "tls_flows"),
    [
        ("nDPI/443-curl.pcap", 1),
        ("nDPI/ethereum.pcap", 0),
        ("nDPI/bitcoin.pcap", 0),
        ("nDPI/monero.pcap", 0),
        ("nDPI/nano.pcapng", 0),
        ("nDPI/jsonrpc.pcap", 0),
        ("peafowl/ethereum-js-http.pcap", 0),
        ("CryptominingDetector/e52b224/miner.pcap", 2),  # a desktop's TLS browsing next to its miner
        ("DI-cryptominingdetection/cgminer.s0.pcapng", 1),  # Windows background TLS
    ],
)
def test_corpus_tls_raises_nothing_encrypted(corpus, analyse, name, tls_flows):
    events = analyse(corpus / name)
    assert not of_type(events, "encrypted")
    assert not [v for v in of_type(events, "verdict") if "encrypted" in v["verdict"]]
    counters = of_type(events, "stats")[0]["stats"]["encrypted"]
    assert counters["tls_flows"] == counters["judged"] == tls_flows


def test_the_summary_lists_the_encrypted_flows(tmp_path):
    """The console summary shows, under the verdict's pools, the encrypted peer with its evidence."""
    from test_cli import run_cli

    done = run_cli("analyze", str(CLEARTEXT), str(TLS), "--no-store", "-o", str(tmp_path / "events.jsonl"))
    assert done.returncode == 1
    assert "127.0.0.1:3443" in done.stdout and "tls_mining" in done.stdout  # cells wrap at 80 columns
