"""The incident store: one local SQLite file that keeps the kill-chain steps of every host across runs.

Why steps and not only incidents: an incident is rebuilt from its steps each run, so a later capture
extends it exactly as if both had been analysed together (steps merge by minimum, maximum and union,
which do not depend on order). The final state of every incident is kept too, for `minerwatch
incidents`. Event ids belong to the run that wrote them and are not kept: a stage lists the events of the
current run only.

Retention is in capture time (never the wall clock): steps and incidents whose last activity is more than
`retention` seconds before the newest capture time the store has seen are deleted when a run is saved.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from minerwatch import sqlite_files
from minerwatch.correlate.stages import Stage
from minerwatch.errors import InputError

ENV_PATH = "MINERWATCH_STORE"
DEFAULT_RETENTION_DAYS = 90.0
_SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    host TEXT NOT NULL, stage TEXT NOT NULL, peer TEXT NOT NULL, label TEXT NOT NULL,
    first_seen REAL NOT NULL, last_seen REAL NOT NULL, level REAL NOT NULL, confidence REAL NOT NULL,
    basis TEXT, sets TEXT NOT NULL, PRIMARY KEY (host, stage, peer, label));
CREATE TABLE IF NOT EXISTS facts (
    host TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, basis TEXT, confidence REAL,
    PRIMARY KEY (host, kind, value));
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, status TEXT NOT NULL, score REAL NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, last_ts REAL NOT NULL, body TEXT NOT NULL);
"""
_TABLES = {"meta", "steps", "facts", "incidents"}
_REMEDY = "choose another file with --store, or move this one away (a new store is made in its place)"
SETS = ("techniques", "services", "named_hosts", "peer_names", "files")
StepRow = tuple[str, Stage, str | None, str, float, float, float, float, str | None, dict[str, list[str]]]
FactRow = tuple[str, str, str, str | None, float | None]  # host, kind (pool/wallet/agent), value, basis, conf


def default_path() -> Path:
    """$MINERWATCH_STORE, else $XDG_DATA_HOME/minerwatch/incidents.sqlite (~/.local/share/...)."""
    if os.environ.get(ENV_PATH):
        return Path(os.environ[ENV_PATH]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "minerwatch" / "incidents.sqlite"


class IncidentStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    @classmethod
    @contextmanager
    def open(cls, path: str | Path | None = None, create: bool = True) -> Iterator[IncidentStore]:
        """The store at `path` (default_path() when None), to extend (`create`: made when missing) or only to
        read (opened read-only: nothing is written). InputError, one line, when it cannot be used: another
        application's SQLite file is never written to, a damaged one never read."""
        where = Path(path) if path is not None else default_path()
        if not create and not where.exists():
            raise InputError(f"no incident store at {where}")
        try:
            db = sqlite_files.connect(where, readonly=not create)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the incident store {where}: {exc}") from None
        try:
            state, found = sqlite_files.schema_state(db, "schema", _SCHEMA_VERSION, _TABLES)
            if state == "foreign":
                what = f"schema {found}, expected {_SCHEMA_VERSION}" if found else "another schema"
                raise InputError(f"{where} is not a minerwatch incident store ({what}): {_REMEDY}")
            if state == "empty":
                if not create:
                    raise InputError(f"no incident store at {where} (the file holds no table)")
                db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} INSERT INTO meta VALUES ('schema', "
                                 f"'{_SCHEMA_VERSION}'); COMMIT;")  # fmt: skip
            db.execute("BEGIN IMMEDIATE" if create else "BEGIN")
            yield cls(db)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise InputError(sqlite_files.failure(exc, "incident store", where, _REMEDY)) from None
        finally:
            db.close()

    # ---- what a run reads -------------------------------------------------------------------------------

    def steps(self) -> list[StepRow]:
        rows = self.db.execute(
            "SELECT host, stage, peer, label, first_seen, last_seen, level, confidence, basis, sets"
            " FROM steps ORDER BY host, stage, peer, label"
        )
        return [
            (host, Stage(stage), peer or None, label, *numbers, basis, json.loads(sets))
            for host, stage, peer, label, *numbers, basis, sets in rows
        ]

    def facts(self) -> list[FactRow]:
        return self.db.execute(
            "SELECT host, kind, value, basis, confidence FROM facts ORDER BY host, kind, value"
        ).fetchall()

    def bodies(self) -> dict[str, dict[str, Any]]:
        """Every stored incident's last state, by host."""
        return {host: json.loads(body) for host, body in self.db.execute("SELECT host, body FROM incidents")}

    # ---- what a run writes ------------------------------------------------------------------------------

    def save(self, steps: list[StepRow], facts: list[FactRow], incidents: list[dict[str, Any]]) -> None:
        """Replace the steps and facts (they are the merged old and new ones) and upsert the incidents."""
        self.db.execute("DELETE FROM steps")
        self.db.executemany(
            "INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(h, str(st), p or "", lb, *nums, b, json.dumps(s)) for h, st, p, lb, *nums, b, s in steps],
        )
        self.db.execute("DELETE FROM facts")
        kept = {row[0] for row in steps}
        self.db.executemany(
            "INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)", [f for f in facts if f[0] in kept]
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i["id"], i["host"], i["status"], i["score"], i["first_seen"], i["last_seen"], i["_ts"], body)
                for i in incidents
                if i["host"] in kept and (body := json.dumps({k: v for k, v in i.items() if k != "_ts"}))
            ],
        )
        self.db.execute("DELETE FROM incidents WHERE host NOT IN (SELECT host FROM steps)")

    def expire(self, retention: float) -> int:
        """Delete what ended more than `retention` seconds before the newest activity stored; returns how
        many steps went."""
        newest = self.db.execute("SELECT MAX(last_seen) FROM steps").fetchone()[0]
        if newest is None:
            return 0
        cutoff = newest - retention
        gone = self.db.execute("DELETE FROM steps WHERE last_seen < ?", (cutoff,)).rowcount
        self.db.execute("DELETE FROM facts WHERE host NOT IN (SELECT host FROM steps)")
        self.db.execute("DELETE FROM incidents WHERE last_ts < ?", (cutoff,))
        return gone

    # ---- `minerwatch incidents` --------------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM incidents ORDER BY last_ts, id")
        return [json.loads(body) for (body,) in rows]

    def get(self, incident_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT body FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return json.loads(row[0]) if row else None
