"""scan-disk's findings (`diskmining` events, JSON lines) read back and joined with the hosts' verdicts, so
that a verdict rests on both sides: the Chia peer traffic (or any other finding about the host) and the
plots on its disks. A host with findings and no verdict from the traffic gets one from them
(correlate/verdicts.py).

The key is the host: scan-disk writes it in `src_ip` (`scan-disk --host IP`, docs/hostscan.md). A file of
findings is hostile input like a capture: lines longer than MAX_LINE are skipped, anything that is not a
`diskmining` event with a known kind is counted and skipped, only known fields of a finding are kept, cut
to MAX_TEXT characters and lists to MAX_ITEMS items, at most MAX_HOSTS hosts and, per host, MAX_LISTED
findings (plots first, then by time), with every finding counted. Cost: one pass over each file.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minerwatch.errors import InputError
from minerwatch.events import Event, EventFactory, iso_timestamp

if TYPE_CHECKING:
    from minerwatch.correlate.verdicts import VerdictCorrelator

KINDS = ("plot", "plot_in_progress", "farming_config", "chia_keyring", "plotter_binary")
MAX_LINE = 1 << 20  # bytes of one line: a finding is a few hundred
MAX_TEXT = 4096  # characters of a kept string (a path)
MAX_ITEMS = 8  # items of a kept list (plot directories, pool URLs)
MAX_HOSTS = 10_000
MAX_LISTED = 16  # findings listed per host (all are counted)
MAX_KEYS = 8  # farmer public keys listed per host
BIG = 1 << 63  # integers kept (sizes, offsets) are below this
DROPPED = object()
# The finding's fields that are kept (docs/hostscan.md, the diskmining event); everything else is dropped.
FIELDS = frozenset(
    {"kind", "path", "path_hex", "size", "mtime", "confidence", "format", "k", "plot_id", "memo_type",
     "layout", "plot_index", "complete", "reason", "compression_level", "strength", "expected_size",
     "farmer_public_key", "pool_key", "plotter", "tool", "growth_bytes_per_s", "network", "pool_urls",
     "plot_directories", "launcher_ids", "farmer_target_address", "pool_target_address", "group_size",
     "meta_group", "header_size", "size_ratio", "vanished"}
)  # fmt: skip


@dataclass
class DiskStats:
    files: int = 0
    lines: int = 0
    findings: int = 0  # diskmining events read
    hosts: int = 0
    skipped_lines: int = 0  # not a diskmining event with a known kind (other events, bad JSON, too long)
    hosts_dropped: int = 0  # findings of hosts beyond MAX_HOSTS
    joined_hosts: int = 0  # hosts whose findings were joined with their verdict (every host read)


@dataclass(frozen=True)
class DiskFinding:
    ts: float  # the file's mtime, as scan-disk stamps it
    source: str  # where it was read: FILE:LINE, and scan-disk's own event id when it had one
    body: dict[str, Any]  # the kept fields of its `diskmining` object

    @property
    def rank(self) -> tuple[int, float]:
        """Plots first (the proof of farming), then the most recent."""
        return (self.body["kind"] == "plot", self.ts)


@dataclass
class HostDisk:
    """One host's findings: counted by kind, the most telling listed."""

    first_seen: float  # the oldest finding's mtime
    last_seen: float
    counts: dict[str, int] = field(default_factory=dict)
    confidence: float = 0.0  # the most confident finding's
    plots_complete: int = 0
    plot_bytes: int = 0
    farmer_keys: set[str] = field(default_factory=set)
    listed: list[tuple[tuple[int, float], int, DiskFinding]] = field(default_factory=list)  # a heap

    def add(self, finding: DiskFinding, serial: int) -> None:
        body = finding.body
        kind = body["kind"]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.first_seen, self.last_seen = min(self.first_seen, finding.ts), max(self.last_seen, finding.ts)
        self.confidence = max(self.confidence, finding.body["confidence"])
        if kind == "plot":
            self.plots_complete += body.get("complete") is True
            size = body.get("size")
            self.plot_bytes += size if isinstance(size, int) and size > 0 else 0
        key = body.get("farmer_public_key")
        if isinstance(key, str) and len(self.farmer_keys) < MAX_KEYS:
            self.farmer_keys.add(key)
        entry = (finding.rank, -serial, finding)  # the earlier of two equal ones is kept
        if len(self.listed) < MAX_LISTED:
            heapq.heappush(self.listed, entry)
        elif entry[:2] > self.listed[0][:2]:
            heapq.heapreplace(self.listed, entry)

    def findings(self) -> list[DiskFinding]:
        return [f for _, _, f in sorted(self.listed, key=lambda e: (e[2].ts, e[1]))]

    def summary(self, event_ids: list[int]) -> dict[str, Any]:
        """The verdict's `disk` object; `event_ids`: the listed findings as this analysis emitted them."""
        return {
            "findings": sum(self.counts.values()),
            "confidence": self.confidence,
            "first_seen": iso_timestamp(self.first_seen),
            "last_seen": iso_timestamp(self.last_seen),
            "kinds": dict(sorted(self.counts.items())),
            "plots_complete": self.plots_complete,
            "plot_bytes": self.plot_bytes,
            "farmer_public_keys": sorted(self.farmer_keys),
            "event_ids": event_ids,
            "sources": [f.source for f in self.findings()],
        }


@dataclass(frozen=True)
class JoinedDisk:
    """A host's findings joined with its Chia verdict: `event_ids` are the listed ones as this analysis
    emitted them."""

    found: HostDisk
    event_ids: list[int]

    def as_dict(self) -> dict[str, Any]:
        return self.found.summary(self.event_ids)


class DiskFindings:
    """The findings of some scan-disk runs, by host."""

    def __init__(self) -> None:
        self.hosts: dict[str, HostDisk] = {}
        self.stats = DiskStats()
        self._serial = 0

    def read_file(self, path: str) -> None:
        """Every line of `path`; an unreadable file is an InputError (one line)."""
        self.stats.files += 1
        try:
            with Path(path).open("rb") as lines:
                number, cut = 0, False
                for piece in iter(lambda: lines.readline(MAX_LINE + 1), b""):
                    ended = piece.endswith(b"\n")
                    if cut or len(piece) > MAX_LINE:  # a line too long, read in pieces to its end
                        number += ended
                        self.stats.skipped_lines += ended
                        cut = not ended
                        continue
                    number += 1
                    self._line(piece, f"{path}:{number}")
                self.stats.lines += number + cut
                self.stats.skipped_lines += cut
        except OSError as exc:
            raise InputError(f"cannot read disk findings {path}: {exc.strerror or exc}") from None

    def _line(self, line: bytes, where: str) -> None:
        finding, host = _finding(line, where)
        if finding is None or host is None:
            self.stats.skipped_lines += line.strip() != b""
            return
        self.stats.findings += 1
        entry = self.hosts.get(host)
        if entry is None:
            if len(self.hosts) >= MAX_HOSTS:
                self.stats.hosts_dropped += 1
                return
            entry = self.hosts[host] = HostDisk(finding.ts, finding.ts)
            self.stats.hosts += 1
        self._serial += 1
        entry.add(finding, self._serial)


def _finding(line: bytes, where: str) -> tuple[DiskFinding | None, str | None]:
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(event, dict) or event.get("event_type") != "diskmining":
        return None, None
    body, host, stamp = event.get("diskmining"), event.get("src_ip"), event.get("timestamp")
    if not (isinstance(body, dict) and body.get("kind") in KINDS and isinstance(host, str) and host):
        return None, None
    try:
        ts = datetime.fromisoformat(stamp).timestamp() if isinstance(stamp, str) else 0.0
    except (ValueError, OverflowError, OSError):
        ts = 0.0
    kept = {}
    for name, value in body.items():
        if name in FIELDS and (bounded := _bounded(value)) is not DROPPED:
            kept[name] = bounded
    confidence, size = kept.get("confidence"), kept.get("size")
    if not (isinstance(kept.get("path"), str) and isinstance(size, int) and size >= 0):
        return None, None  # what every finding has (the event's schema)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        return None, None
    event_id = event.get("event_id")
    source = f"{where} (event {event_id})" if isinstance(event_id, int) else where
    return DiskFinding(ts, source[:MAX_TEXT], kept), host[:MAX_TEXT]


def _bounded(value: Any) -> Any:
    """A scalar or a list of strings, cut to size; DROPPED for anything else."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -BIG < value < BIG else DROPPED
    if isinstance(value, float):
        return value if math.isfinite(value) else DROPPED
    if isinstance(value, list):
        return [item[:MAX_TEXT] for item in value[:MAX_ITEMS] if isinstance(item, str)]
    return DROPPED


def read_findings(paths: Iterable[str], errors: list[str]) -> DiskFindings:
    """Every file of `paths`; one that cannot be read adds its one-line message to `errors`, and the others
    are still read."""
    findings = DiskFindings()
    for path in paths:
        try:
            findings.read_file(path)
        except InputError as exc:
            errors.append(str(exc))
    return findings


def join(
    findings: DiskFindings, verdicts: VerdictCorrelator, events: EventFactory, emit: Callable[[Event], None]
) -> None:
    """For each host with findings: the listed ones as `diskmining` events of this analysis (`source` says
    where scan-disk wrote each), and their summary for its verdict (`verdicts.disk`), which the incident
    lists as a step of its own."""
    for host, found in sorted(findings.hosts.items()):
        ids = []
        for finding in found.findings():
            event = events.make(
                "diskmining", finding.ts, finding.body | {"source": finding.source}, host=host
            )
            emit(event)
            ids.append(event["event_id"])
        verdicts.disk[host] = JoinedDisk(found, ids)
        findings.stats.joined_hosts += 1
