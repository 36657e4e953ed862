"""The encrypted detector under hostile sizes: many TLS flows, huge ClientHellos, endless records, a host
with many Chia peers. Memory stays within its caps (what a cap turned away is counted in stats) and work
grows linearly with the input (Python lines executed, tests/work.py: no timed tests).

The handshakes are real: the first segments of XMRig 6.16's TLS connection (tests/fixtures/encrypted
m03.pcap) and of a chia-blockchain 2.7.5 peer connection (c01.pcap), replayed between other addresses by
the project's TCP writer; only the hostile parts (sizes, counts) are made here.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.capture.writer import PcapWriter, TcpConversation
from minerwatch.correlate import verdicts
from minerwatch.correlate.peers import PoolPeers
from minerwatch.detectors import encrypted_mining
from minerwatch.encrypted import chia
from minerwatch.intel import matcher
from minerwatch.pipeline import Analysis, AnalysisOptions
from work import lines_executed, retained_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "encrypted"
Segments = list[tuple[bool, bytes]]  # (to the server, payload) in capture order
Frames = list[tuple[float, bytes]]


def recorded(capture: str, server_port: int, limit: int) -> Segments:
    """The first `limit` payload segments of the capture's connection to `server_port`, retransmissions
    left out (each direction's bytes once, in order)."""
    out: Segments = []
    next_seq: dict[bool, int] = {}
    with (FIXTURES / capture).open("rb") as f:
        for _, buf in dpkt.pcap.Reader(f):
            tcp = dpkt.ethernet.Ethernet(buf).data.data
            if not isinstance(tcp, dpkt.tcp.TCP) or server_port not in (tcp.sport, tcp.dport):
                continue
            to_server = tcp.dport == server_port
            if tcp.data and tcp.seq >= next_seq.get(to_server, 0):
                next_seq[to_server] = tcp.seq + len(tcp.data)
                out.append((to_server, bytes(tcp.data)))
                if len(out) == limit:
                    break
    return out


XMRIG = recorded("m03.pcap", 9000, 6)  # ClientHello, ServerHello..., the client's second flight, login
CHIA = recorded("c01.pcap", 8444, 8)  # both certificates, the WebSocket upgrade, Chia's handshake


def address(n: int, net: int) -> str:
    return f"10.{net + n // 65536}.{n // 256 % 256}.{n % 256}"


def connection(client: str, server: str, port: int, start: float, segments: Segments, close: bool) -> Frames:
    conv = TcpConversation(client, 40000 + int(start * 1000) % 20000, server, port, ts=start).open()
    for to_server, data in segments:
        conv.send(to_server, data)
    return (conv.close() if close else conv).packets


def in_time(*flows: Frames) -> Frames:
    return sorted((p for flow in flows for p in flow), key=lambda p: p[0])


# ---- the shapes, each of size n -----------------------------------------------------------------------


def many_tls_flows(n: int) -> Frames:
    """n XMRig TLS connections from n hosts to one pool, all open at once (none closes)."""
    return in_time(
        *(connection(address(i, 60), "10.59.0.1", 9000, 1000 + i * 0.001, XMRIG, False) for i in range(n))
    )


def huge_client_hellos(n: int) -> Frames:
    """One connection whose ClientHello record says n KiB and brings them (padding the parser never
    finishes: a hello is at most 16 KiB), then the real server's answer."""
    body = bytes([1]) + (n << 10).to_bytes(3, "big") + bytes(n << 10)
    hello = b"".join(
        struct.pack("!BHH", 22, 0x0301, len(chunk)) + chunk
        for chunk in (body[i : i + 16384] for i in range(0, len(body), 16384))
    )
    return connection("10.61.0.1", "10.59.0.1", 9000, 1000.0, [(True, hello), XMRIG[1]], True)


def endless_records(n: int) -> Frames:
    """XMRig's real handshake, then n small application-data records each way in n segments."""
    segments = list(XMRIG)
    for i in range(n):
        segments.append((i % 2 == 0, struct.pack("!BHH", 23, 0x0303, 24) + bytes(24)))
    return connection("10.62.0.1", "10.59.0.1", 9000, 1000.0, segments, True)


def endless_handshake(n: int) -> Frames:
    """A client that sends n handshake records of 1 KiB after its real ClientHello and never finishes."""
    segments = [XMRIG[0], XMRIG[1]] + [(True, struct.pack("!BHH", 22, 0x0303, 1024) + bytes(1024))] * n
    return connection("10.63.0.1", "10.59.0.1", 9000, 1000.0, segments, True)


def many_chia_peers(n: int) -> Frames:
    """n Chia nodes dialling one node's 8444 with chia-blockchain's real handshake."""
    return in_time(
        *(connection(address(i, 64), "10.58.0.1", 8444, 1000 + i * 0.001, CHIA, True) for i in range(n))
    )


def many_chia_hosts(n: int) -> Frames:
    """n pairs of Chia nodes, each pair one connection: 2n hosts."""
    return in_time(
        *(connection(address(i, 66), address(i, 68), 8444, 1000 + i * 0.001, CHIA, True) for i in range(n))
    )


# ---- measuring -----------------------------------------------------------------------------------------


def written(frames: Frames, path: Path) -> Path:
    with path.open("wb") as out:
        PcapWriter(out).write_all(frames)
    return path


def analysis_of(path: Path, **options) -> tuple[Analysis, Callable[[], dict]]:
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions(detectors=("intel", "encrypted"), **options))

    def run() -> dict:
        analysis.feed_file(path)
        analysis.finish()
        return events[-1]["stats"]

    return analysis, run


def encrypted_stats(path: Path) -> dict:
    return analysis_of(path)[1]()["encrypted"]


SHAPES: dict[str, tuple[Callable[[int], Frames], int]] = {
    "many_tls_flows": (many_tls_flows, 150),
    "huge_client_hellos": (huge_client_hellos, 256),  # KiB
    "endless_records": (endless_records, 1500),
    "endless_handshake": (endless_handshake, 200),
    "many_chia_peers": (many_chia_peers, 100),
    "many_chia_hosts": (many_chia_hosts, 100),
}


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caps a test can reach: 50 TLS flows followed, 20 Chia hosts, 10 peers each, weak intel hits of 100
    flows waiting, 100 contacts remembered, 10 names, addresses and agents looked up by intel remembered."""
    monkeypatch.setattr(encrypted_mining, "MAX_FLOWS", 50)
    monkeypatch.setattr(chia, "MAX_HOSTS", 20)
    monkeypatch.setattr(chia, "MAX_PEERS", 10)
    monkeypatch.setattr(verdicts, "WEAK_FLOWS", 100)
    monkeypatch.setattr(PoolPeers.__init__, "__defaults__", (100,))
    monkeypatch.setattr(matcher, "_MEMO", 10)


def test_real_handshakes_are_what_the_shapes_replay(tmp_path: Path) -> None:
    """The replayed XMRig and Chia connections are read as the recordings are: the XMRig hello's weak
    fingerprint, a Chia node on each end."""
    stats = analysis_of(written(many_tls_flows(1), tmp_path / "x.pcap"))[1]()
    assert stats["encrypted"]["tls_flows"] == stats["encrypted"]["judged"] == 1
    assert stats["intel"]["weak_fingerprint_hits"] == 2  # XMRig 6.16's JA3 and JA4
    peers = encrypted_stats(written(many_chia_peers(4), tmp_path / "c.pcap"))
    assert peers["chia_hosts"] == 5  # the node and its 4 peers


@pytest.mark.usefixtures("small_caps")
def test_caps_hold_and_are_counted(tmp_path: Path) -> None:
    flows = encrypted_stats(written(many_tls_flows(120), tmp_path / "flows.pcap"))
    assert flows["tls_flows"] == 120 and flows["flows_dropped"] == 70 and flows["judged"] == 50
    peers = encrypted_stats(written(many_chia_peers(30), tmp_path / "peers.pcap"))
    assert peers["chia_peers_dropped"] == 20 and peers["chia_hosts_dropped"] == 30 - 19
    hosts = encrypted_stats(written(many_chia_hosts(30), tmp_path / "hosts.pcap"))
    assert hosts["chia_hosts_dropped"] == 2 * 30 - 20 and hosts["chia_hosts"] <= 20


def test_a_huge_hello_or_endless_records_stop_the_reading(tmp_path: Path) -> None:
    """The hello parser gives up at its limit and the record walker after its 12 records or 32 KiB: the
    flow is still judged once, at its end."""
    for frames in (huge_client_hellos(1024), endless_handshake(100), endless_records(500)):
        stats = encrypted_stats(written(frames, tmp_path / "one.pcap"))
        assert stats["tls_flows"] == stats["judged"] == 1 and stats["flows_dropped"] == 0


@pytest.mark.usefixtures("small_caps")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_sizes_cost_linear_work(shape: str, tmp_path: Path) -> None:
    make, n = SHAPES[shape]
    work = [lines_executed(analysis_of(written(make(k * n), tmp_path / f"{k}.pcap"))[1]) for k in (1, 2, 4)]
    # From 2n to 4n costs at most about twice what n to 2n did (a quadratic cost: 4 times); a cost that
    # stops growing at a cap passes too.
    assert work[2] - work[1] <= 2.5 * max(work[1] - work[0], 0) + 0.02 * work[0]


@pytest.mark.usefixtures("small_caps")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_sizes_hold_bounded_memory(shape: str, tmp_path: Path) -> None:
    """With every cap small (the flow table's too: 100 flows), the state an analysis keeps does not grow
    with the input: four times as many flows, peers or records, the same memory held at the end. Without
    these caps it grows 2 to 3.4 times here."""
    make, n = SHAPES[shape]
    held = []
    for k in (1, 1, 4):  # the first run fills what any analysis caches (rules, the model's arrays)
        analysis, run = analysis_of(written(make(k * n), tmp_path / f"{k}.pcap"), max_flows=100)
        held.append(retained_bytes(lambda: (run(), analysis)))  # noqa: B023 (called at once)
    assert held[2] < held[1] + (64 << 10)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.tuples(st.sampled_from(sorted(SHAPES)), st.integers(1, 40)), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_hostile_shapes_mixed_keep_the_books(tmp_path_factory, parts, seed) -> None:
    """Any mix, in any order: every TLS connection read is judged once or counted as dropped."""
    frames = in_time(*(make(size) for make, size in ((SHAPES[name][0], size) for name, size in parts)))
    random.Random(seed).shuffle(frames)  # out of order as a hostile capture may be
    stats = encrypted_stats(written(frames, tmp_path_factory.mktemp("mix") / "mix.pcap"))
    assert stats["judged"] + stats["flows_dropped"] == stats["tls_flows"]
