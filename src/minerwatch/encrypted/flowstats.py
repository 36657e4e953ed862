"""The statistics the engine keeps per TCP flow (decode/_flowstats.pyx), as a Python value, and the one
hook through which detectors get them: at checkpoints while the flow lasts, and when it ends.

Checkpoints (after 8, 16, 32... payload segments, or 30 s of capture time after the previous one) let a
detector decide before a long-lived flow ends and let the evaluation measure time to detection. All sizes
are TCP payload bytes of segments that carry payload (pure ACKs are left out: they say more about the
receiver's TCP stack than about the application); retransmissions count as sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from minerwatch.decode import Engine, Flow


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
        return cls(
            flow.flow_id,
            flow.client_port,
            flow.server_port,
            flow.first_ts,
            flow.last_ts,
            flow.pkts_toserver + flow.pkts_toclient,
            _direction(acc.direction(True)),
            _direction(acc.direction(False)),
            acc.first_sizes,
            reason,
        )


def _direction(raw: tuple[Any, ...]) -> DirectionStats:
    payload, pushes, bursts, sizes, gaps, burst_gaps = raw
    return DirectionStats(
        payload, pushes, Summary.of(*sizes), Summary.of(*gaps), bursts, Summary.of(*burst_gaps)
    )


# (the engine's flow, its statistics now) -> None; `stats.final` says whether the flow has ended.
FlowStatsObserver = Callable[[Flow, FlowStats], None]
Observer = TypeVar("Observer", bound=FlowStatsObserver)


def for_flows(accepts: Callable[[Flow, bool], bool]) -> Callable[[Observer], Observer]:
    """Declare which snapshots an observer wants, by flow and whether the flow ended (e.g. the TLS flows a
    detector follows): the hook builds a snapshot only when some observer accepts it, since building it is
    most of the cost."""

    def declare(observer: Observer) -> Observer:
        observer.accepts = accepts  # type: ignore[attr-defined]
        return observer

    return declare


class StatsHook:
    """The engine's stats hook: builds each snapshot once, if an observer wants it, and hands it on."""

    def __init__(self, observers: Sequence[FlowStatsObserver]) -> None:
        self.observers = tuple((o, getattr(o, "accepts", None)) for o in observers)
        self.snapshots = 0

    def __call__(self, flow: Flow, reason: str | None) -> None:
        final = reason is not None
        wanted = [o for o, accepts in self.observers if accepts is None or accepts(flow, final)]
        if not wanted:
            return
        self.snapshots += 1
        stats = FlowStats.of(flow, reason)
        for observer in wanted:
            observer(flow, stats)


def attach(engine: Engine, observers: Sequence[FlowStatsObserver], interval: float = 30.0) -> None:
    """Make `engine` keep flow statistics for `observers` (none: statistics stay off and cost nothing)."""
    engine.stats_hook = StatsHook(observers) if observers else None
    engine.stats_interval = interval
