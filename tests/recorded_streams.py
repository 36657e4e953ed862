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
