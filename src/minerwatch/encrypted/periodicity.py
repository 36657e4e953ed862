"""Whether a flow's server pushes at a steady cadence, from the flow statistics: weak evidence that it is a
pool sending jobs (Monero: a new block about every 120 s) or a Chia peer (signage points every ~9.4 s,
pings every ~60 s), and not a download or a page load.

Why weak: MQTT keep-alives, WebSocket heartbeats and IMAP IDLE are just as regular. It supports "mining or
Chia" together (the set {tls_mining, chia}), never one of them, and never alone (fusion.py).
"""

from __future__ import annotations

from minerwatch.encrypted.flowstats import Summary
from minerwatch.encrypted.fusion import CHIA, MINING, Evidence, Mass

MIN_GAPS = 2  # gaps between server-started bursts (three bursts) before a cadence means anything
MAX_VARIATION = 0.25  # standard deviation / mean of those gaps
MIN_PERIOD = 5.0  # seconds: faster than this is streaming, not a job cadence
MASS = 0.3
SUPPORT: Mass = {frozenset({MINING, CHIA}): MASS}


def steady(gaps: Summary) -> bool:
    """Whether the gaps between the bursts the server started make a cadence (the evidence's test alone)."""
    return gaps.count >= MIN_GAPS and gaps.mean >= MIN_PERIOD and gaps.std <= MAX_VARIATION * gaps.mean


def periodicity(gaps: Summary, bursts: int) -> Evidence | None:
    """From the gaps between the bursts the server started, and their number (FlowStats.to_client)."""
    if not steady(gaps):
        return None
    detail = {
        "server_bursts": bursts,
        "period": round(gaps.mean, 1),
        "std": round(gaps.std, 1),
    }
    return Evidence("periodicity", SUPPORT, weak=True, detail=detail)
