"""One direction of a TCP connection: segments in, contiguous in-order bytes out.

Handles out-of-order segments, retransmissions and overlaps (delivered once, first copy wins), sessions
picked up mid-stream (the first segment seen sets the base), and 32-bit sequence wrap-around (all
comparisons are modulo 2**32). Out-of-order data is bounded by `max_pending` bytes: beyond it the hole is
declared a gap (counted) and delivery resumes after it, so memory never grows with a hostile stream.
"""

from __future__ import annotations

from dataclasses import dataclass

MASK = 0xFFFFFFFF


def seq_diff(a: int, b: int) -> int:
    """a - b as a signed 32-bit distance (negative: a is before b)."""
    d = (a - b) & MASK
    return d - (1 << 32) if d & 0x80000000 else d


@dataclass
class ReassemblyStats:
    retransmitted_bytes: int = 0
    gaps: int = 0
    gap_bytes: int = 0
    skipped_bytes: int = 0


class StreamReassembler:
    def __init__(self, max_pending: int = 1 << 20) -> None:
        self.max_pending = max_pending
        self.next_seq: int | None = None
        self._pending: dict[int, bytes] = {}  # out-of-order segments by sequence number
        self._pending_bytes = 0
        self.stats = ReassemblyStats()
        self.delivered = 0

    def syn(self, seq: int) -> None:
        """A SYN consumes one sequence number: data starts at seq + 1."""
        if self.next_seq is None:
            self.next_seq = (seq + 1) & MASK

    def segment(self, seq: int, data: bytes) -> tuple[bytes, bool]:
        """Add a segment; return (bytes now deliverable in order, whether a gap precedes them)."""
        if not data:
            return b"", False
        if self.next_seq is None:
            self.next_seq = seq  # picked up mid-stream
        offset = seq_diff(seq, self.next_seq)
        if offset > 0:
            self._hold(seq, data)
            if self._pending_bytes <= self.max_pending:
                return b"", False
            return self._skip_gap()
        return self._deliver(offset, data), False

    def flush(self) -> tuple[bytes, bool]:
        """End of stream: deliver whatever is held, past any holes (counted as gaps)."""
        out, gap = b"", False
        while self._pending:
            more, _ = self._skip_gap()
            out += more
            gap = True
        return out, gap

    def _hold(self, seq: int, data: bytes) -> None:
        held = self._pending.get(seq)
        if held is None or len(held) < len(data):
            self._pending_bytes += len(data) - (len(held) if held else 0)
            self._pending[seq] = data

    def skip(self, n: int) -> int:
        """Leave the next `n` bytes unread (a body nobody wants); returns the sequence number reading
        resumes at. Held segments wholly inside the skipped range are dropped."""
        assert self.next_seq is not None
        self.next_seq = (self.next_seq + n) & MASK
        self.stats.skipped_bytes += n
        for seq in [s for s, d in self._pending.items() if seq_diff(s + len(d), self.next_seq) <= 0]:
            self._pending_bytes -= len(self._pending.pop(seq))
        return self.next_seq

    def drain(self) -> bytes:
        """Held bytes that have become contiguous (after a skip)."""
        out = self._drain([])
        self.delivered += len(out)
        return out

    def _deliver(self, offset: int, data: bytes) -> bytes:
        """`data` starts `offset` (<= 0) bytes before next_seq: keep its new part, then drain held ones."""
        if -offset >= len(data):
            self.stats.retransmitted_bytes += len(data)
            return b""
        if offset:
            self.stats.retransmitted_bytes += -offset
            data = data[-offset:]
        assert self.next_seq is not None
        self.next_seq = (self.next_seq + len(data)) & MASK
        out = self._drain([data])
        self.delivered += len(out)
        return out

    def _drain(self, parts: list[bytes]) -> bytes:
        assert self.next_seq is not None
        while self._pending:
            ready = [s for s in self._pending if seq_diff(s, self.next_seq) <= 0]
            if not ready:
                break
            for s in ready:
                held = self._pending.pop(s)
                self._pending_bytes -= len(held)
                skip = -seq_diff(s, self.next_seq)
                if skip >= len(held):
                    self.stats.retransmitted_bytes += len(held)
                    continue
                self.stats.retransmitted_bytes += skip
                parts.append(held[skip:])
                self.next_seq = (self.next_seq + len(held) - skip) & MASK
        return b"".join(parts)

    def _skip_gap(self) -> tuple[bytes, bool]:
        """Give up on the hole before the earliest held segment and deliver from there."""
        assert self.next_seq is not None
        first = min(self._pending, key=lambda s: seq_diff(s, self.next_seq))  # type: ignore[arg-type]
        self.stats.gaps += 1
        self.stats.gap_bytes += seq_diff(first, self.next_seq)
        self.next_seq = first
        data = self._pending.pop(first)
        self._pending_bytes -= len(data)
        return self._deliver(0, data), True
