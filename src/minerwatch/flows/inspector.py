"""The engine's sink: decides what each flow deserves, reassembles TCP, and feeds application analysers.

Inspection policy, like Suricata's stream depth and bypass: a flow is looked at while at least one analyser
wants its bytes (see flows/analyzers.py); then it is bypassed and the engine only counts it. An analyser
that has found what it looks for (a pool protocol) keeps the flow inspected to its end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass

from minerwatch.decode import Flow, GateConfig, HttpGate
from minerwatch.decode._httpgate import BYPASS, CONSUMED
from minerwatch.flows import defrag, reassembly
from minerwatch.flows.analyzers import (
    DatagramAnalyzer,
    DatagramFactory,
    ExpectedFlows,
    FlowEndObserver,
    FlowStartObserver,
    StreamAnalyzer,
    StreamFactory,
)
from minerwatch.flows.defrag import Defragmenter
from minerwatch.flows.http import HttpStreamAnalyzer
from minerwatch.flows.http_inspection import HttpInspection
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import KINDS, Opening, opening
from minerwatch.flows.reassembly import MASK, ReassemblyBudget, StreamReassembler

TCP_SYN = 0x02


@dataclass
class InspectorStats:
    flows_bypassed: int = 0
    reassembly_gaps: int = 0
    gap_bytes: int = 0
    retransmitted_bytes: int = 0
    skipped_bytes: int = 0
    flows_evicted_in_analysis: int = 0  # a full flow table ended them while an analyser still read them


@dataclass
class TcpSession:
    """Per-connection state kept in Flow.state while the flow is inspected."""

    info: FlowInfo
    streams: dict[bool, StreamReassembler]  # by direction (True: to the server)
    analyzers: list[StreamAnalyzer] | None = None  # None until the first payload has been classified
    last_ts: float = 0.0


@dataclass(slots=True)
class GatedHttp:
    """Flow.state while the compiled HTTP gate frames the connection (Flow.gate): the analyser that takes
    over when the gate hands the connection to Python."""

    info: FlowInfo
    analyzer: HttpStreamAnalyzer


@dataclass
class UdpSession:
    info: FlowInfo
    analyzers: list[DatagramAnalyzer]
    last_ts: float = 0.0


class Inspector:
    """Implements the engine's sink interface (flow_start, tcp_segment, udp_datagram, flow_end)."""

    def __init__(
        self,
        stream_factories: Sequence[StreamFactory],
        datagram_factories: Sequence[DatagramFactory] = (),
        flow_end_observers: Sequence[FlowEndObserver] = (),
        flow_start_observers: Sequence[FlowStartObserver] = (),
        expected_flows: Sequence[ExpectedFlows] = (),
        http: HttpInspection | None = None,
        reassembly_memcap: int = reassembly.DEFAULT_MEMCAP,
        defrag_memcap: int = defrag.DEFAULT_MEMCAP,
    ) -> None:
        # The HTTP parse comes last: detectors that read a protocol over HTTP's port see the flow first.
        self.stream_factories = [*stream_factories, *([http.factory] if http and http.consumers else [])]
        # The factories worth asking about a flow, by what its stream opens with (flows/opening.py).
        self.factories_by_opening = {
            kind: [f for f in self.stream_factories if kind & f.openings] for kind in KINDS
        }
        self.expected_flows = list(expected_flows)
        self.datagram_factories = list(datagram_factories)
        self.flow_end_observers = [o.observe for o in flow_end_observers if o.ports is None]
        self.flow_end_observers_by_port: dict[int, list[Callable[[Flow, str], None]]] = {}
        for observer in flow_end_observers:
            for port in observer.ports or ():
                self.flow_end_observers_by_port.setdefault(port, []).append(observer.observe)
        self.flow_start_observers = list(flow_start_observers)
        self.stats = InspectorStats()
        self.reassembly = ReassemblyBudget(reassembly_memcap)  # shared by all TCP streams
        self.defrag = Defragmenter(memcap=defrag_memcap)
        self.http = http if http is not None and http.config is not None else None  # None: no gate

    def ip_fragment(self, ts: float, packet: bytes) -> bytes | None:
        return self.defrag.add(ts, packet)

    def flow_start(self, flow: Flow) -> None:
        for observer in self.flow_start_observers:
            observer(flow)
        if flow.proto == 6:
            return
        ports = (flow.server_port, flow.client_port)
        factories = [f for f in self.datagram_factories if f.ports is None or not f.ports.isdisjoint(ports)]
        if factories:
            info = FlowInfo(flow)
            if analyzers := [a for f in factories if (a := f.make(info))]:
                flow.state = UdpSession(info, analyzers)
                return
        self._bypass(flow)

    def udp_datagram(self, flow: Flow, ts: float, to_server: bool, payload: bytes) -> None:
        session: UdpSession = flow.state
        session.last_ts = ts
        for analyzer in session.analyzers:
            analyzer.datagram(to_server, payload, ts)

    def tcp_segment(
        self, flow: Flow, ts: float, to_server: bool, seq: int, flags: int, payload: bytes
    ) -> None:
        session: TcpSession | None = flow.state
        if session is None:
            info = FlowInfo(flow)
            if self._in_order_start(flow, to_server, seq, flags):
                self._first_payload(flow, info, ts, to_server, seq, flags, payload)
                return
            session = flow.state = self._tcp_session(info, None)
            for direction, isn in ((True, flow.isn_toserver), (False, flow.isn_toclient)):
                if isn is not None:
                    session.streams[direction].syn(isn)
        session.last_ts = ts
        stream = session.streams[to_server]
        if flags & TCP_SYN:  # data on a SYN (TCP Fast Open): it follows the SYN's own sequence number
            stream.syn(seq)
        data, gap = stream.segment(seq, payload)
        if data:
            self._data(flow, session, to_server, data, gap, ts)

    def _first_payload(
        self, flow: Flow, info: FlowInfo, ts: float, to_server: bool, seq: int, flags: int, payload: bytes
    ) -> None:
        """The usual first payload, in order: classify it as it is and hand it to the analysers that take
        it; reassembly state is made only for a flow some analyser still reads after it (most flows are
        bypassed here: nobody wants them, or, like TLS, their first segment held all that was wanted)."""
        analyzers = self._analyzers_for(info, payload, to_server)
        if not analyzers:
            self._bypass(flow)
            return
        if (http := self._gateable(analyzers, to_server)) is not None:
            self._gate(flow, info, http, ts, seq, flags, payload)
            return
        active, skip = self._feed(flow, analyzers, to_server, payload, False, ts)
        if not active:
            self._bypass(flow)
            return
        session = flow.state = self._tcp_session(info, active, ts)
        session.streams[to_server].syn((seq + len(payload) - 1) & MASK)  # reading resumes past `payload`
        if (isn := flow.isn_toclient if to_server else flow.isn_toserver) is not None:
            session.streams[not to_server].syn(isn)
        if skip:
            self._skip(flow, session, to_server, skip, ts)

    def _tcp_session(
        self, info: FlowInfo, analyzers: list[StreamAnalyzer] | None, last_ts: float = 0.0
    ) -> TcpSession:
        streams = {d: StreamReassembler(budget=self.reassembly) for d in (True, False)}
        return TcpSession(info, streams, analyzers, last_ts)

    def _analyzers_for(self, info: FlowInfo, first: bytes, to_server: bool) -> list[StreamAnalyzer]:
        """The analysers that take a flow whose stream starts with `first` (asked once per flow)."""
        port = info.server_port
        makers = [
            f.make for f in self.factories_by_opening[opening(first)] if f.ports is None or port in f.ports
        ]
        for expected in self.expected_flows:  # flows another announced (FTP data) come first, if pending
            if expected.pending:
                makers = [e.make for e in self.expected_flows if e.pending] + makers
                break
        return [a for make in makers if (a := make(info, first, to_server))]

    def engine_gate(self) -> tuple[GateConfig | None, tuple[Sized, ...]]:
        """What the engine needs to gate a connection itself when its first payload is the client's whole
        request line (Engine's first_request_gate and gate_blockers); no configuration: it does not. Only
        when the HTTP factory alone takes HTTP openings: then tcp_segment would gate such a flow just the
        same, with several Python calls per flow. Not while an expected flow is pending (its factory is
        asked about every flow)."""
        if self.http is None or self.factories_by_opening[Opening.HTTP] != [self.http.factory]:
            return None, ()
        return self.http.config, tuple(e.pending for e in self.expected_flows)

    def _gateable(self, analyzers: list[StreamAnalyzer], to_server: bool) -> HttpStreamAnalyzer | None:
        """The HTTP analyser of a connection that starts with a request and that no other analyser reads."""
        if self.http is None or not to_server or len(analyzers) != 1:
            return None
        return analyzers[0] if isinstance(analyzers[0], HttpStreamAnalyzer) else None

    def _gate(
        self,
        flow: Flow,
        info: FlowInfo,
        analyzer: HttpStreamAnalyzer,
        ts: float,
        seq: int,
        flags: int,
        data: bytes,
    ) -> None:
        """Let the compiled gate frame the connection from its first request on."""
        assert self.http is not None and self.http.config is not None  # _gateable said so
        gate = flow.gate = HttpGate(self.http.config, seq, flow.isn_toclient)
        flow.state = GatedHttp(info, analyzer)
        verdict = gate.feed(True, seq, flags, data)
        if verdict == BYPASS:
            self.gate_bypass(flow)
        elif verdict != CONSUMED:
            self.gate_handover(flow, ts)

    def gate_handover(self, flow: Flow, ts: float) -> None:
        """The gate met a message some detector may want: the Python side goes on from the message
        boundaries the gate gives, as if it had read the connection from the start."""
        gated = self._gated(flow)
        gate = flow.gate
        assert gate is not None  # the engine calls this for gated flows only
        flow.gate = None
        (client_seq, client), server = gate.pending()
        self._gate_ended(gate, handover=True)
        gated.analyzer.parsed = gate.parsed - len(client) - (len(server[1]) if server else 0)
        session = flow.state = self._tcp_session(gated.info, [gated.analyzer], ts)
        session.streams[True].syn((client_seq - 1) & MASK)
        if server is not None:
            session.streams[False].syn((server[0] - 1) & MASK)
        elif flow.isn_toclient is not None:
            session.streams[False].syn(flow.isn_toclient)
        for to_server, data in ((True, client), (False, server[1] if server else b"")):
            stream = session.streams[to_server]
            if data and flow.state is session:
                delivered, gap = stream.segment(stream.next_seq, data)  # type: ignore[arg-type]  # set by syn()
                self._data(flow, session, to_server, delivered, gap, ts)

    def gate_bypass(self, flow: Flow) -> None:
        """The gate read past the inspection depth: like a Python analyser past it, the flow is bypassed."""
        assert flow.gate is not None  # the engine calls this for gated flows only
        self._gate_ended(flow.gate, engine_only=flow.state is None)
        flow.gate = None
        self._bypass(flow)

    def _gated(self, flow: Flow) -> GatedHttp:
        """The Python side of a gated flow; made now if the engine gated the flow at its first payload."""
        if flow.state is None:
            info = FlowInfo(flow)
            assert self.http is not None  # only gated flows get here
            return GatedHttp(info, self.http.analyzer(info))
        gated: GatedHttp = flow.state
        return gated

    def _gate_ended(self, gate: HttpGate, handover: bool = False, engine_only: bool = False) -> None:
        """Add what the gate read to the counters the Python side keeps (once per gated flow);
        `engine_only`: the engine gated the flow and no analyser was ever made for it (which counts)."""
        assert self.http is not None  # only gated flows get here
        http = self.http.stats
        http.flows_gated += 1
        http.handovers += handover
        http.flows += engine_only
        http.messages += gate.messages_read(handover)
        http.bodies_skipped += gate.bodies_skipped
        self.stats.retransmitted_bytes += gate.retransmitted_bytes

    @staticmethod
    def _in_order_start(flow: Flow, to_server: bool, seq: int, flags: int) -> bool:
        """Whether a flow's first payload starts where its direction's stream starts (right after the
        SYN, or anywhere when the SYN was not seen), so that reassembly would deliver it unchanged."""
        if flags & TCP_SYN:
            return False
        isn = flow.isn_toserver if to_server else flow.isn_toclient
        return isn is None or seq == (isn + 1) & 0xFFFFFFFF

    def _data(
        self, flow: Flow, session: TcpSession, to_server: bool, data: bytes, gap: bool, ts: float
    ) -> None:
        if session.analyzers is None:
            session.analyzers = self._analyzers_for(session.info, data, to_server)
        session.analyzers, skip = self._feed(flow, session.analyzers, to_server, data, gap, ts)
        if not session.analyzers:
            self._end_session(flow, session, ts, "bypass")
            self._bypass(flow)
        elif skip:
            self._skip(flow, session, to_server, skip, ts)

    @staticmethod
    def _feed(
        flow: Flow, analyzers: list[StreamAnalyzer], to_server: bool, data: bytes, gap: bool, ts: float
    ) -> tuple[list[StreamAnalyzer], int]:
        """Hand `data` to the analysers and end those that want no more; returns the others and how many
        bytes of this direction none of them needs next (0: read on)."""
        skips = [analyzer.data(to_server, data, ts, gap) for analyzer in analyzers]
        seen = flow.bytes_toserver + flow.bytes_toclient
        active = [a for a in analyzers if a.wants_more(seen)]
        if len(active) < len(analyzers):
            for analyzer in analyzers:
                if analyzer not in active:
                    analyzer.end(flow, ts, "bypass")
            skips = [n for a, n in zip(analyzers, skips, strict=True) if a in active]
        return active, min(n or 0 for n in skips) if active and all(skips) else 0

    def _skip(self, flow: Flow, session: TcpSession, to_server: bool, n: int, ts: float) -> None:
        """No analyser wants the next `n` bytes of this direction: the hot path drops them."""
        stream = session.streams[to_server]
        resume = stream.skip(n)
        if to_server:
            flow.skip_toserver = resume
        else:
            flow.skip_toclient = resume
        if held := stream.drain():  # segments that had already arrived past the skipped range
            self._data(flow, session, to_server, held, False, ts)

    def _bypass(self, flow: Flow) -> None:
        flow.inspect = False
        flow.state = None
        self.stats.flows_bypassed += 1

    def flow_end(self, flow: Flow, reason: str) -> None:
        if flow.state is not None or flow.gate is not None:  # most flows ended bypassed: nothing to end
            self._end_inspection(flow, reason)
        for observer in self.flow_end_observers:
            observer(flow, reason)
        for observer in self.flow_end_observers_by_port.get(flow.server_port, ()):
            observer(flow, reason)

    def _end_inspection(self, flow: Flow, reason: str) -> None:
        """End what a flow still inspected holds: its gate, or its analysers and their last bytes."""
        session = flow.state
        flow.state = None
        if reason == "evicted":
            self.stats.flows_evicted_in_analysis += 1
        if flow.gate is not None:  # gated here or by the engine to its end
            self._gate_ended(flow.gate, engine_only=session is None)
            flow.gate = None  # no detector saw a message of it: nothing to end
        elif isinstance(session, TcpSession):
            for to_server, stream in session.streams.items():
                data, gap = stream.flush()
                if data and session.analyzers:
                    for analyzer in session.analyzers:
                        analyzer.data(to_server, data, session.last_ts, gap)
            self._end_session(flow, session, session.last_ts, reason)
        elif isinstance(session, UdpSession):
            for udp_analyzer in session.analyzers:
                udp_analyzer.end(flow, session.last_ts, reason)

    def _end_session(
        self, flow: Flow, session: TcpSession, ts: float, reason: str, ended: bool = True
    ) -> None:
        """Account the streams and free what they hold; `end` the analysers still attached (those that
        gave up were ended then)."""
        for stream in session.streams.values():
            stream.discard()
            self.stats.skipped_bytes += stream.stats.skipped_bytes
            self.stats.reassembly_gaps += stream.stats.gaps
            self.stats.gap_bytes += stream.stats.gap_bytes
            self.stats.retransmitted_bytes += stream.stats.retransmitted_bytes
        for analyzer in session.analyzers or ():
            analyzer.end(flow, ts, reason)
