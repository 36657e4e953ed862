"""STIX 2.1 bundles: indicator objects with STIX patterns, validated by the OASIS `stix2` libraries.

Each indicator is checked by `stix2.parse` and its pattern read by `stix2patterns`; only equality
comparisons on the observables we can match are taken. Family comes from `indicates` relationships
to malware objects, else from the indicator's name. Problems are numbered by position in `objects`.

The bundle is streamed (stream.walk) twice: first the malware names and `indicates` relationships
(kept: a few strings each), then the objects one at a time. The ANTLR pattern parser costs about
0.3 ms per term and recurses per OR, so patterns longer than MAX_PATTERN characters are rejected unread
and one that still nests too deep for Python is rejected, each counted as a bad indicator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import stix2
import stix2.exceptions
from stix2patterns.pattern import ParseException, Pattern

from minerwatch.intel.formats.base import Problems
from minerwatch.intel.formats.stream import BUILD, KIND, walk
from minerwatch.intel.model import Indicator
from minerwatch.intel.normalize import guess, host_of

MAX_PATTERN = 16 * 1024  # characters; real patterns are well under 1 KiB
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


def read(path: Path, problems: Problems) -> Iterator[Indicator]:
    families = _survey(path, problems)
    if families is None:
        return
    for number, (_, _, obj) in enumerate(walk(path, {"objects.item": BUILD}), 1):
        if isinstance(obj, dict) and obj.get("type") == "indicator":
            yield from _indicator(obj, number, families, problems)


def _indicator(
    obj: dict[str, Any], number: int, families: dict[str, str], problems: Problems
) -> Iterator[Indicator]:
    pattern = obj.get("pattern")
    if isinstance(pattern, str) and len(pattern) > MAX_PATTERN:
        problems.add(number, f"pattern longer than {MAX_PATTERN} characters, not read")
        return
    try:
        parsed = stix2.parse(obj, allow_custom=True, version="2.1")
        if parsed.get("pattern_type") != "stix":
            problems.add(number, f"pattern type {parsed.get('pattern_type')!r} is not supported")
            return
        comparisons = Pattern(parsed["pattern"]).inspect().comparisons
        fields = _fields(parsed, families)
    except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
        problems.add(number, f"invalid STIX indicator: {str(exc).splitlines()[0][:200]}")
        return
    except ParseException as exc:
        problems.add(number, f"bad pattern: {exc}")
        return
    except RecursionError:
        problems.add(number, "pattern nested too deeply to read")
        return
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


def _survey(path: Path, problems: Problems) -> dict[str, str] | None:
    """indicator id -> malware name, from `indicates` relationships; None (reported) if not a bundle."""
    wanted = {"type": BUILD, "objects": KIND, "objects.item": KIND}
    wanted.update({f"objects.item.{key}": BUILD for key in _KEPT})
    is_bundle, objects = False, None
    malware: dict[str, str] = {}
    indicates: list[tuple[str, str]] = []
    current: dict[str, Any] = {}
    for prefix, kind, value in walk(path, wanted):
        if prefix == "type":
            is_bundle = value == "bundle"
        elif prefix == "objects":
            objects = kind
        elif prefix == "objects.item":
            _note(current, malware, indicates)
            current = {}
        else:
            current[prefix.rsplit(".", 1)[1]] = value
    _note(current, malware, indicates)
    if not is_bundle:
        problems.add(0, "not a STIX bundle (no top-level object of type 'bundle')")
        return None
    if objects != "array":
        problems.add(0, f"bundle has no 'objects' array ({objects or 'none'})")
        return None
    return {source: malware[target] for source, target in indicates if target in malware}


_KEPT = ("type", "id", "name", "relationship_type", "source_ref", "target_ref")


def _note(obj: dict[str, Any], malware: dict[str, str], indicates: list[tuple[str, str]]) -> None:
    """Keep what the family lookup needs of one object (strings only: the rest is hostile noise)."""
    if not all(isinstance(v, str) for v in obj.values()):
        return
    if obj.get("type") == "malware" and obj.get("id") and obj.get("name"):
        malware[obj["id"]] = obj["name"]
    elif obj.get("type") == "relationship" and obj.get("relationship_type") == "indicates":
        indicates.append((obj.get("source_ref", ""), obj.get("target_ref", "")))


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
