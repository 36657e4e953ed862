"""Pool-likeness of host names: whole words only, and a score that stays weak."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.encrypted import evidence
from minerwatch.encrypted.fusion import MINING
from minerwatch.encrypted.names import MAX_NAME, OPERATOR_SCORE, score_name, tokens


@pytest.mark.parametrize(
    ("name", "score", "found"),
    [
        ("xmr-eu1.nanopool.org", 0.6, ("nanopool", "xmr")),
        ("gulf.moneroocean.stream", 0.6, ("moneroocean",)),
        ("rx.unmineable.com", 0.6, ("unmineable",)),
        ("eth.2miners.com", 0.6, ("2miners", "eth", "miners")),
        ("stratum.example.net", 0.5, ("stratum",)),
        ("xmr.pool.example", 0.5, ("xmr", "pool")),
        ("pool.ntp.org", 0.2, ("pool",)),  # a pool word alone: the weakest hint
        ("minecraft.net", 0.0, ()),  # not `mine`
        ("carpool.example", 0.0, ()),  # not `pool`
        ("www.ntop.org", 0.0, ()),
    ],
)
def test_scores(name: str, score: float, found: tuple[str, ...]) -> None:
    scored = score_name(name)
    assert scored.score == score
    assert scored.tokens == found


def test_tokens_split_letters_from_digits() -> None:
    assert tokens("XMR1-eu.2Miners_x") == ["xmr1", "xmr", "1", "eu", "2miners", "2", "miners", "x"]


@settings(deadline=None)
@given(st.text(max_size=2000))
def test_any_text_is_scored_within_bounds(name: str) -> None:
    scored = score_name(name)
    assert 0.0 <= scored.score <= OPERATOR_SCORE
    assert all(len(t) <= MAX_NAME for t in scored.tokens)


def test_the_most_pool_like_of_a_servers_names_counts_once() -> None:
    """SNI and DNS names all name one server: one piece of evidence, from the most pool-like name."""
    found = evidence.name(
        [("www.example.com", "sni"), ("pool.ntp.org", "dns"), ("xmr.pool.example", "dns"), ("x.test", "dns")]
    )
    assert found is not None and found.weak
    assert found.detail == {"where": "dns", "name": "xmr.pool.example", "tokens": ["xmr", "pool"]}
    assert found.support == {frozenset({MINING}): 0.25}
    assert evidence.name([("www.example.com", "sni"), ("cdn.example.net", "dns")]) is None
    assert evidence.name([]) is None


def test_a_long_name_is_scored_and_kept_cut() -> None:
    """A hostile SNI can be far longer than a DNS name: the score and the evidence keep its first 253."""
    scored = score_name("xmr.pool." + "a" * 70_000)
    assert scored.score == 0.5 and len(scored.name) == MAX_NAME
