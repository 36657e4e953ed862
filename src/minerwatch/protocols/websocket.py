"""Passive, sans-IO WebSocket (RFC 6455) parser for one direction, with permessage-deflate (RFC 7692).

Feed the bytes that follow a 101 Switching Protocols (`http.Upgrade.leftover`, then the rest of that
direction), get `Message` (data frames unmasked and reassembled, decompressed when negotiated), `Control`
(ping/pong), `Close`, or one `ProtocolError` after which the direction is only counted. Browser
cryptojackers (CoinHive-style JSON) and Stratum-over-WebSocket proxies travel as text messages.

Worst cases, for n bytes fed in any split: O(n) time; memory bounded by `max_message` (delivered bytes of
one message, after decompression), 125 bytes of control payload, 14 bytes of frame header and one segment.
Payload beyond `max_message` is counted and dropped, never unmasked or inflated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from minerwatch.protocols.http import BoundedInflater, Headers, ProtocolError, Response

MAX_MESSAGE = 1024 * 1024

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
_CONTINUATION = 0x0
_DEFLATE_TAIL = b"\x00\x00\xff\xff"  # RFC 7692 7.2.2: stripped by the sender, restored before inflating

Sender = Literal["client", "server"]


@dataclass(slots=True)
class Message:
    """A complete data message. `length` counts payload bytes on the wire over all its frames;
    `truncated` says `payload` stopped at the cap (after decompression when `compressed`)."""

    opcode: int  # TEXT or BINARY
    payload: bytes
    length: int
    truncated: bool = False
    compressed: bool = False
    decode_error: str | None = None

    @property
    def is_text(self) -> bool:
        return self.opcode == TEXT


@dataclass(slots=True)
class Control:
    """A ping or pong frame (payload at most 125 bytes)."""

    opcode: int  # PING or PONG
    payload: bytes


@dataclass(slots=True)
class Close:
    code: int | None  # None when the close frame had no payload
    reason: bytes


WsEvent = Message | Control | Close | ProtocolError


def permessage_deflate(headers: Headers, sender: Sender) -> tuple[bool, bool]:
    """From a 101 response's headers: (permessage-deflate negotiated, `sender` resets its context per
    message). The server's Sec-WebSocket-Extensions answer is what both sides use."""
    for value in headers.get_all(b"sec-websocket-extensions"):
        for extension in value.split(b","):
            name, *params = (part.strip().lower() for part in extension.split(b";"))
            if name == b"permessage-deflate":
                keys = {param.partition(b"=")[0].strip() for param in params}
                return True, sender.encode() + b"_no_context_takeover" in keys
    return False, False


def _unmask(data: bytes, key: bytes, offset: int) -> bytes:
    """XOR with the 4-byte key, starting `offset` bytes into the frame payload; one big-int XOR, so
    the cost is C-speed O(len(data)) rather than a Python loop per byte."""
    size = len(data)
    shift = offset & 3
    mask = ((key[shift:] + key[:shift]) * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(mask, "little")).to_bytes(size, "little")


class WebSocketParser:
    """One direction of a WebSocket connection; `sender` is who wrote these bytes.

    Use `from_handshake` with the 101 response so permessage-deflate is set up as negotiated.
    Masking is recorded but not enforced (client frames should be masked): an observer parses what the
    peer accepted.
    """

    def __init__(
        self,
        sender: Sender,
        *,
        deflate: bool = False,
        no_context_takeover: bool = False,
        max_message: int = MAX_MESSAGE,
    ) -> None:
        self.sender = sender
        self.deflate = deflate
        self.no_context_takeover = no_context_takeover
        self.max_message = max_message
        self.messages = 0
        self.frames = 0
        self.error: str | None = None
        self.discarded = 0
        self._buf = bytearray()
        self._offset = 0  # stream offset of _buf[0]
        self._in_payload = False
        self._dead = False
        # current frame
        self._opcode = 0
        self._fin = False
        self._key: bytes | None = None
        self._remaining = 0
        self._position = 0  # payload bytes of this frame already read (mask phase)
        # current message (data frames)
        self._message_opcode: int | None = None
        self._message = bytearray()
        self._message_length = 0
        self._message_truncated = False
        self._compressed = False
        self._inflater: BoundedInflater | None = None
        self._context_lost = False
        self._control = bytearray()

    @classmethod
    def from_handshake(cls, response: Response, sender: Sender, **limits: int) -> WebSocketParser:
        deflate, no_context_takeover = permessage_deflate(response.headers, sender)
        return cls(sender, deflate=deflate, no_context_takeover=no_context_takeover, **limits)

    def feed(self, data: bytes) -> list[WsEvent]:
        if self._dead:
            self.discarded += len(data)
            return []
        self._buf += data
        out: list[WsEvent] = []
        while self._buf and not self._dead:
            if not (self._read_payload(out) if self._in_payload else self._read_header(out)):
                break
        return out

    def feed_eof(self) -> list[WsEvent]:
        out: list[WsEvent] = []
        if not self._dead and (self._buf or self._in_payload or self._message_opcode is not None):
            self._fail(out, "connection closed inside a frame or fragmented message")
        self._dead = True
        return out

    def _fail(self, out: list[WsEvent], reason: str) -> None:
        self.error = reason
        out.append(ProtocolError(reason, self._offset))
        self.discarded += len(self._buf)
        self._buf.clear()
        self._dead = True

    def _consume(self, n: int) -> bytes:
        piece = bytes(self._buf[:n])
        del self._buf[:n]
        self._offset += n
        return piece

    def _read_header(self, out: list[WsEvent]) -> bool:
        buf = self._buf
        if len(buf) < 2:
            return False
        first, second = buf[0], buf[1]
        size = second & 0x7F
        masked = second & 0x80
        header = 2 + (2 if size == 126 else 8 if size == 127 else 0) + (4 if masked else 0)
        if len(buf) < header:
            return False
        opcode, fin, rsv1 = first & 0x0F, bool(first & 0x80), bool(first & 0x40)
        if size == 126:
            size = int.from_bytes(buf[2:4], "big")
        elif size == 127:
            size = int.from_bytes(buf[2:10], "big")
        problem = self._check_frame(first, opcode, fin, rsv1, size)
        if problem:
            self._fail(out, problem)
            return False
        self._key = bytes(buf[header - 4 : header]) if masked else None
        self._consume(header)
        self.frames += 1
        self._opcode, self._fin, self._remaining, self._position = opcode, fin, size, 0
        if opcode in (TEXT, BINARY):
            self._start_message(opcode, rsv1)
        self._in_payload = True
        return self._remaining > 0 or self._end_frame(out)

    def _check_frame(self, first: int, opcode: int, fin: bool, rsv1: bool, size: int) -> str | None:
        if first & 0x30:
            return "reserved bits RSV2/RSV3 set"
        if size >> 63:
            return "64-bit payload length with the top bit set"
        if opcode >= CLOSE:
            if opcode > PONG:
                return f"reserved control opcode {opcode:#x}"
            if not fin or size > 125 or rsv1:
                return "fragmented, oversized or compressed control frame"
            return None
        if opcode not in (_CONTINUATION, TEXT, BINARY):
            return f"reserved data opcode {opcode:#x}"
        if rsv1 and (opcode == _CONTINUATION or not self.deflate):
            return "RSV1 set without permessage-deflate on a first frame"
        if (opcode == _CONTINUATION) != (self._message_opcode is not None):
            return (
                "continuation outside a message"
                if opcode == _CONTINUATION
                else "new message inside a message"
            )
        return None

    def _start_message(self, opcode: int, compressed: bool) -> None:
        self._message_opcode = opcode
        self._message = bytearray()
        self._message_length = 0
        self._message_truncated = False
        self._compressed = compressed
        if not compressed:
            return
        if self._inflater is None or self.no_context_takeover:
            self._inflater = BoundedInflater(-15, 0)
        self._inflater.limit = self._inflater.produced + self.max_message  # this message's budget

    def _read_payload(self, out: list[WsEvent]) -> bool:
        n = min(self._remaining, len(self._buf))
        self._remaining -= n
        if self._opcode >= CLOSE:
            self._control += self._unmasked(self._consume(n))
        else:
            self._message_length += n
            self._take_data(n)
        self._position += n
        return self._end_frame(out) if self._remaining == 0 else False

    def _unmasked(self, piece: bytes) -> bytes:
        return _unmask(piece, self._key, self._position) if self._key else piece

    def _take_data(self, n: int) -> None:
        """Move n payload bytes of a data frame into the message; unmask/inflate only what is kept."""
        inflater = self._inflater if self._compressed else None
        if inflater is None:
            room = self.max_message - len(self._message)
            if n > room:
                self._message_truncated = True
            self._message += self._unmasked(self._consume(min(n, room)))
            self._consume_rest(n - min(n, room))
        elif inflater.truncated or inflater.error or self._context_lost:
            self._consume_rest(n)
        else:
            self._message += inflater.feed(self._unmasked(self._consume(n)))

    def _consume_rest(self, n: int) -> None:
        del self._buf[:n]
        self._offset += n

    def _end_frame(self, out: list[WsEvent]) -> bool:
        self._in_payload = False
        opcode = self._opcode
        if opcode >= CLOSE:
            payload, self._control = bytes(self._control), bytearray()
            if opcode != CLOSE:
                out.append(Control(opcode, payload))
            elif len(payload) == 1:
                self._fail(out, "close frame with a 1-byte payload")
                return False
            else:
                out.append(Close(int.from_bytes(payload[:2], "big") if payload else None, payload[2:]))
            return True
        if self._fin:
            self._end_message(out)
        return True

    def _end_message(self, out: list[WsEvent]) -> None:
        decode_error = None
        inflater = self._inflater if self._compressed else None
        if inflater is not None:
            if self._context_lost:
                decode_error = "compression context lost after an earlier truncated or corrupt message"
            else:
                self._message += inflater.feed(_DEFLATE_TAIL)
                self._message_truncated = inflater.truncated
                decode_error = inflater.error
                # A message not fully inflated leaves the shared window behind: later ones cannot decode.
                self._context_lost = (
                    inflater.truncated or bool(inflater.error)
                ) and not self.no_context_takeover
        out.append(
            Message(
                self._message_opcode or TEXT,
                bytes(self._message),
                self._message_length,
                self._message_truncated,
                self._compressed,
                decode_error,
            )
        )
        self.messages += 1
        self._message_opcode = None
        self._message = bytearray()
