"""Read packets from a live interface through libpcap: the fallback where AF_PACKET is missing (not Linux),
or when asked (`minerwatch live --capture libpcap`).

libpcap delivers one packet per callback; each is appended to a batch in pcap record layout (16-byte record
header, then the frame) and the batch goes to the compiled engine's file walker (Engine.feed_pcap), so the
events are those of a capture file of the same packets. Timestamps are the kernel's (nanoseconds where
libpcap offers them). The handle is non-blocking and polled with the AF_PACKET sources (capture/live.py).
"""

from __future__ import annotations

import ctypes
import struct

from minerwatch.capture.bpf import compiled
from minerwatch.capture.libpcap import (
    PCAP_ERROR_NO_SUCH_DEVICE,
    PCAP_ERROR_PERM_DENIED,
    PCAP_TSTAMP_PRECISION_NANO,
    SNAPLEN,
    Handler,
    PacketHeader,
    Stat,
    error,
    libpcap,
)
from minerwatch.capture.live import RING_BYTES
from minerwatch.capture.reader import CaptureStats
from minerwatch.decode import Engine
from minerwatch.errors import InputError
from minerwatch.output.terminal import visible

METHOD = "libpcap"
TIMEOUT_MS = 50  # packets are handed over at the latest this long after they arrive
RECORD = struct.Struct("<IIII")


class PcapSource:
    """One interface opened with pcap_create/pcap_activate."""

    def __init__(
        self, interface: str, bpf: str | None = None, promiscuous: bool = True, ring_bytes: int = RING_BYTES
    ) -> None:
        self.interface = interface
        lib = self.lib = libpcap()
        errbuf = ctypes.create_string_buffer(256)
        self.handle = lib.pcap_create(interface.encode(errors="surrogateescape"), errbuf)
        if not self.handle:
            raise InputError(
                f"{visible(interface)}: cannot capture: {visible(errbuf.value.decode(errors='replace'))}"
            )
        try:
            self._activate(promiscuous, ring_bytes)
            if bpf is not None:
                with compiled(self.handle, bpf) as program:
                    if lib.pcap_setfilter(self.handle, ctypes.byref(program)) != 0:
                        raise InputError(f"{visible(interface)}: cannot set the filter: {error(self.handle)}")
            if lib.pcap_setnonblock(self.handle, 1, errbuf) != 0:
                raise InputError(f"{visible(interface)}: {visible(errbuf.value.decode(errors='replace'))}")
        except BaseException:
            self.close()
            raise
        self.linktype = lib.pcap_datalink(self.handle)
        self.nanosecond = lib.pcap_get_tstamp_precision(self.handle) == PCAP_TSTAMP_PRECISION_NANO
        self._fd = lib.pcap_get_selectable_fd(self.handle)
        self._batch = bytearray()
        self._handler = Handler(self._packet)  # kept: libpcap calls it for as long as the handle lives

    def _activate(self, promiscuous: bool, ring_bytes: int) -> None:
        lib, handle = self.lib, self.handle
        lib.pcap_set_snaplen(handle, SNAPLEN)
        lib.pcap_set_promisc(handle, int(promiscuous))
        lib.pcap_set_timeout(handle, TIMEOUT_MS)
        lib.pcap_set_buffer_size(handle, min(ring_bytes, (1 << 31) - 1))
        lib.pcap_set_tstamp_precision(handle, PCAP_TSTAMP_PRECISION_NANO)  # refused by some: microseconds
        status = lib.pcap_activate(handle)
        if status == PCAP_ERROR_PERM_DENIED:
            raise InputError(
                f"{visible(self.interface)}: capturing needs CAP_NET_RAW (run as root or grant it)"
            )
        if status == PCAP_ERROR_NO_SUCH_DEVICE:
            raise InputError(f"{visible(self.interface)}: no such network interface")
        if status < 0:
            raise InputError(f"{visible(self.interface)}: cannot capture: {visible(error(handle))}")

    def fileno(self) -> int:
        return self._fd

    def _packet(self, user: object, header: ctypes._Pointer[PacketHeader], data: object) -> None:
        h = header.contents
        self._batch += RECORD.pack(h.sec & 0xFFFFFFFF, h.frac, h.caplen, h.len)
        # libpcap's packet pointer, which the callback's signature types as a plain object
        self._batch += ctypes.string_at(data, h.caplen)  # type: ignore[arg-type]

    def read(self, engine: Engine) -> int:
        """Hand every packet libpcap has ready to `engine`; the number of packets."""
        total = 0
        while (count := self.lib.pcap_dispatch(self.handle, -1, self._handler, None)) > 0:
            total += count
            engine.feed_pcap(self._batch, False, self.nanosecond, self.linktype)
            self._batch.clear()
        if count < 0 and count != -2:  # -2: pcap_breakloop, which minerwatch never calls
            raise InputError(f"{visible(self.interface)}: capture failed: {visible(error(self.handle))}")
        return total

    def kernel_counters(self) -> dict[str, int | str]:
        """libpcap's counters since the handle was opened (on Linux, the kernel's: received, dropped for
        want of buffer space, dropped by the interface)."""
        stat = Stat()
        self.lib.pcap_stats(self.handle, ctypes.byref(stat))
        return {
            "interface": self.interface,
            "method": METHOD,
            "packets": stat.ps_recv,
            "drops": stat.ps_drop,
            "interface_drops": stat.ps_ifdrop,
        }

    def stats(self) -> CaptureStats:
        """What the summary and the final `stats` event report for this interface."""
        counters = self.kernel_counters()
        stats = CaptureStats(f"live:{self.interface}", METHOD)
        if counters["drops"]:
            stats.warnings.append(f"kernel dropped {counters['drops']} of {counters['packets']} packets")
        return stats

    def close(self) -> None:
        if self.handle:
            self.lib.pcap_close(self.handle)
            self.handle = None
