"""Analyses with workers (minerwatch.scale) compared with one process: the helpers of tests/scale."""

from __future__ import annotations

import copy
from typing import Any

from same_events import differences


def stats(events: list[dict]) -> dict:
    (event,) = [e for e in events if e["event_type"] == "stats"]
    return copy.deepcopy(event["stats"])


def assert_same_analysis(one: list[dict], many: list[dict]) -> int:
    """The same events, ids and `stats` (but the packets left to other workers, which it returns)."""
    assert differences(one, many) == []
    # Ids too: the correlator numbers events in one process's order.
    assert [e["event_id"] for e in one] == [e["event_id"] for e in many]
    single, merged = stats(one), stats(many)
    other = merged["capture"].pop("packets_other_workers")
    assert single["capture"].pop("packets_other_workers") == 0
    assert merged == single
    return other


def without(value: Any, keys: frozenset[str]) -> Any:
    """`value` (events, an event, a part of one) without `keys` at any depth."""
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(v, keys) for v in value]
    return value
