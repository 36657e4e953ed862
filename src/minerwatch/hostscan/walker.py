"""Walks directory trees safely: no symlink loops, one filesystem unless asked, errors counted not raised.

Uses ``os.scandir`` with an explicit stack (no recursion limit, one open directory at a time: subdirectories
wait on the stack as paths) and the ``d_type`` the kernel returns, so an ordinary file costs one ``lstat`` and
nothing else. Entries are consumed as the kernel lists them, so memory does not grow with the size of a
directory, only with the directories seen (the loop guard) and pending. Only regular files are yielded:
FIFOs, sockets and devices are never opened (opening a FIFO would block forever).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class WalkStats:
    """Counts reported at the end of a scan; every skipped thing is counted somewhere."""

    directories: int = 0
    files: int = 0
    permission_denied: int = 0
    other_errors: int = 0
    symlinks_skipped: int = 0
    other_filesystems_skipped: int = 0
    loops_avoided: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, exc: OSError, path: str) -> None:
        if isinstance(exc, PermissionError):
            self.permission_denied += 1
        else:
            self.other_errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{path}: {exc.strerror or exc}")


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One regular file, with what its stat already told us."""

    path: str
    size: int
    mtime: float
    mode: int


def walk(
    roots: list[str], stats: WalkStats, *, follow_symlinks: bool = False, cross_filesystems: bool = False
) -> Iterator[FileEntry]:
    """Regular files under `roots` (a root that is a file is yielded itself)."""
    visited: set[tuple[int, int]] = set()
    for root in roots:
        try:
            st = os.stat(root) if follow_symlinks else os.lstat(root)
        except OSError as exc:
            stats.error(exc, root)
            continue
        if stat.S_ISREG(st.st_mode):
            stats.files += 1
            yield FileEntry(root, st.st_size, st.st_mtime, st.st_mode)
        elif stat.S_ISDIR(st.st_mode):
            yield from _walk_tree(root, st, stats, visited, follow_symlinks, cross_filesystems)


def _entries(directory: str, stats: WalkStats) -> Iterator[os.DirEntry[str]]:
    """The directory's entries one at a time, never as a list: a directory of millions costs one entry."""
    try:
        it = os.scandir(directory)
    except OSError as exc:
        stats.error(exc, directory)
        return
    with it:
        while True:
            try:
                entry = next(it)
            except StopIteration:
                return
            except OSError as exc:  # a read error part-way through the listing
                stats.error(exc, directory)
                return
            yield entry


def _walk_tree(
    root: str,
    root_st: os.stat_result,
    stats: WalkStats,
    visited: set[tuple[int, int]],
    follow: bool,
    cross: bool,
) -> Iterator[FileEntry]:
    root_dev = root_st.st_dev
    if (root_dev, root_st.st_ino) in visited:
        stats.loops_avoided += 1
        return
    visited.add((root_dev, root_st.st_ino))
    stack = [root]
    while stack:
        directory = stack.pop()
        stats.directories += 1
        for entry in _entries(directory, stats):
            try:
                if entry.is_symlink() and not follow:
                    stats.symlinks_skipped += 1
                elif entry.is_dir(follow_symlinks=follow):
                    st = entry.stat(follow_symlinks=follow)
                    key = (st.st_dev, st.st_ino)
                    if st.st_dev != root_dev and not cross:
                        stats.other_filesystems_skipped += 1
                    elif key in visited:
                        stats.loops_avoided += 1
                    else:
                        visited.add(key)
                        stack.append(entry.path)
                elif entry.is_file(follow_symlinks=follow):
                    st = entry.stat(follow_symlinks=follow)
                    stats.files += 1
                    yield FileEntry(entry.path, st.st_size, st.st_mtime, st.st_mode)
            except OSError as exc:
                stats.error(exc, entry.path)
