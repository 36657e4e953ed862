"""Start the workers of an analysis, merge their output in this process, and stop them."""

from __future__ import annotations

import multiprocessing
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from minerwatch.pipeline import AnalysisOptions, AnalysisResult, EventSink
from minerwatch.scale.correlator import CorrelatorAnalysis
from minerwatch.scale.worker import work

MAX_WORKERS = 256


def default_workers() -> int:
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0))


def splittable(paths: list[Path]) -> bool:
    """Can every input be read once per worker? Pipes and standard input are read once."""
    try:
        return all(str(path) != "-" and stat.S_ISREG(path.stat().st_mode) for path in paths)
    except OSError:
        return False  # the one-process path reports the unreadable file


def analyze_files(
    paths: list[Path],
    sinks: list[EventSink],
    options: AnalysisOptions,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> AnalysisResult:
    """Analyse `paths` with `workers` processes; `progress` gets the bytes the first worker has read."""
    correlator = CorrelatorAnalysis(sinks, options, workers)  # option errors before any process starts
    # fork: workers start at once with the loaded rules and intel; nothing is written yet that a child
    # could flush a second time, but buffers are emptied first all the same.
    sys.stdout.flush()
    context = multiprocessing.get_context("fork")
    processes = []
    conns = []
    try:
        for bucket in range(workers):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=work, args=(paths, options, bucket, workers, send), name=f"minerwatch-worker-{bucket}"
            )
            process.start()
            send.close()
            conns.append(receive)
            processes.append(process)
        correlator.replay(conns, progress)
    except BaseException:
        for process in processes:  # an error or ^C here: the workers' output is of no use any more
            process.kill()
        raise
    finally:
        for process in processes:
            process.join()
        for conn in conns:
            conn.close()
    return correlator.finish()
