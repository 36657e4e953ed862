"""The public capture corpus (../shared/corpus/INDEX.md): every MINING row yields the verdict its row
describes, every BENIGN row yields no verdict and no mining event, alert, scan or incident."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from corpus_rows import BENIGN
from corpus_rows import MINING as MINING_CAPTURES


@dataclass(frozen=True)
class Expected:
    host: str
    stages: list[int]
    pools: set[tuple[str, int]] = field(default_factory=set)  # pool endpoints that must be listed
    dialect: str | None = None
    min_pools: int = 1
    max_confidence: float = 1.0
    login_prefix: str | None = None
    agent: str | None = None
    algorithm: str | None = None
    activity: str | None = None


MINING = {
    "nDPI/mining.pcapng": [
        Expected(
            "192.168.2.148",
            [1, 2],
            {("94.23.199.191", 3333), ("116.211.167.195", 3333)},
            "stratum",
            2,
            login_prefix="t1",
        ),
        Expected("147.229.13.222", [1, 2], {("185.71.66.39", 9999)}, "eth-proxy", login_prefix="0x"),
        Expected(
            "192.168.2.92",
            [1, 2],
            {("178.32.196.217", 9050)},
            "cryptonote",
            login_prefix="4",
            agent="xmr-stak-cpu/1.3.0-1.5.0",
        ),
    ],
    "nDPI/history/monero-mining.pcap": [
        Expected(
            "192.168.2.148",
            [1, 2],
            {("94.23.199.191", 3333), ("116.211.167.195", 3333)},
            "stratum",
            2,
            login_prefix="t1",
            algorithm="equihash",
        ),
    ],
    "nDPI/history/zcash.pcap": [
        Expected(
            "192.168.2.92",
            [1, 2],
            {("178.32.196.217", 9050)},
            "cryptonote",
            login_prefix="4",
            agent="xmr-stak-cpu/1.3.0-1.5.0",
        ),
    ],
    "DI-cryptominingdetection/eth-eu1.nanopool.org.pcapng": [
        Expected(
            "147.229.13.222",
            [1, 2],
            {("185.71.66.39", 9999)},
            "eth-proxy",
            login_prefix="0x",
            algorithm="ethash",
        ),
    ],
    "DI-cryptominingdetection/xmr-eu1.nanopool.org.pcapng": [
        Expected(
            "147.229.13.222",
            [1],
            {("185.71.66.20", 14444)},
            "cryptonote",
            login_prefix="4",
            activity="connected-to-pool",
        ),
    ],
    "DI-cryptominingdetection/zec-eu.suprnova.cc.pcapng": [
        Expected("147.229.13.222", [1, 2], {("37.187.149.70", 2142)}, "stratum", algorithm="equihash"),
    ],
    "DI-cryptominingdetection/cgminer.s0.pcapng": [
        Expected("192.168.1.100", [1], dialect="stratum", min_pools=5)
    ],
    "DI-cryptominingdetection/cgminer.s2.pcapng": [
        Expected("192.168.1.100", [1], dialect="stratum", min_pools=20, activity="probing-pools")
    ],
    # Ethereum getWork over HTTP, wallet in the URL; the capture holds no eth_submitWork (hashrate 0x0).
    "DI-cryptominingdetection/pool.eth.pp.ua.pcapng": [
        Expected("147.229.13.222", [1], {("88.198.15.41", 80)}, "eth-getwork", login_prefix="0x")
    ],
    # getwork / getblocktemplate over HTTP and Stratum, to many pools, no share: probing, one verdict.
    "DI-cryptominingdetection/cgminer.g0.pcapng": [
        Expected("192.168.1.100", [1], dialect="getwork", min_pools=10, activity="probing-pools")
    ],
    "CryptominingDetector/e52b224/miner.pcap": [
        # Mid-session: below a full session's 0.95 even with the shipped intel knowing the pool (+0.1).
        Expected(
            "10.0.0.101",
            [2],
            {("49.12.80.38", 45700)},
            "cryptonote",
            max_confidence=0.9,
            algorithm="rx/0",
            activity="mining",
        )
    ],
}


def dialects(pool: dict) -> set[str]:
    return {pool["dialect"]} if isinstance(pool["dialect"], str) else set(pool["dialect"])


def test_every_mining_capture_of_the_index_has_expectations():
    assert set(MINING) == set(MINING_CAPTURES)


@pytest.mark.parametrize("name", sorted(MINING))
def test_mining_capture_yields_its_verdicts(corpus, analyse, name):
    events = analyse(corpus / name)
    verdicts = {e["src_ip"]: e["verdict"] for e in events if e["event_type"] == "verdict"}
    expected = MINING[name]
    assert set(verdicts) == {e.host for e in expected}, "one verdict per miner host, none for others"
    by_id = {e["event_id"]: e for e in events}
    for want in expected:
        v = verdicts[want.host]
        assert v["stages"] == want.stages
        assert 0 < v["confidence"] <= want.max_confidence
        endpoints = {(p["ip"], p["port"]) for p in v["pools"]}
        assert want.pools <= endpoints and len(endpoints) >= want.min_pools
        if want.dialect:
            assert any(want.dialect in dialects(p) for p in v["pools"])
        if want.login_prefix:
            assert any(login.startswith(want.login_prefix) for login in v["logins"])
        if want.agent:
            assert want.agent in v["agents"]
        if want.algorithm:
            assert any(a.startswith(want.algorithm) for a in v["algorithms"])
        if want.activity:
            assert v["activity"] == want.activity
        # Every cited event exists, is a mining event or intel alert about this host; submit counts add up.
        cited = [by_id[i] for i in v["evidence"]["event_ids"]]
        assert any(e["event_type"] == "mining" for e in cited)
        assert all(e["event_type"] in ("mining", "alert") for e in cited)
        assert all(e["src_ip"] == want.host for e in cited if e["event_type"] == "mining")
        assert v["submits"] == sum(p["submits"] for p in v["pools"])
        assert all(p["accepted"] + p["rejected"] <= p["submits"] for p in v["pools"])


@pytest.mark.parametrize("name", BENIGN)
def test_benign_capture_yields_nothing(corpus, analyse, name):
    events = analyse(corpus / name)
    findings = ("verdict", "mining", "alert", "scan", "incident", "host")
    found = [e for e in events if e["event_type"] in findings]
    assert found == []
    stats = events[-1]["stats"]
    assert stats["capture"]["packets"] > 0 and not stats["input_errors"]
