"""EVE-style JSON lines: one event per line, UTF-8, to a file or stdout."""

from __future__ import annotations

import sys
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
