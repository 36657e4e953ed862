"""CSV with a header row naming at least a value column (see base.ALIASES for accepted names)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from minerwatch.errors import InputError
from minerwatch.intel.formats.base import ALIASES, Problems, iter_lines, row_indicator
from minerwatch.intel.model import Indicator


def read(fh: IO[str], problems: Problems, default_type: str | None = None) -> Iterator[Indicator]:
    numbered = iter_lines(fh, problems)
    current = [0]

    def lines() -> Iterator[str]:
        for number, line in numbered:
            if line.strip() and not line.lstrip().startswith("#"):
                current[0] = number
                yield line

    reader = csv.reader(lines())
    header = next(reader, None)
    if header is None:
        raise InputError("CSV file has no header row")
    names = [h.strip().lower() for h in header]
    if not set(names) & set(ALIASES["value"]):
        raise InputError(f"CSV header (line {current[0]}) has no value column: one of {ALIASES['value']}")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.add(current[0], f"bad CSV: {exc}")
            continue
        if len(cells) != len(names):
            problems.add(current[0], f"{len(cells)} fields where the header has {len(names)}")
            continue
        try:
            yield row_indicator(dict(zip(names, cells, strict=True)), default_type)
        except ValueError as exc:
            problems.add(current[0], str(exc))
