"""What the encrypted detector and its flow statistics cost the default run of `minerwatch analyze`:
instructions of the same capture analysed three ways.

    python benchmarks/make_mixed_capture.py /tmp/mixed.pcap --packets 300000 --seed 1
    python benchmarks/bench_flowstats.py /tmp/mixed.pcap

- "without encrypted": every detector but `encrypted` (the engine keeps no statistics);
- "encrypted, statistics off": the encrypted detector reads TLS handshakes and judges each flow from
  them, but the engine keeps no flow statistics (no accumulators, no checkpoints, no model, no
  periodicity): what issue 15's bar ("the default run not more than 10% slower with the statistics on")
  compares against;
- "default run": every detector, statistics on.
Instructions come from valgrind's cachegrind (deterministic on a noisy machine, PYTHONHASHSEED fixed, as
count_instructions.py; process start-up included, about 1.7G once the bytecode is written, which this
script does first); `--wall` times the runs instead, best of --repeat.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench_analyze import byte_compile_minerwatch

_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def analyse_without_statistics(capture: str) -> int:
    """The default run with flow statistics switched off where the pipeline attaches them."""
    from minerwatch import pipeline
    from minerwatch.cli.main import main

    pipeline.flowstats.attach = lambda engine, observers, interval=30.0, gate=None: None  # type: ignore[assignment]
    return main(["analyze", capture, "-o", os.devnull, "--no-progress", "--no-store", "--workers", "1"])


def commands(capture: Path) -> dict[str, list[str]]:
    from minerwatch.pipeline import DETECTORS

    analyze = [sys.executable, "-m", "minerwatch", "analyze", str(capture), "-o", os.devnull, "--no-progress"]
    analyze += ["--no-store", "--workers", "1"]  # one process: cachegrind counts it whole
    others = ",".join(d.name for d in DETECTORS if d.name != "encrypted")
    return {
        "without encrypted": [*analyze, "--detectors", others],
        "encrypted, statistics off": [sys.executable, __file__, "--child", str(capture)],
        "default run (statistics on)": analyze,
    }


def instructions(cmd: list[str]) -> int:
    run = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *cmd],
        capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": "0"}, check=False,
    )  # fmt: skip
    match = _TOTAL.search(run.stderr)
    if match is None:
        sys.exit(f"cachegrind gave no total: {run.stderr[-500:]}")
    return int(match.group(1).replace(",", ""))


def wall(cmd: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--wall", action="store_true", help="time the runs instead of counting instructions")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        sys.exit(analyse_without_statistics(str(args.capture)))
    byte_compile_minerwatch()
    rows = {
        name: wall(cmd, args.repeat) if args.wall else instructions(cmd)
        for name, cmd in commands(args.capture).items()
    }
    unit = "best wall s" if args.wall else "instructions"
    first, off = rows["without encrypted"], rows["encrypted, statistics off"]
    print(f"| configuration | {unit} | vs without encrypted | vs statistics off |\n|---|---:|---:|---:|")
    for name, value in rows.items():
        print(f"| {name} | {value:,.3f} | {value / first:.4f} | {value / off:.4f} |".replace(".000 |", " |"))


if __name__ == "__main__":
    main()
