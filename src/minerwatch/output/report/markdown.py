"""The report as Markdown, for tickets: the overview, each incident's stages and advice, the pools.

Text from the input is escaped so that a hostile agent string or file name cannot add links, images,
HTML or table cells to the ticket.
"""

from __future__ import annotations

import re
from typing import Any

from minerwatch.correlate.stages import Stage
from minerwatch.output.terminal import visible

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def md(value: Any) -> str:
    """Input text as literal Markdown: controls made visible, every Markdown character escaped."""
    return _SPECIAL.sub(r"\\\1", visible(str(value if value is not None else ""))).replace("\n", " ")


def _row(*cells: Any) -> str:
    return "| " + " | ".join(md(c) for c in cells) + " |"


def render_markdown(report: dict[str, Any], incidents_shown: int = 50) -> str:
    counts, analysed = report["counts"], report["analysed"]
    read = (
        f", {md(analysed['packets'])} packets, {md(analysed['flows'])} flows"
        f" ({md(analysed['flows_bypassed'])} bypassed), files: {md(', '.join(map(str, analysed['files'])))}"
        if analysed["packets"] is not None
        else ""  # a report of the incident store: no analysis statistics
    )
    lines = [
        "# minerwatch report",
        "",
        f"Traffic from {md(report['span']['first_seen'])} to {md(report['span']['last_seen'])} (UTC){read}.",
        "",
        f"**{counts['compromised']['count']}** compromised, **{counts['suspicious']['count']}** suspicious,"
        f" **{counts['attacker']['count']}** attacker hosts; **{counts['incidents']['count']}** incidents,"
        f" **{counts['verdicts']['count']}** mining verdicts, {len(report['pools'])} pools.",
    ]
    for incident in report["incidents"][:incidents_shown]:
        reached = {s.get("name"): s for s in incident.get("stages") or [] if isinstance(s, dict)}
        lines += [
            "",
            f"## {md(incident.get('host'))}: {md(incident.get('role'))}, {md(incident.get('status'))},"
            f" score {md(incident.get('score'))}"
            + (f" (event {md(incident['event_id'])})" if incident.get("event_id") is not None else ""),
            "",
            "| # | stage | first seen | last seen | techniques | events |",
            "|---|---|---|---|---|---|",
        ]
        for stage in Stage:
            if seen := reached.get(stage.value):
                ids = seen.get("event_ids") or []
                lines.append(
                    _row(
                        stage.number,
                        stage.value,
                        seen.get("first_seen"),
                        seen.get("last_seen"),
                        ", ".join(map(str, seen.get("techniques") or [])),
                        ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else ""),
                    )
                )
            else:
                lines.append(_row(stage.number, stage.value, "not reached", "", "", ""))
        lines += [
            "",
            f"Attackers: {md(', '.join(map(str, incident.get('attackers') or [])) or 'none seen')}.",
        ]
        lines.append(f"Spread to: {md(', '.join(map(str, incident.get('spread_to') or [])) or 'none')}.")
        advice = incident.get("recommendations") or []
        if advice:
            lines += ["", "What to do:", ""]
            lines += [f"- {md(r.get('text') if isinstance(r, dict) else r)}" for r in advice]
    if len(report["incidents"]) > incidents_shown:
        lines += [
            "",
            f"{len(report['incidents']) - incidents_shown} more incidents: see the HTML or JSON report.",
        ]
    if report["pools"]:
        lines += ["", "## Pools", "", "| pool | dialects | coins | miners | submits | accepted | rejected |"]
        lines.append("|---|---|---|---|---|---|---|")
        for pool in report["pools"]:
            lines.append(
                _row(
                    f"{pool['ip']}:{pool['port']}",
                    ", ".join(map(str, pool["dialects"])),
                    ", ".join(map(str, pool["coins"])),
                    ", ".join(map(str, pool["miners"][:6])),
                    pool.get("submits", 0),
                    pool.get("accepted", 0),
                    pool.get("rejected", 0),
                )
            )
    return "\n".join(lines) + "\n"
