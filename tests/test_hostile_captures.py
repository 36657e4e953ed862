"""Whole analyses of damaged captures: any corruption gives counts and warnings, never an exception."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.capture import hostile
from minerwatch.capture.sample import write_sample
from minerwatch.capture.writer import PcapWriter
from minerwatch.pipeline import Analysis, AnalysisOptions
from work import lines_executed, peak_bytes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(24, 10**6), st.integers(0, 255)), min_size=1, max_size=300),
    cut=st.one_of(st.none(), st.integers(24, 10**6)),
)
def test_a_damaged_sample_capture_is_analysed_to_the_end(tmp_path_factory, edits, cut):
    clean = tmp_path_factory.getbasetemp() / "hostile-sample.pcap"
    if not clean.exists():
        write_sample(clean)
    data = bytearray(clean.read_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: max(24, cut % len(data))]
    path = tmp_path_factory.mktemp("hostile") / "damaged.pcap"
    path.write_bytes(bytes(data))
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions(record_discovered=False))
    analysis.feed_file(path)
    result = analysis.finish()
    assert events[-1]["event_type"] == "stats" and result.stats["stats"]["capture"]["packets"] >= 0


# The shapes that once cost more than linear time or memory (issue 14), at a size each, with the stats
# that must show what became of them.
SHAPES = {
    "nested_ipv6_fragments": (4, lambda s, n: s["defrag"]["invalid"] == n),
    "reversed_ipv4_fragments": (4000, lambda s, n: s["defrag"]["completed"] == -(-n // 8000)),
    "overlapping_ipv4_fragments": (2000, lambda s, n: s["defrag"]["overlaps"] == n - 1),
    "out_of_order_flows": (4, lambda s, n: s["inspection"]["reassembly_gaps"] == n),
    "tiny_tcp_segments": (4000, lambda s, n: s["inspection"]["reassembly_gaps"] == 1),
    "oversized_fragments": (4, lambda s, n: s["defrag"]["invalid"] == n),
}


def analysis_of(path: Path, **options) -> tuple[Analysis, Callable[[], dict]]:
    """An analysis made ready (rules loaded) and the call that runs it over `path`, giving the stats."""
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions(record_discovered=False, **options))

    def run() -> dict:
        analysis.feed_file(path)
        analysis.finish()
        return events[-1]["stats"]

    return analysis, run


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_shapes_cost_linear_work_and_are_counted(shape, write_capture):
    n, expected = SHAPES[shape]
    work, paths = [], {}
    for size in (n, 2 * n, 4 * n):
        paths[size] = write_capture(getattr(hostile, shape)(size))
        analysis, run = analysis_of(paths[size])
        work.append(lines_executed(run))
        assert expected(analysis.finish().stats["stats"], size)
        assert analysis.inspector.reassembly.used == 0  # every stream gave its held bytes back
    # Linear: from 2n to 4n costs twice what n to 2n did (a quadratic cost would make it 4 times).
    assert work[2] - work[1] < 2.5 * (work[1] - work[0])


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_shapes_hold_bounded_memory(shape, write_capture):
    n = SHAPES[shape][0]
    peaks = []
    for size in (n, 4 * n):
        path = write_capture(getattr(hostile, shape)(size))
        peaks.append(peak_bytes(analysis_of(path, reassembly_memcap=1 << 20, defrag_memcap=1 << 20)[1]))
    # With 1 MiB caps, a hostile capture four times as large takes no more memory, and all of it stays
    # under the reader's 5 MiB buffer plus 5 MiB (out_of_order_flows at 4n would hold 15 MiB uncapped).
    assert peaks[1] < peaks[0] + (1 << 20) and peaks[1] < 10 << 20


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.tuples(st.sampled_from(sorted(SHAPES)), st.integers(1, 300)), min_size=1, max_size=4),
    order=st.randoms(use_true_random=False),
    memcap=st.integers(1, 4),
)
def test_hostile_shapes_mixed_are_analysed_within_the_caps(tmp_path_factory, parts, order, memcap):
    frames = [f for shape, size in parts for f in getattr(hostile, shape)(size)]
    order.shuffle(frames)
    path = tmp_path_factory.mktemp("hostile") / "mixed.pcap"
    with path.open("wb") as out:
        PcapWriter(out).write_all(frames)
    events: list[dict] = []
    options = AnalysisOptions(
        record_discovered=False, reassembly_memcap=memcap << 20, defrag_memcap=memcap << 20
    )
    analysis = Analysis([events.append], options)
    analysis.feed_file(path)
    analysis.finish()
    stats = events[-1]["stats"]
    assert stats["capture"]["packets"] == len(frames) and not stats["input_errors"]
    assert analysis.inspector.reassembly.used == 0 and analysis.inspector.defrag.used <= memcap << 20
