"""Plain lists: one indicator per line, '#' comments, optional 'TYPE:VALUE' (else the type is guessed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from minerwatch.intel.formats.base import Problems, iter_lines
from minerwatch.intel.model import Indicator
from minerwatch.intel.normalize import guess


def read(fh: IO[str], problems: Problems, default_type: str | None = None) -> Iterator[Indicator]:
    for number, line in iter_lines(fh, problems):
        text = line.partition("#")[0].strip()
        if not text:
            continue
        try:
            if default_type:
                yield Indicator.build(default_type, text)
            else:
                kind, value = guess(text)
                yield Indicator(type=kind, value=value)
        except ValueError as exc:
            problems.add(number, f"{exc}: {text[:80]!r}")
