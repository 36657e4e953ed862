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

import struct
from typing import NamedTuple

TYPE_A = 1
TYPE_CNAME = 5
TYPE_AAAA = 28

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


class DnsMessage(NamedTuple):
    """One parsed message (a tuple: the compiled walk makes one per DNS packet on the wire)."""

    id: int
    is_response: bool
    opcode: int
    rcode: int
    questions: tuple[Question, ...]
    answers: tuple[Answer, ...]


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


# The message walk is compiled (_dns.pyx, for every DNS response on the wire); it builds the types above,
# so it is imported once they exist.
from minerwatch.protocols._dns import parse_message  # noqa: E402
