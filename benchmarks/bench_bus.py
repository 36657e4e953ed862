"""Messages per second through the bus (issue 17, many sensors): published by a sensor and stored by
JetStream, then read and correlated by `minerwatch correlate`, and the cost of a correlator's restart.

    python benchmarks/bench_bus.py [--messages 200000] [--capture CAPTURE]

Input: the messages a sensor publishes for CAPTURE (default: the demonstration capture, `minerwatch
sample`), recorded in one process, then published again and again under one sensor run with new sequence
numbers until --messages are sent (each a real observation with its real event: ~0.5-1.5 KiB of JSON). A
nats-server of its own (127.0.0.1, a free port, a temporary file store) is started and stopped by PID.

Measured, each the best of --repeat runs:
- publish: BusPublisher.send for every message, then close() (every batch acknowledged by the stream);
- correlate: `minerwatch correlate --nats URL -o FILE --no-store` as a child process (start-up included),
  reading the whole stream and writing verdicts and incidents;
- restart: the same command again on the same FILE: the stream replayed without writing (what a
  correlator restarted after a kill costs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fleet import MINERWATCH, recorded  # the tests' recording publisher
from nats_server import nats_server

from minerwatch.bus.publish import BusPublisher
from minerwatch.capture.sample import write_sample


def publish(url: str, capture: Path, count: int) -> float:
    """Seconds to publish `count` messages and have them all acknowledged."""
    messages = recorded(capture)
    publisher = BusPublisher(url, "bench")
    start = time.perf_counter()
    for seq in range(1, count + 1):
        publisher.send(replace(messages[seq % len(messages)], run=publisher.run, seq=seq))
    stored = publisher.close()
    elapsed = time.perf_counter() - start
    assert stored == count, (stored, count)
    return elapsed


def correlate(url: str, output: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [*MINERWATCH, "correlate", "--nats", url, "-o", str(output), "--no-store"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    assert done.returncode in (0, 1), done.stderr
    return elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--capture", type=Path, help="default: the demonstration capture")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        capture = args.capture
        if capture is None:
            capture = work / "demo.pcap"
            write_sample(capture)
        for _ in range(args.repeat):
            run = work / f"run{len(os.listdir(work))}"
            run.mkdir()
            with nats_server(run) as url:
                times = {"publish": publish(url, capture, args.messages)}
                output = run / "fleet.jsonl"
                times["correlate"] = correlate(url, output)
                times["restart (replay, nothing written)"] = correlate(url, output)
            for name, seconds in times.items():
                rows[name] = min(rows.get(name, seconds), seconds)
    print(f"{args.messages:,} messages of {capture.name}, best of {args.repeat} ({os.cpu_count()} cpus)")
    print(f"{'step':<36} {'seconds':>8} {'messages/s':>11}")
    for name, seconds in rows.items():
        print(f"{name:<36} {seconds:>8.2f} {args.messages / seconds:>11,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
