"""What detectors tell the correlators, as typed values (never event dicts): pool behaviours and intel hits
for the staged verdicts (verdicts.py), kill-chain steps for the incidents (incidents.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from minerwatch.correlate.stages import Stage, Technique
from minerwatch.identity import WalletInfo


class Behaviour(StrEnum):
    """The five pool behaviours the staged verdict rests on, plus the miner's hashrate report."""

    REGISTRATION = "registration"
    JOB = "job"
    LOGIN = "login"
    SUBMIT = "submit"
    DIFFICULTY = "difficulty"
    HASHRATE = "hashrate"
    REDIRECT = "redirect"  # the pool names another endpoint (X-Stratum): recorded, never a stage


@dataclass(slots=True, frozen=True)
class BehaviourObservation:
    behaviour: Behaviour
    ts: float
    miner_ip: str
    pool_ip: str
    pool_port: int
    dialect: str
    event_id: int
    outcome: str | None = None  # accepted | rejected | unanswered | None (no answer expected)
    login: str | None = None
    agent: str | None = None
    algorithm: str | None = None
    job_shape: str | None = None
    difficulty: float | None = None
    registers: bool = False  # a login that is also the registration (CryptoNote, eth-proxy, HTTP)
    transport: str = "tcp"  # tcp | http | websocket
    encoding: str | None = None  # what was peeled off first (base64, hex, xor...), None for cleartext
    pool_host: str | None = None  # the name the miner used for the pool (HTTP Host), when seen
    wallet: WalletInfo | None = None  # the wallet in the login, validated
    redirect: str | None = None  # REDIRECT: where the pool sends the miner


@dataclass(slots=True, frozen=True)
class IntelObservation:
    """A threat-intelligence hit about a host: weaker alone than behaviour, stronger together."""

    ts: float
    host: str  # the local host the hit is about (the one that asked, connected or logged in)
    peer_ip: str | None  # the other end of the flow, when the hit came from a flow
    indicator_type: str
    indicator: str
    source: str
    family: str
    confidence: float  # 0 to 1
    event_id: int
    discovered: bool = False  # a pool learnt from an earlier capture, not curated intelligence
    tags: tuple[str, ...] = ()  # the indicator's tags: `c2` makes the hit command-and-control evidence
    where: str = ""  # where the indicator was seen (flow address, dns, mining pool-url...: docs/intel.md)
    # Weak evidence (a pool port, a miner's TLS fingerprint): never a verdict alone, only an input to the
    # fusion of an encrypted flow's evidence (encrypted/fusion.py), by the flow it was seen on.
    weak: bool = False
    flow_id: int | None = None


@dataclass(slots=True, frozen=True)
class StageObservation:
    """One step of an infection seen on one host, with how bad it is and how sure we are of it."""

    ts: float
    host: str  # the host the step happened to: the victim (stages 1-4), the bot (5)
    stage: Stage
    technique: Technique
    level: float  # how bad, 0 to 1
    confidence: float  # how sure, 0 to 1
    event_id: int  # the event that proves it
    label: str  # what was seen, in a few words (a signature, a service, a file name)
    peer: str | None = None  # the other end: the attacker (stages 1-3), the sender of a file (4)
    service: str | None = None  # the service attacked (redis, ssh, hadoop-yarn...): chooses the advice
    named_hosts: tuple[str, ...] = ()  # hosts named in an attack's payload (URLs): where the victim may fetch
    peer_name: str | None = None  # the name the host used for `peer` (an HTTP Host)
    sha256: str | None = None  # a file's hash (implant_download)
    since: float | None = None  # when a step that spans time began (a campaign's first guess); ts: its latest


@dataclass(slots=True, frozen=True)
class EncryptedObservation:
    """An encrypted flow (or a host's many peers) that evidence fusion judged mining or Chia traffic
    (encrypted/fusion.py): weaker than pool behaviour, which it never outranks."""

    ts: float  # first seen
    last_seen: float
    host: str  # the miner, or the Chia node
    peer_ip: str
    peer_port: int
    kind: str  # tls_mining | chia
    confidence: float  # 0 to fusion.CONFIDENCE_CAP
    event_id: int  # the `encrypted` event listing the evidence
    evidence: tuple[str, ...]  # the kinds of evidence that supported it (pair, model, fingerprint...)
    flow_id: int | None = None


@dataclass(slots=True, frozen=True)
class ContactObservation:
    """A TCP connection that carried packets both ways (peers.py): sent over the bus so that a correlator
    can name the other clients of a pool that a sensor confirmed (bus/)."""

    first_seen: float
    last_seen: float
    client: str
    server: str
    server_port: int
    flow_id: int


Observation = (
    BehaviourObservation | IntelObservation | StageObservation | EncryptedObservation | ContactObservation
)
# Sees every observation the correlators take, as they take it (a sensor publishing them: bus/publish.py).
ObservationTap = Callable[[Observation], None]
