"""IP fragments are reassembled (v4 and v6), bounded, and overlaps counted."""

from __future__ import annotations

import json
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.capture.hostile import (
    nested_ipv6_fragments,
    overlapping_ipv4_fragments,
    oversized_fragments,
    reversed_ipv4_fragments,
    v4_fragment,
    v6_fragment,
)
from minerwatch.capture.writer import ethernet, ip_packet, tcp_segment, udp_datagram
from minerwatch.flows.defrag import Defragmenter
from work import lines_executed, peak_bytes


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


def defrag_model(fragments: list[tuple[int, bool, bytes]]) -> list[bytes]:
    """The payloads a defragmenter must give back, byte by byte: each position's first copy; a datagram
    is done once its last fragment, its first and every byte up to its end are in (it then starts over);
    a fragment at offset 0 with no more to come is a datagram of its own."""
    done, first, total = [], {}, None
    for offset, more, data in fragments:
        if offset == 0 and not more:
            done.append(data)
            continue
        for i, byte in enumerate(data):
            first.setdefault(offset + i, byte)
        total = total if more else offset + len(data)
        if total is not None and 0 in first and all(p in first for p in range(total)):
            done.append(bytes(first[p] for p in range(total)))
            first, total = {}, None
    return done


@settings(max_examples=300, deadline=None)
@given(
    fragments=st.lists(
        st.tuples(
            st.integers(0, 200).map(lambda k: 8 * k), st.booleans(), st.binary(min_size=1, max_size=80)
        ),
        max_size=40,
    ),
    order=st.sampled_from(["as drawn", "reversed"]),
)
def test_overlapping_and_reversed_fragments_match_the_model(fragments, order):
    if order == "reversed":
        fragments = fragments[::-1]
    d = Defragmenter()
    results = [d.add(0.0, v4_fragment(9, offset, more, data)) for offset, more, data in fragments]
    assert [r[20:] for r in results if r is not None] == defrag_model(fragments)
    assert d.used == sum(p.cost for p in d._partials.values())


def test_fragments_arriving_last_first_cost_linear_work():
    def run(n: int) -> None:
        d = Defragmenter()
        assert [p for _, f in reversed_ipv4_fragments(n) if (p := d.add(0.0, f[14:]))] != []

    # Quadratic before: every fragment was compared with all held ones and the whole datagram re-sorted.
    assert lines_executed(lambda: run(8000)) < 2.2 * lines_executed(lambda: run(4000))


def test_overlapping_fragments_hold_one_buffer_per_datagram():
    frames = list(overlapping_ipv4_fragments(8000))  # 8000 x 1480 bytes, each overlapping the previous ones

    def run() -> None:
        d = Defragmenter()
        for _, f in frames:
            d.add(0.0, f[14:])
        assert d.stats.overlaps == 7999 and len(d._partials) == 1

    # One 65,535-byte buffer and its coverage, where all 11.6 MB of fragments were kept before.
    assert peak_bytes(run) < 256 << 10


def test_the_memcap_drops_the_oldest_datagrams_and_counts_them():
    d = Defragmenter(memcap=1 << 20)
    peak = 0
    for _, f in overlapping_ipv4_fragments(8000 * 40, size=8):  # 40 datagrams of 64 KiB
        d.add(0.0, f[14:])
        peak = max(peak, d.used)
    assert peak <= 1 << 20 and d.stats.dropped_memcap > 0
    assert d.used == sum(p.cost for p in d._partials.values())


def test_nested_ipv6_fragment_headers_are_invalid_not_unwrapped():
    d = Defragmenter()
    (_, packet), *_ = nested_ipv6_fragments(1)
    assert d.add(0.0, packet[14:]) is None and d.stats.invalid == 1
    # One atomic fragment is a datagram of its own, whatever is in progress under its id.
    d.add(0.0, v6_fragment(7, 8, True, b"y" * 8))
    whole = d.add(0.0, v6_fragment(7, 0, False, udp_datagram(1, 2, b"x")))
    assert whole == ip_packet("2001:db8::1", "2001:db8::2", 17, udp_datagram(1, 2, b"x"))


def test_fragments_that_would_make_too_large_a_datagram_are_invalid():
    d = Defragmenter()
    for _, f in oversized_fragments(1):  # 60-byte headers, payloads adding up to 65,535
        assert d.add(0.0, f[14:]) is None
    # The same payload size is too large behind the first fragment's 60-byte header even when the
    # last fragment's own header is 20 bytes.
    assert d.add(0.0, v4_fragment(5, 0, True, bytes(32768), ihl=15)) is None
    assert d.add(0.0, v4_fragment(5, 32768, False, bytes(32727))) is None
    assert d.stats.invalid == 2 and d.stats.completed == 0
