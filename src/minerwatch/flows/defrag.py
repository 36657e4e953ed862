"""IP fragment reassembly (RFC 791 for IPv4, RFC 8200 for IPv6), for the rare fragmented packet.

Goal: a datagram split into fragments is analysed like any other packet. Bounds: at most `max_datagrams`
reassemblies in progress (the oldest is dropped, counted), 65,535 bytes per datagram, and fragments of a
datagram older than `timeout` seconds of capture time are dropped (counted). Overlapping data: the first
copy wins, as most stacks do; overlaps are counted since they are a classic evasion.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_DATAGRAM = 65535


@dataclass
class DefragStats:
    completed: int = 0
    expired: int = 0
    dropped_full: int = 0
    overlaps: int = 0
    invalid: int = 0


@dataclass
class _Partial:
    first_ts: float
    header: bytes = b""  # the first fragment's header, flags and offset to be cleared
    next_header: int = -1  # IPv6: protocol of the fragmentable part
    total: int | None = None  # payload length once the last fragment is seen
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> data


class Defragmenter:
    def __init__(self, max_datagrams: int = 4096, timeout: float = 30.0) -> None:
        self.max_datagrams = max_datagrams
        self.timeout = timeout
        self.stats = DefragStats()
        self._partials: OrderedDict[tuple, _Partial] = OrderedDict()

    def add(self, ts: float, packet: bytes) -> bytes | None:
        """A fragment (whole IP packet); returns the reassembled packet once complete."""
        self._expire(ts)
        parsed = self._parse_v4(packet) if packet[0] >> 4 == 4 else self._parse_v6(packet)
        if parsed is None:
            self.stats.invalid += 1
            return None
        key, header, next_header, offset, more, data = parsed
        partial = self._partials.get(key)
        if partial is None:
            if len(self._partials) >= self.max_datagrams:
                self._partials.popitem(last=False)
                self.stats.dropped_full += 1
            partial = self._partials[key] = _Partial(ts)
        if offset == 0:
            partial.header, partial.next_header = header, next_header
        if not more:
            partial.total = offset + len(data)
        if offset + len(data) > MAX_DATAGRAM:
            self.stats.invalid += 1
            del self._partials[key]
            return None
        if any(o < offset + len(data) and offset < o + len(d) for o, d in partial.pieces.items()):
            self.stats.overlaps += 1
        partial.pieces.setdefault(offset, data)
        return self._complete(key, partial)

    def _complete(self, key: tuple, partial: _Partial) -> bytes | None:
        if partial.total is None or not partial.header:
            return None
        payload = bytearray(partial.total)
        filled = 0
        for offset in sorted(partial.pieces, reverse=True):  # lower offsets written last: first copy wins
            data = partial.pieces[offset][: max(0, partial.total - offset)]
            payload[offset : offset + len(data)] = data
        covered = sorted((o, o + len(d)) for o, d in partial.pieces.items())
        for start, end in covered:
            if start > filled:
                return None  # a hole remains
            filled = max(filled, end)
        if filled < partial.total:
            return None
        del self._partials[key]
        self.stats.completed += 1
        return self._rebuild(partial, bytes(payload))

    @staticmethod
    def _rebuild(partial: _Partial, payload: bytes) -> bytes:
        header = bytearray(partial.header)
        if header[0] >> 4 == 4:
            struct.pack_into(">H", header, 2, len(header) + len(payload))
            struct.pack_into(">H", header, 6, 0)  # no more fragments, offset 0
            return bytes(header) + payload
        header[6] = partial.next_header
        struct.pack_into(">H", header, 4, len(payload))
        return bytes(header) + payload

    def _expire(self, ts: float) -> None:
        while self._partials:
            key, oldest = next(iter(self._partials.items()))
            if ts - oldest.first_ts <= self.timeout:
                return
            del self._partials[key]
            self.stats.expired += 1

    @staticmethod
    def _parse_v4(packet: bytes):
        if len(packet) < 20:
            return None
        ihl = (packet[0] & 0x0F) * 4
        ident, flags_offset = struct.unpack_from(">HH", packet, 4)
        if ihl < 20 or len(packet) < ihl:
            return None
        key = (4, packet[12:20], packet[9], ident)
        return (
            key,
            packet[:ihl],
            packet[9],
            (flags_offset & 0x1FFF) * 8,
            bool(flags_offset & 0x2000),
            packet[ihl:],
        )

    @staticmethod
    def _parse_v6(packet: bytes):
        """Only a fragment header right after the fixed header is handled (the common case)."""
        if len(packet) < 48 or packet[6] != 44:
            return None
        next_header, _, offset_flags, ident = struct.unpack_from(">BBHI", packet, 40)
        key = (6, packet[8:40], ident)
        return key, packet[:40], next_header, offset_flags & 0xFFF8, bool(offset_flags & 1), packet[48:]
