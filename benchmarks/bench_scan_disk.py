"""Benchmark: scan-disk over a tree of ordinary files (default 1,000,000) with a few plots hidden in it.

Input: a fresh temporary tree, 1,000 files per directory, 100 directories per level; file sizes cycle through
0, 100 bytes and 300 KiB (sparse, so above the default 256 KiB open threshold and so read), one real-size
v1 plot header in every 100,000 files. Prints a table: files, seconds, files/s, headers read, peak RSS.

    python benchmarks/bench_scan_disk.py [--files N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import struct
import tempfile
import time

from minerwatch.hostscan.scanner import Scanner, ScanOptions, ScanStats
from minerwatch.hostscan.walker import walk

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


def build(root: str, files: int) -> int:
    """Creates the tree; returns how many plot headers were planted."""
    planted = 0
    for i in range(files):
        directory = os.path.join(root, f"d{i // 100_000}", f"e{(i // 1000) % 100}")
        if i % 1000 == 0:
            os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"f{i}")
        with open(path, "wb") as fh:
            if i % 100_000 == 99_999:
                fh.write(_FAKE_V1)
                planted += 1
            elif i % 3 == 1:
                fh.write(b"x" * 100)
            elif i % 3 == 2:
                fh.truncate(300 * 1024)
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--keep", metavar="DIR", help="build (or reuse) the tree in DIR and keep it")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="bench_scan_disk_")
    try:
        t0 = time.perf_counter()
        planted = build(root, args.files) if not os.path.exists(os.path.join(root, "d0")) else None
        built = time.perf_counter() - t0
        stats = ScanStats()
        t0 = time.perf_counter()
        findings = Scanner(ScanOptions(min_size=0), stats).scan(walk([root], stats))
        scan_min0 = time.perf_counter() - t0
        stats_default = ScanStats()
        t0 = time.perf_counter()
        Scanner(ScanOptions(), stats_default).scan(walk([root], stats_default))
        scan_default = time.perf_counter() - t0
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"tree: {stats.files:,} files, {stats.directories:,} dirs (built in {built:.1f} s)")
        print(f"{'mode':<22}{'seconds':>10}{'files/s':>12}{'headers read':>14}{'findings':>10}")
        print(
            f"{'min-size 0 (all)':<22}{scan_min0:>10.2f}{stats.files / scan_min0:>12,.0f}"
            f"{stats.headers_read:>14,}{len(findings):>10}"
        )
        print(
            f"{'default (256 KiB)':<22}{scan_default:>10.2f}{stats_default.files / scan_default:>12,.0f}"
            f"{stats_default.headers_read:>14,}{'':>10}"
        )
        planted_text = "reused tree" if planted is None else planted
        print(f"peak RSS: {rss_mib:.0f} MiB; plots planted: {planted_text}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
