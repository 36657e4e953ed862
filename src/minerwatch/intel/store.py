"""The knowledge base: one local SQLite file that users update independently of minerwatch.

Importing a source replaces all of that source's indicators in one transaction, so a crash half-way
leaves the previous version answering (SQLite's write-ahead log discards an uncommitted import on the
next open). Every change bumps the knowledge base version and is written to the history.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from minerwatch.errors import InputError, UsageError
from minerwatch.intel.builtin import ensure_builtin
from minerwatch.intel.model import Indicator
from minerwatch.intel.normalize import normalise

ENV_PATH = "MINERWATCH_INTEL_DB"
DISCOVERED_SOURCE = "minerwatch-discovered"
_SCHEMA_VERSION = "1"
_BATCH = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, origin TEXT, format TEXT,
    imported_at TEXT, count INTEGER, rejected INTEGER, kb_version INTEGER);
CREATE TABLE IF NOT EXISTS indicators (
    source_id INTEGER NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, family TEXT, tags TEXT,
    confidence INTEGER, first_seen TEXT, last_seen TEXT, valid_until TEXT, reference TEXT);
CREATE INDEX IF NOT EXISTS indicators_source ON indicators (source_id);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, at TEXT, action TEXT, source TEXT, count INTEGER, rejected INTEGER,
    kb_version INTEGER, detail TEXT);
CREATE TABLE IF NOT EXISTS discovered (
    kind TEXT NOT NULL, value TEXT NOT NULL, port INTEGER NOT NULL DEFAULT 0, first_seen TEXT,
    last_seen TEXT, hosts TEXT, count INTEGER, evidence TEXT, PRIMARY KEY (kind, value, port));
"""


def default_path() -> Path:
    """$MINERWATCH_INTEL_DB, else $XDG_DATA_HOME/minerwatch/intel.sqlite (~/.local/share/...)."""
    if os.environ.get(ENV_PATH):
        return Path(os.environ[ENV_PATH]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "minerwatch" / "intel.sqlite"


def _row(source_id: int, i: Indicator) -> tuple[Any, ...]:
    tags = ",".join(i.tags)
    return (
        source_id,
        i.type,
        i.value,
        i.family,
        tags,
        i.confidence,
        i.first_seen,
        i.last_seen,
        i.valid_until,
        i.reference,
    )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True, slots=True)
class SourceInfo:
    name: str
    origin: str
    format: str
    imported_at: str
    count: int
    rejected: int
    kb_version: int


class KnowledgeBase:
    """Open with `KnowledgeBase.open(path)`; use as a context manager to close it."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | str | None = None, *, seed: bool = True) -> KnowledgeBase:
        """Open (creating if needed) the KB; with `seed`, bring the shipped indicator set up to date."""
        target = Path(path) if path is not None else default_path()
        memory = str(target) == ":memory:"
        try:
            if not memory:
                target.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(target), timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the intel knowledge base {target}: {exc}") from None
        kb = cls(conn, None if memory else target)
        kb._init_meta()
        if seed:
            ensure_builtin(kb)
        return kb

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _init_meta(self) -> None:
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (_SCHEMA_VERSION,))
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('kb_version', '0')")
        found = self.meta("schema_version")
        if found != _SCHEMA_VERSION:
            raise InputError(f"intel knowledge base schema {found} is not {_SCHEMA_VERSION}; re-create it")

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def version(self) -> int:
        return int(self.meta("kb_version") or 0)

    def _bump(self, action: str, source: str, count: int, rejected: int, detail: str) -> int:
        version = self.version + 1
        self.set_meta("kb_version", str(version))
        self.conn.execute(
            "INSERT INTO history (at, action, source, count, rejected, kb_version, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_now(), action, source, count, rejected, version, detail),
        )
        return version

    def replace_source(
        self,
        name: str,
        indicators: Iterable[Indicator],
        *,
        origin: str = "",
        fmt: str = "",
        rejected: Any = 0,
    ) -> int:
        """Atomically replace source `name` with `indicators` (consumed lazily); returns the count.

        `rejected` may be an int or any object whose `count` is read once the iterable is exhausted.
        """
        if not name or name != name.strip():
            raise UsageError("a source name must be non-empty without surrounding spaces")
        rows = iter(indicators)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("INSERT OR IGNORE INTO sources (name) VALUES (?)", (name,))
            (source_id,) = self.conn.execute("SELECT id FROM sources WHERE name = ?", (name,)).fetchone()
            self.conn.execute("DELETE FROM indicators WHERE source_id = ?", (source_id,))
            count = 0
            while batch := list(islice(rows, _BATCH)):
                self.conn.executemany(
                    "INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [_row(source_id, i) for i in batch],
                )
                count += len(batch)
            bad = rejected if isinstance(rejected, int) else rejected.count
            version = self._bump("import", name, count, bad, origin)
            self.conn.execute(
                "UPDATE sources SET origin=?, format=?, imported_at=?, count=?, rejected=?, kb_version=?"
                " WHERE id=?",
                (origin, fmt, _now(), count, bad, version, source_id),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return count

    def remove_source(self, name: str) -> int:
        """Delete a source and its indicators; returns how many indicators went."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT id, count FROM sources WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise UsageError(f"no source named {name!r} (see 'minerwatch intel list')")
            self.conn.execute("DELETE FROM indicators WHERE source_id = ?", (row[0],))
            self.conn.execute("DELETE FROM sources WHERE id = ?", (row[0],))
            self._bump("remove", name, row[1] or 0, 0, "")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return row[1] or 0

    def sources(self) -> list[SourceInfo]:
        rows = self.conn.execute(
            "SELECT name, origin, format, imported_at, count, rejected, kb_version FROM sources"
            " WHERE imported_at IS NOT NULL ORDER BY name"
        )
        return [SourceInfo(*r) for r in rows]

    def history(self, limit: int = 20) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            "SELECT at, action, source, count, rejected, kb_version FROM history ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()

    def type_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT type, count(*) FROM indicators GROUP BY type ORDER BY type"))

    def rows(self, source: str | None = None) -> Iterator[tuple[Any, ...]]:
        """(source, type, value, family, tags, confidence, first_seen, last_seen, valid_until, reference),
        read in one snapshot."""
        query = (
            "SELECT s.name, i.type, i.value, i.family, i.tags, i.confidence, i.first_seen, i.last_seen,"
            " i.valid_until, i.reference FROM indicators i JOIN sources s ON s.id = i.source_id"
        )
        if source is None:
            return self.conn.execute(query)
        return self.conn.execute(query + " WHERE s.name = ?", (source,))

    def record_discovered(
        self, kind: str, value: str, *, ts: float, port: int = 0, host: str | None = None, evidence: str = ""
    ) -> None:
        """Remember a pool endpoint that behaviour confirmed but the KB did not know (kind: domain|ip).

        Repeated sightings update last_seen, the count and the set of hosts (capture time, ISO UTC).
        """
        value = normalise(kind, value)
        seen = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
        row = self.conn.execute(
            "SELECT first_seen, last_seen, hosts, count FROM discovered WHERE kind=? AND value=? AND port=?",
            (kind, value, port),
        ).fetchone()
        hosts = set(filter(None, (row[2] if row else "").split(","))) | ({host} if host else set())
        first = min(row[0], seen) if row else seen
        last = max(row[1], seen) if row else seen
        self.conn.execute(
            "INSERT OR REPLACE INTO discovered VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, value, port, first, last, ",".join(sorted(hosts)), (row[3] if row else 0) + 1, evidence),
        )

    def discovered(self) -> Iterator[Indicator]:
        """The discovered pool endpoints as indicators, ready to export or import elsewhere."""
        for kind, value, port, first, last, hosts, count, evidence in self.conn.execute(
            "SELECT * FROM discovered ORDER BY kind, value, port"
        ):
            where = f" port {port}" if port else ""
            yield Indicator(
                type=kind,
                value=value,
                tags=("discovered", "mining-pool"),
                confidence=40,
                first_seen=first,
                last_seen=last,
                reference=f"behaviour-confirmed pool{where}, {count} sightings, hosts {hosts}; {evidence}"[
                    :500
                ],
            )
