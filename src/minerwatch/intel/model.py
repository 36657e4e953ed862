"""What the knowledge base keeps (Indicator) and what a lookup returns (Hit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from minerwatch.intel import normalize

PORT_CONFIDENCE_CAP = 10  # a pool port alone is weak evidence: many services share 3333, 4444, 8080...
# An indicator tagged so (a miner's TLS fingerprint, which every program on the same TLS library shares)
# is weak evidence as a pool port is: it never raises an alert or a verdict on its own, only adds to the
# other evidence about an encrypted flow (encrypted/fusion.py), at most this confident.
WEAK_TAG = "weak-evidence"
WEAK_CONFIDENCE_CAP = 30
# Pools an analysis confirmed by behaviour and the user chose to keep (analyze --learn-pools, intel import
# --discovered): matched apart from curated feeds, under this source and below a feed's default confidence,
# because they come from captures, which anyone can craft.
DISCOVERED_SOURCE = "minerwatch-discovered"
DISCOVERED_CONFIDENCE = 30


@dataclass(frozen=True, slots=True)
class Indicator:
    """One normalised indicator; the source is given by the import it came in with."""

    type: str
    value: str
    family: str = ""
    tags: tuple[str, ...] = ()
    confidence: int = 50
    first_seen: str | None = None
    last_seen: str | None = None
    valid_until: str | None = None
    reference: str = ""

    @classmethod
    def build(cls, kind: str, value: str, **fields: Any) -> Indicator:
        """Normalise every field; raises ValueError naming the first bad one. Fields come from feeds as
        parsed JSON, so any type may arrive where a string is expected: only text and numbers pass."""
        kind = normalize.text("type", kind).lower()
        return cls(
            type=kind,
            value=normalize.normalise(kind, normalize.text("value", value)),
            family=normalize.text("family", fields.get("family")),
            tags=normalize.tags(fields.get("tags")),
            confidence=normalize.confidence(fields.get("confidence")),
            first_seen=normalize.timestamp(fields.get("first_seen")),
            last_seen=normalize.timestamp(fields.get("last_seen")),
            valid_until=normalize.timestamp(fields.get("valid_until")),
            reference=normalize.text("reference", fields.get("reference")),
        )

    def row(self, source: Any) -> tuple[Any, ...]:
        """The stored columns after `source` (a name, or an id in the indicators table)."""
        return (
            source,
            self.type,
            self.value,
            self.family,
            ",".join(self.tags),
            self.confidence,
            self.first_seen,
            self.last_seen,
            self.valid_until,
            self.reference,
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> tuple[Any, Indicator]:
        """(source, Indicator) from a `row()` tuple, as KnowledgeBase.rows() returns them."""
        source, kind, value, family, tags, confidence, first, last, valid_until, reference = row
        tag_list = tuple(filter(None, (tags or "").split(",")))
        return source, cls(
            kind, value, family or "", tag_list, confidence, first, last, valid_until, reference or ""
        )


@dataclass(frozen=True, slots=True)
class Meta:
    """The part of an indicator that a hit reports; shared by many indicators, so interned in memory."""

    source: str
    family: str
    tags: tuple[str, ...]
    confidence: int
    reference: str
    valid_until: float | None  # capture time (epoch seconds) after which the indicator no longer counts


@dataclass(frozen=True, slots=True)
class Hit:
    """One indicator that matched an observation."""

    indicator_type: str
    indicator: str  # the stored value that matched (for a domain: the suffix)
    observed: str  # what was seen in traffic
    meta: Meta = field(repr=False)

    @property
    def source(self) -> str:
        return self.meta.source

    @property
    def family(self) -> str:
        return self.meta.family

    @property
    def tags(self) -> tuple[str, ...]:
        return self.meta.tags

    @property
    def reference(self) -> str:
        return self.meta.reference

    @property
    def weak(self) -> bool:
        """Weak evidence (a pool port, a fingerprint tagged WEAK_TAG) that must not raise a verdict alone."""
        return self.indicator_type == "port" or WEAK_TAG in self.meta.tags

    @property
    def discovered(self) -> bool:
        """A pool learnt from a capture (see DISCOVERED_SOURCE), not curated intelligence."""
        return self.meta.source == DISCOVERED_SOURCE

    @property
    def confidence(self) -> int:
        if not self.weak:
            return self.meta.confidence
        cap = PORT_CONFIDENCE_CAP if self.indicator_type == "port" else WEAK_CONFIDENCE_CAP
        return min(self.meta.confidence, cap)

    def _category(self) -> str:
        if self.weak:
            return "weak mining evidence"
        return "previously discovered mining pool" if self.discovered else "known mining infrastructure"

    def as_alert(self) -> dict[str, Any]:
        """The body of an `alert` event (EventFactory.make("alert", ts, hit.as_alert(), flow))."""
        family = f" ({self.family})" if self.family else ""
        return {
            "signature": f"minerwatch intel: {self.indicator_type} {self.indicator}{family} [{self.source}]",
            "category": self._category(),
            "confidence": self.confidence,
            "intel": {
                "indicator_type": self.indicator_type,
                "indicator": self.indicator,
                "observed": self.observed,
                "source": self.source,
                "family": self.family or None,
                "tags": list(self.tags),
                "reference": self.reference or None,
                "weak": self.weak,
                "discovered": self.discovered,
            },
        }


@dataclass(frozen=True, slots=True)
class Sighting:
    """A pool endpoint that behaviour confirmed: kind `ip` (one address, with the port) or `domain` (a
    name DNS resolved to that address). Built by `build`, which normalises every field."""

    kind: str
    value: str
    port: int
    seen: str  # capture time, ISO 8601 UTC
    host: str  # the miner's address
    evidence: str

    @classmethod
    def build(cls, kind: str, value: Any, port: Any, seen: Any, host: Any, evidence: str) -> Sighting:
        """Raises ValueError naming the first bad field (values may come from an untrusted events file)."""
        if not isinstance(value, str) or (kind == "ip" and "/" in value):
            raise ValueError(f"a discovered {kind} must be a single {kind}, not {value!r:.80}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"not a port: {port!r:.20}")
        return cls(
            kind,
            normalize.normalise(kind, value),
            port,
            normalize.timestamp(seen) or "",
            normalize.ip(host) if isinstance(host, str) and host else "",
            evidence[:200],
        )
