"""The header parser on real plots, on headers cut from them, on bladebit's layout, and on fuzz."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minerwatch.hostscan.plotheader import (
    BLADEBIT_MAGIC,
    HEADER_READ,
    V1_MAGIC,
    V2_MAGIC,
    NotAPlot,
    TruncatedHeader,
    parse_header,
)
from minerwatch.hostscan.plotsize import completeness, expected_size

from .conftest import FARMER_PK, PLOT_ID, POOL_CONTRACT, POOL_PK, SECRET, bladebit_header, chia_rs


def _head(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEADER_READ)


def test_real_v1_plot(plots) -> None:
    h = parse_header(_head(plots.v1))
    assert (h.format, h.k, h.plot_id, h.format_description) == ("v1", 18, PLOT_ID.hex(), "v1.0")
    assert (h.memo_type, h.pool_key, h.farmer_public_key) == (
        "pool_contract",
        POOL_CONTRACT.hex(),
        FARMER_PK.hex(),
    )
    assert all(h.table_pointers) and list(h.table_pointers) == sorted(h.table_pointers)
    assert completeness(h, plots.v1.stat().st_size)[0]
    assert abs(plots.v1.stat().st_size / expected_size(h) - 1) < 0.02


def test_real_v2_plots_agree_with_chia_rs_prover(plots) -> None:
    for path, memo_type, pool in (
        (plots.v2, "pool_contract", POOL_CONTRACT),
        (plots.v2_pool_pk, "pool_public_key", POOL_PK),
    ):
        h = parse_header(_head(path))
        prover = chia_rs.Prover(str(path))
        assert h.format == "v2"
        assert (h.k, h.strength, h.meta_group, h.group_size) == (
            prover.size(),
            prover.get_strength(),
            prover.get_meta_group(),
            prover.get_group_size(),
        )
        assert h.plot_id == bytes(prover.plot_group_id()).hex()
        assert (h.memo_type, h.pool_key, h.farmer_public_key) == (memo_type, pool.hex(), FARMER_PK.hex())
        assert completeness(h, path.stat().st_size)[0]


def test_secret_key_is_never_kept(plots) -> None:
    for path in (plots.v1, plots.v2, plots.v2_pool_pk):
        h = parse_header(_head(path))
        assert SECRET.hex() not in repr(h)


def test_v2_cut_before_trailing_index_is_incomplete(plots) -> None:
    data = plots.v2.read_bytes()
    h = parse_header(data[:HEADER_READ])
    body_end = h.header_size + h.body_length
    assert not completeness(h, body_end)[0]
    assert completeness(h, len(data))[0]


@pytest.mark.parametrize("level", [0, 1, 7, 9])
def test_bladebit_compressed_header(level: int) -> None:
    h = parse_header(bladebit_header(k=32, level=level))
    assert (h.format, h.k, h.compression_level, h.memo_type) == (
        "bladebit-compressed",
        32,
        level,
        "pool_public_key",
    )
    assert h.pool_key == POOL_PK.hex()
    expected = expected_size(h)
    if level in (0, 1, 7):
        assert 70 * 2**30 < expected < 110 * 2**30
    else:
        assert expected is None
    assert not completeness(parse_header(bladebit_header(pointers_set=False)), 10**12)[0]


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_every_cut_of_a_real_header_is_reported_or_rejected(plots, which: str) -> None:
    """Headers cut at every length: never a crash; once k is readable, always a TruncatedHeader."""
    head = _head(getattr(plots, which))
    full = parse_header(head)
    k_offset = {"v1": len(V1_MAGIC) + 32, "v2": 5 + 32}[which]
    for cut in range(len(V1_MAGIC) if which == "v1" else 4, full.header_size):
        try:
            parse_header(head[:cut])
        except TruncatedHeader as exc:
            assert cut > k_offset and (exc.format, exc.k) == (full.format, full.k)
        except NotAPlot:
            assert cut <= k_offset
        else:
            pytest.fail(f"cut at {cut} parsed as a whole header")


@pytest.mark.parametrize(
    "data",
    [
        b"Proof of Space Plot is a nice phrase for an essay about farming, not a plot header at all..." * 3,
        b"PLOT THICKENS: chapter one" + bytes(200),
        b"PoS2" + bytes(300),  # k = 0
        b"%PDF-1.7" + bytes(500),
    ],
)
def test_look_alikes_do_not_match(data: bytes) -> None:
    try:
        header = parse_header(data)
    except TruncatedHeader:
        pytest.fail("a look-alike was taken for a truncated plot")
    except NotAPlot:
        return
    assert header is None


@given(st.binary(max_size=600))
def test_fuzz_random_bytes(data: bytes) -> None:
    with contextlib.suppress(NotAPlot):
        parse_header(data)


@given(
    st.sampled_from([V1_MAGIC, BLADEBIT_MAGIC + b"\x02\x00\x00\x00", V2_MAGIC]),
    st.binary(max_size=HEADER_READ),
)
def test_fuzz_after_each_magic(magic: bytes, rest: bytes) -> None:
    try:
        h = parse_header(magic + rest)
    except NotAPlot:
        return
    assert h is not None and 15 <= h.k <= 50 and h.header_size <= len(magic + rest)
    completeness(h, len(magic + rest))
    expected_size(h)
