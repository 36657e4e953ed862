"""The names of the fixed feature vector the flow model reads (FlowStats.features). The names and their
order are versioned: a model records the FEATURE_VERSION it was trained with and is refused by another.

The values are computed by the engine's statistics accumulator (decode/_flowstats.pyx, features_into), in
compiled code because the model scores flows at every checkpoint: per direction, the count, payload bytes,
mean/std/min/max of the segment sizes and of the gaps between them, bursts started and the mean/std/min/max
of the gaps between them, and bursts per minute (a flow shorter than a second counts as one second); then
the first FIRST_N payload sizes, + to the server, - to the client, 0 when the flow had fewer.

Ports and addresses are left out on purpose: pools listen on 443 as often as on 3333, and a model that
learnt the ports of its training recordings would not carry over to someone else's network.
"""

from __future__ import annotations

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
