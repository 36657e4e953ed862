"""SSH-2 transport up to the key exchange, sans-IO: version banners, KEXINIT, NEWKEYS, then sizes only.

Everything after a direction's NEWKEYS is encrypted; the parser then reports each chunk it is fed as
`Encrypted(size)` so that a caller can judge a session by its shape (how many packets and bytes after the
key exchange), the way Zeek's SSH analyser infers authentication outcomes. Lines before the banner (the
RFC 4253 allows a server to send some) are skipped. Binary packets are framed with a 4-byte length;
buffers are bounded by `MAX_PACKET` (larger, or a missing banner, ends the parser: `broken`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_BANNER = 255  # RFC 4253 section 4.2, CR LF included
MAX_PRE_BANNER_LINES = 16
MAX_PACKET = 64 * 1024  # KEXINIT and post-quantum key shares are a few KiB
MSG_KEXINIT, MSG_NEWKEYS = 20, 21


@dataclass(frozen=True, slots=True)
class Version:
    protocol: str  # "2.0"
    software: str  # "OpenSSH_9.6p1 Ubuntu-3", "libssh_0.9.6"...


@dataclass(frozen=True, slots=True)
class KexInit:
    pass


@dataclass(frozen=True, slots=True)
class NewKeys:
    pass


@dataclass(frozen=True, slots=True)
class Encrypted:
    size: int


SshMessage = Version | KexInit | NewKeys | Encrypted


class SshDirection:
    def __init__(self) -> None:
        self.version: Version | None = None
        self.encrypted = False
        self.broken = False
        self._buffer = bytearray()
        self._lines = 0

    def feed(self, data: bytes) -> list[SshMessage]:
        if self.broken:
            return []
        if self.encrypted:
            return [Encrypted(len(data))] if data else []
        self._buffer += data
        out: list[SshMessage] = []
        if self.version is None:
            self._banner(out)
        while self.version is not None and not self.broken and len(self._buffer) >= 6:
            length = struct.unpack_from("!I", self._buffer)[0]
            if not 2 <= length <= MAX_PACKET:
                self._break()
                break
            if len(self._buffer) < 4 + length:
                break
            kind = self._buffer[5]
            del self._buffer[: 4 + length]
            if kind == MSG_KEXINIT:
                out.append(KexInit())
            elif kind == MSG_NEWKEYS:
                out.append(NewKeys())
                self.encrypted = True
                if self._buffer:
                    out.append(Encrypted(len(self._buffer)))
                self._buffer.clear()
                break
        if len(self._buffer) > MAX_PACKET + 4:
            self._break()
        return out

    def _banner(self, out: list[SshMessage]) -> None:
        while self.version is None:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_BANNER:
                    self._break()
                return
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            if line.startswith(b"SSH-"):
                protocol, _, software = line[4:].decode("utf-8", "replace").partition("-")
                self.version = Version(protocol, software[:MAX_BANNER])
                out.append(self.version)
            else:
                self._lines += 1
                if self._lines > MAX_PRE_BANNER_LINES or len(line) > MAX_BANNER:
                    self._break()
                    return

    def _break(self) -> None:
        self.broken = True
        self._buffer.clear()


class SshParser:
    def __init__(self) -> None:
        self.sides = {True: SshDirection(), False: SshDirection()}

    @property
    def done(self) -> bool:
        """A direction is not SSH, or lost its framing before the key exchange ended."""
        return self.sides[True].broken or self.sides[False].broken

    def feed(self, to_server: bool, data: bytes) -> list[SshMessage]:
        return self.sides[to_server].feed(data)

    def gap(self, to_server: bool) -> None:
        self.sides[to_server]._break()
