"""The correlator process: replays the workers' streams in one process's order into the cross-flow state.

It owns everything a worker only reaches through forwarded calls (detectors/base.HostState): the verdict
and incident correlators, brute-force campaigns, scans, intel alerts once per host. The workers' streams
are each in stamp order (relay.Position); a k-way merge by stamp gives the order one process would have
made them in, so cross-flow state sees the same calls in the same order. Memory: one batch per worker.

What a stream carries (relay.py), the interface for anything that feeds a correlator (pipes from local
workers, Dask tasks, a message bus): pickled batches of (stamp, kind, payload) messages, then one pickled
dict, the worker's end (`WorkerEnd` below). Kinds:
- "event": an EVE event (dict) the worker made; the correlator gives it its id in the output and writes it;
- "call": (target, method, args): a method call on the correlator's object `target` ("verdicts",
  "verdicts.peers", "incidents", or a name a detector gave ctx.host_state: "scan", "bruteforce", "intel",
  "dns", "encrypted"). The args are the typed observations of correlate/observations.py
  (BehaviourObservation, IntelObservation, StageObservation, EncryptedObservation: frozen dataclasses whose
  `event_id` is renumbered here), relay.FlowRecord for an ended flow, or plain values;
- "tick": bytes of input read (progress; it also moves the stamp on);
- "stats": a live worker's counters so far (`WorkerReport` below), every --stats-interval: once every
  worker's report of one round is in, the correlator writes a periodic `stats` event.
A batch that starts with b"!" is the worker's failure, one line.
"""

from __future__ import annotations

import heapq
import pickle
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import is_dataclass, replace
from enum import Enum
from functools import reduce
from multiprocessing.connection import Connection
from typing import Any, TypedDict, cast

from minerwatch.capture import CaptureStats
from minerwatch.detectors.base import DetectorContext
from minerwatch.errors import MinerwatchError
from minerwatch.events import Event
from minerwatch.pipeline import Analysis, AnalysisOptions, AnalysisResult, EventSink
from minerwatch.scale.relay import Position

# A worker's message in the merge: ((its stamp, the worker's bucket), kind, payload), see relay.Message.
Merged = tuple[tuple[Position, int], str, Any]


class Split(Enum):
    """How the workers of an analysis divide the input."""

    FLOWS = "flows"  # every worker reads every packet and keeps its bucket of flows (analyze --workers)
    FANOUT = "fanout"  # the kernel gives each worker its packets; DNS is read by all (live --workers)
    FILES = "files"  # each worker reads its own files (analyze --dask)


# Counters every worker counts alike, taken once and not summed: each worker reads every packet, parses
# all DNS (replicated flows) and loads the same rules.
SHARED_COUNTERS = {
    "capture": (
        "packets",
        "bytes",
        "bad_timestamps",
        "truncated_packets",
        "unsupported_linktype",
        "non_ip",
        "other_ip_proto",
        "ip_fragments",
        "ip_reassembled",
        "bad_ip_header",
    ),
    "intel": ("indicators", "dns_messages", "dns_errors"),
    "carving": ("yara_rule_files",),
}
SHARED_SECTIONS = ("defrag", "files", "input_errors")  # every worker defragments everything
# What workers of one configuration count alike whatever they read: the rules and indicators loaded.
CONFIG_COUNTERS: dict[str, tuple[str, ...]] = {"intel": ("indicators",), "carving": ("yara_rule_files",)}
SHARED: dict[Split, dict[str, tuple[str, ...]]] = {
    Split.FLOWS: SHARED_COUNTERS,
    Split.FANOUT: {section: names for section, names in SHARED_COUNTERS.items() if section != "capture"},
    Split.FILES: CONFIG_COUNTERS,
}
ROUNDS_KEPT = 4  # periodic report rounds waiting for a late worker's report (an older one is given up)
QUEUED = 1024  # batches read ahead per worker (BATCH messages each): a worker ahead of the others runs on
UNNUMBERED = 0  # the id of a worker's event handed to a correlator-side object, until it is emitted
IDS_KEPT = 65_536  # per worker: references are to events of the same flow, made just before


class WorkerStats(TypedDict):
    """What a worker counted, as the correlator merges it into a `stats` event."""

    stats: dict[str, Any]  # its `stats` body (Analysis._stats)
    replicated: dict[str, int]  # the engine's counters of the replicated flows other workers own


class WorkerEnd(WorkerStats):
    """A worker's last message: what it counted and read."""

    files: list[CaptureStats]
    input_errors: list[str]
    now: float  # its capture clock at the end
    dropped: int  # messages about flows another worker owns, not sent


class WorkerReport(WorkerStats):
    """A live worker's periodic report: the `round`-th of its --stats-interval timer, sent at `wall`."""

    round: int
    wall: float


class CorrelatorAnalysis(Analysis):
    """The analysis of `buckets` workers' output: writes the outputs, makes verdicts and incidents."""

    def __init__(
        self, sinks: list[EventSink], options: AnalysisOptions, buckets: int, split: Split = Split.FLOWS
    ) -> None:
        self.buckets = buckets
        self.split = split
        # Workers read different packets (live fanout, one archive file each), not each all of them: their
        # counters and files add up.
        self.separate = split is not Split.FLOWS
        self.objects: dict[str, Any] = {}
        # (worker, its id) -> the id in the output, for the references that follow an event (its alerts,
        # its observations): the latest IDS_KEPT events of each worker
        self.ids: OrderedDict[tuple[int, int], int] = OrderedDict()
        self.ends: dict[int, WorkerEnd] = {}
        self.rounds: dict[int, dict[int, WorkerReport]] = {}  # round -> the reports of it so far, by worker
        super().__init__(sinks, options)
        self.objects |= {"verdicts": self.correlator, "incidents": self.incidents}

    def _context(self) -> DetectorContext:
        context = super()._context()
        context.host_state = self._host_state
        return context

    def _host_state(self, name: str, make: Callable[[], Any], mirror: tuple[str, ...] = ()) -> Any:
        if name not in self.objects:
            self.objects[name] = make()
        return self.objects[name]

    def replay(
        self,
        sources: Sequence[Iterable[bytes | None]],
        progress: Callable[[int], None] | None = None,
        idle: Callable[[], object] | None = None,
    ) -> None:
        """Merge the workers' streams (each the pickled batches it sent, None: it ended without its end) by
        stamp and apply them; keeps each worker's end. `idle()` is called at every tick of a worker (live:
        at least every 50 ms each), for the periodic work of a capture that does not end."""
        streams = [self._stream(iter(source), bucket) for bucket, source in enumerate(sources)]
        for (_stamp, bucket), kind, payload in heapq.merge(*streams, key=lambda message: message[0]):
            if kind == "event":  # masked and seen by observers in the worker: outputs only
                self._number(payload, bucket)
                for sink in self.sinks:
                    sink(payload)
            elif kind == "call":
                target, method, args = payload
                name, *attributes = target.split(".")
                args = [self._renumbered(arg, bucket) for arg in args]
                getattr(reduce(getattr, attributes, self.objects[name]), method)(*args)
            elif kind == "stats":
                self._reported(bucket, payload)
            else:
                if progress is not None and payload:
                    progress(payload)
                if idle is not None:
                    idle()

    def _number(self, event: Event, bucket: int) -> None:
        """Give a worker's event its id in the output: ids count events in one process's order, as
        without workers (the first few ids of a host's evidence are its earliest events)."""
        self.ids[(bucket, event["event_id"])] = event["event_id"] = self.events.claim()
        if len(self.ids) > IDS_KEPT * self.buckets:
            self.ids.popitem(last=False)
        self._references(event, bucket)

    def _references(self, event: Event, bucket: int) -> None:
        body = event.get(event["event_type"])
        if isinstance(body, dict):  # the references a worker's events make (files/report.py, intel.py)
            if isinstance(body.get("related_event_id"), int):
                body["related_event_id"] = self._id(body["related_event_id"], bucket)
            if isinstance(body.get("evidence"), list):
                body["evidence"] = [self._id(i, bucket) for i in body["evidence"]]

    def _id(self, worker_id: int, bucket: int) -> int:
        return self.ids.get((bucket, worker_id), 0)  # 0: an event too far back, never an unrelated one

    def _renumbered(self, arg: Any, bucket: int) -> Any:
        """A call's argument with its event ids in the output's numbering: an observation's evidence, or
        an event made by a worker for the correlator to emit (an intel alert)."""
        if isinstance(arg, dict) and "event_type" in arg:  # numbered if emitted (see emit)
            self._references(arg, bucket)
            arg["event_id"] = UNNUMBERED
        elif is_dataclass(arg) and not isinstance(arg, type):  # a typed observation (correlate/observations)
            event_id = getattr(arg, "event_id", None)
            if isinstance(event_id, int):
                return replace(arg, event_id=self._id(event_id, bucket))
        return arg

    def emit(self, event: Event) -> None:
        if event["event_id"] == UNNUMBERED:  # a worker's event, emitted here: its id comes now
            event["event_id"] = self.events.claim()
        super().emit(event)

    def _stream(self, source: Iterator[bytes | None], bucket: int) -> Iterator[Merged]:
        while True:
            data = next(source, None)
            if data is None:
                raise MinerwatchError(f"worker {bucket} ended without its results")
            if data.startswith(b"!"):
                raise MinerwatchError(data[1:].decode(errors="replace"))
            value = pickle.loads(data)
            if isinstance(value, dict):
                self.ends[bucket] = cast(WorkerEnd, value)
                return
            for stamp, kind, payload in value:
                yield (stamp, bucket), kind, payload

    def finish(self) -> AnalysisResult:
        ends = [self.ends[bucket] for bucket in sorted(self.ends)]
        if not self.separate:  # every worker read the same files
            self.files, self.input_errors = ends[0]["files"], ends[0]["input_errors"]
        else:  # one entry per interface or file, every worker's kernel drops in it
            by_path: dict[str, CaptureStats] = {}
            for end in ends:
                for stats in end["files"]:
                    kept = by_path.setdefault(stats.path, CaptureStats(stats.path, stats.format))
                    kept.bytes_read += stats.bytes_read
                    kept.warnings += stats.warnings
                self.input_errors += end["input_errors"]
            self.files = list(by_path.values())
        self.engine.now = max((end["now"] for end in ends), default=0.0)
        return super().finish()

    def _reported(self, bucket: int, report: WorkerReport) -> None:
        """Keep a live worker's periodic report; the last of a round writes the periodic `stats` event
        (rounds older than a complete one, or beyond ROUNDS_KEPT, are given up: a worker was late)."""
        got = self.rounds.setdefault(report["round"], {})
        got[bucket] = report
        if len(got) == self.buckets:
            self.rounds = {r: kept for r, kept in self.rounds.items() if r > report["round"]}
            wall = max(kept["wall"] for kept in got.values())
            self.emit_stats(wall, periodic=True, body=self._merged(got))
        while len(self.rounds) > ROUNDS_KEPT:
            del self.rounds[min(self.rounds)]

    def _stats(self) -> dict[str, Any]:
        return self._merged(self.ends)

    def _merged(self, parts: Mapping[int, WorkerStats]) -> dict[str, Any]:
        """This process's counters and the workers' (`parts`, by bucket) as one `stats` body."""
        workers = [parts[bucket]["stats"] for bucket in sorted(parts)]
        merged = reduce(_add, workers, super()._stats())
        if self.separate:  # packets are each worker's own, but the DNS each read for the others
            for name in ("packets", "bytes"):
                merged["capture"][name] -= sum(part["replicated"][name] for part in parts.values())
        for section, names in SHARED[self.split].items():
            if section in merged and workers:  # a detector left out (--detectors) has no section
                merged[section] |= {name: workers[0][section][name] for name in names}
        if any("kernel" in worker for worker in workers):  # live: every worker's sockets, per interface
            merged["kernel"] = _per_interface(
                [(bucket, k) for bucket in sorted(parts) for k in parts[bucket]["stats"].get("kernel", [])]
            )
        if self.separate:  # files: this process's, merged in finish(); defragmented by each its own
            return merged
        return merged | {name: workers[0][name] for name in SHARED_SECTIONS}


def _per_interface(counters: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The kernel's counters of many sockets (worker, counters) summed per interface (the DNS, which every
    worker reads, once per worker), and per worker in `workers`: which one's ring overflowed."""
    summed: dict[str, dict[str, Any]] = {}
    by_worker: dict[str, dict[int, dict[str, Any]]] = {}
    for bucket, socket in counters:
        interface = socket["interface"]
        summed[interface] = _add(summed[interface], socket) if interface in summed else dict(socket)
        counts = {name: value for name, value in socket.items() if name not in ("interface", "method")}
        kept = by_worker.setdefault(interface, {})
        kept[bucket] = _add(kept[bucket], counts) if bucket in kept else {"worker": bucket, **counts}
    return [
        summed[interface] | {"workers": [by_worker[interface][b] for b in sorted(by_worker[interface])]}
        for interface in summed
    ]


def received(conn: Connection) -> Iterator[bytes | None]:
    """A worker's pipe, read as fast as it writes (the merge may be waiting for another worker) by a
    thread started now, which owns the pipe from then on and closes it at its end (closed by another
    thread under a read, the read failed with a TypeError: a traceback at exit); None once it is closed."""
    queued: queue.Queue[bytes | None] = queue.Queue(QUEUED)
    threading.Thread(target=_receive, args=(conn, queued), daemon=True).start()
    return _drained(queued)


def _drained(queued: queue.Queue[bytes | None]) -> Iterator[bytes | None]:
    while (data := queued.get()) is not None:
        yield data
    yield None


def _receive(conn: Connection, queued: queue.Queue[bytes | None]) -> None:
    try:
        while True:
            queued.put(conn.recv_bytes())
    except (EOFError, OSError):
        pass  # the worker ended or died: the merge tells which (a stream without its end)
    finally:
        conn.close()
        queued.put(None)  # whatever happened, the merge is not left waiting


def _add(total: Any, part: Any) -> Any:
    """Counters summed key by key; anything else (names, lists) kept from the first."""
    if isinstance(total, dict) and isinstance(part, dict):
        merged = dict(total)
        for key, value in part.items():
            merged[key] = _add(merged[key], value) if key in merged else value
        return merged
    if isinstance(total, int | float) and not isinstance(total, bool) and isinstance(part, int | float):
        return total + part
    return total
