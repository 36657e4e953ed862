"""Zeek's Scan::Address_Scan joined with the failed attempts of the conn logs, to name the hosts swept.

Why: the notice says only "S scanned at least 25 unique hosts on port P"; the kill chain needs the hosts
reached, as the scan detector gives them on packets (a reconnaissance step on each, from which the
incident correlator makes lateral movement when S is itself a victim and they are internal). Zeek counts
a host when a TCP attempt from S to it on P failed (policy/misc/scan.zeek: refused, unanswered, reset
around the handshake, no data), which is what zeek.FAILED_STATES reads from conn.log.

The join is made at the end, so the order of the files does not matter. Memory is bounded: per (scanner,
port) the latest TARGETS_KEPT targets with the time of their last failed attempt, at most MAX_KEYS such
keys (least recently updated forgotten first, counted) and MAX_SWEEPS notices (the rest counted). Each
notice names the targets attempted within Zeek's `Scan::addr_scan_interval` (5 min) around it, at most
TARGETS (Zeek's `addr_scan_threshold`, 25) of them, in address order.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

INTERVAL = 300.0  # Zeek's Scan::addr_scan_interval
TARGETS = 25  # Zeek's Scan::addr_scan_threshold: hosts named per notice
TARGETS_KEPT = 32
MAX_KEYS = 10_000  # at most 320,000 (target, time) entries, about 40 MiB
MAX_SWEEPS = 10_000


@dataclass(frozen=True, slots=True)
class PendingSweep:
    ts: float
    scanner: str
    port: int
    label: str
    event_id: int  # the alert that restates the notice: what each step cites


class Sweeps:
    def __init__(self) -> None:
        self.attempts: OrderedDict[tuple[str, int], dict[str, float]] = OrderedDict()
        self.pending: list[PendingSweep] = []
        self.stats = {"sweep_keys_forgotten": 0, "sweeps_dropped": 0, "sweeps_without_targets": 0}

    def failed_attempt(self, scanner: str, target: str, port: int, ts: float) -> None:
        key = (scanner, port)
        targets = self.attempts.pop(key, None)
        if targets is None:
            targets = {}
            if len(self.attempts) >= MAX_KEYS:
                self.attempts.popitem(last=False)
                self.stats["sweep_keys_forgotten"] += 1
        previous = targets.pop(target, ts)  # re-inserted: the order is that of the latest attempts
        targets[target] = max(ts, previous)
        if len(targets) > TARGETS_KEPT:
            del targets[next(iter(targets))]
        self.attempts[key] = targets

    def add(self, sweep: PendingSweep) -> None:
        if len(self.pending) >= MAX_SWEEPS:
            self.stats["sweeps_dropped"] += 1
            return
        self.pending.append(sweep)

    def resolved(self) -> Iterator[tuple[PendingSweep, list[str]]]:
        """Each notice with the hosts it swept (those the conn logs showed); a notice with none is counted
        and left out."""
        for sweep in self.pending:
            attempts = self.attempts.get((sweep.scanner, sweep.port), {})
            near = [t for t, at in attempts.items() if abs(at - sweep.ts) <= INTERVAL]
            if not near:
                self.stats["sweeps_without_targets"] += 1
                continue
            yield sweep, sorted(near, key=_address_order)[:TARGETS]


def _address_order(address: str) -> tuple[int, int]:
    parsed = ipaddress.ip_address(address)
    return parsed.version, int(parsed)
