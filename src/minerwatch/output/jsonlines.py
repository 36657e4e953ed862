"""EVE-style JSON lines: one event per line, UTF-8, to a file or stdout."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO, BinaryIO

import orjson

from minerwatch.errors import InputError
from minerwatch.events import Event
from minerwatch.intel.formats.base import Problems, iter_json


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


def read_events(fh: IO[str], problems: Problems, max_line: int = 16 << 20) -> Iterator[tuple[int, Event]]:
    """(line number, event) of a JSON-lines file written by minerwatch (or anyone: it is not trusted).

    Lines are read with the feeds' bounded reader (a line over `max_line` characters is skipped without being
    held whole); a line that is not a JSON object with an `event_type` is a problem, with its number.
    """
    for number, event in iter_json(fh, problems, max_line):
        if isinstance(event, dict) and isinstance(event.get("event_type"), str):
            yield number, event
        else:
            problems.add(number, "not an event (a JSON object with an event_type)")
