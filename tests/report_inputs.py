"""Inputs for the report tests: the demonstration capture's events, and hostile or huge event streams."""

from __future__ import annotations

from pathlib import Path

from minerwatch.capture.sample import write_sample
from minerwatch.correlate.stages import Stage
from minerwatch.pipeline import Analysis, AnalysisOptions

HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>[x](http://evil.test) `|`"


def demo_events(tmp_path: Path) -> list[dict]:
    """The events of a whole analysis of `minerwatch sample` (intel off: the report must not need it)."""
    path = tmp_path / "demo.pcap"
    write_sample(path)
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions(detectors=None, intel_db=str(tmp_path / "kb")))
    analysis.feed_file(path)
    analysis.finish()
    return events


def incident_event(event_id: int, host: str, ids: list[int], text: str = "") -> dict:
    """An incident event as docs/events.md describes it (for rendering tests only)."""
    return {
        "timestamp": "2025-11-24T16:05:00.000000Z",
        "event_type": "incident",
        "event_id": event_id,
        "src_ip": host,
        "incident": {
            "id": f"inc-{host}",
            "host": host,
            "role": "victim",
            "status": "compromised",
            "score": 0.9,
            "first_seen": "2025-11-24T16:00:00.000000Z",
            "last_seen": "2025-11-24T16:04:00.000000Z",
            "entry": {
                "stage": "exploitation",
                "peer": f"203.0.113.9{text}",
                "services": ["ssh"],
                "what": "ssh",
            },
            "stages": [
                {
                    "name": stage.value,
                    "first_seen": "2025-11-24T16:00:00.000000Z",
                    "last_seen": "2025-11-24T16:04:00.000000Z",
                    "event_ids": ids,
                    "techniques": ["T1110"],
                }
                for stage in (Stage.ATTEMPTED_ATTACK, Stage.ACTIONS_ON_OBJECTIVE)
            ],
            "attackers": [f"203.0.113.9{text}"],
            "spread_to": [],
            "pools": [{"address": "198.51.100.7:3333", "basis": "behaviour", "confidence": 0.99}],
            "wallets": [],
            "agents": [f"xmrig{text}"],
            "files": [],
            "recommendations": [{"id": "block-pools", "text": f"Block the pool {text}"}],
        },
    }


def big_events(hosts: int, events: int) -> list[dict]:
    """`events` events over `hosts` incident hosts: the size the report must stay fast and small at."""
    out: list[dict] = []
    per_host = max(1, (events - 2 * hosts) // hosts)
    next_id = 1
    for n in range(hosts):
        host = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        ids = []
        for k in range(per_host):
            out.append(
                {
                    "timestamp": f"2025-11-24T16:{k % 60:02d}:00.000000Z",
                    "event_type": "mining",
                    "event_id": next_id,
                    "src_ip": host,
                    "dest_ip": "198.51.100.7",
                    "mining": {"behaviour": "submit", "dialect": "cryptonote", "outcome": "accepted"},
                }
            )
            ids.append(next_id)
            next_id += 1
        out.append(incident_event(next_id, host, ids))
        out.append(
            {
                "timestamp": "2025-11-24T16:05:00.000000Z",
                "event_type": "host",
                "event_id": next_id + 1,
                "src_ip": host,
                "host": {
                    "host": host,
                    "status": "compromised",
                    "reason": "pool behaviour confirmed",
                    "incident": f"inc-{host}",
                    "first_seen": "2025-11-24T16:00:00.000000Z",
                    "last_seen": "2025-11-24T16:05:00.000000Z",
                },
            }
        )
        next_id += 2
    return out
