"""live --workers: the benchmark capture replayed into a veth pair (in a network namespace the test makes),
read by two workers the kernel feeds by flow (AF_PACKET fanout), gives the file's events; a stop flushes
every worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from live_replay import SENDER, TIMING, LiveRun, as_from_a_file, veth_namespace
from minerwatch.pipeline import Analysis, AnalysisOptions
from same_events import differences
from scale_runs import without

ROOT = Path(__file__).resolve().parents[2]
PACKETS = 20_000
# Besides capture times: flow ids number each worker's own packets live (a file's packets otherwise).
LIVE_ONLY = TIMING | {"flow_id", "flow_ids"}


def test_two_live_workers_give_the_file_events(tmp_path):
    capture = tmp_path / "mixed.pcap"
    script = ROOT / "benchmarks" / "make_mixed_capture.py"
    generate = [sys.executable, script, capture, "--packets", str(PACKETS), "--seed", "11"]
    subprocess.run(generate, check=True, capture_output=True)
    with veth_namespace("mw-workers") as namespace:
        run = LiveRun(namespace, tmp_path, ["--workers", "2", "-o", str(tmp_path / "events.jsonl")])
        # At 100 Mbit/s (at full speed a DNS answer and the connection it names may land in ring blocks
        # the hold does not order: docs/deploy.md)
        tcpreplay = ["tcpreplay", "--mbps", "100", "-q", "-i", SENDER, str(capture)]
        subprocess.run(["ip", "netns", "exec", namespace, *tcpreplay], check=True, capture_output=True)
        assert run.stop() == 1, run.stderr
    live = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    stats = live[-1]["stats"]
    assert stats["capture"]["packets"] == PACKETS  # DNS, read by both workers, counted once
    assert stats["capture"]["packets_other_workers"] == 0  # the kernel spread them: no worker skipped any
    interface = {"path": "live:mwb", "format": "af_packet-tpacket_v3", "bytes": 0, "warnings": []}
    assert stats["files"] == [interface]
    (kernel,) = stats["kernel"]  # both workers' sockets on the interface, summed
    assert kernel["interface"] == "mwb" and kernel["drops"] == 0
    assert kernel["packets"] >= PACKETS  # the DNS, which each worker reads, once per worker
    from_file: list[dict] = []
    analysis = Analysis([from_file.append], AnalysisOptions())
    analysis.feed_file(capture)
    analysis.finish()
    assert {"verdict", "incident", "alert"} <= {e["event_type"] for e in from_file}
    # Incidents are also written as they change while capturing (as_from_a_file leaves those out)
    first_verdict = next(i for i, e in enumerate(live) if e["event_type"] == "verdict")
    assert any(e["event_type"] == "incident" for e in live[:first_verdict])
    assert differences(without(from_file, LIVE_ONLY), without(as_from_a_file(live), LIVE_ONLY)) == []
