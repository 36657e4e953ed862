"""One sensor log file, streamed: which format it is, and its Records one by one.

Formats are told apart by the first line that is not blank: `#separator` starts a Zeek TSV log; a JSON
object with `event_type` and `timestamp` is Suricata EVE; another JSON object is a Zeek JSON log. gzip
(rotated logs) is recognised by its magic bytes. Memory stays bounded whatever the file: lines are read one
at a time, and a line longer than MAX_LINE is skipped in chunks (the feeds' reader, intel/formats/base.py),
reported with its number like every other bad line.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO

import orjson

from minerwatch.errors import InputError
from minerwatch.ingest import suricata, zeek
from minerwatch.ingest.fields import Bad
from minerwatch.ingest.records import Record
from minerwatch.intel.formats.base import Problems, iter_lines
from minerwatch.output.terminal import visible

MAX_LINE = 1 << 20  # EVE alerts with payloads and large DNS answers stay well below this
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class FileStats:
    path: str
    format: str = "unknown"
    lines: int = 0
    records: int = 0  # lines of a read log or event type that became Records
    skipped: dict[str, int] = field(default_factory=dict)  # log or event type not read -> lines
    problems: Problems = field(default_factory=Problems)

    def as_dict(self) -> dict[str, object]:
        warnings = []
        if self.problems.count:
            where, reason = self.problems.samples[0]
            warnings.append(f"{self.problems.count} bad lines skipped (the first, line {where}: {reason})")
        return {
            "path": self.path,
            "format": self.format,
            "lines": self.lines,
            "records": self.records,
            "bad_lines": self.problems.count,
            "not_read": dict(sorted(self.skipped.items())[:32]),
            "warnings": warnings,
        }


def read(path: Path, stats: FileStats) -> Iterator[Record]:
    """Every Record of the log at `path`; InputError when it cannot be read or is no sensor log (what
    came before a fault deeper in the file has been given)."""
    name = visible(str(path))
    try:
        with _open(path) as fh:
            yield from _records(fh, path.name, stats)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"{name}: damaged gzip after line {stats.lines}: {exc}") from None


def _open(path: Path) -> IO[str]:
    raw = path.open("rb")
    try:
        compressed = raw.peek(2)[:2] == GZIP_MAGIC if isinstance(raw, io.BufferedReader) else False
        stream = gzip.GzipFile(fileobj=raw) if compressed else raw
        return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    except BaseException:
        raw.close()
        raise


def _records(fh: IO[str], file_name: str, stats: FileStats) -> Iterator[Record]:
    lines = iter_lines(fh, stats.problems, MAX_LINE)
    for number, line in lines:
        stats.lines = number
        if line.strip():
            break
    else:
        return
    rest = chain([(number, line)], lines)
    if line.startswith("#"):
        stats.format = "zeek-tsv"
        yield from _zeek_tsv(rest, file_name, stats)
        return
    try:
        first = orjson.loads(line)
    except orjson.JSONDecodeError:
        first = None
    if not isinstance(first, dict):
        raise InputError(f"{visible(file_name)}: neither Suricata EVE JSON nor a Zeek log (line {number})")
    stats.format = "suricata-eve" if suricata.looks_like_eve(first) else "zeek-json"
    yield from _json(rest, file_name, stats)


def _zeek_tsv(lines: Iterator[tuple[int, str]], file_name: str, stats: FileStats) -> Iterator[Record]:
    for number, log, entry in zeek.tsv_entries(_counted(lines, stats)):
        if isinstance(entry, Bad):
            stats.problems.add(number, str(entry))
            continue
        yield from _zeek(log or zeek.log_name(file_name), entry, number, stats)


def _json(lines: Iterator[tuple[int, str]], file_name: str, stats: FileStats) -> Iterator[Record]:
    eve = stats.format == "suricata-eve"
    default_log = zeek.log_name(file_name)
    for number, line in _counted(lines, stats):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            stats.problems.add(number, f"not JSON: {exc}")
            continue
        if not isinstance(value, dict):
            stats.problems.add(number, "not a JSON object")
            continue
        if eve:
            yield from _eve(value, number, stats)
        else:
            path = value.get("_path")
            log = path if isinstance(path, str) else default_log
            yield from _zeek(log if log in zeek.READ else zeek.guess_log(value) or log, value, number, stats)


def _counted(lines: Iterator[tuple[int, str]], stats: FileStats) -> Iterator[tuple[int, str]]:
    for number, line in lines:
        stats.lines = number
        yield number, line


def _eve(event: dict[str, object], number: int, stats: FileStats) -> Iterator[Record]:
    try:
        found = suricata.record(event, number)
    except Bad as exc:
        stats.problems.add(number, str(exc))
        return
    if found is None:
        kind = event.get("event_type")
        _skip(stats, kind if isinstance(kind, str) else "?")
        return
    stats.records += 1
    yield found


def _zeek(log: str, entry: dict[str, object], number: int, stats: FileStats) -> Iterator[Record]:
    if log not in zeek.READ:
        _skip(stats, log or "?")
        return
    try:
        found = zeek.record(log, entry, number)
    except Bad as exc:
        stats.problems.add(number, f"{log}: {exc}")
        return
    stats.records += 1
    yield from found


def _skip(stats: FileStats, kind: str) -> None:
    key = visible(kind[:40])
    if key in stats.skipped or len(stats.skipped) < 64:
        stats.skipped[key] = stats.skipped.get(key, 0) + 1
