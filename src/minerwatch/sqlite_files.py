"""The user's SQLite files (the intel knowledge base, the incident store): opened so that a reader never
writes, never waits long for a writer, and never mistakes another application's database for ours.

Why this matters: the path is the user's choice and may name anything: a file another program owns (we must
not create our tables in it), a damaged file, or one a long import is writing right now.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

LOCK_TIMEOUT = 5.0  # seconds a writer waits for another one before it gives up with one line


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """A connection in autocommit mode; read-only ones open the file with `mode=ro` and write nothing."""
    if readonly:
        return sqlite3.connect(
            path.resolve().as_uri() + "?mode=ro", uri=True, timeout=LOCK_TIMEOUT, isolation_level=None
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(str(path), timeout=LOCK_TIMEOUT, isolation_level=None)


def schema_state(conn: sqlite3.Connection, key: str, version: str, tables: set[str]) -> str | None:
    """ "empty" (no table yet), "ours" (our tables, `meta` saying `key` = `version`), or None: another
    application's file, or another version of ours (the caller names which in its error)."""
    found = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not found:
        return "empty"
    try:
        row = (
            conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if "meta" in found
            else None
        )
    except sqlite3.OperationalError:  # a `meta` table of someone else's making
        row = None
    return "ours" if row is not None and row[0] == version and found >= tables else None


def failure(exc: sqlite3.Error, what: str, path: object, remedy: str) -> str:
    """One line for the user: what is wrong with which file, and what to do about it."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"the {what} {path} is being changed by another process (waited {LOCK_TIMEOUT:g} s); try again"
            " when it has finished"
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return f"the {what} {path} is damaged or not a database ({exc}): {remedy}"
    return f"cannot use the {what} {path}: {exc}"
