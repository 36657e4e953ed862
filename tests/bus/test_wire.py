"""The bus's wire format: what a real analysis observes goes through unchanged, and anything else a
publisher could send is a BusMessageError with a one-line reason, never another exception."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet import JSON, recorded_demo
from minerwatch.bus.wire import (
    MAX_MESSAGE,
    BusMessage,
    BusMessageError,
    decode,
    encode,
    partition_of,
    subject,
)
from minerwatch.correlate.observations import ContactObservation


@pytest.fixture
def observed() -> list[BusMessage]:
    return recorded_demo()


def test_every_kind_a_real_analysis_observes_goes_through_unchanged(observed):
    assert {m.kind for m in observed} == {"behaviour", "intel", "stage", "contact"}
    for message in observed:
        assert decode(encode(message), 1, 0) == message
        if not isinstance(message.observation, ContactObservation):
            assert message.event is not None and message.event["event_id"] == message.observation.event_id


def test_a_host_is_filed_under_one_partition_and_its_own_subject():
    assert subject("10.1.1.20", 4) == f"minerwatch.obs.{partition_of('10.1.1.20', 4)}.10_1_1_20"
    assert {partition_of(f"10.0.0.{i}", 4) for i in range(64)} == {0, 1, 2, 3}


def _raw(message: BusMessage) -> dict[str, Any]:
    return orjson.loads(encode(message))


def _rejected(raw: Any) -> str:
    with pytest.raises(BusMessageError) as caught:
        decode(orjson.dumps(raw), 1, 0)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_what_sensors_never_send_is_refused_with_its_reason(observed):
    behaviour = next(m for m in observed if m.kind == "behaviour")
    stage = next(m for m in observed if m.kind == "stage")
    good = _raw(behaviour)
    with pytest.raises(BusMessageError, match="over the 65,536-byte limit"):
        decode(b" " * (MAX_MESSAGE + 1), 1, 0)
    with pytest.raises(BusMessageError, match="not JSON"):
        decode(b"\x80{", 1, 0)
    assert _rejected([good]) == "not a JSON object"
    assert _rejected(good | {"v": 2}) == "unknown message version '2'"
    assert _rejected(good | {"sensor": "a b"}) == "bad sensor name 'a b'"
    assert _rejected(good | {"seq": True}) == "bad sequence number 'True'"
    assert _rejected(good | {"kind": "verdict"}) == "unknown kind 'verdict'"
    obs = good["obs"]
    assert "Expected `int`, got `str` - at `$.pool_port`" in _rejected(
        good | {"obs": obs | {"pool_port": "3333"}}
    )
    assert "Invalid enum value 'dance'" in _rejected(good | {"obs": obs | {"behaviour": "dance"}})
    assert "Object missing required field `miner_ip`" in _rejected(
        good | {"obs": {k: v for k, v in obs.items() if k != "miner_ip"}}
    )
    assert _rejected(good | {"obs": obs | {"miner_ip": "evil.example"}}) == (
        "miner_ip 'evil.example' is not an IP address"
    )
    assert _rejected(good | {"obs": obs | {"pool_port": 70000}}) == "pool_port 70000 is not a port"
    staged = _raw(stage)
    assert (
        _rejected(staged | {"obs": staged["obs"] | {"confidence": 7.0}})
        == "confidence 7.0 is not between 0 and 1"
    )
    event = good["event"]
    assert (
        _rejected(good | {"event": event | {"event_type": "incident"}})
        == "event type 'incident' is not evidence"
    )
    assert (
        _rejected(good | {"event": event | {"event_id": 999_999}})
        == "event is not the one the observation cites"
    )
    assert _rejected(good | {"event": event | {"timestamp": 5}}) == "event without an ISO 8601 UTC timestamp"
    assert _rejected(good | {"key": "AB" * 16}) == f"bad observation key {'AB' * 16!r}"
    assert _rejected(good | {"key": 12}) == "bad observation key '12'"
    assert decode(orjson.dumps(good | {"key": "ab" * 16}), 1, 0).key == "ab" * 16
    elsewhere = next(p for p in range(2, 64) if partition_of(behaviour.host, p) != 0)
    with pytest.raises(BusMessageError, match="belongs to partition"):
        decode(encode(behaviour), elsewhere, 0)


def test_an_event_too_large_for_the_bus_is_left_out_not_the_observation(observed):
    stage = next(m for m in observed if m.kind == "stage")
    assert stage.event is not None
    huge = replace(stage, event=stage.event | {"padding": "x" * MAX_MESSAGE})
    assert decode(encode(huge), 1, 0) == replace(stage, event=None)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2048))
def test_any_bytes_are_a_message_or_a_bus_message_error(data):
    with contextlib.suppress(BusMessageError):
        decode(data, 1, 0)


@settings(max_examples=400, deadline=None)
@given(
    field=st.sampled_from(["v", "sensor", "run", "seq", "kind", "obs", "event", "key"]),
    value=JSON,
    where=st.integers(0, 50),
)
def test_any_field_of_a_real_message_replaced_is_taken_or_refused(field, value, where):
    raw = _raw(recorded_demo()[where % len(recorded_demo())])
    raw[field] = value
    with contextlib.suppress(BusMessageError):
        decode(orjson.dumps(raw), 1, 0)


@settings(max_examples=400, deadline=None)
@given(value=JSON, where=st.integers(0, 50), name=st.integers(0, 30))
def test_any_observation_field_replaced_is_taken_or_refused(value, where, name):
    raw = _raw(recorded_demo()[where % len(recorded_demo())])
    fields = sorted(raw["obs"])
    raw["obs"][fields[name % len(fields)]] = value
    with contextlib.suppress(BusMessageError):
        decode(orjson.dumps(raw), 1, 0)
