"""The DNS message walk as it was written in Python before protocols/_dns.pyx compiled it: the oracle
the compiled walk is held to on arbitrary and mutated messages (tests/protocols/test_dns.py), messages
and errors alike, so that the C cannot drift from the rules stated in protocols/dns.py."""

from __future__ import annotations

import socket
import struct

from minerwatch.protocols.dns import (
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    Answer,
    DnsMessage,
    DnsParseError,
    Question,
)

_HEADER = struct.Struct("!HHHHHH")  # id, flags, qdcount, ancount, nscount, arcount
_RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_Q_FIXED = struct.Struct("!HH")  # qtype, qclass
_MAX_NAME = 255


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
