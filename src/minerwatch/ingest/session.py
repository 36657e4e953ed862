"""Records from sensor logs -> typed observations -> the same correlators an analysis uses -> events.

Each Record that says something is restated as one minerwatch `alert` event (with `alert.sensor`: which
sensor, file and line), and that event's id is what the observation cites, so an incident's stages point
at events in the same output. What becomes what (docs/ingest.md):
- a sensor alert or notice with a stage (classify.py) -> StageObservation;
- an alert of our rules with `minerwatch_behaviour` metadata -> BehaviourObservation (staged verdicts);
- addresses of flows and connections, DNS names, TLS SNI/JA3/JA4, file hashes -> looked up in the intel
  knowledge base -> IntelObservation, as the intel detector does on packets;
- a Zeek intel.log hit -> IntelObservation (with the knowledge base's own entry when it knows the
  indicator, so its tags and confidence count);
- an executable or script transfer -> implant_download StageObservation;
- DNS answers are remembered (bounded, until their TTL: intel/dnscache.py) so that a later flow or
  connection to an answered address is looked up by the names that resolved to it, as analyze does;
- answered TCP flows and connections go to the verdicts' contact table, so that the hosts that reached a
  confirmed pool's address are suspects as in analyze (correlate/peers.py);
- Zeek's Scan::Address_Scan is joined at the end with the conn logs' failed attempts (sweeps.py): a
  reconnaissance step on each host swept.
Repeats of one intel hit (host, indicator, where) are counted, not restated, as the intel detector does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from minerwatch.correlate.conclude import conclude
from minerwatch.correlate.disk import read_findings
from minerwatch.correlate.incidents import IncidentCorrelator, IncidentPolicy
from minerwatch.correlate.observations import (
    Behaviour,
    BehaviourObservation,
    IntelObservation,
    StageObservation,
)
from minerwatch.correlate.stages import Stage, Technique
from minerwatch.correlate.verdicts import VerdictCorrelator
from minerwatch.detectors.pool_behaviour import LOGIN_REGISTERS
from minerwatch.events import Event, EventFactory
from minerwatch.ingest.records import Connection, Endpoints, FileSeen, Finding, Record, Sweep
from minerwatch.ingest.sweeps import PendingSweep, Sweeps
from minerwatch.ingest.zeek import NOTICE_CONFIDENCE, NOTICE_LEVEL
from minerwatch.intel import Hit, IntelMatcher
from minerwatch.intel.dnscache import DnsCache

# Executables and scripts (MIME types, libmagic descriptions): their transfer is an implant candidate.
IMPLANT_TYPES = re.compile(
    r"x-(executable|elf|sharedlib|dosexec|mach-o|pie-executable|msdownload|shellscript|sh|perl|python)\b"
    r"|\bELF\b|executable|shell script|PE32",
    re.IGNORECASE,
)
FILE_LEVEL, FILE_CONFIDENCE = 0.5, 0.5  # an executable's transfer, nothing else known about it
ZEEK_INTEL_CONFIDENCE = 0.6  # a Zeek intel hit on an indicator the knowledge base does not know
C2_WORDS = re.compile(r"\bc2\b|c&c|\bcnc\b|command|botnet|trojan|malware", re.IGNORECASE)
MAX_REMEMBERED = 1_000_000  # intel hits remembered for de-duplication (beyond it, repeats are restated)

EventSink = Callable[[Event], None]


@dataclass
class IngestStats:
    records: int = 0
    alerts: int = 0  # events written for observations
    stage_observations: int = 0
    behaviour_observations: int = 0
    intel_hits: int = 0
    repeated_intel_hits: int = 0
    alerts_without_stage: int = 0  # sensor alerts of no kill-chain stage (policy, info...)
    zeek_intel_unknown: int = 0  # Zeek intel hits the knowledge base did not know (kept at lower confidence)
    connections_named: int = 0  # flows and connections to an address a DNS answer had named
    address_scans: int = 0  # Zeek Scan::Address_Scan notices
    by_sensor: dict[str, int] = field(default_factory=dict)


class IngestSession:
    def __init__(
        self,
        sinks: list[EventSink],
        matcher: IntelMatcher,
        policy: IncidentPolicy | None = None,
        store: str | None = None,
        disk_findings: tuple[str, ...] = (),
    ) -> None:
        self.sinks = sinks
        self.matcher = matcher
        self.events = EventFactory()
        self.verdicts = VerdictCorrelator()
        self.incidents = IncidentCorrelator(policy)
        self.store = store
        self.disk_findings = disk_findings  # scan-disk's output, joined at the end (correlate/disk.py)
        self.stats = IngestStats()
        self._hits: set[tuple[str, str, str, str]] = set()
        self.dns = DnsCache()
        self.sweeps = Sweeps()
        self.last_ts = 0.0

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink(event)

    def feed(self, record: Record) -> None:
        self.stats.records += 1
        self.stats.by_sensor[record.sensor] = self.stats.by_sensor.get(record.sensor, 0) + 1
        self.last_ts = max(self.last_ts, record.ts)
        if record.finding is not None or record.pool is not None:
            self._concluded(record)
        elif record.log == "alert":
            self.stats.alerts_without_stage += 1
        if record.file is not None:
            self._file(record, record.file)
        if record.intel is not None:
            self._zeek_intel(record)
        if record.sweep is not None:
            self._sweep(record, record.sweep)
        for answer in record.answers:
            self.dns.add(answer.name, answer.address, answer.ttl, record.ts)
        self._lookups(record)
        if record.connection is not None and record.endpoints is not None:
            self._connection(record, record.endpoints, record.connection)

    # ---- what the sensor concluded --------------------------------------------------------------------

    def _alert(self, record: Record, body: dict[str, Any], ends: Endpoints | None, host: str | None) -> Event:
        """One alert event restating `record`; `src_*` is the connection's client when there is one."""
        body["sensor"] = {"name": record.sensor, "log": record.log, "line": record.line}
        event = self.events.make("alert", record.ts, body, host=None if ends else host)
        if ends is not None:
            event.update(src_ip=ends.client, dest_ip=ends.server)
            if ends.proto in ("TCP", "UDP"):
                event.update(src_port=ends.client_port, dest_port=ends.server_port, proto=ends.proto)
            if ends.flow_id is not None:
                event["flow_id"] = ends.flow_id
            if ends.community_id is not None:
                event["community_id"] = ends.community_id
            event["alert"] = event.pop("alert")  # the body last, as every event has it
        self.stats.alerts += 1
        self.emit(event)
        return event

    def _concluded(self, record: Record) -> None:
        """A sensor alert or notice with a stage, a pool behaviour, or both: one event, its observations."""
        finding, pool = record.finding, record.pool
        signature = dict(finding.signature or {}) if finding else {}
        body: dict[str, Any] = {
            "action": "allowed",
            **signature,
            "signature": signature.get("signature", finding.label if finding else str(pool)),
            "category": signature.get("category", f"{record.sensor} {record.log}"),
        }
        if finding is not None:
            body |= {
                "killchain_stage": str(finding.stage),
                "technique": str(finding.technique),
                "confidence": finding.confidence,
            }
        host = finding.host if finding else pool.miner if pool else None
        event_id = self._alert(record, body, record.endpoints, host)["event_id"]
        if finding is not None:
            self._stage(record.ts, finding, event_id)
        if pool is not None:
            self.stats.behaviour_observations += 1
            self.verdicts.observe(
                BehaviourObservation(
                    behaviour=pool.behaviour,
                    ts=record.ts,
                    miner_ip=pool.miner,
                    pool_ip=pool.pool,
                    pool_port=pool.pool_port,
                    dialect=pool.dialect,
                    event_id=event_id,
                    registers=pool.behaviour is Behaviour.LOGIN and pool.dialect in LOGIN_REGISTERS,
                )
            )

    def _stage(self, ts: float, finding: Finding, event_id: int, sha256: str | None = None) -> None:
        self.stats.stage_observations += 1
        self.incidents.observe(
            StageObservation(
                ts=ts,
                host=finding.host,
                stage=finding.stage,
                technique=finding.technique,
                level=finding.level,
                confidence=finding.confidence,
                event_id=event_id,
                label=finding.label,
                peer=finding.peer,
                service=finding.service,
                sha256=sha256,
            )
        )

    def _sweep(self, record: Record, sweep: Sweep) -> None:
        """Restated now; its steps wait for the end, when every conn log has been read (sweeps.py)."""
        self.stats.address_scans += 1
        body = {
            "signature": sweep.label,
            "category": "zeek notice",
            "killchain_stage": str(Stage.RECONNAISSANCE),
            "technique": str(Technique.ACTIVE_SCANNING),
            "confidence": NOTICE_CONFIDENCE,
        }
        event = self._alert(record, body, None, sweep.scanner)
        self.sweeps.add(PendingSweep(record.ts, sweep.scanner, sweep.port, sweep.label, event["event_id"]))

    def _swept(self) -> None:
        """Each Address_Scan notice: a reconnaissance step on every host its scanner failed to reach on
        the port (the correlator makes lateral movement of it when the scanner is itself a victim)."""
        for sweep, targets in self.sweeps.resolved():
            for target in targets:
                finding = Finding(
                    stage=Stage.RECONNAISSANCE,
                    technique=Technique.ACTIVE_SCANNING,
                    host=target,
                    peer=sweep.scanner,
                    label=sweep.label,
                    level=NOTICE_LEVEL,
                    confidence=NOTICE_CONFIDENCE,
                )
                self._stage(sweep.ts, finding, sweep.event_id)

    def _file(self, record: Record, seen: FileSeen) -> None:
        for digest in (seen.sha256, seen.md5):
            if digest:
                self._intel_hits(
                    record,
                    self.matcher.match_hash(digest, record.ts),
                    seen.receiver,
                    seen.sender,
                    "file hash",
                )
        if not IMPLANT_TYPES.search(seen.kind):
            return
        what = seen.name or (seen.sha256 or seen.md5 or "?")[:16]
        finding = Finding(
            stage=Stage.IMPLANT_DOWNLOAD,
            technique=Technique.INGRESS_TOOL_TRANSFER,
            host=seen.receiver,
            peer=seen.sender,
            label=f"{record.sensor} {record.log}: {seen.kind[:60]} {what[:120]}",
            level=FILE_LEVEL,
            confidence=FILE_CONFIDENCE,
        )
        body = {
            "signature": f"Executable or script transfer reported by {record.sensor}",
            "category": "Potentially Bad Traffic",
            "killchain_stage": str(finding.stage),
            "technique": str(finding.technique),
            "confidence": finding.confidence,
            "file": {"filename": seen.name, "type": seen.kind, "sha256": seen.sha256, "md5": seen.md5},
        }
        event = self._alert(record, body, record.endpoints, seen.receiver)
        self._stage(record.ts, finding, event["event_id"], seen.sha256)

    # ---- intel -----------------------------------------------------------------------------------------

    def _lookups(self, record: Record) -> None:
        ends = record.endpoints
        if ends is None:
            return
        ts, client, server = record.ts, ends.client, ends.server
        if record.lookup_addresses:
            hits = self.matcher.match_ip(server, ts) + self.matcher.match_ip(client, ts)
            self._intel_hits(record, hits, client, server, "flow address")
        for name in record.domains:
            where = "dns" if record.log == "dns" else "tls client hello"
            self._intel_hits(record, self.matcher.match_domain(name, ts), client, server, where)
        for ja3 in record.ja3:
            self._intel_hits(record, self.matcher.match_ja3(ja3, ts), client, server, "tls client hello")
        for ja4 in record.ja4:
            self._intel_hits(record, self.matcher.match_ja4(ja4, ts), client, server, "tls client hello")

    def _connection(self, record: Record, ends: Endpoints, connection: Connection) -> None:
        """A flow or connection: a contact for the pool suspects, a failed attempt for the sweeps, and its
        server's address looked up by the names DNS answers gave it (at the connection's start)."""
        start = connection.start
        if ends.proto == "TCP" and connection.answered:
            self.verdicts.peers.connection(
                ends.client, ends.server, ends.server_port, start, connection.end, ends.flow_id
            )
        if connection.failed:
            self.sweeps.failed_attempt(ends.client, ends.server, ends.server_port, start)
        names = self.dns.names_for(ends.server, start)
        if names:
            self.stats.connections_named += 1
        for name in names:
            where = f"flow to address resolved from {name}"
            self._intel_hits(record, self.matcher.match_domain(name, start), ends.client, ends.server, where)

    def _intel_hits(self, record: Record, hits: list[Hit], host: str, peer: str | None, where: str) -> None:
        for hit in hits:
            if hit.weak:
                continue
            self._intel(record, host, peer, where, hit.as_alert() | {"where": where}, hit)

    def _zeek_intel(self, record: Record) -> None:
        """A Zeek intel.log hit: the knowledge base's entry when it knows the indicator, else Zeek's."""
        seen, ends = record.intel, record.endpoints
        assert seen is not None and ends is not None
        where = f"zeek {seen.where}".strip()
        lookup = {
            "ip": self.matcher.match_ip,
            "domain": self.matcher.match_domain,
            "url": self.matcher.match_url,
            "hash": self.matcher.match_hash,
            "agent": self.matcher.match_agent,
        }[seen.indicator_type]
        known = [h for h in lookup(seen.indicator, record.ts) if not h.weak]
        if known:
            self._intel_hits(record, known, ends.client, ends.server, where)
            return
        self.stats.zeek_intel_unknown += 1
        tags = ("c2",) if C2_WORDS.search(seen.sources) else ()
        body = {
            "signature": f"ZEEK intel {seen.indicator_type} {seen.indicator}"[:300],
            "category": "Threat intelligence match",
            "intel": {
                "indicator_type": seen.indicator_type,
                "indicator": seen.indicator,
                "observed": seen.indicator,
                "source": f"zeek:{seen.sources}"[:200],
                "family": None,
                "tags": list(tags),
            },
            "where": where,
        }
        self._intel(record, ends.client, ends.server, where, body, None, tags)

    def _intel(
        self,
        record: Record,
        host: str,
        peer: str | None,
        where: str,
        body: dict[str, Any],
        hit: Hit | None,
        tags: tuple[str, ...] = (),
    ) -> None:
        intel = body.get("intel", {})
        key = (host, str(intel.get("indicator_type")), str(intel.get("indicator")), where)
        if key in self._hits:
            self.stats.repeated_intel_hits += 1
            return
        if len(self._hits) < MAX_REMEMBERED:
            self._hits.add(key)
        self.stats.intel_hits += 1
        event = self._alert(record, body, record.endpoints, host)
        self.verdicts.observe_intel(
            IntelObservation(
                ts=record.ts,
                host=host,
                peer_ip=peer,
                indicator_type=key[1],
                indicator=key[2],
                source=hit.source if hit else str(intel.get("source", "zeek")),
                family=hit.family if hit else "",
                confidence=hit.confidence / 100 if hit else ZEEK_INTEL_CONFIDENCE,
                event_id=event["event_id"],
                discovered=hit.discovered if hit else False,
                tags=hit.tags if hit else tags,
                where=where,
            )
        )

    # ---- the end ----------------------------------------------------------------------------------------

    def finish(
        self, files: list[dict[str, Any]], input_errors: list[str]
    ) -> tuple[list[Event], list[Event], Event]:
        """(verdict events, incident events, the stats event), all emitted."""
        self._swept()
        disk = read_findings(self.disk_findings, input_errors) if self.disk_findings else None
        verdicts, incidents = conclude(
            self.events, self.emit, self.verdicts, self.incidents, self.store, disk
        )
        body = {
            "ingest": {k: v for k, v in vars(self.stats).items()},
            "correlation": dict(self.verdicts.peers.stats) | self.incidents.stats | self.sweeps.stats,
            "files": files,
            "input_errors": input_errors,
            **({"disk": vars(disk.stats).copy()} if disk is not None else {}),
        }
        stats = self.events.make("stats", self.last_ts, body)
        self.emit(stats)
        return verdicts, incidents, stats
