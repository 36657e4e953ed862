"""A real miner: XMRig 6.16.0 recorded on loopback against tests/fixtures/pool_emulator.py (see
tests/fixtures/recordings/README.md). Stages 1 and 2, the agent parsed, the algorithm list, keepalived;
the same miner over TLS shows only as TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from minerwatch.protocols.tls import ClientHelloParser

RECORDING = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "xmrig-6.16.0-cryptonote.pcapng"
WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


def test_xmrig_recording(analyse):
    events = analyse(RECORDING)
    [verdict] = [e["verdict"] for e in events if e["event_type"] == "verdict"]
    assert verdict["host"] == "127.0.0.1" and verdict["stages"] == [1, 2] and verdict["activity"] == "mining"
    assert (verdict["submits"], verdict["accepted"]) == (2, 2)
    assert verdict["coins"] == ["XMR"] and verdict["algorithms"] == ["rx/0"]
    assert verdict["wallets"] == [
        {"address": WALLET, "coin": "XMR", "kind": "standard", "checksum_valid": True}
    ]
    [agent] = verdict["agent_info"]
    assert (agent["family"], agent["version"], agent["os"], agent["libuv"]) == (
        "xmrig",
        "6.16.0",
        "Linux x86_64",
        "1.42.0",
    )
    [login] = [
        e["mining"] for e in events if e["event_type"] == "mining" and e["mining"]["behaviour"] == "login"
    ]
    assert len(login["algorithms"]) == 31 and "rx/0" in login["algorithms_normalised"]
    assert login["password"] == "********" and login["outcome"] == "accepted"
    [flow] = [e["flow"] for e in events if e["event_type"] == "flow"]
    assert flow["methods"] == {"login": 1, "submit": 2, "job": 1, "keepalived": 1}


TLS_RECORDING = RECORDING.with_name("xmrig-6.16.0-cryptonote-tls.pcapng")
XMRIG_JA3 = "c34a54599a1fbaf1786aa6d633545a60"


def first_client_payload(path: Path) -> bytes:
    dpkt = pytest.importorskip("dpkt")
    with path.open("rb") as f:
        for _, buf in dpkt.pcapng.Reader(f):
            tcp = dpkt.ethernet.Ethernet(buf).data.data
            if tcp.dport == 3443 and tcp.data:
                return bytes(tcp.data)
    raise AssertionError("no client payload")


def test_stratum_over_tls_is_only_tls(analyse):
    """The same miner with --tls: nothing of the pool protocol shows, and nothing is made up. What is left
    is the ClientHello: no SNI (xmrig 6.16.0 sends none, even to a host name) and its JA3, and the flow's
    shape, which the encrypted detector judges (tests/encrypted): a verdict without stages."""
    events = analyse(TLS_RECORDING)
    assert not [e for e in events if e["event_type"] == "mining"]
    assert [e["verdict"]["stages"] for e in events if e["event_type"] == "verdict"] == [[]]
    hello = ClientHelloParser().feed(first_client_payload(TLS_RECORDING))
    assert hello is not None and hello.sni is None and hello.ja3 == XMRIG_JA3
