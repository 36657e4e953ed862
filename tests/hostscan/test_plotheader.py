"""The header parser on real plots, on headers cut from them, on bladebit's layout, and on fuzz."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minerwatch.hostscan.plotheader import (
    BLADEBIT_MAGIC,
    HEADER_READ,
    POS2_MAGIC,
    V1_MAGIC,
    V2_MAGIC,
    NotAPlot,
    TruncatedHeader,
    parse_header,
)
from minerwatch.hostscan.plotsize import completeness, expected_size

from .conftest import FARMER_PK, PLOT_ID, POOL_CONTRACT, POOL_PK, SECRET, K, bladebit_header, chia_rs


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


def _every_cut_is_reported_or_rejected(head: bytes, magic_len: int, k_offset: int) -> None:
    """Headers cut at every length: never a crash; once k is readable, always a TruncatedHeader."""
    full = parse_header(head)
    for cut in range(magic_len, full.header_size):
        try:
            parse_header(head[:cut])
        except TruncatedHeader as exc:
            assert cut > k_offset and (exc.format, exc.k) == (full.format, full.k)
        except NotAPlot:
            assert cut <= k_offset
        else:
            pytest.fail(f"cut at {cut} parsed as a whole header")


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_every_cut_of_a_real_header_is_reported_or_rejected(plots, which: str) -> None:
    magic_len, k_offset = {"v1": (len(V1_MAGIC), len(V1_MAGIC) + 32), "v2": (4, 5 + 32)}[which]
    _every_cut_is_reported_or_rejected(_head(getattr(plots, which)), magic_len, k_offset)


def test_released_pos2_plot_agrees_with_its_own_prover(release_plot) -> None:
    """Each released `pos2` layout, from a plot that chia_rs release made, read back by that release."""
    h = parse_header(_head(release_plot.path))
    facts = release_plot.prover
    memo = bytes.fromhex(facts["memo"])
    assert (h.format, h.layout) == ("v2", release_plot.release.layout)
    assert (h.k, h.strength, h.plot_id) == (facts["k"], facts["strength"], facts["plot_id"])
    assert (h.plot_index, h.meta_group) == (facts.get("plot_index"), facts.get("meta_group"))
    assert (h.pool_key, h.farmer_public_key) == (memo[:-80].hex(), memo[-80:-32].hex())
    assert h.farmer_public_key == FARMER_PK.hex() and SECRET.hex() not in repr(h)
    assert completeness(h, release_plot.path.stat().st_size)[0]
    assert expected_size(h) is None


def test_released_pos2_plot_cut_or_unfinished(release_plot) -> None:
    head = _head(release_plot.path)
    _every_cut_is_reported_or_rejected(head, len(POS2_MAGIC), 5 + 32)
    h = parse_header(head)
    if h.chunk_count is None:  # fragment vector: written in one go, only a short file shows it unfinished
        complete, reason = completeness(h, h.header_size + h.body_length - 1)
        assert not complete and "fragment vector" in reason
        return
    # The writers put zeros where the chunk offsets go and fill them in when the plot is finished.
    offsets_at = h.header_size + 8
    unfinished = head[:offsets_at] + bytes(8 * h.chunk_count) + head[offsets_at + 8 * h.chunk_count :]
    u = parse_header(unfinished)
    assert (u.layout, u.chunk_count, u.plot_index) == (h.layout, h.chunk_count, h.plot_index)
    complete, reason = completeness(u, release_plot.path.stat().st_size)
    assert not complete and f"{h.chunk_count} of {h.chunk_count} chunk offsets empty" in reason
    assert not completeness(h, h.chunk_offsets[-1])[0]  # cut before its last chunk


@pytest.mark.parametrize(
    "data",
    [
        b"Proof of Space Plot is a nice phrase for an essay about farming, not a plot header at all..." * 3,
        b"PLOT THICKENS: chapter one" + bytes(200),
        b"PoS2" + bytes(300),  # k = 0
        b"pos2" + bytes(300),  # version 0
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
    st.sampled_from([V1_MAGIC, BLADEBIT_MAGIC + b"\x02\x00\x00\x00", V2_MAGIC, POS2_MAGIC + b"\x01"]),
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


def _pos2(k: int, after_strength: bytes) -> bytes:
    return POS2_MAGIC + b"\x01" + PLOT_ID + bytes([k, 2]) + after_strength


@given(
    k=st.integers(0, 255),
    index=st.integers(0, 0xFFFF),
    meta=st.integers(0, 255),
    memo_len=st.sampled_from([112, 128]) | st.integers(0, 255),
    count=st.integers(0, 2**64 - 1) | st.integers(1, 64),
    first=st.integers(0, 2**64 - 1) | st.none(),
    tail=st.binary(max_size=600),
    cut=st.integers(len(POS2_MAGIC), HEADER_READ),
)
def test_fuzz_pos2_indexed(k, index, meta, memo_len, count, first, tail, cut) -> None:
    """Any field values, any cut: NotAPlot or a header that keeps its bounds; the layout when it is one."""
    memo = bytes(range(memo_len))
    at = 39 + 4 + memo_len
    first = (at + 8 + 8 * count) % 2**64 if first is None else first
    index_bytes = struct.pack("<QQ", count, first)
    data = _pos2(k, struct.pack("<HBB", index, meta, memo_len) + memo + index_bytes + tail)[:cut]
    try:
        h = parse_header(data)
    except NotAPlot:
        return
    assert 15 <= h.k <= 50 and h.header_size <= len(data) and len(h.chunk_offsets) <= (len(data) - 39) // 8
    completeness(h, len(data))
    whole = len(data) >= at + 16 and memo_len in (112, 128) and 0 < count <= 2 ** (h.k - 8)
    if whole and first == at + 8 + 8 * count:
        assert (h.layout, h.plot_index, h.meta_group, h.chunk_count) == ("pos2-indexed", index, meta, count)


@given(
    memo=st.binary(min_size=112, max_size=112),
    chunks=st.integers(1, 2 ** (K - 16 + 2)) | st.none(),
    fragments=st.integers(2 ** (K - 2), 2 ** (K + 1)),
    first_fragment=st.integers(0, 2**36),
    body=st.binary(min_size=40, max_size=300),  # shorter, the file is cut short either way
)
def test_fuzz_pos2_fixed_memo_stays_one(memo, chunks, fragments, first_fragment, body) -> None:
    """Whatever the memo's fourth byte (the indexed layout's memo length) and the first fragment, a fixed
    memo header stays one, with the body it has."""
    if chunks is None:  # fragment vector: a count (about 0.78 * 2^k), then sorted fragments
        after = struct.pack("<QQ", fragments, first_fragment) + body
    else:
        offsets = [151 + 8 + 8 * chunks + 100 * i for i in range(chunks)]
        after = struct.pack(f"<Q{chunks}Q", chunks, *offsets) + body
    h = parse_header(_pos2(K, memo + after))
    header_size = 151 if chunks else 151 + 8  # a fragment vector's count is read with the header
    assert (h.layout, h.pool_key, h.header_size) == ("pos2-fixed-memo", memo[:32].hex(), header_size)
    assert h.chunk_count == chunks
