"""`minerwatch ingest` on a large Suricata EVE file: lines/s and peak RSS, at n and 4n lines.

Input: the real Suricata EVE fixtures (tests/fixtures/eve/*.eve.json, Suricata 7.0.10 over the project's
captures: alerts of every stage, pool behaviours, flows, DNS, TLS, fileinfo) repeated, each copy
perturbed so that it is new traffic: every IPv4 address a.b.c.d becomes a.(b+k).(c+k//256).d for copy k
(hosts differ, so the correlators' tables grow as on a real network), times move on by one hour a copy,
flow ids by the copy number. Each size runs in a fresh process (`--child`), its own peak RSS read with
getrusage, best of `--repeat` for the time; the default knowledge base (bundled intel) is loaded and
matched, the incident store written to a temporary file, events written to /dev/null.

    python benchmarks/bench_ingest.py [--lines 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests/fixtures/eve"
IPV4 = re.compile(r'"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})"')
TIME = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\+0000"')
FLOW_ID = re.compile(r'"flow_id":(\d+)')


def perturbed(line: str, copy: int) -> str:
    def address(m: re.Match[str]) -> str:
        a, b, c, d = (int(x) for x in m.groups())
        return f'"{a}.{(b + copy) % 256}.{(c + copy // 256) % 256}.{d}"'

    def moment(m: re.Match[str]) -> str:
        shifted = datetime.fromisoformat(m.group(1)) + timedelta(hours=copy)
        return f'"{shifted.isoformat(timespec="microseconds")}+0000"'

    line = IPV4.sub(address, line)
    line = TIME.sub(moment, line)
    return FLOW_ID.sub(lambda m: f'"flow_id":{int(m.group(1)) + copy}', line)


def write_eve(path: Path, lines: int) -> int:
    """At least `lines` lines of perturbed copies of the fixtures; returns how many."""
    source = [ln for f in sorted(FIXTURES.glob("*.eve.json")) for ln in f.read_text().splitlines() if ln]
    written = copy = 0
    with path.open("w") as out:
        while written < lines:
            for line in source:
                out.write(perturbed(line, copy) + "\n")
            written += len(source)
            copy += 1
    return written


def child(path: Path, store: Path) -> None:
    """One ingest in this process: prints seconds and peak RSS (KiB) as JSON."""
    from minerwatch.cli.main import main

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(["ingest", str(path), "-o", "/dev/null", "--store", str(store)])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"status": status, "seconds": seconds, "peak_kib": peak}))


def measure(path: Path, repeat: int, tmp: Path) -> tuple[float, int]:
    best, peak = float("inf"), 0
    for n in range(repeat):
        store = tmp / f"store-{path.stem}-{n}.sqlite"
        command = [sys.executable, __file__, "--child", str(path), "--store", str(store)]
        result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        assert result["status"] == 1, result  # incidents are found: the fixtures hold infections
        best, peak = min(best, result["seconds"]), max(peak, result["peak_kib"])
    return best, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="n: the smaller file's lines")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.store)
        return
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        print("| lines | MB | seconds (best) | lines/s | MB/s | peak RSS MiB |")
        print("|---:|---:|---:|---:|---:|---:|")
        for factor in (1, 4):
            path = tmp / f"eve-{factor}.json"
            lines = write_eve(path, args.lines * factor)
            size = path.stat().st_size / 1e6
            seconds, peak = measure(path, args.repeat, tmp)
            print(
                f"| {lines:,} | {size:.0f} | {seconds:.2f} | {lines / seconds:,.0f} | "
                f"{size / seconds:.1f} | {peak / 1024:.0f} |"
            )


if __name__ == "__main__":
    main()
