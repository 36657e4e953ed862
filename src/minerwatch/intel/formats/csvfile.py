"""CSV with a header row naming at least a value column (see base.ALIASES for accepted names).

A quoted field may span lines (RFC 4180), but a record must end within MAX_RECORD_LINES lines: a quote
left open would otherwise swallow every following line into one bogus indicator. Such a record is
reported at the line where it starts, and reading resumes on the next line, so each line is parsed at
most MAX_RECORD_LINES times. A cell written as `'=...` (a leading quote before = + - @ tab or CR, how
`intel export` neutralises formulas) is read back without that quote.
"""

from __future__ import annotations

import csv
import itertools
from collections import deque
from collections.abc import Iterator
from typing import IO

from minerwatch.errors import InputError
from minerwatch.intel.formats.base import ALIASES, Problems, iter_lines, row_indicator
from minerwatch.intel.model import Indicator

MAX_RECORD_LINES = 8
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list of cell starts a spreadsheet evaluates


def read(fh: IO[str], problems: Problems, default_type: str | None = None) -> Iterator[Indicator]:
    records = _records(iter_lines(fh, problems), problems)
    number, header = next(records, (0, None))
    if header is None:
        raise InputError("CSV file has no header row")
    names = [h.strip().lower() for h in header]
    if not set(names) & set(ALIASES["value"]):
        raise InputError(f"CSV header (line {number}) has no value column: one of {ALIASES['value']}")
    for number, cells in records:
        if len(cells) != len(names):
            problems.add(number, f"{len(cells)} fields where the header has {len(names)}")
            continue
        try:
            yield row_indicator(dict(zip(names, map(unneutralise, cells), strict=True)), default_type)
        except ValueError as exc:
            problems.add(number, str(exc))


def _records(lines: Iterator[tuple[int, str]], problems: Problems) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each record; blank and '#' lines are skipped."""
    wanted = ((n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#"))
    pending: deque[tuple[int, str]] = deque()
    while True:
        pending.extend(itertools.islice(wanted, MAX_RECORD_LINES - len(pending)))
        if not pending:
            return
        number, first = pending[0]
        if '"' not in first and "\r" not in first:  # the common case: no quoting, one line
            pending.popleft()
            yield number, first.split(",")
            continue
        reader = csv.reader((line + "\n" for _, line in pending), strict=True)
        try:
            cells = next(reader)
        except csv.Error as exc:
            reason = "unclosed quote" if "end of data" in str(exc) else f"bad CSV: {exc}"
            problems.add(number, f"{reason} (record starting on this line; reading resumes on the next)")
            pending.popleft()
            continue
        for _ in range(reader.line_num):
            pending.popleft()
        yield number, cells


def neutralise(cell: str) -> str:
    """OWASP's CSV injection defence: a cell a spreadsheet would evaluate gets a leading single quote.
    So does one that already starts with quotes before such a character, so that reading back is exact."""
    return "'" + cell if cell.lstrip("'")[:1] in FORMULA_STARTS else cell


def unneutralise(cell: str) -> str:
    """The inverse of `neutralise`."""
    return cell[1:] if cell[:1] == "'" and cell.lstrip("'")[:1] in FORMULA_STARTS else cell
