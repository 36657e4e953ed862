"""Start the workers of an analysis, merge their output in this process, and stop them."""

from __future__ import annotations

import multiprocessing
import os
import stat
import sys
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from minerwatch.pipeline import Analysis, AnalysisOptions, AnalysisResult, EventSink
from minerwatch.scale.correlator import CorrelatorAnalysis, received
from minerwatch.scale.worker import work

MAX_WORKERS = 256


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def default_workers() -> int:
    """One worker per core but one, which the correlator needs (benchmarks/README.md: with two cores, two
    workers and the correlator are slower than one process): one process on a machine of two cores."""
    return max(1, cores() - 1)


def splittable(paths: list[Path]) -> bool:
    """Can every input be read once per worker? Pipes and standard input are read once."""
    try:
        return all(str(path) != "-" and stat.S_ISREG(path.stat().st_mode) for path in paths)
    except OSError:
        return False  # the one-process path reports the unreadable file


class Workers:
    """Worker processes, each with a pipe to this process; on leaving, they are waited for (killed first
    when leaving on an error or ^C: their output is of no use any more)."""

    def __init__(self) -> None:
        # fork: workers start at once with the loaded rules and intel; nothing is written yet that a
        # child could flush a second time, but buffers are emptied first all the same.
        sys.stdout.flush()
        self.context: ForkContext = multiprocessing.get_context("fork")
        self.processes: list[BaseProcess] = []
        self.conns: list[Connection] = []

    def start(self, target: Callable[..., None], *args: Any) -> None:
        """One more worker: `target(*args, bucket, conn)`."""
        receive, send = self.context.Pipe(duplex=False)
        bucket = len(self.processes)
        process = self.context.Process(target=target, args=(*args, bucket, send), name=f"minerwatch-{bucket}")
        process.start()
        send.close()
        self.conns.append(receive)
        self.processes.append(process)

    def streams(self) -> list[Iterator[bytes | None]]:
        """Every worker's output (correlator.received): each pipe is handed to the thread that reads it, and
        closed by it."""
        handed, self.conns = self.conns, []
        return [received(conn) for conn in handed]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        for process in self.processes:
            if kind is not None:
                process.kill()
            process.join()
        for conn in self.conns:  # the pipes of workers never read
            conn.close()


def analyze_files(
    paths: list[Path],
    sinks: list[EventSink],
    options: AnalysisOptions,
    workers: int,
    progress: Callable[[int], None] | None = None,
    attach: Callable[[Analysis], None] | None = None,
) -> AnalysisResult:
    """Analyse `paths` with `workers` processes; `progress` gets the bytes the first worker has read;
    `attach` is handed the correlator's analysis (a sensor's bus publisher: cli/bus.py)."""
    correlator = CorrelatorAnalysis(sinks, options, workers)  # option errors before any process starts
    if attach is not None:
        attach(correlator)
    with Workers() as started:
        for _ in range(workers):
            started.start(work, paths, options, workers)
        correlator.replay(started.streams(), progress)
    return correlator.finish()
