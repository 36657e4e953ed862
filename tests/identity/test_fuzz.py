"""Hostile input: never raise, answer "not valid" quickly even for 1 MB strings."""

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.identity import (
    algorithm_from_job,
    infer_coin,
    normalise_algorithm,
    parse_agent,
    parse_login,
    validate_wallet,
)

TEXT = st.text(max_size=300) | st.text(alphabet="123456789ABCDEFabcdefqpzry0x.+/:@#", max_size=200)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.none() | st.text(max_size=50))
def test_parsers_never_raise(text: str, password: str | None) -> None:
    validate_wallet(text)
    parse_login(text, password)
    parse_agent(text)
    normalise_algorithm(text)
    infer_coin(validate_wallet(text), text, text)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(st.none() | st.integers() | st.text(max_size=80), lambda inner: st.lists(inner, max_size=10))
)
def test_job_shapes_never_raise(job: object) -> None:
    algorithm_from_job(job)


def test_one_megabyte_inputs_are_rejected_fast() -> None:
    huge = ["4" * 1_000_000, "XMRig/" * 200_000, "a." * 500_000, "0x" + "f" * 999_998, "\u00e9" * 1_000_000]
    start = time.perf_counter()
    for text in huge:
        assert validate_wallet(text) is None
        assert parse_login(text).kind == "invalid"
        assert parse_agent(text).family == "unknown"
        assert normalise_algorithm(text) == "unknown"
    assert time.perf_counter() - start < 0.5
