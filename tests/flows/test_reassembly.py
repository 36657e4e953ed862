"""TCP reassembly: order, retransmission, overlap, wrap-around, mid-stream pickup, bounded holes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.flows.reassembly import (
    MASK,
    MAX_RANGES,
    PIECE_COST,
    ReassemblyBudget,
    StreamReassembler,
    seq_diff,
)
from work import lines_executed, peak_bytes


def feed(r: StreamReassembler, segments: list[tuple[int, bytes]]) -> bytes:
    out = b""
    for seq, data in segments:
        out += r.segment(seq, data)[0]
    return out + r.flush()[0]


def test_out_of_order_segments_come_out_in_order():
    r = StreamReassembler()
    r.syn(99)
    assert feed(r, [(106, b"world"), (100, b"hello "), (111, b"!")]) == b"hello world!"


def test_retransmissions_and_overlaps_are_delivered_once():
    r = StreamReassembler()
    r.syn(0)
    out = feed(r, [(1, b"abcdef"), (1, b"abcdef"), (4, b"defghi"), (2, b"bc")])
    assert out == b"abcdefghi"
    assert r.stats.retransmitted_bytes == 6 + 3 + 2


def test_sequence_numbers_wrap_around():
    r = StreamReassembler()
    start = MASK - 3  # data starts 3 bytes before the wrap
    r.syn(start - 1)
    assert feed(r, [((start + 4) & MASK, b"efgh"), (start, b"abcd")]) == b"abcdefgh"
    assert seq_diff(2, MASK - 1) == 4 and seq_diff(MASK, 1) == -2


def test_stream_picked_up_mid_way_starts_at_the_first_segment_seen():
    r = StreamReassembler()
    assert r.segment(5000, b"tail of a line\n")[0] == b"tail of a line\n"


def test_a_hole_that_never_fills_is_skipped_and_counted():
    r = StreamReassembler(max_pending=10 + 2 * PIECE_COST)  # held pieces are charged PIECE_COST each
    r.syn(0)
    assert r.segment(1, b"abc") == (b"abc", False)
    assert r.segment(10, b"0123456") == (b"", False)  # hole at 4..9, held
    data, gap = r.segment(17, b"789ABCDEF")  # now more than 10 bytes in 2 pieces held: give up the hole
    assert gap and data == b"0123456789ABCDEF"
    assert r.stats.gaps == 1 and r.stats.gap_bytes == 6


def test_flush_delivers_held_data_past_holes():
    r = StreamReassembler()
    r.syn(0)
    r.segment(1, b"a")
    r.segment(5, b"e")
    assert r.flush() == (b"e", True)


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=400),
    isn=st.integers(0, MASK),
    cuts=st.lists(st.integers(1, 400), max_size=12),
    order=st.randoms(use_true_random=False),
    dupes=st.lists(st.integers(0, 30), max_size=5),
)
def test_any_segmentation_order_and_duplication_gives_back_the_stream(data, isn, cuts, order, dupes):
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    segments = [((isn + 1 + a) & MASK, data[a:b]) for a, b in itertools.pairwise(bounds)]
    segments += [segments[d % len(segments)] for d in dupes]
    order.shuffle(segments)
    r = StreamReassembler()
    r.syn(isn)
    assert feed(r, segments) == data
    assert r.stats.gaps == 0


def model(isn: int, segments: list[tuple[int, bytes]]) -> tuple[bytes, int, int, int]:
    """What reassembly plus flush must give, byte by byte: each position's first copy, in position order;
    every other byte received is a retransmission; each covered stretch after a hole is a gap."""
    first: dict[int, int] = {}
    for seq, data in segments:
        for i, byte in enumerate(data):
            first.setdefault(seq_diff(seq, isn + 1) + i, byte)
    positions = sorted(first)
    gaps = sum(1 for p in positions if p and p - 1 not in first)
    gap_bytes = positions[-1] + 1 - len(positions) if positions else 0
    received = sum(len(d) for _, d in segments)
    return bytes(first[p] for p in positions), received - len(first), gaps, gap_bytes


ORDERS = {"as drawn": lambda s: s, "reversed": lambda s: s[::-1], "sorted": sorted}


@settings(max_examples=300, deadline=None)
@given(
    isn=st.integers(0, MASK),
    drawn=st.lists(st.tuples(st.integers(0, 300), st.binary(min_size=1, max_size=40)), max_size=60),
    tiny=st.lists(st.integers(0, 120), max_size=80),  # 1-byte segments
    order=st.sampled_from(sorted(ORDERS)),
)
def test_out_of_order_overlapping_and_tiny_segments_match_the_model(isn, drawn, tiny, order):
    segments = ORDERS[order](
        [((isn + 1 + p) & MASK, d) for p, d in drawn] + [((isn + 1 + p) & MASK, b"t") for p in tiny]
    )
    r = StreamReassembler()
    r.syn(isn)
    out, retransmitted, gaps, gap_bytes = model(isn, segments)
    assert feed(r, segments) == out
    assert (r.stats.retransmitted_bytes, r.stats.gaps, r.stats.gap_bytes) == (retransmitted, gaps, gap_bytes)
    assert r.budget.used == 0 and r.delivered == len(out)


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 300)), max_size=80),
    max_pending=st.integers(1, 4000),
    memcap=st.integers(1, 6000),
)
def test_limits_hold_after_every_segment_and_every_byte_is_accounted(segments, max_pending, memcap):
    budget = ReassemblyBudget(memcap)
    r, other = StreamReassembler(max_pending, budget), StreamReassembler(max_pending, budget)
    r.syn(0)
    other.syn(0)
    other.segment(10, b"x" * 100)  # another flow holding part of the shared budget
    out = b""
    for position, size in segments:
        out += r.segment(1 + position, bytes(size))[0]
        # Over a limit, a stream gives up all its holes: it holds at most what fits, or nothing.
        assert r._held <= max_pending or not r._starts
        assert budget.used <= memcap or not r._starts
        assert len(r._starts) <= MAX_RANGES
    out += r.flush()[0]
    received = sum(size for _, size in segments)
    assert len(out) + r.stats.retransmitted_bytes == received
    other.discard()
    assert budget.used == 0


def tiny_segments(n: int, shape: str) -> list[tuple[int, bytes]]:
    """n 1-byte segments behind a hole at the stream's first byte: in order, last first, or every
    other byte last first (a hole between each two)."""
    if shape == "forward":
        return [(2 + i, b"a") for i in range(n)]
    if shape == "reversed":
        return [(1 + n - i, b"a") for i in range(n)]
    return [(2 * (n - i), b"a") for i in range(n)]


SHAPES = ("forward", "reversed", "holes")


@pytest.mark.parametrize("shape", SHAPES)
def test_tiny_out_of_order_segments_cost_linear_work(shape):
    def run(n: int) -> None:
        r = StreamReassembler()
        r.syn(0)
        feed(r, tiny_segments(n, shape))

    # Doubling the segments doubles the work (quadratic before: every delivery scanned all held ones).
    assert lines_executed(lambda: run(8000)) < 2.2 * lines_executed(lambda: run(4000))


@pytest.mark.parametrize("shape", SHAPES)
def test_tiny_segments_held_stay_within_the_pending_bound(shape):
    segments = tiny_segments(20000, shape)

    def run() -> None:
        r = StreamReassembler(max_pending=64 << 10)
        r.syn(0)
        for seq, data in segments:
            r.segment(seq, bytes(data))  # a new object each, as from a capture
        r.flush()

    # 64 KiB charged (bytes plus PIECE_COST each) is below what Python allocates for the pieces and
    # ranges; 20,000 pieces held unbounded took 2.5 MiB.
    assert peak_bytes(run) < 256 << 10


def test_streams_sharing_a_budget_give_up_holes_past_it_and_give_the_bytes_back():
    budget = ReassemblyBudget(limit=10_000)
    streams = [StreamReassembler(budget=budget) for _ in range(4)]
    for s in streams:
        s.syn(0)
        for k in range(10):
            s.segment(2 + 1000 * k, bytes(1000))
            assert budget.used <= budget.limit or not s._starts
    assert budget.forced_gaps > 0
    for s in streams:
        s.discard()
    assert budget.used == 0
