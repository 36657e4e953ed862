"""IP fragments are reassembled (v4 and v6), bounded, and overlaps counted."""

from __future__ import annotations

import json
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.capture.writer import ethernet, ip_packet, tcp_segment, udp_datagram
from minerwatch.flows.defrag import Defragmenter


def fragments_v4(packet: bytes, size: int) -> list[bytes]:
    header, payload = packet[:20], packet[20:]
    out = []
    for offset in range(0, len(payload), size):
        piece = payload[offset : offset + size]
        more = offset + size < len(payload)
        h = bytearray(header)
        struct.pack_into(">HH", h, 2, 20 + len(piece), 0)
        struct.pack_into(">H", h, 4, 77)
        struct.pack_into(">H", h, 6, (0x2000 if more else 0) | offset // 8)
        out.append(bytes(h) + piece)
    return out


def fragments_v6(packet: bytes, size: int) -> list[bytes]:
    header, payload = packet[:40], packet[40:]
    out = []
    for offset in range(0, len(payload), size):
        piece = payload[offset : offset + size]
        more = offset + size < len(payload)
        h = bytearray(header)
        next_header = h[6]
        h[6] = 44
        struct.pack_into(">H", h, 4, 8 + len(piece))
        frag = struct.pack(">BBHI", next_header, 0, offset | int(more), 99)
        out.append(bytes(h) + frag + piece)
    return out


@settings(max_examples=100, deadline=None)
@given(
    payload=st.binary(min_size=1, max_size=3000), size=st.sampled_from([8, 16, 64, 512]), order=st.randoms()
)
def test_any_fragment_order_gives_back_the_datagram(payload, size, order):
    for packet, split in (
        (ip_packet("10.0.0.1", "10.0.0.2", 17, udp_datagram(1, 2, payload)), fragments_v4),
        (ip_packet("2001:db8::1", "2001:db8::2", 17, udp_datagram(1, 2, payload)), fragments_v6),
    ):
        pieces = split(packet, size)
        order.shuffle(pieces)
        d = Defragmenter()
        results = [d.add(1.0, p) for p in pieces]
        # IPv4 comes back with the fragments' id (77) and neither flags nor offset.
        expected = packet if packet[0] >> 4 == 6 else packet[:4] + struct.pack(">HH", 77, 0) + packet[8:]
        assert [r for r in results if r is not None] == [expected]


def test_incomplete_datagrams_expire_and_the_table_is_bounded():
    packet = ip_packet("10.0.0.1", "10.0.0.2", 17, udp_datagram(1, 2, b"x" * 100))
    d = Defragmenter(max_datagrams=2, timeout=5)
    first = fragments_v4(packet, 16)[0]
    for i in range(3):
        d.add(float(i), first[:15] + bytes([i]) + first[16:])  # three different sources
    assert d.stats.dropped_full == 1
    d.add(100.0, first)
    assert d.stats.expired == 2


def test_overlapping_fragments_are_counted_and_the_first_copy_wins():
    packet = ip_packet("10.0.0.1", "10.0.0.2", 17, udp_datagram(1, 2, b"A" * 48))
    pieces = fragments_v4(packet, 16)
    evil = bytearray(pieces[1])
    evil[20:] = b"B" * (len(evil) - 20)
    d = Defragmenter()
    d.add(0, pieces[1])
    d.add(0, bytes(evil))
    result = [d.add(0, p) for p in (pieces[0], *pieces[2:])][-1]
    assert d.stats.overlaps == 1 and b"B" not in result


def test_fragmented_pool_traffic_is_analysed(write_capture, analyse):
    line = (
        json.dumps(
            {
                "id": 1,
                "method": "submit",
                "params": {"id": "s", "job_id": "j", "nonce": "01", "result": "ff" * 40},
            }
        ).encode()
        + b"\n"
    )
    packet = ip_packet("10.0.0.1", "10.0.0.2", 6, tcp_segment(40000, 3333, 1, 0, 0x18, line))
    frames = [(1.0 + i / 100, ethernet(f)) for i, f in enumerate(fragments_v4(packet, 64))]
    events = analyse(write_capture(frames[::-1]))
    assert [e["src_ip"] for e in events if e["event_type"] == "verdict"] == ["10.0.0.1"]
    capture = events[-1]["stats"]["capture"]
    assert capture["ip_fragments"] == len(frames) and capture["ip_reassembled"] == 1
