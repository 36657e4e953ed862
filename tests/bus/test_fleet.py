"""Many sensors, one correlator, through a real nats-server (conftest.py): what `minerwatch correlate`
concludes from what `analyze --nats` published equals what each sensor concluded alone, a correlator
killed mid-stream and started again writes exactly what an uninterrupted one writes, and copies and bad
messages on the bus are dropped and counted.

Inputs: the demonstration capture (hosts 10.1.1.x: brute force, exploit, dropper, two miners and a peer
suspect) and the real recording of an SSH worm spreading between two hosts (10.13.0.x), one per sensor.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time

import pytest

from fleet import (
    CONCLUSIONS,
    MINERWATCH,
    WORM,
    cited,
    conclusions,
    correlate,
    events,
    last_message,
    make_stream,
    minerwatch,
    publish,
    same_conclusions,
    same_output,
    without_ids,
)
from minerwatch.bus.wire import partition_of
from test_event_schema import validate_all


def test_the_correlator_concludes_what_each_sensor_concluded_alone(nats_url, tmp_path, demo, analyse):
    # the two ways a sensor analyses files: the correlator process of workers publishes, or the one process
    said = publish(nats_url, demo, "edge-a", "-o", tmp_path / "edge-a.jsonl", "--workers", "2")
    said += publish(nats_url, WORM, "edge-b", "--workers", "1")
    out = tmp_path / "fleet.jsonl"
    done = correlate(nats_url, out)
    assert done.returncode == 1, done.stderr
    fleet = events(out)
    sensor = events(tmp_path / "edge-a.jsonl")
    validate_all(fleet + sensor)
    stored = [int(n) for n in re.findall(r"minerwatch: (\d+) observation\(s\) stored by NATS", said)]
    assert stored[0] == sensor[-1]["stats"]["bus"]["published"]
    assert sum(stored) == fleet[-1]["stats"]["bus"]["messages"]
    alone = analyse(demo) + analyse(WORM)
    assert conclusions(fleet) == conclusions(alone)
    hosts = {e["src_ip"] for e in fleet if e["event_type"] == "incident"}
    assert {"10.1.1.20", "10.1.1.21", "10.13.0.11", "10.13.0.12"} <= hosts
    # every id a conclusion cites is an event of the correlator's output: the evidence it restated
    ids = [e["event_id"] for e in fleet]
    assert len(ids) == len(set(ids))
    restated = {e["event_id"]: e for e in fleet if "sensor" in e.get("origin", {})}
    for event in fleet:
        if event["event_type"] in CONCLUSIONS:
            assert set(cited(event[event["event_type"]])) <= set(restated), event["event_type"]
    assert {e["origin"]["sensor"] for e in restated.values()} == {"edge-a", "edge-b"}
    # incidents are written as they change, before the stream's end: the worm's as soon as it is one
    first_verdict = next(i for i, e in enumerate(fleet) if e["event_type"] == "verdict")
    early = {e["src_ip"] for e in fleet[:first_verdict] if e["event_type"] == "incident"}
    assert {"10.1.1.20", "10.13.0.11"} <= early
    stats = fleet[-1]["stats"]["bus"]
    assert stats["sensors"] == ["edge-a", "edge-b"]
    assert stats["duplicates"] == stats["rejected"] == stats["replayed"] == 0
    assert stats["by_kind"]["contact"] > 0 and stats["by_kind"]["stage"] > 0


@pytest.mark.parametrize("snapshot", [False, True])
def test_a_correlator_killed_mid_stream_loses_nothing_and_repeats_nothing(nats_url, tmp_path, demo, snapshot):
    """Killed before its snapshot (read again from the stream's start) or after one (read from there)."""
    publish(nats_url, demo, "edge-a")
    publish(nats_url, WORM, "edge-b")
    reference = tmp_path / "reference.jsonl"
    assert correlate(nats_url, reference).returncode == 1
    out = tmp_path / "fleet.jsonl"
    every = ["--snapshot-every", "1" if snapshot else "0"]
    follower = subprocess.Popen(
        [*MINERWATCH, "correlate", "--nats", nats_url, "-o", str(out), "--no-store", "--follow", *every],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        watched = tmp_path / "fleet.jsonl.snapshot" if snapshot else out
        while not (watched.exists() and watched.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        os.kill(follower.pid, signal.SIGKILL)
        follower.wait()
    written = out.read_bytes()
    assert written, "the correlator wrote nothing before it was killed"
    assert not written.startswith(reference.read_bytes())  # killed before its end: no conclusion yet
    again = correlate(nats_url, out)
    assert again.returncode == 1, again.stderr
    replayed = same_output(out, reference)
    stats = events(out)[-1]["stats"]["bus"]
    assert (stats["snapshot"] > 0) == snapshot
    assert stats["read"] == stats["messages"] - stats["snapshot"]
    assert replayed > 0 or snapshot


@pytest.mark.parametrize("cut", [0.0, 0.1, 0.5, 0.77, 0.99])
def test_a_restart_goes_on_from_any_point_of_the_output_even_a_cut_line(nats_url, tmp_path, demo, cut):
    """Where a kill can leave the file: after any line, or inside one (written in part)."""
    publish(nats_url, demo, "edge-a")
    reference = tmp_path / "reference.jsonl"
    assert correlate(nats_url, reference).returncode == 1
    whole = reference.read_bytes()
    streamed = whole[: whole.index(b'"event_type":"verdict"')]  # before the conclusion: what a kill cuts
    streamed = streamed[: streamed.rindex(b"\n") + 1]
    out = tmp_path / "fleet.jsonl"
    out.write_bytes(streamed[: int(len(streamed) * cut)])
    assert correlate(nats_url, out).returncode == 1
    replayed = same_output(out, reference)
    assert (replayed > 0) == (cut > 0)


def test_a_stopped_correlator_started_again_adds_only_what_came_since(nats_url, tmp_path, demo):
    publish(nats_url, demo, "edge-a")
    out = tmp_path / "fleet.jsonl"
    assert correlate(nats_url, out).returncode == 1
    first = events(out)
    publish(nats_url, WORM, "edge-b")
    assert correlate(nats_url, out).returncode == 1
    both = events(out)
    assert both[: len(first)] == first
    ids = [e["event_id"] for e in both]
    assert len(ids) == len(set(ids))
    later = both[len(first) :]
    assert {e["origin"]["sensor"] for e in later if "sensor" in e.get("origin", {})} == {
        "edge-b"
    }  # edge-a's not again
    incidents = {e["src_ip"] for e in later if e["event_type"] == "incident"}
    assert {"10.1.1.20", "10.13.0.11"} <= incidents  # the state is the whole stream's


def test_a_restart_from_its_snapshot_reads_only_the_messages_after_it(nats_url, tmp_path, demo):
    out, reference = tmp_path / "fleet.jsonl", tmp_path / "reference.jsonl"
    snapshot = tmp_path / "fleet.jsonl.snapshot"
    publish(nats_url, demo, "edge-a")
    assert correlate(nats_url, out).returncode == 1  # saves its state when it stops
    assert correlate(nats_url, reference, "--snapshot-every", "0").returncode == 1
    assert snapshot.exists() and not (tmp_path / "reference.jsonl.snapshot").exists()
    first = events(out)[-1]["stats"]["bus"]
    assert first["snapshot"] == 0 and first["read"] == first["messages"]
    publish(nats_url, WORM, "edge-b")
    again = correlate(nats_url, out)
    assert again.returncode == 1 and again.stderr == ""
    assert correlate(nats_url, reference, "--snapshot-every", "0").returncode == 1
    stats = events(out)[-1]["stats"]["bus"]
    worm = stats["messages"] - first["messages"]
    assert worm > 0 and stats["read"] == worm and stats["replayed"] == 0  # the worm's messages only
    assert stats["snapshot"] > 0
    replayed = events(reference)[-1]["stats"]["bus"]  # without a snapshot: the whole partition again
    assert replayed["read"] == replayed["messages"] and 0 < replayed["replayed"] <= first["messages"]
    assert same_conclusions(out, reference)
    # a snapshot that cannot be used is one line, and the partition is read from the stream's start
    snapshot.write_bytes(b"\x93not a snapshot")
    publish(nats_url, demo, "edge-c")
    assert correlate(nats_url, reference, "--snapshot-every", "0").returncode == 1
    damaged = correlate(nats_url, out)
    assert damaged.returncode == 1
    assert damaged.stderr == (
        f"minerwatch: snapshot {snapshot} not used (not a minerwatch correlator snapshot): reading "
        "partition 0 from the stream's start\n"
    )
    assert events(out)[-1]["stats"]["bus"]["snapshot"] == 0
    assert same_conclusions(out, reference)


def test_a_stream_that_dropped_its_oldest_messages(nats_url, tmp_path, demo, analyse):
    """A stream limited to 300 messages (max-msgs) drops the demonstration's first ones once the worm's are
    in: a correlator restarted from its snapshot concludes as if nothing was dropped; one without a
    snapshot says so in one line and concludes from what the stream kept."""
    asyncio.run(make_stream(nats_url, max_msgs=300))
    publish(nats_url, demo, "edge-a")
    out, bare = tmp_path / "fleet.jsonl", tmp_path / "bare.jsonl"
    assert correlate(nats_url, out).returncode == 1
    demo_messages = events(out)[-1]["stats"]["bus"]["messages"]
    publish(nats_url, WORM, "edge-b")
    again = correlate(nats_url, out)
    assert again.returncode == 1 and again.stderr == ""
    alone = conclusions(analyse(demo) + analyse(WORM))
    assert conclusions(events(out)) == alone
    kept = correlate(nats_url, bare, "--snapshot-every", "0")
    assert kept.returncode == 1
    dropped = re.fullmatch(
        r"minerwatch: messages 1-(\d+) of the stream were dropped by its limits before this correlator read "
        r"them: what they held of partition 0 is missing from its view\n",
        kept.stderr,
    )
    assert dropped and 0 < int(dropped.group(1)) < demo_messages
    assert events(bare)[-1]["stats"]["bus"]["messages"] == 300
    assert conclusions(events(bare)) != alone


def test_partitions_split_hosts_and_share_what_joins_them(nats_url, tmp_path, demo, analyse):
    made = minerwatch("correlate", "--nats", nats_url, "--partitions", "2", "--no-store", "--json")
    assert made.returncode == 0, made.stderr  # makes the stream, which is empty
    publish(nats_url, demo, "edge-a")
    publish(nats_url, WORM, "edge-b")
    # What joins two hosts crosses partitions: 10.1.1.22 reached the pool 10.1.1.21 mined on, and the worm
    # spread from 10.13.0.11 to 10.13.0.12, each pair split between the two partitions.
    for one, other in (("10.1.1.22", "10.1.1.21"), ("10.13.0.11", "10.13.0.12")):
        assert partition_of(one, 2) != partition_of(other, 2)
    outputs = [tmp_path / f"p{partition}.jsonl" for partition in (0, 1)]
    # Run one after the other, each partition meets the facts the other shared when it ran: a second
    # round (each going on from its file) gets what the first run of the other made after it
    for _ in range(2):
        for partition, out in enumerate(outputs):
            assert correlate(nats_url, out, "--partition", str(partition)).returncode == 1
    parts = [events(out) for out in outputs]
    validate_all(parts[0] + parts[1])
    for partition, found in enumerate(parts):
        assert {partition_of(e["src_ip"], 2) for e in found if e["event_type"] == "verdict"} == {partition}
        ids = [e["event_id"] for e in found]
        assert len(ids) == len(set(ids))
    alone = final(analyse(demo)) | final(analyse(WORM))
    joined = final(parts[0]) | final(parts[1])
    assert joined == alone
    # ... and both joins are in it: the peer suspect, the worm's spread and its target's incident
    assert joined["verdict", "10.1.1.22", None]["verdict"]["activity"] == "contacted-confirmed-pool"
    assert joined["verdict", "10.1.1.22", None]["verdict"]["confirmed_pools"][0]["confirmed_by"] == [
        "10.1.1.21"
    ]
    assert joined["incident", "10.13.0.11", None]["incident"]["spread_to"] == ["10.13.0.12"]
    assert ("incident", "10.13.0.12", None) in joined
    joins = [found[-1]["stats"]["bus"]["joins"] for found in parts]
    assert all(j["facts_taken"] > 0 and j["facts_shared"] > 0 for j in joins)
    wrong = minerwatch("correlate", "--nats", nats_url, "--partitions", "3", "--no-store")
    assert wrong.returncode == 2
    assert wrong.stderr.strip().endswith("has 2 partition(s), not 3")
    missing = minerwatch("correlate", "--nats", nats_url, "--partition", "2", "--no-store")
    assert missing.returncode == 2 and "partition 2 does not exist" in missing.stderr


def test_partitions_following_the_stream_share_what_joins_them_as_it_comes(nats_url, tmp_path, demo, analyse):
    """As a fleet runs them: both partitions' correlators at once, with --follow, until SIGTERM."""
    made = minerwatch("correlate", "--nats", nats_url, "--partitions", "2", "--no-store", "--json")
    assert made.returncode == 0, made.stderr
    publish(nats_url, demo, "edge-a")
    publish(nats_url, WORM, "edge-b")
    outputs = [tmp_path / f"p{partition}.jsonl" for partition in (0, 1)]
    command = [*MINERWATCH, "correlate", "--nats", nats_url, "--no-store", "--follow"]
    followers = [
        subprocess.Popen(
            [*command, "-o", str(out), "--partition", str(partition)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for partition, out in enumerate(outputs)
    ]
    try:
        _until_quiet(nats_url, outputs)
    finally:
        for follower in followers:
            os.kill(follower.pid, signal.SIGTERM)
        done = [follower.communicate(timeout=60)[1] for follower in followers]
    assert [follower.returncode for follower in followers] == [1, 1] and done == [b"", b""]
    alone = final(analyse(demo)) | final(analyse(WORM))
    assert final(events(outputs[0])) | final(events(outputs[1])) == alone


def _until_quiet(url: str, outputs: list) -> None:
    """Until the stream and the outputs have not grown for 4 s (the correlators share what others wait for
    within a second of running out of messages), or 120 s."""
    seen, since, deadline = None, time.monotonic(), time.monotonic() + 120
    while time.monotonic() < deadline:
        now = (asyncio.run(last_message(url)), [out.stat().st_size if out.exists() else 0 for out in outputs])
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since > 4:
            return
        time.sleep(0.5)
    raise AssertionError("the correlators never went quiet")


def final(found: list[dict]) -> dict:
    """The conclusions of the last run in `found`, ids left out, by (event type, host, status)."""
    last_run = max(i for i, e in enumerate(found) if e["event_type"] == "stats")
    start = max((i for i, e in enumerate(found[:last_run]) if e["event_type"] == "stats"), default=-1)
    return {
        (e["event_type"], e["src_ip"], e.get("host", {}).get("status")): without_ids(e)
        for e in found[start + 1 : last_run]
        if e["event_type"] in CONCLUSIONS
    }


def test_an_unreachable_server_is_one_line(tmp_path, demo):
    for args in (
        ("analyze", demo, "--nats", "nats://127.0.0.1:1"),
        ("correlate", "--nats", "nats://127.0.0.1:1"),
    ):
        done = minerwatch(*args, "--no-store")
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "cannot connect to NATS at nats://127.0.0.1:1" in done.stderr
        assert "Traceback" not in done.stderr
