"""Running `minerwatch live` as a service: rotated output and stop signals lose no event, SIGHUP reloads
intel without dropping flows, periodic `stats` events carry the kernel's counters, libpcap reads what
AF_PACKET reads. Each test replays a recording into a veth pair in a namespace it makes (live_replay.py)."""

from __future__ import annotations

import json
import os
import signal
import time
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from live_replay import (
    READER,
    RECORDING,
    LiveRun,
    analyse_file,
    as_from_a_file,
    normalised,
    recording_frames,
    renumbered,
    veth_namespace,
)
from minerwatch.capture.writer import PcapWriter
from minerwatch.cli import live as live_cli
from minerwatch.cli.main import main
from minerwatch.pipeline import AnalysisResult

FILTER = ["--bpf", "tcp port 3333"]


def read_dir(directory: Path) -> tuple[list[Path], list[dict]]:
    files = sorted(directory.iterdir())
    return files, [json.loads(line) for f in files for line in f.read_text().splitlines()]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_rotated_output_and_a_stop_signal_lose_and_split_nothing(tmp_path, signum):
    out = tmp_path / "events"
    out.mkdir()
    args = [*FILTER, "--no-intel", "-o", str(out), "--rotate-size", "1K", "--stats-interval", "0.2"]
    with veth_namespace("mw-rotate") as ns:
        live = LiveRun(ns, tmp_path, args)
        live.replay(RECORDING)
        time.sleep(0.6)  # at least one interval report after the last packet was read
        assert live.stop(signum) == 1, live.stderr
    files, events = read_dir(out)
    assert len(files) > 3, "the 1 KiB limit should have rotated the output several times"
    for f in files:
        lines = f.read_text().splitlines()
        assert f.stat().st_size <= 1024 or len(lines) == 1
        assert f.name.startswith("events-") and f.name.endswith(".jsonl")
    # Every event of the file analysis, in order, whole, with the periodic reports in between.
    live_events = as_from_a_file(events)
    from_file = analyse_file()
    assert renumbered([normalised(e) for e in live_events[:-1]]) == renumbered(
        [normalised(e) for e in from_file[:-1]]
    )
    final = live_events[-1]["stats"]
    assert final["capture"]["packets"] == 21
    assert final["kernel"] == [
        {"interface": READER, "method": "af_packet-tpacket_v3", "packets": 21, "drops": 0, "freeze_queue": 0}
    ]
    periodic = [e for e in events if e["event_type"] == "stats" and e["stats"].get("periodic")]
    assert periodic, "--stats-interval 0.2 wrote no periodic stats event"
    last = periodic[-1]["stats"]
    assert last["kernel"][0]["packets"] == 21 and last["capture"]["packets"] == 21
    assert [e["event_id"] for e in events] == sorted(e["event_id"] for e in events)
    schema = json.loads(resources.files("minerwatch").joinpath("schema/events.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert [list(validator.iter_errors(e)) for e in events] == [[]] * len(events)


def write_pcap(path: Path, frames: list[tuple[int, bytes]]) -> Path:
    with open(path, "wb") as fh:
        writer = PcapWriter(fh, nanosecond=True)
        writer.write_all((ns / 1e9, frame) for ns, frame in frames)
    return path


@pytest.mark.parametrize("hup", [True, False], ids=["sighup", "no-sighup"])
def test_sighup_reloads_intel_and_keeps_flows_in_progress(tmp_path, hup):
    # The miner's TCP handshake is read with an empty knowledge base; the miner's wallet is then imported,
    # SIGHUP sent, and the rest of the same connection (the login with the wallet) replayed.
    frames = recording_frames(RECORDING)
    handshake = write_pcap(tmp_path / "handshake.pcap", frames[:3])
    rest = write_pcap(tmp_path / "rest.pcap", frames[3:])
    db = tmp_path / "intel.sqlite"
    assert main(["intel", "--db", str(db), "seed"]) == 0
    login = next(e["mining"]["login"] for e in analyse_file() if e.get("mining", {}).get("login"))
    wallets = tmp_path / "wallets.txt"
    wallets.write_text(login + "\n")
    with veth_namespace("mw-hup") as ns:
        live = LiveRun(ns, tmp_path, [*FILTER, "--intel-db", str(db), "-o", str(tmp_path / "events.jsonl")])
        live.replay(handshake)
        time.sleep(0.3)
        assert (
            main(["intel", "--db", str(db), "import", str(wallets), "--type", "wallet", "--source", "t"]) == 0
        )
        if hup:
            live.send(signal.SIGHUP)
            live.wait_for("intel and rules reloaded")
        live.replay(rest)
        assert live.stop() == 1, live.stderr
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    alerts = [
        e["alert"] for e in events if e["event_type"] == "alert" and e["alert"]["intel"]["source"] == "t"
    ]
    if hup:
        assert [(a["intel"]["indicator_type"], a["where"]) for a in alerts] == [("wallet", "mining login")]
    else:
        assert alerts == []  # the indicator was in the file, but not loaded: the reload is what matched it
    # The connection in progress kept its state across the reload: one flow of 21 packets, the miner's
    # messages and the verdict as from the file.
    flows = [e for e in events if e["event_type"] == "flow"]
    assert len(flows) == 1 and flows[0]["flow"]["pkts_toserver"] + flows[0]["flow"]["pkts_toclient"] == 21
    from_file = analyse_file()
    mining = [normalised(e)["mining"] for e in events if e["event_type"] == "mining"]
    assert mining == [normalised(e)["mining"] for e in from_file if e["event_type"] == "mining"]
    verdict = next(e["verdict"] for e in events if e["event_type"] == "verdict")
    assert verdict["stages"] == next(
        e["verdict"]["stages"] for e in from_file if e["event_type"] == "verdict"
    )


def test_libpcap_reads_what_af_packet_reads(tmp_path):
    with veth_namespace("mw-pcap") as ns:
        live = LiveRun(
            ns, tmp_path, [*FILTER, "--no-intel", "--capture", "libpcap", "-o", str(tmp_path / "e.jsonl")]
        )
        live.replay(RECORDING)
        assert live.stop() == 1, live.stderr
    events = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    from_file = analyse_file()
    assert renumbered([normalised(e) for e in as_from_a_file(events)[:-1]]) == renumbered(
        [normalised(e) for e in from_file[:-1]]
    )
    stats = events[-1]["stats"]
    assert stats["capture"]["packets"] == 21
    assert stats["files"] == [{"path": f"live:{READER}", "format": "libpcap", "bytes": 0, "warnings": []}]
    assert stats["kernel"][0]["method"] == "libpcap" and stats["kernel"][0]["drops"] == 0
    assert stats["kernel"][0]["packets"] >= 21  # libpcap counts before the filter on some kernels


def test_several_interfaces_are_read_together(tmp_path):
    tls = RECORDING.with_name("xmrig-6.16.0-cryptonote-tls.pcapng")
    pairs = (("mwa", READER), ("mwc", "mwd"))
    with veth_namespace("mw-two", pairs) as ns:
        live = LiveRun(
            ns, tmp_path, ["-i", "mwd", "--no-intel", "--bpf", "tcp", "-o", str(tmp_path / "e.jsonl")]
        )
        live.replay(RECORDING)
        live.replay(tls, "mwc")
        assert live.stop() == 1, live.stderr
    events = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    stats = events[-1]["stats"]
    sent = {READER: len(recording_frames(RECORDING)), "mwd": len(recording_frames(tls))}
    assert {k["interface"]: k["packets"] for k in stats["kernel"]} == sent
    assert stats["capture"]["packets"] == sum(sent.values())
    assert stats["files"] == [
        {"path": f"live:{name}", "format": "af_packet-tpacket_v3", "bytes": 0, "warnings": []}
        for name in (READER, "mwd")
    ]


def test_rotation_options_need_a_directory(tmp_path, capsys):
    assert main(["live", "-i", "lo", "-o", str(tmp_path / "f.jsonl"), "--rotate-size", "1M"]) == 2
    assert "need -o DIR" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "f.jsonl")


def test_live_takes_the_default_number_of_workers_of_analyze(monkeypatch):
    """`live` without --workers takes `analyze`'s default (a worker per core but one) on a bigger machine."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))
    asked: list[int] = []

    def with_workers(args, options, digest) -> AnalysisResult:
        asked.append(args.workers)
        return AnalysisResult(verdicts=[], incidents=[], files=[], input_errors=[], stats={})

    monkeypatch.setattr(live_cli, "_with_workers", with_workers)
    monkeypatch.setattr(live_cli, "_report", lambda _result, _args, _digest: 0)
    monkeypatch.setattr(live_cli, "event_writers", lambda *_: pytest.fail("one process was chosen"))
    assert main(["live", "-i", "lo"]) == 0
    assert asked == [7]
