"""Incidents: per victim host, the observations of every kill-chain stage joined into one infection story.

Inputs are typed only: StageObservations from the detectors (brute force, exploits, carved files, scans)
as they happen, and at the end the verdict correlator's pool evidence, peer contacts and intel hits.
The join, the host marking and the score are documented in docs/killchain.md; in short:
- an attack on V (stage 2) becomes `exploitation` when V then does what an infection does (downloads an
  implant, talks to C&C or a pool) within `link_window`, at full confidence when V fetched from the
  attacker or from a host the attack's payload named, at LOOSE_LINK times it otherwise;
- a host that is the source of stages 1-3 against internal (not globally routed) addresses while it has
  an incident of its own moves laterally: its incident gets `lateral_movement`, and the hosts it reached
  that then show a stage of their own go into `spread_to`;
- score = 1 - prod(1 - w) over the stages reached, w = level x confidence x 0.5 ** (age / half_life), age
  measured from the incident's last activity: each stage is explained by its own fields, and two stages
  count more than either alone.
Memory: at most `max_hosts` hosts (least recently observed forgotten first, counted) and `max_steps` kinds
of observation per host; each kind keeps EVENT_IDS event ids.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from minerwatch.correlate.joins import AttackFact, AttackStep, Joins, SourceFact
from minerwatch.correlate.observations import ObservationTap, StageObservation
from minerwatch.correlate.stages import Stage, Technique
from minerwatch.correlate.store import DEFAULT_RETENTION_DAYS, SETS, FactRow, IncidentStore, StepRow
from minerwatch.correlate.verdicts import VerdictCorrelator
from minerwatch.errors import InputError
from minerwatch.events import iso_timestamp

EVENT_IDS = 20  # event ids kept per step and per stage of an incident
LISTED = 32  # attackers, pools, files, wallets... listed per incident
LOOSE_LINK = 0.7  # confidence factor of an exploitation inferred from behaviour not tied to the attacker
EXPLOITATION_LEVEL = 0.9
LATERAL_LEVEL = 0.8
# How bad a mining observation is, by what it rests on: behaviour-confirmed > intel-only > encrypted flows
# judged by evidence fusion (encrypted/fusion.py) > address contact.
POOL_LEVEL = {"behaviour": 1.0, "intel": 0.6, "encrypted": 0.5, "contact": 0.4}
# Chia plots, plotting or a farming set-up that scan-disk found on a host: the host's own disks, not the
# network, so above encrypted flows; not behaviour (farming can be legitimate).
DISK_LEVEL = 0.6
INTEL_C2_LEVEL = 0.8
INTEL_HASH_LEVEL = 0.8
# Intel hits on what a transfer carried (a pool URL in a script), not on what the host itself contacted:
# the file's own observation covers them.
CONTENT_WHERE = ("mining pool-url", "mining miner-cmdline", "carved file")
FOLLOW_UP = (Stage.IMPLANT_DOWNLOAD, Stage.COMMAND_AND_CONTROL, Stage.ACTIONS_ON_OBJECTIVE)
ATTACK_STAGES = (Stage.RECONNAISSANCE, Stage.ATTEMPTED_ATTACK, Stage.EXPLOITATION)
LATERAL_TECHNIQUE: dict[str, Technique] = {
    Technique.ACTIVE_SCANNING: Technique.NETWORK_SERVICE_DISCOVERY,
    Technique.BRUTE_FORCE: Technique.REMOTE_SERVICES,
    Technique.PASSWORD_SPRAYING: Technique.REMOTE_SERVICES,
}


@dataclass
class IncidentPolicy:
    """Documented defaults (docs/killchain.md)."""

    link_window: float = 3600.0  # seconds after an attack in which the victim's behaviour proves success
    half_life: float = (
        86400.0  # seconds: a stage this much older than the incident's last activity counts half
    )
    max_hosts: int = 50_000
    max_steps: int = 64  # kinds of observation (stage, peer, label) kept per host
    retention: float = DEFAULT_RETENTION_DAYS * 86400  # seconds of capture time the store keeps


@dataclass(slots=True)
class Step:
    """Every observation of one kind (stage, peer, label) on one host. Slots, and frozensets (the empty one
    is shared): a correlator keeps up to `max_hosts` x `max_steps` of them, most with empty sets, and the
    build shares them between what was observed and what it reports."""

    stage: Stage
    label: str
    peer: str | None
    first_seen: float
    last_seen: float
    level: float
    confidence: float
    techniques: frozenset[str] = frozenset()
    event_ids: list[int] = field(default_factory=list)
    services: frozenset[str] = frozenset()
    named_hosts: frozenset[str] = frozenset()
    peer_names: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()
    basis: str | None = None  # mining steps: behaviour, intel, encrypted or contact

    def copy(self) -> Step:
        """A copy whose event ids are its own (the build changes copies, never what was observed)."""
        return replace(self, event_ids=list(self.event_ids))

    def merge(self, other: Step) -> None:
        """The same kind of observation seen again (in another run): independent of the order."""
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)
        self.level = max(self.level, other.level)
        self.confidence = max(self.confidence, other.confidence)
        self.event_ids = sorted({*self.event_ids, *other.event_ids})[:EVENT_IDS]
        for name in SETS:
            mine = getattr(self, name)
            setattr(
                self,
                name,
                mine | frozenset(sorted(getattr(other, name) - mine)[: max(0, LISTED - len(mine))]),
            )

    def add(self, obs: StageObservation) -> None:
        self.first_seen = min(self.first_seen, obs.ts if obs.since is None else obs.since)
        self.last_seen = max(self.last_seen, obs.ts)
        self.level = max(self.level, obs.level)
        self.confidence = max(self.confidence, obs.confidence)
        if obs.technique not in self.techniques:
            self.techniques |= {obs.technique}
        if len(self.event_ids) < EVENT_IDS and obs.event_id not in self.event_ids:
            self.event_ids.append(obs.event_id)
        if obs.service and obs.service not in self.services and len(self.services) < LISTED:
            self.services |= {obs.service}
        if obs.peer_name and obs.peer_name not in self.peer_names and len(self.peer_names) < LISTED:
            self.peer_names |= {obs.peer_name}
        if obs.sha256 and obs.sha256 not in self.files and len(self.files) < LISTED:
            self.files |= {obs.sha256}
        if obs.named_hosts and not self.named_hosts.issuperset(obs.named_hosts):
            self.named_hosts |= frozenset(obs.named_hosts[: LISTED - len(self.named_hosts)])

    @property
    def weight(self) -> float:
        return self.level * self.confidence

    def fetched_from(self, hosts: set[str]) -> bool:
        return self.peer in hosts or bool(self.peer_names & hosts)


class IncidentCorrelator:
    def __init__(self, policy: IncidentPolicy | None = None) -> None:
        self.policy = policy or IncidentPolicy()
        self.hosts: OrderedDict[str, dict[tuple[Stage, str | None, str], Step]] = OrderedDict()
        self.stats = {"observations": 0, "hosts_forgotten": 0, "steps_dropped": 0}
        self.tap: ObservationTap | None = None  # sees each observation taken (bus/publish.py)
        self.joins: Joins | None = None  # what joins hosts of other partitions (bus/correlator.py)

    def observe(self, obs: StageObservation) -> None:
        self.stats["observations"] += 1
        if self.tap is not None:
            self.tap(obs)
        self._step(obs.host, obs.stage, obs.peer, obs.label, obs)

    def _step(self, host: str, stage: Stage, peer: str | None, label: str, obs: StageObservation) -> None:
        steps = self.hosts.get(host)
        if steps is None:
            steps = self.hosts[host] = {}
            if len(self.hosts) > self.policy.max_hosts:
                self.hosts.popitem(last=False)
                self.stats["hosts_forgotten"] += 1
        else:
            self.hosts.move_to_end(host)
        key = (stage, peer, label)
        step = steps.get(key)
        if step is None:
            if len(steps) >= self.policy.max_steps:
                self.stats["steps_dropped"] += 1
                return
            step = steps[key] = Step(stage, label, peer, obs.ts, obs.ts, obs.level, obs.confidence)
        step.add(obs)

    def incidents(
        self, verdicts: VerdictCorrelator, store: IncidentStore | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(incident bodies, host bodies), each with its last activity as capture time in `_ts`.

        With a store, what earlier runs saw is joined in and everything is saved back; then only the
        incidents this run touched or changed (a host that spread since, say) and their hosts are returned.
        """
        builder = _Builder(self.policy, self.hosts, verdicts, self.joins)
        if store is None:
            built = builder.build()
            if self.joins is not None:  # facts of this stream only: the store's earlier runs stay here
                self.joins.share(verdicts.confirmed_pools(), builder.attacks_out, builder.sources_out)
            return built
        builder.load(store.steps(), store.facts())
        before = {host: _without_ids(body) for host, body in store.bodies().items()}
        incidents, hosts = builder.build()
        store.save(builder.step_rows(), builder.fact_rows(), incidents)
        self.stats["store_steps_expired"] = store.expire(self.policy.retention)
        self.stats |= builder.forgotten
        touched = builder.touched
        incidents = [i for i in incidents if i["host"] in touched or before.get(i["host"]) != _without_ids(i)]
        shown = touched | {i["host"] for i in incidents}
        return incidents, [h for h in hosts if h["host"] in shown]


class _Builder:
    """One pass at the end: merges the steps, adds mining and intel, promotes, links, scores.

    What was observed is never changed (live builds again and again): `_merged` copies the first step of
    each kind before merging others into it, and promotion replaces the steps it changes. Nothing else is
    copied, so the build holds the observed steps once more, not three times."""

    def __init__(
        self,
        policy: IncidentPolicy,
        observed: dict[str, dict[tuple[Stage, str | None, str], Step]],
        verdicts: VerdictCorrelator,
        joins: Joins | None = None,
    ) -> None:
        self.policy = policy
        self.joins = joins
        self.attacks_out: list[AttackFact] = []  # what other partitions need of this build (joins.py)
        self.sources_out: list[SourceFact] = []
        self.steps = {host: list(steps.values()) for host, steps in observed.items()}
        self.pools: dict[str, dict[str, dict[str, Any]]] = {}  # host -> "ip:port" -> pool entry
        self.wallets: dict[str, set[str]] = {}
        self.agents: dict[str, set[str]] = {}
        self._mining(verdicts)
        self._intel(verdicts)

    def _add(self, host: str, step: Step) -> None:
        self.steps.setdefault(host, []).append(step)

    def _pool(self, host: str, address: str, basis: str, confidence: float) -> None:
        """Behaviour outranks intel, which outranks a contact; then the higher confidence."""
        pools = self.pools.setdefault(host, {})
        entry = {"address": address, "basis": basis, "confidence": round(confidence, 2)}
        old = pools.get(address)
        if old is None and len(pools) >= LISTED:
            return
        if old is None or _pool_rank(entry) > _pool_rank(old):
            pools[address] = entry

    def load(self, steps: list[StepRow], facts: list[FactRow]) -> None:
        """What earlier runs saw (IncidentStore): merged with this run's steps when the build starts."""
        for host, stage, peer, label, first, last, level, confidence, basis, sets in steps:
            step = Step(stage, label, peer, first, last, level, confidence, basis=basis)
            for name in SETS:
                setattr(step, name, frozenset(sets.get(name, ())))
            self._add(host, step)
        for host, kind, value, fact_basis, certainty in facts:
            if kind == "pool":
                self._pool(host, value, fact_basis or "intel", certainty or 0.0)
            else:
                (self.wallets if kind == "wallet" else self.agents).setdefault(host, set()).add(value)

    def step_rows(self) -> list[StepRow]:
        """The merged steps as the store keeps them (before promotion: it is redone each build), within
        the correlator's bounds: the `max_hosts` hosts active last, each with its `max_steps` latest kinds
        (what goes is counted in `stats.correlation.store_hosts_forgotten` and `store_steps_dropped`)."""
        latest = sorted(self.raw, key=lambda h: (max(s.last_seen for s in self.raw[h]), h), reverse=True)
        kept = {h: sorted(self.raw[h], key=lambda s: s.last_seen)[-self.policy.max_steps :] for h in latest}
        self.forgotten = {
            "store_hosts_forgotten": max(0, len(latest) - self.policy.max_hosts),
            "store_steps_dropped": sum(len(self.raw[h]) - len(kept[h]) for h in latest),
        }
        kept = {h: kept[h] for h in latest[: self.policy.max_hosts]}
        return [
            (
                host,
                s.stage,
                s.peer,
                s.label,
                s.first_seen,
                s.last_seen,
                s.level,
                s.confidence,
                s.basis,
                {name: sorted(getattr(s, name)) for name in SETS},
            )
            for host, steps in sorted(kept.items())
            for s in steps
        ]

    def fact_rows(self) -> list[FactRow]:
        rows: list[FactRow] = [
            (host, "pool", p["address"], p["basis"], p["confidence"])
            for host, pools in self.pools.items()
            for p in pools.values()
        ]
        for kind, values in (("wallet", self.wallets), ("agent", self.agents)):
            rows += [(host, kind, v, None, None) for host, found in values.items() for v in found]
        return rows

    @property
    def touched(self) -> set[str]:
        """Hosts this run observed something about (stored steps carry no event ids)."""
        return {host for host, steps in self.raw.items() if any(s.event_ids for s in steps)}

    def _mining(self, verdicts: VerdictCorrelator) -> None:
        for host, pool, _ in verdicts.staged_pools():
            address = f"{pool.ip}:{pool.port}"
            step = Step(
                Stage.ACTIONS_ON_OBJECTIVE,
                f"pool {address} ({'/'.join(sorted(pool.dialects))})",
                pool.ip,
                pool.first_seen,
                pool.last_seen,
                POOL_LEVEL["behaviour"],
                pool.confidence(),
                frozenset({Technique.COMPUTE_HIJACKING}),
                sorted({i for ids in pool.event_ids.values() for i in ids})[:EVENT_IDS],
                basis="behaviour",
            )
            self._add(host, step)
            self._pool(host, address, "behaviour", pool.confidence())
            self.wallets.setdefault(host, set()).update(list(pool.wallets)[:LISTED])
            self.agents.setdefault(host, set()).update(list(pool.agents)[:LISTED])
        for host, contacts in verdicts.peer_contacts().items():
            for entry, contact in contacts:
                address = f"{entry['ip']}:{entry['port']}"
                confidence = entry["pool_confidence"] * (0.5 if entry["same_port"] else 0.3)
                step = Step(
                    Stage.ACTIONS_ON_OBJECTIVE,
                    f"contacted confirmed pool {address}",
                    entry["ip"],
                    contact.first_seen,
                    contact.last_seen,
                    POOL_LEVEL["contact"],
                    confidence,
                    frozenset({Technique.COMPUTE_HIJACKING}),
                    entry["event_ids"][:EVENT_IDS],
                    basis="contact",
                )
                self._add(host, step)
                self._pool(host, address, "contact", confidence)
        self._encrypted(verdicts)
        self._disk(verdicts)

    def _disk(self, verdicts: VerdictCorrelator) -> None:
        """scan-disk's findings on a host: one step, cited by the events made of them."""
        for host, disk in verdicts.disk.items():
            found = disk.found
            step = Step(
                Stage.ACTIONS_ON_OBJECTIVE,
                "chia plots, plotting or farming set-up on disk (scan-disk)",
                None,
                found.first_seen,
                found.last_seen,
                DISK_LEVEL,
                found.confidence,
                frozenset({Technique.RESOURCE_HIJACKING}),
                disk.event_ids[:EVENT_IDS],
                basis="disk",
            )
            self._add(host, step)

    def _encrypted(self, verdicts: VerdictCorrelator) -> None:
        """Encrypted flows judged mining: one step per pool endpoint; a Chia node: one step per host."""
        for host, encrypted in verdicts.encrypted.items():
            for (ip, port, kind), peer in encrypted.peers.items():
                address = f"{ip}:{port}"
                if kind == "chia":
                    label, peer_ip = "chia peer traffic", None
                else:
                    label, peer_ip = f"encrypted mining flows to {address}", ip
                    self._pool(host, address, "encrypted", peer.confidence)
                step = Step(
                    Stage.ACTIONS_ON_OBJECTIVE,
                    label,
                    peer_ip,
                    peer.first_seen,
                    peer.last_seen,
                    POOL_LEVEL["encrypted"],
                    peer.confidence,
                    frozenset({Technique.COMPUTE_HIJACKING}),
                    peer.event_ids[:EVENT_IDS],
                    basis="encrypted",
                )
                self._add(host, step)

    def _intel(self, verdicts: VerdictCorrelator) -> None:
        """Intel hits: C&C indicators are stage 5, file hashes stage 4, the rest (pools, mining domains,
        wallets) intel-only mining. Indicators found inside transfers are the file's evidence."""
        for host, hits in verdicts.intel.items():
            for hit in hits:
                if hit.indicator_type == "wallet":
                    self.wallets.setdefault(host, set()).add(hit.indicator)
                if hit.source == "carved-file" or hit.where in CONTENT_WHERE:
                    continue
                if "c2" in hit.tags:
                    stage, level, technique = (
                        Stage.COMMAND_AND_CONTROL,
                        INTEL_C2_LEVEL,
                        Technique.APPLICATION_LAYER_PROTOCOL,
                    )
                elif hit.indicator_type == "hash":
                    stage, level, technique = (
                        Stage.IMPLANT_DOWNLOAD,
                        INTEL_HASH_LEVEL,
                        Technique.INGRESS_TOOL_TRANSFER,
                    )
                else:
                    stage, level, technique = (
                        Stage.ACTIONS_ON_OBJECTIVE,
                        POOL_LEVEL["intel"],
                        Technique.COMPUTE_HIJACKING,
                    )
                    self._pool(host, hit.indicator, "intel", hit.confidence)
                label = f"intel {hit.indicator_type} {hit.indicator}"
                step = Step(
                    stage, label, hit.peer_ip, hit.ts, hit.ts, level, hit.confidence, frozenset({technique})
                )
                step.event_ids.append(hit.event_id)
                step.basis = "intel" if stage is Stage.ACTIONS_ON_OBJECTIVE else None
                self._add(host, step)

    # ---- the join -----------------------------------------------------------------------------------------

    def _promote(self, steps: list[Step]) -> list[Step]:
        """An exploit request followed by the victim's own infection behaviour is an exploitation (brute
        force is judged by its own detector: a campaign with a successful login is one already). A new
        list; a promoted step is a new step (its sets shared: nothing after changes them), since the store
        keeps the steps as observed."""
        window = self.policy.link_window
        followers = [s for s in steps if s.stage in FOLLOW_UP and s.basis != "contact"]
        out = []
        for step in steps:
            guessing = {Technique.BRUTE_FORCE, Technique.PASSWORD_SPRAYING} & step.techniques
            if step.stage is Stage.ATTEMPTED_ATTACK and not guessing:
                after = [f for f in followers if step.first_seen <= f.first_seen <= step.last_seen + window]
                if after:
                    linked = any(f.fetched_from({str(step.peer), *step.named_hosts}) for f in after)
                    step = replace(
                        step,
                        stage=Stage.EXPLOITATION,
                        level=max(step.level, EXPLOITATION_LEVEL),
                        confidence=step.confidence * (1.0 if linked else LOOSE_LINK),
                    )
            out.append(step)
        return out

    def build(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        self.raw = {host: _merged(steps) for host, steps in self.steps.items()}
        self.steps = {host: self._promote(steps) for host, steps in self.raw.items()}
        status = {host: s for host, steps in self.steps.items() if (s := _status(steps))}
        by_peer: dict[str, list[tuple[str, Step]]] = {}
        for host, steps in self.steps.items():
            for step in steps:
                if step.stage in ATTACK_STAGES and step.peer is not None:
                    by_peer.setdefault(step.peer, []).append((host, step))
        spread = self._spread(status, by_peer)
        incidents, hosts = [], []
        for host in sorted(status, key=lambda h: (min(s.first_seen for s in self.steps[h]), h)):
            body = self._incident(host, status[host], spread.get(host, set()))
            opened = not _weak_only(self.steps[host])
            hosts.append(_host(host, status[host], body, opened))
            if opened:
                incidents.append(body)
        hosts += _attackers(incidents, self.steps)
        return incidents, hosts

    def _spread(
        self, status: dict[str, str], by_peer: dict[str, list[tuple[str, Step]]]
    ) -> dict[str, set[str]]:
        """Lateral movement: each host with a status of its own that attacked internal hosts gets a lateral
        step per attack, and the targets that then showed a stage of their own go into its `spread_to`
        (those without a status of their own become suspicious). An attacker or a target another partition
        owns is joined by the facts of joins.py."""
        remote = self.joins.attacks_by() if self.joins is not None else {}
        remote_sources = self.joins.sources() if self.joins is not None else set()
        own = set(status)  # hosts made suspicious below are not sources
        spread: dict[str, set[str]] = {}
        for source in sorted((own | remote_sources) & (by_peer.keys() | remote.keys())):
            attacks = [
                (target, step, _shows_stage_after(self.steps.get(target, ()), step, source))
                for target, step in by_peer.get(source, ())
            ]
            if source in own:  # its attacks on hosts of other partitions
                attacks += [
                    (fact.target, _step(s, source), s.followed)
                    for fact in remote.get(source, ())
                    for s in fact.steps
                ]
            for target, step, followed in attacks:
                if _is_global(target):  # a miner probing pools on the internet moves nowhere
                    continue
                if source in own:
                    self._add(source, _lateral(step, target))
                if followed:
                    if source in own:
                        spread.setdefault(source, set()).add(target)
                    if target in self.steps:
                        status.setdefault(target, "suspicious")
        if self.joins is not None:
            self._share(own, by_peer, remote)
        return spread

    def _share(
        self, own: set[str], by_peer: dict[str, list[tuple[str, Step]]], remote: dict[str, list[AttackFact]]
    ) -> None:
        """The attacks by other partitions' hosts on ours, and our attackers with a status, as facts."""
        assert self.joins is not None
        owns = self.joins.owns
        for source, attacks in sorted(by_peer.items()):
            if owns(source):
                continue
            targets: dict[str, list[AttackStep]] = {}
            for target, step in attacks:
                if not _is_global(target):
                    followed = _shows_stage_after(self.steps.get(target, ()), step, source)
                    targets.setdefault(target, []).append(_attack_step(step, followed))
            self.attacks_out += [
                AttackFact(source, target, tuple(sorted(steps, key=_attack_order)))
                for target, steps in sorted(targets.items())
            ]
        self.sources_out = [SourceFact(source) for source in sorted(own & remote.keys())]

    def _incident(self, host: str, status: str, spread_to: set[str]) -> dict[str, Any]:
        steps = self.steps[host]
        last = max(s.last_seen for s in steps)
        stages = [
            _stage_entry(stage, group, last, self.policy.half_life) for stage, group in _by_stage(steps)
        ]
        remaining = 1.0
        for entry in stages:
            remaining *= 1 - entry["weight"]
        attacks = sorted(
            (s for s in steps if s.stage in ATTACK_STAGES and s.peer), key=lambda s: (s.first_seen, s.label)
        )
        entry_step = next(
            (s for s in attacks if s.stage is Stage.EXPLOITATION), attacks[0] if attacks else None
        )
        body: dict[str, Any] = {
            "id": incident_id(host),
            "host": host,
            "role": "victim-and-attacker"
            if any(s.stage is Stage.LATERAL_MOVEMENT for s in steps)
            else "victim",
            "status": status,
            "score": round(1 - remaining, 2),
            "first_seen": iso_timestamp(min(s.first_seen for s in steps)),
            "last_seen": iso_timestamp(last),
            "stages": stages,
            "entry": _entry(entry_step),
            "attackers": sorted({s.peer for s in attacks if s.peer})[:LISTED],
            "spread_to": sorted(spread_to)[:LISTED],
            "pools": _pools(self.pools.get(host, {})),
            "wallets": sorted(self.wallets.get(host, set()))[:LISTED],
            "agents": sorted(self.agents.get(host, set()))[:LISTED],
            "files": _files(steps),
            "_ts": last,
        }
        body["recommendations"] = recommendations(body, {v for s in attacks for v in s.services})
        return body


def _without_ids(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """An incident as runs compare it: event ids and capture-time bookkeeping belong to one run."""
    if body is None:
        return None
    stages = [{k: v for k, v in s.items() if k != "event_ids"} for s in body["stages"]]
    return {k: v for k, v in body.items() if k != "_ts"} | {"stages": stages}


def incident_id(host: str) -> str:
    """One incident per victim host: its id depends on the host alone, so later runs extend it."""
    return "mw-" + hashlib.sha256(host.encode()).hexdigest()[:16]


def _status(steps: list[Step]) -> str | None:
    """compromised: pool behaviour confirmed, or an exploitation followed by an implant download;
    suspicious: any other stage from exploitation on (a confirmed pool's address contacted included)."""
    if any(s.basis == "behaviour" for s in steps):
        return "compromised"
    exploited = [s.first_seen for s in steps if s.stage is Stage.EXPLOITATION]
    if exploited and any(s.stage is Stage.IMPLANT_DOWNLOAD and s.last_seen >= min(exploited) for s in steps):
        return "compromised"
    if any(s.stage.number >= Stage.EXPLOITATION.number for s in steps):
        return "suspicious"
    return None


def _weak_only(steps: list[Step]) -> bool:
    """Hosts known only from intel or from contacting a confirmed pool are marked, not incidents."""
    return all(s.basis in ("intel", "contact") or s.stage.number < 3 for s in steps)


def _pools(pools: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The pool entries, without an address-only hint about a pool whose endpoint behaviour confirmed."""
    confirmed = {p["address"].rsplit(":", 1)[0] for p in pools.values() if p["basis"] == "behaviour"}
    kept = [p for p in pools.values() if p["basis"] == "behaviour" or p["address"] not in confirmed]
    return sorted(kept, key=lambda p: p["address"])


def _merged(steps: list[Step]) -> list[Step]:
    """One step per kind (stage, peer, label), whichever runs and sources they came from."""
    kinds: dict[tuple[Stage, str | None, str], Step] = {}
    for step in steps:
        key = (step.stage, step.peer, step.label)
        if key in kinds:
            kinds[key].merge(step)
        else:
            kinds[key] = step.copy()
    return sorted(kinds.values(), key=lambda s: (s.stage.number, s.first_seen, s.label, s.peer or ""))


def _pool_rank(pool: dict[str, Any]) -> tuple[float, float]:
    return POOL_LEVEL[pool["basis"]], pool["confidence"]


@cache
def _is_global(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False


def _lateral(step: Step, target: str) -> Step:
    technique = next(iter(sorted(step.techniques)), Technique.EXPLOITATION_OF_REMOTE_SERVICES)
    moved = Step(
        Stage.LATERAL_MOVEMENT,
        f"{step.label} against {target}",
        target,
        step.first_seen,
        step.last_seen,
        LATERAL_LEVEL,
        step.confidence,
        frozenset({LATERAL_TECHNIQUE.get(technique, Technique.EXPLOITATION_OF_REMOTE_SERVICES)}),
        list(step.event_ids),
    )
    return moved


def _attack_step(step: Step, followed: bool) -> AttackStep:
    return AttackStep(
        step.stage,
        step.label,
        tuple(Technique(t) for t in sorted(step.techniques)),
        step.first_seen,
        step.last_seen,
        step.confidence,
        followed,
        tuple(step.event_ids),
    )


def _attack_order(step: AttackStep) -> tuple[int, float, str]:
    return step.stage.number, step.first_seen, step.label


def _step(attack: AttackStep, source: str) -> Step:
    """An attack step another partition shared, as the attacker's lateral step is made of it."""
    return Step(
        attack.stage,
        attack.label,
        source,
        attack.first_seen,
        attack.last_seen,
        0.0,
        attack.confidence,
        frozenset(attack.techniques),
        list(attack.event_ids),
    )


def _shows_stage_after(steps: Iterable[Step], attack: Step, source: str) -> bool:
    """A target that, after being attacked from `source`, shows a stage of its own (other than more
    attacks from the same source)."""
    return any(
        s.last_seen >= attack.first_seen and (s.peer != source or s.stage.number >= 3)
        for s in steps
        if s is not attack and s.stage is not Stage.LATERAL_MOVEMENT
    )


def _by_stage(steps: list[Step]) -> Iterator[tuple[Stage, list[Step]]]:
    for stage in Stage:
        group = [s for s in steps if s.stage is stage]
        if group:
            yield stage, group


def _stage_entry(stage: Stage, steps: list[Step], last: float, half_life: float) -> dict[str, Any]:
    strongest = max(steps, key=lambda s: (s.weight, s.last_seen))
    stage_last = max(s.last_seen for s in steps)
    decay = 0.5 ** (max(0.0, last - stage_last) / half_life) if half_life > 0 else 1.0
    return {
        "name": str(stage),
        "number": stage.number,
        "first_seen": iso_timestamp(min(s.first_seen for s in steps)),
        "last_seen": iso_timestamp(stage_last),
        "event_ids": sorted({i for s in steps for i in s.event_ids})[:EVENT_IDS],
        "techniques": sorted({t for s in steps for t in s.techniques}),
        "observations": [strongest.label, *sorted({s.label for s in steps} - {strongest.label})][:LISTED],
        "level": round(strongest.level, 2),
        "confidence": round(strongest.confidence, 2),
        "decay": round(decay, 3),
        "weight": round(strongest.weight * decay, 3),
    }


def _entry(step: Step | None) -> dict[str, Any] | None:
    if step is None:
        return None
    return {
        "stage": str(step.stage),
        "peer": step.peer,
        "services": sorted(step.services),
        "what": step.label,
    }


def _files(steps: list[Step]) -> list[dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for step in sorted(steps, key=lambda s: s.first_seen):
        for sha256 in sorted(step.files):
            files.setdefault(sha256, {"sha256": sha256, "what": step.label, "from": step.peer})
    return list(files.values())[:LISTED]


def _host(host: str, status: str, incident: dict[str, Any], opened: bool) -> dict[str, Any]:
    """A compromised or suspicious host; `incident` is None when its evidence opened none (intel-only,
    contact with a confirmed pool's address)."""
    reasons = [s["observations"][0] for s in incident["stages"] if s["number"] >= 3]
    return {
        "host": host,
        "status": status,
        "reason": "; ".join(reasons[:4]),
        "incident": incident["id"] if opened else None,
        "first_seen": incident["first_seen"],
        "last_seen": incident["last_seen"],
        "_ts": incident["_ts"],
    }


def _attackers(incidents: list[dict[str, Any]], steps: dict[str, list[Step]]) -> list[dict[str, Any]]:
    """Every source of stages 1-3 against a host with an incident."""
    attacked: dict[str, list[tuple[str, Step]]] = {}
    for incident in incidents:
        for step in steps[incident["host"]]:
            if step.stage in ATTACK_STAGES and step.peer:
                attacked.setdefault(step.peer, []).append((incident["id"], step))
    out = []
    for attacker, found in sorted(attacked.items()):
        first = min(s.first_seen for _, s in found)
        last = max(s.last_seen for _, s in found)
        out.append(
            {
                "host": attacker,
                "status": "attacker",
                "reason": "; ".join(sorted({s.label for _, s in found})[:4]),
                "incidents": sorted({i for i, _ in found}),
                "first_seen": iso_timestamp(first),
                "last_seen": iso_timestamp(last),
                "_ts": last,
            }
        )
    return out


@cache
def _advice() -> tuple[dict[str, Any], ...]:
    """The shipped advice, parsed with libyaml where present (PyYAML's pure-Python loader took 30 ms). A
    file that does not parse (a damaged install, or one being replaced under the run) is one line."""
    shipped = resources.files("minerwatch").joinpath("rules/recommendations.yml")
    try:
        document = yaml.load(shipped.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return tuple(document["recommendations"])
    except OSError as exc:
        raise InputError(f"cannot read the shipped {shipped}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, TypeError, KeyError) as exc:
        problem = " ".join(f"{type(exc).__name__}: {exc}".split())  # YAML errors span lines
        raise InputError(f"the shipped {shipped} is damaged ({problem}): reinstall minerwatch") from None


def recommendations(incident: dict[str, Any], services: set[str]) -> list[dict[str, str]]:
    """The shipped advice (rules/recommendations.yml) whose conditions the incident meets."""
    reached = {s["name"] for s in incident["stages"]}
    out = []
    for advice in _advice():
        when = advice.get("when", {})
        if "stage" in when and when["stage"] not in reached:
            continue
        if "service" in when and when["service"] not in services:
            continue
        if "has" in when and not incident.get(when["has"]):
            continue
        out.append({"id": advice["id"], "text": advice["text"]})
    return out
