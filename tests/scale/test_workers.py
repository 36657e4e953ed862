"""Workers (minerwatch.scale): the events of one process, on the public corpus and the benchmark capture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from minerwatch.errors import MinerwatchError
from minerwatch.pipeline import AnalysisOptions
from minerwatch.scale import worker
from minerwatch.scale.run import Workers, analyze_files, default_workers, splittable
from same_events import differences
from scale_runs import assert_same_analysis, stats

ROOT = Path(__file__).resolve().parents[2]


def with_workers(paths: list[Path], workers: int, **options) -> list[dict]:
    events: list[dict] = []
    analyze_files(paths, [events.append], AnalysisOptions(**options), workers)
    return events


def assert_same_as_workers(one: list[dict], many: list[dict], workers: int) -> None:
    other = assert_same_analysis(one, many)
    # Each worker left the others' packets alone: together, all but one worker's share of the packets (all
    # of one worker's when the capture is one pair of hosts).
    assert 0 < other <= (workers - 1) * stats(one)["capture"]["packets"]


def test_corpus_gives_the_same_events_with_workers(one_process, corpus):
    captures = sorted(p for p in corpus.rglob("*") if p.suffix in (".pcap", ".pcapng"))
    assert len(captures) > 10
    one = one_process(captures)
    assert any(e["event_type"] == "verdict" for e in one)  # a comparison with something in it
    for workers in (2, 3):
        assert_same_as_workers(one, with_workers(captures, workers), workers)


def test_each_mining_capture_gives_the_same_events_with_workers(one_process, corpus):
    """Alone, each capture's flows split differently than among the others."""
    from corpus_rows import MINING

    for name in MINING:
        one = one_process([corpus / name])
        assert_same_as_workers(one, with_workers([corpus / name], 2), 2)


def test_benchmark_capture_gives_the_same_events_with_workers(one_process, benchmark_capture):
    one = one_process([benchmark_capture])
    kinds = {e["event_type"] for e in one}
    assert {"verdict", "mining", "incident"} <= kinds
    assert_same_as_workers(one, with_workers([benchmark_capture], 2), 2)


def test_memory_caps_hold_in_each_worker(benchmark_capture):
    """The caps are per process: a table of 50 flows evicts in each worker, and the merge adds them up."""
    many = with_workers([benchmark_capture], 2, max_flows=50)
    assert stats(many)["capture"]["flows_evicted"] > 0


def test_a_failing_worker_is_one_error_line(benchmark_capture, monkeypatch):
    def broken(self, paths):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(worker.WorkerAnalysis, "run", broken)  # the forked workers inherit it
    with pytest.raises(MinerwatchError, match=r"^worker \d: RuntimeError: disk on fire$"):
        with_workers([benchmark_capture], 2)


def test_pipes_and_standard_input_are_not_split(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not splittable([Path("-")])
    assert not splittable([fifo])
    assert not splittable([tmp_path / "missing.pcap"])


def test_cli_workers_write_the_same_events(benchmark_capture, tmp_path):
    outputs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"events{workers}.jsonl"
        command = [sys.executable, "-m", "minerwatch", "analyze", str(benchmark_capture), "-o", str(out)]
        run = subprocess.run(
            [*command, "--workers", workers, "--no-store", "--no-progress"],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 1, run.stderr  # mining found
        assert "Traceback" not in run.stderr
        outputs[workers] = [json.loads(line) for line in out.read_text().splitlines()]
    assert differences(outputs["1"], outputs["2"]) == []


def test_the_default_leaves_a_core_to_the_correlator(monkeypatch):
    """Two workers and the correlator on two cores are slower than one process (benchmarks/README.md)."""
    for available, expected in ((1, 1), (2, 1), (8, 7)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=available: set(range(n)))
        assert default_workers() == expected


def _say(text: bytes, bucket: int, conn) -> None:
    conn.send_bytes(text)
    conn.close()


def test_a_workers_pipe_is_closed_by_the_thread_that_reads_it():
    # Closed by the main thread under a read, a pipe made the reading thread fail (a traceback at exit):
    # handed to its reader, it is closed by it, after the worker's last message, and by no one else.
    with Workers() as started:
        started.start(_say, b"the end")
        (conn,) = started.conns
        (stream,) = started.streams()
        assert started.conns == []  # not Workers' to close any more
        assert list(stream) == [b"the end", None]
        assert conn.closed  # the reader closed it before saying it ended
