"""The payload bytes of a recorded connection, per direction, for tests that feed parsers real traffic."""

from __future__ import annotations

from pathlib import Path

import pytest


def streams(path: Path, server_port: int) -> dict[bool, bytes]:
    """Both directions' payload bytes (True: to the server) of a loopback recording's one connection to
    `server_port` (no loss or reordering on loopback, so segments are concatenated as captured)."""
    dpkt = pytest.importorskip("dpkt")
    out = {True: b"", False: b""}
    with path.open("rb") as f:
        for _, buf in dpkt.pcapng.Reader(f):
            tcp = dpkt.ethernet.Ethernet(buf).data.data
            if tcp.data and server_port in (tcp.sport, tcp.dport):
                out[tcp.dport == server_port] += bytes(tcp.data)
    return out


def segments(path: Path, server_port: int) -> list[list[tuple[bool, bytes]]]:
    """Each recorded connection to `server_port` as its payload-carrying segments in capture order,
    (to_server, payload), as the engine hands them to analysers (pcap or pcapng, Ethernet)."""
    dpkt = pytest.importorskip("dpkt")
    connections: dict[tuple[bytes, int], list[tuple[bool, bytes]]] = {}
    with path.open("rb") as f:
        for _, buf in dpkt.pcap.UniversalReader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            tcp = getattr(ip, "data", None)
            if not isinstance(tcp, dpkt.tcp.TCP) or not tcp.data or server_port not in (tcp.sport, tcp.dport):
                continue
            to_server = tcp.dport == server_port
            client = (ip.src, tcp.sport) if to_server else (ip.dst, tcp.dport)
            connections.setdefault(client, []).append((to_server, bytes(tcp.data)))
    return list(connections.values())
