"""`minerwatch analyze --dask` on an archive of captures, against one process reading them (issue 17).

    python benchmarks/bench_archive.py [--files 4] [--packets 60000] [--workers 2] [--repeat 2]

Writes FILES captures with benchmarks/make_mixed_capture.py (seeds 1..FILES, PACKETS each), starts a Dask
LocalCluster on 127.0.0.1 (WORKERS worker processes of one thread), and times
`minerwatch analyze --dask SCHEDULER FILES -o /dev/null` and `minerwatch analyze --workers 1 FILES` as
child processes (wall from perf_counter; CPU is the child's own, not the cluster's, which is why the
cluster's CPU is read from its workers' /proc stat before and after); the runs take turns and the best wall
of each counts. On a real cluster, give `--scheduler tcp://HOST:8786` instead and the files' paths must be
valid on its workers (they are written under --dir, default a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_analyze import byte_compile_minerwatch, machine_facts, minerwatch_cmd, run, walk

HERE = Path(__file__).resolve().parent


def make_files(folder: Path, files: int, packets: int) -> list[Path]:
    paths = []
    for seed in range(1, files + 1):
        path = folder / f"archive-{seed}.pcap"
        generate = [sys.executable, str(HERE / "make_mixed_capture.py"), str(path), "--packets", str(packets)]
        subprocess.run([*generate, "--seed", str(seed)], check=True, capture_output=True)
        paths.append(path)
    return paths


def cpu_seconds(pids: list[int]) -> float:
    """user + system CPU of processes (and their waited children) from /proc, in seconds."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def main() -> int:
    from distributed import Client, LocalCluster

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--packets", type=int, default=60_000, help="packets per capture")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--scheduler", help="an existing cluster instead of a LocalCluster")
    p.add_argument("--dir", type=Path, help="where the captures are written (default: a temporary one)")
    args = p.parse_args()
    byte_compile_minerwatch()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp_name:
        tmp = Path(tmp_name)
        paths = make_files(args.dir or tmp, args.files, args.packets)
        packets = sum(walk(path)[0] for path in paths)
        base = [
            *minerwatch_cmd(),
            "analyze",
            *map(str, paths),
            "-o",
            os.devnull,
            "--no-store",
            "--no-progress",
        ]
        cluster = (
            None
            if args.scheduler
            else LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                host="127.0.0.1",
                scheduler_port=0,
                dashboard_address="127.0.0.1:0",
            )
        )
        address = args.scheduler or cluster.scheduler_address
        try:
            with Client(address, set_as_default=False) as client:
                pids = list(client.run(os.getpid).values())
            runs = {
                "one process (--workers 1)": [*base, "--workers", "1"],
                "--dask": [*base, "--dask", address],
            }
            best: dict[str, tuple[float, float]] = {}
            for _ in range(args.repeat):
                for name, argv in runs.items():
                    before = cpu_seconds(pids) if not args.scheduler else 0.0
                    wall, cpu, _rss, code = run(argv, tmp / "run.out")
                    cpu += cpu_seconds(pids) - before if not args.scheduler else 0.0
                    print(f"  {name}: {wall:.3f} s wall, {cpu:.3f} s cpu, exit {code}", file=sys.stderr)
                    if name not in best or wall < best[name][0]:
                        best[name] = (wall, cpu)
        finally:
            if cluster is not None:
                cluster.close()
    print(
        f"{args.files} captures of {args.packets:,} packets ({packets:,} in all), {args.workers} Dask workers"
    )
    print("| run | best wall s | packets/s | CPU s (with the cluster's workers) |\n|---|---:|---:|---:|")
    for name, (wall, cpu) in best.items():
        print(f"| {name} | {wall:.3f} | {packets / wall:,.0f} | {cpu:.2f} |")
    print("\n".join(machine_facts()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
