"""A worker's side: its events and forwarded calls, each stamped with where one process would have made it.

The stamp (`Position`) is (packet number, phase, flow id): packet numbers are the same in every worker
because every worker reads every packet; within a packet, flows ended by expiry come first (phase 0, in
the order they were opened, which is their id) and the packet's own flow after (phase 1); the end of the
input is phase 2. Sorting the workers' streams by stamp gives back one process's order. Workers that read
different packets (live fanout, one archive file each) stamp with capture time instead (TimeRelay).

Messages are pickled: they go between processes of one analysis over a pipe this process made, so no
one else can write what is unpickled, and pickle carries the detectors' typed observations (frozen
dataclasses) as they are, with no second schema to keep in step.
"""

from __future__ import annotations

import pickle
from typing import Any, NamedTuple, Protocol

from minerwatch.decode import Engine, Flow
from minerwatch.events import Event

Position = tuple[float, int, int]
# One message: (position, kind, payload); kinds: "event" (an Event), "call" ((target, method, args)),
# "tick" (bytes of capture read since the last tick: progress, and a stamp that lets the merge go on),
# "stats" (a live worker's periodic counters: correlator.WorkerReport).
Message = tuple[Position, str, Any]

BATCH = 256  # messages per pipe write
FINAL_PHASE = 2


class FlowRecord(NamedTuple):
    """What flow-end observers read of an engine Flow, for a flow ended in another process (a tuple: one
    is sent per TCP connection, and tuples pickle fastest)."""

    flow_id: int
    proto: int
    client_addr: bytes
    server_addr: bytes
    client_port: int
    server_port: int
    first_ts: float
    last_ts: float
    pkts_toserver: int
    pkts_toclient: int
    bytes_toserver: int
    bytes_toclient: int
    tcp_flags: int
    isn_toserver: int | None
    isn_toclient: int | None

    @classmethod
    def of(cls, f: Flow) -> FlowRecord:
        return cls(
            f.flow_id, f.proto, f.client_addr, f.server_addr, f.client_port, f.server_port, f.first_ts,
            f.last_ts, f.pkts_toserver, f.pkts_toclient, f.bytes_toserver, f.bytes_toclient, f.tcp_flags,
            f.isn_toserver, f.isn_toclient,
        )  # fmt: skip


class Outbox(Protocol):
    """Where a worker's pickled batches go: a pipe to the correlator (multiprocessing's Connection), or a
    list a Dask task returns (archive.py)."""

    def send_bytes(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class Relay:
    """Batches a worker's messages to the correlator; drops what belongs to a flow another worker owns."""

    def __init__(self, conn: Outbox) -> None:
        self.engine = Engine(None)  # the worker's own, set once its analysis has made it
        self.conn = conn
        self.batch: list[Message] = []
        self.finishing = False  # the engine's flows have ended: what comes now is the end of input
        self.dropped = 0  # messages about foreign flows, reported by their owner

    def position(self) -> Position:
        if self.finishing:
            return (self.engine.counters.packets, FINAL_PHASE, 0)
        ending = self.engine.ending
        return (self.engine.counters.packets, 0 if ending else 1, ending)

    def send(self, kind: str, payload: Any) -> None:
        if self.engine.foreign:
            self.dropped += 1
            return
        self.batch.append((self.position(), kind, payload))
        if len(self.batch) >= BATCH:
            self.flush()

    def event(self, event: Event) -> None:
        self.send("event", event)

    def tick(self, read: int) -> None:
        """Capture bytes read: lets the merge pass this worker's quiet stretches, and drives progress."""
        self.batch.append((self.position(), "tick", read))
        self.flush()

    def report(self, counters: Any) -> None:
        """A live worker's periodic counters, sent at once (whatever flow the engine is in)."""
        self.batch.append((self.position(), "stats", counters))
        self.flush()

    def flush(self) -> None:
        if self.batch:
            self.conn.send_bytes(pickle.dumps(self.batch, pickle.HIGHEST_PROTOCOL))
            self.batch = []

    def close(self, result: dict[str, Any]) -> None:
        """The last message: the worker's stats and files (see correlator.WorkerEnd)."""
        self.flush()
        self.conn.send_bytes(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))
        self.conn.close()


class TimeRelay(Relay):
    """Stamps in capture time, never going back: for workers that read different packets, whose packet
    numbers do not line up (live fanout, one archive file each)."""

    def __init__(self, conn: Outbox) -> None:
        super().__init__(conn)
        self.floor = 0.0

    def position(self) -> Position:
        self.floor = max(self.floor, self.engine.now)
        return (self.floor, FINAL_PHASE if self.finishing else 1, 0)


class ForwardedCall:
    """A method of a correlator-side object, called from a worker: the call is sent, nothing returned."""

    forwarded = True

    def __init__(self, relay: Relay, target: str, method: str) -> None:
        self.relay, self.target, self.method = relay, target, method

    def __call__(self, *args: Any) -> None:
        record = tuple(FlowRecord.of(a) if isinstance(a, Flow) else a for a in args)
        self.relay.send("call", (self.target, self.method, record))


class Forward:
    """A worker's stand-in for the object the correlator made under `target` (detectors/base.HostState);
    a dotted target names an attribute of one (`verdicts.peers`).

    Counters are the correlator's: `stats` is empty here.
    """

    stats: dict[str, int] = {}  # noqa: RUF012 (read-only, shared on purpose)

    def __init__(self, relay: Relay, target: str) -> None:
        self._relay, self._target = relay, target

    def __getattr__(self, name: str) -> ForwardedCall:
        return ForwardedCall(self._relay, self._target, name)


class Mirror:
    """A local object a worker queries, whose `mirrored` methods are also forwarded to the correlator."""

    def __init__(self, local: Any, forward: Forward, mirrored: tuple[str, ...]) -> None:
        self._local, self._forward, self._mirrored = local, forward, mirrored

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._local, name)
        if name not in self._mirrored:
            return method
        sent = getattr(self._forward, name)

        def both(*args: Any) -> Any:
            sent(*args)
            return method(*args)

        return both
