"""What the encrypted-flow statistics cost `minerwatch analyze`: instructions with the statistics kept
(a detector asks for them) against without, on the same capture, and what scoring a snapshot costs.

    python benchmarks/make_mixed_capture.py /tmp/mixed.pcap --packets 1100000 --seed 1
    python benchmarks/bench_flowstats.py /tmp/mixed.pcap

"without" is the default analysis; "kept" adds one detector whose flow-statistics observer takes every
snapshot (the engine's accumulators, the checkpoint calls, the FlowStats values); "scored" also scores
every snapshot with the shipped model (what a detector that scored them all would cost at most).
Instructions come from valgrind's cachegrind (deterministic on a noisy machine, PYTHONHASHSEED fixed, as
count_instructions.py); `--wall` times the runs instead, best of --repeat.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def analyse_with_statistics(capture: str, score_them: bool) -> int:
    """Run `minerwatch analyze` with one extra detector that takes every flow-statistics snapshot and,
    with `score_them`, scores it with the shipped model."""
    from minerwatch import pipeline
    from minerwatch.cli.main import main
    from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
    from minerwatch.encrypted.model import load_model

    model = load_model()
    counts = {"snapshots": 0}

    def score(flow, stats) -> None:  # type: ignore[no-untyped-def]
        counts["snapshots"] += 1
        if score_them:
            model.score(stats)

    def setup(context: DetectorContext, options: NoOptions) -> DetectorParts:
        return DetectorParts(flow_stats_observers=[score])

    pipeline.DETECTORS = (*pipeline.DETECTORS, Detector("flowstats-bench", NoOptions, setup))
    code = main(["analyze", capture, "-o", os.devnull, "--no-progress"])
    print(f"snapshots scored: {counts['snapshots']}", file=sys.stderr)
    return code


def command(capture: Path, child: str | None) -> list[str]:
    if child:
        return [sys.executable, __file__, "--child", child, str(capture)]
    return [sys.executable, "-m", "minerwatch", "analyze", str(capture), "-o", os.devnull, "--no-progress"]


def instructions(cmd: list[str]) -> tuple[int, str]:
    run = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *cmd],
        capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": "0"}, check=False,
    )  # fmt: skip
    match = _TOTAL.search(run.stderr)
    if match is None:
        sys.exit(f"cachegrind gave no total: {run.stderr[-500:]}")
    notes = [line for line in run.stderr.splitlines() if line.startswith("snapshots")]
    return int(match.group(1).replace(",", "")), " ".join(notes)


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
    parser.add_argument("--child", choices=("keep", "score"), help=argparse.SUPPRESS)
    parser.add_argument("--wall", action="store_true", help="time both runs instead of counting instructions")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-score", action="store_true", help="leave out the run that scores snapshots")
    args = parser.parse_args()
    if args.child:
        sys.exit(analyse_with_statistics(str(args.capture), args.child == "score"))
    rows = []
    for name, child in (
        ("without statistics", None),
        ("statistics kept, snapshots taken", "keep"),
        ("statistics kept, every snapshot scored", "score"),
    ):
        if child == "score" and args.no_score:
            continue
        cmd = command(args.capture, child)
        if args.wall:
            rows.append((name, wall(cmd, args.repeat), ""))
        else:
            rows.append((name, *instructions(cmd)))
    unit = "best wall s" if args.wall else "instructions"
    print(f"| configuration | {unit} | vs without | notes |\n|---|---:|---:|---|")
    for name, value, notes in rows:
        print(f"| {name} | {value:,.3f} | {value / rows[0][1]:.4f} | {notes} |".replace(".000 |", " |"))


if __name__ == "__main__":
    main()
