"""MISP event JSON ({"Event": ...}, a {"response": [...]} or a list of them), streamed.

The format is a plain JSON document whose attribute types map one-to-one onto ours; PyMISP would add a
web client and a dozen dependencies for this mapping. Composite types ('ip-dst|port',
'filename|sha256', 'domain|ip') contribute each part we can match.

An event's Tag and Galaxy lists, which name the family, come after its attributes in MISP's own
exports, so the file is walked twice in step (stream.walk): one walk reads each event's header, the
other its attributes, one at a time. Memory is one attribute and one header, whatever the file size.
Problems are numbered by attribute in document order; those of an event as a whole are numbered 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from minerwatch.intel.formats.base import Problems
from minerwatch.intel.formats.stream import BUILD, KIND, kind_of, walk
from minerwatch.intel.model import Indicator
from minerwatch.intel.normalize import guess, host_of, text

MAX_EVENT_TAGS = 64  # tags and galaxy clusters kept per event (every one is still walked)
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
_EVENTS = ("Event", "response.item.Event", "item.Event")


def _paths(roles: dict[str, tuple[str, bool]]) -> tuple[dict[str, str], dict[str, bool]]:
    """(prefix -> role, prefix -> walk mode) for every place an event can be."""
    role = {f"{e}{suffix}": name for e in _EVENTS for suffix, (name, _) in roles.items()}
    mode = {f"{e}{suffix}": build for e in _EVENTS for suffix, (_, build) in roles.items()}
    return role, mode


_ATTRIBUTE_ROLES, _ATTRIBUTE_MODES = _paths(
    {
        "": ("event", KIND),
        ".Attribute": ("list", KIND),
        ".Attribute.item": ("attribute", BUILD),
        ".Object": ("list", KIND),
        ".Object.item": ("object", KIND),
        ".Object.item.Attribute": ("list", KIND),
        ".Object.item.Attribute.item": ("attribute", BUILD),
    }
)
_HEADER_ROLES, _HEADER_MODES = _paths(
    {
        "": ("event", KIND),
        ".info": ("info", BUILD),
        ".uuid": ("uuid", BUILD),
        ".id": ("id", BUILD),
        ".Tag": ("list", KIND),
        ".Tag.item": ("tag", BUILD),
        ".Galaxy": ("list", KIND),
        ".Galaxy.item": ("galaxy", BUILD),
    }
)


def read(path: Path, problems: Problems) -> Iterator[Indicator]:
    headers = _headers(path, problems)
    event = 0
    fields: dict[str, Any] = {}
    number = 0
    for owner, attribute in _attributes(path, problems):
        while event < owner:
            event, fields = next(headers)
        number += 1
        if not isinstance(attribute, dict):
            problems.add(number, f"attribute is a JSON {kind_of(attribute)}, not an object")
            continue
        yield from _attribute(attribute, fields, number, problems)
    event = max((e for e, _ in headers), default=event)  # the rest of the header walk: problems, count
    if not event:
        problems.add(0, "not a MISP event (no 'Event' object)")


def _structure(role: str, prefix: str, kind: str, value: Any, event: int, problems: Problems) -> None:
    """Report a container of the wrong JSON type ('Attribute' must be an array, an object an object)."""
    name = prefix.rsplit(".", 1)[-1] if role != "object" else "an Object entry"
    want = {"event": "object", "object": "object"}.get(role, "array")
    if kind != want and not (role == "list" and kind == "scalar" and value is None):
        problems.add(
            0,
            f"event {event}: {name} is a JSON {kind if kind != 'scalar' else kind_of(value)}, "
            f"not an {want}; ignored",
        )


def _attributes(path: Path, problems: Problems) -> Iterator[tuple[int, Any]]:
    """(event number, attribute) in document order."""
    event = 0
    for prefix, kind, value in walk(path, _ATTRIBUTE_MODES):
        role = _ATTRIBUTE_ROLES[prefix]
        event += role == "event"
        if role == "attribute":
            yield event, value
        elif role != "event":  # the header walk reports an event that is not an object
            _structure(role, prefix, kind, value, event, problems)


def _headers(path: Path, problems: Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    """(event number, the fields every attribute of it gets), once each event has been read whole."""
    event = 0
    header: dict[str, Any] = {}
    for prefix, kind, value in walk(path, _HEADER_MODES):
        role = _HEADER_ROLES[prefix]
        if role == "event":
            if event:
                yield event, _fields(header)
            event += 1
            header = {"tags": [], "clusters": []}
        if role in ("event", "list"):
            _structure(role, prefix, kind, value, event, problems)
            continue
        try:
            if role == "tag":
                header["tags"] += _names([value], "name", "a Tag entry")
            elif role == "galaxy":
                if not isinstance(value, dict):
                    raise ValueError(f"a Galaxy entry is a JSON {kind_of(value)}, not an object")
                header["clusters"] += _names(value.get("GalaxyCluster"), "value", "GalaxyCluster")
            else:
                header[role] = text(role, value)
        except ValueError as exc:
            problems.add(0, f"event {event}: {exc}; ignored")
    if event:
        yield event, _fields(header)


def _fields(header: dict[str, Any]) -> dict[str, Any]:
    clusters = header["clusters"]
    return {
        "family": clusters[0] if clusters else header.get("info", "")[:120],
        "tags": header["tags"][:MAX_EVENT_TAGS],
        "reference": f"MISP event {header.get('uuid') or header.get('id') or ''}".strip(),
    }


def _names(items: Any, key: str, label: str) -> list[str]:
    """The `key` of each object of a Tag or GalaxyCluster list; raises ValueError for a wrong shape."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError(f"{label} is a JSON {kind_of(items)}, not an array")
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"{label} holds a JSON {kind_of(item)}, not an object")
    return [name for name in (text(key, i.get(key)) for i in items[:MAX_EVENT_TAGS]) if name]


def _attribute(
    attribute: dict[str, Any], fields: dict[str, Any], number: int, problems: Problems
) -> Iterator[Indicator]:
    try:
        misp_type, misp_value = text("type", attribute.get("type")), text("value", attribute.get("value"))
        own = dict(fields, first_seen=attribute.get("first_seen"), last_seen=attribute.get("last_seen"))
        own["tags"] = fields["tags"] + _names(attribute.get("Tag"), "name", "Tag")
        comment = text("comment", attribute.get("comment"))
    except ValueError as exc:
        problems.add(number, f"attribute skipped: {exc}")
        return
    kinds, values = misp_type.split("|"), misp_value.split("|")
    if len(kinds) != len(values):
        problems.add(number, f"type {misp_type[:40]!r} does not fit value {misp_value[:80]!r}")
        return
    if comment:
        own["reference"] = f"{fields['reference']}: {comment}"[:500]
    usable = [(t, v) for k, v in zip(kinds, values, strict=True) if (t := _TYPES.get(k))]
    if not usable:
        if not any(k in _TYPES for k in kinds):
            problems.add(number, f"attribute type {misp_type[:40]!r} is not supported")
        return
    for kind, value in usable:
        try:
            if kind == "url":
                kind, value = guess(host_of(value))
            yield Indicator.build(kind, value, **own)
        except ValueError as exc:
            problems.add(number, f"{exc}: {value[:80]!r}")
