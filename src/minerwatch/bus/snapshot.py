"""A correlator's state saved now and then next to its output (FILE.snapshot for `-o FILE`), so that a
restart reads only the stream's messages after it instead of the partition from its first message (a cost
that grows with the stream, and a stream whose limits dropped its oldest messages cannot be read again).

The state is everything the output depends on (bus/correlator.py is a function of the stream's order):
the verdicts' and incidents' per-host state, the contacts, the incident updates shown, the messages and
keys taken, the sensors' event ids restated, the facts of other partitions, the counters. It is bounded by
the bounds of each (the contacts, the ids, the keys...), so the file is too.

MessagePack through msgspec, decoded strictly into the declared types only: a file someone hands over can
at worst make a wrong state, never run code (pickle would). Anything wrong with it (damaged, of another
version, another stream or partition, ahead of the output) is one line, and the partition is read from the
stream's start as without a snapshot. Written to a temporary file, synced and renamed over the old one,
after the output is flushed and synced: a snapshot never covers a message whose events the output lacks.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict, deque
from collections.abc import Callable

import msgspec

from minerwatch.bus.correlator import BusCorrelator
from minerwatch.bus.facts import SharedEvent
from minerwatch.bus.resume import ResumePoint
from minerwatch.correlate.encrypted import EncryptedEvidence, EncryptedPeer
from minerwatch.correlate.incidents import Step
from minerwatch.correlate.joins import AttackFact, Fact, PoolFact, SourceFact, fact_key
from minerwatch.correlate.observations import IntelObservation
from minerwatch.correlate.verdicts import PoolEvidence
from minerwatch.errors import OutputError

VERSION = 1
MAGIC = b"minerwatch correlator snapshot\n"
MAX_SNAPSHOT = 1 << 30  # bytes: far above what the state's bounds allow


class Encrypted(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    first_seen: float
    last_seen: float
    counts: dict[str, int]
    peers: list[EncryptedPeer]
    peers_dropped: int


class Counters(msgspec.Struct, forbid_unknown_fields=True):
    messages: int
    rejected: int
    duplicates: int
    republished: int
    replayed: int
    events_restated: int
    by_kind: dict[str, int]
    sensors: list[str]


class Joined(msgspec.Struct, forbid_unknown_fields=True):
    """correlate/joins.py: what other partitions shared (in the order held), what this one shared."""

    pools: list[tuple[int, int, PoolFact]]  # (place in the order held, as_of, fact)
    attacks: list[tuple[int, int, AttackFact]]
    sources: list[tuple[int, int, SourceFact]]
    sent_pools: list[tuple[int, PoolFact]]  # (partition, fact)
    sent_attacks: list[tuple[int, AttackFact]]
    sent_sources: list[tuple[int, SourceFact]]
    updates: int
    stats: dict[str, int]
    shareable: list[SharedEvent]
    foreign: list[tuple[int, int, int]]  # (partition, its id, ours)


class Snapshot(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    stream: str  # the stream's identity (its name and creation time)
    partitions: int
    partition: int
    bus_seq: int  # the last stream message the state covers
    next_event_id: int
    last_ts: float
    pools: list[tuple[str, list[PoolEvidence]]]
    intel: list[tuple[str, list[IntelObservation]]]
    encrypted: list[tuple[str, Encrypted]]
    observations: int
    contacts: list[tuple[bytes, bytes, float, float, int, tuple[int, ...], tuple[int, ...]]]
    contacts_forgotten: int
    contact_updates: int
    steps: list[tuple[str, list[Step]]]
    incident_stats: dict[str, int]
    shown: list[tuple[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]]
    checked: tuple[float, tuple[int, ...]]
    runs: list[tuple[str, str, int, list[int]]]  # (sensor, run, floor, numbers above it)
    keys: list[bytes]
    ids: list[tuple[str, str, int, int]]  # (sensor, run, its id, ours)
    stats: Counters
    joins: Joined | None


class Snapshots:
    """A correlator's snapshots (FILE.snapshot for its output FILE): loaded at its start, saved every
    `every` messages it reads and when it stops."""

    def __init__(self, output: str, every: int, say: Callable[[str], None]) -> None:
        self.output, self.path, self.every, self.say = output, path_for(output), every, say
        self.saved_at = 0  # the correlator's message count at the last save (or load)

    def load(self, bus: BusCorrelator, stream: str) -> int:
        """The stream message the snapshot covers (the correlator restored), or 0."""
        covered = bus.stats.snapshot = load(self.path, bus, stream, bus.resume, self.say)
        self.saved_at = bus.stats.messages
        return covered

    def due(self, bus: BusCorrelator) -> bool:
        return 0 < self.every <= bus.stats.messages - self.saved_at

    def save(self, bus: BusCorrelator, stream: str) -> None:
        if bus.stats.messages > self.saved_at or not os.path.exists(self.path):
            save(self.path, bus, stream, self.output)
            self.saved_at = bus.stats.messages


class SnapshotError(Exception):
    """Why a snapshot cannot be used (one line)."""


def path_for(output: str) -> str:
    return output + ".snapshot"


def save(path: str, bus: BusCorrelator, stream: str, output: str) -> int:
    """Write `bus`'s state atomically (after syncing `output`); returns the snapshot's size in bytes."""
    data = MAGIC + msgspec.msgpack.encode(_snapshot(bus, stream))
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        _sync(output)
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        _sync(os.path.dirname(os.path.abspath(path)))  # the rename itself
    except OSError as exc:
        raise OutputError(f"cannot write the snapshot {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return len(data)


def load(path: str, bus: BusCorrelator, stream: str, resume: ResumePoint, say: Callable[[str], None]) -> int:
    """Restore `bus` (freshly made) from the snapshot at `path`; returns the stream message it covers, or
    0 (read the partition from its start) when there is none or it cannot be used, said by `say`."""
    try:
        snapshot = _read(path)
        if snapshot is None:
            return 0
        _check(snapshot, bus, stream, resume)
    except SnapshotError as exc:
        say(f"snapshot {path} not used ({exc}): reading partition {bus.partition} from the stream's start")
        return 0
    _restore(bus, snapshot)
    return snapshot.bus_seq


def _read(path: str) -> Snapshot | None:
    try:
        with open(path, "rb") as snapshot:
            data = snapshot.read(MAX_SNAPSHOT + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SnapshotError(f"cannot read it: {exc.strerror or exc}") from None
    if len(data) > MAX_SNAPSHOT:
        raise SnapshotError(f"larger than {MAX_SNAPSHOT:,} bytes")
    if not data.startswith(MAGIC):
        raise SnapshotError("not a minerwatch correlator snapshot")
    body = memoryview(data)[len(MAGIC) :]
    try:
        version = msgspec.msgpack.decode(body, type=_Version).version
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotError(f"damaged: {_line(exc)}") from None
    if version != VERSION:
        raise SnapshotError(f"version {version}, this minerwatch reads {VERSION}")
    try:
        return msgspec.msgpack.decode(body, type=Snapshot, strict=True)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotError(f"damaged: {_line(exc)}") from None


class _Version(msgspec.Struct):
    version: int


def _line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def _check(snapshot: Snapshot, bus: BusCorrelator, stream: str, resume: ResumePoint) -> None:
    """What types do not say: the snapshot is this stream's and partition's, and not ahead of the output."""
    if snapshot.stream != stream:
        raise SnapshotError(f"made from another stream ({snapshot.stream[:80]!r})")
    if (snapshot.partitions, snapshot.partition) != (bus.partitions, bus.partition):
        raise SnapshotError(
            f"made by the correlator of partition {snapshot.partition} of {snapshot.partitions}"
        )
    # Every event the state made is in the output; the output's events past them, if any, were made
    # after the snapshot (read again without writing, resume.py) or when the correlator stopped.
    made = snapshot.next_event_id - 1
    if snapshot.bus_seq <= 0 or made > resume.last_event_id:
        raise SnapshotError(
            f"it covers message {snapshot.bus_seq:,} and event {made:,}, the output ends at message "
            f"{resume.bus_seq:,} and event {resume.last_event_id:,}"
        )
    if any(len(key) not in (4, 16) for record in snapshot.contacts for key in record[:2]):
        raise SnapshotError("damaged: an address of a contact is not one")
    if (snapshot.joins is not None) != (bus.joins is not None):
        raise SnapshotError("damaged: facts of other partitions in a stream of one, or none in one of many")


def _snapshot(bus: BusCorrelator, stream: str) -> Snapshot:
    verdicts, peers, incidents, stats = bus.verdicts, bus.verdicts.peers, bus.incidents, bus.stats
    return Snapshot(
        version=VERSION,
        stream=stream,
        partitions=bus.partitions,
        partition=bus.partition,
        bus_seq=bus.bus_seq,
        next_event_id=bus.events.next_id,
        last_ts=bus.last_ts,
        pools=[(host, list(pools.values())) for host, pools in verdicts.hosts.items()],
        intel=list(verdicts.intel.items()),
        encrypted=[
            (host, Encrypted(e.first_seen, e.last_seen, e.counts, list(e.peers.values()), e.peers_dropped))
            for host, e in verdicts.encrypted.items()
        ],
        observations=verdicts.observations,
        contacts=[(server, client, *record) for (server, client), record in peers.contacts.items()],
        contacts_forgotten=peers.stats["contacts_forgotten"],
        contact_updates=peers.updates,
        steps=[(host, list(steps.values())) for host, steps in incidents.hosts.items()],
        incident_stats=dict(incidents.stats),
        shown=list(bus.updates.shown.items()),
        checked=bus.updates.checked,
        runs=[(sensor, run, floor, sorted(above)) for (sensor, run), (floor, above) in bus.seen.runs.items()],
        keys=list(bus.keys.order),
        ids=[(*key, ours) for key, ours in bus.ids.items()],
        stats=Counters(
            stats.messages,
            stats.rejected,
            stats.duplicates,
            stats.republished,
            stats.replayed,
            stats.events_restated,
            dict(stats.by_kind),
            sorted(stats.sensors),
        ),
        joins=_joined(bus),
    )


def _joined(bus: BusCorrelator) -> Joined | None:
    joins = bus.joins
    if joins is None:
        return None
    pools, attacks, sources = [], [], []
    for place, (as_of, fact) in enumerate(joins.held.values()):
        if isinstance(fact, PoolFact):
            pools.append((place, as_of, fact))
        elif isinstance(fact, AttackFact):
            attacks.append((place, as_of, fact))
        else:
            sources.append((place, as_of, fact))
    sent_pools, sent_attacks, sent_sources = [], [], []
    for key, fact in joins.sent.items():
        if isinstance(fact, PoolFact):
            sent_pools.append((key[-1], fact))
        elif isinstance(fact, AttackFact):
            sent_attacks.append((key[-1], fact))
        else:
            sent_sources.append((key[-1], fact))
    return Joined(
        pools=pools,
        attacks=attacks,
        sources=sources,
        sent_pools=sent_pools,
        sent_attacks=sent_attacks,
        sent_sources=sent_sources,
        updates=joins.updates,
        stats=dict(joins.stats),
        shareable=list(bus.shareable.values()),
        foreign=[(*key, ours) for key, ours in bus.foreign.items()],
    )


def _restore(bus: BusCorrelator, snapshot: Snapshot) -> None:
    """`bus` (freshly made) in the state `snapshot` holds."""
    bus.bus_seq, bus.last_ts = snapshot.bus_seq, snapshot.last_ts
    bus.events.reserve(snapshot.next_event_id - 1)
    verdicts, peers, incidents, stats = bus.verdicts, bus.verdicts.peers, bus.incidents, bus.stats
    verdicts.hosts = {host: {(p.ip, p.port): p for p in pools} for host, pools in snapshot.pools}
    verdicts.intel = dict(snapshot.intel)
    verdicts.encrypted = {
        host: EncryptedEvidence(
            e.first_seen, e.last_seen, e.counts, {(p.ip, p.port, p.kind): p for p in e.peers}, e.peers_dropped
        )
        for host, e in snapshot.encrypted
    }
    verdicts.observations = snapshot.observations
    peers.contacts = OrderedDict(
        ((server, client), (first, last, flows, ports, ids))
        for server, client, first, last, flows, ports, ids in snapshot.contacts
    )
    peers.stats["contacts_forgotten"] = snapshot.contacts_forgotten
    peers.updates = snapshot.contact_updates
    incidents.hosts = OrderedDict(
        (host, {(step.stage, step.peer, step.label): step for step in steps})
        for host, steps in snapshot.steps
    )
    incidents.stats.update(snapshot.incident_stats)
    bus.updates.shown = dict(snapshot.shown)
    bus.updates.checked = snapshot.checked
    bus.seen.runs = OrderedDict(
        ((sensor, run), (floor, set(above))) for sensor, run, floor, above in snapshot.runs
    )
    bus.keys.order = deque(snapshot.keys)
    bus.keys.keys = set(snapshot.keys)
    bus.ids = OrderedDict(((sensor, run, theirs), ours) for sensor, run, theirs, ours in snapshot.ids)
    counters = snapshot.stats
    stats.messages, stats.rejected, stats.duplicates = (
        counters.messages,
        counters.rejected,
        counters.duplicates,
    )
    stats.republished, stats.replayed = counters.republished, counters.replayed
    stats.events_restated = counters.events_restated
    stats.by_kind.update(counters.by_kind)
    stats.sensors.update(counters.sensors)
    if snapshot.joins is not None and bus.joins is not None:
        _rejoin(bus, snapshot.joins)


def _rejoin(bus: BusCorrelator, joined: Joined) -> None:
    joins = bus.joins
    assert joins is not None
    held: list[tuple[int, int, Fact]] = [*joined.pools, *joined.attacks, *joined.sources]
    held.sort(key=lambda item: item[0])
    joins.held = OrderedDict((fact_key(fact), (as_of, fact)) for _, as_of, fact in held)
    sent: list[tuple[int, Fact]] = [*joined.sent_pools, *joined.sent_attacks, *joined.sent_sources]
    joins.sent = {(*fact_key(fact), partition): fact for partition, fact in sent}
    joins.updates = joined.updates
    joins.stats.update(joined.stats)
    bus.shareable = OrderedDict((event.id, event) for event in joined.shareable)
    bus.foreign = OrderedDict(((partition, theirs), ours) for partition, theirs, ours in joined.foreign)


def _sync(path: str) -> None:
    """What was written to `path` (a file, or a directory's entries) on disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
