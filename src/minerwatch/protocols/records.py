"""Length-prefixed record framing shared by the binary login protocols (MySQL, TDS, PostgreSQL, TPKT).

Goal: cut a TCP byte stream into whole records whatever the segmentation. Worst case: each byte is copied
into the buffer once and out once, so hostile input costs O(n); a record longer than `max_record` is
skipped without being buffered (counted in `oversize`), so memory stays below `max_record` plus one chunk.
A header the protocol calls impossible, or lost bytes (`gap`), end the framer for good (`broken`): after
that the stream cannot be re-synchronised and later bytes are ignored.
"""

from __future__ import annotations

from collections.abc import Callable

# header bytes -> whole record length (header included), or None when the header is impossible.
RecordLength = Callable[[bytes], int | None]


class RecordFramer:
    def __init__(self, header_size: int, record_length: RecordLength, max_record: int = 64 * 1024) -> None:
        self.header_size = header_size
        self.record_length = record_length
        self.max_record = max_record
        self.oversize = 0
        self.broken = False
        self._buffer = bytearray()
        self._skip = 0  # bytes of an oversize record still to drop

    def feed(self, data: bytes) -> list[bytes]:
        """The records completed by `data`, in order."""
        if self.broken:
            return []
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            data = data[dropped:]
        buffer = self._buffer
        buffer += data
        records: list[bytes] = []
        pos = 0
        while len(buffer) - pos >= self.header_size:
            total = self.record_length(bytes(buffer[pos : pos + self.header_size]))
            if total is None or total < self.header_size:
                self.broken = True
                buffer.clear()
                return records
            available = len(buffer) - pos
            if total > self.max_record:
                self.oversize += 1
                if available < total:
                    self._skip = total - available
                    pos = len(buffer)
                    break
            elif available < total:
                break
            else:
                records.append(bytes(buffer[pos : pos + total]))
            pos += total
        del buffer[:pos]
        return records

    def gap(self) -> None:
        self.broken = True
        self._buffer.clear()
