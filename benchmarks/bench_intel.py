"""Intel knowledge base: import and load time, lookups/s and per-packet cost at 1k vs 1M indicators.

Input: synthetic plain-list feeds written to a temp dir, half domains (random 12-letter labels under
random parents in .test) and half IPv4 addresses and CIDRs (in 240.0.0.0/4), seeded for repeatability.
Reserved space on purpose: real traffic never matches it, so a capture raises the same alerts (none) at
every size and the per-packet figure measures lookups, not the cost of alerting on more matches.
Lookups are a mix of names that hit, deep subdomains, misses, and IPs.

With `--capture PCAP` it also analyses that capture with the core sensor plus intel against each
knowledge base (best of `--repeat`, matcher load excluded) and prints ns per packet: the figure issue 4
bounds ("matching cost per packet does not depend on the number of indicators").

    python benchmarks/bench_intel.py [--sizes 1000,1000000] [--capture PCAP] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import resource
import string
import tempfile
import time
from pathlib import Path

from bench_detectors import seconds  # same folder: the in-process timing of an analysis
from minerwatch.intel.formats import read_indicators
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.matcher import IntelMatcher
from minerwatch.intel.store import KnowledgeBase

LOOKUPS = 200_000


def label(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=12))


def write_feed(path: Path, size: int, rng: random.Random) -> list[str]:
    names = []
    with path.open("w") as fh:
        for n in range(size):
            if n % 2:
                name = f"{label(rng)}.{label(rng)}.test"
                names.append(name)
                fh.write(name + "\n")
            elif n % 4:
                fh.write(f"{rng.randrange(240, 255)}.{rng.randrange(256)}.{rng.randrange(256)}.0/24\n")
            else:
                octets = (
                    rng.randrange(240, 255),
                    rng.randrange(256),
                    rng.randrange(256),
                    rng.randrange(1, 255),
                )
                fh.write(".".join(map(str, octets)) + "\n")
    return names


def per_packet_ns(capture: Path, db: Path, repeat: int) -> float:
    """Best-of-`repeat` wall time per packet of core + intel on `capture`, without the matcher load."""
    best, packets = seconds(capture, ("pool_protocols", "intel"), repeat, str(db))
    return best * 1e9 / packets


def run(size: int, folder: Path, capture: Path | None, repeat: int) -> dict[str, float]:
    rng = random.Random(size)
    feed = folder / f"feed-{size}.txt"
    names = write_feed(feed, size, rng)
    db = folder / f"kb-{size}.sqlite"
    start = time.perf_counter()
    with KnowledgeBase.open(db, seed=False) as kb:
        kb.replace_source("bench", read_indicators(feed, "plain", Problems()))
    imported = time.perf_counter() - start
    start = time.perf_counter()
    matcher = IntelMatcher.load(db)
    loaded = time.perf_counter() - start
    queries = [
        rng.choice(
            (
                lambda: rng.choice(names),
                lambda: f"a.b.c.{rng.choice(names)}",
                lambda: f"{label(rng)}.example.org",
            )
        )()
        for _ in range(LOOKUPS)
    ]
    ips = [
        f"{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        for _ in range(LOOKUPS)
    ]
    start = time.perf_counter()
    hits = sum(len(matcher.match_domain(q)) for q in queries)
    domain_rate = LOOKUPS / (time.perf_counter() - start)
    start = time.perf_counter()
    ip_hits = sum(len(matcher.match_ip(q)) for q in ips)
    ip_rate = LOOKUPS / (time.perf_counter() - start)
    return {
        "ns_per_packet": per_packet_ns(capture, db, repeat) if capture else float("nan"),
        "size": size,
        "import_s": imported,
        "load_s": loaded,
        "domain_lookups_per_s": domain_rate,
        "ip_lookups_per_s": ip_rate,
        "domain_hits": hits,
        "ip_hits": ip_hits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--capture", type=Path, help="also measure core + intel ns/packet on this capture")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(int(s), Path(tmp), args.capture, args.repeat) for s in args.sizes.split(",")]
    print(
        f"{'indicators':>10} {'import s':>9} {'load s':>7} {'domain lookups/s':>17} {'ip lookups/s':>13}"
        f" {'ns/packet':>10}"
    )
    for r in rows:
        print(
            f"{r['size']:>10} {r['import_s']:>9.2f} {r['load_s']:>7.2f} "
            f"{r['domain_lookups_per_s']:>17,.0f} {r['ip_lookups_per_s']:>13,.0f} {r['ns_per_packet']:>10.0f}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB; {LOOKUPS} lookups of each kind per size")


if __name__ == "__main__":
    main()
