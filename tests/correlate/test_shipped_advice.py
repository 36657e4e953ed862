"""The shipped recommendations (rules/recommendations.yml) are read when the first incident is built, late
in a run: a file that cannot be parsed then (a damaged install, or a file replaced under the run) is one
line and exit 2, never an internal error."""

from __future__ import annotations

from importlib import resources

import pytest

from minerwatch.correlate import incidents
from minerwatch.errors import InputError


@pytest.mark.parametrize("damage", [b"\n  - [cut here", b"", b"recommendations: 3\n"])
def test_a_damaged_shipped_advice_file_is_one_line(tmp_path, monkeypatch, damage):
    real = resources.files("minerwatch").joinpath("rules/recommendations.yml").read_bytes()
    (tmp_path / "rules").mkdir()
    torn = real[: len(real) // 2] + damage if damage.startswith(b"\n") else damage
    (tmp_path / "rules" / "recommendations.yml").write_bytes(torn)
    monkeypatch.setattr(incidents.resources, "files", lambda package: tmp_path)
    incidents._advice.cache_clear()
    try:
        with pytest.raises(InputError, match=r"recommendations\.yml is damaged") as caught:
            incidents._advice()
    finally:
        incidents._advice.cache_clear()
        monkeypatch.undo()
    assert "\n" not in str(caught.value)
    assert incidents._advice()  # the real file again
