"""Pools learnt from analyses, only when the user asks: `analyze --learn-pools`, or
`minerwatch intel import --discovered EVENTS.jsonl` afterwards.

A capture is untrusted (anyone can craft one), so what an analysis confirms never becomes intelligence on
its own: analyses open the knowledge base read-only, and learnt pools stay apart from curated feeds
(source `minerwatch-discovered`, confidence DISCOVERED_CONFIDENCE, `discovered: true` in alerts). Both
ways read the same thing, the `pools` of `verdict` events, so they record the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from minerwatch.errors import InputError
from minerwatch.intel.formats.base import Problems, iter_json
from minerwatch.intel.model import Sighting
from minerwatch.intel.store import KnowledgeBase

MAX_NAMES = 8  # names per pool address taken from one verdict
MAX_EVENT_LINE = 16 << 20  # a verdict of a host that probed many pools is long; longer lines are skipped


def from_verdict(body: Mapping[str, Any]) -> Iterator[Sighting]:
    """The pool endpoints of one verdict that reached a stage and that no curated intel knew
    (`pool_candidate`), with the names DNS gave them. Raises ValueError for a malformed pool."""
    pools = body.get("pools")
    for pool in pools if isinstance(pools, list) else ():
        if not isinstance(pool, dict) or not pool.get("stages") or pool.get("pool_candidate") is not True:
            continue
        evidence = f"stages {pool.get('stages')}, {pool.get('submits')} shares, {pool.get('dialect')}"
        fields = (pool.get("port"), pool.get("last_seen"), body.get("host"), evidence)
        yield Sighting.build("ip", pool.get("ip"), *fields)
        names = pool.get("resolved_names")
        for name in (names if isinstance(names, list) else [])[:MAX_NAMES]:
            yield Sighting.build("domain", name, *fields)


def from_events(path: Path, problems: Problems) -> Iterator[Sighting]:
    """Sightings from the verdict events of an events file written by `minerwatch analyze` (other
    events are passed over); a line that is not JSON or a malformed verdict is one problem, with its
    line number."""
    try:
        fh = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        for number, event in iter_json(fh, problems, MAX_EVENT_LINE):
            if not isinstance(event, dict) or event.get("event_type") != "verdict":
                continue
            body = event.get("verdict")
            try:
                found = list(from_verdict(body)) if isinstance(body, dict) else None
            except ValueError as exc:
                problems.add(number, str(exc))
                continue
            if found is None:
                problems.add(number, "a verdict event without a verdict object")
                continue
            yield from found


def learn_verdicts(db_path: Path | str | None, verdicts: Iterable[Mapping[str, Any]], origin: str) -> int:
    """Record the candidate pools of an analysis's verdict bodies; returns how many endpoints."""
    sightings = [s for body in verdicts for s in from_verdict(body)]
    if not sightings:
        return 0
    with KnowledgeBase.open(db_path) as kb:
        return kb.learn(sightings, origin=origin)
