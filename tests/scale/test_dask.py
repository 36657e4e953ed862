"""analyze --dask: one task per capture on a local multi-process Dask cluster (LocalCluster on 127.0.0.1,
started and stopped by the fixture), the tasks' streams merged by the correlator."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from minerwatch.errors import InputError
from minerwatch.pipeline import Analysis, AnalysisOptions
from minerwatch.scale import archive
from same_events import differences
from scale_runs import assert_same_analysis, stats, without

FLOW_IDS = frozenset({"flow_id", "flow_ids"})

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def local_cluster() -> Iterator[str]:
    """Two worker processes of one thread each, every address on loopback; its scheduler's address."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address="127.0.0.1:0",  # its HTTP server on loopback too, on a free port
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with local_cluster() as address:
        yield address


def on_dask(scheduler: str, paths: list[Path], **options) -> tuple[list[dict], list[str]]:
    events: list[dict] = []
    result = archive.analyze_archive(scheduler, paths, [events.append], AnalysisOptions(**options))
    return events, result.input_errors


def test_one_capture_on_dask_gives_the_events_of_one_process(one_process, scheduler, benchmark_capture):
    one = one_process([benchmark_capture])
    assert {"verdict", "mining", "incident"} <= {e["event_type"] for e in one}
    many, errors = on_dask(scheduler, [benchmark_capture])
    assert errors == []
    assert assert_same_analysis(one, many) == 0  # one worker per capture: it keeps every packet


def each_alone_in_time(paths: list[Path]) -> list[dict]:
    """One process reading the captures in capture-time order, each capture's flows ended with it."""
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions())
    for path in sorted(paths, key=last_packet_time):
        analysis.feed_file(path)
        analysis.engine.finish()
    analysis.finish()
    return events


def last_packet_time(path: Path) -> float:
    analysis = Analysis([])
    analysis.feed_file(path)
    return analysis.engine.now


def test_captures_of_an_archive_are_correlated_as_one(one_process, scheduler, corpus):
    """Each capture is one task; what spans them (verdicts, incidents) is merged by capture time: the events
    are those of one process reading each capture alone, in capture time (flow ids aside: each task numbers
    its own). nDPI's mining.pcapng is left out: it is the others merged, so it overlaps them in time and
    hosts, which no sequential reading reproduces."""
    from corpus_rows import MINING

    captures = [corpus / name for name in MINING if name != "nDPI/mining.pcapng"]
    one = each_alone_in_time(captures)
    many, errors = on_dask(scheduler, captures)  # not in time order
    assert errors == []
    assert differences(without(one, FLOW_IDS), without(many, FLOW_IDS)) == []
    assert stats(many)["capture"] == stats(one)["capture"]
    flow_ids = [e["flow_id"] for e in many if e["event_type"] == "flow"]
    assert len(set(flow_ids)) == len(flow_ids)  # unique across the archive
    # Hosts that mine in several captures have one verdict, with what each capture showed.
    alone = Counter(v["src_ip"] for path in captures for v in verdicts(one_process([path])))
    across = {host for host, captures_seen in alone.items() if captures_seen > 1}
    assert across
    merged = Counter(v["src_ip"] for v in verdicts(many))
    assert all(merged[host] == 1 for host in across)


def verdicts(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event_type"] == "verdict"]


def test_a_failing_capture_is_reported_and_the_others_finish(
    one_process, scheduler, benchmark_capture, tmp_path
):
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\xff" * 100)  # a pcap magic, then an absurd header
    missing = tmp_path / "missing.pcap"
    many, errors = on_dask(scheduler, [broken, benchmark_capture, missing])
    assert len(errors) == 2
    assert "broken.pcap" in errors[0] and "missing.pcap" in errors[1]
    assert differences(without(one_process([benchmark_capture]), FLOW_IDS), without(many, FLOW_IDS)) == []


def test_a_task_whose_worker_dies_is_one_line_and_the_others_finish(one_process, benchmark_capture, tmp_path):
    """A worker killed while it analyses a capture: with no retry allowed, that task fails (KilledWorker),
    its capture is reported in one line, and the other capture's events are all there."""
    fifo = tmp_path / "never-written.pcap"
    os.mkfifo(fifo)  # its task waits for a writer, as `cat` would, until its worker is killed
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        local_cluster() as address,
        ThreadPoolExecutor(1) as pool,
    ):
        running = pool.submit(on_dask, address, [fifo, benchmark_capture])
        with Client(address, set_as_default=False) as watcher:
            stuck = worker_left_busy(watcher)
            with contextlib.suppress(Exception):  # the worker dies before it can answer
                watcher.run(os._exit, 1, workers=[stuck])
        many, errors = running.result(timeout=120)
    (error,) = errors
    assert error.startswith(f"{fifo}: analysis failed on the cluster: KilledWorker: ")
    expected = without(one_process([benchmark_capture]), FLOW_IDS)
    assert differences(expected, without(many, FLOW_IDS)) == []


def worker_left_busy(client: Client) -> str:
    """The address of the one worker still processing a task once the other is done (within 60 s)."""
    for _ in range(600):
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        if len(busy) == 1 and client.run_on_scheduler(finished_tasks) >= 1:
            return busy[0]
        time.sleep(0.1)
    raise AssertionError("no worker was left processing alone")


def finished_tasks(dask_scheduler) -> int:
    return sum(task.state in ("memory", "released", "forgotten") for task in dask_scheduler.tasks.values())


def test_an_unreachable_scheduler_is_one_error(monkeypatch, benchmark_capture):
    monkeypatch.setattr(archive, "CONNECT_TIMEOUT", 1.0)
    with pytest.raises(InputError, match=r"^cannot reach the Dask scheduler tcp://127\.0\.0\.1:9: "):
        on_dask("tcp://127.0.0.1:9", [benchmark_capture])


def test_cli_dask_writes_the_events_and_reports_the_failed_file(
    one_process, scheduler, benchmark_capture, tmp_path
):
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(b"not a capture at all")
    out = tmp_path / "events.jsonl"
    command = [sys.executable, "-m", "minerwatch", "analyze", "--dask", scheduler, "--no-store"]
    run = subprocess.run(
        [*command, str(broken), str(benchmark_capture), "-o", str(out), "--no-progress"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2, run.stderr  # an input could not be read
    assert "Traceback" not in run.stderr
    assert "broken.pcap" in run.stdout + run.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert differences(without(one_process([benchmark_capture]), FLOW_IDS), without(events, FLOW_IDS)) == []
