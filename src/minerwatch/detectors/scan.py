"""Scan detector: one source probing many ports of one host (port scan) or one port of many hosts (sweep).

A probe is a TCP flow that opened with a SYN, carried no payload either way (every segment no longer than a
TCP header, 60 bytes) and few client packets: a SYN answered by a RST or by nothing (a SYN scan, or a closed
port), or a handshake closed at once (a connect scan of an open port). Clients that use the connections
they open send data on them, so ordinary traffic, however busy, does not count. Flows are seen when they
end (a flow-end observer: one call and a few comparisons per ended flow).

Per (source, host) the distinct ports probed, and per (source, port) the distinct hosts, are counted from
the first probe for `window` seconds: in a set while under the threshold, then (once reported) in a
counter alone. At most `max_keys` such counts are kept: the least recently updated is forgotten first
(`keys_forgotten`). A scan is reported once per key and window: a `scan` event and, for the kill chain, a
reconnaissance step about each host reached (a sweep: the first `threshold` of them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from minerwatch.correlate.observations import StageObservation
from minerwatch.correlate.stages import Stage, Technique
from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts
from minerwatch.detectors.windows import WindowTable
from minerwatch.events import Event, EventFactory, iso_timestamp
from minerwatch.flows.analyzers import FlowEndObserver
from minerwatch.flows.info import ip_text

TCP_SYN = 0x02
MAX_HEADER = 60  # bytes of the longest TCP header: a segment no longer carries no payload
MAX_PROBE_PACKETS = 4  # client packets of a probe: SYN, ACK, RST/FIN and one retransmission
FLOW_IDS = 8  # flow ids listed in a scan event
LEVEL = 0.3  # how bad a scan is for the kill chain: it only finds doors
CONFIDENCE = 0.8  # how sure: many distinct targets without a byte of payload is what a scan is


@dataclass(frozen=True)
class ScanConfig:
    """Thresholds (`analyze --scan-ports/--scan-hosts/--scan-window`) and the memory bound."""

    ports: int = 20  # distinct ports of one host probed by one source ...
    hosts: int = 20  # ... or distinct hosts probed on one port ...
    window: float = 60.0  # ... within this many seconds of the first probe
    max_keys: int = 100_000  # (source, host) and (source, port) counts kept at once


@dataclass
class _Count:
    """Distinct targets of one (kind, source, fixed part) key within one window."""

    start: float
    last: float
    targets: set[Any] | None = field(default_factory=set)  # None once reported: `count` alone goes on
    count: int = 0
    probes: int = 0
    answered: int = 0  # probes the target answered with a SYN-ACK (an open port)
    flow_ids: list[int] = field(default_factory=list)


def is_probe(flow: Flow) -> bool:
    """A TCP flow that opened with a SYN and carried no more than headers: what scans are counted from."""
    sent = flow.pkts_toserver
    return not (
        flow.proto != 6
        or sent > MAX_PROBE_PACKETS
        or not flow.tcp_flags & TCP_SYN
        or flow.bytes_toserver > MAX_HEADER * sent
        or flow.bytes_toclient > MAX_HEADER * flow.pkts_toclient
    )


class ScanDetector:
    def __init__(
        self,
        events: EventFactory,
        emit: Callable[[Event], None],
        observe: Callable[[StageObservation], None],
        config: ScanConfig,
    ) -> None:
        self.events = events
        self.emit = emit
        self.observe = observe
        self.config = config
        self.stats = {"probes": 0, "scans": 0, "keys_forgotten": 0}
        self.counts: WindowTable[tuple[str, bytes, Any], _Count] = WindowTable(
            config.window, config.max_keys, lambda ts: _Count(ts, ts), self._key_forgotten
        )

    def _key_forgotten(self) -> None:
        self.stats["keys_forgotten"] += 1

    def probe(self, flow: Flow) -> None:
        """Count a probe (with workers, only probes are sent to the correlator's detector)."""
        self.stats["probes"] += 1
        self._count(
            ("portscan", flow.client_addr, flow.server_addr), flow.server_port, flow, self.config.ports
        )
        self._count(("sweep", flow.client_addr, flow.server_port), flow.server_addr, flow, self.config.hosts)

    def _count(self, key: tuple[str, bytes, Any], target: Any, flow: Flow, threshold: int) -> None:
        ts = flow.first_ts
        count = self.counts.current(key, ts)
        count.last = max(count.last, flow.last_ts)
        count.probes += 1
        count.answered += flow.isn_toclient is not None
        if count.targets is None:  # reported: targets are no longer told apart, probes are counted
            count.count += 1
            return
        if target in count.targets:
            return
        count.targets.add(target)
        count.count += 1
        if len(count.flow_ids) < FLOW_IDS:
            count.flow_ids.append(flow.flow_id)
        if count.count >= threshold:
            self._report(key, count)
            count.targets = None

    def _report(self, key: tuple[str, bytes, Any], count: _Count) -> None:
        kind, source, fixed = key
        targets = sorted(count.targets or ())
        scanner = ip_text(source)
        if kind == "portscan":
            hosts, ports = [ip_text(fixed)], targets
        else:
            hosts, ports = [ip_text(t) for t in targets], [fixed]
        body = {
            "kind": kind,
            "scanner": scanner,
            "hosts": hosts,
            "ports": ports,
            "distinct": count.count,
            "window": self.config.window,
            "probes": count.probes,
            "answered": count.answered,
            "start": iso_timestamp(count.start),
            "end": iso_timestamp(count.last),
            "flow_ids": count.flow_ids,
        }
        event = self.events.make("scan", count.last, body, host=scanner)
        if kind == "portscan":
            event["dest_ip"] = hosts[0]
        else:
            event["dest_port"] = fixed
        self.stats["scans"] += 1
        self.emit(event)
        for host in hosts:
            self.observe(
                StageObservation(
                    ts=count.last,
                    since=count.start,
                    host=host,
                    peer=scanner,
                    stage=Stage.RECONNAISSANCE,
                    technique=Technique.ACTIVE_SCANNING,
                    level=LEVEL,
                    confidence=CONFIDENCE,
                    event_id=event["event_id"],
                    label=f"{kind} from {scanner}",
                )
            )


def setup(ctx: DetectorContext, options: ScanConfig) -> DetectorParts:
    detector = ctx.host_state(  # scans span a scanner's flows to many hosts
        "scan", lambda: ScanDetector(ctx.events, ctx.emit, ctx.incidents.observe, options)
    )

    def flow_ended(flow: Flow, reason: str) -> None:
        if is_probe(flow):  # in the flow's worker: only probes reach the correlator's detector
            detector.probe(flow)

    return DetectorParts(flow_end_observers=[FlowEndObserver(flow_ended)], stats=lambda: dict(detector.stats))


DETECTOR = Detector("scan", ScanConfig, setup)
