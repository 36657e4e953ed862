"""Running sensors and correlators of the bus as the user does (the CLI, in processes of their own), and
reading what they wrote: shared by tests/bus/."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import nats
import orjson
from hypothesis import strategies as st

from minerwatch.bus.jetstream import STREAM
from minerwatch.bus.publish import BusPublisher
from minerwatch.bus.wire import MAX_MESSAGE, BusMessage
from minerwatch.capture.sample import write_sample
from minerwatch.pipeline import Analysis

# Any JSON value a publisher could send (for fuzzing what the bus delivers)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what JSON numbers orjson writes
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "recordings"
WORM = RECORDINGS / "scenario-ssh-worm.pcapng"
MINERWATCH = [sys.executable, "-m", "minerwatch"]
CONCLUSIONS = ("verdict", "incident", "host")
# Ids differ between one sensor's output and the correlator's, which numbers the events it restates.
IDS = frozenset({"event_id", "event_ids", "evidence", "id", "related_event_id", "origin"})


def minerwatch(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MINERWATCH, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def publish(url: str, capture: Path, sensor: str, *more: str | Path) -> str:
    """The sensor's line saying how many observations the stream stored."""
    done = minerwatch(
        "analyze", capture, "--nats", url, "--sensor-name", sensor, "--no-store", "--no-progress", *more
    )
    assert done.returncode == 1, done.stderr  # both inputs hold findings
    assert f"as sensor {sensor}" in done.stderr
    return done.stderr


def correlate(url: str, output: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return minerwatch("correlate", "--nats", url, "-o", output, "--no-store", *more)


async def make_stream(url: str, **config: Any) -> None:
    """The stream as a sensor makes it (bus/jetstream.py), of one partition, with `config` changed (a
    duplicate window, limits on its messages)."""
    client = await nats.connect(url)
    try:
        await client.jetstream().add_stream(
            name=STREAM,
            description="minerwatch observations by host; partitions=1",
            subjects=["minerwatch.obs.>"],
            max_msg_size=MAX_MESSAGE,
            **config,
        )
    finally:
        await client.close()


async def last_message(url: str) -> int:
    """The stream's last sequence number."""
    client = await nats.connect(url)
    try:
        return int((await client.jetstream().stream_info(STREAM)).state.last_seq)
    finally:
        await client.close()


def events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in IDS}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def conclusions(found: list[dict[str, Any]]) -> list[Any]:
    """The last verdict, incident and host event of each host (a correlator also writes incidents as they
    change), ids left out."""
    last = {(e["event_type"], e["src_ip"]): without_ids(e) for e in found if e["event_type"] in CONCLUSIONS}
    return [last[key] for key in sorted(last)]


def cited(value: Any) -> Iterator[int]:
    """Every event id a verdict, incident or host body cites."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("event_ids", "event_id") and isinstance(item, int | list):
                yield from item if isinstance(item, list) else [item]
            else:
                yield from cited(item)
    elif isinstance(value, list):
        for item in value:
            yield from cited(item)


RUN_OWN = ("replayed", "read", "snapshot")  # what stats.bus counts of one run's reading alone


def same_output(resumed: Path, reference: Path) -> int:
    """`resumed` holds `reference`'s lines, byte for byte, but for the counts of one run's reading in the
    last (stats) event; returns the count of messages replayed."""
    *lines, last = resumed.read_bytes().splitlines()
    *expected, expected_last = reference.read_bytes().splitlines()
    assert lines == expected
    stats, expected_stats = orjson.loads(last), orjson.loads(expected_last)
    replayed = stats["stats"]["bus"]["replayed"]
    assert expected_stats["stats"]["bus"]["replayed"] == 0
    assert _without_run_own(stats) == _without_run_own(expected_stats)
    return int(replayed)


def same_conclusions(one: Path, other: Path) -> bool:
    """The two outputs are alike, line for line, but for the counts of each run's reading in their stats."""
    left, right = events(one), events(other)
    assert [_without_run_own(e) for e in left] == [_without_run_own(e) for e in right]
    return True


def _without_run_own(event: dict[str, Any]) -> dict[str, Any]:
    if event["event_type"] != "stats":
        return event
    bus = {k: v for k, v in event["stats"]["bus"].items() if k not in RUN_OWN}
    return event | {"stats": event["stats"] | {"bus": bus}}


class RecordingPublisher(BusPublisher):
    """What a sensor would publish (its choice of observations and the events they cite), kept instead
    of sent: no server needed."""

    def __init__(self) -> None:  # attach(), event() and observe() work without a connection
        self.sensor, self.run, self.seq = "edge-a", "0123abcd", 0
        self.capture, self.keys = None, None
        self.recent = OrderedDict()
        self.stats = {}
        self.messages: list[BusMessage] = []

    def send(self, message: BusMessage) -> None:
        self.messages.append(message)


def recorded(capture: Path) -> list[BusMessage]:
    """Every message a sensor analysing `capture` (in one process) publishes."""
    recorder = RecordingPublisher()
    analysis = Analysis([])
    recorder.attach(analysis)
    analysis.feed_file(capture)
    analysis.finish()
    return recorder.messages


@cache
def recorded_demo() -> list[BusMessage]:
    """recorded() of the demonstration capture, made once (hypothesis calls a test hundreds of times, and
    a fixture would be printed whole with each failing example)."""
    with tempfile.TemporaryDirectory() as work:
        capture = Path(work) / "demo.pcap"
        write_sample(capture)
        return recorded(capture)
