"""Every event minerwatch writes validates against the published JSON Schema, and docs/events.md names
every event type the schema allows."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from minerwatch.capture.sample import write_sample

SCHEMA = json.loads(resources.files("minerwatch").joinpath("schema/events.schema.json").read_text())
DOCS = Path(__file__).resolve().parents[1] / "docs" / "events.md"


def validate_all(events: list[dict]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"{event['event_type']} event {event['event_id']}: {errors[0].message}"


def test_sample_capture_events_follow_the_schema(tmp_path, analyse):
    path = tmp_path / "sample.pcap"
    write_sample(path)
    events = analyse(path)
    assert {"mining", "verdict", "flow", "stats"} <= {e["event_type"] for e in events}
    validate_all(events)


@pytest.mark.parametrize("name", ["nDPI/mining.pcapng", "CryptominingDetector/e52b224/miner.pcap"])
def test_corpus_events_follow_the_schema(corpus, analyse, name):
    validate_all(analyse(corpus / name))


def test_schema_rejects_a_broken_verdict():
    bad = {
        "timestamp": "2025-01-01T00:00:00.000000Z",
        "event_type": "verdict",
        "event_id": 1,
        "src_ip": "10.0.0.1",
        "verdict": {"host": "10.0.0.1", "stages": [3], "confidence": 2},
    }
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(bad))


def test_docs_describe_every_event_type_and_verdict_field():
    text = DOCS.read_text()
    for event_type in SCHEMA["properties"]["event_type"]["enum"]:
        assert f"`{event_type}`" in text, event_type
    for name in SCHEMA["$defs"]["verdict"]["required"] + SCHEMA["$defs"]["pool"]["required"]:
        assert f"`{name}`" in text, name
