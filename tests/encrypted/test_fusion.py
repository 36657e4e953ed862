"""Dempster-Shafer fusion: the rule's algebra, and the decision rule's promise that weak evidence alone
never reports anything, however much of it agrees."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.encrypted.fusion import (
    BENIGN,
    CHIA,
    CLASSES,
    CONFIDENCE_CAP,
    FRAME,
    MINING,
    Evidence,
    combine,
    could_reach,
    fuse,
    single,
)

classes = st.sampled_from(CLASSES)
sets = st.sets(classes, min_size=1).map(frozenset)


@st.composite
def evidence(draw, weak: bool | None = None) -> Evidence:
    focal = draw(st.lists(sets, min_size=1, max_size=3, unique=True))
    weights = draw(st.lists(st.floats(0.0, 1.0), min_size=len(focal), max_size=len(focal)))
    scale = draw(st.floats(0.0, 1.0)) / max(1.0, sum(weights))
    support = {s: w * scale for s, w in zip(focal, weights, strict=True)}
    return Evidence("test", support, draw(st.booleans()) if weak is None else weak)


@settings(deadline=None)
@given(st.lists(evidence(), max_size=6))
def test_masses_stay_a_distribution(items: list[Evidence]) -> None:
    fused = fuse(items)
    assert all(0.0 <= b <= 1.0 + 1e-9 for b in fused.belief.values())
    assert sum(fused.belief.values()) <= 1.0 + 1e-9
    assert 0.0 <= fused.conflict <= 1.0


@settings(deadline=None)
@given(evidence(), evidence())
def test_combination_is_commutative(a: Evidence, b: Evidence) -> None:
    ab, _ = combine(a.mass(), b.mass())
    ba, _ = combine(b.mass(), a.mass())
    assert ab.keys() == ba.keys()
    assert all(math.isclose(ab[k], ba[k], abs_tol=1e-9) for k in ab)


@settings(deadline=None)
@given(st.lists(evidence(weak=True), max_size=8))
def test_weak_evidence_alone_never_decides(items: list[Evidence]) -> None:
    assert fuse(items).decide() is None


def test_two_independent_hints_add_up_and_the_frame_keeps_the_rest() -> None:
    a = Evidence("fingerprint", single(MINING, 0.3), weak=True)
    b = Evidence("name", single(MINING, 0.3), weak=True)
    masses, conflict = combine(a.mass(), b.mass())
    assert conflict == 0.0
    assert masses[frozenset({MINING})] == pytest.approx(1 - 0.7 * 0.7)
    assert masses[FRAME] == pytest.approx(0.49)


def test_contradiction_is_normalised_away() -> None:
    """A mining fingerprint against a browser's ALPN: the conflict is reported and both shrink."""
    fused = fuse(
        [Evidence("fingerprint", single(MINING, 0.3), True), Evidence("alpn", single(BENIGN, 0.5), True)]
    )
    assert fused.conflict == pytest.approx(0.15)
    assert fused.belief[MINING] == pytest.approx(0.3 * 0.5 / 0.85)
    assert fused.belief[BENIGN] == pytest.approx(0.5 * 0.7 / 0.85)


def test_a_strong_kind_decides_and_the_confidence_is_capped() -> None:
    pair = Evidence("pair", single(MINING, 0.9), weak=False)
    fused = fuse([pair, Evidence("fingerprint", single(MINING, 0.3), True)])
    assert fused.decide() == MINING
    assert fused.confidence(MINING) == CONFIDENCE_CAP < fused.belief[MINING]


def test_a_set_of_classes_commits_to_neither() -> None:
    """Periodic pushes support mining or Chia: no belief in either until something separates them."""
    periodic = Evidence("periodicity", {frozenset({MINING, CHIA}): 0.6}, weak=True)
    assert fuse([periodic]).belief == {MINING: 0.0, CHIA: 0.0, BENIGN: 0.0}
    fused = fuse([periodic, Evidence("benign-ish", single(BENIGN, 0.5), weak=False)])
    assert fused.conflict == pytest.approx(0.3)  # periodic (mining or Chia) against benign
    assert fused.belief[MINING] == fused.belief[CHIA] == 0.0


def test_masses_over_one_are_refused() -> None:
    with pytest.raises(ValueError, match="more than 1"):
        Evidence("bad", {frozenset({MINING}): 0.7, frozenset({BENIGN}): 0.6}, weak=False).mass()


@settings(deadline=None, max_examples=500)
@given(st.lists(evidence(), max_size=6), classes, st.floats(0.05, 0.95))
def test_could_reach_is_what_fusion_gives(items: list[Evidence], cls: str, level: float) -> None:
    """The shortcut allows every belief the fusion gives, and (but where the kinds conflict so much that
    rounding could decide, or at the level itself) rules out every other."""
    fused = fuse(items)
    if fused.belief[cls] >= level:
        assert could_reach([e.support for e in items], cls, level)
    elif fused.belief[cls] < level - 1e-6 and fused.conflict < 0.9 and len(items) <= 4:
        assert not could_reach([e.support for e in items], cls, level)


def test_could_reach_rules_out_what_nothing_points_at() -> None:
    """A flow model sure of benign and a browser's ALPN cannot make mining; a confident model can."""
    alpn = Evidence("alpn", single(BENIGN, 0.5), weak=True)
    unsure = Evidence("model", {frozenset({BENIGN}): 0.9}, weak=False)
    assert not could_reach([alpn.support, unsure.support], MINING)
    sure = Evidence("model", {frozenset({MINING}): 0.8, frozenset({BENIGN}): 0.1}, weak=False)
    assert could_reach([alpn.support, sure.support], MINING) and fuse([alpn, sure]).belief[MINING] >= 0.5
