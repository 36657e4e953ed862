"""EVE-style JSON lines: one event per line, UTF-8, to a file or stdout."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

import orjson

from minerwatch.errors import OutputError
from minerwatch.events import Event
from minerwatch.intel.formats.base import Problems, iter_json

_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def utf8_safe(value: Any) -> Any:
    """`value` with lone surrogates in its strings written as text: a byte that was not UTF-8 (a file name
    decoded with surrogateescape) as `\\xNN`, any other lone surrogate as `\\uNNNN`. JSON text is UTF-8,
    which cannot carry them."""
    if isinstance(value, str):
        return _SURROGATE.sub(_escape_surrogate, value)
    if isinstance(value, dict):
        return {utf8_safe(k): utf8_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [utf8_safe(v) for v in value]
    return value


def event_line(event: Event) -> bytes:
    """One event as a JSON line, newline included."""
    try:
        return orjson.dumps(event, option=_OPTIONS)
    except TypeError:  # a string with lone surrogates (the only kind of value events hold that can fail)
        return orjson.dumps(utf8_safe(event), option=_OPTIONS)


class JsonLinesWriter:
    """Writes events as they come; `path` '-' means standard output; `append` adds to an existing file (a
    correlator resuming). A failure to write is an OutputError (the analysis stops: events would be
    missing), never blamed on an input."""

    def __init__(self, path: str, append: bool = False) -> None:
        self._own = path != "-"
        self.name = path if self._own else "standard output"
        try:
            self._out: BinaryIO = open(path, "ab" if append else "wb") if self._own else sys.stdout.buffer  # noqa: SIM115
        except OSError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: OSError) -> OutputError:
        return OutputError(f"cannot write events to {self.name}: {exc.strerror or exc}")

    def write(self, event: Event) -> None:
        try:
            self._out.write(event_line(event))
        except OSError as exc:
            raise self._failed(exc) from None

    def flush(self) -> None:
        """Hand what is buffered to the operating system (a live capture does it periodically)."""
        try:
            self._out.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def close(self) -> None:
        try:
            if self._own:
                self._out.close()
            else:
                self._out.flush()
        except OSError as exc:
            raise self._failed(exc) from None


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
