"""How a detector plugs into an analysis: it gets a context, returns the analysers and hooks it needs.

A detector never touches the engine or other detectors: it reads flows through the analysers it registers
(flows/analyzers.py) and speaks through events and correlator observations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

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


def own_state(name: str, make: Callable[[], Any], mirror: tuple[str, ...] = ()) -> Any:
    """HostState of one process: the state is simply made here."""
    return make()


class HostState(Protocol):
    """How a detector makes state that spans flows (per host, per attacker): `host_state(name, make)`.

    In one process that is `make()`. With workers (scale/), each worker sees only some flows, so a worker
    gets a stand-in that forwards every method call (arguments pickled, results dropped) to the one
    object the correlator process made under `name`; `mirror` names the methods a worker also applies to
    a local copy it can query (the DNS answers every worker follows).
    """

    def __call__(self, name: str, make: Callable[[], Any], mirror: tuple[str, ...] = ()) -> Any: ...


@dataclass
class DetectorContext:
    events: EventFactory
    emit: Callable[[Event], None]
    correlator: VerdictCorrelator
    options: Any  # pipeline.AnalysisOptions (stream_depth, show_secrets, ...)
    incidents: IncidentCorrelator  # takes kill-chain steps (StageObservation) through `observe`
    host_state: HostState = own_state


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
    event_observers: list[Callable[[Event], None]] = field(default_factory=list)  # every event emitted
    finish: Callable[[], None] | None = None  # emit what is still pending at the end of the input
    stats: Callable[[], dict[str, Any]] | None = None  # counters for the `stats` event
    # Re-read detection content from disk (live capture, SIGHUP); flows in progress keep their state.
    reload: Callable[[], None] | None = None


PluginSetup = Callable[[DetectorContext], DetectorPlugin]
