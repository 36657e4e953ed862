"""Pool protocols hidden under an encoding on raw TCP: base64, hex, URL encoding, zlib/gzip, single-byte XOR.

Offered every TCP flow whose first bytes are neither JSON nor HTTP; it takes the flow only when one
encoding, peeled off those bytes, reveals a pool-protocol request (protocols/mining/obfuscated.py). The
other direction is decoded with the same encoding, another one, or none, whichever yields JSON-RPC. Decoded
messages go to the same behaviour engine; their events name the encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.detectors.pool_behaviour import (
    Channel,
    PoolBehaviourDetector,
    looks_like_json,
    make_detector,
)
from minerwatch.flows.analyzers import StreamFactory
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import Opening
from minerwatch.protocols.encodings import Decoder, candidates
from minerwatch.protocols.http import looks_like_http_request, looks_like_http_response
from minerwatch.protocols.mining import PoolSession
from minerwatch.protocols.mining.obfuscated import SNIFF_BYTES, is_json_rpc, sniff


@dataclass
class ObfuscationStats:
    flows: int = 0
    undecodable_directions: int = 0
    decode_failures: int = 0


class ObfuscatedPoolAnalyzer:
    def __init__(
        self,
        detector: PoolBehaviourDetector,
        info: FlowInfo,
        first_direction: bool,
        decoder: Decoder,
        depth: int,
        stats: ObfuscationStats,
    ) -> None:
        self.detector = detector
        self.info = info
        self.depth = depth
        self.stats = stats
        self.session = PoolSession()
        self.first = decoder
        # Per direction: a decoder, None for cleartext, or absent until the direction's first bytes.
        self.decoders: dict[bool, Decoder | None] = {first_direction: decoder}
        self.unreadable: set[bool] = set()

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        if to_server not in self.decoders and to_server not in self.unreadable:
            self._choose(to_server, data)
        if to_server in self.unreadable:
            return
        if gap:
            self.session.gap(to_server)
            self.unreadable.add(to_server)  # an encoding's alignment is lost with the missing bytes
            return
        decoder = self.decoders[to_server]
        decoded = decoder.feed(data) if decoder is not None else data
        if decoder is not None and decoder.failed:
            self.stats.decode_failures += 1
            self.unreadable.add(to_server)
        channel = Channel("tcp", decoder.name if decoder is not None else None)
        for direction, message in self.session.feed(to_server, decoded):
            self.detector.on_mining(self.info, ts, direction, message, channel)

    def _choose(self, to_server: bool, head: bytes) -> None:
        same = self.first.fresh()
        if is_json_rpc(same.fresh().feed(head[:SNIFF_BYTES])):
            self.decoders[to_server] = same
        elif is_json_rpc(head):
            self.decoders[to_server] = None
        elif (other := sniff(head, any_json_rpc=True)) is not None:
            self.decoders[to_server] = other
        else:
            self.stats.undecodable_directions += 1
            self.unreadable.add(to_server)

    def wants_more(self, bytes_seen: int) -> bool:
        return self.session.mining_messages > 0 or bytes_seen <= self.depth

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        if self.session.mining_messages:
            self.stats.flows += 1
            self.detector.on_flow_end(self.info, flow, self.session, reason)


def obfuscated_analyzer_factory(
    detector: PoolBehaviourDetector, depth: int, stats: ObfuscationStats
) -> StreamFactory:
    """Flows that are not JSON or HTTP but decode to pool-protocol JSON-RPC."""

    def make(info: FlowInfo, first: bytes, to_server: bool) -> ObfuscatedPoolAnalyzer | None:
        if not candidates(first[:2]):  # no encoding starts like this (TLS, SSH...): the cheap test first
            return None
        if looks_like_json(first) or looks_like_http_request(first) or looks_like_http_response(first):
            return None
        decoder = sniff(first)
        return ObfuscatedPoolAnalyzer(detector, info, to_server, decoder, depth, stats) if decoder else None

    return StreamFactory(make, Opening.OTHER)


def setup(ctx: DetectorContext, options: NoOptions) -> DetectorParts:
    stats = ObfuscationStats()
    factory = obfuscated_analyzer_factory(make_detector(ctx), ctx.options.stream_depth, stats)
    return DetectorParts(stream_factories=[factory], stats=lambda: vars(stats).copy())


DETECTOR = Detector("obfuscated_pool_protocols", NoOptions, setup)
