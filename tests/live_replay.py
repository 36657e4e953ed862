"""Live capture against a file: run `minerwatch live` on one end of a veth pair in a network namespace the
test makes, replay a recording into the other end with tcpreplay, and compare with the file's events. Needs
root, ip and tcpreplay (skipped with the reason otherwise); the namespace (and the veth pair in it) is
deleted at the end."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from minerwatch.pipeline import Analysis, AnalysisOptions

SENDER, READER = "mwa", "mwb"
RECORDING = Path(__file__).parent / "fixtures/recordings/xmrig-6.16.0-cryptonote.pcapng"
NO_INTEL = AnalysisOptions(
    detectors=("pool_protocols", "obfuscated_pool_protocols", "mining_http", "pool_indicators")
)
# What legitimately differs between a file and its live replay: capture times (the kernel stamps replayed
# packets when they arrive), rates computed from them, and the interface in place of the file in `stats`.
TIMING = {"timestamp", "first_seen", "last_seen", "start", "end", "submits_per_minute"}


def recording_frames(path: Path) -> list[tuple[int, bytes]]:
    """(nanosecond timestamp, frame) of every enhanced packet block of a little-endian pcapng with
    nanosecond resolution (the recordings' format)."""
    data = path.read_bytes()
    frames, off = [], 0
    while off + 12 <= len(data):
        kind, length = struct.unpack_from("<II", data, off)
        if kind == 6:
            _, high, low, caplen, _ = struct.unpack_from("<IIIII", data, off + 8)
            frames.append(((high << 32) | low, data[off + 28 : off + 28 + caplen]))
        off += length
    return frames


def normalised(event: dict) -> dict:
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMING}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(event)


def as_from_a_file(events: list[dict]) -> list[dict]:
    """The events a file analysis of the same packets writes: without the periodic `stats` events and the
    incident updates written while capturing (the incidents before the final verdicts)."""
    final = next((i for i, e in enumerate(events) if e["event_type"] == "verdict"), len(events))
    return [
        e
        for i, e in enumerate(events)
        if not (e["event_type"] == "stats" and e["stats"].get("periodic"))
        and not (e["event_type"] == "incident" and i < final)
    ]


ID_KEYS = {"event_id", "related_event_id", "event_ids"}


def renumbered(events: list[dict]) -> list[dict]:
    """`events` with event ids numbered 0, 1, ... in order and every reference to them (evidence lists,
    related ids) rewritten alike: the same events and links, whatever other events were interleaved."""
    number = {e["event_id"]: n for n, e in enumerate(events)}

    def rewrite(value, key=None):
        if isinstance(value, dict):
            return {k: rewrite(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v, key) for v in value]
        if key in ID_KEYS and isinstance(value, int):
            return number.get(value, -1)
        return value

    return [rewrite(e) for e in events]


def events_of_type(path: Path, kind: str, timeout: float) -> list[dict]:
    """The `kind` events in the JSON-lines output `path` of a running `minerwatch live`, waiting up to
    `timeout` seconds for the first (it flushes its outputs every second); only whole lines are read."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        found = [e for line in text.split("\n")[:-1] if (e := json.loads(line))["event_type"] == kind]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def analyse_file(path: Path = RECORDING, options: AnalysisOptions = NO_INTEL) -> list[dict]:
    events: list[dict] = []
    analysis = Analysis([events.append], options)
    analysis.feed_file(path)
    analysis.finish()
    return events


def skip_reason() -> str | None:
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs root on Linux (network namespace, AF_PACKET)"
    missing = [tool for tool in ("ip", "tcpreplay") if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (Debian packages iproute2, tcpreplay)"
    return None


class LiveRun:
    """A `minerwatch live` process reading READER inside the namespace."""

    def __init__(self, namespace: str, out: Path, args: list[str], prefix: tuple[str, ...] = ()) -> None:
        self.namespace, self.out = namespace, out
        self.stderr_path = out / "stderr.txt"
        command = [*prefix, sys.executable, "-m", "minerwatch", "live", "-i", READER, *args]
        with open(self.stderr_path, "wb") as err, open(out / "summary.txt", "wb") as summary:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", namespace, *command], stdout=summary, stderr=err
            )
        self.wait_for("capturing on")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_for(self, text: str, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stderr.count(text) < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} from minerwatch live: {self.stderr}")
            time.sleep(0.05)

    def replay(self, capture: Path, sender: str = SENDER) -> str:
        """tcpreplay's report of `capture` sent into `sender` at full speed."""
        command = [
            "ip",
            "netns",
            "exec",
            self.namespace,
            "tcpreplay",
            "--topspeed",
            "-i",
            sender,
            str(capture),
        ]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)


@contextmanager
def veth_namespace(name: str, pairs: tuple[tuple[str, str], ...] = ((SENDER, READER),)) -> Iterator[str]:
    """A namespace `name` with the veth `pairs` (sender, reader) up, IPv6 off (no neighbour discovery
    noise)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    name = f"{name}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        inside = ["ip", "netns", "exec", name]
        ipv6_off = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
        subprocess.run([*inside, "sysctl", "-qw", *ipv6_off], check=False)
        for sender, reader in pairs:
            add = ["ip", "-n", name, "link", "add", sender, "type", "veth", "peer", "name", reader]
            subprocess.run(add, check=True)
            for end in (sender, reader):
                subprocess.run(["ip", "-n", name, "link", "set", end, "mtu", "65535", "up"], check=True)
        yield name
    finally:
        # A test that failed before stopping its minerwatch leaves it running in the namespace: end it (by
        # PID: only what this test started lives there), or it would keep the namespace alive.
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
        for pid in pids:
            os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", name], check=False)
