"""Mining hidden in TLS, and Chia peer traffic: encrypted flows judged from evidence around the encryption.

For each TLS connection the ClientHello is read and the flow is let go, while the engine reads the
ServerHello and the shape of the client's first records (encrypted/handshake.py); at the checkpoints of its
statistics
(encrypted/flowstats.py) and when it ends, the evidence about it is fused (encrypted/fusion.py):
- the (client, server) pair confirmed mining earlier, by pool behaviour or by intel (encrypted/paircache.py);
- weak intel hits on the flow: a miner's JA3/JA4, a pool port (handed over by the intel detector);
- the pool-like words of the server's names: its SNI, and the names DNS resolved to its address (the
  intel detector's DNS answers, state `dns`) (encrypted/names.py); an HTTP ALPN, which speaks for benign
  traffic;
- the steady cadence of the server's pushes (encrypted/periodicity.py);
- the Chia profile of the connection (encrypted/chia.py).
A flow judged TLS mining gives an `encrypted` event and an observation for the host's verdict. Chia is
judged per host at the end of the input, from its connections' profile and how many peers showed it.

Reading a flow (its handshake, its statistics, the model's score) is per flow; judging it reads and keeps
what spans flows (confirmed pairs, the verdicts, intel hits, Chia hosts): TlsJudge, declared as host state,
so that with workers (scale/) it runs in the correlator on the counters of the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from minerwatch.correlate.observations import EncryptedObservation
from minerwatch.decode import Flow
from minerwatch.decode import _tlsrecords as tlsrecords
from minerwatch.decode._tlsrecords import UNREAD
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions, forwarded
from minerwatch.encrypted import chia, evidence
from minerwatch.encrypted._checkpoints import TlsCheckpoints
from minerwatch.encrypted.evidence import Measured
from minerwatch.encrypted.fusion import CHIA, MINING, REPORT_BELIEF, Evidence, Fused, could_reach, fuse
from minerwatch.encrypted.handshake import MAX_BYTES, TlsFacts, facts
from minerwatch.encrypted.model import Model, ModelError, load_model
from minerwatch.encrypted.paircache import PairCache, PairEntry
from minerwatch.flows.analyzers import FlowEndObserver, StreamFactory
from minerwatch.flows.info import FlowInfo, flow_counters, ip_text
from minerwatch.flows.opening import NOT_HTTP
from minerwatch.intel import DnsCache
from minerwatch.protocols.tls import ClientHello, ClientHelloParser, State

TLS_HANDSHAKE = b"\x16\x03"
MAX_FLOWS = 100_000  # TLS flows followed at once (the oldest dropped first, counted)
# Where an intel hit says the flow's server itself is known (not a DNS server the host asked about it).
FLOW_WHERE = ("flow address", "tls client hello", "http host")
VERSIONS = {0x0304: "1.3", 0x0303: "1.2", 0x0302: "1.1", 0x0301: "1.0", 0x0300: "ssl3"}


@dataclass
class ReaderStats:
    tls_flows: int = 0  # TLS connections whose handshake was read
    flows_dropped: int = 0  # more than MAX_FLOWS open at once: the oldest is not judged
    server_hellos_over_budget: int = 0  # not read: the ServerHellos held at once filled their cap


@dataclass
class JudgeStats:
    judged: int = 0  # TLS connections ended and judged
    tls_mining_flows: int = 0
    weak_only_flows: int = 0  # belief high enough, but only weak evidence: not reported (by design)
    checkpoint_detections: int = 0  # of tls_mining_flows, reported before the flow ended
    chia_hosts: int = 0
    dns_named_flows: int = 0  # judged TLS connections whose server address DNS had named


class HelloReader:
    """StreamAnalyzer: reads a TLS connection's ClientHello, then lets the flow go (the engine reads the
    ServerHello and the shape of the client's records)."""

    def __init__(self, tls: _TlsFlow) -> None:
        self.tls = tls
        self.gap = False

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        self.gap = self.gap or gap
        if to_server and not self.gap and self.tls.parser.state is State.NEED_DATA:
            self.tls.client_hello = self.tls.parser.feed(data)

    def wants_more(self, bytes_seen: int) -> bool:
        return not self.gap and bytes_seen <= MAX_BYTES and self.tls.parser.state is State.NEED_DATA

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        self.tls.read = True
        if flow.stats is not None:  # its checkpoints can be judged now (encrypted/_checkpoints.pyx)
            flow.stats.mark = ip_text(flow.client_addr)  # as FlowInfo.client_ip, without its cache


@dataclass
class _TlsFlow:
    """What the reader knows of one TLS connection while it lasts."""

    info: FlowInfo
    parser: ClientHelloParser = field(default_factory=ClientHelloParser)
    client_hello: ClientHello | None = None
    read: bool = False  # the ClientHello is read, or will not be

    def known(self, flow: Flow) -> bool:
        """Is all of the handshake known: the ClientHello read, and the rest read by the engine (a flow
        it does not read has none of it)?"""
        return self.read and (flow.tls or UNREAD).done

    def facts(self, flow: Flow) -> TlsFacts:
        return facts(self.client_hello, flow.tls or UNREAD)


@dataclass
class _Judged:
    """What the judge keeps of a TLS connection it has judged at a checkpoint, until its end."""

    fixed: list[Evidence]  # what does not change while the flow lasts: weak hits, SNI, ALPN
    reported: bool = False


class EncryptedMiningDetector:
    """Reads each TLS connection; TlsJudge (host state) judges it."""

    def __init__(self, ctx: DetectorContext, model: Model | None) -> None:
        self.model = model  # the flow model, or None: its evidence is then missing from every judgement
        self.model_version = str(model.metadata.get("trained", "unknown")) if model else ""
        self.flows: dict[int, _TlsFlow] = {}
        self.judge: TlsJudge = ctx.host_state("encrypted", lambda: TlsJudge(ctx))
        self.local = not forwarded(self.judge.judge)  # with workers, the judge is in the correlator
        self.stats = ReaderStats()
        self.over_budget_before = tlsrecords.budget()[1]  # the count is the process's: this run's part

    def stream(self, info: FlowInfo, first: bytes, to_server: bool) -> HelloReader | None:
        if not (to_server and first.startswith(TLS_HANDSHAKE)):
            return None
        self.stats.tls_flows += 1
        tls = self.flows[info.flow_id] = _TlsFlow(info)
        if len(self.flows) > MAX_FLOWS:
            self.judge.forget(self.flows.pop(next(iter(self.flows))).info.flow_id)
            self.stats.flows_dropped += 1
        return HelloReader(tls)

    def flow_stats(self, flow: Flow, reason: str | None) -> None:
        """FlowStatsObserver: a TLS flow's statistics at checkpoints, so that a long-lived miner is reported
        while it mines (the end's are read by `flow_end`, which judges the flow).

        A checkpoint is judged only when a strong kind of evidence speaks for mining by itself: the model
        flags the flow (its probability passes the model's threshold, as `model evaluate` counts time to
        detection) or the pair is confirmed. Weak kinds add to a verdict, at the flow's end if not before.
        The engine asks `checkpoints()` first, in compiled code, so that most checkpoints make no Python
        call; what it lets through is checked again here."""
        assert flow.stats is not None  # the engine reports flows it keeps statistics for
        tls = self.flows.get(flow.flow_id)
        if tls is None:
            flow.stats.mark = None  # not followed (dropped): no checkpoint of it is wanted
        if reason is not None or tls is None or not tls.known(flow):
            return
        flagged = self.model is not None and self.model.flags(flow, MINING)
        if self.local and (
            self.judge.reported(flow.flow_id) or not (flagged or self.judge.paired(tls.info, flow))
        ):
            return  # with workers the judge decides in the correlator: it alone knows the pairs
        self.judge.judge(flow, tls.facts(flow), self.measure(flow), False, flagged)
        if self.local and self.judge.reported(flow.flow_id):
            flow.stats.mark = None  # reported once: its other checkpoints are not wanted

    def checkpoints(self) -> TlsCheckpoints:
        """Which checkpoints flow_stats needs, for the engine to ask without calling it: those of flows
        marked (their ClientHello read, not reported) and known, whose model flags them or whose client has
        anything a pair could be confirmed from; with workers, every one of a marked, known flow."""
        if not self.local:
            return TlsCheckpoints(None, 0, 0.0, None, {})
        model = self.model
        return TlsCheckpoints(
            model.forest if model else None,
            model.classes.index(MINING) if model else 0,
            model.thresholds[MINING] if model else 1.0,
            self.judge.ctx.correlator,
            self.judge.pairs.clients,
        )

    def flow_end(self, flow: Flow, reason: str) -> None:
        """FlowEndObserver: judge the TLS connections whose handshake was read."""
        tls = self.flows.pop(flow.flow_id, None)
        if tls is not None and tls.read:
            self.judge.judge(flow, tls.facts(flow), self.measure(flow), True)

    def measure(self, flow: Flow) -> Measured | None:
        """What the flow's statistics say now (None when the engine keeps none: they are off)."""
        if flow.stats is None:
            return None
        scores = self.model.score(flow) if self.model else None
        _payload, _pushes, bursts, _sizes, _gaps, burst_gaps = flow.stats.direction(False)  # server's side
        return Measured(scores, self.model_version, bursts, burst_gaps)

    def counters(self) -> dict[str, Any]:
        # the judge's counters: empty in a worker (the correlator's)
        self.stats.server_hellos_over_budget = tlsrecords.budget()[1] - self.over_budget_before
        return vars(self.stats) | self.judge.stats | {"model": self.model_version or None}


class TlsJudge:
    """Judges TLS flows from the evidence around them, and Chia hosts at the end of the input."""

    def __init__(self, ctx: DetectorContext) -> None:
        self.ctx = ctx
        self.dns: DnsCache = ctx.host_state("dns", DnsCache, mirror=("observe",))  # the intel detector's
        self.pairs = PairCache()
        self.chia = chia.ChiaHosts()
        self.flows: dict[int, _Judged] = {}  # judged at a checkpoint, not ended yet
        self.counts = JudgeStats()

    @property
    def stats(self) -> dict[str, Any]:
        chia_dropped = {
            "chia_hosts_dropped": self.chia.hosts_dropped,
            "chia_peers_dropped": self.chia.peers_dropped,
        }
        return vars(self.counts) | self.pairs.stats | chia_dropped

    def reported(self, flow_id: int) -> bool:
        judged = self.flows.get(flow_id)
        return judged is not None and judged.reported

    def paired(self, info: FlowInfo, flow: Flow) -> bool:
        """Is the flow's pair confirmed mining (a strong kind of evidence)?"""
        return self._pair(info, flow, count=False) is not None

    def forget(self, flow_id: int) -> None:
        """A flow the reader stopped following: it will not be judged at its end (nor its weak hits read)."""
        self.flows.pop(flow_id, None)
        self.ctx.correlator.weak_hits(flow_id)

    # ---- one flow ---------------------------------------------------------------------------------------

    def judge(
        self, flow: Flow, facts: TlsFacts, measured: Measured | None, final: bool, flagged: bool = False
    ) -> None:
        """Fuse what is known of the flow (with workers, `flow` is a relay.FlowRecord of it); at its end the
        pair cache counts it and the Chia hosts learn it. At a checkpoint, only a strong kind speaking for
        mining by itself makes a judgement: the model `flagged` the flow, or its pair is confirmed."""
        info = FlowInfo(flow)
        entry = self._pair(info, flow, count=final)
        judged = self.flows.pop(flow.flow_id, None) if final else self.flows.get(flow.flow_id)
        if not final and entry is None and not flagged:
            return  # the rest can only add to a verdict: wait for the end
        if judged is None:
            judged = _Judged(self._fixed(flow, facts))
            if not final:
                self.flows[flow.flow_id] = judged
        paired = [evidence.pair(entry)] if entry is not None else []
        if final:
            self.counts.judged += 1
            profile = chia.flow_profile(info.server_port, facts)
            if profile is not None:
                scored = measured.model() if measured else None
                for host, peer in ((info.client_ip, info.server_ip), (info.server_ip, info.client_ip)):
                    self.chia.add(host, peer, info.server_port, profile, scored, flow)
        if judged.reported:
            return
        supports = [e.support for e in judged.fixed] + (measured.supports() if measured else [])
        if not could_reach(supports + [e.support for e in paired], MINING):
            return  # nothing here can make a report (most TLS flows): no evidence is made
        found = judged.fixed + (measured.evidence() if measured else []) + paired
        fused = fuse(found)
        if fused.decide() != MINING:
            if final and fused.belief[MINING] >= REPORT_BELIEF:
                self.counts.weak_only_flows += 1
            return
        judged.reported = True
        self.counts.tls_mining_flows += 1
        self.counts.checkpoint_detections += not final
        detection = {
            "at": "end" if final else "checkpoint",
            "seconds": round(flow.last_ts - flow.first_ts, 6),
            "packets": flow.pkts_toserver + flow.pkts_toclient,
        }
        body = _body(MINING, fused) | {
            "tls": _tls(facts),
            "flow": flow_counters(flow),
            "detection": detection,
        }
        event = self.ctx.events.make("encrypted", flow.first_ts, body, info)
        self.ctx.emit(event)
        self.ctx.correlator.observe_encrypted(
            EncryptedObservation(
                flow.first_ts,
                flow.last_ts,
                info.client_ip,
                info.server_ip,
                info.server_port,
                MINING,
                fused.confidence(MINING),
                event["event_id"],
                tuple(sorted({e.kind for e in found if e.supports(MINING)})),
                flow.flow_id,
            )
        )

    def _fixed(self, flow: Flow, facts: TlsFacts) -> list[Evidence]:
        """The weak intel hits on the flow (taken from the correlator once), the words of the server's
        names (SNI, and the names DNS gave its address by the flow's start), its ALPN."""
        found = evidence.weak_hits(self.ctx.correlator.weak_hits(flow.flow_id))
        hello = facts.client_hello
        names = [(hello.sni, "sni")] if hello is not None and hello.sni else []
        if resolved := self.dns.names_for(flow.server_addr, flow.first_ts):
            self.counts.dns_named_flows += 1
            names += [(name, "dns") for name in resolved]
        if named := evidence.name(names):
            found.append(named)
        if hello is not None and (benign := evidence.alpn(hello)):
            found.append(benign)
        return found

    def _pair(self, info: FlowInfo, flow: Flow, count: bool) -> PairEntry | None:
        """The pair's cache entry (with this flow counted when `count`: at its end), confirming it first
        from what the correlator knows: a pool endpoint on the server's address that reached a stage, a
        non-weak intel hit on it; a confirmation older than the cache's time-to-live is not renewed."""
        client, server, now = info.client_ip, info.server_ip, flow.last_ts
        correlator, ttl = self.ctx.correlator, self.pairs.ttl
        for (ip, _port), pool in correlator.hosts.get(client, {}).items():
            if ip == server and pool.stages and now - pool.last_seen <= ttl:
                ids = tuple(sorted({i for ids in pool.event_ids.values() for i in ids})[:8])
                self.pairs.confirm(client, server, pool.last_seen, "behaviour", pool.confidence(), ids)
        for hit in correlator.intel.get(client, ()):
            if hit.peer_ip == server and hit.where in FLOW_WHERE and 0 <= now - hit.ts <= ttl:
                self.pairs.confirm(client, server, hit.ts, "intel", hit.confidence, (hit.event_id,))
        if not count:
            return self.pairs.get(client, server, now)
        size = flow.bytes_toserver + flow.bytes_toclient
        return self.pairs.count(client, server, now, flow.flow_id, size)

    # ---- Chia hosts, at the end --------------------------------------------------------------------------

    def finish(self) -> None:
        for host, entry in sorted(self.chia.hosts.items()):
            found = [e for e in (entry.best, chia.peer_shape(len(entry.peers)), entry.best_model) if e]
            if seeders := chia.seeders(self.ctx.correlator.intel.get(host, [])):
                found.append(seeders)
            fused = fuse(found)
            if fused.decide() != CHIA:
                continue
            self.counts.chia_hosts += 1
            body = _body(CHIA, fused) | {
                "peers": sorted(entry.peers)[:32],
                "ports": sorted(entry.ports),
                "flow_ids": entry.flow_ids,
            }
            event = self.ctx.events.make("encrypted", entry.first_seen, body, host=host)
            self.ctx.emit(event)
            kinds = tuple(sorted({e.kind for e in found if e.supports(CHIA)}))
            for peer, ports in sorted(entry.peers.items()):
                for port in sorted(ports):
                    self.ctx.correlator.observe_encrypted(
                        EncryptedObservation(
                            entry.first_seen,
                            entry.last_seen,
                            host,
                            peer,
                            port,
                            CHIA,
                            fused.confidence(CHIA),
                            event["event_id"],
                            kinds,
                        )
                    )


def _body(cls: str, fused: Fused) -> dict[str, Any]:
    return {"class": cls, "confidence": fused.confidence(cls)} | fused.as_dict()


def _tls(facts: TlsFacts) -> dict[str, Any]:
    hello, server = facts.client_hello, facts.server_hello
    return {
        "version": VERSIONS.get(server.version, hex(server.version)) if server else None,
        "sni": hello.sni if hello else None,
        "alpn": list(hello.alpn) if hello else [],
        "ja3": hello.ja3 if hello else None,
        "ja4": hello.ja4 if hello else None,
        "ja3s": server.ja3s if server else None,
        "client_certificate": facts.client_certificate,
    }


def setup(ctx: DetectorContext, options: NoOptions) -> DetectorParts:
    try:
        model = load_model()
    except ModelError:  # a package without its model file: the model's evidence is missing, said in stats
        model = None
    detector = EncryptedMiningDetector(ctx, model)
    return DetectorParts(
        stream_factories=[StreamFactory(detector.stream, NOT_HTTP)],
        tls_records=True,
        flow_end_observers=[FlowEndObserver(detector.flow_end)],
        flow_stats_observers=[detector.flow_stats],
        flow_stats_gate=detector.checkpoints(),
        finish=detector.judge.finish,
        stats=detector.counters,
    )


DETECTOR = Detector("encrypted", NoOptions, setup)
