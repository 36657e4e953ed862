"""The compiled hot path, driven through a recording sink: link types, IP versions, flows, expiry, bypass."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.capture.writer import TCP_ACK, TCP_SYN, ethernet, ip_packet, tcp_segment, udp_datagram
from minerwatch.decode import Engine

SEGMENT = tcp_segment(40000, 3333, 100, 0, 0x18, b"hello")
IP4 = ip_packet("10.0.0.1", "10.0.0.2", 6, SEGMENT)
IP6 = ip_packet("2001:db8::1", "2001:db8::2", 6, SEGMENT)


class Recorder:
    def __init__(self, inspect: bool = True) -> None:
        self.inspect = inspect
        self.started, self.segments, self.datagrams, self.ended, self.fragments = [], [], [], [], []

    def ip_fragment(self, ts, packet) -> None:
        self.fragments.append(packet)

    def flow_start(self, flow) -> None:
        flow.inspect = self.inspect
        self.started.append(flow)

    def tcp_segment(self, flow, ts, to_server, seq, flags, payload) -> None:
        self.segments.append((flow.flow_id, ts, to_server, seq, flags, payload))

    def udp_datagram(self, flow, ts, to_server, payload) -> None:
        self.datagrams.append((flow.flow_id, to_server, payload))

    def flow_end(self, flow, reason) -> None:
        self.ended.append((flow.flow_id, reason))


def pcap_records(frames: list[bytes], ts: float = 1.0) -> bytes:
    return b"".join(struct.pack("<IIII", int(ts) + i, 0, len(f), len(f)) + f for i, f in enumerate(frames))


def run(frames: list[bytes], linktype: int = 1, **kwargs) -> tuple[Engine, Recorder]:
    sink = Recorder()
    engine = Engine(sink, **kwargs)
    _used, error = engine.feed_pcap(pcap_records(frames), False, False, linktype)
    assert error is None
    return engine, sink


def test_ethernet_ipv4_tcp_payload_reaches_the_sink():
    _engine, sink = run([ethernet(IP4)])
    flow = sink.started[0]
    assert (flow.client_addr, flow.client_port, flow.server_addr, flow.server_port) == (
        bytes([10, 0, 0, 1]),
        40000,
        bytes([10, 0, 0, 2]),
        3333,
    )
    assert sink.segments == [(flow.flow_id, 1.0, True, 100, 0x18, b"hello")]


def test_link_layers_all_decode_to_the_same_flow():
    vlan = ethernet(IP4, vlans=(10,))
    qinq = ethernet(IP4, vlans=(10, 20))
    pppoe = (
        ethernet(b"")[:12]
        + b"\x88\x64"
        + b"\x11\x00\x00\x01"
        + struct.pack(">H", len(IP4) + 2)
        + b"\x00\x21"
        + IP4
    )
    sll = b"\x00\x00\x00\x01\x00\x06" + b"\x00" * 8 + b"\x08\x00" + IP4
    sll2 = b"\x08\x00\x00\x00" + b"\x00" * 16 + IP4
    null = struct.pack("<I", 2) + IP4
    for frames, linktype in (
        ([vlan], 1),
        ([qinq], 1),
        ([pppoe], 1),
        ([sll], 113),
        ([sll2], 276),
        ([IP4], 101),
        ([IP4], 228),
        ([null], 0),
        ([null], 108),
    ):
        engine, sink = run(frames, linktype)
        assert [s[-1] for s in sink.segments] == [b"hello"], linktype
        assert engine.counters.truncated_packets == 0


def test_ipv6_with_extension_headers():
    hop_by_hop = bytes([6, 0]) + b"\x00" * 6  # next header TCP, length 0 (8 bytes)
    packet = ip_packet("2001:db8::1", "2001:db8::2", 0, hop_by_hop + SEGMENT)
    _engine, sink = run([ethernet(packet, ipv6=True), ethernet(IP6, ipv6=True)])
    assert [s[-1] for s in sink.segments] == [b"hello", b"hello"]
    assert sink.started[0].ip_version == 6 and len(sink.started) == 1


def test_fragments_and_other_protocols_are_counted_not_lost():
    frag = bytearray(ip_packet("10.0.0.1", "10.0.0.2", 17, udp_datagram(1, 2, b"x")))
    frag[6:8] = b"\x20\x00"  # more fragments
    icmp = ip_packet("10.0.0.1", "10.0.0.2", 1, b"\x08\x00" + b"\x00" * 6)
    arp = ethernet(b"\x00" * 28)[:12] + b"\x08\x06" + b"\x00" * 28
    engine, sink = run([ethernet(bytes(frag)), ethernet(icmp), arp, ethernet(IP4)[:30]])
    c = engine.counters
    assert (c.ip_fragments, c.other_ip_proto, c.non_ip, c.truncated_packets) == (1, 1, 1, 1)
    assert c.packets == 4 and not sink.started


def test_both_directions_share_a_flow_and_syn_ack_names_the_server():
    synack = ethernet(
        ip_packet("10.0.0.2", "10.0.0.1", 6, tcp_segment(3333, 40000, 9, 101, TCP_SYN | TCP_ACK))
    )
    _engine, sink = run([synack, ethernet(IP4)])
    flow = sink.started[0]
    assert len(sink.started) == 1
    assert flow.server_port == 3333 and flow.pkts_toclient == 1 and flow.pkts_toserver == 1
    # The SYN+ACK carries no data: it is recorded on the flow, not handed up.
    assert flow.isn_toclient == 9 and flow.isn_toserver is None
    assert [s[2] for s in sink.segments] == [True]


def test_bypassed_flow_is_counted_and_never_handed_up():
    sink = Recorder(inspect=False)
    engine = Engine(sink)
    engine.feed_pcap(pcap_records([ethernet(IP4)] * 5), False, False, 1)
    assert sink.segments == [] and engine.counters.packets_bypassed == 5
    assert sink.started[0].bypassed_pkts == 5


def test_idle_flows_expire_and_the_rest_end_with_the_capture():
    other = ethernet(ip_packet("10.0.0.3", "10.0.0.4", 17, udp_datagram(5, 6, b"x")))
    sink = Recorder()
    engine = Engine(sink, idle_timeout=30.0)
    frames = pcap_records([ethernet(IP4)], ts=100.0) + pcap_records([other], ts=200.0)
    engine.feed_pcap(frames, False, False, 1)
    assert sink.ended == [(1, "timeout")]
    engine.finish()
    assert sink.ended[-1] == (2, "end-of-capture") and engine.active_flows == 0


def test_flow_table_cap_evicts_instead_of_growing():
    frames = [
        ethernet(
            ip_packet(f"10.1.{i // 250}.{i % 250}", "10.0.0.2", 6, tcp_segment(1000 + i, 80, 0, 0, TCP_SYN))
        )
        for i in range(100)
    ]
    engine, sink = run(frames, max_flows=20)
    assert engine.active_flows <= 20
    assert engine.counters.flows_evicted == len([e for e in sink.ended if e[1] == "evicted"]) > 0


def test_corrupt_record_length_stops_with_an_error():
    engine = Engine(Recorder())
    used, error = engine.feed_pcap(struct.pack("<IIII", 0, 0, 0x7FFFFFFF, 10) + b"x" * 32, False, False, 1)
    assert used == 0 and "corrupt record header" in error


def test_incomplete_record_is_left_for_the_next_chunk():
    data = pcap_records([ethernet(IP4)] * 2)
    engine = Engine(Recorder())
    used, error = engine.feed_pcap(data[:-5], False, False, 1)
    assert error is None and used == len(data) // 2 and engine.counters.packets == 1


@settings(max_examples=300, deadline=None)
@given(
    frames=st.lists(st.binary(max_size=120), max_size=30),
    linktype=st.sampled_from([0, 1, 12, 101, 108, 113, 228, 229, 276, 147]),
    mutate_valid=st.booleans(),
)
def test_garbage_frames_never_crash_and_every_packet_is_accounted(frames, linktype, mutate_valid):
    """Random bytes as frames (or valid frames cut short) on every link type: decoded, counted or skipped."""
    if mutate_valid:
        frames = [ethernet(IP4)[: len(f)] for f in frames]
    engine, sink = run(frames, linktype)
    c = engine.counters
    assert c.packets == len(frames)
    in_flows = sum(f.pkts_toserver + f.pkts_toclient for f in sink.started)
    skipped = (
        c.truncated_packets
        + c.unsupported_linktype
        + c.non_ip
        + c.other_ip_proto
        + c.ip_fragments
        + c.bad_ip_header
    )
    assert in_flows + skipped == c.packets  # each packet either reached a flow or was counted as skipped
