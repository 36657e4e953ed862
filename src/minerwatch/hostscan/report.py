"""Renders findings: ``diskmining`` events (EVE-like JSON lines) and a rich console table."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from minerwatch.events import Event, EventFactory, iso_timestamp
from minerwatch.hostscan.scanner import Finding, ScanStats


def to_event(factory: EventFactory, finding: Finding, host: str) -> Event:
    """One event; its timestamp is the file's mtime, so rescanning an unchanged disk gives the same output."""
    body = {
        "kind": finding.kind,
        "path": finding.path,
        "size": finding.size,
        "mtime": iso_timestamp(finding.mtime),
        "confidence": finding.confidence,
        **finding.details,
    }
    return factory.make("diskmining", finding.mtime, body, host=host)


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


def print_table(console: Console, findings: Iterable[Finding], stats: ScanStats) -> None:
    """Findings, then one line of counts so that skipped and unreadable files are never silent."""
    table = Table(title="Disk mining evidence", show_lines=False)
    for column in ("kind", "path", "size", "details"):
        table.add_column(column, overflow="fold")
    rows = 0
    for finding in findings:
        table.add_row(finding.kind, finding.path, f"{finding.size:,}", _summary(finding))
        rows += 1
    if rows:
        console.print(table)
    else:
        console.print("No disk mining evidence found.")
    console.print(
        f"{stats.files:,} files in {stats.directories:,} directories; {stats.headers_read:,} headers read, "
        f"{stats.skipped_small:,} too small, {stats.lookalikes:,} look-alikes; "
        f"{stats.permission_denied:,} permission denied, {stats.other_errors:,} other errors; "
        f"{stats.symlinks_skipped:,} symlinks and {stats.other_filesystems_skipped:,} other filesystems "
        f"not followed, {stats.loops_avoided:,} loops avoided",
        highlight=False,
    )
