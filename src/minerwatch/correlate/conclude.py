"""What the correlators conclude when an input ends, as events: a verdict per host, then the incidents and
the hosts they mark. Shared by the packet analysis (pipeline.py) and the log ingest (ingest/), so both
end alike; with a store, incidents are joined with and saved to what earlier runs kept."""

from __future__ import annotations

from collections.abc import Callable

from minerwatch.correlate.disk import DiskFindings, join
from minerwatch.correlate.incidents import IncidentCorrelator
from minerwatch.correlate.store import IncidentStore
from minerwatch.correlate.verdicts import VerdictCorrelator
from minerwatch.events import Event, EventFactory


def conclude(
    events: EventFactory,
    emit: Callable[[Event], None],
    verdicts: VerdictCorrelator,
    incidents: IncidentCorrelator,
    store: str | None,
    disk: DiskFindings | None = None,
) -> tuple[list[Event], list[Event]]:
    """(verdict events, incident events), each emitted; the `host` events follow the incidents. With scan-disk
    findings, those of each host come first, as events the verdicts cite."""
    if disk is not None:
        join(disk, verdicts, events, emit)
    made_verdicts = []
    for last_seen, host, body in verdicts.verdicts():
        event = events.make("verdict", last_seen, body, host=host)
        made_verdicts.append(event)
        emit(event)
    if store is None:
        bodies, hosts = incidents.incidents(verdicts)
    else:
        with IncidentStore.open(store) as opened:
            bodies, hosts = incidents.incidents(verdicts, opened)
    made_incidents = []
    for kind, body in [("incident", b) for b in bodies] + [("host", h) for h in hosts]:
        event = events.make(kind, body.pop("_ts"), body, host=body["host"])
        emit(event)
        if kind == "incident":
            made_incidents.append(event)
    return made_verdicts, made_incidents
