"""MISP event JSON ({"Event": ...}, or a {"response": [...]} of them), read with the stdlib.

The format is a plain JSON document whose attribute types map one-to-one onto ours; PyMISP would add a
web client and a dozen dependencies for this mapping. Composite types ('ip-dst|port',
'filename|sha256', 'domain|ip') contribute each part we can match.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minerwatch.intel.formats.base import Problems
from minerwatch.intel.model import Indicator
from minerwatch.intel.normalize import guess, host_of

_TYPES = {
    "domain": "domain",
    "hostname": "domain",
    "ip-dst": "ip",
    "ip-src": "ip",
    "url": "url",
    "uri": "url",
    "md5": "hash",
    "sha1": "hash",
    "sha256": "hash",
    "filename": None,
    "user-agent": "agent",
    "ja3-fingerprint-md5": "ja3",
    "btc": "wallet",
    "xmr": "wallet",
    "dash": "wallet",
}


def read(document: Any, problems: Problems) -> Iterator[Indicator]:
    events = _events(document)
    if not events:
        problems.add(0, "not a MISP event (no 'Event' object)")
        return
    number = 0
    for event in events:
        fields = _event_fields(event)
        attributes = list(event.get("Attribute") or [])
        for obj in event.get("Object") or []:
            if isinstance(obj, dict):
                attributes += obj.get("Attribute") or []
        for attribute in attributes:
            number += 1
            if not isinstance(attribute, dict):
                problems.add(number, "attribute is not an object")
                continue
            yield from _attribute(attribute, fields, number, problems)


def _events(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        document = document["response"]
    items = document if isinstance(document, list) else [document]
    return [i["Event"] for i in items if isinstance(i, dict) and isinstance(i.get("Event"), dict)]


def _names(items: Any) -> list[str]:
    return [str(t["name"]) for t in items or [] if isinstance(t, dict) and t.get("name")]


def _event_fields(event: dict[str, Any]) -> dict[str, Any]:
    clusters = [
        str(c.get("value"))
        for g in event.get("Galaxy") or []
        if isinstance(g, dict)
        for c in g.get("GalaxyCluster") or []
        if isinstance(c, dict) and c.get("value")
    ]
    return {
        "family": clusters[0] if clusters else str(event.get("info") or "")[:120],
        "tags": _names(event.get("Tag")),
        "reference": f"MISP event {event.get('uuid') or event.get('id') or ''}".strip(),
    }


def _attribute(
    attribute: dict[str, Any], fields: dict[str, Any], number: int, problems: Problems
) -> Iterator[Indicator]:
    kinds = str(attribute.get("type") or "").split("|")
    values = str(attribute.get("value") or "").split("|")
    if len(kinds) != len(values):
        problems.add(number, f"type {attribute.get('type')!r} does not fit value {attribute.get('value')!r}")
        return
    own = dict(fields)
    own["tags"] = fields["tags"] + _names(attribute.get("Tag"))
    own["first_seen"] = attribute.get("first_seen")
    own["last_seen"] = attribute.get("last_seen")
    if attribute.get("comment"):
        own["reference"] = f"{fields['reference']}: {attribute['comment']}"[:500]
    usable = [(k, v) for k, v in zip(kinds, values, strict=True) if _TYPES.get(k)]
    if not usable:
        if not any(k in _TYPES for k in kinds):
            problems.add(number, f"attribute type {attribute.get('type')!r} is not supported")
        return
    for misp_kind, value in usable:
        kind = _TYPES[misp_kind]
        try:
            if kind == "url":
                kind, value = guess(host_of(value))
            yield Indicator.build(kind, value, **own)
        except ValueError as exc:
            problems.add(number, f"{exc}: {value[:80]!r}")
