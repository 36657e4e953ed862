"""Archives of captures on Dask distributed (`analyze --dask SCHEDULER FILES...`): one task per file, the
tasks' streams merged by this process's correlator.

A task is one worker of correlator.Split.FILES: it analyses its file alone (flows do not span files) and
returns its stream, the pickled batches a local worker would send down its pipe, stamped with capture time
(relay.TimeRelay), so the correlator merges the files in capture time: an archive of several sensors'
files, or of one sensor's rotated files, is correlated as one timeline (verdicts, incidents, campaigns,
scans, intel alerts once per host). The merge needs every file's stream: they wait here until the last
task is done (about the size of the events, plus a tuple per ended flow).

The workers read the files by their path (a filesystem they share with this process, or paths valid on
them), their own intel database unless --intel-db names one, and write carved files (--extract-dir) on
their side. A file a task cannot read is the task's input error, reported with the others; a task that
fails (its worker died, an error) is one line too, and the other files are still analysed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from minerwatch.errors import InputError, UsageError
from minerwatch.pipeline import Analysis, AnalysisOptions, AnalysisResult, EventSink
from minerwatch.scale.correlator import CorrelatorAnalysis, Split
from minerwatch.scale.relay import TimeRelay
from minerwatch.scale.worker import WorkerAnalysis

CONNECT_TIMEOUT = 30.0  # seconds to reach the scheduler


class Collected:
    """A task's outbox (relay.Outbox): the batches, kept to be returned."""

    def __init__(self) -> None:
        self.batches: list[bytes] = []

    def send_bytes(self, data: bytes) -> None:
        self.batches.append(data)

    def close(self) -> None:
        """Nothing to close: the task returns the batches."""


def analyse_file(path: str, options: AnalysisOptions, index: int, files: int) -> list[bytes]:
    """The task: file `index` of `files` analysed alone, every flow this worker's; its stream for the
    correlator. Flow ids are the file's packet numbers times `files` plus `index`: unique in the archive."""
    outbox = Collected()
    analysis = WorkerAnalysis(options, 0, 1, outbox, TimeRelay)
    analysis.engine.id_stride, analysis.engine.id_offset = files, index
    analysis.run([Path(path)])
    return outbox.batches


def analyze_archive(
    scheduler: str,
    paths: list[Path],
    sinks: list[EventSink],
    options: AnalysisOptions,
    done: Callable[[int], None] | None = None,
    attach: Callable[[Analysis], None] | None = None,
) -> AnalysisResult:
    """Analyse `paths` on the Dask cluster at `scheduler`, one task per file; `done(index)` as each ends;
    `attach` is handed the correlator's analysis (a sensor's bus publisher: cli/bus.py)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--dask needs Dask distributed: pip install 'minerwatch[dask]'") from None
    correlator = CorrelatorAnalysis(sinks, options, len(paths), Split.FILES)  # option errors first
    if attach is not None:
        attach(correlator)
    streams: dict[int, list[bytes]] = {}
    failed: dict[int, str] = {}
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    with client:
        futures = {
            client.submit(analyse_file, str(path), options, index, len(paths), pure=False): index
            for index, path in enumerate(paths)
        }
        for future in as_completed(futures, loop=client.loop):
            index = futures[future]
            try:
                streams[index] = future.result()
            except Exception as exc:  # the task's error, or its worker's death: this file only
                failed[index] = f"{paths[index]}: analysis failed on the cluster: {type(exc).__name__}: {exc}"
            if done is not None:
                done(index)
    correlator.replay([streams[index] for index in sorted(streams)])
    correlator.input_errors += [failed[index] for index in sorted(failed)]
    return correlator.finish()
