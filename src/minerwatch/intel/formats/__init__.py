"""Feed formats: detect one, and read a file into normalised indicators plus a report of bad entries.

Line formats (plain, csv, jsonl) stream, so a huge feed costs memory for one line at a time. Document
formats (STIX bundles, MISP events) are JSON documents, streamed too (stream.py): memory for one
object or attribute at a time, whatever the document's size.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from minerwatch.errors import InputError
from minerwatch.intel.formats import csvfile, jsonl, plain
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.model import Indicator

FORMATS = ("plain", "csv", "jsonl", "stix", "misp")
_LINE_READERS = {"plain": plain.read, "csv": csvfile.read, "jsonl": jsonl.read}
_DOCUMENT_READERS = ("stix", "misp")  # modules imported on use: stix2 takes a while to import


def detect(path: Path) -> str:
    """The format from the extension, or for .json from the top-level object."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix != ".json":
        return "plain"
    with _opened(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    if b'"bundle"' in head or b'"spec_version"' in head:
        return "stix"
    if b'"Event"' in head or b'"response"' in head:
        return "misp"
    if head.startswith(b"{") and b"\n{" in head:
        return "jsonl"
    raise InputError(f"{path}: cannot tell the JSON format (STIX bundle, MISP event?); pass --format")


def _opened(path: Path, mode: str) -> IO[Any]:
    """The open file; undecodable bytes become U+FFFD, which normalisation then rejects per line."""
    try:
        return path.open(mode) if "b" in mode else path.open(mode, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_indicators(
    path: Path, fmt: str | None, problems: Problems, default_type: str | None = None
) -> Iterator[Indicator]:
    """Indicators of the file, lazily; bad entries go to `problems` with their line/object number."""
    fmt = fmt or detect(path)
    if fmt in _LINE_READERS:
        with _opened(path, "r") as fh:
            yield from _LINE_READERS[fmt](fh, problems, default_type)
        return
    if fmt not in _DOCUMENT_READERS:
        raise InputError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    _opened(path, "rb").close()  # an unreadable file fails here, before any walk
    yield from importlib.import_module(f"minerwatch.intel.formats.{fmt}").read(path, problems)
