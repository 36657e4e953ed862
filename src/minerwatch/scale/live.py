"""`minerwatch live --workers N`: the kernel spreads each interface's packets over N worker processes by
flow (capture/fanout.py); the correlator, this process, merges them in capture time and writes the outputs.

Workers read different packets, so packet numbers do not line up between them: a live stamp is the capture
time (the kernel's receive time), and a worker with nothing to read still moves its stamp on with the wall
clock (less LAG, the longest a packet may wait in a ring before it is read), so the merge never waits on an
idle worker. A packet read later than LAG after it arrived (an overloaded sensor) is still merged, then
only after what others sent meanwhile.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventFlag

from minerwatch.capture.fanout import (
    DnsClock,
    HeldSource,
    SharedSource,
    dns_filter,
    fanout_filter,
    group_id,
    join,
)
from minerwatch.capture.live import LiveSource, Source, capture
from minerwatch.pipeline import Analysis, AnalysisOptions, AnalysisResult, EventSink
from minerwatch.scale.correlator import CorrelatorAnalysis, Split, received
from minerwatch.scale.relay import Outbox, TimeRelay
from minerwatch.scale.run import Workers
from minerwatch.scale.worker import WorkerAnalysis, reporting

LAG = 2.0  # seconds
TICK = 0.05  # seconds between a worker's stamps when it has nothing else to send


class LiveRelay(TimeRelay):
    """Stamps in capture time; an idle worker's stamp follows the wall clock less LAG."""

    def __init__(self, conn: Outbox) -> None:
        super().__init__(conn)
        self.last_tick = 0.0

    def heartbeat(self) -> None:
        wall = time.time()
        if wall - self.last_tick >= TICK:
            self.last_tick = wall
            self.floor = max(self.floor, wall - LAG)
            self.tick(0)


class _Stop:
    """A worker stops at the first SIGTERM or SIGINT (the correlator forwards one; ^C reaches all). Asked
    between reads, at least every POLL_MS: it stamps the worker's stream then."""

    def __init__(self, relay: LiveRelay) -> None:
        self.relay = relay
        self.requested = False
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True

    def __call__(self) -> bool:
        self.relay.heartbeat()
        return self.requested


@dataclass(frozen=True)
class LiveInput:
    """What every worker opens: each interface twice (its share of the fanout group, and its DNS)."""

    interfaces: list[str]
    bpf: str | None
    promiscuous: bool
    ring_bytes: int  # per socket

    def open(self, interface: str, bpf: str) -> LiveSource:
        return LiveSource(interface, bpf, self.promiscuous, self.ring_bytes)


def work_live(
    live: LiveInput,
    options: AnalysisOptions,
    group: int,
    ready: list[EventFlag],
    buckets: int,
    bucket: int,
    conn: Connection,
) -> None:
    """A live worker: its share of each interface (fanout group `group`) and all of its DNS."""
    with reporting(bucket, conn):
        analysis = WorkerAnalysis(options, bucket, buckets, conn, LiveRelay)
        engine = analysis.engine
        engine.buckets = 1  # the group's packets are this worker's: only DNS is sorted by owner
        engine.id_stride, engine.id_offset = buckets, bucket  # packet numbers are each worker's own
        relay = analysis.relay
        assert isinstance(relay, LiveRelay)
        stop = _Stop(relay)
        own: list[LiveSource] = []
        shared: list[LiveSource] = []
        try:
            for interface in live.interfaces:
                own.append(live.open(interface, fanout_filter(live.bpf)))
                join(own[-1], group)
                shared.append(live.open(interface, dns_filter(live.bpf)))
            ready[bucket].set()
            clock = DnsClock()
            reading: list[Source] = [SharedSource(source, buckets, clock) for source in shared]
            reading += [HeldSource(source, clock, stop) for source in own]  # after the DNS, each turn
            capture(reading, engine, stop)
            analysis.files.extend(source.stats() for source in own + shared)
            kernel = [source.kernel_counters() for source in own + shared]  # summed by the correlator
            analysis.extra_stats["kernel"] = lambda: kernel
        finally:
            for source in own + shared:
                source.close()
        analysis.end()


def analyze_live(
    live: LiveInput,
    sinks: list[EventSink],
    options: AnalysisOptions,
    workers: int,
    started: Callable[[], None],
    attach: Callable[[Analysis], None] | None = None,
) -> AnalysisResult:
    """Capture with `workers` processes until SIGTERM or SIGINT; `started()` once every socket is open;
    `attach` is handed the correlator's analysis (a sensor's bus publisher: cli/bus.py)."""
    correlator = CorrelatorAnalysis(sinks, options, workers, Split.FANOUT)
    if attach is not None:
        attach(correlator)
    with Workers() as running:
        ready = [running.context.Event() for _ in range(workers)]
        for _ in range(workers):
            running.start(work_live, live, options, group_id(), ready, workers)
        # Wait for every worker's sockets (or for one to fail: the merge below then reports it).
        while not all(flag.wait(0.05) for flag in ready) and all(p.is_alive() for p in running.processes):
            pass
        with _Forwarding(running):
            if all(flag.is_set() for flag in ready):  # else a worker failed: the merge says why
                started()
            correlator.replay([received(conn) for conn in running.conns])
    return correlator.finish()


class _Forwarding:
    """SIGTERM or SIGINT here stops every worker (each then drains its ring and sends its end); a second one
    interrupts the flush (KeyboardInterrupt: exit 130)."""

    def __init__(self, running: Workers) -> None:
        self.running = running
        self.stopping = False

    def __enter__(self) -> None:
        self.previous = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum: int, frame: object) -> None:
        if self.stopping:
            raise KeyboardInterrupt
        self.stopping = True
        for process in self.running.processes:
            if process.pid is not None and process.is_alive():
                process.terminate()

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
