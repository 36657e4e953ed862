"""The evaluation's confidence bounds: exact one-sided 95% Clopper-Pearson bounds, which is what the README
states next to each held-out rate (a rate of 0 on n flows is not a rate of 0)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minerwatch.encrypted.evaluate import ClassResult, failure_bound, report_lines


@pytest.mark.parametrize("trials", [1, 16, 59, 1937, 3000, 100_000])
def test_no_failure_gives_the_closed_form(trials: int) -> None:
    """0 failures in n: P(no failure) = (1 - p)^n = 0.05, so p = 1 - 0.05^(1/n), about the rule of three."""
    assert failure_bound(0, trials) == pytest.approx(1 - 0.05 ** (1 / trials), rel=1e-9)


def test_known_values() -> None:
    assert failure_bound(2, 100) == pytest.approx(0.0616, abs=5e-5)  # tables of the exact binomial bound
    assert failure_bound(1, 4744) < 0.001 < failure_bound(1, 4700)  # one false positive needs ~4,744 flows
    assert failure_bound(0, 2994) > 0.001 > failure_bound(0, 2995)  # none needs 2,995
    assert failure_bound(5, 5) == 1.0


@given(st.integers(1, 5000), st.data())
def test_the_bound_holds_the_observed_rate_and_its_tail(trials: int, data) -> None:
    failures = data.draw(st.integers(0, min(trials - 1, 60)))
    bound = failure_bound(failures, trials)
    assert failures / trials < bound < 1
    tail = sum(
        math.comb(trials, i) * bound**i * (1 - bound) ** (trials - i) for i in range(failures + 1)
    )  # at the bound, seeing so few failures has probability 5%
    assert tail == pytest.approx(0.05, abs=1e-6)
    assert failure_bound(failures, trials + 1) < bound  # more flows, a tighter bound


def test_the_report_says_which_way_each_bound_goes() -> None:
    benign = ClassResult("benign", flows=3000, flagged=0)
    mining = ClassResult("tls_mining", flows=59, flagged=59)
    lines = report_lines({"benign": benign, "tls_mining": mining})
    assert lines[1].split()[1:6] == ["3000", "0", "FPR", "0.00%", "<=0.10%"]
    assert lines[2].split()[1:6] == ["59", "0", "recall", "100.00%", ">=95.05%"]
