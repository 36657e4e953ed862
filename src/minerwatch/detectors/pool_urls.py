"""Pool URLs and miner command lines seen in cleartext traffic: downloaded scripts, configs, shell sessions.

Scans only what is inspected anyway, with a bounded cost per flow: the first `SCAN_BYTES` of each HTTP body
and WebSocket message (from the shared HTTP parse), and the first payload of every TCP flow (the bytes
every analyser is offered at classification). Each finding is one `mining` event with behaviour `pool-url`
or `miner-cmdline` (indicator_scan.py says how they are found); it is not stage evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minerwatch.correlate.verdicts import wallet_dict
from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.detectors.indicator_scan import Indicator, scan
from minerwatch.detectors.sightings import Kind, Sighting
from minerwatch.events import Event, EventFactory
from minerwatch.flows.analyzers import StreamFactory
from minerwatch.flows.http import HttpConsumer, HttpMessage
from minerwatch.flows.http_interest import HttpInterest, looks_binary
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import Opening, opening
from minerwatch.identity import validate_wallet
from minerwatch.protocols.http import Request, looks_like_http_request, looks_like_http_response
from minerwatch.protocols.websocket import Message

SCAN_BYTES = 16 * 1024  # scripts and configs that name pools are small; keeps the per-flow cost bounded
SKIPPED_MEDIA = (b"image/", b"video/", b"audio/", b"font/")
MAX_TEXT_BODY = 1 << 20  # a longer body is not asked for (only its first SCAN_BYTES would be read)
MAX_PER_FLOW = 16


@dataclass
class IndicatorStats:
    scanned_bytes: int = 0
    indicators: int = 0


class PoolIndicatorScanner(HttpConsumer):
    def __init__(
        self,
        events: EventFactory,
        emit: Any,
        stats: IndicatorStats,
        sight: Callable[[Sighting], None] | None = None,
    ) -> None:
        self.events = events
        self.emit = emit
        self.stats = stats
        self.sight = sight
        self._seen: dict[int, set[tuple[str, str]]] = {}  # flow id -> indicators already reported

    def scan(self, flow: FlowInfo, ts: float, from_client: bool, data: bytes, where: str) -> None:
        piece = data[:SCAN_BYTES]
        self.stats.scanned_bytes += len(piece)
        found = scan(piece)
        if not found:
            return
        seen = self._seen.setdefault(flow.flow_id, set())
        for indicator in found:
            key = (indicator.kind, indicator.text)
            if key in seen or len(seen) >= MAX_PER_FLOW:
                continue
            seen.add(key)
            self.stats.indicators += 1
            event = self._event(flow, ts, from_client, where, indicator)
            self.emit(event)
            if indicator.kind == "pool-url" and self.sight is not None:
                url: tuple[Kind, str] = ("url", indicator.text)
                self.sight(
                    Sighting(
                        ts,
                        event["event_id"],
                        flow,
                        False,
                        flow.client_ip,
                        flow.server_ip,
                        "mining pool-url",
                        (url,),
                    )
                )

    def _event(self, flow: FlowInfo, ts: float, from_client: bool, where: str, found: Indicator) -> Event:
        body: dict[str, Any] = {
            "behaviour": found.kind,
            "dialect": _dialect(found),
            "method": "content-scan",
            "indicator": found.text,
            "seen_in": where,
            "direction": "toserver" if from_client else "toclient",
        }
        if found.kind == "pool-url":
            body["urls"] = [found.text]  # the field the intel detector matches against its pool URLs
        if found.encoding:
            body["encoding"] = found.encoding
        wallet = validate_wallet(found.wallet) if found.wallet else None
        if wallet is not None:
            body["wallet"] = wallet_dict(wallet)
        return self.events.make("mining", ts, body, flow)

    # HttpConsumer
    @property
    def interest(self) -> HttpInterest:
        return HttpInterest(text_bodies=True, bodies=self._reads_body)

    def _reads_body(self, flow: FlowInfo, message: HttpMessage) -> int:
        """The first SCAN_BYTES of text bodies of modest size (scripts, configs, pages); media, binaries and
        large downloads may be skipped by the HTTP layer (a binary is the file carver's concern)."""
        headers = message.head.headers
        media = (headers.get(b"content-type") or b"").lstrip().lower()
        length = headers.get(b"content-length")
        too_long = length is not None and length.strip().isdigit() and int(length) > MAX_TEXT_BODY
        binary = b"\0" in message.body[:256] or looks_binary(message.body)
        skip = media.startswith(SKIPPED_MEDIA) or too_long or binary
        return 0 if skip else SCAN_BYTES

    def on_http(self, flow: FlowInfo, message: HttpMessage) -> None:
        """Scans the bodies it asked for (text: the cleartext that pool URLs and command lines are in)."""
        if message.body and self in message.wanted_by:
            where = "http-request-body" if isinstance(message.head, Request) else "http-response-body"
            self.scan(flow, message.ts, message.from_client, bytes(message.body[:SCAN_BYTES]), where)

    def on_websocket(self, flow: FlowInfo, ts: float, from_client: bool, message: Message) -> None:
        self.scan(flow, ts, from_client, message.payload, "websocket")

    def on_http_end(self, flow: FlowInfo, flow_counters: Flow, reason: str) -> None:
        self._seen.pop(flow.flow_id, None)

    def first_bytes(self, info: FlowInfo, first: bytes, to_server: bool) -> None:
        """A stream factory that never takes the flow: it only scans the first payload it is shown (of
        OTHER openings: TLS and SSH are ciphertext past their first lines; HTTP is scanned per message)."""
        if (
            opening(first) is not Opening.OTHER
            or looks_like_http_request(first)
            or looks_like_http_response(first)
        ):
            return
        self.scan(info, info.flow.first_ts, to_server, first, "tcp-first-payload")
        self._seen.pop(info.flow_id, None)


def _dialect(found: Indicator) -> str:
    """The protocol a pool URL names (stratum, stratum-v2), or `cmdline` for a miner's command line."""
    if found.kind != "pool-url":
        return "cmdline"
    return "stratum-v2" if found.text.lower().startswith("stratum2") else "stratum"


def setup(ctx: DetectorContext, options: NoOptions) -> DetectorParts:
    stats = IndicatorStats()
    scanner = PoolIndicatorScanner(ctx.events, ctx.emit, stats, ctx.sight)
    return DetectorParts(
        stream_factories=[StreamFactory(scanner.first_bytes, Opening.OTHER)],
        http_consumers=[scanner],
        stats=lambda: vars(stats).copy(),
    )


DETECTOR = Detector("pool_indicators", NoOptions, setup)
