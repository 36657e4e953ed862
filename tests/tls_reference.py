"""The ClientHello walk as it was written in Python before protocols/_tls.pyx compiled it: the oracle the
compiled walk is held to on arbitrary and mutated hellos (tests/protocols/test_tls.py), hellos and errors
alike, so that the C cannot drift from the rules stated in protocols/tls.py."""

from __future__ import annotations

import struct

from minerwatch.protocols.tls import (
    _U16,
    EXT_ALPN,
    EXT_GROUPS,
    EXT_POINT_FORMATS,
    EXT_SIG_ALGS,
    EXT_SNI,
    EXT_VERSIONS,
    ClientHello,
    TlsParseError,
    _extension_list,
)


class _Reader:
    """Bounds-checked reads over one handshake body; every overrun is a TlsParseError."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise TlsParseError(f"field of {n} bytes at offset {self.pos} runs past the hello")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.uint(length_size))

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos


def _u16_list(data: bytes) -> tuple[int, ...]:
    if len(data) % 2:
        raise TlsParseError("list of 16-bit values has an odd length")
    return struct.unpack(f"!{len(data) // 2}H", data)


def parse_client_hello(body: bytes) -> ClientHello:
    """Parse a ClientHello handshake body (after the 4-byte handshake header)."""
    end = len(body)
    try:
        legacy_version = _U16.unpack_from(body, 0)[0]
        pos = 35 + body[34]  # version, random, then the session id
        (cipher_bytes,) = _U16.unpack_from(body, pos)
        ciphers = _u16_list(body[pos + 2 : pos + 2 + cipher_bytes])
        pos += 2 + cipher_bytes
        pos += 1 + body[pos]  # compression methods
    except (struct.error, IndexError):
        raise TlsParseError("ClientHello ends inside its fixed fields") from None
    if pos > end:
        raise TlsParseError("ClientHello ends inside its fixed fields")
    extensions: list[int] = []
    fields: dict[int, bytes] = {}
    for ext_type, start, size in _extension_list(body, pos, "ClientHello"):
        extensions.append(ext_type)
        fields.setdefault(ext_type, body[start : start + size])
    groups = _u16_list(_Reader(fields[EXT_GROUPS]).vector(2)) if EXT_GROUPS in fields else ()
    points = tuple(_Reader(fields[EXT_POINT_FORMATS]).vector(1)) if EXT_POINT_FORMATS in fields else ()
    sigs = _u16_list(_Reader(fields[EXT_SIG_ALGS]).vector(2)) if EXT_SIG_ALGS in fields else ()
    versions = _u16_list(_Reader(fields[EXT_VERSIONS]).vector(1)) if EXT_VERSIONS in fields else ()
    return ClientHello(
        legacy_version=legacy_version,
        ciphers=ciphers,
        extensions=tuple(extensions),
        groups=groups,
        point_formats=points,
        signature_algorithms=sigs,
        supported_versions=versions,
        sni=_sni(fields.get(EXT_SNI)),
        alpn=_alpn(fields.get(EXT_ALPN)),
    )


def _sni(data: bytes | None) -> str | None:
    if data is None:
        return None
    r = _Reader(_Reader(data).vector(2))
    while r.remaining:
        name_type = r.uint(1)
        name = r.vector(2)
        if name_type == 0:  # host_name
            return name.decode("ascii", "backslashreplace")
    return None


def _alpn(data: bytes | None) -> tuple[str, ...]:
    if data is None:
        return ()
    r = _Reader(_Reader(data).vector(2))
    protocols: list[str] = []
    while r.remaining:
        protocols.append(r.vector(1).decode("latin-1"))
    return tuple(protocols)
