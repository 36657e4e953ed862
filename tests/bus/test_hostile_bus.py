"""Whatever else reaches the stream: copies of a sensor's messages and messages no sensor sends. The
correlator drops copies, skips bad messages with one line each, and concludes as if neither were there."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nats
import orjson
import pytest

from fleet import conclusions, correlate, events, make_stream, publish
from minerwatch.bus.identity import capture_identity
from minerwatch.bus.wire import subject


async def _messages(url: str) -> list[tuple[str, bytes]]:
    """(subject, data) of every message in the stream, in order."""
    client = await nats.connect(url)
    js = client.jetstream()
    sub = await js.pull_subscribe("minerwatch.obs.>", stream="MINERWATCH")
    found = []
    try:
        while True:
            batch = await sub.fetch(256, timeout=1)
            found += [(m.subject, m.data) for m in batch]
            if batch[-1].metadata.num_pending == 0:
                return found
    finally:
        await client.close()


async def _publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    client = await nats.connect(url)
    js = client.jetstream()
    try:
        for name, data in messages:  # no Nats-Msg-Id: the stream keeps copies, as after its window
            await js.publish(name, data)
    finally:
        await client.close()


def test_copies_and_bad_messages_change_nothing_but_the_counts(nats_url, tmp_path, demo):
    publish(nats_url, demo, "edge-a")
    clean = tmp_path / "clean.jsonl"
    assert correlate(nats_url, clean).returncode == 1
    sent = asyncio.run(_messages(nats_url))
    good = orjson.loads(sent[0][1])
    host = subject("10.1.1.20", 1)
    bad = [
        (host, b"\x00\xff not json"),
        (host, b"[1, 2, 3]"),
        (host, orjson.dumps(good | {"kind": "verdict"})),
        (host, orjson.dumps(good | {"obs": good["obs"] | {"host": "\x1b[31mred"}})),
        (host, orjson.dumps({"v": 1, "sensor": "x", "run": "y", "seq": 1, "kind": "stage", "obs": 5})),
        (host, b"{" * 100_000),  # past orjson's nesting limit, and the stream's size limit
    ]
    asyncio.run(_publish(nats_url, sent[:40] + bad[:-1]))
    out = tmp_path / "fleet.jsonl"
    done = correlate(nats_url, out)
    assert done.returncode == 1
    skipped = [line for line in done.stderr.splitlines() if " skipped: " in line]
    assert len(skipped) == len(bad) - 1  # the largest never reached the stream
    assert "\x1b" not in done.stderr and "\\x1b[31mred' is not an IP address" in done.stderr
    assert "Traceback" not in done.stderr
    *lines, last = out.read_bytes().splitlines()
    *expected, _ = clean.read_bytes().splitlines()
    assert lines == expected
    bus = orjson.loads(last)["stats"]["bus"]
    assert (bus["duplicates"], bus["rejected"], bus["messages"]) == (
        40,
        len(bad) - 1,
        len(sent) + 40 + len(bad) - 1,
    )
    assert "duplicate" in done.stdout


def sensor_stats(path) -> dict:
    return events(path)[-1]["stats"]["bus"]


@pytest.mark.parametrize("window", [300.0, 0.2], ids=["within-the-window", "past-the-window"])
def test_a_capture_published_again_adds_nothing(nats_url, tmp_path, demo, window):
    """A sensor run again over a capture it published makes the same observation keys (bus/identity.py):
    within the stream's duplicate window the stream keeps none of them; past it, the correlator drops them.
    Either way the correlator concludes as from one publication and restates each event once."""
    if window != 300.0:
        asyncio.run(make_stream(nats_url, duplicate_window=window))
    publish(nats_url, demo, "edge-a", "-o", tmp_path / "first.jsonl")
    once = tmp_path / "once.jsonl"
    assert correlate(nats_url, once).returncode == 1
    time.sleep(2 * window if window < 1 else 0)
    copy = tmp_path / "copy.pcap"  # the same capture under another name is the same capture
    copy.write_bytes(demo.read_bytes())
    publish(nats_url, copy, "edge-a", "-o", tmp_path / "again.jsonl", "--workers", "2")
    first, again = sensor_stats(tmp_path / "first.jsonl"), sensor_stats(tmp_path / "again.jsonl")
    assert first["capture"] == again["capture"] and first["run"] != again["run"]
    assert again["published"] == first["published"] > 50
    twice = tmp_path / "twice.jsonl"
    assert correlate(nats_url, twice).returncode == 1
    bus = sensor_stats(twice)
    if window == 300.0:  # the stream took every one for a duplicate and kept none
        assert (bus["messages"], bus["republished"]) == (first["published"], 0)
    else:
        assert (bus["messages"], bus["republished"]) == (2 * first["published"], first["published"])
    assert conclusions(events(twice)) == conclusions(events(once))
    runs = {e["origin"]["run"] for e in events(twice) if "sensor" in e.get("origin", {})}
    assert runs == {first["run"]}


def test_live_traffic_and_standard_input_have_no_capture_identity(tmp_path, demo):
    assert capture_identity([demo]) == capture_identity([demo])
    assert capture_identity([Path("-")]) is None
    assert capture_identity([demo, tmp_path]) is None  # a directory is not a capture
    other = tmp_path / "other.pcap"
    other.write_bytes(demo.read_bytes()[:-1])
    assert capture_identity([other]) != capture_identity([demo])
    assert capture_identity([demo, other]) != capture_identity([other, demo])
