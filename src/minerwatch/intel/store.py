"""The knowledge base: one local SQLite file that users update independently of minerwatch.

Importing a source replaces all of that source's indicators in one transaction, so a crash half-way
leaves the previous version answering (SQLite's write-ahead log discards an uncommitted import on the
next open). Every change bumps the knowledge base version and is written to the history.

Readers (analyses, `intel list/stats/export`) open the file read-only and write nothing, not even at
open; in WAL mode they read the last committed version while an import runs. Writers wait at most
sqlite_files.LOCK_TIMEOUT for one another. Every SQLite failure leaves as one KnowledgeBaseError naming
the file (sqlite_files.py: the same rules as the incident store).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from minerwatch import sqlite_files
from minerwatch.errors import InputError, UsageError
from minerwatch.intel import builtin
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.model import DISCOVERED_CONFIDENCE, DISCOVERED_SOURCE, Indicator, Sighting

ENV_PATH = "MINERWATCH_INTEL_DB"
_SCHEMA_VERSION = "1"
_BATCH = 10_000
_REMEDY = "move it away and re-import your feeds (or analyse with --no-intel)"
_WHAT = "intel knowledge base"
MAX_HOSTS = 64  # miners kept per discovered pool
_TABLES = {"meta", "sources", "indicators", "history", "discovered"}
_META = (
    f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{_SCHEMA_VERSION}');"
    " INSERT OR IGNORE INTO meta VALUES ('kb_version', '0')"
)

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


class KnowledgeBaseError(InputError):
    """The knowledge base file is locked by a writer, damaged, or not one of ours."""


def damaged(path: object, detail: object) -> KnowledgeBaseError:
    """The KB cannot be read: damaged pages, or stored values that no longer parse."""
    return KnowledgeBaseError(sqlite_files.damaged(_WHAT, path, detail, _REMEDY))


def _translate(exc: BaseException, path: object) -> KnowledgeBaseError:
    return KnowledgeBaseError(sqlite_files.failure(exc, _WHAT, path, _REMEDY))


class KnowledgeBase:
    """Open with `KnowledgeBase.open(path)` to change it, `KnowledgeBase.read(path)` to read it; use as a
    context manager, which closes it and turns SQLite errors into one KnowledgeBaseError."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self.conn = conn
        self.path = path
        self.stored = True  # False: no KB in the file yet, and this is the shipped set in memory

    @classmethod
    def open(cls, path: Path | str | None = None, *, seed: bool = True) -> KnowledgeBase:
        """Open for writing (creating if needed); with `seed`, bring the shipped indicator set up to date."""
        target = Path(path) if path is not None else default_path()
        memory = str(target) == ":memory:"
        try:
            conn = sqlite_files.connect(target, readonly=False)
        except (OSError, sqlite3.Error) as exc:
            raise KnowledgeBaseError(f"cannot open the intel knowledge base {target}: {exc}") from None
        kb = cls(conn, None if memory else target)
        with kb._translated():
            empty = kb._check_schema() == "empty"
            conn.execute("PRAGMA journal_mode=WAL")  # readers then never wait for a writer
            conn.execute("PRAGMA synchronous=NORMAL")
            if empty:
                conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} {_META}; COMMIT;")
            if seed:
                builtin.ensure_builtin(kb)
        return kb

    @classmethod
    def read(cls, path: Path | str | None = None) -> KnowledgeBase:
        """Open read-only: nothing is written, and an import in progress neither blocks nor shows.

        A file that does not exist yet (or holds no table) reads as the shipped set, held in memory."""
        target = Path(path) if path is not None else default_path()
        if str(target) != ":memory:" and target.exists():
            try:
                conn = sqlite_files.connect(target, readonly=True)
            except (OSError, sqlite3.Error) as exc:
                raise KnowledgeBaseError(f"cannot open the intel knowledge base {target}: {exc}") from None
            kb = cls(conn, target)
            with kb._translated():
                if kb._check_schema() == "ours":
                    return kb
            kb.close()
        kb = cls.open(":memory:")
        kb.path, kb.stored = target, False
        return kb

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.close()
        if exc is not None and sqlite_files.is_failure(exc):
            raise _translate(exc, self.path or ":memory:") from None

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLite errors become one KnowledgeBaseError; on any error the connection is closed."""
        try:
            yield
        except BaseException as exc:
            self.close()
            if sqlite_files.is_failure(exc):
                raise _translate(exc, self.path or ":memory:") from None
            raise

    def close(self) -> None:
        self.conn.close()

    def _check_schema(self) -> str:
        """ "empty" for a database without tables, "ours" for a minerwatch KB; else KnowledgeBaseError, so
        that another application's SQLite file is never read as intelligence, or written to."""
        state, found = sqlite_files.schema_state(self.conn, "schema_version", _SCHEMA_VERSION, _TABLES)
        if state != "foreign":
            return state
        what = f"schema version {found}, expected {_SCHEMA_VERSION}" if found else "another schema"
        raise KnowledgeBaseError(f"{self.path} is not a minerwatch intel knowledge base ({what}): {_REMEDY}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (waiting at most LOCK_TIMEOUT for another writer), all or nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def version(self) -> int:
        text = self.meta("kb_version") or "0"
        if not text.isdigit():
            raise damaged(self.path, f"knowledge base version {text!r:.40}")
        return int(text)

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
        if name == DISCOVERED_SOURCE:
            raise UsageError(f"{name} names the discovered pools; use 'minerwatch intel import --discovered'")
        rows = iter(indicators)
        with self._transaction():
            self.conn.execute("INSERT OR IGNORE INTO sources (name) VALUES (?)", (name,))
            (source_id,) = self.conn.execute("SELECT id FROM sources WHERE name = ?", (name,)).fetchone()
            self.conn.execute("DELETE FROM indicators WHERE source_id = ?", (source_id,))
            count = 0
            while batch := list(islice(rows, _BATCH)):
                self.conn.executemany(
                    "INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [i.row(source_id) for i in batch],
                )
                count += len(batch)
            bad = rejected if isinstance(rejected, int) else rejected.count
            version = self._bump("import", name, count, bad, origin)
            self.conn.execute(
                "UPDATE sources SET origin=?, format=?, imported_at=?, count=?, rejected=?, kb_version=?"
                " WHERE id=?",
                (origin, fmt, _now(), count, bad, version, source_id),
            )
        return count

    def remove_source(self, name: str) -> int:
        """Delete a source and its indicators (DISCOVERED_SOURCE: every discovered pool); returns how many
        indicators went."""
        with self._transaction():
            if name == DISCOVERED_SOURCE:
                count = self.conn.execute("DELETE FROM discovered").rowcount
            else:
                row = self.conn.execute("SELECT id, count FROM sources WHERE name = ?", (name,)).fetchone()
                if row is None:
                    raise UsageError(f"no source named {name!r} (see 'minerwatch intel list')")
                self.conn.execute("DELETE FROM indicators WHERE source_id = ?", (row[0],))
                self.conn.execute("DELETE FROM sources WHERE id = ?", (row[0],))
                count = row[1] or 0
            self._bump("remove", name, count, 0, "")
        return count

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

    def discovered_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM discovered").fetchone()[0])

    def rows(self, source: str | None = None, *, without: str | None = None) -> Iterator[tuple[Any, ...]]:
        """(source, type, value, family, tags, confidence, first_seen, last_seen, valid_until, reference)
        of the imported feeds (`source` only, or all `without` one), read in one snapshot."""
        query = (
            "SELECT s.name, i.type, i.value, i.family, i.tags, i.confidence, i.first_seen, i.last_seen,"
            " i.valid_until, i.reference FROM indicators i JOIN sources s ON s.id = i.source_id"
        )
        if source is not None:
            return self.conn.execute(query + " WHERE s.name = ?", (source,))
        if without is not None:
            return self.conn.execute(query + " WHERE s.name != ?", (without,))
        return self.conn.execute(query)

    def match_rows(self) -> Generator[tuple[Any, ...], None, None]:
        """Every indicator an analysis matches, as rows(): the imported feeds; the shipped set as this
        minerwatch ships it (a read-only open cannot refresh an older stored copy); the discovered pools,
        under their own source and confidence."""
        stale = builtin.stale(self)
        yield from self.rows(without=builtin.BUILTIN_SOURCE if stale else None)
        if stale:
            yield from (i.row(builtin.BUILTIN_SOURCE) for i in builtin.indicators(Problems()))
        yield from (i.row(DISCOVERED_SOURCE) for i in self.discovered())

    def learn(self, sightings: Iterable[Sighting], *, origin: str, rejected: Any = 0) -> int:
        """Record behaviour-confirmed pools in one transaction (consumed lazily, like replace_source);
        returns how many pool endpoints (address and port) were recorded."""
        with self._transaction():
            pools = 0
            for sighting in sightings:
                self._record(sighting)
                pools += sighting.kind == "ip"
            bad = rejected if isinstance(rejected, int) else rejected.count
            self._bump("learn", DISCOVERED_SOURCE, pools, bad, origin)
        return pools

    def _record(self, s: Sighting) -> None:
        """One sighting of a pool endpoint: first/last seen, count and hosts (at most MAX_HOSTS) updated."""
        row = self.conn.execute(
            "SELECT first_seen, last_seen, hosts, count FROM discovered WHERE kind=? AND value=? AND port=?",
            (s.kind, s.value, s.port),
        ).fetchone()
        hosts = set(filter(None, (row[2] if row else "").split(",")))
        if s.host and len(hosts) < MAX_HOSTS:
            hosts.add(s.host)
        first = min(row[0], s.seen) if row else s.seen
        last = max(row[1], s.seen) if row else s.seen
        count = (row[3] or 0) + 1 if row else 1
        self.conn.execute(
            "INSERT OR REPLACE INTO discovered VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (s.kind, s.value, s.port, first, last, ",".join(sorted(hosts)), count, s.evidence),
        )

    def discovered(self) -> Iterator[Indicator]:
        """The discovered pool endpoints as indicators, ready to match, export or import elsewhere."""
        for kind, value, port, first, last, hosts, count, evidence in self.conn.execute(
            "SELECT * FROM discovered ORDER BY kind, value, port"
        ):
            where = f" port {port}" if port else ""
            yield Indicator(
                type=kind,
                value=value,
                tags=("discovered", "mining-pool"),
                confidence=DISCOVERED_CONFIDENCE,
                first_seen=first,
                last_seen=last,
                reference=f"behaviour-confirmed pool{where}, {count} sightings, hosts {hosts}; {evidence}"[
                    :500
                ],
            )
