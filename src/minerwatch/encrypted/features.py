"""FlowStats -> the fixed feature vector the flow model reads. The names and their order are versioned:
a model records the FEATURE_VERSION it was trained with and is refused by another.

Ports and addresses are left out on purpose: pools listen on 443 as often as on 3333, and a model that
learnt the ports of its training recordings would not carry over to someone else's network.
"""

from __future__ import annotations

from minerwatch.encrypted.flowstats import DirectionStats, FlowStats

FEATURE_VERSION = 1
FIRST_N = 8

_DIRECTION = (
    "packets", "payload_bytes", "size_mean", "size_std", "size_min", "size_max", "gap_mean", "gap_std",
    "gap_min", "gap_max", "bursts", "burst_gap_mean", "burst_gap_std", "burst_gap_min", "burst_gap_max",
    "bursts_per_minute",
)  # fmt: skip

FEATURE_NAMES: tuple[str, ...] = (
    "duration",
    "packets",
    "byte_ratio",
    "push_ratio",
    "server_burst_share",
    *(f"{side}_{name}" for side in ("cs", "sc") for name in _DIRECTION),
    *(f"first_size_{i}" for i in range(1, FIRST_N + 1)),
)


def _direction(d: DirectionStats, minutes: float) -> list[float]:
    s, g, b = d.sizes, d.gaps, d.burst_gaps
    return [
        s.count, d.payload_bytes, s.mean, s.std, s.min, s.max, g.mean, g.std, g.min, g.max,
        d.bursts, b.mean, b.std, b.min, b.max, d.bursts / minutes,
    ]  # fmt: skip


def vector(stats: FlowStats) -> list[float]:
    """The features of one snapshot, in FEATURE_NAMES order."""
    bursts = stats.to_server.bursts + stats.to_client.bursts
    minutes = max(stats.duration, 1.0) / 60.0  # a flow shorter than a second counts as one second
    first = list(stats.first_sizes[:FIRST_N])
    return [
        stats.duration,
        stats.packets,
        stats.byte_ratio,
        stats.push_ratio,
        stats.to_client.bursts / bursts if bursts else 0.0,
        *_direction(stats.to_server, minutes),
        *_direction(stats.to_client, minutes),
        *(first + [0] * (FIRST_N - len(first))),
    ]
