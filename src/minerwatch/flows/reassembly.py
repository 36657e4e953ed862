"""One direction of a TCP connection: segments in, contiguous in-order bytes out.

Handles out-of-order segments, retransmissions and overlaps (each byte is delivered once: the first copy
received wins), sessions picked up mid-stream (the first segment seen sets the base), and 32-bit sequence
wrap-around (all comparisons are modulo 2**32).

Worst case, on hostile input: out-of-order data is held as disjoint pieces under a coverage list of
coalesced [start, end) ranges, so a segment costs O(log h + its length) with h held ranges, and delivering
held data costs O(pieces). Memory is bounded three ways, each overflow declaring the earliest hole a gap
(counted) so that delivery resumes after it: `max_pending` bytes per direction, `MAX_RANGES` held ranges
per direction (Suricata's max-regions), and a `ReassemblyBudget` shared by all flows (Suricata's
stream.reassembly.memcap). Held bytes are charged with `PIECE_COST` of bookkeeping per piece, so a stream
of 1-byte segments cannot hold a hundred times its budget in Python objects.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

MASK = 0xFFFFFFFF
PIECE_COST = 128  # bytes of Python objects per held piece (dict slot, int key, bytes header), measured
MAX_RANGES = 1024  # held ranges (holes) per direction: bounds the list moves of an insertion
DEFAULT_MEMCAP = 128 << 20


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


@dataclass
class ReassemblyBudget:
    """Bytes of out-of-order data held by all the streams that share it; past `limit`, a stream that
    holds data gives up its holes (`forced_gaps` counts them) instead of holding more."""

    limit: int = DEFAULT_MEMCAP
    used: int = 0
    forced_gaps: int = 0


class StreamReassembler:
    __slots__ = (
        "_ends",
        "_held",
        "_pieces",
        "_pos",
        "_starts",
        "budget",
        "delivered",
        "max_pending",
        "next_seq",
        "stats",
    )

    def __init__(self, max_pending: int = 1 << 20, budget: ReassemblyBudget | None = None) -> None:
        self.max_pending = max_pending
        self.budget = budget if budget is not None else ReassemblyBudget()
        self.next_seq: int | None = None
        # While data is held, positions are unwrapped integers: _pos is next_seq's (reset to 0 whenever
        # nothing is held, so it never grows with the stream).
        self._pos = 0
        self._starts: list[int] = []  # held coverage: disjoint, non-adjacent ranges after _pos
        self._ends: list[int] = []
        self._pieces: dict[int, bytes] = {}  # the held bytes by position; together exactly the coverage
        self._held = 0  # bytes charged for the held pieces
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
        if offset < 0:
            if -offset >= len(data):
                self.stats.retransmitted_bytes += len(data)
                return b"", False
            self.stats.retransmitted_bytes += -offset
            data, offset = data[-offset:], 0
        if not self._starts and not offset:  # in order, nothing held: the usual case
            self.next_seq = (self.next_seq + len(data)) & MASK
            self.delivered += len(data)
            return data, False
        self._insert(self._pos + offset, data)
        if not offset:
            return self._drain(), False
        return self._bound()

    def flush(self) -> tuple[bytes, bool]:
        """End of stream: deliver whatever is held, past any holes (counted as gaps)."""
        parts = []
        while self._starts:
            parts.append(self._skip_gap())
        return b"".join(parts), bool(parts)

    def skip(self, n: int) -> int:
        """Leave the next `n` bytes unread (a body nobody wants); returns the sequence number reading
        resumes at. Held data inside the skipped range is dropped (by `drain`, for a range that the
        skipped one only begins)."""
        assert self.next_seq is not None
        self.next_seq = (self.next_seq + n) & MASK
        self.stats.skipped_bytes += n
        if self._starts:
            self._pos += n
            while self._starts and self._ends[0] <= self._pos:
                self._take_first()
            if not self._starts:
                self._pos = 0
        return self.next_seq

    def drain(self) -> bytes:
        """Held bytes that have become contiguous (after a skip)."""
        return self._drain()

    def discard(self) -> None:
        """Drop what is held (the flow is no longer read), giving its bytes back to the budget."""
        while self._starts:
            self._take_first()
        self._pos = 0

    def _insert(self, start: int, data: bytes) -> None:
        """Hold the bytes of `data` (at `start`) that no held range covers yet; merge the ranges it
        overlaps or touches into one. Cost: O(log h) plus the ranges merged, each at least one byte of
        `data` (or adjacent to it), so O(len(data))."""
        starts, ends = self._starts, self._ends
        end = start + len(data)
        i, j = bisect_left(ends, start), bisect_right(starts, end)
        cursor, kept, new = start, 0, 0
        for k in range(i, j):
            if starts[k] > cursor:
                kept += self._keep(cursor, data[cursor - start : starts[k] - start])
                new += 1
            cursor = max(cursor, ends[k])
        if cursor < end:
            kept += self._keep(cursor, data[cursor - start :])
            new += 1
        self.stats.retransmitted_bytes += len(data) - kept
        self._charge(kept + new * PIECE_COST)
        if i < j:
            start, end = min(start, starts[i]), max(end, ends[j - 1])
        starts[i:j], ends[i:j] = [start], [end]

    def _keep(self, at: int, piece: bytes) -> int:
        self._pieces[at] = piece
        return len(piece)

    def _charge(self, n: int) -> None:
        self._held += n
        self.budget.used += n

    def _bound(self) -> tuple[bytes, bool]:
        """Give up holes, earliest first, while this stream holds more than it may."""
        parts = []
        while self._starts and (
            self._held > self.max_pending
            or len(self._starts) > MAX_RANGES
            or self.budget.used > self.budget.limit
        ):
            if self._held <= self.max_pending and len(self._starts) <= MAX_RANGES:
                self.budget.forced_gaps += 1
            parts.append(self._skip_gap())
        return b"".join(parts), bool(parts)

    def _skip_gap(self) -> bytes:
        """Give up on the hole before the earliest held range and deliver from there."""
        assert self.next_seq is not None
        hole = self._starts[0] - self._pos
        self.stats.gaps += 1
        self.stats.gap_bytes += hole
        self.next_seq = (self.next_seq + hole) & MASK
        self._pos += hole
        return self._drain()

    def _drain(self) -> bytes:
        """Deliver the first held range if it starts at (or before) the next expected byte."""
        if not self._starts or self._starts[0] > self._pos:
            return b""
        parts = self._take_first()
        assert self.next_seq is not None
        out = b"".join(parts)
        self.next_seq = (self.next_seq + len(out)) & MASK
        self.delivered += len(out)
        self._pos = 0 if not self._starts else self._pos + len(out)
        return out

    def _take_first(self) -> list[bytes]:
        """Remove the first held range; return its bytes from the next expected byte on."""
        start, end = self._starts.pop(0), self._ends.pop(0)
        parts, freed = [], 0
        while start < end:
            piece = self._pieces.pop(start)
            freed += len(piece) + PIECE_COST
            if start + len(piece) > self._pos:
                parts.append(piece[max(0, self._pos - start) :])
            start += len(piece)
        self._charge(-freed)
        return parts
