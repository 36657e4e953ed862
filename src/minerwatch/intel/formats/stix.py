"""STIX 2.1 bundles: indicator objects with STIX patterns, validated by the OASIS `stix2` libraries.

Each indicator is checked by `stix2.parse` and its pattern read by `stix2patterns`; only equality
comparisons on the observables we can match are taken. Family comes from `indicates` relationships
to malware objects, else from the indicator's name. Problems are numbered by position in `objects`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import stix2
import stix2.exceptions
from stix2patterns.pattern import ParseException, Pattern

from minerwatch.intel.formats.base import Problems
from minerwatch.intel.model import Indicator
from minerwatch.intel.normalize import guess, host_of

# (object type, property path) -> indicator type; "url" reduces to its host.
_PATHS: dict[tuple[str, tuple[str, ...]], str] = {
    ("domain-name", ("value",)): "domain",
    ("ipv4-addr", ("value",)): "ip",
    ("ipv6-addr", ("value",)): "ip",
    ("url", ("value",)): "url",
    ("file", ("hashes", "MD5")): "hash",
    ("file", ("hashes", "SHA-1")): "hash",
    ("file", ("hashes", "SHA-256")): "hash",
    ("network-traffic", ("extensions", "http-request-ext", "request_header", "User-Agent")): "agent",
}


def read(document: Any, problems: Problems) -> Iterator[Indicator]:
    if not isinstance(document, dict) or document.get("type") != "bundle":
        problems.add(0, "not a STIX bundle (no top-level object of type 'bundle')")
        return
    objects = document.get("objects")
    if not isinstance(objects, list):
        problems.add(0, "bundle has no 'objects' list")
        return
    families = _families(objects)
    for number, obj in enumerate(objects, 1):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        try:
            parsed = stix2.parse(obj, allow_custom=True, version="2.1")
        except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
            problems.add(number, f"invalid STIX indicator: {str(exc).splitlines()[0][:200]}")
            continue
        if parsed.get("pattern_type") != "stix":
            problems.add(number, f"pattern type {parsed.get('pattern_type')!r} is not supported")
            continue
        try:
            comparisons = Pattern(parsed["pattern"]).inspect().comparisons
        except ParseException as exc:
            problems.add(number, f"bad pattern: {exc}")
            continue
        fields = _fields(parsed, families)
        found = 0
        for object_type, terms in comparisons.items():
            for path, op, literal in terms:
                kind = _PATHS.get((object_type, tuple(str(p) for p in path)))
                if kind is None or op != "=":
                    continue
                value = str(literal).strip("'")
                try:
                    if kind == "url":
                        kind, value = guess(host_of(value))
                    yield Indicator.build(kind, value, **fields)
                    found += 1
                except ValueError as exc:
                    problems.add(number, f"{exc}: {value[:80]!r}")
        if not found:
            problems.add(number, "pattern has no '=' comparison on a supported observable")


def _families(objects: list[Any]) -> dict[str, str]:
    """indicator id -> malware name, from `indicates` relationships."""
    malware = {
        o.get("id"): o.get("name") for o in objects if isinstance(o, dict) and o.get("type") == "malware"
    }
    result: dict[str, str] = {}
    for o in objects:
        if (
            isinstance(o, dict)
            and o.get("type") == "relationship"
            and o.get("relationship_type") == "indicates"
        ):
            name = malware.get(o.get("target_ref"))
            if name:
                result[str(o.get("source_ref"))] = str(name)
    return result


def _fields(indicator: Any, families: dict[str, str]) -> dict[str, Any]:
    refs = indicator.get("external_references") or []
    return {
        "family": families.get(indicator["id"]) or indicator.get("name") or "",
        "tags": list(indicator.get("labels") or []) + list(indicator.get("indicator_types") or []),
        "confidence": indicator.get("confidence"),
        "first_seen": str(indicator["valid_from"]) if indicator.get("valid_from") else None,
        "valid_until": str(indicator["valid_until"]) if indicator.get("valid_until") else None,
        "reference": next((r.get("url") for r in refs if r.get("url")), ""),
    }
