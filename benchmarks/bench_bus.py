"""Messages per second through the bus (issue 17, many sensors): published by a sensor and stored by
JetStream, then read and correlated by `minerwatch correlate`, and the cost of a correlator's restart.

    python benchmarks/bench_bus.py [--messages 200000] [--capture CAPTURE]

Input: the messages a sensor publishes for CAPTURE (default: the demonstration capture, `minerwatch
sample`), recorded in one process, then published again and again under one sensor run with new sequence
numbers until --messages are sent (each a real observation with its real event: ~0.5-1.5 KiB of JSON). A
nats-server of its own (127.0.0.1, a free port, a temporary file store) is started and stopped by PID.

Measured, each the best of --repeat runs (wall, and the CPU minerwatch used, which a loaded machine
inflates less):
- publish: BusPublisher.send for every message, then close() (every batch acknowledged by the stream);
- correlate: `minerwatch correlate --nats URL -o FILE --no-store` as a child process (start-up included),
  reading the whole stream and writing verdicts and incidents;
- restart: the same command again on the same FILE with `--snapshot-every 0`: the stream replayed
  without writing (what a correlator restarted after a kill costs without a snapshot).

With --restarts L1,L2,... the restart alone is measured against the stream's length: for each length a
stream of L messages (the recording published again under a new sensor run each time, so that, as on a
real bus, every message's event is new to the correlator), read once by `correlate -o FILE` (which saves
its snapshot when it stops), then restarted twice: from the stream's start (`--snapshot-every 0`) and
from its snapshot (nothing after it to read). The snapshot's size is given too.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fleet import MINERWATCH, recorded  # the tests' recording publisher
from minerwatch.bus.publish import BusPublisher
from minerwatch.capture.sample import write_sample
from nats_server import nats_server

Timing = tuple[float, float]  # (wall seconds, CPU seconds of minerwatch: the server's not counted)


def publish(url: str, capture: Path, count: int) -> Timing:
    """Publish `count` messages and have them all acknowledged (CPU: this process, all its threads)."""
    messages = recorded(capture)
    publisher = BusPublisher(url, "bench")
    start, cpu = time.perf_counter(), time.process_time()
    for seq in range(1, count + 1):
        publisher.send(replace(messages[seq % len(messages)], run=publisher.run, seq=seq))
    stored = publisher.close()
    timing = time.perf_counter() - start, time.process_time() - cpu
    assert stored == count, (stored, count)
    return timing


def publish_runs(url: str, capture: Path, count: int) -> None:
    """Publish `count` messages, the recording again and again, each time as a new run of the sensor."""
    messages = recorded(capture)
    publisher = BusPublisher(url, "bench")
    for n in range(count):
        run, seq = divmod(n, len(messages))
        publisher.send(replace(messages[seq], run=f"r{run}", seq=seq + 1))
    assert publisher.close() == count


def correlate(url: str, output: Path, *more: str) -> Timing:
    """One `minerwatch correlate` to the end of the stream (CPU: the child's, from its rusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [*MINERWATCH, "correlate", "--nats", url, "-o", str(output), "--no-store", *more],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode in (0, 1), done.stderr
    return elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--capture", type=Path, help="default: the demonstration capture")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--restarts", help="comma-separated stream lengths: restart time against them")
    args = p.parse_args(argv)
    if args.restarts:
        return restarts([int(n) for n in args.restarts.split(",")], args.capture, args.repeat)
    rows: dict[str, Timing] = {}
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
                times["restart (replay, nothing written)"] = correlate(url, output, "--snapshot-every", "0")
            for name, timing in times.items():
                rows[name] = min(rows.get(name, timing), timing)
    print(f"{args.messages:,} messages of {capture.name}, best of {args.repeat} ({os.cpu_count()} cpus)")
    print(f"{'step':<36} {'wall s':>7} {'messages/s':>11} {'CPU s':>7} {'per CPU s':>10}")
    for name, (wall, cpu) in rows.items():
        count = args.messages
        print(f"{name:<36} {wall:>7.2f} {count / wall:>11,.0f} {cpu:>7.2f} {count / cpu:>10,.0f}")
    return 0


def read(url: str, output: Path, count: int, *more: str) -> Timing:
    """A restart that must read `count` messages of the stream (0: all came from its snapshot)."""
    timing = correlate(url, output, *more)
    stats = orjson.loads(output.read_bytes().splitlines()[-1])["stats"]["bus"]
    assert stats["read"] == count and stats["snapshot"] == stats["messages"] - count, stats
    return timing


def restarts(lengths: list[int], capture: Path | None, repeat: int) -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if capture is None:
            capture = work / "demo.pcap"
            write_sample(capture)
        for length in lengths:
            run = work / f"stream{length}"
            run.mkdir()
            with nats_server(run) as url:
                publish_runs(url, capture, length)
                output = run / "fleet.jsonl"
                correlate(url, output)
                replay = min(read(url, output, length, "--snapshot-every", "0") for _ in range(repeat))
                snapshot = min(read(url, output, 0) for _ in range(repeat))
                size = (run / "fleet.jsonl.snapshot").stat().st_size
            rows.append((length, replay, snapshot, size))
    print(f"restart of a correlator against the stream's length ({capture.name}), best of {repeat}")
    print(
        f"{'messages':>9} {'replay wall s':>14} {'CPU s':>6} {'snapshot wall s':>16} {'CPU s':>6} {'MiB':>6}"
    )
    for length, (wall, cpu), (swall, scpu), size in rows:
        print(f"{length:>9,} {wall:>14.2f} {cpu:>6.2f} {swall:>16.2f} {scpu:>6.2f} {size / 2**20:>6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
