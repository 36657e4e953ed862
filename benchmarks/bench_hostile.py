"""Hostile captures analysed at n, 2n and 4n: time grows linearly and peak RSS stays bounded (issue 14).

    python benchmarks/bench_hostile.py [--shapes nested_ipv6_fragments,...] [--scale 0.5]

Each shape of `minerwatch.capture.hostile` (the ones that once cost quadratic time or unbounded memory in
TCP reassembly and IP defragmentation) is written with the project's own writer, gzip level 1 (payloads
are zeros, so a 240 MB capture takes a few MB of disk), then `minerwatch analyze CAPTURE -o EVENTS
--no-progress` runs as a child: wall time by `time.perf_counter()`, peak RSS from `os.wait4()`, the
counters that say what became of the hostile packets from the `stats` event. "work s" is the wall time
less that of the same command on an empty capture (start-up: imports, rules); "/ n" divides it by the
work at n: linear is 1, 2, 4.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from pathlib import Path

from bench_analyze import byte_compile_minerwatch, machine_facts, minerwatch_cmd, run
from minerwatch.capture import hostile
from minerwatch.capture.writer import PcapWriter

# Shape: (n, the stats counters that show what became of it).
SHAPES = {
    "nested_ipv6_fragments": (256, ("defrag", "invalid")),
    "reversed_ipv4_fragments": (256_000, ("defrag", "completed")),
    "overlapping_ipv4_fragments": (64_000, ("defrag", "overlaps")),
    "oversized_fragments": (512, ("defrag", "invalid")),
    "out_of_order_flows": (64, ("inspection", "reassembly_memcap_gaps")),
    "tiny_tcp_segments": (200_000, ("inspection", "reassembly_gaps")),
}


def write(shape: str, n: int, path: Path) -> tuple[int, int]:
    """The capture of `shape` at size `n`; (packets, frame bytes)."""
    packets = size = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        writer = PcapWriter(out)
        for ts, frame in getattr(hostile, shape)(n):
            writer.write(ts, frame)
            packets += 1
            size += len(frame)
    return packets, size


def analyze(capture: Path, folder: Path) -> tuple[float, int, dict]:
    """`minerwatch analyze` in a child: (wall s, peak RSS KiB, the stats event's body)."""
    events = folder / "events.jsonl"
    argv = [*minerwatch_cmd(), "analyze", str(capture), "-o", str(events), "--no-progress"]
    wall, _cpu, rss_kib, code = run(argv, folder / "analyze.out")
    if code not in (0, 1):
        raise SystemExit((folder / "analyze.out").read_text())
    return wall, rss_kib, json.loads(events.read_text().splitlines()[-1])["stats"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated (default: all)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every n (default 1)")
    args = parser.parse_args()
    byte_compile_minerwatch()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write("tiny_tcp_segments", 0, folder / "empty.pcap.gz")  # one SYN
        startup = min(analyze(folder / "empty.pcap.gz", folder)[0] for _ in range(3))
        print(f"start-up (a one-packet capture): {startup:.2f} s\n")
        print("| shape | n | packets | frame MB | wall s | work s | / n | peak RSS MiB | counter |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for shape in args.shapes.split(","):
            base, (section, counter) = SHAPES[shape]
            first = None
            for factor in (1, 2, 4):
                n = max(1, round(base * args.scale)) * factor
                capture = folder / f"{shape}-{n}.pcap.gz"
                packets, size = write(shape, n, capture)
                wall, rss_kib, stats = analyze(capture, folder)
                work = wall - startup
                first = first or work
                print(
                    f"| {shape} | {n:,} | {packets:,} | {size / 1e6:,.1f} | {wall:.2f} | {work:.2f} "
                    f"| {work / first:.2f} | {rss_kib / 1024:.0f} | {section}.{counter} "
                    f"{stats[section][counter]:,} |",
                    flush=True,
                )
                capture.unlink()
    print()
    print("\n".join(machine_facts()))


if __name__ == "__main__":
    main()
