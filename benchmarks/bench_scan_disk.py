"""Benchmark: `minerwatch scan-disk` end to end on three trees, wall time and peak RSS of each run.

Trees (built fresh in a temporary folder, or in --keep DIR and reused):
- ``mixed``: N files (default 1,000,000), 1,000 per directory, 100 directories per level; sizes cycle
  through 0, 100 bytes and 300 KiB (sparse, so above the default 256 KiB open threshold and so read), one
  real-size v1 plot header in every 100,000 files. Scanned with the default --min-size and with 0.
- ``one-dir``: N empty files (default 1,000,000) in a single directory: the walker must not hold the listing.
- ``findings``: N files named ``*.plot`` (default 300,000), 1,000 per directory, each a complete 268-byte
  v1 plot header (table pointers set): every one is a finding.

Each scan is a child process (`minerwatch scan-disk ROOT -o EVENTS --no-progress`, console output to a file):
wall time from `time.perf_counter()`, peak RSS from `os.wait4()` for that child alone (as bench_analyze.py).

    python benchmarks/bench_scan_disk.py [--trees mixed,one-dir,findings] [--files N] [--one-dir N]
                                         [--findings N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_analyze import run

_FAKE_V1 = (
    b"Proof of Space Plot"
    + bytes(32)
    + bytes([32])
    + struct.pack(">H", 4)
    + b"v1.0"
    + struct.pack(">H", 112)
    + bytes(112)
    + struct.pack(">10Q", *range(1, 11))
)

_SCAN = "import sys; from minerwatch.cli.main import main; sys.exit(main(sys.argv[1:]))"


def build_mixed(root: str, files: int) -> None:
    for i in range(files):
        directory = os.path.join(root, f"d{i // 100_000}", f"e{(i // 1000) % 100}")
        if i % 1000 == 0:
            os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"f{i}"), "wb") as fh:
            if i % 100_000 == 99_999:
                fh.write(_FAKE_V1)
            elif i % 3 == 1:
                fh.write(b"x" * 100)
            elif i % 3 == 2:
                fh.truncate(300 * 1024)


def build_one_dir(root: str, files: int) -> None:
    os.makedirs(root, exist_ok=True)
    for i in range(files):
        os.close(os.open(os.path.join(root, f"f{i:07d}"), os.O_CREAT | os.O_WRONLY, 0o644))


def build_findings(root: str, files: int) -> None:
    for i in range(files):
        directory = os.path.join(root, f"d{i // 1000}")
        if i % 1000 == 0:
            os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"p{i}.plot"), "wb") as fh:
            fh.write(_FAKE_V1)


def scan(root: str, name: str, extra: list[str], out_dir: Path) -> str:
    """One timed child run; returns the result row."""
    events = out_dir / f"{name}.jsonl"
    argv = [sys.executable, "-c", _SCAN, "scan-disk", root, "-o", str(events), "--no-progress", *extra]
    wall, cpu, rss_kib, code = run(argv, out_dir / f"{name}.out")
    with events.open("rb") as fh:
        findings = sum(1 for _ in fh)
    events.unlink()
    return f"| {name} | {wall:.1f} | {cpu:.1f} | {rss_kib / 1024:.0f} | {findings:,} | {code} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", default="mixed,one-dir,findings")
    parser.add_argument("--files", type=int, default=1_000_000, help="files in the mixed tree")
    parser.add_argument("--one-dir", type=int, default=1_000_000, help="files in the one-directory tree")
    parser.add_argument("--findings", type=int, default=300_000, help="plot headers in the findings tree")
    parser.add_argument("--keep", metavar="DIR", help="build (or reuse) the trees in DIR and keep them")
    args = parser.parse_args()
    builders: dict[str, tuple[Callable[[str, int], None], int, list[list[str]]]] = {
        "mixed": (build_mixed, args.files, [[], ["--min-size", "0"]]),
        "one-dir": (build_one_dir, args.one_dir, [[]]),
        "findings": (build_findings, args.findings, [[]]),
    }
    base = args.keep or tempfile.mkdtemp(prefix="bench_scan_disk_")
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench_scan_disk_out_") as out_dir:
            for tree in args.trees.split(","):
                build, count, variants = builders[tree]
                root = os.path.join(base, f"{tree}-{count}")
                if not os.path.exists(root):
                    t0 = time.perf_counter()
                    build(root + ".part", count)  # renamed when whole: a killed build is not reused
                    os.rename(root + ".part", root)
                    print(f"built {root} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
                for extra in variants:
                    name = " ".join([f"{tree} ({count:,})", *extra])
                    rows.append(scan(root, name, extra, Path(out_dir)))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print("| tree | wall s | CPU s | peak RSS MiB | findings | exit |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
