"""The events of a whole default analysis, kept as a reference so that a refactor provably changes none.

    python tests/golden_events.py        (or: make golden)

rewrites tests/golden_events.json from the current code. Run it only when events change on purpose, and say
why in the commit: the diff of that file is the review of the change. tests/test_golden_events.py compares.

Inputs: the public corpus (when ../shared/corpus is present), the real recordings of
tests/fixtures/recordings, the demonstration capture (`minerwatch sample`) and a small capture from
benchmarks/make_mixed_capture.py. Each is analysed alone with the default options (every detector, the
shipped intelligence). The reference keeps, per input, the input's own digest (so that a changed generator
is told apart from changed events), the number of events by type, and one short digest per event, so that
a failure names the first event that differs.

What legitimately varies between two runs of the same code, and is therefore normalised: only the paths
of the files read (`stats.files[].path`, a temporary or checkout-dependent directory), replaced by the
input's name. Timestamps are capture time, ids count from 1 per analysis: nothing else is removed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden_events.json"
RECORDINGS = ROOT / "tests" / "fixtures" / "recordings"
BENCHMARK_PACKETS = 30_000  # about 0.3 s to make: every kind of flow of the generator, and two miners
REGENERATE = "make golden  (python tests/golden_events.py)"
SAMPLE = "sample/demo.pcap"
BENCHMARK = f"benchmark/mixed-{BENCHMARK_PACKETS}.pcap"


def corpus_inputs(corpus: Path) -> Iterator[tuple[str, Path]]:
    from corpus_rows import BENIGN, MINING

    for name in MINING + BENIGN:
        yield f"corpus/{name}", corpus / name


def recording_inputs() -> Iterator[tuple[str, Path]]:
    for path in sorted(RECORDINGS.glob("*.pcapng")):
        yield f"recordings/{path.name}", path


def made_inputs(work: Path) -> Iterator[tuple[str, Path]]:
    """The demonstration capture and the small benchmark capture, written into `work`."""
    from minerwatch.capture.sample import write_sample

    sample = work / "demo.pcap"
    write_sample(sample)
    yield SAMPLE, sample
    mixed = work / "mixed.pcap"
    script = ROOT / "benchmarks" / "make_mixed_capture.py"
    subprocess.run(
        [sys.executable, str(script), str(mixed), "--packets", str(BENCHMARK_PACKETS), "--seed", "1"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    yield BENCHMARK, mixed


def analyse(path: Path) -> list[dict[str, Any]]:
    from minerwatch.pipeline import Analysis

    events: list[dict[str, Any]] = []
    analysis = Analysis([events.append])
    analysis.feed_file(path)
    analysis.finish()
    return events


def canonical(event: dict[str, Any], name: str) -> bytes:
    """The event as sorted-key JSON, the paths of the files read replaced by the input's name."""
    if event["event_type"] == "stats":
        body = event["stats"]
        event = event | {"stats": body | {"files": [f | {"path": name} for f in body["files"]]}}
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def summary(name: str, path: Path) -> dict[str, Any]:
    """What the reference keeps of one input's analysis."""
    events = analyse(path)
    return {
        "input": digest(path.read_bytes()),
        "types": dict(sorted(Counter(e["event_type"] for e in events).items())),
        "events": [f"{e['event_type']} {digest(canonical(e, name))}" for e in events],
    }


def main() -> int:
    import os
    import tempfile

    from conftest import CORPUS_DIR

    if not (CORPUS_DIR / "INDEX.md").is_file():
        print(f"the corpus is needed to make the reference: not found at {CORPUS_DIR}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        # As under pytest (tests/conftest.py): the shipped intelligence only, no user cache or store.
        os.environ["MINERWATCH_INTEL_DB"] = f"{work}/intel.sqlite"
        os.environ["MINERWATCH_CACHE_DIR"] = f"{work}/cache"
        os.environ["MINERWATCH_STORE"] = f"{work}/store.sqlite"
        inputs = [*corpus_inputs(CORPUS_DIR), *recording_inputs(), *made_inputs(Path(work))]
        golden = {name: summary(name, path) for name, path in inputs}
    GOLDEN.write_text(orjson.dumps(golden, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"wrote {GOLDEN.relative_to(ROOT)}: {len(golden)} inputs")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "tests"))
    sys.exit(main())
