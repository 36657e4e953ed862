"""Observation keys (bus/identity.py): the same across runs over one capture whatever the sensor's event
numbering, different for twins within a run, for another sensor and for another capture."""

from __future__ import annotations

from dataclasses import replace

from fleet import recorded_demo
from minerwatch.bus.identity import ObservationKeys


def keys(messages, sensor: str = "edge-a", capture: str = "c1", shift: int = 0) -> list[str]:
    made = ObservationKeys(sensor, capture)
    out = []
    for m in messages:
        obs = m.observation
        event = m.event
        if shift and hasattr(obs, "event_id"):  # an alert more, earlier in the run: every id moves on
            obs = replace(obs, event_id=obs.event_id + shift)
            event = event and event | {"event_id": event["event_id"] + shift}
        out.append(made.key(m.kind, obs, event))
    return out


def test_keys_are_a_runs_whatever_its_event_numbering():
    messages = recorded_demo()
    first = keys(messages)
    assert len(set(first)) == len(first)  # twins (alike but for their event ids) told apart too
    assert keys(messages) == keys(messages, shift=7) == first
    assert not set(first) & set(keys(messages, sensor="edge-b"))
    assert not set(first) & set(keys(messages, capture="c2"))


def test_twins_are_told_apart_by_their_order():
    message = recorded_demo()[0]
    made = ObservationKeys("edge-a", "c1")
    twins = [made.key(message.kind, message.observation, message.event) for _ in range(3)]
    assert len(set(twins)) == 3
    again = ObservationKeys("edge-a", "c1")
    assert [again.key(message.kind, message.observation, message.event) for _ in range(3)] == twins
