"""What a report says, as data: built from the event stream alone, so it reads a live analysis (an event sink)
or an events file written earlier, and the HTML, Markdown and JSON forms show the same content.

The builder keeps what the report shows in bounded memory: incidents and verdicts whole (one per host),
findings aggregated by what they are, and at most `max_events` rows of the event index (the rest counted).
Every number it reports carries the ids of the events that prove it, so the page can link to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from minerwatch import __version__
from minerwatch.correlate.stages import Stage
from minerwatch.events import Event

REPORT_VERSION = 1
SUMMARY_CHARS = 160  # one line of the event index
IDS_KEPT = 50  # event ids kept per aggregated finding (its count is exact)


def _text(value: Any, limit: int = SUMMARY_CHARS) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(event: Event) -> str:
    """One line saying what an event is, for the event index."""
    kind = event.get("event_type")
    body = event.get(kind) if isinstance(kind, str) else None
    if not isinstance(body, dict):
        return _text(kind)
    match kind:
        case "mining":
            parts = [body.get("behaviour"), body.get("dialect"), body.get("outcome"), body.get("method")]
        case "alert":
            parts = [body.get("signature")]
        case "verdict":
            stages = "+".join(map(str, body.get("stages") or []))
            parts = [body.get("activity"), f"stages {stages}" if stages else None]
        case "bruteforce":
            parts = [body.get("service"), body.get("phase"), f"{body.get('attempts')} attempts"]
        case "file":
            parts = [body.get("filename"), body.get("type"), str(body.get("sha256") or "")[:16]]
        case "incident":
            parts = [body.get("host"), body.get("status"), f"score {body.get('score')}"]
        case "host":
            parts = [body.get("host"), body.get("status"), body.get("reason")]
        case "flow":
            parts = [body.get("app_proto"), body.get("reason")]
        case _:
            parts = [kind]
    return _text(" ".join(str(p) for p in parts if p not in (None, "")))


@dataclass
class _Finding:
    """One aggregated finding: how often, between which hosts, proved by which events."""

    count: int = 0
    pairs: list[str] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    first_seen: str = ""
    last_seen: str = ""

    def add(self, event: Event) -> None:
        self.count += 1
        timestamp = str(event.get("timestamp", ""))
        self.first_seen = min(self.first_seen or timestamp, timestamp)
        self.last_seen = max(self.last_seen, timestamp)
        pair = f"{event.get('src_ip', '?')} → {event.get('dest_ip', '?')}"
        if pair not in self.pairs and len(self.pairs) < 8:
            self.pairs.append(pair)
        if len(self.event_ids) < IDS_KEPT and isinstance(event.get("event_id"), int):
            self.event_ids.append(event["event_id"])


class ReportBuilder:
    """An event sink that gathers what the report shows; `build()` returns it as plain data."""

    def __init__(self, max_events: int = 100_000) -> None:
        self.max_events = max_events
        self.rows: list[list[Any]] = []  # the event index: id, timestamp, type, src, dest, stage, summary
        self.omitted = 0
        self.types: Counter[str] = Counter()
        self.first_seen = ""
        self.last_seen = ""
        self.incidents: dict[str, dict[str, Any]] = {}  # by incident id: its latest state
        self.hosts: dict[str, dict[str, Any]] = {}  # marked hosts: compromised, suspicious, attacker
        self.verdicts: dict[str, tuple[int | None, dict[str, Any]]] = {}  # by host: (event id, verdict)
        self.alerts: dict[str, _Finding] = {}
        self.alert_facts: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.bruteforce: list[dict[str, Any]] = []
        self.scans: list[dict[str, Any]] = []
        self.stats: dict[str, Any] = {}
        self.excerpts: dict[str, str] = {}  # alert event id (as JSON keys are) -> what it matched
        self._handlers = {
            "incident": self._on_incident,
            "host": self._on_host,
            "verdict": self._on_verdict,
            "alert": self._on_alert,
            "file": self._on_file,
            "bruteforce": self._on_bruteforce,
            "scan": self._on_scan,
            "stats": self._on_stats,
        }

    def __call__(self, event: Event) -> None:
        kind = str(event.get("event_type", "?"))
        event_id = event.get("event_id")
        timestamp = str(event.get("timestamp", ""))
        self.types[kind] += 1
        if kind != "stats" and timestamp:
            self.first_seen = min(self.first_seen or timestamp, timestamp)
            self.last_seen = max(self.last_seen, timestamp)
        body = event.get(kind)
        if not isinstance(body, dict):
            body = {}
        if len(self.rows) < self.max_events:
            stage = body.get("killchain_stage") if kind == "alert" else None
            self.rows.append(
                [event_id, timestamp, kind, event.get("src_ip"), event.get("dest_ip"), stage, _summary(event)]
            )
        else:
            self.omitted += 1
        if handler := self._handlers.get(kind):
            handler(event, body)

    def add_stored(self, incident: dict[str, Any]) -> None:
        """An incident from the incident store (no events: a stored incident keeps no event ids), and the
        mark it gives its host."""
        self.incidents[str(incident.get("id"))] = {**incident, "event_id": None}
        host = str(incident.get("host"))
        self.hosts[host] = {
            "host": host,
            "status": incident.get("status"),
            "reason": f"incident {incident.get('id')} in the store",
            "incident": incident.get("id"),
            "first_seen": incident.get("first_seen"),
            "last_seen": incident.get("last_seen"),
            "event_id": None,
        }
        for value in (incident.get("first_seen"), incident.get("last_seen")):
            if isinstance(value, str):
                self.first_seen = min(self.first_seen or value, value)
                self.last_seen = max(self.last_seen, value)

    def _on_incident(self, event: Event, body: dict[str, Any]) -> None:
        self.incidents[str(body.get("id", event.get("event_id")))] = {
            **body,
            "event_id": event.get("event_id"),
        }

    def _on_host(self, event: Event, body: dict[str, Any]) -> None:
        host = str(body.get("host", event.get("src_ip")))
        self.hosts[host] = {**body, "host": host, "event_id": event.get("event_id")}

    def _on_verdict(self, event: Event, body: dict[str, Any]) -> None:
        self.verdicts[str(body.get("host", event.get("src_ip")))] = (event.get("event_id"), body)

    def _on_alert(self, event: Event, body: dict[str, Any]) -> None:
        signature = _text(body.get("signature", "?"), 300)
        self.alerts.setdefault(signature, _Finding()).add(event)
        matched = body.get("matched")
        excerpt = matched[0].get("excerpt") if matched and isinstance(matched[0], dict) else None
        if excerpt and len(self.excerpts) < self.max_events and isinstance(event.get("event_id"), int):
            self.excerpts[str(event["event_id"])] = _text(excerpt, 200)
        if signature not in self.alert_facts:
            self.alert_facts[signature] = {
                "stage": body.get("killchain_stage"),
                "technique": body.get("technique"),
                "severity": body.get("severity"),
                "category": body.get("category"),
                "excerpt": _text(excerpt, 200) if excerpt else None,
            }

    def _on_file(self, event: Event, body: dict[str, Any]) -> None:
        key = str(body.get("sha256") or event.get("event_id"))
        entry = self.files.setdefault(
            key,
            {
                "sha256": body.get("sha256"),
                "filename": body.get("filename"),
                "type": body.get("type"),
                "size": body.get("size"),
                "yara": sorted({str(m.get("rule")) for m in body.get("yara") or [] if isinstance(m, dict)}),
                "receivers": [],
                "senders": [],
                "event_ids": [],
            },
        )
        for role, ip in (("senders", event.get("src_ip")), ("receivers", event.get("dest_ip"))):
            if ip and ip not in entry[role] and len(entry[role]) < 8:
                entry[role].append(ip)
        if len(entry["event_ids"]) < IDS_KEPT:
            entry["event_ids"].append(event.get("event_id"))

    def _on_bruteforce(self, event: Event, body: dict[str, Any]) -> None:
        if body.get("phase") == "threshold":
            return  # the final event of the same campaign follows
        self.bruteforce.append(
            {
                "service": body.get("service"),
                "attacker": body.get("attacker"),
                "phase": body.get("phase"),
                "victim": body.get("victim") or body.get("victims") or [],  # a spray has many
                "attempts": body.get("attempts"),
                "failed": body.get("failed"),
                "success": bool(body.get("success")),
                "usernames": body.get("usernames") or [],
                "event_ids": [event.get("event_id")],
            }
        )

    def _on_scan(self, event: Event, body: dict[str, Any]) -> None:
        self.scans.append(
            {
                "kind": body.get("kind"),
                "scanner": body.get("scanner"),
                "hosts": (body.get("hosts") or [])[:8],
                "ports": (body.get("ports") or [])[:8],
                "distinct": body.get("distinct"),
                "start": body.get("start"),
                "end": body.get("end"),
                "event_ids": [event.get("event_id")],
            }
        )

    def _on_stats(self, event: Event, body: dict[str, Any]) -> None:
        self.stats = body

    def build(self) -> dict[str, Any]:
        verdicts = [
            {**body, "event_ids": [event_id, *(body.get("evidence") or {}).get("event_ids", [])][:IDS_KEPT]}
            for event_id, body in self.verdicts.values()
        ]
        incidents = sorted(
            self.incidents.values(), key=lambda i: (-_number(i.get("score")), str(i.get("host")))
        )
        stage_of = {
            event_id: stage.get("name")
            for incident in incidents
            for stage in incident.get("stages") or []
            if isinstance(stage, dict)
            for event_id in stage.get("event_ids") or []
        }
        for row in self.rows:
            row[5] = row[5] or stage_of.get(row[0])
        return {
            "generator": f"minerwatch {__version__}",
            "report_version": REPORT_VERSION,
            "span": {"first_seen": self.first_seen or None, "last_seen": self.last_seen or None},
            "analysed": self._analysed(),
            "counts": self._counts(incidents),
            "stages": [stage.value for stage in Stage],
            "incidents": incidents,
            "hosts": sorted(self.hosts.values(), key=lambda h: (str(h.get("status")), str(h.get("host")))),
            "verdicts": sorted(verdicts, key=lambda v: (-_number(v.get("confidence")), str(v.get("host")))),
            "pools": _pools(verdicts),
            "wallets": _wallets(verdicts),
            "families": _families(verdicts),
            "alerts": [
                {"signature": signature, **self.alert_facts[signature], **vars(finding)}
                for signature, finding in sorted(self.alerts.items(), key=lambda kv: -kv[1].count)
            ],
            "files": list(self.files.values()),
            "bruteforce": self.bruteforce,
            "scans": self.scans,
            "excerpts": self.excerpts,
            "events": {
                "columns": ["id", "time", "type", "source", "destination", "stage", "what"],
                "rows": self.rows,
                "omitted": self.omitted,
                "by_type": dict(self.types.most_common()),
            },
        }

    def _analysed(self) -> dict[str, Any]:
        capture = self.stats.get("capture") or {}
        inspection = self.stats.get("inspection") or {}
        return {
            "files": [f.get("path") for f in self.stats.get("files") or [] if isinstance(f, dict)],
            "packets": capture.get("packets"),
            "bytes": capture.get("bytes"),
            "flows": capture.get("flows_created"),
            "flows_bypassed": inspection.get("flows_bypassed"),
            "input_errors": self.stats.get("input_errors") or [],
        }

    def _counts(self, incidents: list[dict[str, Any]]) -> dict[str, Any]:
        statuses: dict[str, list[int]] = {"compromised": [], "suspicious": [], "attacker": []}
        for host in self.hosts.values():
            if isinstance(ids := statuses.get(str(host.get("status"))), list):
                ids.append(host["event_id"])  # None for a stored incident's host: counted, not linked
        return {
            **{
                status: {"count": len(ids), "event_ids": [i for i in ids if i is not None][:IDS_KEPT]}
                for status, ids in statuses.items()
            },
            "incidents": {
                "count": len(incidents),
                "event_ids": [i["event_id"] for i in incidents if i["event_id"] is not None][:IDS_KEPT],
            },
            "verdicts": {
                "count": len(self.verdicts),
                "event_ids": [event_id for event_id, _ in self.verdicts.values()][:IDS_KEPT],
            },
            "events": {"count": sum(self.types.values()), "event_ids": []},
        }


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _pools(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per pool endpoint over all miners: what was spoken and how many shares went there."""
    pools: dict[tuple[str, Any], dict[str, Any]] = {}
    for verdict in verdicts:
        for pool in verdict.get("pools") or []:
            if not isinstance(pool, dict):
                continue
            entry = pools.setdefault(
                (str(pool.get("ip")), pool.get("port")),
                {"ip": pool.get("ip"), "port": pool.get("port"), "dialects": [], "coins": [], "miners": []},
            )
            for key in ("submits", "accepted", "rejected"):
                entry[key] = entry.get(key, 0) + int(_number(pool.get(key)))
            dialect = pool.get("dialect")
            for name in dialect if isinstance(dialect, list) else [dialect]:
                if name and name not in entry["dialects"]:
                    entry["dialects"].append(name)
            coin = pool.get("coin")
            coin_name = coin.get("coin") if isinstance(coin, dict) else coin
            if coin_name and coin_name not in entry["coins"]:
                entry["coins"].append(coin_name)
            entry["miners"].append(verdict.get("host"))
            entry.setdefault("event_ids", []).extend(
                verdict["event_ids"][: IDS_KEPT - len(entry["event_ids"])]
            )
    return sorted(pools.values(), key=lambda p: -p.get("submits", 0))


def _wallets(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    wallets: dict[str, dict[str, Any]] = {}
    for verdict in verdicts:
        for wallet in verdict.get("wallets") or []:
            if isinstance(wallet, dict) and wallet.get("address"):
                entry = wallets.setdefault(
                    str(wallet["address"]),
                    {"address": wallet["address"], "coin": wallet.get("coin"), "hosts": [], "event_ids": []},
                )
                entry["hosts"].append(verdict.get("host"))
                entry["event_ids"] = (entry["event_ids"] + verdict["event_ids"])[:IDS_KEPT]
    return list(wallets.values())


def _families(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    families: dict[str, dict[str, Any]] = {}
    for verdict in verdicts:
        for info in verdict.get("agent_info") or []:
            if isinstance(info, dict):
                entry = families.setdefault(
                    str(info.get("family") or "unknown"),
                    {"family": info.get("family") or "unknown", "agents": [], "hosts": [], "event_ids": []},
                )
                if info.get("agent") not in entry["agents"]:
                    entry["agents"].append(info.get("agent"))
                entry["hosts"].append(verdict.get("host"))
                entry["event_ids"] = (entry["event_ids"] + verdict["event_ids"])[:IDS_KEPT]
    return list(families.values())
