"""What correlators of different partitions tell one another (correlate/joins.py), on the stream itself.

A fact for partition K is published on `minerwatch.obs.K.join.FROM`, inside K's own subjects: K's
correlator reads it among its hosts' observations, in the stream's order, so a replay meets it at the same
place and the output stays a function of that order. (A consumer of NATS 2.9, Debian's, has one filter
subject: a shared subject would need a second consumer, and merging two consumers' messages by sequence
would need to know that none is still on its way.) A fact shared with several partitions is one message
each; facts are few (a confirmed pool, an attacker and target pair), observations many.

Envelope: {"v": 1, "kind": "join", "from": PARTITION, "as_of": SEQ, "fact": "pool"|"attack"|"source",
"body": {...}, "events": [{"id": N, "sensor": NAME, "run": RUN, "event_id": N, "event": {...}}]}. `as_of`
is the stream message of the sender's partition after which the fact was made (the newer replaces the
older); `events` are evidence events the fact cites (its `event_ids`, in the sender's numbering: `id`) with
the sensor's own identity of each, so the receiver restates each once. The message id is a hash of the
message: a correlator restarted makes the same facts at the same places, and the stream's duplicate window
(or, past it, `as_of`) drops them. Validated as hostile input like every message (wire.py): the sender's
partition must own the fact's host, and the receiver the host it is for.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, TypeGuard

import msgspec
import orjson

from minerwatch.bus.wire import (
    MAX_MESSAGE,
    SUBJECT_ROOT,
    VERSION,
    BusMessage,
    BusMessageError,
    check_address,
    check_event,
    envelope,
    name_field,
    observation,
    partition_of,
)
from minerwatch.correlate.joins import AttackFact, Fact, PoolFact, SourceFact

FACTS: dict[str, type[Any]] = {"pool": PoolFact, "attack": AttackFact, "source": SourceFact}
FACT_OF = {cls: name for name, cls in FACTS.items()}
EVENTS_SHARED = 8  # evidence events sent with a fact, at most (the rest is cited by id only)
IDS_CITED = 20  # event ids a pool or an attack step cites
STEPS = 64  # attack steps of one attacker against one target (incidents.IncidentPolicy.max_steps)
LABEL = 512  # characters of a step's label


@dataclass(frozen=True, slots=True)
class SharedEvent:
    id: int  # in the sending correlator's numbering
    sensor: str
    run: str
    event_id: int  # in the sensor's run
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JoinMessage:
    source: int  # the partition that made the fact
    as_of: int
    fact: Fact
    events: tuple[SharedEvent, ...]

    @property
    def kind(self) -> str:
        return "join"


def join_subject(to: int, source: int) -> str:
    return f"{SUBJECT_ROOT}.{to}.join.{source}"


def encode_join(message: JoinMessage) -> tuple[str, bytes]:
    """(message id, data); events are left out, last first, while the message passes MAX_MESSAGE."""
    events = list(message.events[:EVENTS_SHARED])
    while True:
        envelope = {
            "v": VERSION,
            "kind": "join",
            "from": message.source,
            "as_of": message.as_of,
            "fact": FACT_OF[type(message.fact)],
            "body": message.fact,
            "events": events,
        }
        data = orjson.dumps(envelope)
        if len(data) <= MAX_MESSAGE:
            return "join-" + hashlib.blake2b(data, digest_size=16).hexdigest(), data
        if not events:
            raise BusMessageError(f"a {envelope['fact']} fact of {len(data):,} bytes passes the bus limit")
        events.pop()


def decode(data: bytes, partitions: int, partition: int) -> BusMessage | JoinMessage:
    """Any message of `partition`: a sensor's observation or another partition's fact."""
    raw = envelope(data)
    if raw.get("kind") == "join":
        return decode_join(raw, partitions, partition)
    return observation(raw, partitions, partition)


def decode_join(raw: dict[str, Any], partitions: int, partition: int) -> JoinMessage:
    source, as_of, name = raw.get("from"), raw.get("as_of"), raw.get("fact")
    if not _whole(source) or not 0 <= source < partitions or source == partition:
        raise BusMessageError(f"fact from a bad partition {str(source)[:20]!r}")
    if not _whole(as_of) or not 0 < as_of < 1 << 62:
        raise BusMessageError(f"bad fact position {str(as_of)[:24]!r}")
    if not isinstance(name, str) or name not in FACTS:
        raise BusMessageError(f"unknown fact {str(name)[:40]!r}")
    try:
        fact = msgspec.convert(raw.get("body"), FACTS[name], strict=True)
    except msgspec.ValidationError as exc:
        raise BusMessageError(f"{name} fact: {exc}") from None
    _check_fact(fact, partitions, partition, source)
    events = raw.get("events")
    if not isinstance(events, list) or len(events) > EVENTS_SHARED:
        raise BusMessageError(f"a fact's events must be a list of at most {EVENTS_SHARED}")
    return JoinMessage(source, as_of, fact, tuple(_event(item) for item in events))


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fact(fact: Fact, partitions: int, partition: int, source: int) -> None:
    """Addresses are addresses, numbers in range; the sender owns the fact's host, we the one it is for."""
    hosts: tuple[str, ...]
    ours: str | None
    if isinstance(fact, PoolFact):
        hosts, ours = (fact.miner, fact.pool_ip), None
        ranges = [("confidence", fact.confidence, 1), ("pool_port", fact.pool_port, 65535)]
        times, ids = [fact.first_seen, fact.last_seen], [fact.event_ids]
    elif isinstance(fact, AttackFact):
        hosts, ours = (fact.target, fact.source), fact.source
        if not 0 < len(fact.steps) <= STEPS:
            raise BusMessageError(f"an attack fact has 1 to {STEPS} steps")
        ranges = [("confidence", s.confidence, 1) for s in fact.steps]
        times = [t for s in fact.steps for t in (s.first_seen, s.last_seen)]
        ids = [s.event_ids for s in fact.steps]
        if any(len(s.label) > LABEL or len(s.techniques) > 16 for s in fact.steps):
            raise BusMessageError("an attack step's label or techniques are too long")
    else:
        hosts, ours = (fact.source,), None
        ranges, times, ids = [], [], []
    for host in hosts:
        check_address("host", host)
    if partition_of(hosts[0], partitions) != source:
        raise BusMessageError(f"host {hosts[0]} does not belong to partition {source}")
    if ours is not None and partition_of(ours, partitions) != partition:
        raise BusMessageError(f"host {ours} belongs to partition {partition_of(ours, partitions)}")
    for name, value, high in ranges:
        if not 0 <= value <= high:
            raise BusMessageError(f"{name} {value!r} is not between 0 and {high}")
    if not all(math.isfinite(t) and t >= 0 for t in times):
        raise BusMessageError("a fact's time is not a capture time")
    if any(len(cited) > IDS_CITED or not all(i > 0 for i in cited) for cited in ids):
        raise BusMessageError(f"a fact cites at most {IDS_CITED} positive event ids")


def _event(item: Any) -> SharedEvent:
    if not isinstance(item, dict):
        raise BusMessageError("a fact's event is not a JSON object")
    ours, theirs = item.get("id"), item.get("event_id")
    if not _whole(ours) or ours <= 0 or not _whole(theirs) or theirs < 0:
        raise BusMessageError("a fact's event without its ids")
    sensor, run = name_field(item, "sensor"), name_field(item, "run")
    return SharedEvent(ours, sensor, run, theirs, check_event(item.get("event"), theirs))
