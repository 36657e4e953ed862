"""Carving one file out of a transfer: incremental hashes and a bounded copy of the bytes.

Memory is bounded three ways: a file keeps at most `FileLimits.max_file` bytes, the files of one flow at
most `max_flow` bytes together, and all flows at most `max_total`. A `Budget` hands out room from its own
limit and its parent's. A file that hits any cap stops there: its hashes, type, YARA scan and stored copy
all describe the same bytes (what was kept), and it is flagged partial, so they never disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileLimits:
    max_file: int = 16 * 1024 * 1024  # bytes kept (and hashed, scanned, stored) per file
    max_flow: int = 32 * 1024 * 1024  # bytes held at once for one flow (files, a mail being received)
    max_total: int = 256 * 1024 * 1024  # bytes held at once for all flows together


class Budget:
    """Room for bytes in memory, taken and given back; a child also takes from its parent."""

    def __init__(self, limit: int, parent: Budget | None = None) -> None:
        self.limit = limit
        self.used = 0
        self.parent = parent

    def room(self) -> int:
        own = self.limit - self.used
        return own if self.parent is None else min(own, self.parent.room())

    def take(self, n: int) -> int:
        """Take up to `n` bytes of room; returns how many were granted."""
        granted = max(0, min(n, self.room()))
        budget: Budget | None = self
        while budget is not None:
            budget.used += granted
            budget = budget.parent
        return granted

    def give_back(self, n: int) -> None:
        budget: Budget | None = self
        while budget is not None:
            budget.used -= n
            budget = budget.parent


@dataclass
class CarvedFile:
    """What was carved: the kept bytes, their hashes, and why they may be incomplete."""

    data: bytes
    md5: str
    sha1: str
    sha256: str
    partial_reason: str | None  # None when the whole file was seen

    @property
    def partial(self) -> bool:
        return self.partial_reason is not None


@dataclass
class Carve:
    """One file being carved. `write` chunks as they arrive; `close` once. Memory stays within budget."""

    budget: Budget
    max_file: int
    _chunks: list[bytes] = field(default_factory=list)
    _size: int = 0
    _partial: str | None = None
    _hashes: tuple = field(default_factory=lambda: (hashlib.md5(), hashlib.sha1(), hashlib.sha256()))

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: bytes) -> None:
        if self._partial is not None or not data:
            return
        want = min(len(data), self.max_file - self._size)
        granted = self.budget.take(want)
        if granted < len(data):
            self._partial = "file-cap" if granted == want else "memory-cap"
            data = data[:granted]
        if data:
            for h in self._hashes:
                h.update(data)
            self._chunks.append(data)
            self._size += len(data)

    def mark_partial(self, reason: str) -> None:
        """The transfer lost bytes (a gap, a closed connection, a cut body): keep the first reason."""
        if self._partial is None:
            self._partial = reason

    def close(self) -> CarvedFile:
        data = b"".join(self._chunks)
        self._chunks.clear()
        md5, sha1, sha256 = (h.hexdigest() for h in self._hashes)
        return CarvedFile(data, md5, sha1, sha256, self._partial)

    def release(self) -> None:
        """Give the kept bytes' room back (after the file has been reported)."""
        self.budget.give_back(self._size)
        self._size = 0
