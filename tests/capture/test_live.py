"""Live capture: TPACKET_V3 blocks give the same events as the file they were replayed from, BPF filters
compile, and a capture stopped by SIGTERM or SIGINT flushes everything.

The end-to-end tests replay a recording with tcpreplay into a veth pair inside a network namespace they
create (tests/live_replay.py), read the other end with `minerwatch live`, and stop it by PID; they need
root, ip and tcpreplay, and are skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import time
from pathlib import Path

import pytest

from live_replay import (
    NO_INTEL,
    RECORDING,
    LiveRun,
    analyse_file,
    as_from_a_file,
    events_of_type,
    normalised,
    recording_frames,
    renumbered,
    veth_namespace,
)
from minerwatch.capture.bpf import compile_filter
from minerwatch.capture.live import capture
from minerwatch.capture.sample import VICTIM, sample_packets
from minerwatch.cli.main import main
from minerwatch.errors import UsageError
from minerwatch.pipeline import Analysis, AnalysisOptions

PACKET_OUTGOING = 4


def tpacket_block(frames: list[tuple[int, bytes]], pkttype: int = 0) -> bytearray:
    """A TPACKET_V3 ring block as the kernel hands it over (linux/if_packet.h): block descriptor, then per
    packet a tpacket3_hdr, a sockaddr_ll and the frame at tp_mac, 16-byte aligned."""
    body = bytearray()
    for number, (ns, frame) in enumerate(frames):
        mac = 80
        size = (mac + len(frame) + 15) & ~15
        following = size if number + 1 < len(frames) else 0
        header = struct.pack(
            "=IIIIIIHH20x", following, ns // 10**9, ns % 10**9, len(frame), len(frame), 1, mac, mac + 14
        )
        address = struct.pack("=HHiHBB8s", 17, 0x0300, 1, 1, pkttype, 6, b"")
        body += (header + address).ljust(mac, b"\0") + frame.ljust(size - mac, b"\0")
    descriptor = struct.pack("=IIIIII", 3, 0, 1, len(frames), 48, 48 + len(body)).ljust(48, b"\0")
    return bytearray(descriptor + body).ljust(1 << 16, b"\0")


def analyse_blocks(blocks: list[bytearray], pkttype_check: bool = False) -> tuple[Analysis, list[dict]]:
    events: list[dict] = []
    analysis = Analysis([events.append], NO_INTEL)
    for block in blocks:
        count = analysis.engine.feed_tpacket_block(block, 1, pkttype_check)
        assert count >= 0
        assert analysis.engine.feed_tpacket_block(block, 1, pkttype_check) == -1  # handed back
    analysis.finish()
    return analysis, events


def test_ring_blocks_give_the_file_events_exactly():
    frames = recording_frames(RECORDING)
    assert len(frames) == 21
    blocks = [tpacket_block(frames[:8]), tpacket_block(frames[8:])]
    _, live = analyse_blocks(blocks)
    from_file = analyse_file()
    verdicts = [e for e in from_file if e["event_type"] == "verdict"]
    assert verdicts and verdicts[0]["verdict"]["stages"] == [1, 2]
    # Same frames and the same timestamps: everything but the `stats` event's file list is identical.
    assert live[:-1] == from_file[:-1]
    assert live[-1]["event_type"] == "stats"


def incident_changes(incident: dict) -> tuple:
    return (
        incident["status"],
        [s["name"] for s in incident["stages"]],
        [p["address"] for p in incident["pools"]],
        incident["spread_to"],
    )


def test_live_incidents_are_written_at_each_change_and_end_in_the_file_state():
    # The demo's Redis worm in ring blocks of 20 packets (about what a busy ring hands over at once), with
    # the check for changed incidents after each block, as `minerwatch live` does after each round of reads.
    frames = [(round(ts * 1e9), frame) for ts, frame in sample_packets()]
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions(incident_interval=0.5))
    updates = 0
    for start in range(0, len(frames), 20):
        analysis.engine.feed_tpacket_block(tpacket_block(frames[start : start + 20]), 1, False)
        updates += analysis.update_incidents()
    analysis.update_incidents()
    analysis.finish()
    first_verdict = next(i for i, e in enumerate(events) if e["event_type"] == "verdict")
    live = [e["incident"] for e in events[:first_verdict] if e["event_type"] == "incident"]
    final = [e["incident"] for e in events[first_verdict:] if e["event_type"] == "incident"]
    assert updates == len(live)
    victim = [i for i in live if i["host"] == VICTIM]
    # The story as it unfolds: the Redis attack, then the planted implant, then mining...
    assert [incident_changes(i)[1] for i in victim] == [
        ["attempted_attack", "exploitation", "implant_download"],
        ["attempted_attack", "exploitation", "implant_download", "actions_on_objective"],
    ]
    # ...the last update the state the end of the capture gives.
    changes = [incident_changes(i) for i in victim]
    file_events: list[dict] = []
    from_file = Analysis([file_events.append])
    from_file.engine.feed_tpacket_block(tpacket_block(frames), 1, False)
    from_file.finish()
    file_final = [e["incident"] for e in file_events if e["event_type"] == "incident"]
    assert [incident_changes(i) for i in final] == [incident_changes(i) for i in file_final]
    assert changes[-1] == next(incident_changes(i) for i in file_final if i["host"] == VICTIM)


def test_file_analysis_writes_each_incident_once():
    events: list[dict] = []
    analysis = Analysis([events.append])
    analysis.engine.feed_tpacket_block(
        tpacket_block([(round(t * 1e9), f) for t, f in sample_packets()]), 1, False
    )
    analysis.finish()
    ids = [e["incident"]["id"] for e in events if e["event_type"] == "incident"]
    assert ids and len(ids) == len(set(ids))


def test_a_block_the_kernel_still_owns_is_not_read():
    block = tpacket_block(recording_frames(RECORDING))
    block[8] = 0  # TP_STATUS_KERNEL
    analysis, _ = analyse_blocks([])
    assert analysis.engine.feed_tpacket_block(block, 1, False) == -1
    assert analysis.engine.counters.packets == 0


def test_outgoing_frames_are_skipped_when_asked_as_on_loopback():
    analysis, events = analyse_blocks([tpacket_block(recording_frames(RECORDING), PACKET_OUTGOING)], True)
    assert analysis.engine.counters.packets == 0
    assert [e["event_type"] for e in events] == ["stats"]


def test_bogus_offsets_in_a_block_stop_the_walk():
    block = tpacket_block(recording_frames(RECORDING)[:2])
    struct.pack_into("=I", block, 48, 1 << 30)  # the first packet's tp_next_offset points far outside
    analysis, _ = analyse_blocks([block])
    assert analysis.engine.counters.packets == 1


def test_bpf_compiles_with_libpcap():
    program = compile_filter("tcp port 3333", 1)
    assert program and len(program) % 8 == 0
    with pytest.raises(UsageError, match="--bpf"):
        compile_filter("tcp port", 1)


def test_an_unknown_interface_is_one_line_and_exit_2(capsys):
    assert main(["live", "-i", "nosuch\x1b[31m0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such network interface" in err and "\x1b" not in err


class SlowBacklog:
    """A source whose ring holds `blocks` finished blocks at the stop, each slow to analyse."""

    def __init__(self, blocks: int) -> None:
        self.left = blocks
        self.read_end, self.write_end = os.pipe()

    def fileno(self) -> int:
        return self.read_end

    def read(self, engine) -> int:
        if not self.left:
            return 0
        self.left -= 1
        time.sleep(0.03)
        return 100


def test_a_stop_reads_every_block_the_kernel_already_holds():
    # Regression: the drain once ended after 200 ms, losing what the kernel had delivered but the engine
    # had not read yet (a replay of 293,000 packets gave 50,404).
    backlog = SlowBacklog(20)
    try:
        capture([backlog], None, lambda: True)
    finally:
        os.close(backlog.read_end)
        os.close(backlog.write_end)
    assert backlog.left == 0


# ---- end to end, in a network namespace -------------------------------------------------------------------


@pytest.fixture(scope="module", params=[signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def replayed(request, tmp_path_factory) -> Path:
    """A live capture of the recording replayed into a veth pair, stopped by the signal in `param`."""
    out = tmp_path_factory.mktemp(f"live-{request.param}")
    with veth_namespace("mw-live") as ns:
        live = LiveRun(ns, out, ["--no-intel", "--bpf", "tcp port 3333", "-o", str(out / "events.jsonl")])
        live.replay(RECORDING)
        # Read while minerwatch still captures: the incident is written at its change, not at the stop.
        running = events_of_type(out / "events.jsonl", "incident", timeout=15)
        (out / "incidents-while-running.json").write_text(json.dumps(running))
        assert live.process.poll() is None
        (out / "status").write_text(str(live.stop(request.param)))
    return out


def test_live_replay_gives_the_file_verdicts_and_events(replayed):
    live = [json.loads(line) for line in (replayed / "events.jsonl").read_text().splitlines()]
    from_file = analyse_file()
    assert renumbered([normalised(e) for e in as_from_a_file(live)[:-1]]) == renumbered(
        [normalised(e) for e in from_file[:-1]]
    )
    verdict = next(e["verdict"] for e in live if e["event_type"] == "verdict")
    assert (verdict["host"], verdict["stages"], verdict["pools"][0]["port"]) == ("127.0.0.1", [1, 2], 3333)


def test_the_incident_is_written_while_the_capture_runs(replayed):
    running = json.loads((replayed / "incidents-while-running.json").read_text())
    assert running, (replayed / "stderr.txt").read_text()
    incident = running[-1]["incident"]
    assert (incident["host"], incident["status"]) == ("127.0.0.1", "compromised")
    assert [s["name"] for s in incident["stages"]] == ["actions_on_objective"]
    events = [json.loads(line) for line in (replayed / "events.jsonl").read_text().splitlines()]
    first_verdict = next(i for i, e in enumerate(events) if e["event_type"] == "verdict")
    # The update stands before the verdicts, which (with the final incidents) come only at the stop.
    assert running[-1] in events[:first_verdict]
    final = [e["incident"] for e in events[first_verdict:] if e["event_type"] == "incident"]
    assert [(i["id"], i["status"]) for i in final] == [(incident["id"], "compromised")]


def test_a_stop_signal_flushes_verdicts_and_stats(replayed):
    out = replayed
    assert (out / "status").read_text().strip() == "1", (out / "stderr.txt").read_text()
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    # Verdicts (and what the end of input makes: the final incidents, hosts) are written at the stop.
    assert [e["event_type"] for e in as_from_a_file(events)] == [e["event_type"] for e in analyse_file()]
    assert "verdict" in [e["event_type"] for e in events]
    stats = events[-1]
    assert stats["event_type"] == "stats" and stats["stats"]["capture"]["packets"] == 21
    assert stats["stats"]["files"] == [
        {"path": "live:mwb", "format": "af_packet-tpacket_v3", "bytes": 0, "warnings": []}
    ]
    assert "127.0.0.1" in (out / "summary.txt").read_text()
