"""The event contract: Suricata-EVE-like JSON objects, one per line (see docs/events.md).

Every event is built here so that the common fields (timestamp, ids, 5-tuple) are spelled one way.
Time is always capture time, never the wall clock: analysing the same input twice gives the same output.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

Event = dict[str, Any]

# What a secret seen in traffic (a password) is shown as, unless the user asks for secrets.
SECRET_MASK = "********"


class FlowLike(Protocol):
    """What an event needs to know about the flow it belongs to."""

    # Read-only (FlowInfo computes the text forms on first use).
    @property
    def flow_id(self) -> int: ...
    @property
    def community_id(self) -> str: ...
    @property
    def proto(self) -> str: ...
    @property
    def client_ip(self) -> str: ...
    @property
    def client_port(self) -> int: ...
    @property
    def server_ip(self) -> str: ...
    @property
    def server_port(self) -> int: ...


# The times ISO 8601 (and datetime) can write; a time beyond them (a corrupt file time) is written as the
# nearer bound rather than failing the whole output.
_FIRST, _LAST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def iso_timestamp(ts: float) -> str:
    """Capture time (seconds since the epoch) as ISO 8601 UTC with microseconds, as EVE writes it; a time
    outside years 1-9999 becomes the nearer of those bounds."""
    try:
        moment = datetime.fromtimestamp(ts, UTC)
    except (ValueError, OverflowError, OSError):
        moment = _LAST if ts > 0 else _FIRST
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def event_time(event: Event) -> float:
    """An event's capture time back as seconds since the epoch (the inverse of iso_timestamp)."""
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


class EventFactory:
    """Numbers events in the order they are made, so verdicts can cite the events they rest on."""

    def __init__(self) -> None:
        self._next_id = 1

    def claim(self) -> int:
        """The next id, for an event made in another process (scale/correlator.py renumbers them)."""
        self._next_id += 1
        return self._next_id - 1

    @property
    def next_id(self) -> int:
        return self._next_id

    def reserve(self, last_id: int) -> None:
        """Ids up to `last_id` are taken (a restarted correlator's earlier run wrote them: bus/resume.py)."""
        self._next_id = max(self._next_id, last_id + 1)

    def make(
        self,
        event_type: str,
        ts: float,
        body: dict[str, Any],
        flow: FlowLike | None = None,
        *,
        reverse: bool = False,
        host: str | None = None,
    ) -> Event:
        """One event; `body` goes under the key named after the event type.

        With a flow, `src_*` is the flow's client unless `reverse` (an event about what the server sent);
        without a flow, `host` names the machine the event is about (e.g. a verdict or a disk finding).
        """
        event: Event = {
            "timestamp": iso_timestamp(ts),
            "event_type": event_type,
            "event_id": self._next_id,
        }
        self._next_id += 1
        if flow is not None:
            src = (flow.server_ip, flow.server_port) if reverse else (flow.client_ip, flow.client_port)
            dst = (flow.client_ip, flow.client_port) if reverse else (flow.server_ip, flow.server_port)
            event.update(
                src_ip=src[0],
                src_port=src[1],
                dest_ip=dst[0],
                dest_port=dst[1],
                proto=flow.proto,
                flow_id=flow.flow_id,
                community_id=flow.community_id,
            )
        elif host is not None:
            event["src_ip"] = host
        event[event_type] = body
        return event
