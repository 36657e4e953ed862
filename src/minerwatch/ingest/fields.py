"""Checked reads of fields from a parsed log line: a sensor log is input like any other, so a field of the
wrong type, an address that is none or a time out of range is a Bad line (counted, reported with its
number), never an exception further in."""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime
from functools import lru_cache
from typing import Any

MAX_TEXT = 4096  # longer strings (a signature, a name) are cut: they are labels, not evidence
ADDRESSES_CACHED = 16_384  # normal forms remembered: a network's hosts recur on every line (about 3 MB)
MAX_ADDRESS = 64  # characters: an IPv6 address with a zone is shorter; longer text is never cached


class Bad(ValueError):
    """A line whose needed fields are missing or malformed; the message names the field."""


def text(record: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise Bad(f"no {key}")
        return None
    if not isinstance(value, str):
        raise Bad(f"{key} is not a string")
    return value[:MAX_TEXT]


def address(record: dict[str, Any], key: str) -> str:
    """An IP address in its normal text form."""
    value = text(record, key, required=True)
    normal = normal_address(value) if value is not None else None
    if normal is None:
        raise Bad(f"{key} is not an IP address")
    return normal


def normal_address(value: str) -> str | None:
    """`value` in the normal text form of its IP address, or None when it is none. Parsing with ipaddress
    was a sixth of ingest's time, for the same few thousand hosts on line after line: the answers are kept
    in a bounded cache (short strings only, so hostile text cannot fill it with 4 KiB keys)."""
    return _normal(value) if len(value) <= MAX_ADDRESS else _parse(value)


def _parse(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


_normal = lru_cache(maxsize=ADDRESSES_CACHED)(_parse)


def port(record: dict[str, Any], key: str) -> int:
    value = record.get(key)
    if isinstance(value, str) and value.isdigit():  # Zeek TSV
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
        raise Bad(f"{key} is not a port number")
    return value


def count(record: dict[str, Any], key: str) -> int | None:
    """A non-negative count (a JSON number or a TSV digit string); None when absent."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Bad(f"{key} is not a count")
    return value


def seconds(value: Any, default: float) -> float:
    """A duration or TTL (a number, or its TSV text) in [0, 10 years]; `default` when it is none: a
    hostile value must not stretch a window or an expiry."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return default
    if not isinstance(value, int | float) or isinstance(value, bool):
        return default
    value = float(value)
    return value if math.isfinite(value) and 0 <= value <= 315_360_000 else default


def mapping(record: dict[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Bad(f"{key} is not an object")
    return value


def strings(value: Any, key: str, limit: int = 64) -> list[str]:
    """A list of strings (a Zeek set or vector, EVE metadata values); other items are skipped."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Bad(f"{key} is not a list")
    return [v[:MAX_TEXT] for v in value[:limit] if isinstance(v, str)]


# Times a capture can have: 1970 to 9999 (the events' ISO timestamps cannot say more).
_LAST = 253402300799.0


def timestamp(value: Any, key: str) -> float:
    """Seconds since the epoch from an epoch number (Zeek) or an ISO 8601 text (EVE, Zeek JSON)."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                seconds = float(value)
            except ValueError:
                raise Bad(f"{key} is not a time") from None
        else:
            if moment.tzinfo is None:
                raise Bad(f"{key} has no time zone")
            seconds = moment.timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise Bad(f"no {key}")
    if not (math.isfinite(seconds) and 0 <= seconds <= _LAST):
        raise Bad(f"{key} is out of range")
    return seconds
