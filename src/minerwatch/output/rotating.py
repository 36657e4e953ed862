"""JSON lines into a directory, in files rotated by size and by age: a sensor runs for months, and log
shippers and retention jobs want closed files of bounded size.

Naming: `DIR/events-YYYYMMDDTHHMMSSZ-NNNNNN.jsonl`, the UTC wall-clock time the file was opened and a
sequence number (1, 2, ... within a run), so that names sort in the order the events were written. A file is
opened at its first event (no empty files) and exclusively: a restart in the same second takes the next free
sequence number and never overwrites a file. Every file but the newest is complete and closed.

An event is never split: a file is closed before the line that would take it past the size limit (a line
larger than the limit is written alone in a file of its own), and lines are written whole.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import BinaryIO

from minerwatch.errors import OutputError
from minerwatch.events import Event
from minerwatch.output.jsonlines import event_line

PREFIX = "events-"
SUFFIX = ".jsonl"


class RotatingJsonLines:
    """Writes events into `directory`, starting a new file when the current one would pass `max_bytes` or
    is `max_age` seconds old (wall clock: rotation is about the files, not the traffic)."""

    def __init__(
        self, directory: str, max_bytes: int, max_age: float, clock: Callable[[], float] = time.time
    ) -> None:
        if not os.path.isdir(directory):
            raise OutputError(f"cannot write events to {directory}: not a directory")
        self.directory = directory
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.clock = clock
        self.name = directory
        self.files: list[str] = []  # every file written, oldest first
        self._out: BinaryIO | None = None
        self._size = 0
        self._opened = 0.0
        self._sequence = 0

    def _failed(self, exc: OSError) -> OutputError:
        where = self.files[-1] if self.files else self.directory
        return OutputError(f"cannot write events to {where}: {exc.strerror or exc}")

    def write(self, event: Event) -> None:
        line = event_line(event)
        if self._out is not None and (
            self._size + len(line) > self.max_bytes or self.clock() - self._opened >= self.max_age
        ):
            self._close_current()
        out = self._out or self._open()
        try:
            out.write(line)
        except OSError as exc:
            raise self._failed(exc) from None
        self._size += len(line)

    def _open(self) -> BinaryIO:
        self._opened = now = self.clock()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        while True:
            self._sequence += 1
            path = os.path.join(self.directory, f"{PREFIX}{stamp}-{self._sequence:06d}{SUFFIX}")
            try:
                self._out = open(path, "xb")  # noqa: SIM115 (closed by _close_current)
            except FileExistsError:
                continue  # a file of an earlier run opened in the same second
            except OSError as exc:
                self.files.append(path)
                raise self._failed(exc) from None
            self.files.append(path)
            self._size = 0
            return self._out

    def _close_current(self) -> None:
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except OSError as exc:
                raise self._failed(exc) from None

    def flush(self) -> None:
        """Hand buffered lines to the operating system; close the current file once it is past its age, so a
        quiet sensor does not keep one file open across rotation periods (the next event opens a new one)."""
        if self._out is None:
            return
        if self.clock() - self._opened >= self.max_age:
            self._close_current()
            return
        try:
            self._out.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def close(self) -> None:
        self._close_current()
