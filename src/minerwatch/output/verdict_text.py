"""What a verdict rests on besides its pools, as short lines for the console summary and the HTML report:
its encrypted peers and scan-disk's findings. The report also reads events files written earlier (or by
hand), so a missing or mistyped field gives a shorter line, never an error; the callers escape the text."""

from __future__ import annotations

from typing import Any

from rich.filesize import decimal

ENCRYPTED_SHOWN = 4  # encrypted peers listed; the rest counted
KINDS_SHOWN = 8


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def encrypted_lines(verdict: dict[str, Any]) -> list[str]:
    """`IP:PORT KIND N flow(s) encrypted, EVIDENCE` per peer judged mining or Chia."""
    peers = [_dict(p) for p in _list(_dict(verdict.get("encrypted")).get("peers"))]
    lines = [
        f"{p.get('ip')}:{p.get('port')} {p.get('kind')} {p.get('flows')} flow(s) encrypted, "
        + "+".join(map(str, _list(p.get("evidence"))))
        for p in peers[:ENCRYPTED_SHOWN]
    ]
    if len(peers) > ENCRYPTED_SHOWN:
        lines.append(f"… {len(peers) - ENCRYPTED_SHOWN} more encrypted peers")
    return lines


def disk_lines(verdict: dict[str, Any]) -> list[str]:
    """scan-disk's findings on the host: counted by kind, complete plots and their size, farmer keys."""
    disk = _dict(verdict.get("disk"))
    if not disk:
        return []
    counted = list(_dict(disk.get("kinds")).items())[:KINDS_SHOWN]
    kinds = ", ".join(f"{kind} {count}" for kind, count in counted)
    line = f"disk: {disk.get('findings')} finding(s) ({kinds})"
    plots, size = disk.get("plots_complete"), disk.get("plot_bytes")
    if isinstance(plots, int) and plots > 0:
        line += f", {plots} complete plot(s)"
        if isinstance(size, int) and size >= 0:
            line += f" {decimal(size)}"
    if keys := [str(k) for k in _list(disk.get("farmer_public_keys"))]:
        line += f", farmer key {keys[0][:16]}…" + (f" (+{len(keys) - 1})" if len(keys) > 1 else "")
    return [line]
