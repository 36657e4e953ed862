"""How a detector plugs into an analysis: it gets a context, returns the analysers and hooks it needs.

A detector never touches the engine or other detectors: it reads flows through the analysers it registers
(flows/analyzers.py) and speaks through events, correlator observations and, to the detectors that match
what others read (intel), typed Sightings (sightings.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from minerwatch.detectors.sightings import Sighting
from minerwatch.encrypted.flowstats import FlowStatsObserver
from minerwatch.events import Event, EventFactory
from minerwatch.flows.analyzers import (
    DatagramFactory,
    ExpectedFlows,
    FlowEndObserver,
    FlowStartObserver,
    StreamFactory,
)
from minerwatch.flows.http import HttpConsumer

if TYPE_CHECKING:
    from minerwatch.correlate.incidents import IncidentCorrelator
    from minerwatch.correlate.verdicts import VerdictCorrelator


@dataclass
class DetectorContext:
    events: EventFactory
    emit: Callable[[Event], None]
    correlator: VerdictCorrelator
    options: Any  # pipeline.AnalysisOptions (stream_depth, show_secrets, ...)
    incidents: IncidentCorrelator  # takes kill-chain steps (StageObservation) through `observe`
    sight: Callable[[Sighting], None]  # indicators a detector read, for the detectors that match them


@dataclass
class DetectorPlugin:
    name: str
    stream_factories: list[StreamFactory] = field(default_factory=list)
    expected_flows: list[ExpectedFlows] = field(default_factory=list)  # flows announced by other flows
    datagram_factories: list[DatagramFactory] = field(default_factory=list)
    flow_end_observers: list[FlowEndObserver] = field(default_factory=list)
    http_consumers: list[HttpConsumer] = field(default_factory=list)  # share one HTTP parse per flow
    flow_start_observers: list[FlowStartObserver] = field(default_factory=list)
    # Per-flow payload statistics of TCP flows, at checkpoints and at the end (encrypted/flowstats.py);
    # the engine keeps them only while some detector asks.
    flow_stats_observers: list[FlowStatsObserver] = field(default_factory=list)
    sighting_observers: list[Callable[[Sighting], None]] = field(default_factory=list)  # see sightings.py
    finish: Callable[[], None] | None = None  # emit what is still pending at the end of the input
    stats: Callable[[], dict[str, Any]] | None = None  # counters for the `stats` event
    # Re-read detection content from disk (live capture, SIGHUP); flows in progress keep their state.
    reload: Callable[[], None] | None = None


PluginSetup = Callable[[DetectorContext], DetectorPlugin]
