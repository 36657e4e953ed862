"""What a sensor's log line says, in the sensor-neutral form the ingest session turns into observations.

The Suricata and Zeek readers only translate fields (suricata.py, zeek.py); what to look up in threat
intelligence, which kill-chain stage a finding is and how it reaches the correlators is decided once, in
session.py, for both sensors.
"""

from __future__ import annotations

from dataclasses import dataclass

from minerwatch.correlate.observations import Behaviour
from minerwatch.correlate.stages import Stage, Technique


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The connection a record is about: `client` opened it (Zeek's orig_h, Suricata's flow src)."""

    client: str
    client_port: int
    server: str
    server_port: int
    proto: str  # TCP, UDP, ICMP... as EVE writes it
    flow_id: int | None = None
    community_id: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A kill-chain step the sensor reported (an alert, a notice): on `host`, from `peer`."""

    stage: Stage
    technique: Technique
    host: str
    peer: str | None
    label: str  # the signature or notice, as the sensor wrote it
    level: float
    confidence: float
    service: str | None = None
    signature: dict[str, object] | None = None  # gid, signature_id, rev, category, severity (alerts)


@dataclass(frozen=True, slots=True)
class PoolMessage:
    """A pool-protocol behaviour a rule recognised (rule metadata `minerwatch_behaviour`)."""

    behaviour: Behaviour
    miner: str
    pool: str
    pool_port: int
    dialect: str


@dataclass(frozen=True, slots=True)
class FileSeen:
    """A file a sensor saw go from `sender` to `receiver`, with what it said of its kind."""

    receiver: str
    sender: str | None
    name: str | None
    kind: str  # libmagic text or MIME type
    sha256: str | None
    md5: str | None


@dataclass(frozen=True, slots=True)
class IntelHit:
    """A sensor's own intel match (Zeek intel.log): an indicator it was told to look for, seen here."""

    indicator_type: str  # minerwatch's names: ip, domain, hash, url, ...
    indicator: str
    sources: str  # the feeds Zeek names
    where: str


@dataclass(frozen=True, slots=True)
class Sweep:
    """Zeek's Scan::Address_Scan: `scanner` probed many hosts on `port`. The notice names none of them; the
    session joins it with the failed attempts the conn logs show (sweeps.py)."""

    scanner: str
    port: int
    label: str


@dataclass(frozen=True, slots=True)
class Connection:
    """What a flow (Suricata) or conn (Zeek) line says of the connection itself."""

    start: float
    end: float
    answered: bool  # the server sent packets back: only then is it a contact (a pool's peers, analyze alike)
    failed: bool  # an attempt Zeek's scan detection counts: refused, unanswered or reset before any data


@dataclass(frozen=True, slots=True)
class Answer:
    """A DNS answer: `name` (the name asked or a CNAME on the way) resolved to `address` for `ttl` s."""

    name: str
    address: str
    ttl: float


@dataclass(frozen=True, slots=True)
class Record:
    """One log line: where it came from, when, between whom, and what in it may matter."""

    sensor: str  # suricata | zeek
    log: str  # the EVE event_type or the Zeek log (conn, dns, ...)
    line: int
    ts: float
    endpoints: Endpoints | None
    domains: tuple[str, ...] = ()  # looked up in intel, about the client
    ja3: tuple[str, ...] = ()
    ja4: tuple[str, ...] = ()
    lookup_addresses: bool = False  # both addresses of `endpoints` looked up (flows, connections)
    finding: Finding | None = None
    pool: PoolMessage | None = None
    file: FileSeen | None = None
    intel: IntelHit | None = None
    connection: Connection | None = None  # flows and connections
    answers: tuple[Answer, ...] = ()  # DNS responses: remembered to name later connections
    sweep: Sweep | None = None
