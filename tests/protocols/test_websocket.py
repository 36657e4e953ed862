"""WebSocket parser: masking, fragmentation, 7/16/64-bit lengths, control frames, permessage-deflate,
limits and hostile input; frames are built here byte by byte."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.protocols.http import HttpConnection, ProtocolError, Response
from minerwatch.protocols.websocket import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    Close,
    Control,
    Message,
    WebSocketParser,
    WsEvent,
    permessage_deflate,
)


def frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes | None = None, rsv: int = 0) -> bytes:
    """Encode one frame the simple way (per-byte XOR), independent of the parser's big-int unmasking."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    bit = 0x80 if mask else 0
    size = len(payload)
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += bytes([bit | 126]) + size.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + size.to_bytes(8, "big")
    if mask:
        payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        head += mask
    return head + payload


def feed_all(parser: WebSocketParser, pieces: list[bytes]) -> list[WsEvent]:
    events: list[WsEvent] = []
    for piece in pieces:
        events += parser.feed(piece)
    return events + parser.feed_eof()


class Deflater:
    """permessage-deflate sender: raw deflate, sync flush, the 4-byte tail stripped (RFC 7692 7.2.1)."""

    def __init__(self, context_takeover: bool = True) -> None:
        self.context_takeover = context_takeover
        self._compressor = zlib.compressobj(wbits=-15)

    def __call__(self, data: bytes) -> bytes:
        if not self.context_takeover:
            self._compressor = zlib.compressobj(wbits=-15)
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(b"\x00\x00\xff\xff")
        return out[:-4]


AUTH = b'{"type":"auth","params":{"site_key":"abc","type":"anonymous","user":null}}'
JOB = b'{"type":"job","params":{"job_id":"1","blob":"0707d5ef","target":"ffffff00"}}'


def test_masked_client_text_message() -> None:
    events = feed_all(WebSocketParser("client"), [frame(TEXT, AUTH, mask=b"\x12\x34\x56\x78")])
    assert events == [Message(TEXT, AUTH, len(AUTH))]
    assert events[0].is_text


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_payload_length_encodings(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    for mask in (None, b"\xde\xad\xbe\xef"):
        events = feed_all(WebSocketParser("server"), [frame(BINARY, payload, mask=mask)])
        assert events == [Message(BINARY, payload, size)]


def test_fragmented_message_with_interleaved_control_frames() -> None:
    data = (
        frame(TEXT, JOB[:10], fin=False, mask=b"abcd")
        + frame(PING, b"are you there", mask=b"efgh")
        + frame(0, JOB[10:33], fin=False, mask=b"ijkl")
        + frame(PONG, b"", mask=b"mnop")
        + frame(0, JOB[33:], mask=b"qrst")
        + frame(CLOSE, b"\x03\xe9going away", mask=b"uvwx")
    )
    events = feed_all(WebSocketParser("client"), [data])
    assert events == [
        Control(PING, b"are you there"),
        Control(PONG, b""),
        Message(TEXT, JOB, len(JOB)),
        Close(1001, b"going away"),
    ]


def test_empty_close_frame() -> None:
    assert feed_all(WebSocketParser("server"), [frame(CLOSE, b"")]) == [Close(None, b"")]


def test_message_cap_truncates_and_counts() -> None:
    parser = WebSocketParser("client", max_message=100)
    data = frame(BINARY, b"x" * 150, fin=False, mask=b"abcd") + frame(0, b"y" * 50, mask=b"efgh")
    assert parser.feed(data) == [Message(BINARY, b"x" * 100, 200, truncated=True)]
    assert parser.feed(frame(TEXT, b"next")) == [Message(TEXT, b"next", 4)]


def test_absurd_64_bit_length_streams_without_buffering() -> None:
    parser = WebSocketParser("server", max_message=16)
    events = parser.feed(b"\x82\x7f" + (2**62).to_bytes(8, "big"))
    for _ in range(100):
        events += parser.feed(b"z" * 10_000)
    assert events == [] and len(parser._buf) == 0 and len(parser._message) == 16
    assert isinstance(parser.feed_eof()[0], ProtocolError)


# -- permessage-deflate --------------------------------------------------------------------------------


def test_handshake_negotiation() -> None:
    conn = HttpConnection()
    conn.feed("client", b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    events = conn.feed(
        "server",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_max_window_bits=10"
        b"\r\n\r\n",
    )
    response = events[0][1]
    assert isinstance(response, Response)
    assert permessage_deflate(response.headers, "client") == (True, True)
    assert permessage_deflate(response.headers, "server") == (True, False)
    server = WebSocketParser.from_handshake(response, "server")
    assert server.deflate and not server.no_context_takeover


@pytest.mark.parametrize("context_takeover", [True, False])
def test_compressed_messages_with_and_without_context_takeover(context_takeover: bool) -> None:
    deflate = Deflater(context_takeover)
    parser = WebSocketParser("client", deflate=True, no_context_takeover=not context_takeover)
    first, second = deflate(JOB), deflate(JOB)
    if context_takeover:
        assert len(second) < len(first)  # the second message leans on the first one's window
    fragmented = frame(TEXT, second[:3], fin=False, rsv=4, mask=b"abcd") + frame(0, second[3:], mask=b"efgh")
    events = feed_all(parser, [frame(TEXT, first, rsv=4, mask=b"ijkl") + fragmented + frame(TEXT, b"plain")])
    assert [(e.payload, e.compressed) for e in events] == [(JOB, True), (JOB, True), (b"plain", False)]
    assert events[1].length == len(second)


def test_deflate_bomb_is_capped_and_context_loss_reported() -> None:
    deflate = Deflater()
    parser = WebSocketParser("server", deflate=True, max_message=4096)
    bomb = deflate(b"\0" * 10_000_000)
    events = feed_all(parser, [frame(BINARY, bomb, rsv=4), frame(TEXT, deflate(JOB), rsv=4)])
    assert (len(events[0].payload), events[0].truncated, events[0].decode_error) == (4096, True, None)
    assert events[1].payload == b"" and "context lost" in events[1].decode_error


def test_corrupt_compressed_message_is_reported() -> None:
    parser = WebSocketParser("server", deflate=True, no_context_takeover=True)
    events = feed_all(
        parser, [frame(TEXT, b"\xff\xff\xff\xff", rsv=4), frame(TEXT, Deflater(False)(AUTH), rsv=4)]
    )
    assert events[0].decode_error and events[0].decode_error.startswith("corrupt")
    assert events[1].payload == AUTH  # no shared context, so the next message still decodes


# -- hostile input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xb1\x00", "RSV2/RSV3"),
        (frame(TEXT, b"x", rsv=4), "RSV1"),
        (frame(3, b""), "reserved data opcode"),
        (frame(0xB, b""), "reserved control opcode"),
        (frame(PING, b"x" * 126), "control frame"),
        (frame(PING, b"", fin=False), "control frame"),
        (frame(0, b"x"), "continuation outside"),
        (frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"), "message inside"),
        (frame(CLOSE, b"\x03"), "1-byte payload"),
        (b"\x82\x7f\x80" + bytes(7), "top bit"),
        (b"HTTP/1.1 200 OK\r\n", "control frame"),  # a stream that is not WebSocket fails at once
    ],
)
def test_protocol_errors_stop_the_direction(data: bytes, reason: str) -> None:
    parser = WebSocketParser("server")
    events = parser.feed(data)
    assert isinstance(events[-1], ProtocolError) and reason in events[-1].reason
    assert parser.feed(frame(TEXT, b"after")) == [] and parser.discarded > 0


STREAM = (
    frame(TEXT, AUTH, mask=b"\x01\x02\x03\x04")
    + frame(BINARY, bytes(range(256)) * 300, mask=b"\xff\x00\xff\x00")
    + frame(TEXT, JOB[:5], fin=False, mask=b"abcd")
    + frame(PING, b"hb", mask=b"wxyz")
    + frame(0, JOB[5:], mask=b"efgh")
    + frame(CLOSE, b"\x03\xe8", mask=b"ijkl")
)


def test_byte_by_byte_equals_whole() -> None:
    whole = feed_all(WebSocketParser("client"), [STREAM])
    assert len(whole) == 5 and not any(isinstance(e, ProtocolError) for e in whole)
    assert feed_all(WebSocketParser("client"), [STREAM[i : i + 1] for i in range(len(STREAM))]) == whole


_deflate = Deflater()
_auth, _job = _deflate(AUTH), _deflate(JOB)
DEFLATE_STREAM = (
    frame(TEXT, _auth, rsv=4, mask=b"\x01\x02\x03\x04")
    + frame(TEXT, _job[:4], fin=False, rsv=4, mask=b"abcd")
    + frame(PING, b"hb", mask=b"wxyz")
    + frame(0, _job[4:], mask=b"efgh")
)


@settings(max_examples=300, deadline=None)
@given(
    deflate=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=16),
)
def test_any_split_gives_the_same_events(deflate: bool, cuts: list[int]) -> None:
    stream = DEFLATE_STREAM if deflate else STREAM
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    whole = feed_all(WebSocketParser("client", deflate=deflate), [stream])
    if deflate:
        assert [e.payload for e in whole if isinstance(e, Message)] == [AUTH, JOB]
    assert not any(isinstance(e, ProtocolError) for e in whole)
    assert feed_all(WebSocketParser("client", deflate=deflate), pieces) == whole


@settings(max_examples=300, deadline=None)
@given(deflate=st.booleans(), pieces=st.lists(st.binary(max_size=300), max_size=10), cap=st.integers(0, 512))
def test_garbage_never_raises_and_stays_bounded(deflate: bool, pieces: list[bytes], cap: int) -> None:
    parser = WebSocketParser("client", deflate=deflate, max_message=cap)
    for piece in pieces:
        for event in parser.feed(piece):
            if isinstance(event, Message):
                assert len(event.payload) <= cap
        assert len(parser._buf) < 14 + len(piece) and len(parser._message) <= cap
    assert sum(isinstance(e, ProtocolError) for e in parser.feed_eof()) <= 1
