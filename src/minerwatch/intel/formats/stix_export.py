"""Indicators as a STIX 2.1 bundle, built with the `stix2` library so that the output validates.

Wallets, ports and JA3/JA4 have no STIX cyber-observable to pattern on; they are left out and counted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import stix2

from minerwatch.intel.model import Indicator

_HASH_NAMES = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(i: Indicator) -> str | None:
    if i.type == "domain":
        return f"[domain-name:value = {_quote(i.value)}]"
    if i.type == "ip":
        version = ipaddress.ip_network(i.value).version
        return f"[ipv{version}-addr:value = {_quote(i.value)}]"
    if i.type == "hash":
        return f"[file:hashes.'{_HASH_NAMES[len(i.value)]}' = {_quote(i.value)}]"
    if i.type == "agent":
        return (
            f"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {_quote(i.value)}]"
        )
    return None


def bundle(items: Iterable[tuple[str, Indicator]]) -> tuple[str, int]:
    """(serialised bundle, number of indicators left out for lack of a STIX pattern)."""
    objects = []
    skipped = 0
    for source, i in items:
        text = pattern(i)
        if text is None:
            skipped += 1
            continue
        refs = [{"source_name": source, "url": i.reference}] if i.reference.startswith("http") else []
        objects.append(
            stix2.Indicator(
                name=f"{i.family or i.type}: {i.value}"[:250],
                pattern=text,
                pattern_type="stix",
                valid_from=i.first_seen or "1970-01-01T00:00:00Z",
                valid_until=i.valid_until,
                confidence=i.confidence,
                labels=[*i.tags, f"source:{source}"],
                external_references=refs or None,
                allow_custom=True,
            )
        )
    return stix2.Bundle(objects=objects, allow_custom=True).serialize(), skipped
