"""scan-disk streams: its peak memory does not grow with the entries of a directory or the findings."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from minerwatch.cli.main import main

from .conftest import bladebit_header

SMALL, LARGE = 2_000, 20_000


def _tree(root: Path, entries: int, content: bytes) -> Path:
    """`entries` files in one directory; a plot header as `content` makes every one a finding."""
    root.mkdir()
    for i in range(entries):
        fd = os.open(root / f"f{i:05d}.plot", os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            os.write(fd, content)
        finally:
            os.close(fd)
    return root


def _peak(root: Path, out: Path) -> int:
    """Peak bytes allocated by Python during one whole `scan-disk` run (walk, events, console digest)."""
    tracemalloc.start()
    try:
        code = main(["scan-disk", str(root), "-o", str(out), "--host", "h", "--no-progress"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code in (0, 1)
    return peak


@pytest.mark.parametrize("content", [b"", bladebit_header()], ids=["empty files", "every file a plot"])
def test_peak_memory_does_not_grow_with_entries(tmp_path: Path, content: bytes, capsys) -> None:
    small = _tree(tmp_path / "small", SMALL, content)
    large = _tree(tmp_path / "large", LARGE, content)
    _peak(small, tmp_path / "warm.jsonl")  # imports and first-use caches are not the scan's cost
    peak_small = _peak(small, tmp_path / "small.jsonl")
    peak_large = _peak(large, tmp_path / "large.jsonl")
    capsys.readouterr()
    if content:
        assert sum(1 for _ in (tmp_path / "large.jsonl").open("rb")) == LARGE
    # Ten times the entries; holding even 100 bytes per entry would add 1.8 MB.
    assert peak_large < peak_small * 1.2 + 256 * 1024, (peak_small, peak_large)
