"""Events of two runs compared as a user would: ids are numbers of one run, so an id is replaced by what
the event it names says, and the `stats` event (counters of the processes, docs/deploy.md) is left out."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

ID_KEYS = frozenset({"event_id", "event_ids", "related_event_id"})


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ID_KEYS}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _named(value: Any, names: dict[int, str]) -> Any:
    """Ids under ID_KEYS replaced by the content of the event they name (lists of them sorted)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if (key in ID_KEYS or key == "evidence") and isinstance(item, list):  # evidence: alerts
                out[key] = sorted(names.get(i, f"unknown {i}") for i in item)
            elif key in ID_KEYS and isinstance(item, int):
                out[key] = names.get(item, f"unknown {item}")
            else:
                out[key] = _named(item, names)
        return out
    if isinstance(value, list):
        return [_named(v, names) for v in value]
    return value


def comparable(events: list[dict[str, Any]]) -> Counter[str]:
    """The run's events (but `stats`) as a multiset of canonical JSON texts."""
    names = {e["event_id"]: json.dumps(_without_ids(e), sort_keys=True) for e in events}
    return Counter(json.dumps(_named(e, names), sort_keys=True) for e in events if e["event_type"] != "stats")


def differences(one: list[dict[str, Any]], other: list[dict[str, Any]]) -> list[str]:
    """What one run has that the other has not, both ways (empty: the same events)."""
    a, b = comparable(one), comparable(other)
    return [f"only first: {t}" for t in a - b] + [f"only second: {t}" for t in b - a]
