"""What a running `minerwatch live` does between reads of the rings: stop signals, SIGHUP reloads,
periodic `stats` events and output flushes.

Signal handlers only set flags; the work is done in the capture loop (LiveControl is the loop's `stop`
callable, asked at least every POLL_MS), so a reload never runs in the middle of a packet.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable

from minerwatch.errors import MinerwatchError

FLUSH_SECONDS = 1.0  # events reach the output files at most this long after they are made


class LiveControl:
    """SIGTERM and SIGINT ask the capture to stop (it then flushes everything); a second one during the
    final flush interrupts it (KeyboardInterrupt: exit 130). SIGHUP asks for `reload` at the next turn of
    the loop; a reload that fails is reported on one line and the capture goes on with what it had."""

    def __init__(
        self,
        reload: Callable[[], None],
        report: Callable[[], object],
        flush: Callable[[], None],
        stats_interval: float | None,
        clock: Callable[[], float] = time.monotonic,
        label: str = "minerwatch",
    ) -> None:
        self.reload, self.report, self.flush = reload, report, flush
        self.stats_interval = stats_interval
        self.label = label  # what its lines on standard error start with (a worker's: its number)
        self.clock = clock
        self.requested = False
        self.reload_requested = False
        self.reloads = 0
        start = clock()
        self._next_stats = start + stats_interval if stats_interval else None
        self._next_flush = start + FLUSH_SECONDS

    def __enter__(self) -> LiveControl:
        self._previous = {
            s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        }
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if signum == signal.SIGHUP:
            self.reload_requested = True
        elif self.requested:
            raise KeyboardInterrupt
        else:
            self.requested = True

    def __call__(self) -> bool:
        """Do what is due; True when the capture should stop."""
        if self.reload_requested:
            self.reload_requested = False
            try:
                self.reload()
                self.reloads += 1
                print(f"{self.label}: intel and rules reloaded", file=sys.stderr, flush=True)
            except MinerwatchError as exc:
                message = f"{self.label}: reload failed, going on with the previous intel and rules: {exc}"
                print(message, file=sys.stderr, flush=True)
        now = self.clock()
        if self._next_stats is not None and self.stats_interval and now >= self._next_stats:
            self.report()
            self._next_stats = now + self.stats_interval
        if now >= self._next_flush:
            self.flush()
            self._next_flush = now + FLUSH_SECONDS
        return self.requested

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
