"""Instructions executed by `minerwatch analyze` per configuration, counted by valgrind's cachegrind: the
detectors' cost without the machine's noise.

Why: on a shared 2-core VM the same timing varies by up to 25% within minutes, which hides changes of a
few percent. Instruction counts do not vary from run to run (PYTHONHASHSEED is fixed), so they show what a
change saves; wall time (bench_detectors.py --cli) remains the figure the issues' bars are about. Counts
leave out the kernel's work (reading the capture), which is the same for every configuration, so the
ratios here are a little larger than wall-time ones would be on a quiet machine.

    apt-get install -y valgrind
    python benchmarks/count_instructions.py /tmp/mixed.pcap
    python benchmarks/count_instructions.py /tmp/mixed.pcap --killchain

With --killchain it counts issue 13's bar instead: the default run (`minerwatch analyze CAPTURE -o
/dev/null --no-progress`, every detector, the incident store on) against the same run with the kill chain
switched off (analyze_without_killchain.py).

Each configuration takes about 25 s under valgrind for the 1.1M-packet capture; two run at a time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_analyze import byte_compile_minerwatch
from bench_detectors import BY_ISSUE, CORE

_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions of one run of `command` (start-up included), from cachegrind's summary."""
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    done = subprocess.run(valgrind + command, env=env, capture_output=True, text=True)
    found = _TOTAL.search(done.stderr)
    if found is None:
        raise SystemExit(f"valgrind gave no instruction count:\n{done.stderr[-2000:]}")
    return int(found[1].replace(",", ""))


def configurations(capture: Path, killchain: bool) -> dict[str, list[str]]:
    """Command per configuration, the baseline first."""
    analyze = [sys.executable, "-m", "minerwatch", "analyze", str(capture), "-o", os.devnull, "--no-progress"]
    if killchain:
        off = [sys.executable, str(Path(__file__).with_name("analyze_without_killchain.py")), *analyze[4:]]
        return {"kill chain off": off, "default run (kill chain on)": analyze}
    configs = {"core sensor (pool_protocols)": CORE} | {
        f"core + {name}": CORE + extra for name, extra in BY_ISSUE.items() if "intel" not in extra
    }
    return {name: [*analyze, "--detectors", ",".join(detectors)] for name, detectors in configs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--killchain", action="store_true", help="the default run, kill chain on and off")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found (apt-get install -y valgrind)")
    byte_compile_minerwatch()
    configs = configurations(args.capture, args.killchain)
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {
            "MINERWATCH_INTEL_DB": os.path.join(tmp, "intel.sqlite"),
            "MINERWATCH_CACHE_DIR": os.path.join(tmp, "cache"),
            "MINERWATCH_STORE": os.path.join(tmp, "incidents.sqlite"),
            "PYTHONHASHSEED": "0",
        }
        warm = [sys.executable, "-m", "minerwatch", "analyze", str(args.capture), "-o", os.devnull]
        subprocess.run([*warm, "--no-progress"], env=env, capture_output=True)  # fills the rule cache
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda command: instructions(command, env), configs.values())
            counts = dict(zip(configs, results, strict=True))
    base = next(iter(counts.values()))
    print(f"`minerwatch analyze {args.capture.name}` under cachegrind\n")
    print(f"{'configuration':<42} {'instructions':>14} {'cost':>12} {'as throughput':>14}")
    for name, count in counts.items():
        print(
            f"{name:<42} {count / 1e6:>13,.0f}M {(count - base) / 1e6:>+11,.0f}M {base / count - 1:>+14.1%}"
        )


if __name__ == "__main__":
    main()
