"""JSON documents (STIX bundles, MISP events) read as a stream, so memory does not grow with their size.

ijson's yajl2 C backend tokenises the file in 64 KiB chunks; `walk` follows the path of each token and
builds only the values a reader asks for (one MISP attribute, one STIX object), so peak memory is the
largest such value plus buffers, never the document. The path is tracked here, on `basic_parse`, and not
with ijson's own prefixes: those keep one string per level whose length grows with the level, so a
document nested 100,000 deep costs gigabytes. Nesting deeper than MAX_DEPTH is refused instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ijson

from minerwatch.errors import InputError

MAX_DEPTH = 64  # STIX and MISP documents nest about 8 levels deep
BUILD, KIND = True, False  # what `walk` gives for a wanted container: the value, or only its JSON kind
_STARTS = {"start_map": "object", "start_array": "array"}
_ENDS = ("end_map", "end_array")


def kind_of(value: Any) -> str:
    """The JSON name of a built value's type, for messages."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else "boolean" if isinstance(value, bool) else "number"


def walk(path: Path, wanted: Mapping[str, bool]) -> Iterator[tuple[str, str, Any]]:
    """(prefix, kind, value) for each value whose ijson-style prefix ('Event.Attribute.item') is in
    `wanted`, in document order. `kind` is 'object', 'array' or 'scalar'; a container's value is built
    whole when wanted[prefix] is BUILD, else None. Raises InputError for invalid or too deeply nested
    JSON (after the values before the fault were given)."""
    try:
        with path.open("rb") as fh:
            yield from _walk(ijson.basic_parse(fh, use_float=True), wanted)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except _TooDeep:
        raise InputError(f"{path}: JSON nested deeper than {MAX_DEPTH} levels") from None
    except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not valid JSON: {reason[:200]}") from None


class _TooDeep(Exception):
    pass


def _walk(events: Iterator[tuple[str, Any]], wanted: Mapping[str, bool]) -> Iterator[tuple[str, str, Any]]:
    # Containers on no wanted path are skipped by a depth count alone: no prefix strings, no building.
    paths = {prefix.rsplit(".", n)[0] for prefix in wanted for n in range(1, prefix.count(".") + 1)}
    containers: list[tuple[str, bool]] = []  # (prefix, is an array) of each open container
    current = ""  # the prefix of the next value
    for event, value in events:
        if event == "map_key":
            parent = containers[-1][0]
            current = f"{parent}.{value}" if parent else value
            continue
        if event in _ENDS:
            containers.pop()
            if containers and containers[-1][1]:
                current = f"{containers[-1][0]}.item" if containers[-1][0] else "item"
            continue
        mode = wanted.get(current)
        if event not in _STARTS:
            if mode is not None:
                yield current, "scalar", value
            continue
        if len(containers) >= MAX_DEPTH:
            raise _TooDeep
        if mode is BUILD:
            yield current, _STARTS[event], _build(event, events, MAX_DEPTH - len(containers))
            continue  # its end event was consumed: `current` still names its siblings
        if mode is not None:
            yield current, _STARTS[event], None
        if current in paths or current == "":
            containers.append((current, event == "start_array"))
            if event == "start_array":
                current = f"{current}.item" if current else "item"
        else:
            _skip(events, MAX_DEPTH - len(containers))


def _skip(events: Iterator[tuple[str, Any]], depth_left: int) -> None:
    depth = 1
    for event, _ in events:
        if event in _STARTS:
            depth += 1
            if depth > depth_left:
                raise _TooDeep
        elif event in _ENDS:
            depth -= 1
            if not depth:
                return


def _build(first: str, events: Iterator[tuple[str, Any]], depth_left: int) -> Any:
    """The value that starts with `first`, from its events (ijson's ObjectBuilder, inlined: twice as fast)."""
    root: Any = {} if first == "start_map" else []
    stack = [root]
    key = ""
    for event, value in events:
        if event == "map_key":
            key = value
            continue
        if event in _ENDS:
            stack.pop()
            if not stack:
                return root
            continue
        if event in _STARTS:
            value = {} if event == "start_map" else []
        top = stack[-1]
        if type(top) is dict:
            top[key] = value
        else:
            top.append(value)
        if event in _STARTS:
            stack.append(value)
            if len(stack) > depth_left:
                raise _TooDeep
    return root
