"""The Chia peer profile: what a Chia node's connections look like from outside the encryption.

Facts from chia-blockchain's source (chia/server/server.py, chia/util/initial-config.yaml):
- peers speak WebSocket over TLS at `wss://IP:PORT/ws`; the server requires a client certificate
  (`verify_mode = ssl.CERT_REQUIRED`) and the client presents one, so both sides authenticate; the client
  dials an IP without a host name, so no SNI, and offers no ALPN;
- ports: 8444 full node, 8447 farmer (harvesters dial it), 8555 full-node RPC (local), 58444 testnet;
- a full node keeps up to 40 peers, 8 of them dialled out: many long-lived peers on the same port;
- the DNS seeders of the default config are shipped as intel (rules/intel/chia.csv, tag `chia`).

A flow's profile (`flow_profile`) is strong evidence only when a Chia port and a client certificate come
together; a host's many-peer shape (`peer_shape`) when at least MANY_PEERS distinct peers showed the
profile. Hosts are bounded: at most MAX_HOSTS, each remembering at most MAX_PEERS peer addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from minerwatch.correlate.observations import IntelObservation
from minerwatch.decode import Flow
from minerwatch.encrypted.fusion import CHIA, Evidence, single
from minerwatch.encrypted.handshake import TlsFacts

PORTS = {8444: "full node", 8447: "farmer", 8555: "full node RPC", 58444: "testnet full node"}
PEER_PORTS = frozenset({8444, 8447, 58444})  # node to node (RPC on 8555 is a local client's)
PORT_MASS = 0.3
CERTIFICATE_MASS = 0.3
SHAPE_MASS = 0.05  # each of: TLS 1.3, no SNI, no ALPN
MANY_PEERS = 4
SEEDER_MASS = 0.3
MAX_HOSTS = 10_000
MAX_PEERS = 64


def flow_profile(server_port: int, facts: TlsFacts) -> Evidence | None:
    """How Chia-like one TLS connection is; None when nothing of the profile shows."""
    hello = facts.client_hello
    on_port = server_port in PORTS
    certificate = facts.client_certificate
    if not (on_port or certificate) or hello is None:
        return None
    checks = (("tls1.3", facts.tls13), ("no-sni", hello.sni is None), ("no-alpn", not hello.alpn))
    shape = [name for name, holds in checks if holds]
    mass = PORT_MASS * on_port + CERTIFICATE_MASS * certificate + SHAPE_MASS * len(shape)
    detail = {"port": PORTS.get(server_port), "client_certificate": certificate, "shape": shape}
    return Evidence("chia-profile", single(CHIA, mass), weak=not (on_port and certificate), detail=detail)


def peer_shape(peers: int) -> Evidence | None:
    """Many distinct peers with the profile: a node of a peer-to-peer network, as a Chia node keeps."""
    if peers < 2:
        return None
    mass = 0.7 if peers >= 2 * MANY_PEERS else 0.5 if peers >= MANY_PEERS else 0.25
    return Evidence("chia-peers", single(CHIA, mass), weak=peers < MANY_PEERS, detail={"peers": peers})


def seeders(hits: list[IntelObservation]) -> Evidence | None:
    """The host looked up a Chia DNS seeder (intel, tag `chia`)."""
    names = sorted({h.indicator for h in hits if "chia" in h.tags})
    if not names:
        return None
    return Evidence("chia-seeder", single(CHIA, SEEDER_MASS), weak=True, detail={"names": names[:8]})


@dataclass
class ChiaHost:
    peers: dict[str, set[int]] = field(default_factory=dict)  # peer address -> Chia ports used with it
    best: Evidence | None = None  # the strongest flow profile seen on this host
    best_model: Evidence | None = None
    first_seen: float = 0.0
    last_seen: float = 0.0
    flow_ids: list[int] = field(default_factory=list)

    @property
    def ports(self) -> set[int]:
        return set().union(*self.peers.values())


class ChiaHosts:
    """Per host, the peers whose connections showed the Chia profile (both ends of each connection are
    nodes: the dialling side and the listening side)."""

    def __init__(self) -> None:
        self.hosts: dict[str, ChiaHost] = {}
        self.hosts_dropped = 0  # connections of hosts beyond MAX_HOSTS
        self.peers_dropped = 0  # connections of a host to peers beyond its MAX_PEERS

    def add(
        self, host: str, peer: str, port: int, profile: Evidence, model: Evidence | None, flow: Flow
    ) -> None:
        first, last = flow.first_ts, flow.last_ts
        entry = self.hosts.get(host)
        if entry is None:
            if len(self.hosts) >= MAX_HOSTS:
                self.hosts_dropped += 1
                return
            entry = self.hosts[host] = ChiaHost(first_seen=first, last_seen=last)
        if peer in entry.peers or len(entry.peers) < MAX_PEERS:
            entry.peers.setdefault(peer, set()).add(port)
        else:
            self.peers_dropped += 1
        entry.first_seen, entry.last_seen = min(entry.first_seen, first), max(entry.last_seen, last)
        if entry.best is None or _chia(profile) > _chia(entry.best):
            entry.best = profile
        if model is not None and (entry.best_model is None or _chia(model) > _chia(entry.best_model)):
            entry.best_model = model
        if len(entry.flow_ids) < 8:
            entry.flow_ids.append(flow.flow_id)


def _chia(evidence: Evidence) -> float:
    return evidence.support.get(frozenset({CHIA}), 0.0)
