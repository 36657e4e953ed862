"""Staged verdicts per host, from behaviour observations only.

Per (miner host, pool endpoint):
- Stage 1, compromised host confirmed: registration, job dispatch and login each seen within `window`
  seconds of one another (a CryptoNote or eth-proxy login is also the registration).
- Stage 2, active mining: at least `min_submits` share submissions (accepted or not: a rejected share is
  still mining). Submit counts, outcomes, first/last seen and rate are the forensic evidence.
- Difficulty changes and jobs are supporting evidence: a capture that starts mid-session shows only
  submissions and jobs, and the host is reported as mining at a lower, stated confidence.
One verdict per host lists all its pools. A host that reaches many pools without ever submitting a share
is reported once, as probing pools, not as a verdict per connection.

Suspects, stated as such (`stages: []`): a host whose only link to mining is a threat-intelligence hit, and
a host that connected to the address of a pool another host was confirmed on, in the same period
(`peer_window` around the pool's activity). The second catches the miners whose own traffic shows no pool
protocol, such as Stratum over TLS to the pool's TLS port.

Encrypted flows judged mining or Chia traffic by evidence fusion (encrypted/fusion.py) are listed on the
host's behaviour verdict when it has one (`encrypted`), and otherwise make a verdict of their own
(`mining-over-tls`, `chia-node`, `chia-farming`) with no stages, at the fused confidence, which is capped
below a behaviour-confirmed verdict's.

scan-disk's findings on a host (correlate/disk.py, `--disk-findings`) are listed on its verdict (`disk`),
and a host with findings and no verdict from the traffic gets one of its own, `chia-on-disk`: a suspect
too, since farming can be legitimate, but one the network side could not see (farming through another
link, plots made for later, a capture that missed it).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from minerwatch.correlate.disk import JoinedDisk
from minerwatch.correlate.encrypted import EncryptedEvidence
from minerwatch.correlate.joins import Joins, PoolFact
from minerwatch.correlate.observations import (
    Behaviour,
    BehaviourObservation,
    EncryptedObservation,
    IntelObservation,
    ObservationTap,
)
from minerwatch.correlate.peers import Contact, PoolPeers
from minerwatch.events import iso_timestamp
from minerwatch.identity import WalletInfo, infer_coin, parse_agent

EVIDENCE_IDS_PER_BEHAVIOUR = 20
INTEL_HITS_PER_HOST = 32
INTEL_CORROBORATION = 0.1  # added to a behaviour verdict's confidence when intel agrees (capped at 0.99)
INTEL_ONLY_WEIGHT = 0.5  # an intel-only verdict's confidence: this times the indicator's confidence
DISK_ONLY_WEIGHT = 0.5  # a disk-only verdict's confidence: this times the most confident finding's
PEER_WEIGHT = 0.5  # a peer suspect's confidence: this times the confirmed pool's, on the pool's own port ...
PEER_OTHER_PORT_WEIGHT = 0.3  # ... or this, on another port of its address (a TLS or other-difficulty port)
STAGE1_TRIGGERS = (Behaviour.REGISTRATION, Behaviour.JOB, Behaviour.LOGIN)
WEAK_FLOWS = 20_000  # flows whose weak intel hits wait for the encrypted detector (oldest dropped first)
PeerContact = tuple[dict[str, Any], Contact]  # a `confirmed_pools` entry and the contact it describes


@dataclass
class VerdictPolicy:
    """Documented defaults (README, docs/events.md): all overridable from the command line."""

    window: float = 120.0  # seconds within which registration, job and login must fall for stage 1
    min_submits: int = 1  # shares needed for stage 2
    prober_min_pools: int = 10  # pools reached without a share before a host counts as probing pools
    peer_window: float = 3600.0  # seconds around a confirmed pool's activity in which its peers are suspects


@dataclass
class PoolEvidence:
    ip: str
    port: int
    first_seen: float
    last_seen: float
    dialects: set[str] = field(default_factory=set)
    stages: set[int] = field(default_factory=set)
    last: dict[Behaviour, float] = field(default_factory=dict)
    counts: dict[Behaviour, int] = field(default_factory=dict)
    submits: int = 0
    accepted: int = 0
    rejected: int = 0
    logins: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    algorithms: set[str] = field(default_factory=set)
    job_shapes: set[str] = field(default_factory=set)
    difficulties: list[float] = field(default_factory=list)
    transports: set[str] = field(default_factory=set)
    encodings: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    redirects: set[str] = field(default_factory=set)
    wallets: dict[str, WalletInfo] = field(default_factory=dict)
    first_submit: float | None = None
    last_submit: float | None = None
    event_ids: dict[Behaviour, list[int]] = field(default_factory=dict)
    resolved_names: set[str] = field(default_factory=set)  # DNS names of the address, when intel set them

    def add(self, obs: BehaviourObservation, policy: VerdictPolicy) -> None:
        self.first_seen = min(self.first_seen, obs.ts)
        self.last_seen = max(self.last_seen, obs.ts)
        self.dialects.add(obs.dialect)
        self.counts[obs.behaviour] = self.counts.get(obs.behaviour, 0) + 1
        ids = self.event_ids.setdefault(obs.behaviour, [])
        if len(ids) < EVIDENCE_IDS_PER_BEHAVIOUR:
            ids.append(obs.event_id)
        self.transports.add(obs.transport)
        if obs.wallet is not None and len(self.wallets) < 32:
            self.wallets[obs.wallet.address] = obs.wallet
        for value, into in (
            (obs.login, self.logins),
            (obs.agent, self.agents),
            (obs.algorithm, self.algorithms),
            (obs.job_shape, self.job_shapes),
            (obs.encoding, self.encodings),
            (obs.pool_host, self.hosts),
            (obs.redirect, self.redirects),
        ):
            if value and len(into) < 32:
                into.add(value)
        if (
            obs.behaviour is Behaviour.DIFFICULTY
            and obs.difficulty is not None
            and len(self.difficulties) < 64
        ):
            self.difficulties.append(obs.difficulty)
        if obs.behaviour is Behaviour.SUBMIT:
            self.submits += 1
            self.accepted += obs.outcome == "accepted"
            self.rejected += obs.outcome == "rejected"
            self.first_submit = obs.ts if self.first_submit is None else min(self.first_submit, obs.ts)
            self.last_submit = obs.ts if self.last_submit is None else max(self.last_submit, obs.ts)
            if self.submits >= policy.min_submits:
                self.stages.add(2)
        if obs.behaviour in STAGE1_TRIGGERS or obs.registers:
            self.last[obs.behaviour] = obs.ts
            if obs.registers:
                self.last[Behaviour.REGISTRATION] = obs.ts
            times = [t for b in STAGE1_TRIGGERS if (t := self.last.get(b)) is not None]
            if len(times) == len(STAGE1_TRIGGERS) and max(times) - min(times) <= policy.window:
                self.stages.add(1)

    def confidence(self) -> float:
        """1+2: 0.95 (0.99 with accepted shares); 1: 0.85; 2 alone: 0.6, +0.1 jobs, +0.05 difficulty, +0.05
        accepted shares (at most 0.8: the capture began mid-session)."""
        if 1 in self.stages:
            if 2 in self.stages:
                return 0.99 if self.accepted else 0.95
            return 0.85
        if 2 in self.stages:
            return round(
                0.6
                + 0.1 * (Behaviour.JOB in self.counts)
                + 0.05 * (Behaviour.DIFFICULTY in self.counts)
                + 0.05 * (self.accepted > 0),
                2,
            )
        return 0.0

    def coin(self) -> dict[str, Any]:
        """The coin mined here and what that rests on (a valid wallet first, then algorithm, then host)."""
        wallets = sorted(self.wallets.values(), key=lambda w: (w.checksum_valid is False, w.address))
        guess = infer_coin(
            wallets[0] if wallets else None,
            min(self.algorithms, default=None),
            min(self.hosts, default=None),
        )
        return {"coin": guess.coin, "basis": list(guess.basis)}

    def wallet_list(self) -> list[dict[str, Any]]:
        return [wallet_dict(w) for _, w in sorted(self.wallets.items())]

    def as_dict(self) -> dict[str, Any]:
        rate = None
        if (
            self.submits > 1
            and self.last_submit
            and self.first_submit
            and self.last_submit > self.first_submit
        ):
            rate = round((self.submits - 1) / (self.last_submit - self.first_submit) * 60, 3)
        return {
            "ip": self.ip,
            "port": self.port,
            "dialect": sorted(self.dialects)[0] if len(self.dialects) == 1 else sorted(self.dialects),
            "stages": sorted(self.stages),
            "confidence": self.confidence(),
            "submits": self.submits,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "submits_per_minute": rate,
            "jobs": self.counts.get(Behaviour.JOB, 0),
            "difficulty_changes": self.counts.get(Behaviour.DIFFICULTY, 0),
            "difficulties": self.difficulties[:16],
            "logins": sorted(self.logins),
            "agents": sorted(self.agents),
            "algorithms": sorted(self.algorithms),
            "job_shapes": sorted(self.job_shapes),
            "transports": sorted(self.transports),
            "encodings": sorted(self.encodings),
            "pool_hosts": sorted(self.hosts),
            "redirects": sorted(self.redirects),
            "resolved_names": sorted(self.resolved_names)[:8],
            "wallets": self.wallet_list(),
            "coin": self.coin(),
            "first_seen": iso_timestamp(self.first_seen),
            "last_seen": iso_timestamp(self.last_seen),
        }


class VerdictCorrelator:
    def __init__(self, policy: VerdictPolicy | None = None) -> None:
        self.policy = policy or VerdictPolicy()
        self.hosts: dict[str, dict[tuple[str, int], PoolEvidence]] = {}
        self.intel: dict[str, list[IntelObservation]] = {}
        self.peers = PoolPeers()
        self.encrypted: dict[str, EncryptedEvidence] = {}
        self.disk: dict[str, JoinedDisk] = {}  # host -> scan-disk's findings on it (correlate/disk.py)
        self._weak: OrderedDict[int, list[IntelObservation]] = OrderedDict()  # flow id -> weak hits
        self.weak_flows_dropped = 0  # flows whose weak hits were dropped unread (beyond WEAK_FLOWS)
        self.observations = 0  # behaviour and intel observations taken (live updates look for new ones)
        self.tap: ObservationTap | None = None  # sees each observation taken (bus/publish.py)
        self.joins: Joins | None = None  # what other partitions of hosts confirmed (bus/correlator.py)

    def observe_intel(self, obs: IntelObservation) -> None:
        """A hit about a host; a weak one waits, by its flow, for the encrypted detector (`weak_hits`)."""
        self.observations += 1
        if self.tap is not None:
            self.tap(obs)
        if obs.weak:
            if obs.flow_id is not None:
                self._weak.setdefault(obs.flow_id, []).append(obs)
                if len(self._weak) > WEAK_FLOWS:
                    self._weak.popitem(last=False)
                    self.weak_flows_dropped += 1
            return
        hits = self.intel.setdefault(obs.host, [])
        if len(hits) < INTEL_HITS_PER_HOST:
            hits.append(obs)

    def weak_hits(self, flow_id: int) -> list[IntelObservation]:
        """The weak intel hits seen on a flow (fingerprints, pool ports), handed over once."""
        return self._weak.pop(flow_id, [])

    def observe_encrypted(self, obs: EncryptedObservation) -> None:
        if self.tap is not None:
            self.tap(obs)
        evidence = self.encrypted.get(obs.host)
        if evidence is None:
            evidence = self.encrypted[obs.host] = EncryptedEvidence(obs.ts, obs.last_seen)
        evidence.add(obs)

    def confirmed_pool(self, miner: str, pool_ip: str, pool_port: int) -> PoolEvidence | None:
        """The pool endpoint's evidence when behaviour confirmed it for this miner (a stage reached)."""
        pool = self.hosts.get(miner, {}).get((pool_ip, pool_port))
        return pool if pool is not None and pool.stages else None

    def _staged(self) -> dict[str, list[PoolEvidence]]:
        """Per host, the pool endpoints that reached a stage (hosts with none left out)."""
        return {
            host: staged
            for host, pools in self.hosts.items()
            if (staged := [p for p in pools.values() if p.stages])
        }

    def staged_pools(self) -> list[tuple[str, PoolEvidence, bool]]:
        """(host, pool, whether curated intel knew the pool) for every pool endpoint that reached a stage."""
        out = []
        for host, pools in sorted(self._staged().items()):
            known = {hit.peer_ip for hit in self.intel.get(host, ()) if not hit.discovered}
            out += [(host, p, p.ip in known) for p in pools]
        return out

    def observe(self, obs: BehaviourObservation) -> None:
        self.observations += 1
        if self.tap is not None:
            self.tap(obs)
        pools = self.hosts.setdefault(obs.miner_ip, {})
        key = (obs.pool_ip, obs.pool_port)
        evidence = pools.get(key)
        if evidence is None:
            evidence = pools[key] = PoolEvidence(obs.pool_ip, obs.pool_port, obs.ts, obs.ts)
        evidence.add(obs, self.policy)

    def verdicts(self) -> list[tuple[float, str, dict[str, Any]]]:
        """(last seen, host, verdict body) for every host that reached a stage, hit intelligence, or
        contacted a confirmed pool's address in the same period."""
        staged = self._staged()
        contacts = self._peer_contacts(staged)
        out = []
        judged = self.hosts.keys() | self.intel.keys() | contacts.keys() | self.encrypted.keys()
        for host in sorted(judged | self.disk.keys()):
            hits = self.intel.get(host, [])
            encrypted = self.encrypted.get(host)
            disk = self.disk.get(host)
            if host in staged:
                verdict = self._verdict(host, staged[host], hits)
            elif encrypted is not None:
                verdict = self._encrypted_only(host, encrypted, contacts.get(host, []), hits)
            elif host in contacts:
                verdict = self._peer_suspect(host, contacts[host], hits)
            elif disk is not None:
                verdict = self._disk_only(host, disk, hits)
            elif hits:
                verdict = self._intel_only(host, hits)
            else:
                continue
            if encrypted is not None:
                body = verdict[2]
                body["encrypted"] = encrypted.as_dict()
                ids = body["evidence"]["event_ids"]
                body["evidence"]["event_ids"] = sorted({*ids, *encrypted.event_ids()})
            if disk is not None:
                body = verdict[2]
                body["disk"] = disk.as_dict()
                body["evidence"]["event_ids"] = sorted({*body["evidence"]["event_ids"], *disk.event_ids})
            out.append(verdict)
        return out

    def peer_contacts(self) -> dict[str, list[PeerContact]]:
        """Hosts without a verdict of their own that reached a confirmed pool's address in its period."""
        return self._peer_contacts(self._staged())

    def _peer_contacts(self, staged: dict[str, list[PoolEvidence]]) -> dict[str, list[PeerContact]]:
        """Hosts without a verdict of their own that reached a confirmed pool's address in its period."""
        confirmed: dict[tuple[str, int], list[PoolFact]] = {}
        remote = self.joins.pools() if self.joins is not None else []
        for fact in self._confirmed(staged) + remote:
            confirmed.setdefault((fact.pool_ip, fact.pool_port), []).append(fact)
        window = self.policy.peer_window
        found: dict[str, list[PeerContact]] = {}
        for (ip, port), confirmers in sorted(confirmed.items()):
            start = min(pool.first_seen for pool in confirmers) - window
            end = max(pool.last_seen for pool in confirmers) + window
            for client, contact in sorted(self.peers.clients_of(ip).items()):
                if client in staged or contact.last_seen < start or contact.first_seen > end:
                    continue
                found.setdefault(client, []).append((_peer_entry(ip, port, confirmers, contact), contact))
        return found

    def confirmed_pools(self) -> list[PoolFact]:
        """Every pool endpoint behaviour confirmed on a host here, as other partitions' peers need it."""
        return self._confirmed(self._staged())

    @staticmethod
    def _confirmed(staged: dict[str, list[PoolEvidence]]) -> list[PoolFact]:
        return [
            PoolFact(
                host,
                pool.ip,
                pool.port,
                pool.first_seen,
                pool.last_seen,
                pool.confidence(),
                tuple(sorted({i for ids in pool.event_ids.values() for i in ids})),
            )
            for host, pools in staged.items()
            for pool in pools
        ]

    @staticmethod
    def _peer_suspect(
        host: str, contacts: list[PeerContact], hits: list[IntelObservation]
    ) -> tuple[float, str, dict[str, Any]]:
        """A host that talked to a confirmed pool: a suspect, with the confirming pool as its evidence."""
        entries = [entry for entry, _ in contacts]
        confidence = max(
            (PEER_WEIGHT if e["same_port"] else PEER_OTHER_PORT_WEIGHT) * e["pool_confidence"]
            for e in entries
        )
        confidence = max(confidence, _intel_confidence(hits))
        first = min([c.first_seen for _, c in contacts] + [h.ts for h in hits])
        last = max([c.last_seen for _, c in contacts] + [h.ts for h in hits])
        body = {
            "host": host,
            "activity": "contacted-confirmed-pool",
            "stages": [],
            "confidence": round(confidence, 2),
            "first_seen": iso_timestamp(first),
            "last_seen": iso_timestamp(last),
            "pools": [],
            "confirmed_pools": entries,
            "intel": [intel_dict(h) for h in hits],
            "evidence": {
                "event_ids": sorted({i for e in entries for i in e["event_ids"]} | {h.event_id for h in hits})
            },
        }
        return last, host, body

    def _encrypted_only(
        self,
        host: str,
        encrypted: EncryptedEvidence,
        contacts: list[PeerContact],
        hits: list[IntelObservation],
    ) -> tuple[float, str, dict[str, Any]]:
        """No pool behaviour, but encrypted flows judged mining or Chia: a verdict without stages, at the
        fused confidence (or the peer or intel confidence when higher). `encrypted` is added by the caller."""
        confidence = encrypted.confidence
        suspect: dict[str, Any] = {}
        if contacts:
            suspect = self._peer_suspect(host, contacts, hits)[2]
            confidence = max(confidence, suspect["confidence"])
        else:
            confidence = max(confidence, _intel_confidence(hits))
        span = [encrypted.first_seen, encrypted.last_seen]
        last, _, body = _stageless(host, encrypted.activity(), confidence, span, hits)
        if suspect:  # its confirmed pools and their evidence are kept
            body = suspect | body | {"evidence": suspect["evidence"]}
        return last, host, body

    @staticmethod
    def _intel_only(host: str, hits: list[IntelObservation]) -> tuple[float, str, dict[str, Any]]:
        """No pool behaviour, but the host reached known mining infrastructure: a suspect, stated as such."""
        return _stageless(host, "contacted-mining-infrastructure", _intel_confidence(hits), [], hits)

    @staticmethod
    def _disk_only(
        host: str, disk: JoinedDisk, hits: list[IntelObservation]
    ) -> tuple[float, str, dict[str, Any]]:
        """Nothing in the traffic, but scan-disk found Chia on the host's disks: a suspect, over the findings'
        mtimes (and the intel hits', if any). `disk` is added by the caller."""
        found = disk.found
        confidence = max(DISK_ONLY_WEIGHT * found.confidence, _intel_confidence(hits))
        return _stageless(host, "chia-on-disk", confidence, [found.first_seen, found.last_seen], hits)

    def _verdict(
        self, host: str, pools: list[PoolEvidence], hits: list[IntelObservation]
    ) -> tuple[float, str, dict[str, Any]]:
        pools.sort(key=lambda p: (p.first_seen, p.ip, p.port))
        stages = sorted(set().union(*(p.stages for p in pools)))
        submits = sum(p.submits for p in pools)
        if submits == 0 and len(pools) >= self.policy.prober_min_pools:
            activity = "probing-pools"
        elif 2 in stages:
            activity = "mining"
        else:
            activity = "connected-to-pool"
        evidence: list[int] = sorted({i for p in pools for ids in p.event_ids.values() for i in ids})
        first, last = min(p.first_seen for p in pools), max(p.last_seen for p in pools)
        agents: set[str] = set().union(*(p.agents for p in pools))
        pool_ips = {p.ip for p in pools}
        logins = set().union(*(p.logins for p in pools))
        corroborated = any(  # a pool learnt from a capture is no independent confirmation of it
            h.peer_ip in pool_ips
            or (h.indicator_type == "wallet" and any(login.startswith(h.indicator) for login in logins))
            for h in hits
            if not h.discovered
        )
        confidence = max(p.confidence() for p in pools)
        if corroborated:
            confidence = min(0.99, round(confidence + INTEL_CORROBORATION, 2))
        body = {
            "host": host,
            "activity": activity,
            "stages": stages,
            "confidence": confidence,
            "first_seen": iso_timestamp(first),
            "last_seen": iso_timestamp(last),
            "dialects": sorted(set().union(*(p.dialects for p in pools))),
            "logins": sorted(set().union(*(p.logins for p in pools))),
            "agents": sorted(agents),
            "agent_info": [agent_dict(a) for a in sorted(agents)[:8]],
            "algorithms": sorted(set().union(*(p.algorithms for p in pools))),
            "transports": sorted(set().union(*(p.transports for p in pools))),
            "encodings": sorted(set().union(*(p.encodings for p in pools))),
            "wallets": sorted(
                {w["address"]: w for p in pools for w in p.wallet_list()}.values(), key=_address
            ),
            "coins": sorted({c for p in pools if (c := p.coin()["coin"])}),
            "submits": submits,
            "accepted": sum(p.accepted for p in pools),
            "rejected": sum(p.rejected for p in pools),
            "pools": [self._pool_dict(p, hits) for p in pools],
            "intel": [intel_dict(h) for h in hits],
            "evidence": {"event_ids": sorted({*evidence, *(h.event_id for h in hits)})},
        }
        return last, host, body

    @staticmethod
    def _pool_dict(pool: PoolEvidence, hits: list[IntelObservation]) -> dict[str, Any]:
        """The pool entry, with the intel hits about it; a pool no curated intel knew is a new candidate."""
        about = [h for h in hits if h.peer_ip == pool.ip]
        candidate = all(h.discovered for h in about)
        return pool.as_dict() | {"intel": [intel_dict(h) for h in about], "pool_candidate": candidate}


def _intel_confidence(hits: list[IntelObservation]) -> float:
    """What the host's intel hits alone are worth: a suspect's share of the most confident one (0 without)."""
    return INTEL_ONLY_WEIGHT * max((h.confidence for h in hits), default=0.0)


def _stageless(
    host: str, activity: str, confidence: float, span: list[float], hits: list[IntelObservation]
) -> tuple[float, str, dict[str, Any]]:
    """A suspect's verdict: no stages, no pools, its intel hits; `span`: times besides the hits'."""
    times = span + [h.ts for h in hits]
    first, last = min(times), max(times)
    body = {
        "host": host,
        "activity": activity,
        "stages": [],
        "confidence": round(confidence, 2),
        "first_seen": iso_timestamp(first),
        "last_seen": iso_timestamp(last),
        "pools": [],
        "intel": [intel_dict(h) for h in hits],
        "evidence": {"event_ids": sorted({h.event_id for h in hits})},
    }
    return last, host, body


def _peer_entry(ip: str, port: int, confirmers: list[PoolFact], contact: Contact) -> dict[str, Any]:
    """How a suspect reached one confirmed pool endpoint, and which hosts' verdicts confirmed it (here, or
    in another partition: correlate/joins.py)."""
    evidence = sorted({i for pool in confirmers for i in pool.event_ids})
    return {
        "ip": ip,
        "port": port,
        "same_port": port in contact.ports,
        "ports_contacted": sorted(contact.ports),
        "confirmed_by": sorted({pool.miner for pool in confirmers}),
        "pool_confidence": max(pool.confidence for pool in confirmers),
        "flows": contact.flows,
        "flow_ids": list(contact.flow_ids),
        "first_seen": iso_timestamp(contact.first_seen),
        "last_seen": iso_timestamp(contact.last_seen),
        "event_ids": evidence[:EVIDENCE_IDS_PER_BEHAVIOUR],
    }


def intel_dict(hit: IntelObservation) -> dict[str, Any]:
    return {
        "indicator_type": hit.indicator_type,
        "indicator": hit.indicator,
        "source": hit.source,
        "family": hit.family or None,
        "confidence": hit.confidence,
        "event_id": hit.event_id,
        "discovered": hit.discovered,
    }


def wallet_dict(wallet: WalletInfo) -> dict[str, Any]:
    """A wallet as events and verdicts show it."""
    return {
        "address": wallet.address,
        "coin": wallet.coin,
        "kind": wallet.kind,
        "checksum_valid": wallet.checksum_valid,
    }


def agent_dict(agent: str) -> dict[str, Any]:
    """What an agent string reveals (family "unknown" if no known miner matches), as events show it."""
    info = parse_agent(agent)
    parsed = {
        "agent": info.agent,
        "family": info.family,
        "version": info.version,
        "os": info.os,
        "hardware": info.hardware,
        "libuv": info.libuv,
        "compiler": info.compiler,
        "gpu_runtime": info.gpu_runtime,
    }
    return {k: v for k, v in parsed.items() if v is not None}


def _address(wallet: dict[str, Any]) -> str:
    return wallet["address"]
