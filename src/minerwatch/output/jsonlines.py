"""EVE-style JSON lines: one event per line, UTF-8, to a file or stdout."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import orjson

from minerwatch.errors import InputError
from minerwatch.events import Event


class JsonLinesWriter:
    """Writes events as they come; `path` '-' means standard output."""

    def __init__(self, path: str) -> None:
        self._own = path != "-"
        try:
            self._out: BinaryIO = open(path, "wb") if self._own else sys.stdout.buffer  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"cannot write events to {path}: {exc.strerror}") from exc

    def write(self, event: Event) -> None:
        self._out.write(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS))

    def close(self) -> None:
        if self._own:
            self._out.close()
        else:
            self._out.flush()


@dataclass
class ReadCounts:
    """What reading an events file could not use, by reason."""

    events: int = 0
    bad_lines: int = 0  # not a JSON object, or not an event
    overlong_lines: int = 0  # longer than the reader's line limit: skipped without being held in memory


def read_events(stream: BinaryIO, counts: ReadCounts, max_line: int = 16 << 20) -> Iterator[Event]:
    """Events from a JSON-lines stream written by minerwatch (or anyone: the file is not trusted).

    A line is held in memory only up to `max_line` bytes; a longer one is skipped to its end and counted,
    as are lines that are not JSON objects with an `event_type`. Cost is linear in the stream's size.
    """
    while line := stream.readline(max_line + 1):
        if len(line) > max_line and not line.endswith(b"\n"):
            counts.overlong_lines += 1
            while (rest := stream.readline(max_line)) and not rest.endswith(b"\n"):
                pass
            continue
        if not line.strip():
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            counts.bad_lines += 1
            continue
        if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
            counts.bad_lines += 1
            continue
        counts.events += 1
        yield event
