"""TLS ClientHello and ServerHello: SNI, ALPN and the JA3 / JA4 / JA3S fingerprints, sans-IO.

Feed the client's bytes of a TCP stream in any chunking; the parser reassembles TLS records and the first
handshake message (which may span records), and yields one `ClientHello`, or gives up; `parse_server_hello`
reads a ServerHello's body (the engine collects it: decode/_tlsrecords.pyx). Miners often speak Stratum
over TLS, so the SNI names the pool and the fingerprints name the miner program even when the payload is
encrypted; the ServerHello tells the version and cipher the server chose (JA3S), e.g. TLS 1.3 for Chia
peers.

Worst case: at most `MAX_HELLO` bytes are buffered; anything larger, or anything that is not a TLS
handshake, ends the parser in a final state after O(bytes fed) work. Later bytes are ignored, so the
caller can bypass the flow.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

MAX_HELLO = 64 * 1024  # real ClientHellos, even with post-quantum key shares, are a few KiB
_MAX_BUFFER = 2 * MAX_HELLO  # the payload plus record headers; only hostile tiny records need more

_RECORD = struct.Struct("!BHH")  # content type, version, length
_U16 = struct.Struct("!H")
_EXT = struct.Struct("!HH")  # extension type, length
_HANDSHAKE = 22
_CLIENT_HELLO = 1
EXT_SNI = 0x0000
EXT_GROUPS = 0x000A
EXT_POINT_FORMATS = 0x000B
EXT_SIG_ALGS = 0x000D
EXT_ALPN = 0x0010
EXT_VERSIONS = 0x002B

_JA4_VERSIONS = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}


def is_grease(value: int) -> bool:
    """GREASE values (RFC 8701) are random noise that fingerprints must ignore."""
    return value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


class TlsParseError(ValueError):
    """The bytes are not a well-formed ClientHello or ServerHello."""


@dataclass(frozen=True, slots=True)
class ClientHello:
    legacy_version: int
    ciphers: tuple[int, ...]
    extensions: tuple[int, ...]  # in the order sent
    groups: tuple[int, ...]
    point_formats: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    supported_versions: tuple[int, ...]
    sni: str | None
    alpn: tuple[str, ...]

    @property
    def ja3_string(self) -> str:
        """SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats (GREASE removed)."""
        fields = (self.legacy_version, self.ciphers, self.extensions, self.groups, self.point_formats)
        return _ja3_string(*fields)

    @property
    def ja3(self) -> str:
        return _md5(self.ja3_string)

    @property
    def ja4(self) -> str:
        """FoxIO JA4 for TLS over TCP (technical_details/JA4.md)."""
        return _ja4(
            self.legacy_version,
            self.ciphers,
            self.extensions,
            self.supported_versions,
            self.signature_algorithms,
            bool(self.sni),
            _ja4_alpn(self.alpn),
        )


# The fingerprints are functions of a hello's fields, which every connection of one client program sends
# alike (only the random, the key share and the SNI change): each is computed once per such shape, and a
# client that GREASEs or shuffles its fields only misses the bounded caches.
_SHAPES = 1024


@lru_cache(maxsize=_SHAPES)
def _ja3_string(
    version: int,
    ciphers: tuple[int, ...],
    extensions: tuple[int, ...],
    groups: tuple[int, ...],
    point_formats: tuple[int, ...],
) -> str:
    def join(values: tuple[int, ...]) -> str:
        return "-".join(str(v) for v in values if not is_grease(v))

    return ",".join(
        (str(version), join(ciphers), join(extensions), join(groups), "-".join(str(v) for v in point_formats))
    )


@lru_cache(maxsize=_SHAPES)
def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@lru_cache(maxsize=_SHAPES)
def _ja4(
    legacy_version: int,
    all_ciphers: tuple[int, ...],
    all_extensions: tuple[int, ...],
    supported_versions: tuple[int, ...],
    signature_algorithms: tuple[int, ...],
    named: bool,
    alpn: str,
) -> str:
    ciphers = [c for c in all_ciphers if not is_grease(c)]
    extensions = [e for e in all_extensions if not is_grease(e)]
    versions = [v for v in supported_versions if not is_grease(v)]
    version = _JA4_VERSIONS.get(max(versions) if versions else legacy_version, "00")
    a = f"t{version}{'d' if named else 'i'}{min(len(ciphers), 99):02d}{min(len(extensions), 99):02d}{alpn}"
    b = _hash12(",".join(f"{c:04x}" for c in sorted(ciphers)))
    ext_text = ",".join(f"{e:04x}" for e in sorted(extensions) if e not in (EXT_SNI, EXT_ALPN))
    sigs = ",".join(f"{s:04x}" for s in signature_algorithms if not is_grease(s))
    c = _hash12(f"{ext_text}_{sigs}" if sigs else ext_text)
    return f"{a}_{b}_{c}"


def _hash12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"


def _ja4_alpn(alpn: tuple[str, ...]) -> str:
    if not alpn or not alpn[0]:
        return "00"
    first = alpn[0]
    if first[0].isascii() and first[0].isalnum() and first[-1].isascii() and first[-1].isalnum():
        return first[0] + first[-1]
    hexed = first.encode("latin-1", "replace").hex()
    return hexed[0] + hexed[-1]


@dataclass(frozen=True, slots=True)
class ServerHello:
    legacy_version: int
    cipher: int
    extensions: tuple[int, ...]  # in the order sent
    selected_version: int | None  # supported_versions (TLS 1.3), None before 1.3

    @property
    def version(self) -> int:
        """The version agreed: the supported_versions choice when present (TLS 1.3), else the legacy one."""
        return self.legacy_version if self.selected_version is None else self.selected_version

    @property
    def ja3s_string(self) -> str:
        """SSLVersion,Cipher,Extensions (salesforce/ja3 ja3s.py: the legacy version, extensions in order)."""
        extensions = "-".join(str(e) for e in self.extensions if not is_grease(e))
        return f"{self.legacy_version},{self.cipher},{extensions}"

    @property
    def ja3s(self) -> str:
        return hashlib.md5(self.ja3s_string.encode(), usedforsecurity=False).hexdigest()


def _extension_list(body: bytes, pos: int, hello: str) -> list[tuple[int, int, int]]:
    """The (type, offset, size) of each extension of a hello whose fixed fields end at `pos`; both hellos
    frame their extensions alike, so one walk checks every length against the list and the body."""
    end = len(body)
    found: list[tuple[int, int, int]] = []
    if pos == end:
        return found  # no extension list at all (allowed before TLS 1.2)
    if pos + 2 > end:
        raise TlsParseError(f"extension list length runs past the {hello}")
    stop = pos + 2 + _U16.unpack_from(body, pos)[0]
    pos += 2
    if stop > end:
        raise TlsParseError(f"extension list runs past the {hello}")
    while pos < stop:
        if pos + 4 > stop:
            raise TlsParseError(f"extension header at offset {pos} runs past the list")
        ext_type, size = _EXT.unpack_from(body, pos)
        pos += 4
        if pos + size > stop:
            raise TlsParseError(f"extension {ext_type} runs past the list")
        found.append((ext_type, pos, size))
        pos += size
    return found


def parse_server_hello(body: bytes) -> ServerHello:
    """Parse a ServerHello handshake body (after the 4-byte handshake header), with struct offsets as the
    ClientHello (one per TLS flow)."""
    end = len(body)
    try:
        legacy_version = _U16.unpack_from(body, 0)[0]
        pos = 35 + body[34]  # version, random, then the session id echo
        cipher = _U16.unpack_from(body, pos)[0]
        pos += 3  # the cipher, the compression method
    except (struct.error, IndexError):
        raise TlsParseError("ServerHello ends inside its fixed fields") from None
    if pos > end:
        raise TlsParseError("ServerHello ends inside its fixed fields")
    extensions: list[int] = []
    selected: int | None = None
    for ext_type, start, size in _extension_list(body, pos, "ServerHello"):
        extensions.append(ext_type)
        if ext_type == EXT_VERSIONS and size == 2:
            selected = _U16.unpack_from(body, start)[0]
    return ServerHello(legacy_version, cipher, tuple(extensions), selected)


class State(Enum):
    NEED_DATA = "need-data"
    DONE = "done"  # the hello was parsed
    NOT_TLS = "not-tls"  # the stream does not start with a TLS handshake record
    FAILED = "failed"  # malformed or oversized; see `error`


# The ClientHello walk is compiled (_tls.pyx, one hello per TLS connection); it builds the types above, so
# it is imported once they exist. Cached (a few entries): the intel and encrypted detectors read the same
# connection's hello one after the other, and a hello is immutable, so the second parse is a lookup.
from minerwatch.protocols._tls import parse_client_hello as _parse_client_hello  # noqa: E402

parse_client_hello = lru_cache(maxsize=16)(_parse_client_hello)


def _whole_hello(data: bytes) -> bytes | None:
    """The ClientHello body when `data` opens with a handshake record that holds a whole ClientHello of at
    most MAX_HELLO bytes (and `data` is within the parser's buffer), else None: the records are then
    collected, with the same outcome for such a `data` (tests hold the two ways to each other)."""
    if not 9 <= len(data) <= _MAX_BUFFER or data[0] != _HANDSHAKE or data[1] != 3:
        return None
    if data[5] != _CLIENT_HELLO:
        return None
    record = _U16.unpack_from(data, 3)[0]
    size = int.from_bytes(data[6:9], "big")
    if size > MAX_HELLO or 4 + size > record or 5 + record > len(data):
        return None
    return bytes(data[9 : 9 + size])


class ClientHelloParser:
    """The client's first flight: reassembles its first handshake message, a ClientHello, across records and
    segments."""

    def __init__(self) -> None:
        self.state = State.NEED_DATA
        self.error: str | None = None
        self._records = bytearray()  # raw bytes not yet split into records
        self._handshake = bytearray()  # handshake payload collected from records so far

    def feed(self, data: bytes) -> ClientHello | None:
        """Add the client's bytes; returns the parsed hello once complete, else None (check `state`)."""
        if self.state is not State.NEED_DATA:
            return None
        if not self._records and not self._handshake and (body := _whole_hello(data)) is not None:
            return self._parse(body)  # the usual case: the hello opens the first record of the first segment
        self._records += data
        if len(self._records) + len(self._handshake) > _MAX_BUFFER:
            return self._stop(State.FAILED, f"no complete hello within {MAX_HELLO} bytes")
        while len(self._records) >= _RECORD.size:
            content_type, version, length = _RECORD.unpack_from(self._records)
            if content_type != _HANDSHAKE or version >> 8 != 3:
                return self._stop(State.NOT_TLS, "stream does not start with a TLS handshake record")
            if len(self._records) < _RECORD.size + length:
                break
            self._handshake += self._records[_RECORD.size : _RECORD.size + length]
            del self._records[: _RECORD.size + length]
            hello = self._try_handshake()
            if hello is not None or self.state is not State.NEED_DATA:
                return hello
        return None

    def _try_handshake(self) -> ClientHello | None:
        if len(self._handshake) < 4:
            return None
        if self._handshake[0] != _CLIENT_HELLO:
            return self._stop(State.NOT_TLS, f"first handshake message is type {self._handshake[0]}")
        length = int.from_bytes(self._handshake[1:4], "big")
        if length > MAX_HELLO:
            return self._stop(State.FAILED, f"hello of {length} bytes exceeds {MAX_HELLO}")
        if len(self._handshake) < 4 + length:
            return None
        return self._parse(bytes(self._handshake[4 : 4 + length]))

    def _parse(self, body: bytes) -> ClientHello | None:
        try:
            hello = parse_client_hello(body)
        except TlsParseError as exc:
            return self._stop(State.FAILED, str(exc))
        self._stop(State.DONE, None)
        return hello

    def _stop(self, state: State, error: str | None) -> ClientHello | None:
        """Stop parsing for good; returns None (no hello), for `return self._stop(...)`."""
        self.state = state
        self.error = error
        self._records.clear()
        self._handshake.clear()
        return None
