"""End-to-end throughput of `minerwatch analyze` next to tshark, ndpiReader and a bare pcap walk.

    python benchmarks/make_mixed_capture.py /tmp/mixed.pcap --packets 1100000 --seed 1
    python benchmarks/bench_analyze.py /tmp/mixed.pcap --repeat 3

Needs the tools on PATH (Debian: `apt-get install -y tshark libndpi-bin`); a missing one is reported and
skipped. Every tool reads the same file in the same run, from the page cache (a first, untimed pass warms
it). Each run is a child process: wall time from time.perf_counter() around it, CPU time and peak RSS from
os.wait4() for that child alone (ru_maxrss). Best wall time of --repeat runs; peak RSS is the largest seen.

What is run:
- minerwatch: `minerwatch analyze CAPTURE -o /dev/null --no-progress` (events are still built and
  written), and once more, untimed, with `-o events.jsonl` to check its verdicts against the miners that
  the generator wrote into CAPTURE.json, and its exit status (1: mining found).
- tshark: `tshark -n -r CAPTURE -q -z io,stat,0`: one pass, every packet dissected (with TCP analysis and
  reassembly, its defaults), no name resolution, no per-packet output; the tap needs no protocol tree.
- ndpiReader: `ndpiReader -i CAPTURE -q`: nDPI's reference reader, one thread for a file, default DPI
  limits (-T 80 TCP / -U 24 UDP packets per flow); quiet, so no flow listing is printed.
  One more untimed run without -q reports how many flows nDPI itself classified as Mining.
- python walk: this script's --walk mode, a loop that only reads each record header with
  struct.unpack_from over an mmap and sums lengths: the floor for any per-packet Python loop.
Gbit/s is the capture's frame bytes (original lengths, no preamble/FCS) times 8 over the wall time.

Memory: minerwatch runs again on a shorter capture of the same generator (--small, or made with
--small-packets, default 300000) so that both peak RSS figures can be compared.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import mmap
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Result:
    name: str
    command: str
    walls: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kib: int = 0
    exit_codes: set[int] = field(default_factory=set)
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.walls)


def walk(path: Path) -> tuple[int, int]:
    """Packets and frame bytes (original lengths) of a little-endian microsecond/nanosecond pcap."""
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            raise SystemExit(
                f"{path}: not a little-endian pcap (the walk reads only what the generator writes)"
            )
        unpack = struct.Struct("<IIII").unpack_from
        off, size, packets, wire = 24, len(buf), 0, 0
        while off + 16 <= size:
            _sec, _frac, incl, orig = unpack(buf, off)
            packets += 1
            wire += orig
            off += 16 + incl
    return packets, wire


def run(argv: list[str], out: Path) -> tuple[float, float, int, int]:
    """Run a child; (wall s, user+sys s, peak RSS KiB, exit status). Its output goes to `out`."""
    with out.open("wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode


def measure(name: str, argv: list[str], repeat: int, tmp: Path) -> Result:
    result = Result(name, " ".join(argv))
    for _ in range(repeat):
        wall, cpu, rss, code = run(argv, tmp / f"{name}.out")
        result.walls.append(wall)
        result.cpu.append(cpu)
        result.rss_kib = max(result.rss_kib, rss)
        result.exit_codes.add(code)
        print(
            f"  {name}: {wall:.3f} s wall, {cpu:.3f} s cpu, {rss / 1024:.1f} MiB, exit {code}",
            file=sys.stderr,
        )
    return result


def walk_child(path: Path, tmp: Path) -> tuple[int, int]:
    out = tmp / "walk.out"
    _, _, _, code = run([sys.executable, str(Path(__file__).resolve()), "--walk", str(path)], out)
    if code:
        raise SystemExit(out.read_text())
    packets, wire = out.read_text().split()
    return int(packets), int(wire)


def minerwatch_cmd() -> list[str]:
    """The console script of this interpreter (not a version-manager shim, which adds its own start-up)."""
    beside = Path(sys.executable).parent / "minerwatch"
    if beside.exists():
        return [str(beside)]
    exe = shutil.which("minerwatch")
    return [exe] if exe else [sys.executable, "-m", "minerwatch.cli.main"]


def check_verdicts(capture: Path, tmp: Path) -> str:
    """Run minerwatch once with events kept; compare its verdict hosts with the generator's miners."""
    events = tmp / "events.jsonl"
    _, _, _, code = run(
        [*minerwatch_cmd(), "analyze", str(capture), "-o", str(events), "--no-progress"], tmp / "verify.out"
    )
    if not events.exists():
        tail = (tmp / "verify.out").read_text(errors="replace").strip().splitlines()[-1:]
        return f"exit {code}, no events written ({' '.join(tail)})"
    verdicts = []
    with events.open() as lines:  # streamed: the parent stays small (see main)
        for line in lines:
            if '"verdict"' in line:
                event = json.loads(line)
                if event.get("event_type") == "verdict":
                    verdicts.append(event["verdict"])
    hosts = {v["host"] for v in verdicts}
    manifest = Path(str(capture) + ".json")
    expected = set(json.loads(manifest.read_text())["miners"]) if manifest.exists() else set()
    stages = sorted("+".join(map(str, v["stages"])) for v in verdicts)
    text = f"exit {code}, {len(verdicts)} verdicts (stages {', '.join(stages)})"
    if expected:
        text += f", {len(hosts & expected)}/{len(expected)} generated miners found"
        if hosts - expected:
            text += f", {len(hosts - expected)} other hosts"
    return text


def ndpi_mining_flows(capture: Path, tmp: Path) -> str:
    out = tmp / "ndpi-full.out"
    run(["ndpiReader", "-i", str(capture)], out)
    for line in out.read_text(errors="replace").splitlines():
        parts = line.split()
        if parts[:1] == ["Mining"] and "flows:" in parts:
            return f"nDPI classified {parts[parts.index('flows:') + 1]} flows as Mining"
    return "nDPI classified no flow as Mining"


def machine_facts() -> list[str]:
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    versions = []
    for tool, flag in (("tshark", "--version"), ("ndpiReader", "-h")):
        if shutil.which(tool):
            text = subprocess.run([tool, flag], capture_output=True, text=True).stdout
            first = next((ln.strip() for ln in text.splitlines() if "TShark" in ln or "nDPI" in ln), "")
            versions.append(first)
    return [
        f"CPU: {cpu}, {os.cpu_count()} logical cores (nproc); RAM {mem_kib / 1024 / 1024:.1f} GiB",
        f"Kernel {platform.release()}, Python {platform.python_version()}; " + "; ".join(versions),
        f"Load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def table(results: list[Result], packets: int, wire: int) -> str:
    lines = [
        "| tool | best wall s | packets/s | Gbit/s | CPU s (best run) | peak RSS MiB | exit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        i = r.walls.index(r.best)
        lines.append(
            f"| {r.name} | {r.best:.3f} | {packets / r.best:,.0f} | {wire * 8 / r.best / 1e9:.2f} "
            f"| {r.cpu[i]:.2f} | {r.rss_kib / 1024:.1f} | {','.join(map(str, sorted(r.exit_codes)))} |"
        )
    return "\n".join(lines)


def byte_compile_minerwatch() -> None:
    """Write the package's bytecode once, as pip does for a regular install. An editable install, or
    PYTHONDONTWRITEBYTECODE in the environment, would otherwise make every timed run compile the sources
    again (about 0.1 s of start-up on the development machine), which no user pays twice."""
    spec = importlib.util.find_spec("minerwatch")
    for folder in spec.submodule_search_locations or () if spec else ():
        compileall.compile_dir(folder, quiet=1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("capture", type=Path)
    p.add_argument("--repeat", type=int, default=3, help="timed runs per tool (best counts; default 3)")
    p.add_argument("--small", type=Path, help="a shorter capture of the same generator, for the RSS check")
    p.add_argument(
        "--small-packets", type=int, default=300_000, help="make the shorter capture (default 300000)"
    )
    p.add_argument("--skip", action="append", default=[], help="tool to leave out: tshark, ndpiReader, walk")
    p.add_argument("--walk", action="store_true", help=argparse.SUPPRESS)  # internal: the floor loop
    args = p.parse_args(argv)

    if args.walk:
        packets, wire = walk(args.capture)
        print(packets, wire)
        return 0

    with tempfile.TemporaryDirectory(prefix="mw-bench-") as tmpdir:
        tmp = Path(tmpdir)
        # The parent never touches the capture itself: a child's ru_maxrss starts from its parent's
        # high-water mark (Linux carries it across fork and exec), so the parent must stay small.
        packets, wire = walk_child(args.capture, tmp)  # also warms the page cache
        print(
            f"{args.capture}: {packets:,} packets, {wire:,} frame bytes, mean {wire / packets:.0f} B",
            file=sys.stderr,
        )
        byte_compile_minerwatch()
        mw = minerwatch_cmd()
        tools: list[tuple[str, list[str]]] = [
            ("minerwatch analyze", [*mw, "analyze", str(args.capture), "-o", "/dev/null", "--no-progress"]),
            (
                "minerwatch analyze --detectors pool_protocols",
                [
                    *mw,
                    "analyze",
                    str(args.capture),
                    "-o",
                    "/dev/null",
                    "--no-progress",
                    "--detectors",
                    "pool_protocols",
                ],
            ),
            ("tshark -q -z io,stat,0", ["tshark", "-n", "-r", str(args.capture), "-q", "-z", "io,stat,0"]),
            ("ndpiReader -q", ["ndpiReader", "-i", str(args.capture), "-q"]),
            (
                "python walk (floor)",
                [sys.executable, str(Path(__file__).resolve()), "--walk", str(args.capture)],
            ),
        ]
        results, notes = [], []
        for name, cmd in tools:
            if any(name.startswith(s) or s in cmd[0] for s in args.skip):
                continue
            if shutil.which(cmd[0]) is None:
                notes.append(f"{cmd[0]} not found: skipped (apt-get install -y tshark libndpi-bin)")
                continue
            results.append(measure(name, cmd, args.repeat, tmp))

        small = args.small
        if small is None:
            small = tmp / "small.pcap"
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "make_mixed_capture.py"),
                    str(small),
                    "--packets",
                    str(args.small_packets),
                    "--seed",
                    "1",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        small_packets, _ = walk_child(small, tmp)
        rss_small = measure(
            "minerwatch (short capture)",
            [*mw, "analyze", str(small), "-o", "/dev/null", "--no-progress"],
            args.repeat,
            tmp,
        )
        # Measured before anything below reads results into this process.
        floor = run(["/bin/true"], tmp / "true.out")[2]
        detection = check_verdicts(args.capture, tmp)
        ndpi = ndpi_mining_flows(args.capture, tmp) if shutil.which("ndpiReader") else ""

        print()
        print(
            f"Capture: {args.capture} — {packets:,} packets, {wire / 1e9:.3f} GB of frames "
            f"(mean {wire / packets:.0f} B/frame)"
        )
        print()
        print(table(results, packets, wire))
        print()
        print("Commands:")
        for r in results:
            print(f"- {r.name}: `{r.command}`")
        print()
        print(f"minerwatch detection on this capture: {detection}" + (f"; {ndpi}" if ndpi else ""))
        mw_full = next((r for r in results if r.name == "minerwatch analyze"), None)
        if mw_full:
            print(
                f"minerwatch peak RSS: {rss_small.rss_kib / 1024:.1f} MiB on {small_packets:,} packets, "
                f"{mw_full.rss_kib / 1024:.1f} MiB on {packets:,} packets"
            )
            ndpi_r = next((r for r in results if r.name.startswith("ndpiReader")), None)
            for run_result in (r for r in results if r.name.startswith("minerwatch analyze")):
                goals = [
                    f"packets/s >= 1,000,000: {'yes' if packets / run_result.best >= 1e6 else 'no'}",
                    f"Gbit/s >= 2: {'yes' if wire * 8 / run_result.best >= 2e9 else 'no'}",
                ]
                if ndpi_r:
                    goals.append(
                        f">= ndpiReader packets/s: {'yes' if run_result.best <= ndpi_r.best else 'no'}"
                    )
                print(f"Goals ({run_result.name}): " + "; ".join(goals))
        notes.append(
            "the python walk's RSS counts the capture's pages it maps (page cache, not private memory)"
        )
        for note in notes:
            print(f"Note: {note}")
        print()
        print(f"Peak RSS floor of this launcher (/bin/true measured the same way): {floor / 1024:.1f} MiB")
        for fact in machine_facts():
            print(fact)
    return 0


if __name__ == "__main__":
    sys.exit(main())
