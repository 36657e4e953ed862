"""The user's SQLite files (the intel knowledge base, the incident store): opened so that a reader never
writes, never waits long for a writer, and never mistakes another application's database for ours.

Why this matters: the path is the user's choice and may name anything: a file another program owns (we must
not create our tables in it), a damaged file, or one a long import is writing right now.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from minerwatch.output.terminal import visible

LOCK_TIMEOUT = 5.0  # seconds a writer waits for another one before it gives up with one line


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """A connection in autocommit mode; read-only ones open the file with `mode=ro` and write nothing."""
    if readonly:
        return sqlite3.connect(
            path.resolve().as_uri() + "?mode=ro", uri=True, timeout=LOCK_TIMEOUT, isolation_level=None
        )
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(str(path), timeout=LOCK_TIMEOUT, isolation_level=None)


def schema_state(
    conn: sqlite3.Connection, key: str, version: str, tables: set[str]
) -> tuple[str, str | None]:
    """("empty", None) for a database without tables, ("ours", version) when our tables are there and `meta`
    says `key` = `version`; else ("foreign", the version `meta` gives, if any): another application's file, or
    another version of ours, which the caller refuses rather than read or write."""
    found = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not found:
        return "empty", None
    try:
        row = (
            conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if "meta" in found
            else None
        )
    except sqlite3.OperationalError:  # a `meta` table of someone else's making
        row = None
    stored = str(row[0]) if row else None
    return ("ours" if stored == version and found >= tables else "foreign"), stored


def one_line(detail: object) -> str:
    """SQLite's words on one printable line: a damaged schema is quoted in its messages, newlines and all."""
    return visible(" ".join(str(detail).split()))[:300]


def is_failure(exc: BaseException) -> bool:
    """An SQLite error, or one whose message SQLite could not even give in UTF-8 (a damaged schema quotes
    its bytes: "malformed database schema ... near <garbage>")."""
    if isinstance(exc, UnicodeDecodeError):
        return isinstance(exc.object, bytes) and exc.object.startswith(b"malformed database schema")
    return isinstance(exc, sqlite3.Error)


def failure(exc: BaseException, what: str, path: object, remedy: str) -> str:
    """One line for the user (for an `is_failure` exception): what is wrong with which file, what to do."""
    if not isinstance(exc, sqlite3.Error):
        return damaged(what, path, "malformed database schema", remedy)
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"the {what} {path} is being changed by another process (waited {LOCK_TIMEOUT:g} s); try again"
            " when it has finished"
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return damaged(what, path, exc, remedy)
    return f"cannot use the {what} {path}: {one_line(exc)}"


def damaged(what: str, path: object, detail: object, remedy: str) -> str:
    return f"the {what} {path} is damaged or not a database ({one_line(detail)}): {remedy}"
