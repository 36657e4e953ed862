"""Rotated JSON-lines output: files closed by size and by age, no event lost or split, names that sort in
writing order and never overwrite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.errors import OutputError
from minerwatch.output.jsonlines import event_line
from minerwatch.output.rotating import RotatingJsonLines


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def event(number: int, padding: int = 0) -> dict:
    return {"event_type": "flow", "event_id": number, "flow": {"pad": "x" * padding}}


def read_back(writer: RotatingJsonLines) -> list[list[dict]]:
    return [[json.loads(line) for line in Path(f).read_text().splitlines()] for f in writer.files]


@settings(max_examples=60, deadline=None)
@given(
    paddings=st.lists(st.integers(0, 300), min_size=1, max_size=40),
    limit=st.integers(60, 800),
)
def test_size_rotation_loses_and_splits_nothing(tmp_path_factory, paddings, limit):
    directory = tmp_path_factory.mktemp("rotated")
    writer = RotatingJsonLines(str(directory), limit, 3600.0, Clock())
    events = [event(n, pad) for n, pad in enumerate(paddings)]
    for e in events:
        writer.write(e)
    writer.close()
    files = read_back(writer)
    assert [e for f in files for e in f] == events  # every event, in order, each whole
    assert sorted(writer.files) == writer.files == sorted(str(p) for p in directory.iterdir())
    for path, content in zip(writer.files, files, strict=True):
        size = os.path.getsize(path)
        # At most the limit, unless one event alone is larger than the limit.
        assert size <= limit or len(content) == 1
        assert content  # never an empty file
    for closed, following in zip(writer.files[:-1], files[1:], strict=True):
        # A file was closed only because the next event would not fit.
        assert os.path.getsize(closed) + len(event_line(following[0])) > limit


def test_time_rotation_on_write_and_on_a_quiet_flush(tmp_path):
    clock = Clock()
    writer = RotatingJsonLines(str(tmp_path), 1 << 20, 60.0, clock)
    writer.write(event(1))
    clock.now += 59
    writer.write(event(2))
    writer.flush()
    assert len(writer.files) == 1
    clock.now += 1
    writer.write(event(3))  # 60 s after the first file was opened
    assert len(writer.files) == 2
    clock.now += 61
    writer.flush()  # quiet: the file is closed, and no new (empty) one is opened
    assert len(writer.files) == 2
    clock.now += 3600
    writer.write(event(4))
    writer.close()
    assert [[e["event_id"] for e in f] for f in read_back(writer)] == [[1, 2], [3], [4]]
    names = [Path(f).name for f in writer.files]
    assert names[0] == "events-20270115T080000Z-000001.jsonl"
    assert names[2].startswith("events-20270115T090201Z-000003")


def test_a_restart_in_the_same_second_does_not_overwrite(tmp_path):
    first = RotatingJsonLines(str(tmp_path), 1 << 20, 60.0, Clock())
    first.write(event(1))
    first.close()
    second = RotatingJsonLines(str(tmp_path), 1 << 20, 60.0, Clock())
    second.write(event(2))
    second.close()
    assert first.files != second.files
    assert [e["event_id"] for f in (*read_back(first), *read_back(second)) for e in f] == [1, 2]


def test_a_missing_directory_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="not a directory"):
        RotatingJsonLines(str(tmp_path / "missing"), 100, 60.0)
