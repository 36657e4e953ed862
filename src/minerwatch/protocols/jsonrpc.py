"""Newline-delimited JSON framing, as Stratum and the CryptoNote pool protocol use it.

Goal: turn a TCP byte stream into JSON objects, tolerating \\r\\n, lines split across segments and many lines
per segment. Worst case: each input byte is scanned once for a newline and copied at most twice, so hostile
input costs O(n); a line longer than `max_line` is dropped whole and counted, and never buffered beyond
`max_line` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

MAX_LINE = 64 * 1024


@dataclass
class FramerStats:
    lines: int = 0
    overlong_lines: int = 0
    invalid_json: int = 0
    not_an_object: int = 0


class LineFramer:
    """Bytes in, complete lines out (without the line terminator)."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self.stats = FramerStats()
        self._partial = bytearray()
        self._discarding = False  # inside an over-long line: drop until its newline

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while (nl := data.find(b"\n", start)) >= 0:
            piece = data[start:nl]
            start = nl + 1
            if self._discarding:
                self._discarding = False
                continue
            if self._partial:
                self._partial += piece
                piece = bytes(self._partial)
                self._partial.clear()
            if len(piece) > self.max_line:
                self.stats.overlong_lines += 1
                continue
            piece = piece.strip()
            if piece:
                self.stats.lines += 1
                lines.append(piece)
        if not self._discarding and start < len(data):
            self._partial += data[start:]
            if len(self._partial) > self.max_line:
                self.stats.overlong_lines += 1
                self._partial.clear()
                self._discarding = True
        return lines

    def gap(self) -> None:
        """Bytes were lost (reassembly gap): the partial line is unusable; resume at the next newline."""
        if self._partial:
            self._partial.clear()
            self._discarding = True

    def decode(self, line: bytes) -> dict[str, Any] | None:
        """One line as a JSON object, or None (counted) if it is not valid JSON or not an object.

        orjson rejects non-UTF-8 and nesting deeper than 1024 levels without recursion in Python.
        """
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.stats.invalid_json += 1
            return None
        if not isinstance(obj, dict):
            self.stats.not_an_object += 1
            return None
        return obj
