"""live --workers run as a service, as one process is (tests/capture/test_live_operations.py): SIGHUP
reloads intel in every worker without dropping flows, incidents are written while the capture runs,
periodic `stats` events carry the kernel's counters per interface and per worker, and a stop flushes
every worker.

The traffic is the recorded XMRig session (tests/fixtures/recordings) replayed by HOSTS miners of made-up
addresses (the project's TCP writer, the miner's and the pool's payloads as recorded), so that the kernel's
flow hash gives both workers some of them; tcpreplay sends it into a veth pair in a namespace the test
makes (live_replay.py).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import dpkt
import pytest

from live_replay import RECORDING, LiveRun, analyse_file, events_of_type, recording_frames, veth_namespace
from minerwatch.capture.writer import PcapWriter, TcpConversation
from minerwatch.cli.main import main
from test_event_schema import validate_all

HOSTS = 12  # all on one worker: a chance of 2 ** -11 (the test then says so)
POOL_PORT = 3333
FILTER = ["--bpf", f"tcp port {POOL_PORT}", "--workers", "2"]


def pool_session() -> tuple[str, list[tuple[bool, bytes]]]:
    """The recording's pool address and its payloads in order: (from the miner, bytes)."""
    server, segments = "", []
    for _, data in recording_frames(RECORDING):
        ip = dpkt.ethernet.Ethernet(data).data
        tcp = ip.data
        if isinstance(tcp, dpkt.tcp.TCP) and tcp.data and POOL_PORT in (tcp.sport, tcp.dport):
            from_miner = tcp.dport == POOL_PORT
            server = server or dpkt.utils.inet_to_str(ip.dst if from_miner else ip.src)
            segments.append((from_miner, bytes(tcp.data)))
    return server, segments


def miners(directory: Path) -> tuple[Path, Path, dict[str, int]]:
    """Two captures: every miner's TCP handshake, then the rest of each connection; and each miner's
    packet count."""
    server, segments = pool_session()
    opened, rest, packets = [], [], {}
    for n in range(1, HOSTS + 1):
        host = f"10.77.0.{n}"
        conversation = TcpConversation(host, 40000 + n, server, POOL_PORT, ts=1_700_000_000.0 + n).open()
        opened += conversation.packets
        start = len(conversation.packets)
        for from_miner, data in segments:
            conversation.send(from_miner, data)
        rest += conversation.close().packets[start:]
        packets[host] = len(conversation.packets)
    paths = directory / "opened.pcap", directory / "rest.pcap"
    for path, frames in zip(paths, (opened, rest), strict=True):
        with open(path, "wb") as out:
            PcapWriter(out).write_all(sorted(frames))
    return *paths, packets


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def per_worker(kernel: list[dict]) -> list[int]:
    """Packets each worker's sockets received on the one interface, checked against the interface's sum."""
    (interface,) = kernel
    workers = interface["workers"]
    assert [w["worker"] for w in workers] == [0, 1]
    for name in ("packets", "drops", "freeze_queue"):
        assert sum(w[name] for w in workers) == interface[name]
    return [w["packets"] for w in workers]


@pytest.mark.parametrize("hup", [True, False], ids=["sighup", "no-sighup"])
def test_sighup_reloads_intel_in_every_worker_and_keeps_flows(tmp_path, hup):
    opened, rest, packets = miners(tmp_path)
    db = tmp_path / "intel.sqlite"
    assert main(["intel", "--db", str(db), "seed"]) == 0
    login = next(e["mining"]["login"] for e in analyse_file() if e.get("mining", {}).get("login"))
    wallets = tmp_path / "wallets.txt"
    wallets.write_text(login + "\n")
    out = tmp_path / "events.jsonl"
    with veth_namespace("mw-whup") as ns:
        live = LiveRun(ns, tmp_path, [*FILTER, "--intel-db", str(db), "-o", str(out)])
        live.replay(opened)
        time.sleep(0.3)
        imported = ["intel", "--db", str(db), "import", str(wallets), "--type", "wallet", "--source", "t"]
        assert main(imported) == 0
        if hup:
            live.send(signal.SIGHUP)
            for who in ("worker 0", "worker 1"):
                live.wait_for(f"minerwatch: {who}: intel and rules reloaded")
            live.wait_for("minerwatch: intel and rules reloaded")  # the correlator's own
        live.replay(rest)
        assert live.stop() == 1, live.stderr
    events = read(out)
    alerted = {
        e["src_ip"]: e["alert"]["where"]
        for e in events
        if e["event_type"] == "alert" and e["alert"]["intel"]["source"] == "t"
    }
    # Flows kept across the reload: each miner's connection is one flow with every packet.
    flows = {e["src_ip"]: e["flow"] for e in events if e["event_type"] == "flow"}
    assert {host: f["pkts_toserver"] + f["pkts_toclient"] for host, f in flows.items()} == packets
    stats = events[-1]["stats"]
    assert stats["capture"]["packets"] == sum(packets.values())
    assert all(per_worker(stats["kernel"])), "the flow hash gave one worker every miner: run again"
    if hup:  # every miner's login matched after the reload, whichever worker reads it
        assert alerted == dict.fromkeys(packets, "mining login")
    else:
        assert alerted == {}  # the indicator was in the file, but not loaded: the reload is what matched it
    assert {e["src_ip"] for e in events if e["event_type"] == "verdict"} == set(packets)


def test_incidents_and_periodic_stats_while_capturing_and_a_stop_flushes_every_worker(tmp_path):
    opened, rest, packets = miners(tmp_path)
    total = sum(packets.values())
    out = tmp_path / "events.jsonl"
    with veth_namespace("mw-wstats") as ns:
        live = LiveRun(ns, tmp_path, [*FILTER, "--no-intel", "--stats-interval", "0.3", "-o", str(out)])
        live.replay(opened)
        live.replay(rest)
        # Written while the capture runs: every miner's incident, and a report with every packet counted.
        deadline = time.monotonic() + 30
        while {e["src_ip"] for e in events_of_type(out, "incident", 0)} != set(packets) or not [
            e for e in events_of_type(out, "stats", 0) if e["stats"]["capture"]["packets"] == total
        ]:
            assert time.monotonic() < deadline, f"no incidents or stats of every miner: {live.stderr}"
            time.sleep(0.2)
        assert live.stop(signal.SIGINT) == 1, live.stderr
    events = read(out)
    validate_all(events)
    periodic = [e["stats"] for e in events if e["event_type"] == "stats" and e["stats"].get("periodic")]
    assert len(periodic) >= 2
    last = periodic[-1]
    assert last["capture"]["packets"] == total and sum(per_worker(last["kernel"])) >= total
    # Stopped: every worker's flows ended and were written, the final counters whole.
    final = events[-1]["stats"]
    assert "periodic" not in final and final["capture"]["packets"] == total
    assert all(per_worker(final["kernel"]))
    flows = {e["src_ip"]: e["flow"] for e in events if e["event_type"] == "flow"}
    assert {host: f["pkts_toserver"] + f["pkts_toclient"] for host, f in flows.items()} == packets
    assert [e["event_id"] for e in events] == sorted(e["event_id"] for e in events)
