"""SSH as it was read in Python before protocols/_ssh.pyx compiled it: the oracle the compiled reader is held
to on arbitrary, mutated and recorded sessions (tests/protocols/test_ssh.py), so that the C cannot drift
from the rules. `SshDirection`/`SshParser` are the old transport parser, which reported every chunk after
NEWKEYS as `Encrypted(size)`; `ReferenceShape` is the judgement the SSH login analyser
(detectors/bruteforce/logins/ssh.py) made from those sizes, reduced to what the compiled reader reports."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from minerwatch.protocols.ssh import (
    MAX_BANNER,
    MAX_PACKET,
    MAX_PRE_BANNER_LINES,
    MSG_KEXINIT,
    MSG_NEWKEYS,
    KexInit,
    LoggedIn,
    NewKeys,
    SshMessage,
    Version,
)


@dataclass(frozen=True, slots=True)
class Encrypted:
    size: int


class SshDirection:
    def __init__(self) -> None:
        self.version: Version | None = None
        self.encrypted = False
        self.broken = False
        self._buffer = bytearray()
        self._lines = 0

    def feed(self, data: bytes) -> list[SshMessage | Encrypted]:
        if self.broken:
            return []
        if self.encrypted:
            return [Encrypted(len(data))] if data else []
        self._buffer += data
        out: list[SshMessage | Encrypted] = []
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

    def _banner(self, out: list[SshMessage | Encrypted]) -> None:
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
        return self.sides[True].broken or self.sides[False].broken

    def feed(self, to_server: bool, data: bytes) -> list[SshMessage | Encrypted]:
        return self.sides[to_server].feed(data)

    def gap(self, to_server: bool) -> None:
        self.sides[to_server]._break()


class ReferenceShape:
    """The old parser and the old analyser's use of each `Encrypted(size)`: the lock-step (the client's
    first encrypted chunk is the service request, the server's next its SERVICE_ACCEPT, a later server
    chunk smaller than that a USERAUTH_SUCCESS) and the session's size against the login bounds, from the
    first NEWKEYS until a login is seen. Reports what the compiled reader reports: the messages before the
    keys, then `LoggedIn` once."""

    def __init__(self, login_packets: int, login_bytes: int) -> None:
        self.parser = SshParser()
        self.login_packets = login_packets
        self.login_bytes = login_bytes
        self.packets = 0
        self.size = 0
        self.requests = 0
        self.accept_size: int | None = None
        self.secured = False  # a NEWKEYS was seen
        self.pending = False  # since the first NEWKEYS, until a login is seen

    @property
    def done(self) -> bool:
        return self.parser.done

    @property
    def long_session(self) -> bool:
        return self.packets >= self.login_packets or self.size >= self.login_bytes

    def gap(self, to_server: bool) -> None:
        self.parser.gap(to_server)

    def feed(self, to_server: bool, data: bytes) -> list[SshMessage]:
        out: list[SshMessage] = []
        for message in self.parser.feed(to_server, data):
            if not isinstance(message, Encrypted):
                if isinstance(message, NewKeys) and not self.secured:
                    self.secured = self.pending = True
                out.append(message)
                continue
            if to_server:
                self.requests += 1
            elif self.requests and self.pending:
                if self.accept_size is None:
                    self.accept_size = message.size
                elif message.size < self.accept_size:
                    self.pending = False
                    out.append(LoggedIn())
            self.packets += 1
            self.size += message.size
            if self.pending and self.long_session:
                self.pending = False
                out.append(LoggedIn())
        return out
