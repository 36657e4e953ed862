"""Kernel drops of `minerwatch live` against the replay rate: the highest rate the sensor reads without loss.

    python benchmarks/record_real_traffic.py /tmp/real.pcap --seconds 120      # or make_mixed_capture.py
    python benchmarks/bench_live.py /tmp/real.pcap [--rates 100,250,500,1000] [--loop 3] [--workers N]

Needs root, ip and tcpreplay. It makes a network namespace (`mwl-bench`) holding a veth pair, runs
`minerwatch live -i mwb` there with every detector on (events to a file, as a sensor writes them), replays
CAPTURE into the other end with `tcpreplay --preload-pcap --mbps RATE` (`--loop` times; preloaded: without it
tcpreplay sent at most about 500 Mbit/s here), stops minerwatch with SIGTERM and
reads its last `stats` event: the kernel's counters (PACKET_STATISTICS: packets the socket received, drops
for want of ring space) and the engine's packet count. Rates are tried from low to high, `--repeat` times
each; the table gives every trial, and the last line the highest rate tcpreplay sent in a trial without loss
(the kernel counted no drop and minerwatch analysed every packet tcpreplay sent), among the rates asked
before the first one at which any trial lost packets. "sent Mbit/s" is tcpreplay's own figure: on a slow
or busy machine it falls short of the rate asked, and `topspeed` (as fast as tcpreplay can) is the
ceiling of this set-up. The namespace is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_analyze import byte_compile_minerwatch, machine_facts, minerwatch_cmd

NAMESPACE, SENDER, READER = "mwl-bench", "mwa", "mwb"


@dataclass
class Trial:
    rate: str
    sent: int = 0
    sent_mbps: float = 0.0
    sent_pps: float = 0.0
    kernel_packets: int = 0
    drops: int = 0
    analysed: int = 0

    @property
    def lossless(self) -> bool:
        return self.drops == 0 and self.analysed >= self.sent > 0


def inside(*argv: str) -> list[str]:
    return ["ip", "netns", "exec", NAMESPACE, *argv]


def make_namespace() -> None:
    subprocess.run(["ip", "netns", "add", NAMESPACE], check=True)
    subprocess.run(inside("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"), check=False)
    subprocess.run(
        ["ip", "-n", NAMESPACE, "link", "add", SENDER, "type", "veth", "peer", "name", READER], check=True
    )
    for end in (SENDER, READER):
        subprocess.run(["ip", "-n", NAMESPACE, "link", "set", end, "mtu", "9000", "up"], check=True)


def trial(capture: Path, rate: str, loop: int, options: list[str], folder: Path) -> Trial:
    """One replay at `rate` (Mbit/s, or "topspeed") read by a fresh `minerwatch live`."""
    events, stderr = folder / f"events-{rate}.jsonl", folder / f"live-{rate}.err"
    argv = [*minerwatch_cmd(), "live", "-i", READER, "-o", str(events), "--stats-interval", "0"]
    argv += options
    with stderr.open("wb") as err:
        live = subprocess.Popen(inside(*argv), stdout=subprocess.DEVNULL, stderr=err)
    try:
        while b"capturing on" not in stderr.read_bytes():
            if live.poll() is not None:
                raise SystemExit(f"minerwatch live failed: {stderr.read_text()}")
            time.sleep(0.05)
        speed = ["--topspeed"] if rate == "topspeed" else ["--mbps", rate]
        replay = subprocess.run(
            inside("tcpreplay", "--preload-pcap", *speed, f"--loop={loop}", "-i", SENDER, str(capture)),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        live.send_signal(signal.SIGTERM)
        live.wait()
    result = Trial(rate)
    if m := re.search(r"Actual: (\d+) packets", replay):
        result.sent = int(m.group(1))
    if m := re.search(r"Rated: [\d.]+ Bps, ([\d.]+) Mbps, ([\d.]+) pps", replay):
        result.sent_mbps, result.sent_pps = float(m.group(1)), float(m.group(2))
    stats = json.loads(events.read_text().splitlines()[-1])["stats"]
    result.kernel_packets = sum(k["packets"] for k in stats["kernel"])
    result.drops = sum(k["drops"] for k in stats["kernel"])
    result.analysed = stats["capture"]["packets"]
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("capture", type=Path)
    p.add_argument("--rates", default="100,250,500,750,1000,topspeed", help="Mbit/s to try, low to high")
    p.add_argument("--loop", type=int, default=1, help="replay the capture this many times per trial")
    p.add_argument("--repeat", type=int, default=2, help="trials per rate (default 2)")
    p.add_argument("--workers", type=int, help="minerwatch live --workers N (where it has the option)")
    p.add_argument("--ring-size", help="minerwatch live --ring-size (default: minerwatch's)")
    args = p.parse_args()
    if os.geteuid() != 0 or not shutil.which("tcpreplay"):
        raise SystemExit("needs root and tcpreplay (network namespace, AF_PACKET)")
    options = ["--workers", str(args.workers)] if args.workers else []
    options += ["--ring-size", args.ring_size] if args.ring_size else []
    byte_compile_minerwatch()
    print("\n".join(machine_facts()))
    print(f"capture: {args.capture} ({args.capture.stat().st_size:,} bytes), loop {args.loop}")
    print(f"minerwatch live options: {' '.join(options) or '(defaults)'}")
    print(
        f"{'rate asked':>10} {'sent Mbit/s':>11} {'sent pkt/s':>10} {'sent':>10} {'kernel':>10} "
        f"{'drops':>8} {'analysed':>10}"
    )
    make_namespace()
    best: Trial | None = None
    lossy = False
    try:
        with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
            for rate in args.rates.split(","):
                trials = [
                    trial(args.capture, rate.strip(), args.loop, options, Path(tmp))
                    for _ in range(args.repeat)
                ]
                for t in trials:
                    print(
                        f"{t.rate:>10} {t.sent_mbps:>11.1f} {t.sent_pps:>10,.0f} {t.sent:>10,} "
                        f"{t.kernel_packets:>10,} {t.drops:>8,} {t.analysed:>10,}",
                        flush=True,
                    )
                lossy = lossy or not all(t.lossless for t in trials)
                if not lossy:
                    best = max([*trials, *([best] if best else [])], key=lambda t: t.sent_mbps)
    finally:
        subprocess.run(["ip", "netns", "del", NAMESPACE], check=False)
    if best is None:
        print("no rate without kernel drops")
        return 1
    print(
        f"highest rate without kernel drops: {best.sent_mbps:.1f} Mbit/s ({best.sent_pps:,.0f} packets/s, "
        f"asked {best.rate})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
