"""Turns a carved file into events: one `file` event, and one `alert` per YARA rule that matched it.

The file event carries everything the later stages need without re-reading the file: hashes (for intel
hash matching), type, YARA matches, pool URL and wallet indicators, and where it was stored, if anywhere.
`src_*` of a file event is the side that sent the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from minerwatch.correlate.observations import IntelObservation, StageObservation
from minerwatch.correlate.stages import Stage, Technique
from minerwatch.detectors.files.carve import CarvedFile
from minerwatch.detectors.files.indicators import Indicator, extract_indicators
from minerwatch.detectors.files.magic import FileType, identify
from minerwatch.detectors.files.store import FileStore
from minerwatch.detectors.files.yara_scan import YaraMatch, YaraScanner
from minerwatch.detectors.sightings import Kind, Sighting
from minerwatch.events import Event, EventFactory, FlowLike, event_time

# Suricata's classification.config names for the `classtype` meta of a rule, as its alerts spell them.
CLASSTYPES = {
    "coin-mining": "Crypto Currency Mining Activity Detected",
    "trojan-activity": "A Network Trojan was detected",
    "misc-activity": "Misc activity",
}
DEFAULT_CONFIDENCE = 0.7
INDICATOR_CATEGORIES = frozenset({"config", "script", "text", "executable"})
# Kinds that are files whatever the transfer calls them (an HTTP body of these is always reported).
NAMED_FILE_CATEGORIES = frozenset({"executable", "script", "archive", "document"})


@dataclass
class Transfer:
    """How a file travelled: the protocol's own description goes to a top-level object named `app`."""

    protocol: str  # "http", "smtp" or "ftp" (also the event's app_proto)
    direction: str  # "upload": the session's client sent it (also a mail), "download": it received it
    from_client: bool  # the event flow's client sent the file (the event's src); differs for active FTP
    filename: str | None = None  # as named in the traffic: informational, never used as a path
    app: dict[str, Any] = field(default_factory=dict)  # e.g. {"http": {...}} or {"email": {...}}
    transfer_size: int | None = None  # bytes the transfer announced or carried on the wire, when known
    declared_type: str | None = None  # the Content-Type the sender claimed, to compare with the magic


class Findings(NamedTuple):
    kind: FileType
    matches: list[YaraMatch]
    indicators: list[Indicator]

    @property
    def notable(self) -> bool:
        return bool(self.matches or self.indicators) or self.kind.category in NAMED_FILE_CATEGORIES


@dataclass
class FileStats:
    files: int = 0
    partial: int = 0
    bytes: int = 0
    yara_matches: int = 0
    with_indicators: int = 0
    http_bodies_skipped: int = 0  # bodies that are not files (pages, API answers): not reported
    ftp_transfers: int = 0
    ftp_data_unmatched: int = 0  # data connections announced but never tied to a transfer
    smtp_messages: int = 0
    smtp_starttls: int = 0


# A pool URL or wallet inside a file someone received: suggestive, not proof (it may be a config of a
# miner that never ran, or a security tool's test file).
CARVED_INDICATOR_CONFIDENCE = 0.6
LEVEL = {1: 0.9, 2: 0.6, 3: 0.3}  # how bad an implant is, by the severity of its strongest YARA rule
INDICATOR_LEVEL = 0.5  # a file whose only finding is a pool URL or wallet inside


class FileReporter:
    def __init__(
        self,
        events: EventFactory,
        emit: Callable[[Event], None],
        scanner: YaraScanner,
        store: FileStore | None,
        stats: FileStats,
        observe: Callable[[IntelObservation], None] | None = None,
        observe_stage: Callable[[StageObservation], None] | None = None,
        sight: Callable[[Sighting], None] | None = None,
    ) -> None:
        self.events = events
        self.emit = emit
        self.sight = sight
        self.observe = observe
        self.observe_stage = observe_stage
        self.scanner = scanner
        self.store = store
        self.stats = stats

    def examine(self, data: bytes) -> Findings:
        kind = identify(data)
        indicators = (
            extract_indicators(data, kind.name == "json") if kind.category in INDICATOR_CATEGORIES else []
        )
        return Findings(kind, self.scanner.scan(data), indicators)

    def report(
        self,
        flow: FlowLike,
        ts: float,
        transfer: Transfer,
        carved: CarvedFile,
        findings: Findings | None = None,
    ) -> Event:
        """Emit the file event and its alerts; `findings` when the caller has already examined the bytes."""
        kind, matches, indicators = findings or self.examine(carved.data)
        body: dict[str, Any] = {
            "protocol": transfer.protocol,
            "direction": transfer.direction,
            "filename": transfer.filename,
            "size": len(carved.data),
            **kind.as_dict(),
            "md5": carved.md5,
            "sha1": carved.sha1,
            "sha256": carved.sha256,
            "partial": carved.partial,
            "yara": [m.as_dict() for m in matches],
            "indicators": indicators,
        }
        if transfer.transfer_size is not None:
            body["transfer_size"] = transfer.transfer_size
        if transfer.declared_type is not None:
            body["declared_type"] = transfer.declared_type
        if carved.partial_reason is not None:
            body["partial_reason"] = carved.partial_reason
        if self.store is not None:
            body["stored"] = self.store.store(carved.sha256, carved.data)
        event = self.events.make("file", ts, body, flow, reverse=not transfer.from_client)
        event["app_proto"] = transfer.protocol
        event.update(transfer.app)
        self.emit(event)
        if self.sight is not None:
            self.sight(_sighting(flow, ts, transfer, carved, indicators, event["event_id"]))
        self._count(body)
        self._feed_verdicts(event, indicators)
        if self.observe_stage is not None and (matches or indicators):
            self.observe_stage(_implant(flow, ts, transfer, carved, matches, event["event_id"]))
        for match in matches:
            self.emit(self._alert(flow, ts, transfer, event, match))
        return event

    def _feed_verdicts(self, event: Event, indicators: list[dict[str, Any]]) -> None:
        """Pool URLs and wallets found in a file are evidence about the machine that received it (the
        event's destination): alone they make it a suspect, with its mining they corroborate it."""
        if self.observe is None:
            return
        for indicator in indicators:
            self.observe(
                IntelObservation(
                    ts=event_time(event),
                    host=event["dest_ip"],
                    peer_ip=None,
                    indicator_type=indicator["type"],
                    indicator=indicator["value"],
                    source="carved-file",
                    family="",
                    confidence=CARVED_INDICATOR_CONFIDENCE,
                    event_id=event["event_id"],
                )
            )

    def _alert(
        self, flow: FlowLike, ts: float, transfer: Transfer, file_event: Event, match: YaraMatch
    ) -> Event:
        meta = match.meta
        classtype = str(meta.get("classtype", "misc-activity"))
        severity = meta.get("severity")
        confidence = meta.get("confidence")
        body = {
            "action": "allowed",
            "gid": 1,
            "signature_id": match.signature_id,
            "rev": meta.get("rev", 1) if isinstance(meta.get("rev"), int) else 1,
            "signature": f"MINERWATCH YARA {match.rule}: {meta.get('description', match.namespace)}",
            "category": CLASSTYPES.get(classtype, classtype),
            "severity": severity if isinstance(severity, int) and 1 <= severity <= 4 else 2,
            "yara": match.as_dict(),
            "file": {
                "sha256": file_event["file"]["sha256"],
                "filename": transfer.filename,
                "type": file_event["file"]["type"],
            },
            "evidence": [file_event["event_id"]],
            "confidence": _confidence(confidence),
        }
        event = self.events.make("alert", ts, body, flow, reverse=not transfer.from_client)
        event["app_proto"] = transfer.protocol
        return event

    def _count(self, body: dict[str, Any]) -> None:
        self.stats.files += 1
        self.stats.bytes += body["size"]
        self.stats.partial += body["partial"]
        self.stats.yara_matches += len(body["yara"])
        self.stats.with_indicators += bool(body["indicators"])


def _sighting(
    flow: FlowLike,
    ts: float,
    transfer: Transfer,
    carved: CarvedFile,
    indicators: list[Indicator],
    event_id: int,
) -> Sighting:
    """The file's hashes and the pool URLs and wallets inside it, about the host that received it (the
    sender of an upload, which is the client's own file)."""
    sender, receiver = (
        (flow.client_ip, flow.server_ip) if transfer.from_client else (flow.server_ip, flow.client_ip)
    )
    host, peer = (receiver, sender) if transfer.direction == "download" else (sender, receiver)
    seen: list[tuple[Kind, str]] = [("hash", h) for h in (carved.md5, carved.sha1, carved.sha256)]
    for found in indicators:
        if found["type"] == "pool-url":
            seen.append(("url", str(found["value"])))
        elif found["type"] == "wallet":
            seen.append(("wallet", str(found["value"])))
    app = {"app_proto": transfer.protocol, **transfer.app}
    return Sighting(ts, event_id, flow, not transfer.from_client, host, peer, "carved file", tuple(seen), app)


def _implant(
    flow: FlowLike, ts: float, transfer: Transfer, carved: CarvedFile, matches: list[YaraMatch], event_id: int
) -> StageObservation:
    """A file YARA or the indicator scan flagged, as an implant download to the host that received it."""
    levels = [LEVEL.get(s, 0.6) if isinstance(s := m.meta.get("severity"), int) else 0.6 for m in matches]
    confidences = [_confidence(m.meta.get("confidence")) for m in matches]
    app = transfer.app.get("http") or {}
    return StageObservation(
        ts=ts,
        host=flow.server_ip if transfer.from_client else flow.client_ip,
        peer=flow.client_ip if transfer.from_client else flow.server_ip,
        stage=Stage.IMPLANT_DOWNLOAD,
        technique=Technique.INGRESS_TOOL_TRANSFER,
        level=max(levels, default=INDICATOR_LEVEL),
        confidence=max(confidences, default=CARVED_INDICATOR_CONFIDENCE),
        event_id=event_id,
        label=f"{transfer.protocol} {transfer.direction} {transfer.filename or carved.sha256[:12]}",
        peer_name=app.get("hostname") or None,
        sha256=carved.sha256,
    )


def _confidence(value: Any) -> float:
    """A rule's `confidence` meta: a number in [0, 1], or a percentage string/integer."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DEFAULT_CONFIDENCE
    number = number / 100 if number > 1 else number
    return min(max(number, 0.0), 1.0)
