"""DNS messages from UDP payloads and TCP streams (RFC 1035), sans-IO: bytes in, messages out.

Only what detection needs is decoded: the questions, and the answer records of type A, AAAA and CNAME
(other answer types are skipped by their length). The goal is to learn which names a host looked up and
which addresses they resolved to, so that a later connection to such an address can be attributed to the
name (see `minerwatch.intel.DnsCache`).

Worst case: hostile input costs O(len(message)). Compression pointers may only point backwards, which
rules out loops, and a name is capped at 255 bytes (RFC 1035 2.3.4); every record consumes bytes, so the
counts in the header cannot make a parser loop longer than the message.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import NamedTuple

TYPE_A = 1
TYPE_CNAME = 5
TYPE_AAAA = 28

_HEADER = struct.Struct("!HHHHHH")  # id, flags, qdcount, ancount, nscount, arcount
_RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_Q_FIXED = struct.Struct("!HH")  # qtype, qclass
_MAX_NAME = 255
_TCP_LENGTH = struct.Struct("!H")


class DnsParseError(ValueError):
    """The bytes are not a well-formed DNS message; the message says where it went wrong."""


class Question(NamedTuple):
    name: str
    qtype: int
    qclass: int


class Answer(NamedTuple):
    """An answer record; `data` is the address text (A/AAAA), the target name (CNAME), else None."""

    name: str
    rtype: int
    ttl: int
    data: str | None


@dataclass(frozen=True, slots=True)
class DnsMessage:
    id: int
    is_response: bool
    opcode: int
    rcode: int
    questions: tuple[Question, ...]
    answers: tuple[Answer, ...]

    def addresses(self) -> list[tuple[str, str, int]]:
        """(owner name, address, ttl) for each A/AAAA answer."""
        return [(a.name, a.data, a.ttl) for a in self.answers if a.rtype in (TYPE_A, TYPE_AAAA) and a.data]


def _read_name(buf: bytes, offset: int) -> tuple[str, int]:
    """The name at `offset` and the offset just past it (past the first pointer, if compressed)."""
    labels: list[str] = []
    total = 0
    end: int | None = None  # where parsing resumes once the first pointer was followed
    limit = offset  # pointers must go strictly below the start of the name part that contains them
    pos = offset
    while True:
        if pos >= len(buf):
            raise DnsParseError(f"name runs past the end of the message at offset {pos}")
        length = buf[pos]
        if length == 0:
            pos += 1
            break
        kind = length & 0xC0
        if kind == 0xC0:
            if pos + 1 >= len(buf):
                raise DnsParseError(f"truncated compression pointer at offset {pos}")
            target = ((length & 0x3F) << 8) | buf[pos + 1]
            if target >= limit:
                raise DnsParseError(f"compression pointer at offset {pos} does not point backwards")
            if end is None:
                end = pos + 2
            pos = limit = target
            continue
        if kind:
            raise DnsParseError(f"unsupported label type 0x{kind:02x} at offset {pos}")
        total += length + 1
        if total > _MAX_NAME:
            raise DnsParseError(f"name longer than {_MAX_NAME} bytes at offset {offset}")
        label = buf[pos + 1 : pos + 1 + length]
        if len(label) < length:
            raise DnsParseError(f"label runs past the end of the message at offset {pos}")
        labels.append(label.decode("ascii", "backslashreplace"))
        pos += 1 + length
    return ".".join(labels), (pos if end is None else end)


def parse_message(data: bytes | memoryview) -> DnsMessage:
    """Parse one DNS message (a UDP payload, or one frame of a TCP stream)."""
    buf = bytes(data)
    if len(buf) < _HEADER.size:
        raise DnsParseError(f"message of {len(buf)} bytes is shorter than the 12-byte header")
    ident, flags, qdcount, ancount, _ns, _ar = _HEADER.unpack_from(buf)
    pos = _HEADER.size
    questions: list[Question] = []
    for _ in range(qdcount):
        name, pos = _read_name(buf, pos)
        if pos + _Q_FIXED.size > len(buf):
            raise DnsParseError(f"question {len(questions) + 1} truncated at offset {pos}")
        qtype, qclass = _Q_FIXED.unpack_from(buf, pos)
        pos += _Q_FIXED.size
        questions.append(Question(name, qtype, qclass))
    answers: list[Answer] = []
    for index in range(ancount):
        name, pos = _read_name(buf, pos)
        if pos + _RR_FIXED.size > len(buf):
            raise DnsParseError(f"answer {index + 1} truncated at offset {pos}")
        rtype, _rclass, ttl, rdlength = _RR_FIXED.unpack_from(buf, pos)
        pos += _RR_FIXED.size
        rdata_end = pos + rdlength
        if rdata_end > len(buf):
            raise DnsParseError(f"answer {index + 1} data runs past the end of the message")
        answers.append(Answer(name, rtype, ttl, _rdata(buf, pos, rdlength, rtype, index)))
        pos = rdata_end
    return DnsMessage(
        id=ident,
        is_response=bool(flags & 0x8000),
        opcode=(flags >> 11) & 0xF,
        rcode=flags & 0xF,
        questions=tuple(questions),
        answers=tuple(answers),
    )


def _rdata(buf: bytes, pos: int, rdlength: int, rtype: int, index: int) -> str | None:
    if rtype in (TYPE_A, TYPE_AAAA):
        size = 4 if rtype == TYPE_A else 16
        if rdlength != size:
            raise DnsParseError(f"answer {index + 1}: address of {rdlength} bytes for type {rtype}")
        return socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, buf[pos : pos + size])
    if rtype == TYPE_CNAME:
        target, _ = _read_name(buf, pos)
        return target
    return None


class DnsStreamParser:
    """DNS over TCP: messages framed by a 2-byte length (RFC 1035 4.2.2), fed in arbitrary chunks.

    Worst case: the buffer holds at most one incomplete frame (< 64 KiB + 2) between calls, and each
    byte is copied O(1) times. A malformed message inside a good frame is counted in `malformed` and
    skipped; the framing itself cannot go wrong, so parsing continues with the next frame.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.malformed = 0

    def feed(self, data: bytes) -> list[DnsMessage]:
        self._buffer += data
        messages: list[DnsMessage] = []
        view = memoryview(self._buffer)
        pos = 0
        try:
            while len(view) - pos >= _TCP_LENGTH.size:
                (length,) = _TCP_LENGTH.unpack_from(view, pos)
                end = pos + _TCP_LENGTH.size + length
                if end > len(view):
                    break
                try:
                    messages.append(parse_message(view[pos + _TCP_LENGTH.size : end]))
                except DnsParseError:
                    self.malformed += 1
                pos = end
        finally:
            view.release()
        del self._buffer[:pos]
        return messages

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame waiting for more data."""
        return len(self._buffer)
