"""How a detector plugs into an analysis: one typed declaration, `Detector`, registered in pipeline.DETECTORS.

A declaration names the detector once (the name of --detectors and of its section of the `stats` event),
gives the dataclass of its own options (their defaults are written there and nowhere else), and the setup
that turns a context and those options into the parts the engine calls (`DetectorParts`): stream and
datagram factories with the openings and ports they take, flow-start and flow-end observers, HTTP
consumers with their declared interest, event observers, a finish step and counters. Nothing is found by
looking for attributes: what is not in the parts is not called.

A detector never touches the engine or other detectors: it reads flows through the analysers it registers
(flows/analyzers.py) and speaks through events, correlator observations and, to the detectors that match
what others read (intel), typed Sightings (sightings.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from minerwatch.decode._flowstats import CheckpointGate
from minerwatch.detectors.sightings import Sighting
from minerwatch.encrypted.flowstats import FlowStatsObserver
from minerwatch.errors import UsageError
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
    from minerwatch.pipeline import AnalysisOptions


class OwnStates:
    """HostState of one process: each state is made here, once per name."""

    def __init__(self) -> None:
        self.made: dict[str, Any] = {}

    def __call__(self, name: str, make: Callable[[], Any], mirror: tuple[str, ...] = ()) -> Any:
        if name not in self.made:
            self.made[name] = make()
        return self.made[name]


def forwarded(hook: Callable[..., Any] | None) -> bool:
    """Is `hook` a stand-in's method, whose call the correlator runs (scale/), rather than this process?"""
    return getattr(hook, "forwarded", False)


class HostState(Protocol):
    """How a detector makes state that spans flows (per host, per attacker): `host_state(name, make)`.

    In one process that is `make()`. With workers (scale/), each worker sees only some flows, so a worker
    gets a stand-in that forwards every method call (arguments pickled, results dropped) to the one
    object the correlator process made under `name`; `mirror` names the methods a worker also applies to
    a local copy it can query (the DNS answers every worker follows). A name is one object: detectors
    that ask for the same name share it (the encrypted detector reads the DNS answers the intel detector
    keeps under `dns`), and `make` runs for the first only.
    """

    def __call__(self, name: str, make: Callable[[], Any], mirror: tuple[str, ...] = ()) -> Any: ...


@dataclass
class DetectorContext:
    events: EventFactory
    emit: Callable[[Event], None]
    correlator: VerdictCorrelator
    options: AnalysisOptions  # what the whole analysis shares (stream_depth, show_secrets, intel_db...)
    incidents: IncidentCorrelator  # takes kill-chain steps (StageObservation) through `observe`
    sight: Callable[[Sighting], None]  # indicators a detector read, for the detectors that match them
    host_state: HostState = field(default_factory=OwnStates)


@dataclass
class DetectorParts:
    """What a detector's setup hands the engine; everything optional, nothing called that is not here."""

    stream_factories: list[StreamFactory] = field(default_factory=list)
    expected_flows: list[ExpectedFlows] = field(default_factory=list)  # flows announced by other flows
    datagram_factories: list[DatagramFactory] = field(default_factory=list)
    flow_end_observers: list[FlowEndObserver] = field(default_factory=list)
    http_consumers: list[HttpConsumer] = field(default_factory=list)  # share one HTTP parse per flow
    flow_start_observers: list[FlowStartObserver] = field(default_factory=list)
    # Per-flow payload statistics of TCP flows, at checkpoints and at the end (encrypted/flowstats.py);
    # the engine keeps them only while some detector asks.
    flow_stats_observers: list[FlowStatsObserver] = field(default_factory=list)
    # Which checkpoints those observers need, decided in compiled code (decode/_flowstats.pyx); used when no
    # other detector observes statistics.
    flow_stats_gate: CheckpointGate | None = None
    # The shape of the client's first TLS records, walked by the engine in every TCP flow that opens with a
    # TLS handshake record (Flow.tls, decode/_tlsrecords.pyx); off unless some detector asks.
    tls_records: bool = False
    sighting_observers: list[Callable[[Sighting], None]] = field(default_factory=list)  # see sightings.py
    finish: Callable[[], None] | None = None  # emit what is still pending at the end of the input
    stats: Callable[[], dict[str, Any]] | None = None  # counters for the `stats` event, under the name
    # Re-read detection content from disk (live capture, SIGHUP); flows in progress keep their state.
    reload: Callable[[], None] | None = None


@dataclass(frozen=True)
class NoOptions:
    """The options of a detector that has none of its own (it reads only the analysis-wide ones)."""


Options = TypeVar("Options")


@dataclass(frozen=True)
class Detector(Generic[Options]):
    name: str  # --detectors, and the detector's section of the `stats` event
    options: type[Options]  # a dataclass whose every field has a default: Options() is the default run
    setup: Callable[[DetectorContext, Options], DetectorParts]

    def options_in(self, chosen: Mapping[str, object]) -> Options:
        """This detector's options among `chosen` (AnalysisOptions.detector_options), else the defaults."""
        value = chosen.get(self.name)
        if value is None:
            return self.options()
        if not isinstance(value, self.options):
            raise UsageError(f"options of detector {self.name}: expected {self.options.__name__}")
        return value

    def start(self, context: DetectorContext) -> DetectorParts:
        return self.setup(context, self.options_in(context.options.detector_options))
