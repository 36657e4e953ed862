"""Which incidents changed since they were last shown, for inputs that do not end: `live` and
`correlate` write an `incident` event for each incident as it changes (docs/live.md, docs/deploy.md)."""

from __future__ import annotations

from typing import Any

from minerwatch.correlate.incidents import IncidentCorrelator
from minerwatch.correlate.verdicts import VerdictCorrelator


class IncidentUpdates:
    def __init__(self, interval: float) -> None:
        self.interval = interval  # seconds of the caller's clock between two checks
        self.shown: dict[str, tuple[Any, ...]] = {}  # incident id -> what its last update event showed
        self.checked: tuple[float, tuple[int, ...]] = (float("-inf"), ())

    def changed(
        self, now: float, verdicts: VerdictCorrelator, incidents: IncidentCorrelator
    ) -> list[dict[str, Any]]:
        """The bodies (with `_ts`) of the incidents that changed (a new stage, pool or spread target,
        another status) since they were last shown. Checked at most once per `interval` of `now` and only
        after new observations, so a busy input pays for at most one incident build per interval."""
        generation = inputs(verdicts, incidents)
        last_time, last_generation = self.checked
        if generation == last_generation or now - last_time < self.interval:
            return []
        self.checked = (now, generation)
        bodies, _ = incidents.incidents(verdicts)
        changed = []
        for body in bodies:
            shown = _shown(body)
            if self.shown.get(body["id"]) != shown:
                self.shown[body["id"]] = shown
                changed.append(body)
        return changed


def inputs(verdicts: VerdictCorrelator, incidents: IncidentCorrelator) -> tuple[int, ...]:
    """Counts that change whenever the correlators take something new (the generation of their state)."""
    joined = incidents.joins.updates if incidents.joins is not None else 0  # other partitions' facts
    return incidents.stats["observations"], verdicts.observations, verdicts.peers.updates, joined


def _shown(incident: dict[str, Any]) -> tuple[Any, ...]:
    """What makes an incident worth a new event: its status, stages, pools and spread targets."""
    return (
        incident["status"],
        tuple(s["name"] for s in incident["stages"]),
        tuple(p["address"] for p in incident["pools"]),
        tuple(incident["spread_to"]),
    )
