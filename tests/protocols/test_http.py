"""HTTP/1.x parser: framing, pipelining, decoding, limits and hostile input, all fed as bytes."""

from __future__ import annotations

import gzip
import zlib

import pytest

from minerwatch.protocols.http import (
    Data,
    EndOfMessage,
    Event,
    HttpConnection,
    HttpParser,
    ProtocolError,
    Request,
    Response,
    Upgrade,
    looks_like_http_request,
    looks_like_http_response,
)


def merged(events: list[Event]) -> list[Event]:
    """Join consecutive Data events, so results compare equal however the input was split."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + event.data)
        else:
            out.append(event)
    return out


def parse(
    role: str, data: bytes, methods: tuple[bytes, ...] = (), eof: bool = False, **limits
) -> list[Event]:
    parser = HttpParser(role, **limits)  # type: ignore[arg-type]
    for method in methods:
        parser.expect_response_to(method)
    events = parser.feed(data)
    if eof:
        events += parser.feed_eof()
    return merged(events)


def kinds(events: list[Event]) -> list[str]:
    return [type(event).__name__ for event in events]


def body_of(events: list[Event]) -> bytes:
    return b"".join(event.data for event in events if isinstance(event, Data))


def chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


# -- requests ---------------------------------------------------------------------------------------


def test_request_line_headers_and_lookup() -> None:
    events = parse("request", b"GET /a?b=1 HTTP/1.1\r\nHost: pool.example\r\nX-A: 1\r\nx-a:  2 \r\n\r\n")
    assert kinds(events) == ["Request", "EndOfMessage"]
    request = events[0]
    assert isinstance(request, Request)
    assert (request.method, request.target, request.version) == (b"GET", b"/a?b=1", b"1.1")
    assert request.headers.raw == [(b"Host", b"pool.example"), (b"X-A", b"1"), (b"x-a", b"2")]
    assert request.headers.get(b"HOST") == b"pool.example"
    assert request.headers.get_all(b"x-a") == [b"1", b"2"]
    assert request.headers.get(b"missing") is None


def test_pipelined_requests_in_one_segment() -> None:
    data = (
        b"GET /1 HTTP/1.1\r\n\r\n"
        b"POST /2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
        b"PUT /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(b"world!")
        + b"DELETE /4 HTTP/1.0\n\n"
    )
    events = parse("request", data)
    assert [e.target for e in events if isinstance(e, Request)] == [b"/1", b"/2", b"/3", b"/4"]
    assert [e.data for e in events if isinstance(e, Data)] == [b"hello", b"world!"]
    assert kinds(events).count("EndOfMessage") == 4


def test_stray_crlf_between_requests_is_tolerated() -> None:
    events = parse("request", b"\r\nGET / HTTP/1.1\r\n\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    assert [e.target for e in events if isinstance(e, Request)] == [b"/", b"/b"]


def test_obsolete_line_folding_is_joined() -> None:
    events = parse("request", b"GET / HTTP/1.1\r\nX-Long: a\r\n  b\r\n\r\n")
    assert events[0].headers.get(b"x-long") == b"a b"


def test_request_without_length_has_no_body() -> None:
    events = parse("request", b"POST / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    assert kinds(events) == ["Request", "EndOfMessage", "Request", "EndOfMessage"]


# -- responses ---------------------------------------------------------------------------------------


def test_response_bodies_need_the_request_methods_in_order() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"  # answers HEAD: no body despite Content-Length
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
    )
    events = parse("response", data, methods=(b"HEAD", b"GET", b"GET", b"GET"))
    assert [e.status for e in events if isinstance(e, Response)] == [200, 304, 204, 200]
    assert body_of(events) == b"body"
    assert kinds(events)[-1] == "EndOfMessage"


def test_interim_responses_do_not_consume_the_request() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    events = parse("response", data, methods=(b"HEAD",))
    assert [e.status for e in events if isinstance(e, Response)] == [100, 200]
    assert body_of(events) == b""  # the final response answers HEAD


def test_status_line_without_reason() -> None:
    events = parse("response", b"HTTP/1.0 404\r\nContent-Length: 0\r\n\r\n")
    assert (events[0].status, events[0].reason, events[0].version) == (404, b"", b"1.0")


def test_body_until_close() -> None:
    parser = HttpParser("response")
    events = parser.feed(b"HTTP/1.0 200 OK\r\n\r\nsome ") + parser.feed(b"bytes")
    assert kinds(events) == ["Response", "Data", "Data"]
    end = parser.feed_eof()
    assert body_of(events) == b"some bytes"
    assert isinstance(end[0], EndOfMessage) and end[0].body_length == 10


def test_transfer_encoding_overrides_content_length() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(
        b"x" * 20
    )
    events = parse("response", data)
    assert body_of(events) == b"x" * 20 and isinstance(events[-1], EndOfMessage)


def test_chunk_extensions_and_trailers() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b'5;name=value;x\r\nhello\r\n6 ; y="q"\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n'
    )
    events = parse("response", data)
    assert body_of(events) == b"hello world"
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    assert end.trailers.get(b"x-checksum") == b"abc" and len(end.trailers) == 2
    assert end.body_length == 11


# -- content decoding ---------------------------------------------------------------------------------

PAGE = b"<html>" + b"var miner = new CoinHive.Anonymous('key'); " * 200 + b"</html>"


@pytest.mark.parametrize(
    ("coding", "compressed"),
    [
        (b"gzip", gzip.compress(PAGE)),
        (b"x-gzip", gzip.compress(PAGE)),
        (b"deflate", zlib.compress(PAGE)),  # RFC 9110 deflate: zlib-wrapped
        (b"deflate", zlib.compress(PAGE)[2:-4]),  # what some servers send: raw deflate
    ],
)
def test_compressed_bodies_are_decoded(coding: bytes, compressed: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (
        coding,
        len(compressed),
    )
    events = parse("response", head + compressed)
    assert body_of(events) == PAGE
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    assert (end.body_length, end.delivered_length) == (len(compressed), len(PAGE))
    assert end.decoding == coding.removeprefix(b"x-") and not end.truncated and end.decode_error is None


def test_decompression_bomb_is_capped() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)  # ~50 KiB on the wire
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    parser = HttpParser("response", max_body=64 * 1024)
    events = merged(
        [e for i in range(0, len(bomb) + len(head), 4096) for e in parser.feed((head + bomb)[i : i + 4096])]
    )
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    assert len(body_of(events)) == 64 * 1024 == end.delivered_length
    assert end.truncated and end.decoded_truncated and end.body_length == len(bomb)
    assert parser.feed(b"HTTP/1.1 204 No Content\r\n\r\n")[0].status == 204  # framing survived


def test_corrupt_compressed_body_keeps_framing() -> None:
    junk = b"\x1f\x8b\x08\x00garbage-not-deflate"
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(junk)
    events = parse("response", head + junk + b"HTTP/1.1 204 No\r\n\r\n", methods=(b"GET", b"GET"))
    end = events[-3]
    assert isinstance(end, EndOfMessage) and end.decode_error and end.decode_error.startswith("corrupt")
    assert events[-2].status == 204


def test_unsupported_encoding_is_delivered_raw_and_said() -> None:
    events = parse("response", b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nxyz")
    assert body_of(events) == b"xyz"
    assert events[-1].decoding is None and "br" in events[-1].decode_error


def test_decoding_can_be_turned_off_for_carving() -> None:
    compressed = gzip.compress(PAGE)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(compressed)
    assert body_of(parse("response", head + compressed, decode=False)) == compressed


def test_plain_body_over_the_cap_is_counted_not_kept() -> None:
    events = parse("request", b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", max_body=4)
    end = events[-1]
    assert body_of(events) == b"0123"
    assert (end.body_length, end.delivered_length, end.truncated, end.decoded_truncated) == (
        10,
        4,
        True,
        False,
    )


# -- upgrades and tunnels ----------------------------------------------------------------------------

WS_REQUEST = (
    b"GET /proxy HTTP/1.1\r\nHost: miner.example\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
WS_RESPONSE = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def test_101_hands_back_leftover_bytes_on_both_sides() -> None:
    conn = HttpConnection()
    client = conn.feed("client", WS_REQUEST + b"\x81\x85frame")
    assert kinds([e for _, e in client]) == ["Request", "EndOfMessage"]
    assert conn.client.paused
    server = conn.feed("server", WS_RESPONSE + b"\x81\x05hello")
    assert [(side, type(e).__name__) for side, e in server] == [
        ("server", "Response"),
        ("server", "Upgrade"),
        ("client", "Upgrade"),
    ]
    assert server[1][1] == Upgrade(b"websocket", b"\x81\x05hello")
    assert server[2][1] == Upgrade(b"websocket", b"\x81\x85frame")
    with pytest.raises(RuntimeError):
        conn.client.feed(b"more")


def test_refused_upgrade_resumes_the_client() -> None:
    conn = HttpConnection()
    conn.feed("client", WS_REQUEST + b"GET /next HTTP/1.1\r\n\r\n")
    events = conn.feed("server", b"HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n")
    assert [(side, type(e).__name__) for side, e in events][-2:] == [
        ("client", "Request"),
        ("client", "EndOfMessage"),
    ]
    assert conn.server.pending_requests == 1


def test_connect_tunnel_switches_and_head_is_paired() -> None:
    conn = HttpConnection()
    conn.feed("client", b"HEAD / HTTP/1.1\r\n\r\nCONNECT pool.example:3333 HTTP/1.1\r\n\r\n")
    events = conn.feed(
        "server",
        b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n{"id":1}',
    )
    assert [(side, type(e).__name__) for side, e in events] == [
        ("server", "Response"),
        ("server", "EndOfMessage"),
        ("server", "Response"),
        ("server", "Upgrade"),
        ("client", "Upgrade"),
    ]
    assert events[3][1] == Upgrade(b"connect", b'{"id":1}')


# -- hostile and foreign input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",  # TLS ClientHello
        b'{"id":1,"method":"login","params":{}}\n',  # Stratum
        b"\x00" * 40,
        b"GET\x00/ HTTP/1.1\r\n",
        b"GET /a b HTTP/1.1\r\n\r\n",
    ],
)
def test_non_http_request_direction_fails_fast(data: bytes) -> None:
    parser = HttpParser("request")
    events = parser.feed(data)
    assert kinds(events) == ["ProtocolError"]
    assert parser.feed(b"GET / HTTP/1.1\r\n\r\n") == [] and parser.discarded > 0


def test_mid_stream_pickup_fails_within_the_sniff_window() -> None:
    parser = HttpParser("response")
    assert kinds(parser.feed(b"HTTP/1.1 20")) == []  # still plausible
    assert kinds(parser.feed(b"x")) == ["ProtocolError"]
    assert kinds(parse("response", b"<html><body>mid-body pickup")) == ["ProtocolError"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid content-length"),
        (b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "invalid content-length"),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "invalid content-length"),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "request transfer-encoding"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"GET / HTTP/1.1\r\n: empty name\r\n\r\n", "malformed header line"),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 17 + b"\r\n",
            "malformed chunk-size",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk-size"),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + b"e" * 2000,
            "chunk-size line too long",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc", "not followed by CRLF"),
    ],
)
def test_protocol_errors(data: bytes, reason: str) -> None:
    events = parse("request", data)
    assert isinstance(events[-1], ProtocolError) and reason in events[-1].reason


def test_duplicate_equal_content_lengths_are_accepted() -> None:
    assert (
        body_of(parse("request", b"PUT / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"))
        == b"ok"
    )


def test_huge_declared_content_length_is_streamed_not_buffered() -> None:
    parser = HttpParser("response", max_body=16)
    events = parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n")
    for _ in range(100):
        events += parser.feed(b"A" * 10_000)
    assert len(parser._buf) == 0 and body_of(events) == b"A" * 16
    assert kinds(parser.feed_eof()) == ["ProtocolError"]


def test_header_section_is_bounded() -> None:
    parser = HttpParser("request", max_header_bytes=1024)
    events = parser.feed(b"GET / HTTP/1.1\r\n")
    for _ in range(200):
        events += parser.feed(b"X-Pad: " + b"a" * 50 + b"\r\n")
        if events:
            break
    assert kinds(events) == ["ProtocolError"] and "larger than 1024" in events[0].reason
    assert len(parser._buf) == 0


def test_header_count_is_bounded() -> None:
    data = b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 20 + b"\r\n"
    assert "more than 10 header" in parse("request", data, max_headers=10)[-1].reason


def test_trailers_are_bounded() -> None:
    data = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + b"X: y\r\n" * 400
    assert "trailer section larger" in parse("request", data, max_header_bytes=1024)[-1].reason


def test_eof_inside_messages_is_an_error_and_idle_eof_is_not() -> None:
    assert kinds(parse("request", b"GET / HTTP/1.1\r\nHost", eof=True)) == ["ProtocolError"]
    assert kinds(parse("request", b"GET / HTTP/1.1\r\n\r\n", eof=True)) == ["Request", "EndOfMessage"]
    assert (
        kinds(parse("request", b"PUT / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab", eof=True))[-1]
        == "ProtocolError"
    )


# -- sniffing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET /index.html HTTP/1.1\r\n", True),
        (b"POST", True),
        (b"\r\nOPTIONS * HTTP/1.1", True),
        (b"CONNECT pool.example:443 HTTP/1.1", True),
        (b"GET / HTTX", False),
        (b"\x16\x03\x01", False),
        (b'{"id":1', False),
        (b"A" * 40, False),
        (b"", False),
    ],
)
def test_looks_like_http_request(data: bytes, expected: bool) -> None:
    assert looks_like_http_request(data) is expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"HTTP/1.1 200 OK", True),
        (b"HTT", True),
        (b"HTTP/1.1 2x", False),
        (b"SSH-2.0-OpenSSH", False),
        (b"", False),
    ],
)
def test_looks_like_http_response(data: bytes, expected: bool) -> None:
    assert looks_like_http_response(data) is expected
