"""A correlator's snapshot (bus/snapshot.py): restored, a correlator goes on exactly as one that never
stopped; a file that is damaged, of another version, stream or partition, ahead of the output, or not a
snapshot at all (a pickle that would run code) is one line and a full replay, never an exception."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet import recorded_demo
from minerwatch.bus.correlator import BusCorrelator
from minerwatch.bus.resume import ResumePoint
from minerwatch.bus.snapshot import MAGIC, load, save
from minerwatch.bus.wire import encode, partition_of

STREAM = "MINERWATCH created 2026-12-07T05:00:00Z"


def stream(partitions: int, partition: int) -> list[bytes]:
    """The demonstration's messages of `partition`, as the stream holds them."""
    return [encode(m) for m in recorded_demo() if partition_of(m.host, partitions) == partition]


class Fed:
    """A correlator and what it wrote."""

    def __init__(self, partitions: int = 1, partition: int = 0, resume: ResumePoint | None = None) -> None:
        self.written: list[dict[str, Any]] = []
        self.bus = BusCorrelator([self.written.append], partitions, partition, resume=resume)

    def feed(self, messages: list[bytes], first: int = 1) -> None:
        for seq, data in enumerate(messages, first):
            self.bus.feed(seq, data)

    def resume_point(self) -> ResumePoint:
        seqs = [e["origin"]["bus_seq"] for e in self.written if "origin" in e]
        return ResumePoint(max(seqs, default=0), max((e["event_id"] for e in self.written), default=0))


def _without_counts(stats: dict[str, Any]) -> dict[str, Any]:
    """A stats event without what counts one run's own reading (a snapshot holds the rest)."""
    bus = {k: v for k, v in stats["stats"]["bus"].items() if k not in ("replayed", "read", "snapshot")}
    return stats | {"stats": stats["stats"] | {"bus": bus}}


@pytest.mark.parametrize(("partitions", "cut"), [(1, 0.3), (1, 0.8), (2, 0.5)])
def test_a_restored_correlator_goes_on_as_one_that_never_stopped(tmp_path: Path, partitions: int, cut: float):
    for partition in range(partitions):
        messages = stream(partitions, partition)
        whole = Fed(partitions, partition)
        whole.feed(messages)
        whole.bus.finish()
        first = Fed(partitions, partition)
        head = int(len(messages) * cut)
        first.feed(messages[:head])
        output = tmp_path / "out.jsonl"
        output.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in first.written))
        path = str(tmp_path / "snapshot")
        assert save(path, first.bus, STREAM, str(output)) > len(MAGIC)
        again = Fed(partitions, partition, first.resume_point())
        lines: list[str] = []
        assert load(path, again.bus, STREAM, again.bus.resume, lines.append) == head
        assert lines == []
        again.feed(messages[head:], head + 1)
        again.bus.finish()
        *events, stats = first.written + again.written
        *expected, expected_stats = whole.written
        assert events == expected
        assert _without_counts(stats) == _without_counts(expected_stats)
        assert again.bus.outgoing == whole.bus.outgoing[len(first.bus.outgoing) :]


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Fed]:
    """A snapshot of a correlator that read half the demonstration's messages, and its output's point."""
    fed = Fed()
    messages = stream(1, 0)
    fed.feed(messages[: len(messages) // 2])
    output = tmp_path / "out.jsonl"
    output.write_bytes(b"x\n")
    path = tmp_path / "out.jsonl.snapshot"
    save(str(path), fed.bus, STREAM, str(output))
    return path, fed


def _refused(path: Path, point: ResumePoint, stream_id: str = STREAM, partitions: int = 1) -> str:
    bus = BusCorrelator([], partitions, 0, resume=point)
    lines: list[str] = []
    assert load(str(path), bus, stream_id, point, lines.append) == 0
    assert len(lines) == 1 and "\n" not in lines[0]
    assert bus.stats.messages == 0 and not bus.verdicts.hosts and not bus.ids  # untouched
    assert lines[0].endswith("reading partition 0 from the stream's start")
    return lines[0]


def test_a_snapshot_that_cannot_be_used_is_one_line_and_a_full_replay(saved, tmp_path):
    path, fed = saved
    point = fed.resume_point()
    data = path.read_bytes()
    assert "made from another stream" in _refused(path, point, "MINERWATCH created 2027-01-01T00:00:00Z")
    assert "made by the correlator of partition 0 of 1" in _refused(path, point, partitions=2)
    cut = ResumePoint(point.bus_seq - 1, point.last_event_id - 1)  # the output's last event lost
    assert (
        f"it covers message {fed.bus.bus_seq:,} and event {point.last_event_id:,}, the output ends at "
        in (_refused(path, cut))
    )
    path.write_bytes(data[: len(data) // 2])
    assert "damaged: " in _refused(path, point)
    path.write_bytes(b"\x00" * 100)
    assert "not a minerwatch correlator snapshot" in _refused(path, point)
    path.write_bytes(data.replace(b"version\x01", b"version\x07", 1))
    assert "version 7, this minerwatch reads 1" in _refused(path, point)
    assert _refused(tmp_path, point).startswith(f"snapshot {tmp_path} not used (cannot read it: ")


class _Planted:
    """What a hostile pickle would run when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "ran"))


def test_a_pickle_handed_over_is_refused_not_run(saved, tmp_path):
    path, fed = saved
    marker = tmp_path / "ran"
    for payload in (pickle.dumps(_Planted(marker)), MAGIC + pickle.dumps(_Planted(marker))):
        path.write_bytes(payload)
        assert "snapshot" in _refused(path, fed.resume_point())
    assert not marker.exists()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1), junk=st.binary(min_size=1, max_size=8))
def test_any_bytes_of_a_snapshot_changed_are_restored_or_refused(saved, where, junk):
    path, fed = saved
    data = bytearray(path.read_bytes())
    at = len(MAGIC) + int((len(data) - len(MAGIC) - 1) * where)
    data[at : at + len(junk)] = junk
    changed = path.with_suffix(".changed")
    changed.write_bytes(bytes(data))
    bus = BusCorrelator([], 1, 0, resume=fed.resume_point())
    covered = load(str(changed), bus, STREAM, bus.resume, lambda line: None)
    assert covered in (0, fed.bus.bus_seq) or 0 < covered <= fed.bus.bus_seq
