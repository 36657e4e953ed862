"""Renders findings: ``diskmining`` events (EVE-like JSON lines) and a bounded console digest."""

from __future__ import annotations

import os
from collections import Counter

from rich.console import Console
from rich.table import Table

from minerwatch.events import Event, EventFactory, iso_timestamp
from minerwatch.hostscan.scanner import Finding, ScanStats
from minerwatch.output.jsonlines import utf8_safe
from minerwatch.output.terminal import untrusted

DIGEST_ROWS = 100
"""Findings shown as table rows; the rest are counted (all of them are in the events)."""


def to_event(factory: EventFactory, finding: Finding, host: str) -> Event:
    """One event; its timestamp is the file's mtime, so rescanning an unchanged disk gives the same output."""
    body = {
        "kind": finding.kind,
        **_path_fields(finding.path),
        "size": finding.size,
        "mtime": iso_timestamp(finding.mtime),
        "confidence": finding.confidence,
        **finding.details,
    }
    return factory.make("diskmining", finding.mtime, body, host=host)


def _path_fields(path: str) -> dict[str, str]:
    """`path` as JSON can carry it: bytes of the name that were not UTF-8 are written `\\xNN`, and then
    `path_hex` holds the exact bytes (lossless, for tools that must open the file)."""
    text = utf8_safe(path)
    return {"path": text} if text == path else {"path": text, "path_hex": os.fsencode(path).hex()}


def _summary(finding: Finding) -> str:
    d = finding.details
    if finding.kind in ("plot", "plot_in_progress") and "format" in d:
        parts = [f"{d['format']} k{d['k']}"]
        if d.get("compression_level"):
            parts.append(f"C{d['compression_level']}")
        if d.get("strength") is not None:
            parts.append(f"strength {d['strength']}")
        if "memo_type" in d:
            parts.append(d["memo_type"])
        parts.append("complete" if d.get("complete") else f"INCOMPLETE: {d.get('reason', '')}")
        if "growth_bytes_per_s" in d:
            parts.append(f"growing {d['growth_bytes_per_s']} B/s")
        return ", ".join(parts)
    if finding.kind == "plot_in_progress":
        return f"temp file of {d['plotter']}"
    if finding.kind == "farming_config":
        return f"{len(d['plot_directories'])} plot dirs, pools: {', '.join(d['pool_urls']) or 'none'}"
    if finding.kind == "plotter_binary":
        return str(d["tool"])
    return "encrypted Chia key store present"


class Digest:
    """What the console shows of a scan: every finding counted by kind, the first `rows` of them as rows.

    Findings stream to the events as they are made; the console keeps only this, so a disk with millions of
    findings costs the same memory and rendering time as one with `rows`."""

    def __init__(self, rows: int = DIGEST_ROWS) -> None:
        self.rows = rows
        self.shown: list[Finding] = []
        self.by_kind: Counter[str] = Counter()

    def add(self, finding: Finding) -> None:
        self.by_kind[finding.kind] += 1
        if len(self.shown) < self.rows:
            self.shown.append(finding)

    @property
    def total(self) -> int:
        return self.by_kind.total()


def print_table(console: Console, digest: Digest, stats: ScanStats) -> None:
    """Findings, then one line of counts so that skipped and unreadable files are never silent."""
    table = Table(title="Disk mining evidence", show_lines=False)
    for column in ("kind", "path", "size", "details"):
        table.add_column(column, overflow="fold")
    for finding in digest.shown:
        table.add_row(
            finding.kind, untrusted(finding.path), f"{finding.size:,}", untrusted(_summary(finding))
        )
    if digest.total:
        console.print(table)
        hidden = digest.total - len(digest.shown)
        more = f" ({hidden:,} not in the table; -o FILE or --json gives them all)" if hidden else ""
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(digest.by_kind.items()))
        console.print(f"{digest.total:,} findings: {kinds}{more}", highlight=False)
    else:
        console.print("No disk mining evidence found.")
    unmeasured = stats.growth_not_measured
    growth = f", {unmeasured:,} temp files not re-measured" if unmeasured else ""
    console.print(
        f"{stats.files:,} files in {stats.directories:,} directories; {stats.headers_read:,} headers read, "
        f"{stats.skipped_small:,} too small, {stats.lookalikes:,} look-alikes; "
        f"{stats.permission_denied:,} permission denied, {stats.other_errors:,} other errors; "
        f"{stats.symlinks_skipped:,} symlinks and {stats.other_filesystems_skipped:,} other filesystems "
        f"not followed, {stats.loops_avoided:,} loops avoided{growth}",
        highlight=False,
    )
