"""The curated indicator set shipped with minerwatch (rules/intel/*.csv, sources in SOURCES.md).

It is seeded into the knowledge base as source `minerwatch-builtin` whenever the shipped files differ
from what the KB holds, so upgrading minerwatch refreshes it and a first run needs no import. A user
who removes that source keeps it removed until `minerwatch intel seed`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING

from minerwatch.intel.formats import csvfile
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.model import Indicator

if TYPE_CHECKING:
    from minerwatch.intel.store import KnowledgeBase

BUILTIN_SOURCE = "minerwatch-builtin"


def _files() -> list[resources.abc.Traversable]:
    folder = resources.files("minerwatch") / "rules" / "intel"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".csv")), key=lambda f: f.name)


def version() -> str:
    """A digest of the shipped files: changes whenever their content does."""
    digest = hashlib.sha256()
    for f in _files():
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def indicators(problems: Problems) -> Iterator[Indicator]:
    for f in _files():
        with f.open("r", encoding="utf-8") as fh:
            yield from csvfile.read(fh, problems)


def ensure_builtin(kb: KnowledgeBase, *, force: bool = False) -> bool:
    """Seed or refresh the shipped set; returns True when it was (re)imported."""
    if force:
        kb.set_meta("builtin_disabled", "0")
    elif kb.meta("builtin_disabled") == "1":
        return False
    current = version()
    if not force and kb.meta("builtin_version") == current:
        return False
    problems = Problems()
    kb.replace_source(
        BUILTIN_SOURCE, indicators(problems), origin=f"shipped {current}", fmt="csv", rejected=problems
    )
    kb.set_meta("builtin_version", current)
    return True


def disable(kb: KnowledgeBase) -> None:
    """Remember that the user removed the shipped set, so that it is not seeded again."""
    kb.set_meta("builtin_disabled", "1")


def stale(kb: KnowledgeBase) -> bool:
    """Whether the KB's copy of the shipped set is missing or older than these files (and not removed)."""
    return kb.meta("builtin_disabled") != "1" and kb.meta("builtin_version") != version()
