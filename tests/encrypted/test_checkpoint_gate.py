"""The engine's checkpoint gate for the encrypted detector (encrypted/_checkpoints.pyx): it decides in
compiled code which checkpoints of a TLS flow reach the detector, so it must let through every checkpoint
the detector would judge. Each capture is analysed with the gate and without it (a second detector that
observes statistics turns it off): the events are the same, and the gate spares the Python calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from minerwatch import pipeline
from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.detectors.encrypted_mining import EncryptedMiningDetector

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDINGS = FIXTURES / "recordings"
ENCRYPTED = FIXTURES / "encrypted"
CAPTURES = {
    # XMRig in cleartext, then with --tls to the same pool: the TLS flow's pair is confirmed
    "pair": (
        RECORDINGS / "xmrig-6.16.0-cryptonote.pcapng",
        RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng",
    ),
    "model": (RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng",),  # the model alone flags it
    "dns": (RECORDINGS / "xmrig-6.16.0-tls-dns.pcapng",),
    "mining": (ENCRYPTED / "m03.pcap", ENCRYPTED / "m12.pcap"),
    "chia": (ENCRYPTED / "c01.pcap", ENCRYPTED / "c05.pcap"),
    "benign": (ENCRYPTED / "b01.pcap", ENCRYPTED / "b15.pcap", ENCRYPTED / "b20.pcap"),
}


def stats_probe(context: DetectorContext, options: NoOptions) -> DetectorParts:
    return DetectorParts(flow_stats_observers=[lambda flow, reason: None])


@pytest.mark.parametrize("name", CAPTURES)
def test_the_gate_changes_no_event_and_spares_calls(name: str, analyse, monkeypatch) -> None:
    calls: list[str | None] = []
    observe = EncryptedMiningDetector.flow_stats

    def counted(self: EncryptedMiningDetector, flow: Flow, reason: str | None) -> None:
        calls.append(reason)
        observe(self, flow, reason)

    monkeypatch.setattr(EncryptedMiningDetector, "flow_stats", counted)
    gated = analyse(*CAPTURES[name])
    gated_calls, calls[:] = list(calls), []
    monkeypatch.setattr(
        pipeline, "DETECTORS", (*pipeline.DETECTORS, Detector("probe", NoOptions, stats_probe))
    )
    ungated = analyse(*CAPTURES[name])
    assert [e for e in gated if e["event_type"] != "stats"] == [
        e for e in ungated if e["event_type"] != "stats"
    ]
    assert 0 < calls.count(None) < len(calls)  # without the gate: checkpoints and ends
    assert gated_calls.count(None) == len(gated_calls) <= calls.count(None)  # with it: some checkpoints
    if name in ("chia", "benign"):
        assert gated_calls == []  # 16 and 129 checkpoints without the gate
    if name in ("pair", "model"):
        assert gated_calls and any(e["event_type"] == "encrypted" for e in gated)
