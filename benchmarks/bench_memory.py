"""Peak RSS of the default run for one or more source trees, and the modules a run imports: where a rise
in memory comes from (issue 12 asks for no rise).

    python benchmarks/bench_memory.py /tmp/mixed.pcap /tmp/real.pcap [--src /path/to/old/src ...] [--repeat 3]

Each run is `minerwatch analyze CAPTURE -o /dev/null --no-progress` in a fresh child process with a new
incident store; its peak RSS comes from os.wait4 (ru_maxrss), as bench_analyze.py measures. The first row
of each tree is start-up alone (a capture without packets). A tree is put first on PYTHONPATH; one of
another commit needs its compiled modules built in place (`python setup.py build_ext --inplace` in a
`git worktree` of it) and `python -m compileall` (without bytecode, every run compiles the sources).
With two or more trees, the top-level packages that the last tree's start-up imports and the first's does
not, and the reverse, are listed (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EMPTY_PCAP = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")  # the header alone


def run(tree: Path, capture: Path, tmp: Path, *python: str) -> tuple[int, str]:
    """Peak RSS (KiB) of one default run, and its stderr."""
    store = tmp / "incidents.sqlite"
    store.unlink(missing_ok=True)
    env = os.environ | {"PYTHONPATH": str(tree), "MINERWATCH_STORE": str(store)}
    command = [sys.executable, *python, "-m", "minerwatch", "analyze", str(capture), "-o", os.devnull]
    child = subprocess.Popen(
        [*command, "--no-progress"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    stderr = child.stderr.read() if child.stderr else ""
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{tree}: analyze {capture} failed:\n{stderr[-2000:]}")
    return usage.ru_maxrss, stderr


def packages(importtime: str) -> set[str]:
    """Top-level packages named by `python -X importtime`'s lines."""
    names = (line.rsplit("|", 1)[-1].strip() for line in importtime.splitlines() if line.startswith("import"))
    return {name.split(".")[0] for name in names if name and name != "package"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", type=Path, nargs="+")
    parser.add_argument("--src", type=Path, action="append", default=[], help="also measure this source tree")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree and capture")
    args = parser.parse_args()
    trees = [HERE.parent / "src", *args.src]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        empty = tmp / "empty.pcap"
        empty.write_bytes(EMPTY_PCAP)
        inputs = {"start-up (no packet)": empty} | {capture.name: capture for capture in args.captures}
        print(f"{'tree':<40} {'capture':<28} {'peak RSS MiB (lowest, highest)':>32}")
        for tree in trees:
            for label, capture in inputs.items():
                peaks = [run(tree, capture, tmp)[0] / 1024 for _ in range(args.repeat)]
                print(f"{tree!s:<40} {label:<28} {min(peaks):>20.1f} {max(peaks):>11.1f}")
        if len(trees) > 1:
            first, last = (
                packages(run(tree, empty, tmp, "-X", "importtime")[1]) for tree in (trees[0], trees[-1])
            )
            print(f"imported by {trees[-1]} only: {', '.join(sorted(last - first)) or 'none'}")
            print(f"imported by {trees[0]} only: {', '.join(sorted(first - last)) or 'none'}")


if __name__ == "__main__":
    main()
