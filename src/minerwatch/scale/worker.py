"""One worker process: the analysis of its bucket of flows; what spans flows is sent to the correlator."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from minerwatch.correlate.peers import answered_tcp
from minerwatch.decode import Flow
from minerwatch.detectors.base import DetectorContext, forwarded
from minerwatch.detectors.intel import DNS_PORTS
from minerwatch.events import Event
from minerwatch.output.secrets import mask_event
from minerwatch.pipeline import Analysis, AnalysisOptions
from minerwatch.scale.correlator import WorkerReport
from minerwatch.scale.relay import Forward, ForwardedCall, Mirror, Outbox, Relay

# Flows every worker follows, whoever owns them: DNS, whose answers name the addresses of later flows.
REPLICATED_PORTS = DNS_PORTS


class PeersForward(Forward):
    """The pool peers' stand-in: of the ended flows, only those they remember are sent (most are not)."""

    def flow_ended(self, flow: Flow, reason: str) -> None:
        if answered_tcp(flow):
            ForwardedCall(self._relay, self._target, "flow_ended")(flow, reason)


class WorkerAnalysis(Analysis):
    """Analysis of bucket `bucket` of `buckets`: events and cross-flow calls go down `conn`."""

    def __init__(
        self,
        options: AnalysisOptions,
        bucket: int,
        buckets: int,
        conn: Outbox,
        relay: type[Relay] = Relay,
    ) -> None:
        self.bucket, self.buckets = bucket, buckets
        self.relay = relay(conn)  # before the detectors, which get stand-ins that send through it
        self.states: dict[str, Any] = {}  # name -> its stand-in: one per name, as in one process
        self.reports = 0  # periodic reports sent (live)
        super().__init__([], options)
        self.engine.shard(bucket, buckets, REPLICATED_PORTS)
        self.relay.engine = self.engine

    def _context(self) -> DetectorContext:
        context = super()._context()
        verdicts: Any = self._forward("verdicts")  # a VerdictCorrelator's stand-in, with its `peers`
        verdicts.peers = PeersForward(self.relay, "verdicts.peers")  # who talked to which server: per host
        context.correlator = verdicts
        incidents: Any = self._forward("incidents")  # an IncidentCorrelator's stand-in
        context.incidents = incidents
        context.host_state = self._host_state
        return context

    def _forward(self, target: str) -> Forward:
        return Forward(self.relay, target)

    def _host_state(self, name: str, make: Callable[[], Any], mirror: tuple[str, ...] = ()) -> Any:
        if name not in self.states:
            self.states[name] = Mirror(make(), self._forward(name), mirror) if mirror else self._forward(name)
        return self.states[name]

    def emit(self, event: Event) -> None:
        """To the correlator, which writes the outputs."""
        if not self.options.show_secrets:
            mask_event(event)
        self.relay.event(event)

    def run(self, paths: list[Path]) -> None:
        """Analyse every capture (bucket 0 reports progress), then end."""
        relay = self.relay
        for path in paths:
            self.feed_file(path, relay.tick if self.bucket == 0 else lambda _read: relay.tick(0))
        self.end()

    def report(self) -> None:
        """A live worker's counters so far (every --stats-interval), for the correlator's periodic `stats`
        event."""
        self.reports += 1
        counters = WorkerReport(
            round=self.reports, wall=time.time(), stats=self._stats(), replicated=self.engine.shadow.as_dict()
        )
        self.relay.report(counters)

    def end(self) -> None:
        """End the flows, run what detectors keep for the end, send the stats."""
        relay = self.relay
        self.engine.finish()
        relay.finishing = True
        for _, parts in self.plugins:
            if parts.finish is not None and not forwarded(parts.finish):
                parts.finish()
        relay.close(
            {
                "stats": self._stats(),
                "files": self.files,
                "input_errors": self.input_errors,
                "now": self.engine.now,
                "dropped": relay.dropped,
                "replicated": self.engine.shadow.as_dict(),  # what it did for other workers' flows
            }
        )


def work(paths: list[Path], options: AnalysisOptions, buckets: int, bucket: int, conn: Connection) -> None:
    """A file worker process's body. ^C reaches the whole process group: the correlator alone handles it
    (it stops the workers), so a worker shows no traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with reporting(bucket, conn):
        WorkerAnalysis(options, bucket, buckets, conn).run(paths)


@contextmanager
def reporting(bucket: int, conn: Connection) -> Iterator[None]:
    """A worker's failure goes to the correlator as one line, which stops the analysis with it."""
    try:
        yield
    except Exception as exc:
        conn.send_bytes(b"!" + f"worker {bucket}: {type(exc).__name__}: {exc}".encode())
