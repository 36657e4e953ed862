"""The README's analyze options table is the one the argument parser makes from the options dataclasses."""

from __future__ import annotations

from options_table import README, current, table


def test_the_readme_table_is_made_from_the_dataclasses() -> None:
    text = README.read_text()
    assert current(text) == text, "README.md's options table is stale: run `make docs` and commit it"


def test_the_table_shows_the_dataclass_defaults() -> None:
    from minerwatch.correlate.verdicts import VerdictPolicy
    from minerwatch.detectors.scan import ScanConfig
    from minerwatch.pipeline import AnalysisOptions

    rows = {
        line.split(" | ")[0].strip("| ").split()[0]: line.split(" | ")[1] for line in table().splitlines()[2:]
    }
    assert rows["`--window`"] == f"{VerdictPolicy().window:g}"
    assert rows["`--stream-depth`"] == str(AnalysisOptions().stream_depth)
    assert rows["`--scan-ports`"] == str(ScanConfig().ports)
    assert rows["`--reassembly-memcap`"] == f"{AnalysisOptions().reassembly_memcap >> 20} MiB"
