"""Crafted packets of the shapes that once made reassembly cost more than linear time or memory (issue
14), for the regression tests and benchmarks/bench_hostile.py. Each function takes a size `n` (the unit
is in its docstring) and yields (timestamp, frame) pairs, so that large captures are written as they are
made; doubling `n` doubles the capture.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator

from minerwatch.capture.writer import TCP_ACK, TCP_SYN, ethernet, frame, ip_packet, tcp_segment, udp_datagram

Frames = Iterator[tuple[float, bytes]]
T0 = 1_700_000_000.0
_V4 = ("10.9.0.1", "10.9.0.2")
_V6 = ("2001:db8::1", "2001:db8::2")
_V4_PACKED = b"".join(ipaddress.ip_address(a).packed for a in _V4)
FRAGMENTS_PER_DATAGRAM = 8000  # 8-byte fragments: the most a 65,535-byte datagram allows is 8,189


def v4_fragment(ident: int, offset: int, more: bool, payload: bytes, ihl: int = 5) -> bytes:
    """An IPv4 fragment (UDP) of datagram `ident` at byte `offset` (a multiple of 8), with `ihl` words
    of header."""
    flags_offset = (0x2000 if more else 0) | offset // 8
    header = struct.pack(">BBHHHBBH", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, flags_offset, 64, 17, 0)
    return header + _V4_PACKED + bytes(ihl * 4 - 20) + payload


def v6_fragment(ident: int, offset: int, more: bool, payload: bytes, next_header: int = 17) -> bytes:
    """An IPv6 packet with one fragment header, of datagram `ident` at byte `offset`."""
    fragment = struct.pack(">BBHI", next_header, 0, offset | more, ident)
    return ip_packet(*_V6, 44, fragment + payload)


def nested_ipv6_fragments(n: int, depth: int = 8000) -> Frames:
    """`n` packets of about 64 KiB, each `depth` atomic fragment headers nested one in the other."""
    headers = [struct.pack(">BBHI", 44, 0, 0, 7)] * (depth - 1) + [struct.pack(">BBHI", 17, 0, 0, 7)]
    packet = ethernet(ip_packet(*_V6, 44, b"".join(headers) + udp_datagram(1, 2, b"x")), ipv6=True)
    for i in range(n):
        yield T0 + i, packet


def reversed_ipv4_fragments(n: int) -> Frames:
    """`n` 8-byte IPv4 fragments, last first, making datagrams of FRAGMENTS_PER_DATAGRAM fragments."""
    for first in range(0, n, FRAGMENTS_PER_DATAGRAM):
        count = min(FRAGMENTS_PER_DATAGRAM, n - first)
        for k in reversed(range(count)):
            packet = v4_fragment(first // FRAGMENTS_PER_DATAGRAM, k * 8, k < count - 1, bytes(8))
            yield T0 + (first + count - k) / 1e6, ethernet(packet)


def overlapping_ipv4_fragments(n: int, size: int = 1480) -> Frames:
    """`n` fragments of `size` bytes at 8-byte steps, each overlapping the ones before; no datagram ever
    completes (all say more fragments follow)."""
    for i in range(n):
        ident, k = divmod(i, FRAGMENTS_PER_DATAGRAM)
        yield T0 + i / 1e6, ethernet(v4_fragment(ident, k * 8, True, bytes(size)))


def out_of_order_flows(n: int, pending: int = 960 << 10, mss: int = 1460) -> Frames:
    """`n` TCP connections, their packets interleaved, whose first data byte never arrives: `pending`
    bytes (a little under what one direction may hold) wait behind each hole to the capture's end."""
    clients = [f"10.{8 + flow // 65536}.{flow // 256 % 256}.{flow % 256}" for flow in range(n)]
    segments = [tcp_segment(40000, 80, 1000, 0, TCP_SYN)]
    segments += [
        tcp_segment(40000, 80, 1002 + at, 1, TCP_ACK, bytes(min(mss, pending - at)))
        for at in range(0, pending, mss)
    ]
    for i, segment in enumerate(segments):
        for flow, client in enumerate(clients):
            yield T0 + (i * n + flow) / 1e6, frame(client, _V4[1], 6, segment)


def tiny_tcp_segments(n: int, reverse: bool = False) -> Frames:
    """One TCP connection with a hole at its first byte, then `n` 1-byte segments after it (in order,
    or last first)."""
    order = range(n, 0, -1) if reverse else range(1, n + 1)
    yield T0, frame(*_V4, 6, tcp_segment(40000, 80, 1000, 0, TCP_SYN))
    for i, at in enumerate(order):
        yield T0 + (i + 1) / 1e6, frame(*_V4, 6, tcp_segment(40000, 80, 1001 + at, 1, TCP_ACK, b"a"))


def oversized_fragments(n: int) -> Frames:
    """`n` datagrams of two IPv4 fragments with 60-byte headers whose payloads add up to 65,535 bytes:
    the reassembled packet would not fit an IP total length."""
    for ident in range(n):
        for offset, size in ((0, 32768), (32768, 32767)):
            packet = v4_fragment(ident, offset, not offset, bytes(size), ihl=15)
            yield T0 + ident + offset / 1e6, ethernet(packet)
