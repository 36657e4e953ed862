"""The statistics the engine keeps per TCP flow (decode/_flowstats.pyx), as a Python value, and the one
hook through which detectors are told of them: at checkpoints while the flow lasts, and when it ends.

Checkpoints (after 8, 16, 32... payload segments, or 30 s of capture time after the previous one) let a
detector decide before a long-lived flow ends and let the evaluation measure time to detection. All sizes
are TCP payload bytes of segments that carry payload (pure ACKs are left out: they say more about the
receiver's TCP stack than about the application); retransmissions count as sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from minerwatch.decode import Engine, Flow
from minerwatch.decode._flowstats import CheckpointGate, StatsAccumulator


@dataclass(frozen=True, slots=True)
class Summary:
    """count / mean / standard deviation (population) / min / max of a series that is not kept."""

    count: int
    mean: float
    std: float
    min: float
    max: float

    @classmethod
    def of(cls, count: int, total: float, squares: float, low: float, high: float) -> Summary:
        if count == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0)
        mean = total / count
        return cls(count, mean, math.sqrt(max(0.0, squares / count - mean * mean)), low, high)


@dataclass(frozen=True, slots=True)
class DirectionStats:
    """One direction's payload segments: their sizes, the gaps between them, and the bursts it started
    (payload after at least a second of silence both ways: for a pool, job pushes; for a miner, shares)."""

    payload_bytes: int
    pushes: int  # segments with PSH set
    sizes: Summary
    gaps: Summary  # seconds between consecutive payload segments of this direction
    bursts: int
    burst_gaps: Summary  # seconds between the starts of consecutive bursts this side started

    @property
    def packets(self) -> int:
        return self.sizes.count

    @classmethod
    def of(cls, stats: StatsAccumulator, to_server: bool) -> DirectionStats:
        payload, pushes, bursts, sizes, gaps, burst_gaps = stats.direction(to_server)
        return cls(payload, pushes, Summary.of(*sizes), Summary.of(*gaps), bursts, Summary.of(*burst_gaps))


@dataclass(frozen=True, slots=True)
class FlowStats:
    flow_id: int
    client_port: int
    server_port: int
    first_ts: float  # the flow's first packet
    ts: float  # capture time of this snapshot (the flow's latest packet)
    packets: int  # every packet of the flow, both directions, payload or not
    to_server: DirectionStats
    to_client: DirectionStats
    first_sizes: tuple[int, ...]  # first payload sizes, + to the server, - to the client (up to 8)
    reason: str | None  # why the flow ended ("timeout", "end-of-capture"...), None at a checkpoint
    features: tuple[float, ...]  # what the flow model reads, named by features.FEATURE_NAMES

    @property
    def final(self) -> bool:
        return self.reason is not None

    @property
    def duration(self) -> float:
        return self.ts - self.first_ts

    @property
    def payload_packets(self) -> int:
        return self.to_server.packets + self.to_client.packets

    @property
    def byte_ratio(self) -> float:
        """Share of the payload bytes sent by the client (0.5 when none were sent)."""
        total = self.to_server.payload_bytes + self.to_client.payload_bytes
        return self.to_server.payload_bytes / total if total else 0.5

    @property
    def push_ratio(self) -> float:
        """Share of payload segments with PSH set: small interactive messages push every segment, bulk
        transfers few."""
        n = self.payload_packets
        return (self.to_server.pushes + self.to_client.pushes) / n if n else 0.0

    @classmethod
    def of(cls, flow: Flow, reason: str | None) -> FlowStats:
        """Snapshot of a flow whose engine keeps statistics (flow.stats is not None)."""
        acc = flow.stats
        assert acc is not None  # only flows the engine keeps statistics for are reported
        duration, packets = span(flow)
        return cls(
            flow.flow_id,
            flow.client_port,
            flow.server_port,
            flow.first_ts,
            flow.last_ts,
            packets,
            DirectionStats.of(acc, True),
            DirectionStats.of(acc, False),
            acc.first_sizes,
            reason,
            acc.features(duration, packets),
        )


def span(flow: Flow) -> tuple[float, int]:
    """The flow's duration so far and its packets, both directions, as the model's features count them:
    one definition for the snapshots training reads and the scores detection computes."""
    return flow.last_ts - flow.first_ts, flow.pkts_toserver + flow.pkts_toclient


# Called with (the engine's flow, None) at each checkpoint and (flow, why it ended) at its end, for every
# TCP flow the engine keeps statistics for (with a CheckpointGate: only at the checkpoints it wants). The
# observer picks its flows and reads what it needs from flow.stats: FlowStats.of(flow, reason) for every
# figure, or only the model's score (model.py), which is compiled: making a FlowStats costs more than most
# checkpoints need.
FlowStatsObserver = Callable[[Flow, str | None], None]


def snapshots(observer: Callable[[Flow, FlowStats], None]) -> FlowStatsObserver:
    """An observer of whole FlowStats values, one made at every call (training, evaluation, tests)."""

    def observe(flow: Flow, reason: str | None) -> None:
        observer(flow, FlowStats.of(flow, reason))

    return observe


def attach(
    engine: Engine,
    observers: Sequence[FlowStatsObserver],
    interval: float = 30.0,
    gate: CheckpointGate | None = None,
) -> None:
    """Make `engine` keep flow statistics for `observers` (none: statistics stay off and cost nothing);
    `gate`: which checkpoints they need, decided in compiled code (decode/_flowstats.pyx CheckpointGate;
    they then read ended flows' statistics in their flow-end observers)."""
    engine.stats_hook = _fan_out(tuple(observers)) if observers else None
    engine.stats_gate = gate if observers else None
    engine.stats_interval = interval


def _fan_out(observers: tuple[FlowStatsObserver, ...]) -> FlowStatsObserver:
    if len(observers) == 1:
        return observers[0]

    def hook(flow: Flow, reason: str | None) -> None:
        for observer in observers:
            observer(flow, reason)

    return hook
