"""Probable Stratum V2, recognised by the shape of its Noise NX handshake (everything after it is encrypted).

Shape (sv2-spec 04-Protocol-Security, SRI noise_sv2): the client opens with its ephemeral key alone, 64
bytes (ElligatorSwift; 32 in drafts with x-only keys); the server answers in one message of 234 bytes
(64-byte key, encrypted static key 64+16, encrypted 74-byte signature message +16), 170 in older drafts.
Then both sides send encrypted frames: a 22-byte encrypted header (6 + 16 MAC) and a payload with its own
16-byte MAC, so no record is shorter than 38 bytes.
Sizes alone are weak evidence: the event says "probable", carries the sizes, a modest confidence, and is
never stage evidence for a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.events import Event, EventFactory
from minerwatch.flows.analyzers import StreamFactory
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import NOT_HTTP, Opening, opening

HANDSHAKES = {(64, 234), (64, 170), (32, 170)}  # (client's first message, server's answer) in bytes
MIN_RECORD = 22 + 16  # encrypted frame header + the payload's MAC
RECORDS_NEEDED = 2  # encrypted records after the handshake, at least one from each side
CONFIDENCE = 0.4
MAX_PIECES = 8  # give up after this many pieces of data without a decision


@dataclass
class StratumV2Stats:
    candidates: int = 0
    probable: int = 0


@dataclass
class _Shape:
    client_first: int
    server_first: int | None = None
    records: dict[bool, list[int]] = field(default_factory=lambda: {True: [], False: []})
    pieces: int = 1


class StratumV2Analyzer:
    """Watches the first pieces of a flow whose client opened with exactly a Noise ephemeral key."""

    def __init__(
        self,
        events: EventFactory,
        emit: Callable[[Event], None],
        info: FlowInfo,
        first: int,
        stats: StratumV2Stats,
    ) -> None:
        self.events = events
        self.emit = emit
        self.info = info
        self.stats = stats
        self.shape = _Shape(first)
        self.done = False
        self._first_seen = False

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        if self.done:
            return
        if not self._first_seen:  # the client's first message, already measured by the factory
            self._first_seen = True
            return
        shape = self.shape
        shape.pieces += 1
        if gap or shape.pieces > MAX_PIECES:
            self.done = True
        elif shape.server_first is None:
            if to_server:
                self.done = True  # the client spoke twice before any answer: not a Noise NX handshake
                return
            shape.server_first = len(data)
            self.done = (shape.client_first, len(data)) not in HANDSHAKES
        elif len(data) < MIN_RECORD:
            self.done = True
        else:
            shape.records[to_server].append(len(data))
            if all(shape.records.values()) and sum(map(len, shape.records.values())) >= RECORDS_NEEDED:
                self.done = True
                self.stats.probable += 1
                self.emit(self._event(ts))

    def _event(self, ts: float) -> Event:
        shape = self.shape
        body = {
            "behaviour": "probable-stratum-v2",
            "dialect": "stratum-v2",
            "method": "noise-handshake",
            "transport": "tcp",
            "encoding": "noise",
            "confidence": CONFIDENCE,
            "evidence": {
                "client_handshake_bytes": shape.client_first,
                "server_handshake_bytes": shape.server_first,
                "encrypted_records_toserver": shape.records[True][:4],
                "encrypted_records_toclient": shape.records[False][:4],
            },
        }
        return self.events.make("mining", ts, body, self.info)

    def wants_more(self, bytes_seen: int) -> bool:
        return not self.done

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        """Nothing pending: the event is emitted as soon as the shape is complete."""


def stratum_v2_factory(
    events: EventFactory, emit: Callable[[Event], None], stats: StratumV2Stats
) -> StreamFactory:
    """Flows whose client's first message is exactly one Noise ephemeral key."""

    def make(info: FlowInfo, first: bytes, to_server: bool) -> StratumV2Analyzer | None:
        if not to_server or len(first) not in (32, 64) or opening(first) is Opening.HTTP:
            return None
        stats.candidates += 1
        return StratumV2Analyzer(events, emit, info, len(first), stats)

    # An ephemeral key is random bytes: it may start like TLS, or even "SSH-", but it is never a whole
    # HTTP request line (a stream that is one goes to the HTTP parse, or the compiled gate, alone).
    return StreamFactory(make, NOT_HTTP)


def setup(ctx: DetectorContext, options: NoOptions) -> DetectorParts:
    stats = StratumV2Stats()
    return DetectorParts(
        stream_factories=[stratum_v2_factory(ctx.events, ctx.emit, stats)],
        stats=lambda: vars(stats).copy(),
    )


DETECTOR = Detector("stratum_v2", NoOptions, setup)
