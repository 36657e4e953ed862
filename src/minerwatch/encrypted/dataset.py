"""Labelled flows from captures, seen as detection sees them: the analysis engine (same checkpoints, same
timeouts, same flow table) runs over each capture and every snapshot of every labelled TCP flow becomes a
feature vector, with how far into the flow it was taken (for time to detection)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from minerwatch.capture import feed_capture
from minerwatch.decode import Engine, Flow
from minerwatch.encrypted.flowstats import FlowStats, attach, snapshots
from minerwatch.encrypted.labels import Labels
from minerwatch.errors import InputError
from minerwatch.flows.inspector import Inspector
from minerwatch.pipeline import AnalysisOptions


@dataclass(frozen=True, slots=True)
class Snapshot:
    features: tuple[float, ...]
    seconds: float  # since the flow's first packet
    packets: int  # packets of the flow so far, both directions


@dataclass
class LabelledFlow:
    capture: str
    session: str
    label: str
    split: str | None  # train or test, when the labels say
    snapshots: list[Snapshot] = field(default_factory=list)


@dataclass
class DataSet:
    flows: list[LabelledFlow] = field(default_factory=list)
    unlabelled: int = 0  # TCP flows with payload that no label row matched
    without_payload: int = 0  # labelled flows that never carried payload (handshakes, scans): not used
    errors: list[str] = field(default_factory=list)  # captures that could not be read

    def sizes(self) -> dict[str, tuple[int, int]]:
        """(flows, sessions) per class."""
        flows = Counter(f.label for f in self.flows)
        sessions = {label: len({f.session for f in self.flows if f.label == label}) for label in flows}
        return {label: (flows[label], sessions[label]) for label in sorted(flows)}


def load(captures: Iterable[Path], labels: Labels) -> DataSet:
    data = DataSet()
    for path in captures:
        _read(path, path.name, labels, data)
    return data


def _read(path: Path, name: str, labels: Labels, data: DataSet) -> None:
    open_flows: dict[int, LabelledFlow | None] = {}

    def observe(flow: Flow, stats: FlowStats) -> None:
        if flow.flow_id not in open_flows:
            rule = labels.find(name, flow.client_addr, flow.client_port, flow.server_addr, flow.server_port)
            open_flows[flow.flow_id] = (
                LabelledFlow(name, rule.session, rule.label, rule.split) if rule else None
            )
        labelled = open_flows[flow.flow_id]
        if labelled is not None and stats.payload_packets:
            labelled.snapshots.append(Snapshot(stats.features, stats.duration, stats.packets))
        if stats.final:
            del open_flows[flow.flow_id]
            if labelled is None:
                data.unlabelled += stats.payload_packets > 0
            elif labelled.snapshots:
                data.flows.append(labelled)
            else:
                data.without_payload += 1

    options = AnalysisOptions()
    engine = Engine(Inspector([]), idle_timeout=options.idle_timeout, max_flows=options.max_flows)
    attach(engine, [snapshots(observe)])
    try:
        feed_capture(path, engine)
    except InputError as exc:
        data.errors.append(str(exc))
    engine.finish()
