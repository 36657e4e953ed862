"""JSON lines: one object per line with the same field names as CSV (tags may be a list)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from minerwatch.intel.formats.base import Problems, iter_json, row_indicator
from minerwatch.intel.model import Indicator


def read(fh: IO[str], problems: Problems, default_type: str | None = None) -> Iterator[Indicator]:
    for number, row in iter_json(fh, problems):
        if not isinstance(row, dict):
            problems.add(number, "not a JSON object")
            continue
        try:
            yield row_indicator({str(k).lower(): v for k, v in row.items()}, default_type)
        except ValueError as exc:
            problems.add(number, str(exc))
