"""TCP reassembly: order, retransmission, overlap, wrap-around, mid-stream pickup, bounded holes."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.flows.reassembly import MASK, StreamReassembler, seq_diff


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
    r = StreamReassembler(max_pending=10)
    r.syn(0)
    assert r.segment(1, b"abc") == (b"abc", False)
    assert r.segment(10, b"0123456") == (b"", False)  # hole at 4..9, held
    data, gap = r.segment(17, b"789ABCDEF")  # now more than 10 bytes held: give up on the hole
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
