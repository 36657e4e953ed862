"""Where a correlator that was stopped (or killed) picks up: read back from its own events file.

The correlator's output is a function of the stream's order alone (bus/correlator.py), so a restart
replays the stream from its start, rebuilding the per-host state, and writes only what the file does not
hold: nothing made for a message before the last one the file shows (the highest `origin.bus_seq`), and
of what that message made, only the events past the file's highest id (a kill may fall between two
events of one message). A line cut short by a kill is removed first. Event ids go on after the highest
one in the file. Nothing is written twice, nothing lost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson

from minerwatch.errors import InputError

CHUNK = 1 << 20


@dataclass(frozen=True)
class ResumePoint:
    bus_seq: int = 0  # the last stream message some of whose events the file holds
    last_event_id: int = 0


def resume_point(path: str) -> ResumePoint:
    """What `path` (a correlator's events file) already holds; cuts off a partial last line."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return ResumePoint()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    bus_seq = last_id = 0
    kept = 0  # bytes of whole lines
    try:
        with open(path, "rb") as events:
            rest = b""
            while chunk := events.read(CHUNK):
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    kept += len(line) + 1
                    bus_seq, last_id = _read(line, path, bus_seq, last_id)
        if kept < size:  # a line cut short by a kill: the replay writes it again
            os.truncate(path, kept)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return ResumePoint(bus_seq, last_id)


def _read(line: bytes, path: str, bus_seq: int, last_id: int) -> tuple[int, int]:
    try:
        event = orjson.loads(line)
        last_id = max(last_id, int(event["event_id"]))
        origin = event.get("origin")
        if isinstance(origin, dict):
            bus_seq = max(bus_seq, int(origin["bus_seq"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise InputError(f"{path} is not a correlator's events file (line {line[:60]!r})") from None
    return bus_seq, last_id
