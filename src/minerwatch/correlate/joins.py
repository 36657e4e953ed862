"""What joins hosts that different correlators own (`correlate --partitions N`, docs/deploy.md).

A partition owns all there is to know about its hosts, except what joins one of them to a host of
another partition. Each correlator therefore shares, as facts, what the others need of its own hosts,
and takes theirs in:
- pool: a pool endpoint behaviour confirmed on one of its hosts (for every other partition: their hosts
  that reached the pool's address are peer suspects, verdicts.py);
- attack: the attack steps (stages 1-3) a host of another partition took against one of its hosts, and
  whether the target then showed a stage of its own (for the attacker's partition: lateral movement and
  `spread_to` in the attacker's incident, incidents.py);
- source: one of its hosts with an incident of its own attacked a host of another partition (for the
  target's partition: a target that then showed a stage of its own is suspicious).

A fact is keyed (pool: miner and endpoint; attack: attacker and target; source: attacker) and stamped
with the sender's position in its own stream (`as_of`); a newer fact replaces the one held, so a copy, or
an older fact arriving late, changes nothing, and a step that was merged or promoted since is restated
whole. What a fact cites is in the receiver's numbering (the transport restates the events, bus/).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from minerwatch.correlate.stages import Stage, Technique

FACTS_KEPT = 100_000  # facts of each kind held from other partitions (the least recently changed go first)


@dataclass(frozen=True, slots=True)
class PoolFact:
    """A pool endpoint behaviour confirmed on `miner` (a stage reached), as peer suspects need it."""

    miner: str
    pool_ip: str
    pool_port: int
    first_seen: float
    last_seen: float
    confidence: float
    event_ids: tuple[int, ...] = ()  # evidence: the behaviour events


@dataclass(frozen=True, slots=True)
class AttackStep:
    """One attack step of `source` against `target`, as the target's partition built it."""

    stage: Stage
    label: str
    techniques: tuple[Technique, ...]
    first_seen: float
    last_seen: float
    confidence: float
    followed: bool  # the target showed a stage of its own after it (incidents._shows_stage_after)
    event_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AttackFact:
    source: str
    target: str
    steps: tuple[AttackStep, ...]


@dataclass(frozen=True, slots=True)
class SourceFact:
    """`source` has an incident of its own (a status) and attacked a host of the receiving partition."""

    source: str


Fact = PoolFact | AttackFact | SourceFact


def fact_key(fact: Fact) -> tuple[Any, ...]:
    if isinstance(fact, PoolFact):
        return ("pool", fact.miner, fact.pool_ip, fact.pool_port)
    if isinstance(fact, AttackFact):
        return ("attack", fact.source, fact.target)
    return ("source", fact.source)


def cited_ids(fact: Fact) -> set[int]:
    """The event ids a fact cites."""
    if isinstance(fact, PoolFact):
        return set(fact.event_ids)
    if isinstance(fact, AttackFact):
        return {i for step in fact.steps for i in step.event_ids}
    return set()


def with_ids(fact: Fact, ours: Callable[[int], int | None]) -> Fact:
    """The fact citing `ours(i)` for each id i it cites (an id without one left out)."""

    def mapped(ids: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(found for i in ids if (found := ours(i)) is not None)

    if isinstance(fact, PoolFact):
        return replace(fact, event_ids=mapped(fact.event_ids))
    if isinstance(fact, AttackFact):
        return replace(fact, steps=tuple(replace(s, event_ids=mapped(s.event_ids)) for s in fact.steps))
    return fact


class Joins:
    """The facts other partitions shared with this one, and what this one last shared of its own."""

    def __init__(self, partitions: int, partition: int, partition_of: Callable[[str], int]) -> None:
        self.partitions, self.partition, self.partition_of = partitions, partition, partition_of
        self.held: OrderedDict[tuple[Any, ...], tuple[int, Fact]] = OrderedDict()  # key -> (as_of, fact)
        self.updates = 0  # facts that changed what is held (live updates look for new ones)
        self.sent: dict[tuple[Any, ...], Fact] = {}  # (key, partition) -> what was last shared there
        self.outbox: list[tuple[int, Fact]] = []  # (partition, fact) to share
        self.stats = {"facts_taken": 0, "facts_unchanged": 0, "facts_forgotten": 0, "facts_shared": 0}

    def owns(self, host: str) -> bool:
        return self.partition_of(host) == self.partition

    def take(self, as_of: int, fact: Fact) -> bool:
        """A fact another partition shared; False when it changes nothing (a copy, or older than held)."""
        key = fact_key(fact)
        old = self.held.get(key)
        if old is not None and (old[0] >= as_of or old[1] == fact):
            self.stats["facts_unchanged"] += 1
            return False
        self.held[key] = (as_of, fact)
        self.held.move_to_end(key)
        if len(self.held) > FACTS_KEPT:
            self.held.popitem(last=False)
            self.stats["facts_forgotten"] += 1
        self.stats["facts_taken"] += 1
        self.updates += 1
        return True

    def pools(self) -> list[PoolFact]:
        return [fact for _, fact in self.held.values() if isinstance(fact, PoolFact)]

    def attacks_by(self) -> dict[str, list[AttackFact]]:
        """Attacks on other partitions' hosts, by attacker (one of ours)."""
        found: dict[str, list[AttackFact]] = {}
        for _, fact in self.held.values():
            if isinstance(fact, AttackFact):
                found.setdefault(fact.source, []).append(fact)
        return found

    def sources(self) -> set[str]:
        """Other partitions' hosts with an incident of their own that attacked ours."""
        return {fact.source for _, fact in self.held.values() if isinstance(fact, SourceFact)}

    def share(self, pools: list[PoolFact], attacks: list[AttackFact], sources: list[SourceFact]) -> None:
        """This partition's facts as a build found them; those that changed since shared go to the outbox:
        a pool to every other partition, an attack to its attacker's, a source to its targets'."""
        for pool in pools:
            self._send(pool, [p for p in range(self.partitions) if p != self.partition])
        for attack in attacks:
            self._send(attack, [self.partition_of(attack.source)])
        attacked = self.attacks_by()
        for source in sources:
            self._send(source, sorted({self.partition_of(a.target) for a in attacked.get(source.source, ())}))

    def _send(self, fact: Fact, partitions: list[int]) -> None:
        key = fact_key(fact)
        for partition in partitions:
            if self.sent.get((*key, partition)) != fact:
                self.sent[(*key, partition)] = fact
                self.outbox.append((partition, fact))
                self.stats["facts_shared"] += 1
