"""Streaming decoders for the encodings malware wraps around a cleartext protocol: base64, hex, URL
(percent) encoding, zlib/gzip and single-byte XOR.

Each decoder is fed one direction's bytes in any split and returns what it could decode so far. Goal: peel
an obfuscation layer off a line protocol (Stratum) without knowing its framing. Worst case: O(n) time for n
bytes fed; memory is one incomplete quantum (at most 3 bytes) except zlib, whose output is capped at
`max_output` in total. A decoder that meets invalid input stops (`failed`) and decodes nothing more.

Line-wise encodings (one base64/hex string per line) lose the newline between decoded messages; the
decoder puts it back when an encoded line ends on a whole quantum right after a decoded `}` or `]`.
"""

from __future__ import annotations

import binascii
import re
import zlib
from functools import cache
from urllib.parse import unquote_to_bytes

MAX_OUTPUT = 4 * 1024 * 1024
_BLANKS = b" \t\r"
_PAD_END = re.compile(rb"(?<==)(?=[^=])")  # where one padded base64 string ends and the next begins
_URLSAFE = bytes.maketrans(b"-_", b"+/")
_LINE_END = (ord("}"), ord("]"))
_JSON_SECOND = frozenset(b'" \t\r\n')


class Decoder:
    """Base class: `feed(data) -> decoded bytes`; `name` is what the events call the encoding."""

    name = "identity"

    def __init__(self) -> None:
        self.failed = False
        self.decoded = 0

    def feed(self, data: bytes) -> bytes:
        if self.failed:
            return b""
        try:
            out = self._feed(data)
        except (binascii.Error, ValueError, zlib.error):
            self.failed = True
            return b""
        self.decoded += len(out)
        return out

    def _feed(self, data: bytes) -> bytes:
        return data

    def fresh(self) -> Decoder:
        """A new decoder of the same kind, for the same stream from its start."""
        return type(self)()


class _QuantumDecoder(Decoder):
    """Text encodings decoded in fixed-size quanta, line by line (base64: 4 chars, hex: 2)."""

    quantum = 4

    def __init__(self) -> None:
        super().__init__()
        self._partial = b""
        self._last = -1  # the last decoded byte, across feeds

    def _feed(self, data: bytes) -> bytes:
        out = bytearray()
        lines = data.split(b"\n")
        for index, line in enumerate(lines):
            buf = self._partial + line.translate(None, _BLANKS)
            whole = len(buf) - len(buf) % self.quantum
            if whole:
                decoded = self._decode(buf[:whole])
                out += decoded
                self._last = decoded[-1] if decoded else self._last
            self._partial = buf[whole:]
            ended = index < len(lines) - 1
            if ended and not self._partial and self._last in _LINE_END:
                out += b"\n"
                self._last = -1
        return bytes(out)

    def _decode(self, text: bytes) -> bytes:
        raise NotImplementedError


class Base64Decoder(_QuantumDecoder):
    """Standard or URL-safe base64; several padded strings back to back are decoded one by one."""

    name = "base64"

    def _decode(self, text: bytes) -> bytes:
        text = text.translate(_URLSAFE)
        if b"=" not in text:
            return binascii.a2b_base64(text, strict_mode=True)
        return b"".join(binascii.a2b_base64(part, strict_mode=True) for part in _PAD_END.split(text))


class HexDecoder(_QuantumDecoder):
    name = "hex"
    quantum = 2

    def _decode(self, text: bytes) -> bytes:
        return binascii.a2b_hex(text)


class UrlDecoder(Decoder):
    """Percent-encoding (`+` is a space, as in forms); an escape split across feeds is kept for later."""

    name = "url"

    def __init__(self) -> None:
        super().__init__()
        self._partial = b""

    def _feed(self, data: bytes) -> bytes:
        buf = self._partial + data
        cut = buf.rfind(b"%", max(0, len(buf) - 2))
        self._partial, buf = (buf[cut:], buf[:cut]) if cut >= 0 else (b"", buf)
        return unquote_to_bytes(buf.replace(b"+", b" "))


class ZlibDecoder(Decoder):
    """zlib or gzip (either is inflated); a new stream may follow the end of the previous one."""

    def __init__(self, gzip: bool = False, max_output: int = MAX_OUTPUT) -> None:
        super().__init__()
        self.name = "gzip" if gzip else "zlib"
        self.max_output = max_output
        self._inflater = zlib.decompressobj(wbits=47)

    def fresh(self) -> Decoder:
        return ZlibDecoder(self.name == "gzip", self.max_output)

    def _feed(self, data: bytes) -> bytes:
        out = bytearray()
        while data and not self.failed:
            room = self.max_output - self.decoded - len(out)
            if room <= 0:
                self.failed = True  # a bomb, or more than an obfuscated control channel ever sends
                break
            out += self._inflater.decompress(data, room)
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(wbits=47)
        return bytes(out)


@cache
def _xor_table(key: int) -> bytes:
    return bytes(b ^ key for b in range(256))


class XorDecoder(Decoder):
    def __init__(self, key: int) -> None:
        super().__init__()
        self.key = key
        self.name = f"xor:0x{key:02x}"
        self._table = _xor_table(key)

    def _feed(self, data: bytes) -> bytes:
        return data.translate(self._table)

    def fresh(self) -> Decoder:
        return XorDecoder(self.key)


def candidates(head: bytes) -> list[Decoder]:
    """Fresh decoders worth trying on a stream that starts with `head`, cheapest checks first.

    Only the first two bytes decide (callers test `candidates(first[:2])` as a cheap pre-check)."""
    found: list[Decoder] = []
    if head[:2] == b"\x1f\x8b" or (len(head) > 1 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0):
        found.append(ZlibDecoder(gzip=head[:1] == b"\x1f"))
    if head[:1] == b"%" or head[:2] == b"{%":
        found.append(UrlDecoder())
    if head[:2] in (b"7b", b"7B", b"5b", b"5B"):
        found.append(HexDecoder())
    if head[:2] in (b"ey", b"W3", b"Wy"):  # base64 of '{"', '{ ', '[{', '[ '
        found.append(Base64Decoder())
    if len(head) > 1 and head[0] != 0x7B and head[1] ^ head[0] ^ 0x7B in _JSON_SECOND:
        found.append(XorDecoder(head[0] ^ 0x7B))  # only if the key that makes '{' also makes '{"' or '{ '
    return found
