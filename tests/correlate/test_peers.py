"""Suspects: hosts that reached a confirmed pool's address in the same period, and the contact table."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

from minerwatch.capture.writer import TcpConversation
from minerwatch.correlate.observations import Behaviour, BehaviourObservation
from minerwatch.correlate.peers import PoolPeers
from minerwatch.correlate.verdicts import VerdictCorrelator, VerdictPolicy

POOL = "198.51.100.40"
MINER = "10.0.0.5"


def flow(client: str, server: str = POOL, port: int = 3333, start: float = 0.0, end: float = 10.0, **kw):
    """The fields of an engine Flow that the contact table reads."""
    return SimpleNamespace(
        proto=kw.get("proto", 6),
        pkts_toclient=kw.get("pkts_toclient", 3),
        client_addr=socket.inet_pton(socket.AF_INET, client),
        server_addr=socket.inet_pton(socket.AF_INET, server),
        server_port=port,
        first_ts=start,
        last_ts=end,
        flow_id=kw.get("flow_id", 1),
    )


def confirmed(correlator: VerdictCorrelator, start: float = 1000.0) -> None:
    """MINER is confirmed (stages 1+2) on POOL:3333 between `start` and `start` + 3."""
    for n, behaviour in enumerate((Behaviour.REGISTRATION, Behaviour.LOGIN, Behaviour.JOB, Behaviour.SUBMIT)):
        correlator.observe(
            BehaviourObservation(
                behaviour=behaviour,
                ts=start + n,
                miner_ip=MINER,
                pool_ip=POOL,
                pool_port=3333,
                dialect="stratum",
                event_id=100 + n,
                outcome="accepted" if behaviour is Behaviour.SUBMIT else None,
            )
        )


def suspects(correlator: VerdictCorrelator) -> dict[str, dict]:
    return {host: body for _, host, body in correlator.verdicts() if body["stages"] == []}


def test_peers_in_the_period_are_suspects_and_others_are_not():
    correlator = VerdictCorrelator(VerdictPolicy(peer_window=600))
    confirmed(correlator)
    peers = correlator.peers
    peers.flow_ended(flow(MINER, start=1000, end=1003), "timeout")  # the miner itself: has its own verdict
    peers.flow_ended(flow("10.0.0.6", start=1200, end=5000, flow_id=7), "timeout")  # same port, overlapping
    peers.flow_ended(flow("10.0.0.7", port=443, start=500, end=900), "timeout")  # other port, just before
    peers.flow_ended(flow("10.0.0.8", start=1003 + 601, end=9000), "timeout")  # after the window
    peers.flow_ended(flow("10.0.0.9", server="198.51.100.41"), "timeout")  # another server
    found = suspects(correlator)
    assert set(found) == {"10.0.0.6", "10.0.0.7"}
    same, other = found["10.0.0.6"], found["10.0.0.7"]
    [entry] = same["confirmed_pools"]
    assert same["activity"] == "contacted-confirmed-pool" and entry["confirmed_by"] == [MINER]
    assert entry["same_port"] and entry["flow_ids"] == [7] and entry["ports_contacted"] == [3333]
    assert same["evidence"]["event_ids"] == [100, 101, 102, 103]  # the confirming behaviour events
    pool_confidence = entry["pool_confidence"]
    assert same["confidence"] == round(0.5 * pool_confidence, 2)
    assert other["confidence"] == round(0.3 * pool_confidence, 2)
    assert not other["confirmed_pools"][0]["same_port"]


def test_no_confirmed_pool_no_suspect():
    correlator = VerdictCorrelator()
    correlator.peers.flow_ended(flow("10.0.0.6"), "timeout")
    assert correlator.verdicts() == []


def test_only_answered_tcp_connections_are_contacts():
    peers = PoolPeers()
    peers.flow_ended(flow("10.0.0.6", pkts_toclient=0), "timeout")  # a SYN nobody answered: a scan
    peers.flow_ended(flow("10.0.0.7", proto=17), "timeout")
    assert peers.clients_of(POOL) == {}


def test_the_contact_table_is_bounded_and_says_what_it_dropped():
    peers = PoolPeers(max_contacts=2)
    for server in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        peers.flow_ended(flow("10.0.0.6", server=server), "timeout")
    assert peers.clients_of("198.51.100.1") == {} and peers.stats["contacts_forgotten"] == 1
    peers.flow_ended(flow("10.0.0.6", server="198.51.100.2"), "timeout")  # refreshed: now the newest
    peers.flow_ended(flow("10.0.0.7", server="198.51.100.4"), "timeout")
    assert set(peers.clients_of("198.51.100.2")) == {"10.0.0.6"} and peers.clients_of("198.51.100.3") == {}
    for n in range(20):
        peers.flow_ended(flow("10.0.0.6", server="198.51.100.2", port=4000 + n, flow_id=n), "timeout")
    contact = peers.clients_of("198.51.100.2")["10.0.0.6"]
    assert contact.flows == 22 and len(contact.ports) == 8 and len(contact.flow_ids) == 8


def test_ipv6_contacts():
    peers = PoolPeers()
    v6 = SimpleNamespace(
        proto=6,
        pkts_toclient=2,
        client_addr=socket.inet_pton(socket.AF_INET6, "2001:db8::5"),
        server_addr=socket.inet_pton(socket.AF_INET6, "2001:db8:ffff::10"),
        server_port=10128,
        first_ts=1.0,
        last_ts=2.0,
        flow_id=3,
    )
    peers.flow_ended(v6, "timeout")
    assert set(peers.clients_of("2001:db8:ffff::10")) == {"2001:db8::5"}
    assert peers.clients_of("not an address") == {}


def line(obj) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def test_a_tls_peer_of_a_cleartext_miner_is_reported(write_capture, analyse):
    """Whole pipeline: one host mines in clear, another speaks TLS to the pool's address meanwhile."""
    miner = TcpConversation(MINER, 50000, POOL, 3333, ts=1000).open()
    miner.send(True, line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}))
    miner.send(False, line({"id": 1, "result": [[["mining.notify", "ab"]], "08000002", 4], "error": None}))
    miner.send(True, line({"id": 2, "method": "mining.authorize", "params": ["bc1qworker.rig1", "x"]}))
    miner.send(False, line({"id": 2, "result": True, "error": None}))
    notify = ["bf", "00" * 32, "01", "02", [], "00000002", "1c2ac4af", "504e86b9", True]
    miner.send(False, line({"id": None, "method": "mining.notify", "params": notify}))
    miner.send(
        True, line({"id": 4, "method": "mining.submit", "params": ["bc1qworker.rig1", "bf", "0", "1", "2"]})
    )
    miner.send(False, line({"id": 4, "result": True, "error": None}))
    tls = TcpConversation("10.0.0.6", 50001, POOL, 443, ts=1001).open()
    tls.send(True, b"\x16\x03\x01\x00\x40" + bytes(64))
    tls.send(False, b"\x16\x03\x03\x00\x40" + bytes(64))
    events = analyse(write_capture(miner.close().packets + tls.close().packets))
    verdicts = {e["src_ip"]: e["verdict"] for e in events if e["event_type"] == "verdict"}
    assert verdicts[MINER]["stages"] == [1, 2]
    peer = verdicts["10.0.0.6"]
    assert peer["activity"] == "contacted-confirmed-pool" and peer["stages"] == []
    assert peer["confirmed_pools"][0]["ports_contacted"] == [443]
