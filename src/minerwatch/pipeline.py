"""Wires one analysis: capture -> engine (decode, flows) -> inspector -> detectors -> correlator -> outputs.

Data flows one way; every stage reports what it could not use, and all of it ends in the `stats` event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minerwatch.capture import CaptureStats, feed_capture
from minerwatch.correlate.conclude import conclude
from minerwatch.correlate.disk import DiskFindings, read_findings
from minerwatch.correlate.incidents import IncidentCorrelator, IncidentPolicy
from minerwatch.correlate.updates import IncidentUpdates
from minerwatch.correlate.verdicts import VerdictCorrelator, VerdictPolicy
from minerwatch.decode import Engine
from minerwatch.detectors import (
    bruteforce,
    encrypted_mining,
    exploits,
    files,
    intel,
    mining_http,
    obfuscated_stratum,
    pool_behaviour,
    pool_urls,
    scan,
    stratum_v2,
)
from minerwatch.detectors.base import Detector, DetectorContext
from minerwatch.detectors.sightings import Sighting
from minerwatch.encrypted import flowstats
from minerwatch.errors import InputError, UsageError
from minerwatch.events import Event, EventFactory
from minerwatch.flows import defrag, reassembly
from minerwatch.flows.analyzers import FlowEndObserver
from minerwatch.flows.http_inspection import HttpInspection
from minerwatch.flows.inspector import Inspector
from minerwatch.intel.learn import learn_verdicts
from minerwatch.output.secrets import mask_event

EventSink = Callable[[Event], None]

# Every detector of an analysis, in the order its analysers are offered a new flow.
DETECTORS: tuple[Detector[Any], ...] = (
    pool_behaviour.DETECTOR,
    obfuscated_stratum.DETECTOR,
    mining_http.DETECTOR,
    pool_urls.DETECTOR,
    stratum_v2.DETECTOR,
    files.DETECTOR,
    bruteforce.DETECTOR,
    exploits.DETECTOR,
    intel.DETECTOR,
    encrypted_mining.DETECTOR,
    scan.DETECTOR,
)


def detector_names() -> list[str]:
    return [d.name for d in DETECTORS]


@dataclass
class AnalysisOptions:
    stream_depth: int = 256 * 1024  # bytes inspected in a flow before it is bypassed if no detector keeps it
    detectors: tuple[str, ...] | None = None  # None: all of DETECTORS
    idle_timeout: float = 300.0  # seconds
    max_flows: int = 500_000  # the flow table's capacity
    reassembly_memcap: int = reassembly.DEFAULT_MEMCAP  # bytes of out-of-order TCP data, all flows
    defrag_memcap: int = defrag.DEFAULT_MEMCAP  # bytes of unfinished IP datagrams
    show_secrets: bool = False
    intel_db: str | None = None  # default: $MINERWATCH_INTEL_DB or the user's data directory
    # Record behaviour-confirmed pools unknown to intel in the knowledge base (analyze --learn-pools).
    # Off by default: a capture is untrusted, so an analysis only reads intelligence (see intel/learn.py).
    record_discovered: bool = False
    policy: VerdictPolicy = field(default_factory=VerdictPolicy)
    incident_policy: IncidentPolicy = field(default_factory=IncidentPolicy)
    store: str | None = None  # the incident store's path; None: incidents are not kept across runs
    disk_findings: tuple[str, ...] = ()  # scan-disk output joined with Chia verdicts (correlate/disk.py)
    # Each detector's own options (its declared dataclass) by detector name; a detector left out runs
    # with its defaults.
    detector_options: Mapping[str, object] = field(default_factory=dict)
    http_gate: bool = True  # frame HTTP no detector wants in C (off: all HTTP through the Python parser)
    # Live input: seconds of capture time between checks for changed incidents (Analysis.update_incidents).
    incident_interval: float = 1.0


@dataclass
class AnalysisResult:
    verdicts: list[Event]
    incidents: list[Event]
    files: list[CaptureStats]
    input_errors: list[str]
    stats: Event


class Analysis:
    def __init__(self, sinks: list[EventSink], options: AnalysisOptions | None = None) -> None:
        self.options = options or AnalysisOptions()
        self.sinks = sinks
        self.events = EventFactory()
        self.correlator = VerdictCorrelator(self.options.policy)
        self.incidents = IncidentCorrelator(self.options.incident_policy)
        context = self._context()
        wanted = self.options.detectors
        unknown = set(wanted or ()) - set(detector_names())
        unknown |= set(self.options.detector_options) - set(detector_names())
        if unknown:
            raise UsageError(
                f"unknown detector(s): {', '.join(sorted(unknown))}; known: {', '.join(detector_names())}"
            )
        if self.options.record_discovered and wanted is not None and "intel" not in wanted:
            raise UsageError(
                "learning pools needs the intel detector: it tells which pools intel did not know"
            )
        self.plugins = [(d.name, d.start(context)) for d in DETECTORS if wanted is None or d.name in wanted]
        parts = [p for _, p in self.plugins]
        self.http = HttpInspection(
            [c for p in parts for c in p.http_consumers], self.options.stream_depth, self.options.http_gate
        )
        self.inspector = Inspector(
            [f for p in parts for f in p.stream_factories],
            [f for p in parts for f in p.datagram_factories],
            [FlowEndObserver(context.correlator.peers.flow_ended)]
            + [o for p in parts for o in p.flow_end_observers],
            [o for p in parts for o in p.flow_start_observers],
            expected_flows=[e for p in parts for e in p.expected_flows],
            http=self.http,
            reassembly_memcap=self.options.reassembly_memcap,
            defrag_memcap=self.options.defrag_memcap,
        )
        self.sighting_observers = [o for p in parts for o in p.sighting_observers]
        first_request_gate, gate_blockers = self.inspector.engine_gate()
        self.engine = Engine(
            self.inspector,
            idle_timeout=self.options.idle_timeout,
            max_flows=self.options.max_flows,
            first_request_gate=first_request_gate,
            gate_blockers=gate_blockers,
        )
        observing = [p for p in parts if p.flow_stats_observers]
        flowstats.attach(
            self.engine,
            [o for p in observing for o in p.flow_stats_observers],
            gate=observing[0].flow_stats_gate if len(observing) == 1 else None,  # a gate speaks for its own
        )
        self.engine.tls_records = any(p.tls_records for p in parts)
        self.files: list[CaptureStats] = []
        self.input_errors: list[str] = []
        # Sections a caller adds to every `stats` event (live capture: the kernel's counters).
        self.extra_stats: dict[str, Callable[[], Any]] = {}
        self.updates = IncidentUpdates(self.options.incident_interval)

    def _context(self) -> DetectorContext:
        """What the detectors talk to (scale/: a worker's forwards what spans flows to the correlator)."""
        return DetectorContext(
            self.events, self.emit, self.correlator, self.options, self.incidents, self.sight
        )

    def emit(self, event: Event) -> None:
        """Hand `event` to every output, its secrets masked first unless asked for."""
        if not self.options.show_secrets:
            mask_event(event)
        for sink in self.sinks:
            sink(event)

    def sight(self, seen: Sighting) -> None:
        """Hand indicators a detector read to the detectors that match them (intel)."""
        for observer in self.sighting_observers:
            observer(seen)

    def feed_file(self, path: Path, progress: Callable[[int], None] | None = None) -> None:
        """Analyse one capture; an unreadable one is recorded (one line) and the others go on."""
        try:
            self.files.append(feed_capture(path, self.engine, progress))
        except InputError as exc:
            self.input_errors.append(str(exc))

    def update_incidents(self, now: float | None = None) -> int:
        """Live input: emit an `incident` event for each incident that changed (a new stage, pool or spread
        target, another status) since the last one shown; returns how many. Checked at most once per
        `incident_interval` of `now` (capture time unless given: live capture passes the clock, since
        capture time stands still on a quiet link and a change just before would wait for the next packet)
        and only after new observations, so a busy link pays for at most one incident build per interval.
        File analysis does not call it: it emits only the final state."""
        now = self.engine.now if now is None else now
        changed = self.updates.changed(now, self.correlator, self.incidents)
        for body in changed:
            self.emit(self.events.make("incident", body.pop("_ts"), body, host=body["host"]))
        return len(changed)

    def finish(self) -> AnalysisResult:
        self.engine.finish()
        for _, parts in self.plugins:
            if parts.finish is not None:
                parts.finish()
        verdicts, incidents = conclude(
            self.events, self.emit, self.correlator, self.incidents, self.options.store, self._disk()
        )
        stats = self.emit_stats(self.engine.now)
        if self.options.record_discovered:  # last: a knowledge base that cannot be written loses no event
            origin = "analysis of " + ", ".join(f.path for f in self.files)
            learn_verdicts(self.options.intel_db, [v["verdict"] for v in verdicts], origin[:500])
        return AnalysisResult(verdicts, incidents, self.files, self.input_errors, stats)

    def _disk(self) -> DiskFindings | None:
        """scan-disk's findings, read at the end (their verdicts and incidents are made there); a file that
        cannot be read is an input error, the others are still read; `stats.disk` counts what was read."""
        if not self.options.disk_findings:
            return None
        findings = read_findings(self.options.disk_findings, self.input_errors)
        self.extra_stats["disk"] = lambda: vars(findings.stats).copy()
        return findings

    def emit_stats(self, ts: float, periodic: bool = False, body: dict[str, Any] | None = None) -> Event:
        """The `stats` event: the last one of a run, or (`periodic`) one of a live capture's interval
        reports, with the counters so far (`body`: counters a correlator merged, else this analysis's)."""
        body = self._stats() if body is None else body
        if periodic:
            body["periodic"] = True
        event = self.events.make("stats", ts, body)
        self.emit(event)
        return event

    def reload(self) -> None:
        """Re-read intel and rules (a live capture's SIGHUP). Flows, reassembly and per-host state are kept;
        the HTTP gate is rebuilt for new connections, since new rules may read heads the old ones did not."""
        for _, parts in self.plugins:
            if parts.reload is not None:
                parts.reload()
        self.http.rebuild_gate()
        self.inspector.http = self.http if self.http.config is not None else None
        self.engine.first_request_gate = self.inspector.engine_gate()[0]

    def _stats(self) -> dict[str, Any]:
        return {
            "capture": self.engine.counters.as_dict(),
            "inspection": vars(self.inspector.stats)
            | {"reassembly_memcap_gaps": self.inspector.reassembly.forced_gaps},
            "defrag": vars(self.inspector.defrag.stats).copy(),
            "correlation": dict(self.correlator.peers.stats)
            | {"weak_flows_dropped": self.correlator.weak_flows_dropped}
            | self.incidents.stats,
            "http": vars(self.http.stats).copy(),
            **{name: p.stats() for name, p in self.plugins if p.stats is not None},
            "files": [
                {"path": f.path, "format": f.format, "bytes": f.bytes_read, "warnings": f.warnings}
                for f in self.files
            ],
            "input_errors": self.input_errors,
            **{name: section() for name, section in self.extra_stats.items()},
        }
