"""The labelled encrypted recordings (tests/fixtures/encrypted, made by benchmarks/record_encrypted.py
--quick) read back through the project's own capture reader and flow table: every labelled connection is
a flow minerwatch sees, with the same orientation, and nothing that carried data is left unlabelled."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from flowstats_reference import reference_flows
from minerwatch.capture.reader import feed_capture
from minerwatch.decode import Engine, Flow
from minerwatch.flows.analyzers import FlowEndObserver
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.inspector import Inspector
from minerwatch.protocols.tls import ClientHelloParser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "encrypted"
LABELS = {"tls_mining", "chia", "benign"}


def read_labels() -> list[dict[str, str]]:
    with open(FIXTURES / "labels.csv", newline="") as f:
        return list(csv.DictReader(f))


def flows_of(capture: Path) -> dict[str, tuple[str, int, str, int, int]]:
    """Community ID -> (client ip, client port, server ip, server port, packets) of every flow in it."""
    seen: dict[str, tuple[str, int, str, int, int]] = {}

    def ended(flow: Flow, reason: str) -> None:
        info = FlowInfo(flow)
        packets = flow.pkts_toserver + flow.pkts_toclient
        old = seen.get(info.community_id, ("", 0, "", 0, 0))[4]  # one connection split by idle expiry
        seen[info.community_id] = (
            info.client_ip,
            info.client_port,
            info.server_ip,
            info.server_port,
            old + packets,
        )

    engine = Engine(Inspector([], flow_end_observers=[FlowEndObserver(ended)]))
    feed_capture(capture, engine)
    engine.finish()
    return seen


def test_labels_cover_all_classes_in_both_splits() -> None:
    """A held-out evaluation needs every class in train and in test, split by session (a session's
    connections never straddle the split)."""
    rows = read_labels()
    assert {r["label"] for r in rows} == LABELS
    assert Counter((r["label"], r["split"]) for r in rows).keys() == {
        (c, s) for c in LABELS for s in ("train", "test")
    }
    split_of_session = {}
    for row in rows:
        assert split_of_session.setdefault(row["session"], row["split"]) == row["split"]
    test_options = {r["options"] for r in rows if r["split"] == "test"}
    assert not test_options & {r["options"] for r in rows if r["split"] == "train"}


def test_manifest_matches_labels() -> None:
    manifest = json.loads((FIXTURES / "sessions.json").read_text())
    rows = read_labels()
    per_session = Counter(r["session"] for r in rows)
    for session in manifest["sessions"]:
        assert (FIXTURES / session["capture"]).is_file()
        assert session["connections"] == per_session[session["session"]]
        assert session["error"] == ""
    assert manifest["versions"]["xmrig"] == "XMRig 6.16.0"


def test_miner_logs_agree_with_the_captures() -> None:
    """Two independent records of each mining session: XMRig's own log (connections made, jobs received)
    and the capture's labelled connections. Every miner got its login job and at least one pushed job."""
    manifest = json.loads((FIXTURES / "sessions.json").read_text())
    mining = [s for s in manifest["sessions"] if s["label"] == "tls_mining"]
    assert mining
    for session in mining:
        assert session["miner"]["connections"] == session["connections"]
        assert session["miner"]["jobs"] >= session["connections"] + 1


@pytest.mark.parametrize("capture", sorted({r["capture"] for r in read_labels()}))
def test_every_labelled_connection_is_a_flow(capture: str) -> None:
    """Each labelled connection is in the capture as the recorder wrote it (client = the SYN's sender), and
    every flow left unlabelled is a refused or unanswered attempt (a SYN and at most a RST)."""
    seen = flows_of(FIXTURES / capture)
    labelled = [r for r in read_labels() if r["capture"] == capture]
    assert labelled
    for row in labelled:
        client_ip, client_port, server_ip, server_port, packets = seen[row["community_id"]]
        assert (client_ip, client_port, server_ip, server_port) == (
            row["src_ip"],
            int(row["src_port"]),
            row["dest_ip"],
            int(row["dest_port"]),
        )
        assert packets >= 6  # handshake, at least one exchange each way, the close
    unlabelled = set(seen) - {r["community_id"] for r in labelled}
    assert all(seen[cid][4] <= 2 for cid in unlabelled)


@pytest.mark.parametrize("capture", sorted({r["capture"] for r in read_labels()}))
def test_one_program_per_session(capture: str) -> None:
    """Every TLS connection of a session opens with the same ClientHello fingerprint: one program family
    made them all. A connection from anything else (another recording's client that reached this session's
    namespaces, as once happened to b03) would carry a wrong label."""
    fingerprints = set()
    for flow in reference_flows(FIXTURES / capture).values():
        if flow.first_payload and flow.first_payload[0]:
            hello = ClientHelloParser().feed(flow.first_payload[1])
            if hello is not None:
                fingerprints.add(hello.ja3)
    assert len(fingerprints) <= 1


def test_labels_are_read_again_from_the_captures(tmp_path: Path) -> None:
    """record_encrypted.py --relabel reads every connection back from the captures (tcpdump -r): on the
    fixtures it gives the labels and connection counts the recording wrote, row for row."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "encrypted"
    shutil.copytree(FIXTURES, copy)
    recorder = Path(__file__).resolve().parents[2] / "benchmarks" / "record_encrypted.py"
    done = subprocess.run(
        [sys.executable, str(recorder), str(copy), "--relabel"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    with open(copy / "labels.csv", newline="") as f:
        again = list(csv.DictReader(f))
    key = lambda row: (row["session"], row["start"], row["src_port"])  # noqa: E731
    assert sorted(again, key=key) == sorted(read_labels(), key=key)
    assert json.loads((copy / "sessions.json").read_text()) == json.loads(
        (FIXTURES / "sessions.json").read_text()
    )
