"""The public captures hold no password guessing: none of them, benign or mining, raises a brute-force event.

They do hold ordinary traffic on watched ports (SMTP/TLS noise, HTTP with and without forms), so this
checks the detector stays quiet on real traffic, not only on constructed sessions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus_rows import BENIGN, MINING
from minerwatch.events import Event
from minerwatch.pipeline import Analysis

CAPTURES = BENIGN + MINING


@pytest.mark.parametrize("name", CAPTURES)
def test_no_brute_force_in_the_public_captures(corpus: Path, name: str) -> None:
    events: list[Event] = []
    analysis = Analysis([events.append])
    analysis.feed_file(corpus / name)
    result = analysis.finish()
    assert result.input_errors == []
    assert [e for e in events if e["event_type"] == "bruteforce"] == []
    assert result.stats["stats"]["bruteforce"]["campaigns_raised"] == 0
