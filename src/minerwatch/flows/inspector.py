"""The engine's sink: decides what each flow deserves, reassembles TCP, and feeds protocol sessions.

Inspection policy, like Suricata's stream depth and bypass: a TCP flow is looked at until its first bytes
show no protocol we analyse, or until `stream_depth` bytes pass without a mining message; then it is
bypassed (the engine only counts it). A flow that speaks a pool protocol stays inspected to its end, since
every share it carries is evidence. UDP is bypassed (no UDP analyser is registered yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from minerwatch.decode import Flow
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.reassembly import StreamReassembler
from minerwatch.protocols.mining import MiningMessage, PoolSession

TCP_FIN, TCP_SYN, TCP_RST = 0x01, 0x02, 0x04


class MiningObserver(Protocol):
    """What the inspector reports to detection (see detectors/pool_behaviour.py)."""

    def on_mining(self, flow: FlowInfo, ts: float, to_server: bool, message: MiningMessage) -> None: ...

    def on_flow_end(self, session: TcpSession, reason: str) -> None: ...


@dataclass
class InspectorStats:
    flows_bypassed: int = 0
    reassembly_gaps: int = 0
    gap_bytes: int = 0
    retransmitted_bytes: int = 0
    overlong_lines: int = 0
    invalid_json_lines: int = 0
    dropped_requests: int = 0


def looks_like_json(data: bytes) -> bool:
    """First bytes of a JSON-lines stream, also when picked up mid-line."""
    head = data[:4096].lstrip()
    return head[:1] in (b"{", b"[") or b"\n{" in head


@dataclass
class TcpSession:
    """Per-connection state kept in Flow.state while the flow is inspected."""

    info: FlowInfo
    streams: dict[bool, StreamReassembler] = field(
        default_factory=lambda: {True: StreamReassembler(), False: StreamReassembler()}
    )
    pool: PoolSession | None = None
    classified: bool = False
    first_ts: float = 0.0
    last_ts: float = 0.0


class Inspector:
    """Implements the engine's sink interface (flow_start, tcp_segment, udp_datagram, flow_end)."""

    def __init__(self, observer: MiningObserver, stream_depth: int = 256 * 1024) -> None:
        self.observer = observer
        self.stream_depth = stream_depth
        self.stats = InspectorStats()

    def flow_start(self, flow: Flow) -> None:
        if flow.proto != 6:
            flow.inspect = False
            self.stats.flows_bypassed += 1

    def udp_datagram(self, flow: Flow, ts: float, to_server: bool, payload: bytes) -> None:
        """No UDP analyser yet: UDP flows are bypassed at their start."""

    def tcp_segment(
        self, flow: Flow, ts: float, to_server: bool, seq: int, flags: int, payload: bytes
    ) -> None:
        session: TcpSession | None = flow.state
        if session is None:
            session = flow.state = TcpSession(FlowInfo(flow), first_ts=ts)
        session.last_ts = ts
        stream = session.streams[to_server]
        if flags & TCP_SYN:
            stream.syn(seq)
        if payload:
            data, gap = stream.segment(seq, payload)
            if data:
                self._data(flow, session, to_server, data, gap, ts)

    def _data(
        self, flow: Flow, session: TcpSession, to_server: bool, data: bytes, gap: bool, ts: float
    ) -> None:
        if not session.classified:
            session.classified = True
            if looks_like_json(data):
                session.pool = PoolSession()
            else:
                self._bypass(flow)
                return
        pool = session.pool
        assert pool is not None
        if gap:
            pool.gap(to_server)
        for direction, message in pool.feed(to_server, data):
            self.observer.on_mining(session.info, ts, direction, message)
        if not pool.mining_messages and flow.bytes_toserver + flow.bytes_toclient > self.stream_depth:
            self._bypass(flow)

    def _bypass(self, flow: Flow) -> None:
        flow.inspect = False
        self.stats.flows_bypassed += 1
        session: TcpSession | None = flow.state
        if session is not None:
            self._account(session)
            flow.state = None

    def flow_end(self, flow: Flow, reason: str) -> None:
        session: TcpSession | None = flow.state
        if session is None:
            return
        flow.state = None
        if session.pool is not None:
            for to_server, stream in session.streams.items():
                data, gap = stream.flush()
                if data:
                    if gap:
                        session.pool.gap(to_server)
                    for direction, message in session.pool.feed(to_server, data):
                        self.observer.on_mining(session.info, session.last_ts, direction, message)
        self._account(session)
        if session.pool is not None and session.pool.mining_messages:
            self.observer.on_flow_end(session, reason)

    def _account(self, session: TcpSession) -> None:
        for stream in session.streams.values():
            self.stats.reassembly_gaps += stream.stats.gaps
            self.stats.gap_bytes += stream.stats.gap_bytes
            self.stats.retransmitted_bytes += stream.stats.retransmitted_bytes
        if session.pool is not None:
            for framer in session.pool.framers.values():
                self.stats.overlong_lines += framer.stats.overlong_lines
                self.stats.invalid_json_lines += framer.stats.invalid_json
            self.stats.dropped_requests += session.pool.dropped_requests
