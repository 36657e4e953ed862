"""Passive, sans-IO HTTP/1.x parser for one TCP direction, plus a two-direction connection wrapper.

Feed the ordered bytes of one direction, get typed events: `Request`/`Response`, `Data` (body bytes,
content-decoded, capped), `EndOfMessage`, `Upgrade` (the rest of the stream is another protocol) or one
`ProtocolError`, after which that direction is dropped and only counted.

Why not h11: h11 is bound to one role of an endpoint (it refuses pipelined requests until it has sent a
response, raises on the first lenient-parse mismatch, needs our side of the conversation to be `send()`ed,
and does no content decoding). A passive observer sees both directions, meets hostile and mid-stream
traffic, and must stay fast, so this module keeps h11's ideas (the receive buffer is searched from where the
last search stopped, so the worst case is O(bytes)) in a parser that observes rather than speaks.

Worst cases, for n bytes fed in any split: O(n) time; memory bounded by `max_header_bytes` (head or
trailer section being read), `max_body` (delivered, decoded body bytes per message) and one segment.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, overload

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 128
MAX_BODY = 1024 * 1024
MAX_CHUNK_LINE = 1024  # chunk-size line including extensions

# How many leading bytes decide whether a direction can be HTTP at all (mid-stream pickup fails fast).
SNIFF_BYTES = 32

_TOKEN = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CTL_AND_SPACE = bytes(range(0x21)) + b"\x7f"
_BLANK_LINE = re.compile(rb"\n\r?\n")
_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}) ([^\x00-\x20\x7f]+) HTTP/(\d\.\d)")
_STATUS_LINE = re.compile(rb"HTTP/(\d\.\d) (\d{3})(?: ([^\r\n]*))?")
_STATUS_TEMPLATE = b"HTTP/0.0 000"  # '0' stands for any digit
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?")
_CONTENT_LENGTH = re.compile(rb"[0-9]{1,18}")

Role = Literal["request", "response"]
Side = Literal["client", "server"]


def looks_like_http_request(first_bytes: bytes) -> bool:
    """Whether a direction starting with these bytes can be an HTTP/1.x request (CRLFs before it allowed).

    Cheap (looks at `SNIFF_BYTES` at most) and conservative: with few bytes it answers "not ruled out";
    16 bytes almost always decide for binary protocols and TLS.
    """
    head = first_bytes.lstrip(b"\r\n")[:SNIFF_BYTES]
    if not head:
        return False
    method, space, rest = head.partition(b" ")
    if not method or len(method) > 20 or method.translate(None, _TOKEN):
        return False
    if not space:
        return True
    target, space, version = rest.partition(b" ")
    if len(target.translate(None, _CTL_AND_SPACE)) != len(target) or (space and not target):
        return False
    return b"HTTP/".startswith(version[:5])


def looks_like_http_response(first_bytes: bytes) -> bool:
    """Whether a direction starting with these bytes can be an HTTP/1.x response: `HTTP/d.d ddd` prefix."""
    head = first_bytes[: len(_STATUS_TEMPLATE)]
    if not head or not b"HTTP/".startswith(head[:5]):  # rejects almost every other protocol at once
        return False
    for got, want in zip(head, _STATUS_TEMPLATE, strict=False):
        if want == 0x30:
            if not 0x30 <= got <= 0x39:
                return False
        elif got != want:
            return False
    return True


class Headers:
    """Header fields in wire order as raw (name, value) pairs, with case-insensitive lookup.

    The name index is built on the first lookup, so messages nobody inspects cost nothing extra.
    """

    __slots__ = ("_index", "raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw
        self._index: dict[bytes, list[bytes]] | None = None

    def get_all(self, name: bytes) -> list[bytes]:
        if self._index is None:
            index: dict[bytes, list[bytes]] = {}
            for key, value in self.raw:
                index.setdefault(key.strip().lower(), []).append(value)
            self._index = index
        return self._index.get(name.lower(), [])

    @overload
    def get(self, name: bytes) -> bytes | None: ...

    @overload
    def get(self, name: bytes, default: bytes) -> bytes: ...

    def get(self, name: bytes, default: bytes | None = None) -> bytes | None:
        """The first value of `name`, or `default`."""
        values = self.get_all(name)
        return values[0] if values else default

    def tokens(self, name: bytes) -> list[bytes]:
        """Comma-separated, lower-cased items of every `name` field (Connection, Transfer-Encoding...)."""
        return [
            item.strip().lower() for value in self.get_all(name) for item in value.split(b",") if item.strip()
        ]

    def __contains__(self, name: bytes) -> bool:
        return bool(self.get_all(name))

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self.raw == other.raw

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"


@dataclass(slots=True)
class Request:
    method: bytes
    target: bytes
    version: bytes  # b"1.1"
    headers: Headers


@dataclass(slots=True)
class Response:
    status: int
    reason: bytes
    version: bytes
    headers: Headers


@dataclass(slots=True)
class Data:
    """A piece of the current message's body, content-decoded when the parser decodes."""

    data: bytes


@dataclass(slots=True)
class EndOfMessage:
    """End of a message. `body_length` counts body bytes on the wire (without chunk framing);
    `delivered_length` what was handed out in `Data`; `truncated` says the delivered body is incomplete
    because of `max_body` (after decoding, when `decoding` is set)."""

    trailers: Headers
    body_length: int = 0
    delivered_length: int = 0
    truncated: bool = False
    decoding: bytes | None = None  # b"gzip" / b"deflate" when Data was decoded
    decode_error: str | None = None
    skipped: int = 0  # body bytes the caller chose not to read (see HttpParser.skip_body)

    @property
    def decoded_truncated(self) -> bool:
        """The decoded body hit the cap: a large body or a decompression bomb."""
        return self.truncated and self.decoding is not None


@dataclass(slots=True)
class Upgrade:
    """The rest of this direction is another protocol (101 Switching Protocols, or a CONNECT tunnel).
    `leftover` are the bytes already fed that belong to it; later bytes go straight to its parser."""

    protocol: bytes  # lower-cased Upgrade header value (b"websocket"), or b"connect" for a tunnel
    leftover: bytes


@dataclass(slots=True)
class ProtocolError:
    """This direction is not (or no longer) parseable HTTP; the parser ignores the rest of it."""

    reason: str
    offset: int  # stream offset of the message or byte where parsing failed


Event = Request | Response | Data | EndOfMessage | Upgrade | ProtocolError

_NO_TRAILERS = Headers([])


class BoundedInflater:
    """zlib/gzip/raw-deflate stream decoder whose total output is capped at `limit` bytes.

    Once the cap is reached (`truncated`) or the stream is corrupt (`error`), further input is dropped
    unread, so a decompression bomb costs at most `limit` bytes of output and O(input) time.
    `wbits=None` means HTTP "deflate": zlib-wrapped or raw, decided from the first two bytes.
    """

    __slots__ = ("_decoder", "_pending", "error", "limit", "produced", "truncated")

    def __init__(self, wbits: int | None, limit: int) -> None:
        self._decoder = None if wbits is None else zlib.decompressobj(wbits)
        self._pending = b""
        self.limit = limit
        self.produced = 0
        self.truncated = False
        self.error: str | None = None

    def feed(self, data: bytes) -> bytes:
        if self.truncated or self.error is not None or not data:
            return b""
        if self._decoder is None:
            data = self._pending + data
            if len(data) < 2:
                self._pending = data
                return b""
            zlib_wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._decoder = zlib.decompressobj(15 if zlib_wrapped else -15)
        if self._decoder.eof:
            return b""
        room = self.limit - self.produced
        try:
            out = self._decoder.decompress(data, room + 1)  # one byte more than fits tells "truncated"
        except zlib.error as exc:
            self.error = f"corrupt compressed data: {exc}"
            return b""
        if len(out) > room:
            self.truncated = True
            out = out[:room]
        self.produced += len(out)
        return out


_ENCODINGS: dict[bytes, int | None] = {b"gzip": 47, b"x-gzip": 47, b"deflate": None}

# Parser states.
_HEAD, _LENGTH, _UNTIL_CLOSE, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS = range(7)
_PAUSED, _SWITCHED, _DEAD = range(7, 10)


class HttpParser:
    """One direction of an HTTP/1.x connection: `role="request"` for client bytes, `"response"` for server.

    A response parser must be told the method of each request, in order (`expect_response_to`), to frame
    responses to HEAD and CONNECT; `HttpConnection` does this for you. With no method known it assumes GET.
    A request that asks to switch protocols (Upgrade, CONNECT) pauses the request parser: later bytes are
    buffered (bounded) until `switch_protocols()` or `resume()` says what the server answered.
    """

    def __init__(
        self,
        role: Role,
        *,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_headers: int = MAX_HEADERS,
        max_body: int = MAX_BODY,
        decode: bool = True,
    ) -> None:
        if role not in ("request", "response"):
            raise ValueError(f"role must be 'request' or 'response', not {role!r}")
        self.role: Role = role
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.max_body = max_body
        self.decode = decode
        self.messages = 0  # complete messages parsed
        self.error: str | None = None
        self.discarded = 0  # bytes ignored after a ProtocolError
        self._buf = bytearray()
        self._offset = 0  # stream offset of _buf[0]
        self._state = _HEAD
        self._search_from = 0  # blank-line search resumes here, so a slow head costs O(n), not O(n^2)
        self._sniffed = False
        self._methods: deque[bytes] = deque()
        self._remaining = 0
        self._body_length = 0
        self._delivered = 0
        self._truncated = False
        self._inflater: BoundedInflater | None = None
        self._encoding: bytes | None = None
        self._decode_error: str | None = None
        self._after_message = _HEAD
        self._steps = (  # indexed by state, _HEAD.._TRAILERS
            self._read_head,
            self._read_length_body,
            self._read_until_close,
            self._read_chunk_size,
            self._read_chunk_data,
            self._read_chunk_end,
            self._read_trailers,
        )

    @property
    def pending_requests(self) -> int:
        """Response role: requests seen whose final response has not been parsed yet."""
        return len(self._methods)

    @property
    def paused(self) -> bool:
        return self._state == _PAUSED

    def expect_response_to(self, method: bytes) -> None:
        """Response role: the next unanswered request used `method`."""
        self._methods.append(method)

    def feed(self, data: bytes) -> list[Event]:
        if self._state == _DEAD:
            self.discarded += len(data)
            return []
        if self._state == _SWITCHED:
            raise RuntimeError(
                "this direction switched protocols: feed its bytes to the new protocol's parser"
            )
        self._buf += data
        out: list[Event] = []
        if self._state == _PAUSED:
            if len(self._buf) > self.max_header_bytes:
                self._fail(out, "too much data while waiting for the protocol switch answer")
            return out
        self._run(out)
        return out

    def feed_eof(self) -> list[Event]:
        """The direction ended (FIN/RST or end of capture). A body delimited by close ends here."""
        out: list[Event] = []
        state = self._state
        if state == _UNTIL_CLOSE:
            self._end_message(out)
        elif state in (_LENGTH, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS):
            self._fail(out, "connection closed inside a message body")
        elif state == _HEAD and self._buf.strip(b"\r\n"):
            self._fail(out, "connection closed inside a header section")
        if self._state not in (_DEAD, _SWITCHED):
            self._state = _DEAD
        return out

    def skip_body(self) -> tuple[int, list[Event]]:
        """Give up the rest of the current body, when its length is known (Content-Length).

        Returns (bytes the caller must drop from this direction before feeding again, the EndOfMessage);
        (0, []) when not inside a Content-Length body or nothing is left. The message ends as truncated.
        """
        if self._state != _LENGTH or self._remaining == 0 or self._buf:
            return 0, []
        skipped, self._remaining = self._remaining, 0
        self._body_length += skipped
        self._truncated = True
        out: list[Event] = []
        self._end_message(out, skipped=skipped)
        return skipped, out

    def switch_protocols(self, protocol: bytes = b"") -> list[Event]:
        """The peer agreed to switch: hand back buffered bytes as the new protocol's start."""
        if self._state in (_DEAD, _SWITCHED):
            return []
        leftover = bytes(self._buf)
        self._buf.clear()
        self._state = _SWITCHED
        return [Upgrade(protocol, leftover)]

    def resume(self) -> list[Event]:
        """The peer refused to switch: parse the buffered bytes as HTTP again."""
        out: list[Event] = []
        if self._state == _PAUSED:
            self._state = _HEAD
            self._run(out)
        return out

    # -- internals ----------------------------------------------------------------------------------

    def _fail(self, out: list[Event], reason: str) -> None:
        self.error = reason
        out.append(ProtocolError(reason, self._offset))
        self.discarded += len(self._buf)
        self._buf.clear()
        self._state = _DEAD

    def _consume(self, n: int) -> bytes:
        piece = bytes(self._buf[:n])
        del self._buf[:n]  # O(1): CPython bytearrays drop a prefix by moving their start
        self._offset += n
        return piece

    def _run(self, out: list[Event]) -> None:
        """Step the state machine while a step makes progress; each step says whether to go on."""
        steps = self._steps
        while self._buf and self._state < _PAUSED and steps[self._state](out):
            pass

    def _take_block(self, out: list[Event], what: str) -> bytes | None:
        """Take a header/trailer section ending in an empty line, or None if incomplete (bounded)."""
        match = _BLANK_LINE.search(self._buf, self._search_from)
        if match is None or match.end() > self.max_header_bytes:
            if len(self._buf) > self.max_header_bytes:
                self._fail(out, f"{what} larger than {self.max_header_bytes} bytes")
            else:
                self._search_from = max(len(self._buf) - 2, 0)
            return None
        self._search_from = 0
        return self._consume(match.end())[: match.start()]

    def _parse_fields(self, lines: list[bytes], out: list[Event]) -> Headers | None:
        fields: list[tuple[bytes, bytes]] = []
        for line in lines:
            if line[:1] in (b" ", b"\t") and fields:  # obsolete line folding: join with a space
                name, value = fields[-1]
                fields[-1] = (name, value + b" " + line.strip(b" \t\r"))
                continue
            name, colon, value = line.partition(b":")
            if not colon or not name.strip():
                self._fail(out, "malformed header line")
                return None
            fields.append((name, value.strip(b" \t\r")))
        if len(fields) > self.max_headers:
            self._fail(out, f"more than {self.max_headers} header fields")
            return None
        return Headers(fields)

    def _read_head(self, out: list[Event]) -> bool:
        if not self._sniffed:
            if self._buf[:1] in (b"\r", b"\n"):  # stray CRLFs between messages are allowed
                stripped = len(self._buf) - len(self._buf.lstrip(b"\r\n"))
                self._consume(stripped)
                if not self._buf:
                    return False
            sniff = looks_like_http_request if self.role == "request" else looks_like_http_response
            if not sniff(bytes(self._buf[:SNIFF_BYTES])):
                self._fail(out, f"not an HTTP {self.role}: {bytes(self._buf[:16])!r}")
                return False
            self._sniffed = len(self._buf) >= SNIFF_BYTES
        start = self._offset
        block = self._take_block(out, "header section")
        if block is None:
            return False
        self._sniffed = False
        lines = block.split(b"\n")
        first = lines[0].rstrip(b"\r")
        if self.role == "request":
            match = _REQUEST_LINE.fullmatch(first)
            if match is None:
                self._offset = start
                self._fail(out, "malformed request line")
                return False
            headers = self._parse_fields(lines[1:], out)
            if headers is None:
                return False
            out.append(Request(match[1], match[2], match[3], headers))
            return self._frame_request(match[1], headers, out)
        match = _STATUS_LINE.fullmatch(first)
        if match is None:
            self._offset = start
            self._fail(out, "malformed status line")
            return False
        headers = self._parse_fields(lines[1:], out)
        if headers is None:
            return False
        status = int(match[2])
        out.append(Response(status, match[3] or b"", match[1], headers))
        return self._frame_response(status, headers, out)

    def _frame_request(self, method: bytes, headers: Headers, out: list[Event]) -> bool:
        """RFC 9112 section 6.3 for requests; pause after a request that asks to switch protocols."""
        switching = method == b"CONNECT" or (
            b"upgrade" in headers.tokens(b"connection") and b"upgrade" in headers
        )
        self._after_message = _PAUSED if switching else _HEAD
        if b"transfer-encoding" in headers:
            if headers.tokens(b"transfer-encoding")[-1:] != [b"chunked"]:
                self._fail(out, "request transfer-encoding does not end in chunked")
                return False
            return self._start_body(_CHUNK_SIZE_LINE, 0, headers, out)
        length = self._content_length(headers, out)
        if length is None:
            return False
        return self._start_body(_LENGTH, length, headers, out) if length else self._end_message(out)

    def _frame_response(self, status: int, headers: Headers, out: list[Event]) -> bool:
        """RFC 9112 section 6.3 for responses, using the method of the request being answered."""
        self._after_message = _HEAD
        if status < 200 and status != 101:  # interim: the request still waits for its final answer
            return self._end_message(out)
        method = self._methods.popleft() if self._methods else b"GET"
        if status == 101 or (method == b"CONNECT" and 200 <= status < 300):
            protocol = (headers.get(b"upgrade") or b"").strip().lower() if status == 101 else b"connect"
            self.messages += 1
            out.append(Upgrade(protocol, self._consume(len(self._buf))))
            self._state = _SWITCHED
            return False
        if method == b"HEAD" or status in (204, 304):
            return self._end_message(out)
        if b"transfer-encoding" in headers:
            chunked = headers.tokens(b"transfer-encoding")[-1:] == [b"chunked"]
            return self._start_body(_CHUNK_SIZE_LINE if chunked else _UNTIL_CLOSE, 0, headers, out)
        if b"content-length" not in headers:
            return self._start_body(_UNTIL_CLOSE, 0, headers, out)
        length = self._content_length(headers, out)
        if length is None:
            return False
        return self._start_body(_LENGTH, length, headers, out) if length else self._end_message(out)

    def _content_length(self, headers: Headers, out: list[Event]) -> int | None:
        values = {item.strip() for value in headers.get_all(b"content-length") for item in value.split(b",")}
        if not values:
            return 0
        if len(values) != 1 or not _CONTENT_LENGTH.fullmatch(value := values.pop()):
            self._fail(out, "invalid content-length")
            return None
        return int(value)

    def _start_body(self, state: int, length: int, headers: Headers, out: list[Event]) -> bool:
        self._state = state
        self._remaining = length
        self._body_length = self._delivered = 0
        self._truncated = False
        self._inflater = None
        self._encoding = self._decode_error = None
        if self.decode and (codings := headers.tokens(b"content-encoding")) and codings != [b"identity"]:
            if len(codings) == 1 and codings[0] in _ENCODINGS:
                self._encoding = codings[0].removeprefix(b"x-")
                self._inflater = BoundedInflater(_ENCODINGS[codings[0]], self.max_body)
            else:
                self._decode_error = "unsupported content-encoding: " + b", ".join(codings).decode("latin-1")
        return True

    def _deliver(self, piece: bytes, out: list[Event]) -> None:
        self._body_length += len(piece)
        if self._inflater is not None:
            piece = self._inflater.feed(piece)
        else:
            room = self.max_body - self._delivered
            if len(piece) > room:
                self._truncated = True
                piece = piece[:room]
        if piece:
            self._delivered += len(piece)
            out.append(Data(piece))

    def _end_message(self, out: list[Event], trailers: Headers = _NO_TRAILERS, skipped: int = 0) -> bool:
        inflater = self._inflater
        if inflater is not None:
            self._truncated = inflater.truncated
            self._decode_error = inflater.error
        out.append(
            EndOfMessage(
                trailers,
                self._body_length,
                self._delivered,
                self._truncated,
                self._encoding,
                self._decode_error,
                skipped,
            )
        )
        self.messages += 1
        self._body_length = self._delivered = 0
        self._inflater = None
        self._encoding = self._decode_error = None
        self._truncated = False
        self._state = self._after_message
        return self._state == _HEAD

    def _read_length_body(self, out: list[Event]) -> bool:
        n = min(self._remaining, len(self._buf))
        self._remaining -= n
        self._deliver(self._consume(n), out)
        return self._end_message(out) if self._remaining == 0 else False

    def _read_until_close(self, out: list[Event]) -> bool:
        self._deliver(self._consume(len(self._buf)), out)
        return False

    def _read_chunk_size(self, out: list[Event]) -> bool:
        newline = self._buf.find(b"\n", 0, MAX_CHUNK_LINE)
        if newline == -1:
            if len(self._buf) >= MAX_CHUNK_LINE:
                self._fail(out, "chunk-size line too long")
            return False
        match = _CHUNK_SIZE.fullmatch(self._buf, 0, newline)
        if match is None:
            self._fail(out, "malformed chunk-size line")
            return False
        self._remaining = int(match[1], 16)
        self._consume(newline + 1)
        self._state = _CHUNK_DATA if self._remaining else _TRAILERS
        return True

    def _read_chunk_data(self, out: list[Event]) -> bool:
        n = min(self._remaining, len(self._buf))
        self._remaining -= n
        self._deliver(self._consume(n), out)
        if self._remaining:
            return False
        self._state = _CHUNK_END
        return True

    def _read_chunk_end(self, out: list[Event]) -> bool:
        for ending in (b"\r\n", b"\n"):
            if self._buf.startswith(ending):
                self._consume(len(ending))
                self._state = _CHUNK_SIZE_LINE
                return True
        if self._buf != b"\r":
            self._fail(out, "chunk data not followed by CRLF")
        return False

    def _read_trailers(self, out: list[Event]) -> bool:
        for ending in (b"\r\n", b"\n"):
            if self._buf.startswith(ending):
                self._consume(len(ending))
                return self._end_message(out)
        if self._buf == b"\r":
            return False
        block = self._take_block(out, "trailer section")
        if block is None:
            return False
        trailers = self._parse_fields(block.split(b"\n"), out)
        return trailers is not None and self._end_message(out, trailers)


class HttpConnection:
    """Both directions of one connection: tells the response side which methods it answers, and switches
    both directions together when the server accepts an Upgrade or CONNECT (or resumes the client if not).

    `feed(side, data)` returns `(side, event)` pairs, because a server answer can release client events.
    """

    def __init__(self, **limits: Any) -> None:
        self.client = HttpParser("request", **limits)
        self.server = HttpParser("response", **limits)

    def feed(self, side: Side, data: bytes) -> list[tuple[Side, Event]]:
        if side == "client":
            return self._from_client(self.client.feed(data))
        return self._from_server(self.server.feed(data))

    def feed_eof(self, side: Side) -> list[tuple[Side, Event]]:
        if side == "client":
            return self._from_client(self.client.feed_eof())
        return self._from_server(self.server.feed_eof())

    def skip_body(self, side: Side) -> tuple[int, list[tuple[Side, Event]]]:
        """Give up the rest of `side`'s current body (see HttpParser.skip_body)."""
        skipped, events = (self.client if side == "client" else self.server).skip_body()
        return skipped, [(side, event) for event in events]

    def _from_client(self, events: list[Event]) -> list[tuple[Side, Event]]:
        for event in events:
            if isinstance(event, Request):
                self.server.expect_response_to(event.method)
        return [("client", event) for event in events]

    def _from_server(self, events: list[Event]) -> list[tuple[Side, Event]]:
        out: list[tuple[Side, Event]] = [("server", event) for event in events]
        for event in events:
            if isinstance(event, Upgrade):
                out += self._from_client(self.client.switch_protocols(event.protocol))
            elif (
                isinstance(event, Response)
                and event.status >= 200
                and self.client.paused
                and not self.server.pending_requests  # so this final response answered the switch request
            ):
                out += self._from_client(self.client.resume())
        return out
