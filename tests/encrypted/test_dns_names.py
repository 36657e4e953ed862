"""The pool-like words of the names DNS gave a TLS flow's server count as the SNI's do: weak evidence.

Real traffic only: `xmrig-6.16.0-tls-dns.pcapng` (tests/fixtures/recordings/record_xmrig_tls_dns.sh) is
XMRig 6.16 with `--tls` dialling `xmr-eu1.pool.test`, which dnsmasq answers with the pool emulator's
address; XMRig sends no SNI, so the name is only in DNS. The real-traffic capture (conftest.py) is curl
fetching over HTTPS from servers dnsmasq named `www*.bench.test`: names without a pool-like word.
"""

from __future__ import annotations

from pathlib import Path

from minerwatch.pipeline import AnalysisOptions, detector_names
from minerwatch.scale.run import analyze_files

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "xmrig-6.16.0-tls-dns.pcapng"
NAME = {
    "kind": "name",
    "weak": True,
    "support": {"tls_mining": 0.25},  # 0.5 x the score of a coin with a mining word
    "where": "dns",
    "name": "xmr-eu1.pool.test",
    "tokens": ["xmr", "pool"],
}


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event_type"] == kind]


def encrypted_stats(events: list[dict]) -> dict:
    return of_type(events, "stats")[0]["stats"]["encrypted"]


def test_the_pool_name_dns_gave_the_server_is_evidence_on_its_tls_flow(analyse) -> None:
    events = analyse(CAPTURE)
    [flow] = of_type(events, "encrypted")
    assert flow["dest_ip"] == "127.0.0.9" and flow["encrypted"]["tls"]["sni"] is None
    assert [e for e in flow["encrypted"]["evidence"] if e["kind"] == "name"] == [NAME]
    assert "name" in of_type(events, "verdict")[0]["verdict"]["encrypted"]["evidence"]
    assert encrypted_stats(events)["dns_named_flows"] == 1


def test_with_workers_the_judge_reads_the_correlators_dns_answers() -> None:
    """The DNS flow and the TLS flow are different address pairs, so with workers they may be read by
    different processes; the judge, in the correlator, reads the DNS answers every worker forwarded."""
    events: list[dict] = []
    analyze_files([CAPTURE], [events.append], AnalysisOptions(), 2)
    [flow] = of_type(events, "encrypted")
    assert [e for e in flow["encrypted"]["evidence"] if e["kind"] == "name"] == [NAME]


def test_without_the_intel_detector_no_dns_is_read(analyse) -> None:
    """DNS is read by the intel detector: without it the flow is still judged, with no name."""
    events = analyse(CAPTURE, detectors=[d for d in detector_names() if d != "intel"])
    assert all(e["kind"] != "name" for f in of_type(events, "encrypted") for e in f["encrypted"]["evidence"])
    assert encrypted_stats(events)["dns_named_flows"] == 0


def test_neutral_names_from_dns_raise_nothing(real_traffic, analyse) -> None:
    """Hundreds of HTTPS connections to servers DNS named: every name looked at, none pool-like."""
    events = analyse(real_traffic)
    stats = encrypted_stats(events)
    assert stats["judged"] >= 50 and stats["dns_named_flows"] >= 50
    assert of_type(events, "encrypted") == [] and stats["weak_only_flows"] == 0
