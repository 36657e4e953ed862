"""Events are identical to the reference in tests/golden_events.json (made by tests/golden_events.py) on
the corpus, the real recordings, the demonstration capture and a small benchmark capture: a refactor that
changes an event, a counter or the order of events fails here."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from corpus_rows import BENIGN, MINING
from golden_events import (
    BENCHMARK,
    GOLDEN,
    REGENERATE,
    SAMPLE,
    analyse,
    canonical,
    corpus_inputs,
    made_inputs,
    recording_inputs,
    summary,
)

REFERENCE = orjson.loads(GOLDEN.read_bytes())
HOW = (
    f"If the change is deliberate, regenerate the reference with `{REGENERATE}` and commit"
    " tests/golden_events.json saying why the events changed."
)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    return dict(made_inputs(tmp_path_factory.mktemp("golden")))


def compare(name: str, path: Path) -> None:
    assert name in REFERENCE, f"no reference for {name}. {HOW}"
    expected = REFERENCE[name]
    actual = summary(name, path)
    assert actual["input"] == expected["input"], (
        f"{name}: the input itself changed (its generator or file), not only the events. {HOW}"
    )
    if actual == expected:
        return
    events = analyse(path)
    for index, (mine, theirs) in enumerate(zip(actual["events"], expected["events"], strict=False)):
        if mine != theirs:
            shown = canonical(events[index], name).decode()[:2000]
            pytest.fail(f"{name}: event {index} ({theirs}) differs; now {mine}: {shown}. {HOW}")
    pytest.fail(f"{name}: {actual['types']} events, the reference has {expected['types']}. {HOW}")


@pytest.mark.parametrize("name", [SAMPLE, BENCHMARK])
def test_made_captures_give_the_reference_events(made, name):
    compare(name, made[name])


@pytest.mark.parametrize(("name", "path"), list(recording_inputs()), ids=lambda v: str(v).split("/")[-1])
def test_recordings_give_the_reference_events(name, path):
    compare(name, path)


@pytest.mark.parametrize("capture", MINING + BENIGN)
def test_corpus_gives_the_reference_events(corpus, capture):
    compare(f"corpus/{capture}", corpus / capture)


def test_the_reference_covers_every_input_and_no_other(corpus):
    names = {n for n, _ in corpus_inputs(corpus)} | {n for n, _ in recording_inputs()} | {SAMPLE, BENCHMARK}
    assert set(REFERENCE) == names, HOW
