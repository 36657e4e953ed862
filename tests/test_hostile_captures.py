"""Whole analyses of damaged captures: any corruption gives counts and warnings, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.capture.sample import write_sample
from minerwatch.pipeline import Analysis, AnalysisOptions


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
