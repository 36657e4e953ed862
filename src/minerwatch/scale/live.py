"""`minerwatch live --workers N`: the kernel spreads each interface's packets over N worker processes by
flow (capture/fanout.py); the correlator, this process, merges them in capture time and writes the outputs.

Workers read different packets, so packet numbers do not line up between them: a live stamp is the capture
time (the kernel's receive time), and a worker with nothing to read still moves its stamp on with the wall
clock (less LAG, the longest a packet may wait in a ring before it is read), so the merge never waits on an
idle worker. A packet read later than LAG after it arrived (an overloaded sensor) is still merged, then
only after what others sent meanwhile.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventFlag
from typing import Any

from minerwatch.capture.control import LiveControl
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
from minerwatch.scale.correlator import CorrelatorAnalysis, Split
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


class WorkerControl(LiveControl):
    """A worker's: a stop signal only ever asks it to stop (the correlator forwards one, and ^C reaches
    the whole process group: two may come, and the second must not cut the drain short)."""

    def _handle(self, signum: int, frame: object) -> None:
        if signum == signal.SIGHUP:
            self.reload_requested = True
        else:
            self.requested = True


class FleetControl(LiveControl):
    """The correlator's: the first SIGTERM or SIGINT, and every SIGHUP, are passed on to every worker
    (each then drains its rings and sends its end, or reloads between two reads of its rings)."""

    def __init__(self, running: Workers, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.running = running

    def _handle(self, signum: int, frame: object) -> None:
        if signum == signal.SIGHUP or not self.requested:
            passed = signal.SIGHUP if signum == signal.SIGHUP else signal.SIGTERM
            for process in self.running.processes:
                if process.pid is not None and process.is_alive():
                    os.kill(process.pid, passed)
        super()._handle(signum, frame)


@dataclass(frozen=True)
class LiveInput:
    """What every worker opens: each interface twice (its share of the fanout group, and its DNS)."""

    interfaces: list[str]
    bpf: str | None
    promiscuous: bool
    ring_bytes: int  # per socket
    stats_interval: float | None = None  # seconds between two of a worker's reports (correlator.WorkerReport)

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
    """A live worker: its share of each interface (fanout group `group`) and all of its DNS. SIGHUP reloads
    its intel and rules between two reads of its rings, as one process does (flows kept)."""
    with reporting(bucket, conn):
        analysis = WorkerAnalysis(options, bucket, buckets, conn, LiveRelay)
        engine = analysis.engine
        engine.buckets = 1  # the group's packets are this worker's: only DNS is sorted by owner
        engine.id_stride, engine.id_offset = buckets, bucket  # packet numbers are each worker's own
        relay = analysis.relay
        assert isinstance(relay, LiveRelay)
        own: list[LiveSource] = []
        shared: list[LiveSource] = []
        control = WorkerControl(
            analysis.reload,
            analysis.report,
            lambda: None,  # the heartbeat flushes (relay.tick)
            live.stats_interval,
            label=f"minerwatch: worker {bucket}",
        )

        def stop() -> bool:
            relay.heartbeat()
            return control()

        with control:  # to the end: a second stop signal must not end the process while it flushes
            try:
                for interface in live.interfaces:
                    own.append(live.open(interface, fanout_filter(live.bpf)))
                    join(own[-1], group)
                    shared.append(live.open(interface, dns_filter(live.bpf)))
                analysis.extra_stats["kernel"] = lambda: [source.kernel_counters() for source in own + shared]
                ready[bucket].set()
                clock = DnsClock()
                reading: list[Source] = [SharedSource(source, buckets, clock) for source in shared]
                # after the DNS, each turn
                reading += [HeldSource(source, clock, lambda: control.requested) for source in own]
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
    flush: Callable[[], None] = lambda: None,
) -> AnalysisResult:
    """Capture with `workers` processes until SIGTERM or SIGINT; `started()` once every socket is open;
    `attach` is handed the correlator's analysis (a sensor's bus publisher: cli/bus.py). While capturing,
    the correlator writes the incidents that changed and calls `flush` (the outputs') every second, reloads
    on SIGHUP with the workers, and writes a periodic `stats` event once every worker reported."""
    correlator = CorrelatorAnalysis(sinks, options, workers, Split.FANOUT)
    if attach is not None:
        attach(correlator)

    def every_second() -> None:
        correlator.update_incidents(time.time())
        flush()

    with Workers() as running:
        ready = [running.context.Event() for _ in range(workers)]
        for _ in range(workers):
            running.start(work_live, live, options, group_id(), ready, workers)
        # Wait for every worker's sockets (or for one to fail: the merge below then reports it).
        while not all(flag.wait(0.05) for flag in ready) and all(p.is_alive() for p in running.processes):
            pass
        # Entered once the workers are forked (a child must not inherit these handlers).
        with FleetControl(running, correlator.reload, lambda: None, every_second, None) as control:
            if all(flag.is_set() for flag in ready):  # else a worker failed: the merge says why
                started()
            correlator.replay(running.streams(), idle=control)
            return correlator.finish()  # a second stop signal interrupts it (exit 130)
