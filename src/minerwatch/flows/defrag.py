"""IP fragment reassembly (RFC 791 for IPv4, RFC 8200 for IPv6), for the rare fragmented packet.

Goal: a datagram split into fragments is analysed like any other packet. Overlapping data: the first copy
wins, as most stacks do; overlaps are counted since they are a classic evasion.

Worst case, on hostile input: each datagram in progress keeps one payload buffer (at most 65,535 bytes,
however many fragments overlap) and its coalesced coverage, so a fragment costs O(log r + its length)
with r covered ranges, and a datagram is complete when one range covers it (no re-scan). Bounds: at most
`max_datagrams` reassemblies in progress, all of them together at most `memcap` bytes (buffers plus
`RANGE_COST` per range and `DATAGRAM_COST` each; the oldest datagrams are dropped first, counted), and
fragments of a datagram older than `timeout` seconds of capture time are dropped (counted). A datagram
whose reassembled size would pass the IP limit, and a fragment inside a fragment (IPv6 allows one
fragment header; RFC 6946 atomic fragments are taken alone), are invalid (counted).
"""

from __future__ import annotations

import struct
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_DATAGRAM = 65535  # IPv4 total length; IPv6 payload length
FRAGMENT = 44  # IPv6 fragment header
DATAGRAM_COST = 512  # bytes of Python objects per datagram in progress (its key, header, lists)
RANGE_COST = 64  # per covered range (two list slots and two ints)
DEFAULT_MEMCAP = 32 << 20  # Suricata's defrag.memcap


@dataclass
class DefragStats:
    completed: int = 0
    expired: int = 0
    dropped_full: int = 0
    dropped_memcap: int = 0
    overlaps: int = 0
    invalid: int = 0


@dataclass
class _Partial:
    first_ts: float
    header: bytes = b""  # the first fragment's header, flags and offset to be cleared
    next_header: int = -1  # IPv6: protocol of the fragmentable part
    total: int | None = None  # payload length once the last fragment is seen
    payload: bytearray = field(default_factory=bytearray)  # grown to the highest end seen
    starts: list[int] = field(default_factory=list)  # coverage: disjoint, non-adjacent ranges
    ends: list[int] = field(default_factory=list)
    cost: int = DATAGRAM_COST

    def add(self, offset: int, data: bytes) -> tuple[bool, int]:
        """Write the bytes of `data` no earlier fragment covered; (whether it overlapped any, cost added)."""
        end = offset + len(data)
        grown = max(0, end - len(self.payload))
        self.payload.extend(bytes(grown))
        starts, ends = self.starts, self.ends
        i, j = bisect_left(ends, offset), bisect_right(starts, end)
        cursor, overlap = offset, False
        for k in range(i, j):
            if starts[k] > cursor:
                self.payload[cursor : starts[k]] = data[cursor - offset : starts[k] - offset]
            overlap = overlap or (starts[k] < end and ends[k] > offset)
            cursor = max(cursor, ends[k])
        if cursor < end:
            self.payload[cursor:end] = data[cursor - offset :]
        if i < j:
            offset, end = min(offset, starts[i]), max(end, ends[j - 1])
        starts[i:j], ends[i:j] = [offset], [end]
        added = grown + (1 - (j - i)) * RANGE_COST
        self.cost += added
        return overlap, added

    def complete(self) -> bool:
        return (
            self.total is not None
            and bool(self.header)
            and self.starts[0] == 0
            and self.ends[0] >= self.total
        )


class Defragmenter:
    def __init__(
        self, max_datagrams: int = 4096, timeout: float = 30.0, memcap: int = DEFAULT_MEMCAP
    ) -> None:
        self.max_datagrams = max_datagrams
        self.timeout = timeout
        self.memcap = memcap
        self.used = 0  # bytes charged for the datagrams in progress
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
        end = offset + len(data)
        if offset == 0 and not more:  # an atomic fragment: a whole datagram (RFC 6946)
            return self._done(header, next_header, data)
        partial = self._partials.get(key)
        if partial is None:
            if len(self._partials) >= self.max_datagrams:
                self._drop_oldest()
                self.stats.dropped_full += 1
            partial = self._partials[key] = _Partial(ts)
            self.used += partial.cost
        if offset == 0:
            partial.header, partial.next_header = header, next_header
        if not more:
            partial.total = end
        overlap, added = partial.add(offset, data)
        self.stats.overlaps += overlap
        self.used += added
        while self.used > self.memcap and key in self._partials:
            self._drop_oldest()
            self.stats.dropped_memcap += 1
        if key not in self._partials or not partial.complete():
            return None
        self._drop(key)
        assert partial.total is not None
        return self._done(partial.header, partial.next_header, bytes(partial.payload[: partial.total]))

    def _done(self, header: bytes, next_header: int, payload: bytes) -> bytes | None:
        """The reassembled packet, or None (counted) if it would be no valid IP packet."""
        if len(header) + len(payload) > MAX_DATAGRAM + (40 if header[0] >> 4 == 6 else 0):
            self.stats.invalid += 1
            return None
        self.stats.completed += 1
        rebuilt = bytearray(header)
        if rebuilt[0] >> 4 == 4:
            struct.pack_into(">H", rebuilt, 2, len(header) + len(payload))
            struct.pack_into(">H", rebuilt, 6, 0)  # no more fragments, offset 0
        else:
            rebuilt[6] = next_header
            struct.pack_into(">H", rebuilt, 4, len(payload))
        return bytes(rebuilt) + payload

    def _drop(self, key: tuple) -> None:
        self.used -= self._partials.pop(key).cost

    def _drop_oldest(self) -> None:
        self._drop(next(iter(self._partials)))

    def _expire(self, ts: float) -> None:
        while self._partials:
            oldest = next(iter(self._partials.values()))
            if ts - oldest.first_ts <= self.timeout:
                return
            self._drop_oldest()
            self.stats.expired += 1

    @staticmethod
    def _parse_v4(packet: bytes):
        if len(packet) < 20:
            return None
        ihl = (packet[0] & 0x0F) * 4
        ident, flags_offset = struct.unpack_from(">HH", packet, 4)
        if ihl < 20 or len(packet) < ihl:
            return None
        offset = (flags_offset & 0x1FFF) * 8
        if offset + len(packet) > MAX_DATAGRAM:  # the payload would end past the largest datagram
            return None
        key = (4, packet[12:20], packet[9], ident)
        return key, packet[:ihl], packet[9], offset, bool(flags_offset & 0x2000), packet[ihl:]

    @staticmethod
    def _parse_v6(packet: bytes):
        """Only a fragment header right after the fixed header is handled (the common case)."""
        if len(packet) < 48 or packet[6] != FRAGMENT:
            return None
        next_header, _, offset_flags, ident = struct.unpack_from(">BBHI", packet, 40)
        offset, data = offset_flags & 0xFFF8, packet[48:]
        if next_header == FRAGMENT or offset + len(data) > MAX_DATAGRAM:
            return None
        key = (6, packet[8:40], ident)
        return key, packet[:40], next_header, offset, bool(offset_flags & 1), data
