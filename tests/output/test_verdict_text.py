"""The verdict's extra lines read events files written by hand too: any JSON gives text, never an error."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from minerwatch.output.verdict_text import disk_lines, encrypted_lines

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["disk", "encrypted", "peers", "kinds", "plots_complete", "plot_bytes", "farmer_public_keys",
     "findings", "ip", "port", "kind", "flows", "evidence"]
)  # fmt: skip


@given(st.dictionaries(FIELDS, JSON | st.dictionaries(FIELDS, JSON, max_size=6), max_size=4))
def test_any_verdict_gives_lines(verdict: dict) -> None:
    for line in encrypted_lines(verdict) + disk_lines(verdict):
        assert isinstance(line, str)


def test_a_disk_line_says_what_was_found() -> None:
    disk = {"findings": 3, "kinds": {"plot": 2, "farming_config": 1}, "plots_complete": 2,
            "plot_bytes": 217_000_000_000, "farmer_public_keys": ["ab" * 24, "cd" * 24]}  # fmt: skip
    [line] = disk_lines({"disk": disk})
    assert line == (
        "disk: 3 finding(s) (plot 2, farming_config 1), 2 complete plot(s) 217.0 GB,"
        " farmer key abababababababab… (+1)"
    )
    assert disk_lines({}) == [] and encrypted_lines({}) == []
