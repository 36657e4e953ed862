"""The correlator of many sensors: observations from the bus -> the same correlators an analysis uses ->
verdicts and incidents, as `ingest` does with Suricata and Zeek logs.

Each message is fed with its stream sequence number, in the stream's order. What it cites (the sensor's
evidence event) is restated in this correlator's output under an id of its own, with `origin` naming the
sensor, its run, its id there and the stream message; the observation then cites that id. A message
published twice (same sensor, run and sequence) is counted and dropped, and so is an observation a sensor
published again in a later run over the same capture (same key: bus/identity.py). Since the output depends
only on the order of the stream, a correlator restarted after a kill replays the stream silently up to the
last message its file shows (resume.py) and goes on: nothing lost, nothing written twice. An incident that
changes is written as it changes, checked at most once a minute of capture time (the clock of the stream,
so that a replay writes the same), as `live` does; the final state when the correlator stops.
"""

from __future__ import annotations

import functools
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field, replace
from typing import Any

from minerwatch.bus.facts import EVENTS_SHARED, JoinMessage, SharedEvent, decode, encode_join, join_subject
from minerwatch.bus.resume import ResumePoint
from minerwatch.bus.wire import BusMessage, BusMessageError, partition_of
from minerwatch.correlate.conclude import conclude
from minerwatch.correlate.incidents import IncidentCorrelator, IncidentPolicy
from minerwatch.correlate.joins import Joins, cited_ids, with_ids
from minerwatch.correlate.observations import (
    BehaviourObservation,
    ContactObservation,
    EncryptedObservation,
    IntelObservation,
    StageObservation,
)
from minerwatch.correlate.updates import IncidentUpdates, inputs
from minerwatch.correlate.verdicts import VerdictCorrelator
from minerwatch.events import Event, EventFactory
from minerwatch.pipeline import EventSink

UPDATE_INTERVAL = 60.0  # seconds of capture time between checks for changed incidents
IDS_KEPT = 1 << 20  # sensor event ids remembered for the observations citing an event already restated
RUNS_KEPT = 100_000  # sensor runs whose message numbers are remembered (a run's memory: a few numbers)
SHAREABLE = 1 << 14  # the latest evidence events kept to send with the facts that cite them
JOINABLE = (BehaviourObservation, StageObservation)  # whose events facts cite (pools, attacks)
KEYS_KEPT = 1 << 18  # observation keys remembered (about 90 bytes each): a capture published again after
# this many keyed messages of the partition since is counted again


class SeenIds:
    """The (sensor, run, seq) already taken: per run, every number up to `floor` plus the few above it
    (messages of a run arrive nearly in order, so the set above the floor stays small)."""

    def __init__(self) -> None:
        self.runs: OrderedDict[tuple[str, str], tuple[int, set[int]]] = OrderedDict()

    def add(self, sensor: str, run: str, seq: int) -> bool:
        """False when the message was already taken."""
        key = (sensor, run)
        floor, above = self.runs.get(key, (0, set()))
        if seq <= floor or seq in above:
            return False
        above.add(seq)
        while floor + 1 in above:
            floor += 1
            above.discard(floor)
        self.runs[key] = (floor, above)
        self.runs.move_to_end(key)
        if len(self.runs) > RUNS_KEPT:
            self.runs.popitem(last=False)
        return True


class SeenKeys:
    """The latest KEYS_KEPT observation keys taken (as bytes: half the memory of their hex)."""

    def __init__(self) -> None:
        self.keys: set[bytes] = set()
        self.order: deque[bytes] = deque()

    def add(self, key: str) -> bool:
        """False when an observation with this key was already taken."""
        raw = bytes.fromhex(key)
        if raw in self.keys:
            return False
        self.keys.add(raw)
        self.order.append(raw)
        if len(self.order) > KEYS_KEPT:
            self.keys.discard(self.order.popleft())
        return True


@dataclass
class BusStats:
    messages: int = 0
    rejected: int = 0  # not a message minerwatch sensors send (counted, said in a line, skipped)
    duplicates: int = 0  # published twice by a sensor (an acknowledgement lost and retried)
    republished: int = 0  # published again by a later run over the same capture (the same key)
    replayed: int = 0  # read again after a restart without writing (their events were already written)
    events_restated: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    sensors: set[str] = field(default_factory=set)
    # This run's own (a snapshot holds the rest): the stream message the snapshot it started from covers
    # (0: none, the partition read from its start), and the messages it read.
    snapshot: int = 0
    read: int = 0

    def as_dict(self) -> dict[str, Any]:
        return vars(self) | {"by_kind": dict(sorted(self.by_kind.items())), "sensors": sorted(self.sensors)}


Conclusions = tuple[list[Event], list[Event], Event]  # verdict events, incident events, the stats event


class BusCorrelator:
    def __init__(
        self,
        sinks: list[EventSink],
        partitions: int,
        partition: int,
        policy: IncidentPolicy | None = None,
        store: str | None = None,
        resume: ResumePoint | None = None,
    ) -> None:
        self.sinks = sinks
        self.partitions, self.partition = partitions, partition
        self.events = EventFactory()
        self.verdicts = VerdictCorrelator()
        self.incidents = IncidentCorrelator(policy)
        self.store = store
        self.resume = resume or ResumePoint()
        self.replaying = self.resume.bus_seq > 0
        self.seen = SeenIds()
        self.keys = SeenKeys()
        self.ids: OrderedDict[tuple[str, str, int], int] = OrderedDict()  # (sensor, run, its id) -> ours
        self.stats = BusStats()
        self.last_ts = 0.0  # the latest capture time of any observation: the clock of incident updates
        self.updates = IncidentUpdates(UPDATE_INTERVAL)
        self.bus_seq = 0  # the stream message being fed
        # What joins our hosts to other partitions' (correlate/joins.py): the facts we share, each with
        # the evidence events it cites when we still have them; the ids of what others shared, in ours.
        self.joins: Joins | None = None
        if partitions > 1:
            self.joins = Joins(partitions, partition, functools.partial(partition_of, partitions=partitions))
            self.verdicts.joins = self.incidents.joins = self.joins
        self.shareable: OrderedDict[int, SharedEvent] = OrderedDict()  # our id -> the sensor's event
        self.foreign: OrderedDict[tuple[int, int], int] = OrderedDict()  # (partition, its id) -> ours
        self.outgoing: list[tuple[str, str, bytes]] = []  # (subject, message id, data) to publish
        self.shared_at: tuple[int, ...] = ()  # the state's generation (updates.inputs) share_now built

    def emit(self, event: Event) -> None:
        """To the outputs, unless the output file has it already: everything made for a message before
        the file's last one, and what the file's last message made up to the file's last event id."""
        if self.replaying and (
            self.bus_seq < self.resume.bus_seq or event["event_id"] <= self.resume.last_event_id
        ):
            return
        for sink in self.sinks:
            sink(event)

    def feed(self, bus_seq: int, data: bytes) -> None:
        """One stream message; a BusMessageError (raised) when it is not one a sensor sends."""
        if self.replaying and bus_seq > self.resume.bus_seq:
            self._resumed()
        self.bus_seq = bus_seq
        self.stats.messages += 1
        self.stats.read += 1
        self.stats.replayed += self.replaying
        try:
            message = decode(data, self.partitions, self.partition)
        except BusMessageError:
            self.stats.rejected += 1
            raise
        if isinstance(message, JoinMessage):
            self.stats.by_kind[message.kind] += 1
            self._join(message, bus_seq)
            self._changed(bus_seq)
            return
        if not self.seen.add(message.sensor, message.run, message.seq):
            self.stats.duplicates += 1
            return
        if message.key is not None and not self.keys.add(message.key):
            self.stats.republished += 1
            return
        self.stats.by_kind[message.kind] += 1
        self.stats.sensors.add(message.sensor)
        obs = message.observation
        if isinstance(obs, ContactObservation):
            peers = self.verdicts.peers
            peers.connection(
                obs.client, obs.server, obs.server_port, obs.first_seen, obs.last_seen, obs.flow_id
            )
            return
        self.last_ts = max(self.last_ts, obs.ts)
        cited = self._restate(message, bus_seq)
        if isinstance(obs, BehaviourObservation):
            self.verdicts.observe(replace(obs, event_id=cited))
        elif isinstance(obs, IntelObservation):
            self.verdicts.observe_intel(replace(obs, event_id=cited))
        elif isinstance(obs, EncryptedObservation):
            self.verdicts.observe_encrypted(replace(obs, event_id=cited))
        elif isinstance(obs, StageObservation):
            self.incidents.observe(replace(obs, event_id=cited))
        if self.joins is not None and message.event is not None and isinstance(obs, JOINABLE):
            self.shareable[cited] = SharedEvent(
                cited, message.sensor, message.run, obs.event_id, message.event
            )
            if len(self.shareable) > SHAREABLE:
                self.shareable.popitem(last=False)
        self._changed(bus_seq)

    def _changed(self, bus_seq: int) -> None:
        """The incidents that changed, written; the facts that changed, to be shared."""
        for body in self.updates.changed(self.last_ts, self.verdicts, self.incidents):
            event = self.events.make("incident", body.pop("_ts"), body, host=body["host"])
            event["origin"] = {"bus_seq": bus_seq}  # where a restart resumes (resume.py)
            self.emit(event)
        self._share()

    def _share(self) -> None:
        """The facts a build put in the outbox, as messages for the partitions they are for, made after
        this stream message (`as_of`), with the evidence events they cite that we still hold."""
        if self.joins is None:
            return
        for to, fact in self.joins.outbox:
            events = tuple(self.shareable[i] for i in sorted(cited_ids(fact)) if i in self.shareable)
            msg_id, data = encode_join(
                JoinMessage(self.partition, self.bus_seq, fact, events[:EVENTS_SHARED])
            )
            self.outgoing.append((join_subject(to, self.partition), f"{msg_id}-{to}", data))
        self.joins.outbox.clear()

    def share_now(self) -> None:
        """What changed since the last build of the incidents, shared without waiting for the next check
        (a minute of capture time with new observations): when the correlator stops, and when no message
        comes with --follow, so that a partition gone quiet does not keep its last facts from the others.
        What a fact says is the state's; only where it lands in the others' streams depends on the clock."""
        if self.joins is None:
            return
        now = inputs(self.verdicts, self.incidents)
        if now in (self.updates.checked[1], self.shared_at):
            return
        self.shared_at = now
        self.incidents.incidents(self.verdicts)  # a build without the store shares what it finds
        self._share()

    def _join(self, message: JoinMessage, bus_seq: int) -> None:
        """Another partition's fact: its evidence events restated (once each), its ids made ours."""
        assert self.joins is not None  # a fact for a stream of one partition is refused by decode
        for shared in message.events:
            ours = self._restate_event(shared.sensor, shared.run, shared.event_id, shared.event, bus_seq)
            self.foreign[(message.source, shared.id)] = ours
            if len(self.foreign) > IDS_KEPT:
                self.foreign.popitem(last=False)
        fact = with_ids(message.fact, lambda i: self.foreign.get((message.source, i)))
        self.joins.take(message.as_of, fact)

    def _restate(self, message: BusMessage, bus_seq: int) -> int:
        """Our id of the event the observation cites, restating the event the first time it comes."""
        theirs = getattr(message.observation, "event_id", 0)
        ours = self.ids.get((message.sensor, message.run, theirs))
        if ours is not None or message.event is None:
            return ours or 0
        return self._restate_event(message.sensor, message.run, theirs, message.event, bus_seq)

    def _restate_event(self, sensor: str, run: str, theirs: int, original: Event, bus_seq: int) -> int:
        """A sensor's event under an id of ours, with `origin`, written the first time it comes."""
        key = (sensor, run, theirs)
        ours = self.ids.get(key)
        if ours is not None:
            return ours
        event = dict(original)
        event["event_id"] = ours = self.events.claim()
        self.ids[key] = ours
        if len(self.ids) > IDS_KEPT:
            self.ids.popitem(last=False)
        self._references(event, sensor, run)
        event["origin"] = {"sensor": sensor, "run": run, "event_id": theirs, "bus_seq": bus_seq}
        self.stats.events_restated += 1
        self.emit(event)
        return ours

    def _references(self, event: Event, sensor: str, run: str) -> None:
        """The sensor's ids an event names (an alert's related event, evidence lists) in our numbering;
        one this correlator never restated is left out rather than pointing at an unrelated event."""
        body = event.get(event["event_type"])
        if not isinstance(body, dict):
            return
        body = event[event["event_type"]] = dict(body)
        related = body.pop("related_event_id", None)
        if isinstance(related, int) and (ours := self.ids.get((sensor, run, related))):
            body["related_event_id"] = ours
        if isinstance(body.get("evidence"), list):
            known = (self.ids.get((sensor, run, i)) for i in body["evidence"] if isinstance(i, int))
            body["evidence"] = [i for i in known if i]

    def _resumed(self) -> None:
        """Past what the output already holds: write from here, ids after the file's last."""
        self.replaying = False
        self.events.reserve(self.resume.last_event_id)

    def finish(self) -> Conclusions:
        """(verdict events, incident events, the stats event), all emitted."""
        if self.replaying:
            self._resumed()
        self.share_now()
        verdicts, incidents = conclude(self.events, self.emit, self.verdicts, self.incidents, self.store)
        bus = self.stats.as_dict() | {"partition": self.partition, "partitions": self.partitions}
        if self.joins is not None:
            bus["joins"] = dict(self.joins.stats)
        body = {
            "bus": bus,
            "correlation": dict(self.verdicts.peers.stats) | self.incidents.stats,
            "files": [],
            "input_errors": [],
        }
        stats = self.events.make("stats", self.last_ts, body)
        self.emit(stats)
        return verdicts, incidents, stats
