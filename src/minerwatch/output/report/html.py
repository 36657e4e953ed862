"""The report as one self-contained HTML page: styles, script, data and charts inline, no request at all.

Incidents are drawn in full (stage strip, timeline, relationship graph, evidence) for the highest-scoring
`DETAILED` of them; every incident, host and event is in the tables, which the page's script sorts,
filters and pages from a JSON block, so a report of 10,000 hosts and 100,000 events stays small and fast.
Everything from the input is escaped: by Jinja's autoescape in the markup, by the script's textContent in
the tables, and by `_json_for_script` in the data block.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson

from minerwatch.correlate.stages import Stage
from minerwatch.output.report import charts
from minerwatch.output.verdict_text import disk_lines, encrypted_lines

DETAILED = 200  # incidents drawn in full; the incident table lists them all
Cell = Any  # a scalar, a list, or {"t": text, "ev": [event ids]}


def _link(text: Any, event_ids: list[Any] | None) -> Cell:
    ids = [i for i in event_ids or [] if isinstance(i, int)]
    return {"t": text, "ev": ids} if ids else text


def _join(values: Any, limit: int = 6) -> str:
    items = (
        [charts.endpoint_label(v) for v in values or []] if isinstance(values, list) else [str(values or "")]
    )
    more = f" (+{len(items) - limit})" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _tables(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every table of the page as columns and rows (the script renders them)."""
    verdict_of = {v.get("host"): v for v in report["verdicts"]}
    tables = {
        "incidents": (
            [
                "host",
                "status",
                "role",
                "score",
                "stages",
                "entry",
                "attackers",
                "pools",
                "spread to",
                "first seen",
                "last seen",
            ],
            [
                [
                    i.get("host"),
                    i.get("status"),
                    i.get("role"),
                    _link(i.get("score"), [i.get("event_id")]),
                    " ".join(str(Stage(s["name"]).number) for s in _stages(i)),
                    entry_text(i.get("entry")),
                    _join(i.get("attackers")),
                    _join(i.get("pools")),
                    _join(i.get("spread_to")),
                    i.get("first_seen"),
                    i.get("last_seen"),
                ]
                for i in report["incidents"]
            ],
        ),
        "hosts": (
            ["host", "status", "reason", "incident", "first seen", "last seen"],
            [
                [
                    _link(h.get("host"), [h.get("event_id")]),
                    h.get("status"),
                    h.get("reason"),
                    h.get("incident") or _join(h.get("incidents")),
                    h.get("first_seen"),
                    h.get("last_seen"),
                ]
                for h in report["hosts"]
            ],
        ),
        "verdicts": (
            [
                "host",
                "activity",
                "stages",
                "confidence",
                "submits",
                "pools",
                "encrypted, disk",
                "logins",
                "agents",
                "first seen",
                "last seen",
            ],
            [
                [
                    v.get("host"),
                    v.get("activity"),
                    "+".join(map(str, v.get("stages") or [])),
                    _link(v.get("confidence"), v["event_ids"]),
                    _link(v.get("submits", 0), v["event_ids"]),
                    _join(v.get("pools") or v.get("confirmed_pools")),
                    "; ".join(encrypted_lines(v) + disk_lines(v)),
                    _join(v.get("logins")),
                    _join(v.get("agents")),
                    v.get("first_seen"),
                    v.get("last_seen"),
                ]
                for v in report["verdicts"]
            ],
        ),
        "pools": (
            ["pool", "dialects", "coins", "miners", "submits", "accepted", "rejected"],
            [
                [
                    charts.endpoint_label(p),
                    p["dialects"],
                    p["coins"],
                    _link(len(p["miners"]), p.get("event_ids")),
                    _link(p.get("submits", 0), p.get("event_ids")),
                    p.get("accepted", 0),
                    p.get("rejected", 0),
                ]
                for p in report["pools"]
            ],
        ),
        "wallets": (
            ["wallet", "coin", "hosts"],
            [
                [w["address"], w.get("coin"), _link(_join(w["hosts"]), w["event_ids"])]
                for w in report["wallets"]
            ],
        ),
        "families": (
            ["family", "agents", "hosts"],
            [
                [f["family"], _join(f["agents"]), _link(_join(f["hosts"]), f["event_ids"])]
                for f in report["families"]
            ],
        ),
        "alerts": (
            [
                "signature",
                "stage",
                "technique",
                "severity",
                "count",
                "between",
                "excerpt",
                "first seen",
                "last seen",
            ],
            [
                [
                    a["signature"],
                    a.get("stage"),
                    a.get("technique"),
                    a.get("severity"),
                    _link(a["count"], a["event_ids"]),
                    a["pairs"],
                    a.get("excerpt"),
                    a["first_seen"],
                    a["last_seen"],
                ]
                for a in report["alerts"]
            ],
        ),
        "bruteforce": (
            [
                "service",
                "kind",
                "attacker",
                "victim",
                "attempts",
                "failed",
                "a login succeeded",
                "user names",
            ],
            [
                [
                    b.get("service"),
                    "password spraying" if b.get("phase") == "spray" else "brute force",
                    b.get("attacker"),
                    _join(b.get("victim")),
                    _link(b.get("attempts"), b["event_ids"]),
                    b.get("failed"),
                    "yes" if b["success"] else "no",
                    _join(b["usernames"]),
                ]
                for b in report["bruteforce"]
            ],
        ),
        "scans": (
            ["kind", "scanner", "targets", "ports", "distinct", "start", "end"],
            [
                [
                    s.get("kind"),
                    s.get("scanner"),
                    _join(s["hosts"]),
                    _join(s["ports"]),
                    _link(s.get("distinct"), s["event_ids"]),
                    s.get("start"),
                    s.get("end"),
                ]
                for s in report["scans"]
            ],
        ),
        "files": (
            ["file", "type", "size", "sha256", "YARA", "from", "to", "seen"],
            [
                [
                    f.get("filename"),
                    f.get("type"),
                    f.get("size"),
                    f.get("sha256"),
                    f["yara"],
                    f["senders"],
                    f["receivers"],
                    _link(len(f["event_ids"]), f["event_ids"]),
                ]
                for f in report["files"]
            ],
        ),
    }
    specs = {name: {"columns": columns, "rows": rows} for name, (columns, rows) in tables.items()}
    events = report["events"]
    specs["events"] = {"columns": events["columns"], "rows": events["rows"], "omitted": events["omitted"]}
    row_of = {row[0]: row for row in events["rows"]}
    for n, incident in enumerate(report["incidents"][:DETAILED]):
        specs.update(_incident_tables(n, incident, report, row_of, verdict_of.get(incident.get("host"))))
    return specs


def entry_text(entry: Any) -> str:
    """How the host was entered: `ssh brute force from 203.0.113.5 (exploitation)`."""
    if not isinstance(entry, dict):
        return ""
    peer = f" from {entry['peer']}" if entry.get("peer") else ""
    return f"{entry.get('what', '?')}{peer} ({str(entry.get('stage', '?')).replace('_', ' ')})"


def _stages(incident: dict[str, Any]) -> list[dict[str, Any]]:
    known = {stage.value for stage in Stage}
    return [s for s in incident.get("stages") or [] if isinstance(s, dict) and s.get("name") in known]


def _incident_tables(
    n: int,
    incident: dict[str, Any],
    report: dict[str, Any],
    row_of: dict[Any, list[Any]],
    verdict: dict[str, Any] | None,
) -> dict[str, dict[str, Any]]:
    """The evidence of one incident: pool sessions, rules matched, intel, carved files."""
    host = incident.get("host")
    carved = {f.get("sha256") for f in report["files"] if host in f["receivers"]}
    ids = {i for s in _stages(incident) for i in s.get("event_ids") or [] if i in row_of}
    pools = (verdict or {}).get("pools") or []
    return {
        f"incident-{n}-pools": {
            "columns": [
                "pool",
                "dialect",
                "submits",
                "accepted",
                "rejected",
                "per minute",
                "logins",
                "agents",
            ],
            "rows": [
                [
                    charts.endpoint_label(p),
                    p.get("dialect"),
                    _link(p.get("submits", 0), (verdict or {}).get("event_ids")),
                    p.get("accepted", 0),
                    p.get("rejected", 0),
                    p.get("submits_per_minute"),
                    _join(p.get("logins")),
                    _join(p.get("agents")),
                ]
                for p in pools
                if isinstance(p, dict)
            ],
        },
        f"incident-{n}-evidence": {
            "columns": ["event", "time", "type", "stage", "what", "excerpt"],
            "rows": [
                [_link(row[0], [row[0]]), row[1], row[2], row[5], row[6], report["excerpts"].get(str(row[0]))]
                for row in sorted((row_of[i] for i in ids), key=lambda r: (str(r[1]), r[0]))
            ],
        },
        f"incident-{n}-intel": {
            "columns": ["indicator", "source", "family", "confidence"],
            "rows": [
                [
                    _link(h.get("indicator"), [h.get("event_id")]),
                    h.get("source"),
                    h.get("family"),
                    h.get("confidence"),
                ]
                for h in (verdict or {}).get("intel") or []
                if isinstance(h, dict)
            ],
        },
        f"incident-{n}-files": {
            "columns": ["file", "type", "sha256", "YARA", "from"],
            "rows": [
                [
                    _link(f.get("filename"), f["event_ids"]),
                    f.get("type"),
                    f.get("sha256"),
                    f["yara"],
                    f["senders"],
                ]
                for f in report["files"]
                if host in f["receivers"]
            ]
            + [  # files the incident names that this input did not carve (a stored incident's, say)
                [f.get("what"), None, f.get("sha256"), [], f.get("from")]
                for f in incident.get("files") or []
                if isinstance(f, dict) and f.get("sha256") not in carved
            ],
        },
    }


def _json_for_script(value: Any) -> str:
    """JSON safe inside <script>: `<`, `>` and `&` only ever occur inside JSON strings, where their
    \\u escapes mean the same, so no `</script` or `<!--` from the input can reach the HTML parser."""
    text = orjson.dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _strip(incident: dict[str, Any]) -> list[dict[str, Any]]:
    reached = {s["name"]: s for s in _stages(incident)}
    return [
        {"name": stage.value, "label": stage.value.replace("_", " "), "stage": reached.get(stage.value)}
        for stage in Stage
    ]


def render_html(report: dict[str, Any]) -> str:
    import jinja2  # here: every command registers `report`, and Jinja costs each run 1.8 MiB of peak RSS

    templates = resources.files("minerwatch.output.report") / "templates"
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string((templates / "report.html.j2").read_text(encoding="utf-8"))
    times = {row[0]: row[1] for row in report["events"]["rows"]}
    detailed = [
        {
            "n": n,
            "incident": incident,
            "strip": _strip(incident),
            "timeline": charts.timeline(incident, times),
            "graph": charts.graph(incident),
        }
        for n, incident in enumerate(report["incidents"][:DETAILED])
    ]
    return template.render(
        report=report,
        entry_text=entry_text,
        endpoint_label=charts.endpoint_label,
        detailed=detailed,
        more_incidents=max(0, len(report["incidents"]) - DETAILED),
        css=(templates / "report.css").read_text(encoding="utf-8"),
        script=(templates / "report.js").read_text(encoding="utf-8"),
        data=_json_for_script({"tables": _tables(report)}),
    )
