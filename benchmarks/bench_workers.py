"""Throughput of `minerwatch analyze --workers N` for N = 1..max on one capture (issue 17: every core).

    python benchmarks/make_mixed_capture.py /tmp/mixed.pcap --packets 1100000 --seed 1
    python benchmarks/bench_workers.py /tmp/mixed.pcap --repeat 3 [--max 16]

Each run is `minerwatch analyze CAPTURE --workers N -o /dev/null --no-store --no-progress` as a child process
(timed as bench_analyze.py does: wall from perf_counter, CPU and peak RSS from os.wait4, which counts the
workers the child waited for; peak RSS is the largest single process). N takes turns across repeats so a
machine that slows down does not favour one N; the best wall of each N counts. The events of every N are
checked to be the same as N = 1's (but for the `stats` counter of the packets left to other workers).
--max defaults to the cores this process may use; on a bigger machine give it the cores to try.

A last table splits each N's CPU between the correlator and the workers: one more run of each N in a child
(`--split`), which analyses in process and reads getrusage for itself (the correlator: with N = 1, the one
process) and for its children (the workers). Where the correlator's share nears a worker's, more workers
stop paying.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_analyze import Result, byte_compile_minerwatch, machine_facts, minerwatch_cmd, run, walk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from same_events import differences  # the tests' comparison: ids replaced by what they name


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def split(capture: Path, workers: int) -> None:
    """In this process: analyse with `workers` and print (correlator CPU s, workers' CPU s) as JSON."""
    from minerwatch.pipeline import Analysis, AnalysisOptions
    from minerwatch.scale.run import analyze_files

    before = resource.getrusage(resource.RUSAGE_SELF)
    if workers == 1:
        analysis = Analysis([])
        analysis.feed_file(capture)
        analysis.finish()
    else:
        analyze_files([capture], [], AnalysisOptions(), workers)
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps([cpu, children.ru_utime + children.ru_stime]))


def main(argv: list[str] | None = None) -> int:
    from minerwatch.scale.run import cores

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("capture", type=Path)
    p.add_argument("--repeat", type=int, default=3, help="timed runs per worker count (best counts)")
    p.add_argument("--max", type=int, default=cores(), help="most workers tried (default: cores)")
    p.add_argument("--split", type=int, metavar="N", help=argparse.SUPPRESS)  # the child of the last table
    args = p.parse_args(argv)
    if args.split:
        split(args.capture, args.split)
        return 0
    byte_compile_minerwatch()
    packets, wire = walk(args.capture)
    counts = list(range(1, args.max + 1))
    results = {n: Result(f"--workers {n}", "") for n in counts}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = [*minerwatch_cmd(), "analyze", str(args.capture), "--no-store", "--no-progress"]
        for n in counts:  # untimed: the page cache warm, and the events of each N to compare
            run([*base, "--workers", str(n), "-o", str(tmp / f"events{n}.jsonl")], tmp / "check.out")
            different = differences(events(tmp / "events1.jsonl"), events(tmp / f"events{n}.jsonl"))
            if different:
                raise SystemExit(f"--workers {n} gave other events than --workers 1: {different[:3]}")
        for _ in range(args.repeat):
            for n in counts:
                wall, cpu, rss, code = run([*base, "--workers", str(n), "-o", "/dev/null"], tmp / "run.out")
                result = results[n]
                result.walls.append(wall)
                result.cpu.append(cpu)
                result.rss_kib = max(result.rss_kib, rss)
                result.exit_codes.add(code)
                print(f"  --workers {n}: {wall:.3f} s wall, {cpu:.3f} s cpu, exit {code}", file=sys.stderr)
    one = results[1].best
    print(f"{args.capture}: {packets:,} packets, {wire:,} frame bytes; the same events for every N")
    print("| workers | best wall s | packets/s | Gbit/s | speed-up | CPU s (best run) | peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in results.items():
        i = r.walls.index(r.best)
        print(
            f"| {n} | {r.best:.3f} | {packets / r.best:,.0f} | {wire * 8 / r.best / 1e9:.2f} | "
            f"{one / r.best:.2f} | {r.cpu[i]:.2f} | {r.rss_kib / 1024:.1f} |"
        )
    print("\n| workers | correlator CPU s | workers' CPU s, all |\n|---:|---:|---:|")
    for n in counts:
        child = [sys.executable, __file__, str(args.capture), "--split", str(n)]
        correlator, workers = json.loads(subprocess.run(child, check=True, capture_output=True).stdout)
        print(f"| {n} | {correlator:.2f} | {workers:.2f} |")
    print("\n".join(machine_facts()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
