"""Read packets from live interfaces: an AF_PACKET socket per interface with a TPACKET_V3 receive ring.

Why TPACKET_V3: the kernel writes packets into blocks of memory shared with this process, so a block of
hundreds of packets costs one poll() and no copy or system call per packet; the compiled engine walks a
ready block (Engine.feed_tpacket_block) exactly as it walks a file's records, so live and file analyses
produce the same events. Set-up is a few setsockopt() calls, done here with the socket module.

Capture time is the kernel's receive timestamp of each packet, never the wall clock. Linux only.
"""

from __future__ import annotations

import ctypes
import fcntl
import mmap
import select
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Protocol

from minerwatch.capture.bpf import compile_filter
from minerwatch.capture.reader import CaptureStats
from minerwatch.decode import Engine
from minerwatch.errors import InputError
from minerwatch.output.terminal import visible

# linux/if_packet.h, linux/if_ether.h, asm-generic/socket.h
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
PACKET_MR_PROMISC = 1
ETH_P_ALL = 3
SO_ATTACH_FILTER = 26
SIOCGIFHWADDR = 0x8927
IFNAMSIZ = 16
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101

# Ring geometry per interface: blocks of 1 MiB (RING_BYTES by default, bounded), a block handed over at the
# latest RETIRE_MS after its first packet so a quiet link is still read promptly.
BLOCK_SIZE = 1 << 20
RING_BYTES = 64 << 20
DRAIN_ROUNDS = 32  # at a stop, on a link that never goes quiet (each round reads every finished block)
FRAME_SIZE = 2048  # TPACKET_V3 ignores frames but the kernel checks the request's arithmetic
RETIRE_MS = 50
POLL_MS = 200
METHOD = "af_packet-tpacket_v3"


class LiveSource:
    """One interface's packet socket and mapped receive ring."""

    def __init__(
        self, interface: str, bpf: str | None = None, promiscuous: bool = True, ring_bytes: int = RING_BYTES
    ) -> None:
        """`ring_bytes`: the receive ring, rounded up to whole blocks: what the kernel can hold while the
        analysis is busy (at 1 Gbit/s, 64 MiB is half a second)."""
        self.interface = interface
        blocks = max(1, -(-ring_bytes // BLOCK_SIZE))
        hatype = _hardware_type(interface)
        # Ethernet and loopback frames keep their link header; anything else (tun, wireguard) is read as
        # bare IP packets.
        ethernet = hatype in (ARPHRD_ETHER, ARPHRD_LOOPBACK)
        self.linktype = LINKTYPE_ETHERNET if ethernet else LINKTYPE_RAW
        self.skip_outgoing = hatype == ARPHRD_LOOPBACK
        self.packets = self.drops = self.freezes = 0
        # Protocol 0: nothing is received until bind(), so the filter and ring are in place for the first
        # packet.
        kind = socket.SOCK_RAW if ethernet else socket.SOCK_DGRAM
        try:
            self.sock = socket.socket(socket.AF_PACKET, kind, 0)
        except PermissionError:
            raise InputError(
                f"{visible(interface)}: capturing needs CAP_NET_RAW (run as root or grant it)"
            ) from None
        try:
            if bpf is not None:
                self._attach_filter(compile_filter(bpf, self.linktype))
            self.sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
            request = struct.pack(
                "7I", BLOCK_SIZE, blocks, FRAME_SIZE, BLOCK_SIZE // FRAME_SIZE * blocks, RETIRE_MS, 0, 0
            )
            self.sock.setsockopt(SOL_PACKET, PACKET_RX_RING, request)
            self.ring = mmap.mmap(self.sock.fileno(), BLOCK_SIZE * blocks, mmap.MAP_SHARED)
            self.blocks = [
                memoryview(self.ring)[i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE] for i in range(blocks)
            ]
            self.next = 0
            if promiscuous:
                index = socket.if_nametoindex(interface)
                mreq = struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b"")
                self.sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            self.sock.bind((interface, ETH_P_ALL))
        except OSError as exc:
            self.close()
            raise InputError(f"{visible(interface)}: cannot capture: {exc.strerror or exc}") from None

    def _attach_filter(self, program: bytes) -> None:
        # struct sock_fprog {unsigned short len; struct sock_filter *filter;}: the kernel copies the program
        # during the call, so the buffer only has to live until it returns.
        buffer = ctypes.create_string_buffer(program, len(program))
        fprog = struct.pack("HP", len(program) // 8, ctypes.addressof(buffer))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self, engine: Engine) -> int:
        """Hand every block the kernel has finished to `engine`, in ring order; the number of packets."""
        total = 0
        while (
            count := engine.feed_tpacket_block(self.blocks[self.next], self.linktype, self.skip_outgoing)
        ) >= 0:
            total += count
            self.next = (self.next + 1) % len(self.blocks)
        return total

    def update_statistics(self) -> None:
        """Add the kernel's counters since the last call (reading them resets them): packets received
        (dropped ones included), dropped for want of ring space, and times the ring was full (the queue
        frozen)."""
        packets, drops, freezes = struct.unpack("3I", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
        self.packets += packets
        self.drops += drops
        self.freezes += freezes

    def kernel_counters(self) -> dict[str, int | str]:
        """The kernel's counters since the socket was opened, for the `stats` event's `kernel` list."""
        self.update_statistics()
        return {
            "interface": self.interface,
            "method": METHOD,
            "packets": self.packets,
            "drops": self.drops,
            "freeze_queue": self.freezes,
        }

    def stats(self) -> CaptureStats:
        """What the summary and the `stats` event report for this interface, next to capture files."""
        self.update_statistics()
        stats = CaptureStats(f"live:{self.interface}", METHOD)
        if self.drops:
            stats.warnings.append(f"kernel dropped {self.drops} of {self.packets} packets (ring full)")
        return stats

    def close(self) -> None:
        blocks = getattr(self, "blocks", [])
        for view in blocks:
            view.release()
        if hasattr(self, "ring"):
            self.ring.close()
        self.sock.close()


def _hardware_type(interface: str) -> int:
    """The interface's ARPHRD_* type (SIOCGIFHWADDR: asked of the calling process's network namespace,
    which /sys may not show), or an InputError naming an interface that does not exist."""
    name = interface.encode(errors="surrogateescape")
    if not name or len(name) >= IFNAMSIZ or b"\0" in name:
        raise InputError(f"{visible(interface)}: not an interface name")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            reply = fcntl.ioctl(probe, SIOCGIFHWADDR, struct.pack("16s16x", name))
        except OSError:
            raise InputError(f"{visible(interface)}: no such network interface") from None
    return struct.unpack_from("H", reply, 16)[0]


class Source(Protocol):
    """What the capture loop reads: LiveSource here, PcapSource (capture/pcap_live.py) where AF_PACKET is
    missing."""

    def fileno(self) -> int: ...

    def read(self, engine: Engine) -> int: ...


def capture(sources: Sequence[Source], engine: Engine, stop: Callable[[], bool]) -> None:
    """Read every source until `stop()` is true (asked between reads, at least every POLL_MS: the caller's
    periodic work, such as stats events and reloads, is done there), then read what the kernel already
    holds: every finished block, and the last, partly filled one (handed over within RETIRE_MS). The drain
    ends at the first poll that waits 2 * RETIRE_MS for nothing, or after DRAIN_ROUNDS rounds (a link that
    never goes quiet)."""
    poller = select.poll()
    for source in sources:
        poller.register(source, select.POLLIN | select.POLLERR)
    while not stop():
        if not _read_all(sources, engine):
            poller.poll(POLL_MS)
    for _ in range(DRAIN_ROUNDS):
        if not _read_all(sources, engine) and not poller.poll(2 * RETIRE_MS):
            break


def _read_all(sources: Sequence[Source], engine: Engine) -> int:
    return sum(source.read(engine) for source in sources)
