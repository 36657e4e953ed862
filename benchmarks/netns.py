"""Network namespaces joined by a veth pair, and the processes run in them: the recording scripts' shared
plumbing (record_real_traffic.py, record_encrypted.py).

Only namespaces made here are touched; every address lives inside them, so nothing leaves the machine.
Processes are stopped by the PID this module started them with, newest first.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=check, capture_output=True, text=True)


def in_ns(namespace: str, *command: str) -> list[str]:
    return ["ip", "netns", "exec", namespace, *command]


@contextmanager
def exclusive(family: str) -> Iterator[None]:
    """Hold the lock of a family of namespace names for a whole run, waiting for a run that holds it.

    Two runs of one recorder use the same names, and `NamespacePair.setup` deletes namespaces of its name
    (left by a killed run): a second run's programs then ran in the first run's namespaces (a WebSocket
    client of one run's b05 connected to another run's b03 HTTPS server, and was labelled a download)."""
    lock = Path("/run/lock") / f"minerwatch-netns-{family}.lock"
    with open(lock, "a+") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.seek(0)
            holder = held.read().strip() or "?"
            print(f"waiting for the recording that holds {lock} (pid {holder})", file=sys.stderr, flush=True)
            fcntl.flock(held, fcntl.LOCK_EX)
        held.truncate(0)
        held.write(str(os.getpid()))
        held.flush()
        yield


@dataclass(frozen=True)
class NamespacePair:
    """Two namespaces, a server's and a client's, joined by a veth pair over a /24 (MTU 1500, offloads off).

    `ip netns exec` shows files of /etc/netns/NAMESPACE/ in place of those in /etc/: each namespace gets a
    resolv.conf naming 127.0.0.1 only (a lookup never leaves it), and the client a hosts file giving `hosts`
    the server's address, so that host names resolve without any DNS server."""

    server_ns: str
    client_ns: str
    server_ip: str
    client_ip: str
    server_dev: str
    client_dev: str

    @classmethod
    def numbered(cls, prefix: str, n: int, subnet: str) -> NamespacePair:
        """Pair `n` of a family: namespaces PREFIXns/PREFIXnc, addresses SUBNET.n.1 and SUBNET.n.2."""
        name = f"{prefix}{n}"
        return cls(f"{name}s", f"{name}c", f"{subnet}.{n}.1", f"{subnet}.{n}.2", f"{name}-s", f"{name}-c")

    def setup(self, hosts: tuple[str, ...] = ()) -> None:
        self.teardown()  # a previous run that was killed
        for namespace in (self.server_ns, self.client_ns):
            run("ip", "netns", "add", namespace)
        run(
            "ip",
            "link",
            "add",
            self.server_dev,
            "netns",
            self.server_ns,
            "type",
            "veth",
            "peer",
            self.client_dev,
            "netns",
            self.client_ns,
        )
        for namespace, device, address in (
            (self.server_ns, self.server_dev, self.server_ip),
            (self.client_ns, self.client_dev, self.client_ip),
        ):
            run(*in_ns(namespace, "ip", "addr", "add", f"{address}/24", "dev", device))
            run(*in_ns(namespace, "ip", "link", "set", device, "up", "mtu", "1500"))
            run(*in_ns(namespace, "ip", "link", "set", "lo", "up"))
            # Hardware offloads would hand tcpdump 64 KiB "segments" that no real wire carries.
            run(
                *in_ns(namespace, "ethtool", "-K", device, "tso", "off", "gso", "off", "gro", "off"),
                check=False,
            )
        for namespace in (self.server_ns, self.client_ns):
            etc = Path("/etc/netns") / namespace
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        if hosts:
            names = f"127.0.0.1 localhost\n{self.server_ip} {' '.join(hosts)}\n"
            (Path("/etc/netns") / self.client_ns / "hosts").write_text(names)

    def teardown(self) -> None:
        for namespace in (self.server_ns, self.client_ns):
            run("ip", "netns", "delete", namespace, check=False)
            etc = Path("/etc/netns") / namespace
            if etc.is_dir():
                for path in etc.iterdir():
                    path.unlink()
                etc.rmdir()


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop the processes this script started, by PID, newest first. One started in a session of its own
    (`start_new_session=True`: a shell pipeline) is stopped with its whole process group, so that no child
    of it is left behind."""
    for process in reversed(processes):
        if process.poll() is None:
            group = os.getpgid(process.pid) == process.pid
            signal_it = partial(os.killpg, process.pid) if group else process.send_signal
            signal_it(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                signal_it(signal.SIGKILL)
                process.wait()
