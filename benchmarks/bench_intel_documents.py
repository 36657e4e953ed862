"""Peak memory and time of importing one large MISP event (issue 18: 128 MiB took 1.4 GiB).

Input: one synthetic MISP event written to a temp dir, `--mib` MiB of attributes shaped like MISP's own
export (18 keys and a tag each, about 500 bytes), a fifth each domain, ip-dst, sha256, url and
ip-dst|port in reserved space, seeded for repeatability; the event's Tag and Galaxy come after its
attributes, as MISP writes them. Each import runs in a fresh process (`intel import` into a new
knowledge base), so its peak RSS is its own; CPU seconds are given besides wall time because the
development machine is shared. `--src DIR` measures another source tree as well, e.g. a
checkout of the commit before the streamed reader:

    python benchmarks/bench_intel_documents.py [--mib 128] [--per-event N] [--src /path/to/old/src ...]

`--per-event N` writes a MISP `response` list of events of N attributes each instead of one event.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

_CHILD = """
import resource, sys, time
from pathlib import Path
from minerwatch.intel.formats import read_indicators
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.store import KnowledgeBase
start = time.perf_counter()
problems = Problems()
indicators = read_indicators(Path(sys.argv[1]), "misp", problems)
with KnowledgeBase.open(Path(sys.argv[2]), seed=False) as kb:
    count = kb.replace_source("bench", indicators, rejected=problems)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(count, problems.count, time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""
_KINDS = ("domain", "ip-dst", "sha256", "url", "ip-dst|port")


def attribute(n: int, rng: random.Random) -> dict[str, object]:
    kind = _KINDS[n % len(_KINDS)]
    a, b, c = n >> 16 & 255, n >> 8 & 255, n & 255
    value = {
        "domain": f"h{n}.{rng.randrange(10**6)}.example",
        "ip-dst": f"240.{a}.{b}.{c}",
        "sha256": f"{rng.getrandbits(256):064x}",
        "url": f"http://d{n}.example/p/{n}.sh",
        "ip-dst|port": f"241.{a}.{b}.{c}|3333",
    }[kind]
    return {
        "id": str(n),
        "event_id": "1",
        "object_id": "0",
        "object_relation": None,
        "category": "Network activity",
        "type": kind,
        "value": value,
        "to_ids": True,
        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
        "timestamp": "1700000000",
        "distribution": "5",
        "sharing_group_id": "0",
        "comment": "seen in campaign",
        "deleted": False,
        "disable_correlation": False,
        "first_seen": None,
        "last_seen": None,
        "Tag": [{"id": "1", "name": "tlp:white", "colour": "#ffffff", "exportable": True}],
    }


def write_event(path: Path, size: int, per_event: int) -> tuple[int, int]:
    """(events, attributes) of a document of `size` bytes: one event, or a MISP `response` list of events
    of `per_event` attributes each when `per_event` is set."""
    rng = random.Random(size)
    events = attributes = 0
    tail = '], "Tag": [{"name": "tlp:white"}], "Galaxy": [{"GalaxyCluster": [{"value": "XMRig"}]}]}'
    with path.open("w") as fh:
        fh.write('{"response": [' if per_event else "")
        while fh.tell() < size or not events:
            if events and per_event:
                fh.write(f"{tail}}},")
            events += 1
            fh.write(f'{{"Event": {{"id": "{events}", "info": "bench", "uuid": "{uuid.UUID(int=events)}", ')
            fh.write('"Attribute": [')
            for n in range(per_event or sys.maxsize):
                if fh.tell() >= size:
                    break
                fh.write(("," if n else "") + json.dumps(attribute(attributes, rng)))
                attributes += 1
        fh.write(f"{tail}}}" + ("]}" if per_event else ""))
    return events, attributes


def measure(document: Path, folder: Path, src: str | None) -> list[float]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    db = folder / f"kb-{abs(hash(src))}.sqlite"
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(document), str(db)], env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"import with {src or 'installed minerwatch'} failed: {result.stderr.strip()[-300:]}")
    db.unlink()
    return [float(x) for x in result.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--per-event", type=int, default=0, help="many events of this many attributes")
    parser.add_argument("--src", action="append", default=[], help="also measure this source tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        document = Path(tmp) / "event.json"
        events, attributes = write_event(document, args.mib << 20, args.per_event)
        size = document.stat().st_size / 2**20
        print(f"MISP document: {size:.0f} MiB, {events:,} event(s), {attributes:,} attributes")
        columns = ("indicators", 10), ("rejected", 8), ("wall s", 7), ("CPU s", 6), ("peak RSS MiB", 13)
        print(f"{'source':<32}", *(f"{name:>{width}}" for name, width in columns))
        for src in [None, *args.src]:
            count, rejected, wall, cpu, rss_kib = measure(document, Path(tmp), src)
            print(
                f"{src or 'installed':<32} {count:>10,.0f} {rejected:>8,.0f} {wall:>7.1f} {cpu:>6.1f}"
                f" {rss_kib / 1024:>13,.0f}"
            )


if __name__ == "__main__":
    main()
