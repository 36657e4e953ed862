"""What every feed reader shares: bounded line reading, the problem report, and row field mapping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from minerwatch.intel.model import Indicator
from minerwatch.intel.normalize import guess, text
from minerwatch.output.terminal import visible

MAX_LINE = 64 * 1024  # longer lines are reported and skipped, never held in memory whole
SAMPLE_LIMIT = 20  # problems kept verbatim; all are counted

# Column / key names accepted for each field (feeds spell them differently).
ALIASES = {
    "type": ("type", "indicator_type", "kind"),
    "value": ("value", "indicator", "ioc", "observable"),
    "family": ("family", "malware", "malware_family", "threat"),
    "tags": ("tags", "labels"),
    "confidence": ("confidence",),
    "first_seen": ("first_seen", "firstseen", "first_seen_utc"),
    "last_seen": ("last_seen", "lastseen"),
    "valid_until": ("valid_until", "expires", "expiry"),
    "reference": ("reference", "ref", "url_reference", "source_url"),
}


@dataclass
class Problems:
    """Bad entries: counted, the first few kept with their line (or object) number and reason."""

    count: int = 0
    samples: list[tuple[int, str]] = field(default_factory=list)

    def add(self, where: int, reason: str) -> None:
        self.count += 1
        if len(self.samples) < SAMPLE_LIMIT:
            self.samples.append((where, visible(reason)))  # reasons quote the feed: one printable line


def iter_lines(fh: IO[str], problems: Problems, limit: int = MAX_LINE) -> Iterator[tuple[int, str]]:
    """(line number, line without newline); lines over `limit` are skipped in chunks and reported."""
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith("\n"):
            while (rest := fh.readline(limit)) and not rest.endswith("\n"):
                pass
            problems.add(number, f"line longer than {limit} characters")
            continue
        yield number, line.rstrip("\r\n")


def iter_json(fh: IO[str], problems: Problems, limit: int = MAX_LINE) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line of JSON lines; lines that are not JSON are
    reported."""
    for number, line in iter_lines(fh, problems, limit):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            problems.add(number, f"not JSON: {exc}")
            continue
        yield number, value


def pick(row: Mapping[str, Any], name: str) -> Any:
    for key in ALIASES[name]:
        value = row.get(key)
        if value not in (None, ""):
            return value
    return None


def row_indicator(row: Mapping[str, Any], default_type: str | None) -> Indicator:
    """An Indicator from a CSV row or JSON object keyed by (lower-case) field names."""
    value = text("value", pick(row, "value"))
    if not value:
        raise ValueError("no value")
    kind = text("type", pick(row, "type")) or default_type
    fields = {name: pick(row, name) for name in ALIASES if name not in ("type", "value")}
    if not kind:
        kind, value = guess(value)
    return Indicator.build(kind, value, **fields)
