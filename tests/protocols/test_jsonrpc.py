"""Newline-delimited JSON framing: tolerant of segmentation and \\r\\n, bounded against hostile input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from minerwatch.protocols.jsonrpc import LineFramer


def test_lines_split_across_segments_and_many_per_segment():
    f = LineFramer()
    assert f.feed(b'{"id":1}\r\n{"id"') == [b'{"id":1}']
    assert f.feed(b':2}\n{"id":3}\n\n') == [b'{"id":2}', b'{"id":3}']


def test_overlong_line_is_dropped_whole_and_counted_without_buffering_it():
    f = LineFramer(max_line=16)
    assert f.feed(b"x" * 10) == []
    assert f.feed(b"y" * 100) == []
    assert len(f._partial) == 0  # not buffered beyond the cap
    assert f.feed(b"zzz\n{}\n") == [b"{}"]
    assert f.stats.overlong_lines == 1


def test_gap_discards_the_partial_line():
    f = LineFramer()
    f.feed(b'{"id":1,"meth')
    f.gap()
    assert f.feed(b'od":"x"}\n{"id":2}\n') == [b'{"id":2}']


def test_decode_rejects_non_objects_bad_utf8_and_deep_nesting():
    f = LineFramer()
    assert f.decode(b'{"a":1}') == {"a": 1}
    assert f.decode(b"[1,2]") is None
    assert f.decode(b'{"a":"\xff"}') is None
    assert f.decode(b"[" * 100_000 + b"]" * 100_000) is None
    assert f.stats.not_an_object == 1 and f.stats.invalid_json == 2


@given(st.lists(st.binary(max_size=50).map(lambda b: b.replace(b"\n", b"")), max_size=20), st.data())
def test_any_split_gives_the_same_lines(lines, data):
    stream = b"".join(line + b"\n" for line in lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    f = LineFramer()
    out = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += f.feed(stream[a:b])
    assert out == [line.strip() for line in lines if line.strip()]
