"""Property tests: any split of the input gives the same events; generated messages round-trip;
hostile bytes never raise and never grow the buffer past its bound."""

from __future__ import annotations

import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.protocols.http import Data, EndOfMessage, Event, HttpParser, ProtocolError, Request

STREAMS = {
    "request": (
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /b HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"
        b"\r\nPUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext\r\nabc\r\n1\r\nd\r\n0\r\nT: 1\r\n\r\n"
        b"HEAD / HTTP/1.0\nX: folded\n  value\n\n"
    ),
    "response": (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n"
        b"HTTP/1.0 200 OK\r\n\r\nuntil close"
    )
    % (len(gzip.compress(b"zipped " * 50)), gzip.compress(b"zipped " * 50)),
}


def run(role: str, pieces: list[bytes], **limits) -> list[Event]:
    parser = HttpParser(role, **limits)  # type: ignore[arg-type]
    events: list[Event] = []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.feed_eof()
    merged: list[Event] = []
    for event in events:
        if isinstance(event, Data) and merged and isinstance(merged[-1], Data):
            merged[-1] = Data(merged[-1].data + event.data)
        else:
            merged.append(event)
    return merged


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def test_byte_by_byte_equals_whole() -> None:
    for role, data in STREAMS.items():
        whole = run(role, [data])
        assert not any(isinstance(e, ProtocolError) for e in whole)
        assert run(role, [data[i : i + 1] for i in range(len(data))]) == whole


@settings(max_examples=300, deadline=None)
@given(role=st.sampled_from(sorted(STREAMS)), cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_any_split_gives_the_same_events(role: str, cuts: list[int]) -> None:
    data = STREAMS[role]
    assert run(role, split(data, cuts)) == run(role, [data])


_token = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10).map(str.encode)
_value = st.binary(max_size=30).map(lambda b: b.translate(None, b"\r\n").strip(b" \t"))


@settings(max_examples=200, deadline=None)
@given(
    messages=st.lists(
        st.tuples(
            _token,
            st.text(alphabet="/abc?=&%", min_size=1, max_size=20).map(str.encode),
            st.lists(st.tuples(_token.map(lambda t: b"X-" + t), _value), max_size=5),
            st.binary(max_size=300),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    ),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_generated_pipelined_requests_round_trip(messages, cuts) -> None:  # type: ignore[no-untyped-def]
    wire = b""
    for method, target, headers, body, use_chunked in messages:
        fields = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        if use_chunked:
            pieces = [body[i : i + 50] for i in range(0, len(body), 50)]
            framed = b"".join(b"%X\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
            fields += b"Transfer-Encoding: chunked\r\n"
        else:
            framed = body
            fields += b"Content-Length: %d\r\n" % len(body)
        wire += b"%s %s HTTP/1.1\r\n%s\r\n%s" % (method, target, fields, framed)
    events = run("request", split(wire, cuts))
    requests = [e for e in events if isinstance(e, Request)]
    assert [(r.method, r.target) for r in requests] == [(m[0], m[1]) for m in messages]
    assert [r.headers.raw[: len(m[2])] for r, m in zip(requests, messages, strict=True)] == [
        m[2] for m in messages
    ]
    ends = [e for e in events if isinstance(e, EndOfMessage)]
    assert [e.body_length for e in ends] == [len(m[3]) for m in messages]
    bodies, current = [], b""
    for event in events:
        if isinstance(event, Data):
            current += event.data
        elif isinstance(event, EndOfMessage):
            bodies.append(current)
            current = b""
    assert bodies == [m[3] for m in messages]


@settings(max_examples=300, deadline=None)
@given(
    role=st.sampled_from(["request", "response"]),
    prefix=st.sampled_from(
        [b"", b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]
    ),
    garbage=st.lists(st.binary(max_size=200), max_size=10),
)
def test_garbage_never_raises_and_stays_bounded(role: str, prefix: bytes, garbage: list[bytes]) -> None:
    parser = HttpParser(role, max_header_bytes=256, max_body=64)  # type: ignore[arg-type]
    for piece in [prefix, *garbage]:
        parser.feed(piece)
        assert len(parser._buf) <= 256 + len(piece)
    errors = [e for e in parser.feed_eof() if isinstance(e, ProtocolError)]
    assert len(errors) <= 1


@settings(max_examples=300, deadline=None)
@given(
    role=st.sampled_from(sorted(STREAMS)),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=3)), min_size=1, max_size=4
    ),
)
def test_mutated_streams_never_raise(role: str, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(STREAMS[role])
    for position, replacement in edits:
        at = position % len(data)
        data[at : at + len(replacement)] = replacement
    events = run(role, [bytes(data)])
    assert sum(isinstance(e, ProtocolError) for e in events) <= 1
