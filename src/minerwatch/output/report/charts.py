"""Geometry of the report's two charts, computed in Python and drawn as inline SVG by the template.

No chart library: the page must open offline with no request at all, and two small charts do not justify
shipping one. Only coordinates are computed here; every label is escaped by the template (autoescape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from minerwatch.correlate.stages import Stage

WIDTH = 760
LANE = 22
LEFT = 170  # room for the stage names
POINTS_PER_LANE = 300  # a lane with more events shows the first ones (the count is in the strip)


@dataclass
class Point:
    x: float
    y: float
    event_id: int
    title: str


@dataclass
class Timeline:
    width: int
    height: int
    lanes: list[tuple[str, float]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)


def _seconds(timestamp: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def timeline(incident: dict[str, Any], times: dict[int, str]) -> Timeline:
    """Events of an incident by stage along time: one lane per kill-chain stage, a dot per event."""
    chart = Timeline(WIDTH, LANE * len(Stage) + 30)
    chart.lanes = [(stage.value.replace("_", " "), LANE * n + LANE / 2) for n, stage in enumerate(Stage)]
    lane_of = {stage.value: n for n, stage in enumerate(Stage)}
    dots = []
    for stage in incident.get("stages") or []:
        if not isinstance(stage, dict) or stage.get("name") not in lane_of:
            continue
        for event_id in (stage.get("event_ids") or [])[:POINTS_PER_LANE]:
            seconds = _seconds(times.get(event_id))
            if seconds is not None:
                dots.append((seconds, lane_of[stage["name"]], event_id))
    if not dots:
        return chart
    start = min(d[0] for d in dots)
    span = max(d[0] for d in dots) - start or 1.0
    scale = (WIDTH - LEFT - 20) / span
    chart.points = [
        Point(
            LEFT + (seconds - start) * scale,
            LANE * lane + LANE / 2,
            event_id,
            f"event {event_id}: {times[event_id]}",
        )
        for seconds, lane, event_id in dots
    ]
    chart.ticks = [
        (
            LEFT + (WIDTH - LEFT - 20) * k / 4,
            datetime.fromtimestamp(start + span * k / 4, UTC).strftime("%H:%M:%S"),
        )
        for k in range(5)
    ]
    return chart


@dataclass
class Node:
    x: float
    y: float
    label: str
    kind: str  # attacker, victim, pool, spread


@dataclass
class Graph:
    width: int
    height: int
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[float, float, float, float]] = field(default_factory=list)


def endpoint_label(entry: Any) -> str:
    if isinstance(entry, dict):
        address = entry.get("ip") or entry.get("host") or entry.get("address") or "?"
        return f"{address}:{entry['port']}" if entry.get("port") is not None else str(address)
    return str(entry)


def graph(incident: dict[str, Any], limit: int = 8) -> Graph:
    """Who attacked the victim, where it mines, whom it spread to: attackers → victim → pools and targets."""
    columns = {
        "attacker": [endpoint_label(a) for a in (incident.get("attackers") or [])[:limit]],
        "pool": [endpoint_label(p) for p in (incident.get("pools") or [])[:limit]],
        "spread": [endpoint_label(s) for s in (incident.get("spread_to") or [])[:limit]],
    }
    rows = max(1, len(columns["attacker"]), len(columns["pool"]) + len(columns["spread"]))
    chart = Graph(WIDTH, rows * 34 + 20)
    victim = Node(WIDTH / 2, chart.height / 2, str(incident.get("host", "?")), "victim")
    chart.nodes.append(victim)
    for n, label in enumerate(columns["attacker"]):
        node = Node(90, 27 + n * 34, label, "attacker")
        chart.nodes.append(node)
        chart.edges.append((node.x + 80, node.y, victim.x - 80, victim.y))
    right = [(label, "pool") for label in columns["pool"]] + [
        (label, "spread") for label in columns["spread"]
    ]
    for n, (label, kind) in enumerate(right):
        node = Node(WIDTH - 90, 27 + n * 34, label, kind)
        chart.nodes.append(node)
        chart.edges.append((victim.x + 80, victim.y, node.x - 80, node.y))
    return chart
