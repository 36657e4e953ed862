"""Spread an interface's packets over worker processes: AF_PACKET fanout (PACKET_FANOUT_HASH).

Every worker opens its own packet socket (and ring) on the interface and joins one fanout group; the kernel
then gives each packet to one socket of the group, chosen by a symmetric hash of the flow (both directions
of a connection go to one worker), after reassembling IP fragments (PACKET_FANOUT_FLAG_DEFRAG), as
Suricata's workers mode and Zeek's AF_PACKET plugin do. DNS is the exception: every worker needs every
answer (a later connection is named after it), so DNS is kept out of the group's sockets by their filter
and read whole by a second socket in each worker; the engine tells which worker owns a DNS flow by its
own address-pair hash (decode/_fastpath.pyx, Engine.shard).
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable

from minerwatch.capture.live import SOL_PACKET, LiveSource
from minerwatch.decode import Engine

PACKET_FANOUT = 18  # linux/if_packet.h
PACKET_FANOUT_HASH = 0
PACKET_FANOUT_FLAG_DEFRAG = 0x8000
# tpacket_block_desc: hdr.bh1.block_status, then (at 40) ts_last_pkt, seconds and nanoseconds
BLOCK_TIMES = struct.Struct("=8xI28xII")
TP_STATUS_USER = 1

# The ports the engine replicates (scale/worker.py REPLICATED_PORTS), tagged or not.
_DNS = "(port 53 or port 5353)"
DNS_FILTER = f"({_DNS} or (vlan and {_DNS}))"


def group_id() -> int:
    """A fanout group id for one analysis: its process id, so two analyses on one interface do not mix."""
    return os.getpid() & 0xFFFF


def fanout_filter(bpf: str | None) -> str:
    """The group sockets' filter: the user's, without DNS."""
    return f"({bpf}) and not {DNS_FILTER}" if bpf else f"not {DNS_FILTER}"


def dns_filter(bpf: str | None) -> str:
    """The DNS socket's filter: the user's, DNS only."""
    return f"({bpf}) and {DNS_FILTER}" if bpf else DNS_FILTER


def join(source: LiveSource, group: int) -> None:
    """Make `source` one of the sockets of fanout group `group` (after bind, as the kernel requires)."""
    mode = (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16
    source.sock.setsockopt(SOL_PACKET, PACKET_FANOUT, struct.pack("I", group | mode))  # > INT_MAX


class DnsClock:
    """Up to when a worker has read every DNS packet: a DNS socket's block is handed over RETIRE_MS after
    its first packet at the latest, so once its ring is drained, every DNS answer older than HOLD is in."""

    HOLD = 0.2  # seconds: RETIRE_MS, plus the time to read the rings of one turn of the capture loop

    def __init__(self) -> None:
        self.read_up_to = 0.0


class SharedSource:
    """A worker's DNS socket: packets every worker reads, whose flows the engine sorts by owner."""

    def __init__(self, source: LiveSource, buckets: int, clock: DnsClock) -> None:
        self.source, self.buckets, self.clock = source, buckets, clock

    def fileno(self) -> int:
        return self.source.fileno()

    def read(self, engine: Engine) -> int:
        started = time.time()
        engine.buckets = self.buckets  # the group's packets are this worker's already: buckets = 1
        try:
            return self.source.read(engine)
        finally:
            engine.buckets = 1
            self.clock.read_up_to = started - DnsClock.HOLD


class HeldSource:
    """A worker's share of the group: a block is analysed once the DNS before its last packet is read, so
    that a connection is named after the DNS answer that came just before it, as in one process. Costs
    up to HOLD of latency; when stopping, everything goes (the DNS sockets are read first)."""

    def __init__(self, source: LiveSource, clock: DnsClock, stopping: Callable[[], bool]) -> None:
        self.source, self.clock, self.stopping = source, clock, stopping

    def fileno(self) -> int:
        return self.source.fileno()

    def read(self, engine: Engine) -> int:
        source, total = self.source, 0
        while True:
            block = source.blocks[source.next]
            status, sec, nsec = BLOCK_TIMES.unpack_from(block)
            if not status & TP_STATUS_USER:
                return total  # the kernel's still
            if not self.stopping() and sec + nsec / 1e9 > self.clock.read_up_to:
                return total
            count = engine.feed_tpacket_block(block, source.linktype, source.skip_outgoing)
            if count < 0:
                return total
            total += count
            source.next = (source.next + 1) % len(source.blocks)
