"""Per host, the encrypted flows evidence fusion judged mining or Chia traffic, for the verdicts.

Bounded: per host, at most PEERS_LISTED (peer, port, kind) entries are kept and EVENT_IDS event ids per
entry; every observation is counted. Hosts are bounded by what the detector reports (one observation per
judged flow, or per Chia host at the end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from minerwatch.correlate.observations import EncryptedObservation
from minerwatch.events import iso_timestamp

PEERS_LISTED = 32
EVENT_IDS = 8
TLS_MINING, CHIA = "tls_mining", "chia"
CHIA_FARMING_PORT = 8447  # farmer/harvester: a node that farms, not only one that follows the chain


@dataclass
class EncryptedPeer:
    """The flows of one host to one peer endpoint, of one kind."""

    ip: str
    port: int
    kind: str
    first_seen: float
    last_seen: float
    confidence: float
    flows: int = 0
    evidence: set[str] = field(default_factory=set)
    event_ids: list[int] = field(default_factory=list)
    flow_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            "port": self.port,
            "kind": self.kind,
            "flows": self.flows,
            "confidence": self.confidence,
            "evidence": sorted(self.evidence),
            "first_seen": iso_timestamp(self.first_seen),
            "last_seen": iso_timestamp(self.last_seen),
            "event_ids": self.event_ids,
            "flow_ids": self.flow_ids,
        }


@dataclass
class EncryptedEvidence:
    """One host's judged encrypted flows."""

    first_seen: float
    last_seen: float
    counts: dict[str, int] = field(default_factory=dict)  # kind -> observations
    peers: dict[tuple[str, int, str], EncryptedPeer] = field(default_factory=dict)
    peers_dropped: int = 0

    def add(self, obs: EncryptedObservation) -> None:
        self.first_seen = min(self.first_seen, obs.ts)
        self.last_seen = max(self.last_seen, obs.last_seen)
        self.counts[obs.kind] = self.counts.get(obs.kind, 0) + 1
        key = (obs.peer_ip, obs.peer_port, obs.kind)
        peer = self.peers.get(key)
        if peer is None:
            if len(self.peers) >= PEERS_LISTED:
                self.peers_dropped += 1
                return
            peer = self.peers[key] = EncryptedPeer(*key, obs.ts, obs.last_seen, obs.confidence)
        peer.flows += 1
        peer.first_seen = min(peer.first_seen, obs.ts)
        peer.last_seen = max(peer.last_seen, obs.last_seen)
        peer.confidence = max(peer.confidence, obs.confidence)
        peer.evidence.update(obs.evidence)
        if len(peer.event_ids) < EVENT_IDS:
            peer.event_ids.append(obs.event_id)
        if obs.flow_id is not None and len(peer.flow_ids) < EVENT_IDS:
            peer.flow_ids.append(obs.flow_id)

    @property
    def confidence(self) -> float:
        return max(p.confidence for p in self.peers.values()) if self.peers else 0.0

    def activity(self) -> str:
        """mining-over-tls when any flow was judged TLS mining, else chia-farming or chia-node."""
        if self.counts.get(TLS_MINING):
            return "mining-over-tls"
        farming = any(p.port == CHIA_FARMING_PORT for p in self.peers.values())
        return "chia-farming" if farming else "chia-node"

    def event_ids(self) -> list[int]:
        return sorted({i for p in self.peers.values() for i in p.event_ids})

    def as_dict(self) -> dict[str, Any]:
        peers = sorted(self.peers.values(), key=lambda p: (p.first_seen, p.ip, p.port, p.kind))
        return {
            "tls_mining": self.counts.get(TLS_MINING, 0),
            "chia": self.counts.get(CHIA, 0),
            "evidence": sorted(set().union(*(p.evidence for p in peers))),
            "first_seen": iso_timestamp(self.first_seen),
            "last_seen": iso_timestamp(self.last_seen),
            "peers": [p.as_dict() for p in peers],
            "peers_dropped": self.peers_dropped,
        }
