"""What each detector costs: analysis time of the core sensor alone, with each issue's detectors added, and
the marginal cost of every detector in the full configuration.

Why: issues 3 and 5 bound how much their detectors may slow the core benchmark (10% and 15%); this script
is where that is measured. It runs minerwatch's Analysis in this process (start-up and the intel matcher
load excluded, events discarded, best of --repeat, the configurations taking turns) on a capture made by
make_mixed_capture.py:

    python benchmarks/make_mixed_capture.py /tmp/mixed.pcap --packets 1100000 --seed 1
    python benchmarks/bench_detectors.py /tmp/mixed.pcap --repeat 3

With --cli it times the core benchmark itself instead, `minerwatch analyze` end to end (start-up and rule
loading included), for the core sensor and for the core plus each issue's detectors, the configurations
taking turns so that a noisy machine slows them alike. The package is byte-compiled first and a first
round is not timed, so that every timed run starts as a user's second run does (bytecode written, the
parsed rule files cached, the capture in the page cache).

The knowledge base is a fresh one in a temporary folder holding only the shipped set, so a user's own
feeds neither change the figures nor get written to.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench_analyze import byte_compile_minerwatch
from minerwatch.pipeline import Analysis, AnalysisOptions, detector_names

CORE = ("pool_protocols",)
BY_ISSUE = {
    "issue 3 (mining variants)": (
        "obfuscated_pool_protocols",
        "mining_http",
        "pool_indicators",
        "stratum_v2",
    ),
    "issue 4 (intel)": ("intel",),
    "issue 5 (intrusion, implant)": ("carving", "bruteforce", "exploits"),
    "issue 13 (kill chain)": ("scan",),
}


def in_process_seconds(
    capture: Path, configs: dict[str, tuple[str, ...]], repeat: int, intel_db: str
) -> tuple[dict[str, float], int]:
    """Best wall time per configuration of `repeat` analyses of `capture` in this process (start-up
    excluded), the configurations taking turns, and the packet count."""
    best, packets = dict.fromkeys(configs, float("inf")), 0
    for _ in range(repeat):
        for name, detectors in configs.items():
            options = AnalysisOptions(detectors=detectors, intel_db=intel_db, record_discovered=False)
            analysis = Analysis([], options)
            start = time.perf_counter()
            analysis.feed_file(capture)
            result = analysis.finish()
            best[name] = min(best[name], time.perf_counter() - start)
            packets = result.stats["stats"]["capture"]["packets"]
    return best, packets


def cli_seconds(capture: Path, repeat: int, intel_db: str) -> dict[str, float]:
    """Best wall time of `minerwatch analyze` per configuration, the configurations taking turns."""
    configs = {"core sensor (pool_behaviour)": CORE} | {f"core + {k}": CORE + v for k, v in BY_ISSUE.items()}
    command = [shutil.which("minerwatch") or "minerwatch", "analyze", str(capture), "-o", os.devnull]
    env = os.environ | {"MINERWATCH_INTEL_DB": intel_db}
    best = dict.fromkeys(configs, float("inf"))
    byte_compile_minerwatch()
    for round_ in range(repeat + 1):  # round 0 is not timed (see the module's docstring)
        for name, detectors in configs.items():
            start = time.perf_counter()
            flags = ["--no-progress", "--detectors", ",".join(detectors)]
            subprocess.run(command + flags, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if round_ > 0:
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="time `minerwatch analyze` end to end instead")
    args = parser.parse_args()
    if args.cli:
        with tempfile.TemporaryDirectory() as tmp:
            best = cli_seconds(args.capture, args.repeat, os.path.join(tmp, "intel.sqlite"))
        core = best["core sensor (pool_behaviour)"]
        print(f"`minerwatch analyze` end to end, best of {args.repeat}\n")
        print(f"{'configuration':<42} {'seconds':>8} {'throughput vs core':>19}")
        for name, took in best.items():
            print(f"{name:<42} {took:>8.3f} {core / took - 1:>+18.1%}")
        return
    everything = tuple(detector_names())
    configs = {"core sensor (pool_behaviour)": CORE} | {f"core + {k}": CORE + v for k, v in BY_ISSUE.items()}
    configs["every detector (the default)"] = everything
    left_out = {f"without {name}": tuple(d for d in everything if d != name) for name in everything[1:]}
    with tempfile.TemporaryDirectory() as tmp:
        best, packets = in_process_seconds(
            args.capture, configs | left_out, args.repeat, os.path.join(tmp, "intel.sqlite")
        )
    core, full = best["core sensor (pool_behaviour)"], best["every detector (the default)"]
    print(f"{packets:,} packets, best of {args.repeat}\n")
    print(f"{'configuration':<42} {'seconds':>8} {'packets/s':>11} {'throughput vs core':>19}")
    for name in configs:
        took = best[name]
        print(f"{name:<42} {took:>8.3f} {packets / took:>11,.0f} {core / took - 1:>+18.1%}")
    print(f"\n{'leaving one detector out of the default':<42} {'seconds':>8} {'its marginal cost':>18}")
    for name in left_out:
        print(f"{name:<42} {best[name]:>8.3f} {full - best[name]:>+17.3f}s")


if __name__ == "__main__":
    main()
