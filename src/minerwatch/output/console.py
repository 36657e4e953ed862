"""Human summary of an analysis: one row per host with its verdict, then what could not be read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from minerwatch.events import Event
from minerwatch.output.terminal import untrusted
from minerwatch.output.verdict_text import disk_lines, encrypted_lines

SUMMARY_ROWS = 50  # incidents and verdicts listed in the console summary; the events hold every one


def _pool_lines(verdict: dict) -> Text:
    lines = [
        f"{p['ip']}:{p['port']} {p['dialect'] if isinstance(p['dialect'], str) else '/'.join(p['dialect'])}"
        f" st{'+'.join(map(str, p['stages']))} sub {p['submits']} ({p['accepted']} ok/{p['rejected']} rej)"
        for p in verdict["pools"][:8]
    ]
    if len(verdict["pools"]) > 8:
        lines.append(f"… {len(verdict['pools']) - 8} more pools")
    lines += [
        f"{c['ip']}:{'/'.join(map(str, c['ports_contacted']))} {c['flows']} flow(s), pool confirmed on"
        f" {', '.join(c['confirmed_by'][:2])}"
        for c in verdict.get("confirmed_pools", [])[:4]
    ]
    return _lines(lines + encrypted_lines(verdict) + disk_lines(verdict))


def _lines(items: Iterable[object]) -> Text:
    """Values from traffic, one per line, as a cell that is never parsed as markup."""
    return Text("\n").join(untrusted(item) for item in items)


class FindingDigest:
    """An event sink that keeps, in bounded memory, what the summary shows of alerts and brute force:
    per signature, how often and between which hosts (the first few `source -> destination` pairs: an
    exploit goes from its attacker, a dropper script from the server that sent it, so a source alone
    would say nothing about who was hit)."""

    HOSTS_SHOWN = 4

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.hosts: dict[tuple[str, str], list[str]] = {}

    def __call__(self, event: Event) -> None:
        kind = event["event_type"]
        if kind == "alert":
            key = (kind, str(event["alert"].get("signature", "?")))
        elif kind == "bruteforce" and event["bruteforce"].get("phase") != "threshold":
            body = event["bruteforce"]
            success = " (a login succeeded)" if body.get("success") else ""
            what = "password spraying" if body.get("phase") == "spray" else "brute force"
            key = (kind, f"{body.get('service', '?')} {what}{success}")
        else:
            return
        self.counts[key] += 1
        hosts = self.hosts.setdefault(key, [])
        source, destination = event.get("src_ip"), event.get("dest_ip")
        pair = f"{source} -> {destination}" if destination else source
        if pair and pair not in hosts and len(hosts) < self.HOSTS_SHOWN:
            hosts.append(pair)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _findings_table(digest: FindingDigest) -> Table:
    table = Table(title="Alerts and brute force", show_lines=False)
    for column in ("kind", "what", "count", "source -> destination"):
        table.add_column(column, overflow="fold")
    for (kind, what), count in digest.counts.most_common(20):
        table.add_row(kind, untrusted(what), str(count), untrusted(", ".join(digest.hosts[(kind, what)])))
    return table


def _shown(events: list[Event], rank: Callable[[Event], float], what: str) -> tuple[list[Event], str | None]:
    """At most SUMMARY_ROWS of `events` for a table (the highest `rank` when there are more), and the
    caption that says how many the events hold besides: a large log or capture has thousands, which a
    console summary could neither show usefully nor render in less than minutes."""
    if len(events) <= SUMMARY_ROWS:
        return events, None
    top = sorted(events, key=rank, reverse=True)[:SUMMARY_ROWS]
    return top, f"the {SUMMARY_ROWS} highest of {len(events):,} {what}: the events hold them all"


def _incidents_table(incidents: list[Event]) -> Table:
    """One row per incident: the infection story in a line (docs/killchain.md)."""
    shown, caption = _shown(incidents, lambda e: e["incident"]["score"], "incidents by score")
    table = Table(title="Incidents (kill chain)", show_lines=True, caption=caption)
    for column in ("host", "status", "score", "stages reached", "attackers", "spread to", "files / pools"):
        table.add_column(column, overflow="fold")
    for event in shown:
        i = event["incident"]
        table.add_row(
            untrusted(i["host"]),
            i["status"],
            f"{i['score']:.2f}",
            "\n".join(f"{s['number']} {s['name']}" for s in i["stages"]),
            _lines(i["attackers"][:4]),
            _lines(i["spread_to"][:4]),
            _lines([f["sha256"][:16] for f in i["files"][:3]] + [p["address"] for p in i["pools"][:3]]),
        )
    return table


def render_summary(
    verdicts: list[Event],
    stats: Event,
    out: TextIO,
    digest: FindingDigest | None = None,
    incidents: list[Event] | None = None,
) -> None:
    console = render_findings(verdicts, out, digest, incidents)
    body = stats["stats"]
    capture = body["capture"]
    console.print(
        f"{capture['packets']:,} packets, {capture['flows_created']:,} flows "
        f"({body['inspection']['flows_bypassed']:,} bypassed), {len(body['files'])} file(s) read."
    )
    skipped = [
        f"{section.replace('_', ' ')}: {key.replace('_', ' ')} {counts[key]:,}"
        for section, keys in NOT_ANALYSED.items()
        if isinstance(counts := body.get(section), dict)
        for key in keys
        if counts.get(key)
    ]
    if skipped:
        console.print("Not analysed (counted): " + "; ".join(skipped))
    if capture.get("bad_timestamps"):
        console.print(f"Corrupt timestamps replaced by the capture's clock: {capture['bad_timestamps']:,}")
    render_problems(console, body["files"], body["input_errors"])


def render_findings(
    verdicts: list[Event],
    out: TextIO,
    digest: FindingDigest | None = None,
    incidents: list[Event] | None = None,
) -> Console:
    """The incidents, verdicts and alert digest tables (what `analyze` and `ingest` both found)."""
    console = Console(file=out, soft_wrap=False, width=200 if not out.isatty() else None)
    if incidents:
        console.print(_incidents_table(incidents))
    if verdicts:
        shown, caption = _shown(verdicts, lambda e: e["verdict"]["confidence"], "verdicts by confidence")
        table = Table(title="Mining verdicts", show_lines=True, caption=caption)
        for column in (
            "host",
            "activity",
            "stages",
            "conf.",
            "pools",
            "login / wallet",
            "agent",
            "first / last seen",
        ):
            table.add_column(column, overflow="fold")
        for event in shown:
            v = event["verdict"]
            logins = [login[:60] for login in v.get("logins", [])[:3]]
            table.add_row(
                untrusted(v["host"]),
                untrusted(v["activity"]),
                "+".join(map(str, v["stages"])),
                f"{v['confidence']:.2f}",
                _pool_lines(v),
                _lines(logins or (f"intel: {h['indicator']}" for h in v.get("intel", [])[:3])),
                _lines(v.get("agents", [])[:3]),
                _lines((v["first_seen"], v["last_seen"])),
            )
        console.print(table)
    else:
        console.print("No mining found.")
    if digest is not None and digest.total:
        console.print(_findings_table(digest))
    return console


def render_problems(console: Console, files: list[dict[str, Any]], errors: list[str]) -> None:
    """Each input's warnings and each input error, one line apiece, never folded (so they can be searched)."""
    for f in files:
        for warning in f["warnings"]:
            line = Text.assemble(("warning", "yellow"), ": ", untrusted(f"{f['path']}: {warning}"))
            console.print(line, soft_wrap=True)
    for error in errors:
        console.print(Text.assemble(("error", "red"), ": ", untrusted(error)), soft_wrap=True)


# What each stage could not use, by stats section: what the summary's "Not analysed" line reports.
# (IP fragments are not here: they are reassembled and analysed; the defragmenter counts what it drops.)
NOT_ANALYSED: dict[str, tuple[str, ...]] = {
    "capture": ("truncated_packets", "unsupported_linktype", "non_ip", "other_ip_proto", "bad_ip_header"),
    "inspection": ("flows_evicted_in_analysis", "reassembly_gaps", "reassembly_memcap_gaps"),
    "defrag": ("expired", "dropped_full", "dropped_memcap", "invalid"),
    "correlation": ("contacts_forgotten", "weak_flows_dropped", "hosts_forgotten", "steps_dropped"),
    "scan": ("keys_forgotten",),
    "http": ("protocol_errors", "bodies_clipped"),
    "pool_protocols": ("overlong_lines", "invalid_json_lines", "dropped_requests"),
    "obfuscated_pool_protocols": ("decode_failures",),
    "carving": ("ftp_data_unmatched", "yara_timeouts", "yara_errors"),
    "bruteforce": ("campaigns_evicted",),
    "intel": ("dns_errors",),
}
