"""An independent computation of the flow statistics the engine keeps incrementally: dpkt decodes the
capture, every payload segment is kept, and the figures come from whole lists (statistics module), so
that a mistake in the incremental arithmetic or in the engine's decoding cannot hide in both."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import dpkt

BURST_GAP = 1.0


@dataclass
class RefFlow:
    client: tuple[bytes, int]
    server: tuple[bytes, int]
    first_ts: float
    packets: int = 0
    first_payload: tuple[bool, bytes] | None = None  # direction and bytes of the first payload
    segments: list[tuple[float, bool, int, bool]] = field(default_factory=list)  # ts, to_server, size, psh


def _tcp(linktype: int, buf: bytes):
    if linktype == dpkt.pcap.DLT_EN10MB:
        ip = dpkt.ethernet.Ethernet(buf).data
    elif linktype in (dpkt.pcap.DLT_NULL, dpkt.pcap.DLT_LOOP):
        ip = dpkt.loopback.Loopback(buf).data
    elif linktype == dpkt.pcap.DLT_LINUX_SLL:
        ip = dpkt.sll.SLL(buf).data
    else:
        ip = dpkt.ip.IP(buf)
    if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6) or not isinstance(ip.data, dpkt.tcp.TCP):
        return None, None
    if isinstance(ip, dpkt.ip.IP) and ip.len < ip.hl * 4:
        return None, None  # the engine counts it as a bad IP header (TSO captures write length 0)
    return ip, ip.data


def reference_flows(path: Path) -> dict[tuple, RefFlow]:
    """Every TCP flow of a capture, keyed by (client address, client port, server address, server port)."""
    flows: dict[frozenset, RefFlow] = {}
    with path.open("rb") as f:
        reader = dpkt.pcapng.Reader(f) if path.suffix == ".pcapng" else dpkt.pcap.Reader(f)
        for ts, buf in reader:
            ip, tcp = _tcp(reader.datalink(), buf)
            if tcp is None:
                continue
            src, dst = (ip.src, tcp.sport), (ip.dst, tcp.dport)
            key = frozenset((src, dst))
            flow = flows.get(key)
            if flow is None:
                synack = tcp.flags & dpkt.tcp.TH_SYN and tcp.flags & dpkt.tcp.TH_ACK
                flow = flows[key] = RefFlow(dst, src, ts) if synack else RefFlow(src, dst, ts)
            flow.packets += 1
            if tcp.data:
                if flow.first_payload is None:
                    flow.first_payload = (src == flow.client, bytes(tcp.data))
                push = bool(tcp.flags & dpkt.tcp.TH_PUSH)
                flow.segments.append((ts, src == flow.client, len(tcp.data), push))
    return {(*f.client, *f.server): f for f in flows.values()}


def summary(values: list[float]) -> tuple[int, float, float, float, float]:
    if not values:
        return (0, 0.0, 0.0, 0.0, 0.0)
    return (len(values), statistics.fmean(values), statistics.pstdev(values), min(values), max(values))


def expected(flow: RefFlow) -> dict[str, object]:
    """The figures FlowStats should hold at this flow's end."""
    out: dict[str, object] = {"packets": flow.packets}
    burst_starts: dict[bool, list[float]] = {True: [], False: []}
    last = None
    for ts, to_server, _, _ in flow.segments:
        if last is None or ts - last >= BURST_GAP:
            burst_starts[to_server].append(ts)
        last = ts
    for to_server, name in ((True, "to_server"), (False, "to_client")):
        mine = [s for s in flow.segments if s[1] == to_server]
        times = [s[0] for s in mine]
        starts = burst_starts[to_server]
        out[name] = {
            "payload_bytes": sum(s[2] for s in mine),
            "pushes": sum(s[3] for s in mine),
            "sizes": summary([s[2] for s in mine]),
            "gaps": summary([b - a for a, b in itertools.pairwise(times)]),
            "bursts": len(starts),
            "burst_gaps": summary([b - a for a, b in itertools.pairwise(starts)]),
        }
    out["first_sizes"] = tuple(s[2] if s[1] else -s[2] for s in flow.segments[:8])
    return out
