"""Turns walked files into findings: plots (by header), plotting in progress, farming config, binaries.

Reads at most `HEADER_READ` bytes of a file, and only of files big enough to be a plot or named like
one, so a disk of ordinary files costs one ``lstat`` per file.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from minerwatch.hostscan import artifacts
from minerwatch.hostscan.chiaconfig import ConfigUnreadable, farming_facts
from minerwatch.hostscan.plotheader import (
    HEADER_READ,
    NotAPlot,
    PlotHeader,
    TruncatedHeader,
    looks_like_plot,
    parse_header,
)
from minerwatch.hostscan.plotsize import completeness, expected_size
from minerwatch.hostscan.walker import FileEntry, WalkStats

DEFAULT_MIN_SIZE = 256 * 1024
"""Files smaller than this are not opened unless named like a plot. The smallest plot Chia accepts
(k=25) is ~600 MiB; 256 KiB still catches test-size plots, copies cut short and renamed small plots."""

_PLOT_SUFFIXES = (".plot", ".plot2")

MAX_GROWTH_TRACKED = 10_000
"""Temp files held for the --growth re-measure; beyond it they are reported at once, without growth."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of host-side evidence; becomes one ``diskmining`` event."""

    kind: str  # plot | plot_in_progress | farming_config | chia_keyring | plotter_binary
    path: str
    size: int
    mtime: float
    details: dict[str, Any]
    confidence: float


@dataclass(slots=True)
class ScanStats(WalkStats):
    headers_read: int = 0
    skipped_small: int = 0
    lookalikes: int = 0
    growth_not_measured: int = 0


@dataclass(slots=True)
class ScanOptions:
    min_size: int = DEFAULT_MIN_SIZE
    follow_symlinks: bool = False
    growth_interval: float = 0.0
    progress: Callable[[ScanStats], None] | None = None
    progress_every: int = 4096


def read_head(path: str, stats: ScanStats, follow_symlinks: bool = False) -> bytes | None:
    """First `HEADER_READ` bytes of a regular file; unless following symlinks, a symlink swapped in since
    the walk is not followed, and whatever is opened must still be a regular file (never a FIFO)."""
    flags = os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        stats.error(exc, path)
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        stats.headers_read += 1
        return os.read(fd, HEADER_READ)
    except OSError as exc:
        stats.error(exc, path)
        return None
    finally:
        os.close(fd)


def plot_details(header: PlotHeader, size: int) -> dict[str, Any]:
    """Event fields for a parsed header; None-valued fields are dropped to keep events small."""
    complete, reason = completeness(header, size)
    expected = expected_size(header)
    details: dict[str, Any] = {
        "format": header.format,
        "k": header.k,
        "plot_id": header.plot_id,
        "memo_type": header.memo_type,
        "pool_key": header.pool_key,
        "farmer_public_key": header.farmer_public_key,
        "compression_level": header.compression_level,
        "layout": header.layout,
        "strength": header.strength,
        "plot_index": header.plot_index,
        "group_size": header.group_size,
        "meta_group": header.meta_group,
        "expected_size": expected,
        "size_ratio": round(size / expected, 4) if expected else None,
        "complete": complete,
        "reason": reason,
    }
    return {k: v for k, v in details.items() if v is not None}


class Scanner:
    """Classifies each file once and hands each finding on as soon as it is made, so nothing grows with the
    tree; only temp files waiting to be re-measured for growth are held (at most `MAX_GROWTH_TRACKED`)."""

    def __init__(self, options: ScanOptions, stats: ScanStats) -> None:
        self.options = options
        self.stats = stats
        self._temps: list[tuple[FileEntry, dict[str, Any]]] = []

    def scan(self, files: Iterable[FileEntry]) -> Iterator[Finding]:
        every = self.options.progress_every
        for n, entry in enumerate(files, 1):
            finding = self._classify(entry)
            if finding is not None:
                yield finding
            if self.options.progress and n % every == 0:
                self.options.progress(self.stats)
        yield from self._measure_growth()

    def _classify(self, entry: FileEntry) -> Finding | None:
        name = os.path.basename(entry.path)
        if name in (artifacts.CONFIG_NAME, artifacts.KEYRING_NAME):
            parts = PurePath(entry.path).parts
            if artifacts.is_chia_config(parts):
                return self._config(entry)
            if artifacts.is_chia_keyring(parts):
                return Finding("chia_keyring", entry.path, entry.size, entry.mtime, {}, 0.6)
        if name in artifacts.BINARIES and entry.mode & 0o111:
            tool = {"tool": artifacts.BINARIES[name]}
            return Finding("plotter_binary", entry.path, entry.size, entry.mtime, tool, 0.5)
        if artifacts.temp_plot_kind(name):
            return self._temp(entry)
        if entry.size < self.options.min_size and not name.endswith(_PLOT_SUFFIXES):
            self.stats.skipped_small += 1
            return None
        details = self._header_details(entry)
        if details is None:
            return None
        confidence = 0.95 if details.get("complete") else 0.7
        return Finding("plot", entry.path, entry.size, entry.mtime, details, confidence)

    def _temp(self, entry: FileEntry) -> Finding | None:
        """A temp file's finding now, or None when it is held to be re-measured after the walk."""
        header_details = self._header_details(entry) or {}
        if self.options.growth_interval > 0:
            if len(self._temps) < MAX_GROWTH_TRACKED:
                self._temps.append((entry, header_details))
                return None
            self.stats.growth_not_measured += 1
        return _temp_finding(entry, header_details)

    def _header_details(self, entry: FileEntry) -> dict[str, Any] | None:
        head = read_head(entry.path, self.stats, self.options.follow_symlinks)
        if not head or not looks_like_plot(head):
            return None
        try:
            header = parse_header(head)
        except TruncatedHeader as exc:
            return {"format": exc.format, "k": exc.k, "complete": False, "reason": f"truncated: {exc}"}
        except NotAPlot:
            self.stats.lookalikes += 1
            return None
        return None if header is None else plot_details(header, entry.size)

    def _config(self, entry: FileEntry) -> Finding | None:
        try:
            facts = farming_facts(Path(entry.path))
        except ConfigUnreadable as exc:
            self.stats.other_errors += 1
            if len(self.stats.error_samples) < 5:
                self.stats.error_samples.append(f"{entry.path}: {exc}")
            return None
        return Finding("farming_config", entry.path, entry.size, entry.mtime, facts, 0.8)

    def _measure_growth(self) -> Iterator[Finding]:
        """The held temp files, re-stat once after the growth interval to show plotting is live."""
        if not self._temps:
            return
        interval = self.options.growth_interval
        time.sleep(interval)
        for entry, header_details in self._temps:
            growth: dict[str, Any]
            try:
                grown = os.lstat(entry.path).st_size - entry.size
                growth = {"growth_bytes_per_s": round(grown / interval, 1)}
            except OSError:
                growth = {"growth_bytes_per_s": None, "vanished": True}
            yield _temp_finding(entry, {**header_details, **growth})
        self._temps.clear()


def _temp_finding(entry: FileEntry, extra: dict[str, Any]) -> Finding:
    details = {"plotter": artifacts.plotter_for_temp(os.path.basename(entry.path)), **extra}
    return Finding("plot_in_progress", entry.path, entry.size, entry.mtime, details, 0.8)
