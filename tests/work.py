"""Machine-independent measures of what a call costs, for scaling checks (no timed tests): Python lines
executed and the tracemalloc peak."""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from typing import Any


def lines_executed(fn: Callable[[], Any]) -> int:
    """Python line events (loop iterations included) while fn() runs: work, counted the same anywhere."""
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak of memory allocated by Python while fn() runs, above what was allocated before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def retained_bytes(fn: Callable[[], Any]) -> int:
    """Memory allocated by Python during fn() and still held, while what fn() returned is alive: the state
    a run keeps (peak_bytes also counts buffers a run frees)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = fn()
        held = tracemalloc.get_traced_memory()[0] - base
        del kept
        return held
    finally:
        tracemalloc.stop()
