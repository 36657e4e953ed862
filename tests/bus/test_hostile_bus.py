"""Whatever else reaches the stream: copies of a sensor's messages and messages no sensor sends. The
correlator drops copies, skips bad messages with one line each, and concludes as if neither were there."""

from __future__ import annotations

import asyncio

import nats
import orjson

from fleet import correlate, events, publish
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


def test_a_sensor_run_again_is_a_new_run_not_a_copy(nats_url, tmp_path, demo):
    """The same capture published twice is two runs: its events are restated twice, its hosts judged once
    (counts like submits add up, as with two captures of the same traffic)."""
    publish(nats_url, demo, "edge-a")
    once = tmp_path / "once.jsonl"
    assert correlate(nats_url, once).returncode == 1
    publish(nats_url, demo, "edge-a")
    twice = tmp_path / "twice.jsonl"
    assert correlate(nats_url, twice).returncode == 1
    runs = {e["origin"]["run"] for e in events(twice) if "sensor" in e.get("origin", {})}
    assert len(runs) == 2
    hosts = [e["src_ip"] for e in events(twice) if e["event_type"] == "incident"]
    assert sorted(hosts) == sorted(e["src_ip"] for e in events(once) if e["event_type"] == "incident")
