"""Write pcap files and craft packets: the project's own fixtures, sample capture and benchmark input.

Checksums are left zero (analysers, tshark and ndpiReader included, do not verify them by default).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
_MAC_A, _MAC_B = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"


class PcapWriter:
    """Classic little-endian pcap, microsecond (or nanosecond) timestamps."""

    def __init__(self, out: BinaryIO, linktype: int = 1, nanosecond: bool = False, snaplen: int = 262144):
        self._out = out
        self._scale = 1_000_000_000 if nanosecond else 1_000_000
        magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
        out.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))

    def write(self, ts: float, frame: bytes, wirelen: int | None = None) -> None:
        sec = int(ts)
        frac = round((ts - sec) * self._scale)
        if frac >= self._scale:
            sec, frac = sec + 1, frac - self._scale
        self._out.write(struct.pack("<IIII", sec, frac, len(frame), wirelen or len(frame)))
        self._out.write(frame)

    def write_all(self, packets: Iterable[tuple[float, bytes]]) -> None:
        for ts, frame in packets:
            self.write(ts, frame)


class PcapngWriter:
    """pcapng with one section; interfaces are added with `interface()` and referred to by index."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._resolution: list[int] = []
        self._block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))

    def _block(self, block_type: int, body: bytes) -> None:
        body += b"\0" * (-len(body) % 4)
        length = len(body) + 12
        self._out.write(struct.pack("<II", block_type, length) + body + struct.pack("<I", length))

    def interface(self, linktype: int = 1, tsresol: int = 6) -> int:
        """Add an interface; `tsresol` is if_tsresol (6: microseconds, 9: nanoseconds, 0x80|n: 2^-n s)."""
        options = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
        self._block(1, struct.pack("<HHI", linktype, 0, 262144) + options)
        self._resolution.append(2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol)
        return len(self._resolution) - 1

    def write(self, ts: float, frame: bytes, interface: int = 0) -> None:
        """An enhanced packet block."""
        ticks = round(ts * self._resolution[interface])
        header = struct.pack("<IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame))
        self._block(6, header + frame)

    def write_simple(self, frame: bytes) -> None:
        """A simple packet block (interface 0, no timestamp)."""
        self._block(3, struct.pack("<I", len(frame)) + frame)


def ethernet(payload: bytes, ipv6: bool = False, vlans: tuple[int, ...] = ()) -> bytes:
    tags = b"".join(struct.pack(">HH", 0x8100, vid) for vid in vlans)
    return _MAC_B + _MAC_A + tags + struct.pack(">H", 0x86DD if ipv6 else 0x0800) + payload


def ip_packet(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64, ident: int = 0) -> bytes:
    """An IPv4 or IPv6 header (by the address family of `src`) in front of `payload`."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        header = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(payload), ident, 0x4000, ttl, proto, 0)
        return header + s.packed + d.packed + payload
    return struct.pack(">IHBB", 0x60000000, len(payload), proto, ttl) + s.packed + d.packed + payload


def tcp_segment(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    return (
        struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0)
        + payload
    )


def udp_datagram(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def frame(src: str, dst: str, proto: int, l4: bytes) -> bytes:
    """An Ethernet frame carrying `l4` (a TCP segment or UDP datagram) between two addresses."""
    return ethernet(ip_packet(src, dst, proto, l4), ipv6=":" in src)


@dataclass
class TcpConversation:
    """Builds the frames of one TCP connection with consistent sequence numbers, as a capture would hold.

    Call `open()`, then `send()` from either side, then `close()`; `packets` holds (timestamp, frame).
    """

    client: str
    client_port: int
    server: str
    server_port: int
    ts: float = 1_700_000_000.0
    client_isn: int = 1000
    server_isn: int = 5000
    mss: int = 1460

    def __post_init__(self) -> None:
        self.packets: list[tuple[float, bytes]] = []
        self._seq = {True: self.client_isn, False: self.server_isn}

    def _emit(self, from_client: bool, flags: int, payload: bytes = b"", dt: float = 0.0001) -> None:
        self.ts += dt
        src, sport, dst, dport = (
            (self.client, self.client_port, self.server, self.server_port)
            if from_client
            else (self.server, self.server_port, self.client, self.client_port)
        )
        seg = tcp_segment(sport, dport, self._seq[from_client], self._seq[not from_client], flags, payload)
        self.packets.append((self.ts, frame(src, dst, 6, seg)))
        self._seq[from_client] += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)

    def open(self) -> TcpConversation:
        self._emit(True, TCP_SYN)
        self._emit(False, TCP_SYN | TCP_ACK)
        self._emit(True, TCP_ACK)
        return self

    def send(self, from_client: bool, data: bytes, dt: float = 0.01) -> TcpConversation:
        """Send `data` in MSS-sized segments, `dt` seconds after the previous packet."""
        for i in range(0, len(data), self.mss):
            self._emit(from_client, TCP_PSH | TCP_ACK, data[i : i + self.mss], dt if i == 0 else 0.0001)
        return self

    def close(self) -> TcpConversation:
        self._emit(True, TCP_FIN | TCP_ACK)
        self._emit(False, TCP_FIN | TCP_ACK)
        self._emit(True, TCP_ACK)
        return self


def dns_exchange(
    client: str, server: str, name: str, address: str, ts: float, txid: int
) -> list[tuple[float, bytes]]:
    """A DNS query for `name` (A record) and its answer `address`, over UDP, 20 ms apart."""
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    question = qname + struct.pack(">HH", 1, 1)
    query = struct.pack(">HHHHHH", txid, 0x0100, 1, 0, 0, 0) + question
    answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + ipaddress.ip_address(address).packed
    response = struct.pack(">HHHHHH", txid, 0x8180, 1, 1, 0, 0) + question + answer
    port = 10000 + txid % 50000
    return [
        (ts, frame(client, server, 17, udp_datagram(port, 53, query))),
        (ts + 0.02, frame(server, client, 17, udp_datagram(53, port, response))),
    ]
