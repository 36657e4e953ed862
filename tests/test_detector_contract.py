"""The detector contract (detectors/base.py): one name per detector, for --detectors and for its section of
the `stats` event; each detector's options in its own dataclass, checked when the analysis is set up."""

from __future__ import annotations

import pytest

from minerwatch.capture.sample import write_sample
from minerwatch.detectors.scan import ScanConfig
from minerwatch.errors import UsageError
from minerwatch.pipeline import DETECTORS, Analysis, AnalysisOptions, detector_names

CORE_SECTIONS = {"capture", "inspection", "defrag", "correlation", "http", "files", "input_errors"}


def test_each_detector_reports_under_the_name_that_selects_it(tmp_path, analyse) -> None:
    path = tmp_path / "demo.pcap"
    write_sample(path)
    names = detector_names()
    assert len(set(names)) == len(names)
    assert set(analyse(path)[-1]["stats"]) - CORE_SECTIONS == set(names)
    for name in ("pool_protocols", "carving"):
        assert set(analyse(path, detectors=(name,))[-1]["stats"]) - CORE_SECTIONS == {name}


def test_every_declared_options_dataclass_gives_the_default_run() -> None:
    for detector in DETECTORS:
        assert detector.options_in({}) == detector.options()


def test_options_of_the_wrong_type_or_for_no_detector_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="options of detector carving: expected FileOptions"):
        Analysis([], AnalysisOptions(detector_options={"carving": ScanConfig()}))
    with pytest.raises(UsageError, match="unknown detector"):
        Analysis([], AnalysisOptions(detector_options={"files": ScanConfig()}))
