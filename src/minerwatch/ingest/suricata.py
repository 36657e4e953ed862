"""Suricata EVE JSON lines (https://docs.suricata.io/en/latest/output/eve/eve-json-format.html) as Records.

Read: `alert` (the stage from the rule, see classify.py; `minerwatch_behaviour` metadata makes it a pool
behaviour too), `flow` (both addresses for intel), `dns` (names asked and answered, EVE v2 and v3), `tls`
(SNI, JA3, JA4) and `fileinfo` (a file's hashes and libmagic type). Other event types are counted and
skipped. Who is the client: an alert's `flow` object (Suricata 7) or its `direction`; every other event
is written from the client's side.
"""

from __future__ import annotations

from typing import Any

from minerwatch.correlate.observations import Behaviour
from minerwatch.ingest import classify
from minerwatch.ingest.fields import (
    Bad,
    address,
    count,
    mapping,
    normal_address,
    port,
    seconds,
    strings,
    text,
    timestamp,
)
from minerwatch.ingest.records import Answer, Connection, Endpoints, FileSeen, Finding, PoolMessage, Record
from minerwatch.intel.dnscache import MIN_TTL, chain

READ = frozenset({"alert", "flow", "dns", "tls", "fileinfo"})
SIGNATURE_FIELDS = ("gid", "signature_id", "rev", "severity")
MAX_RECORDS = 64  # DNS answer records read per event


def looks_like_eve(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("event_type"), str) and "timestamp" in value


def record(event: dict[str, Any], line: int) -> Record | None:
    """The Record of one EVE event; None for an event type not read. Raises Bad for a malformed one."""
    kind = text(event, "event_type", required=True)
    if kind not in READ:
        return None
    ts = timestamp(event.get("timestamp"), "timestamp")
    ends = _endpoints(event, reverse=kind == "alert" and _reversed(event))
    base: dict[str, Any] = {"sensor": "suricata", "log": str(kind), "line": line, "ts": ts, "endpoints": ends}
    if kind == "flow":
        return Record(**base, lookup_addresses=True, connection=_connection(mapping(event, "flow"), ts))
    if kind == "dns":
        dns = mapping(event, "dns")
        return Record(**base, domains=_dns_names(dns), answers=_dns_answers(dns))
    if kind == "tls":
        tls = mapping(event, "tls")
        ja3 = mapping(tls, "ja3").get("hash")
        ja4 = tls.get("ja4")
        return Record(
            **base,
            domains=tuple(n for n in [text(tls, "sni")] if n),
            ja3=(ja3,) if isinstance(ja3, str) and ja3 else (),
            ja4=(ja4,) if isinstance(ja4, str) and ja4 else (),
        )
    if kind == "fileinfo":
        info = mapping(event, "fileinfo")
        receiver, sender = address(event, "dest_ip"), address(event, "src_ip")
        seen = FileSeen(
            receiver=receiver,
            sender=sender,
            name=text(info, "filename"),
            kind=text(info, "magic") or "",
            sha256=text(info, "sha256"),
            md5=text(info, "md5"),
        )
        return Record(**base, file=seen)
    return _alert(event, base, ends)


def _reversed(event: dict[str, Any]) -> bool:
    """Whether the alert's src is the flow's server (a packet sent to the client)."""
    flow = mapping(event, "flow")
    if isinstance(flow.get("src_ip"), str) and isinstance(event.get("src_ip"), str):
        return flow["src_ip"] != event["src_ip"] or flow.get("src_port") != event.get("src_port")
    return event.get("direction") == "to_client"


def _endpoints(event: dict[str, Any], reverse: bool) -> Endpoints:
    src, dest = address(event, "src_ip"), address(event, "dest_ip")
    proto = (text(event, "proto") or "").upper()
    ports = (port(event, "src_port"), port(event, "dest_port")) if proto in ("TCP", "UDP") else (0, 0)
    flow_id = event.get("flow_id")
    community = event.get("community_id")
    client, server = ((dest, ports[1]), (src, ports[0])) if reverse else ((src, ports[0]), (dest, ports[1]))
    return Endpoints(
        client=client[0],
        client_port=client[1],
        server=server[0],
        server_port=server[1],
        proto=proto,
        flow_id=flow_id
        if isinstance(flow_id, int) and not isinstance(flow_id, bool) and flow_id > 0
        else None,
        community_id=community if isinstance(community, str) else None,
    )


def _dns_names(dns: dict[str, Any]) -> tuple[str, ...]:
    """Names asked (v2 `rrname`, v3 `queries`) and answered, CNAME targets included."""
    names = [text(dns, "rrname")]
    for key in ("queries", "answers"):
        entries = dns.get(key)
        for entry in entries[:64] if isinstance(entries, list) else ():
            if isinstance(entry, dict):
                names.append(entry.get("rrname") if isinstance(entry.get("rrname"), str) else None)
                if entry.get("rrtype") == "CNAME" and isinstance(entry.get("rdata"), str):
                    names.append(entry["rdata"])
    return tuple(dict.fromkeys(n[:1024] for n in names if n))[:16]


def _connection(flow: dict[str, Any], ts: float) -> Connection:
    """The flow's start and end (the event's own time when absent) and whether the server answered. EVE
    says nothing of a failed attempt the way Zeek's conn_state does: `failed` stays False."""
    start = timestamp(flow["start"], "flow.start") if "start" in flow else ts
    end = timestamp(flow["end"], "flow.end") if "end" in flow else start
    return Connection(start, max(start, end), answered=bool(count(flow, "pkts_toclient")), failed=False)


def _dns_answers(dns: dict[str, Any]) -> tuple[Answer, ...]:
    """Addresses answered (A, AAAA) for their owner and every name CNAMEd to it: the `answers` list (EVE
    v2 and v3) or, in EVE v1, the event itself (one record per event)."""
    entries = dns.get("answers")
    records = [e for e in entries[:MAX_RECORDS] if isinstance(e, dict)] if isinstance(entries, list) else []
    if "rdata" in dns:
        records.append(dns)
    aliases: dict[str, set[str]] = {}
    for entry in records:
        if entry.get("rrtype") == "CNAME" and isinstance(entry.get("rdata"), str):
            owner = entry.get("rrname")
            if isinstance(owner, str):
                aliases.setdefault(entry["rdata"][:253].lower(), set()).add(owner[:253].lower())
    out: list[Answer] = []
    for entry in records:
        owner, rdata = entry.get("rrname"), entry.get("rdata")
        if (
            entry.get("rrtype") not in ("A", "AAAA")
            or not isinstance(owner, str)
            or not isinstance(rdata, str)
        ):
            continue
        if (resolved := normal_address(rdata)) is None:
            continue
        ttl = seconds(entry.get("ttl"), MIN_TTL)
        out += [Answer(n, resolved, ttl) for n in chain(owner[:253].lower(), aliases)]
    return tuple(out[:MAX_RECORDS])


def _alert(event: dict[str, Any], base: dict[str, Any], ends: Endpoints) -> Record:
    alert = mapping(event, "alert")
    signature = text(alert, "signature", required=True) or ""
    category = text(alert, "category") or ""
    metadata = {
        str(key): strings(values, f"alert.metadata.{key}")
        for key, values in mapping(alert, "metadata").items()
    }
    kind = classify.classify(f"{signature} | {category}", metadata)
    severity = alert.get("severity")
    level = classify.LEVEL.get(severity, 0.6) if isinstance(severity, int) else 0.6
    info: dict[str, object] = {
        k: alert[k]
        for k in SIGNATURE_FIELDS
        if isinstance(alert.get(k), int) and not isinstance(alert[k], bool)
    }
    info |= {"signature": signature, "category": category}
    finding = None
    if kind is not None:
        victim = classify.attacked_side(kind.stage)
        finding = Finding(
            stage=kind.stage,
            technique=kind.technique,
            host=ends.server if victim else ends.client,
            peer=ends.client if victim else ends.server,
            label=signature,
            level=level,
            confidence=classify.confidence(metadata),
            service=next(iter(metadata.get("minerwatch_service", ())), None),
            signature=info,
        )
    return Record(**base, finding=finding, pool=_pool_message(metadata, ends))


def _pool_message(metadata: dict[str, list[str]], ends: Endpoints) -> PoolMessage | None:
    """A pool behaviour our rules name in `minerwatch_behaviour` (the miner is the client)."""
    for value in metadata.get("minerwatch_behaviour", ()):
        try:
            behaviour = Behaviour(value.strip().lower())
        except ValueError:
            raise Bad(f"unknown minerwatch_behaviour {value[:40]!r}") from None
        dialect = next(iter(metadata.get("minerwatch_dialect", ())), "unknown")
        return PoolMessage(behaviour, ends.client, ends.server, ends.server_port, dialect[:40])
    return None
